"""Utilities every layer may use: strict JSON, RFC 9457 problem errors, timestamps."""
