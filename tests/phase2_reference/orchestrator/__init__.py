"""Tests of phase2_reference/orchestrator/."""
