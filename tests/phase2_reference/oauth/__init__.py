"""Tests of phase2_reference/oauth/."""
