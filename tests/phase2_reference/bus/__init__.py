"""Tests of phase2_reference/bus/."""
