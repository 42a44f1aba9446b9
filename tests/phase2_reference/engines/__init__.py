"""Tests of phase2_reference/engines/."""
