"""Tests of phase2_reference/testing/."""
