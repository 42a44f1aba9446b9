"""Tests of phase2_reference/gateway/."""
