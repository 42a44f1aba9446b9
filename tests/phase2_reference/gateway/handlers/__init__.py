"""Tests of the operation handlers, one module per tag."""
