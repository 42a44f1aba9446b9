"""Tests of phase2_reference/shared/."""
