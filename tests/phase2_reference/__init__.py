"""Tests of the reference server; they mirror the phase2_reference package."""
