"""Tests of phase2_reference/telemetry/."""
