"""Tests of phase2_reference/store/."""
