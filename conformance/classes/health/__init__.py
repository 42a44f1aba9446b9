"""The health class: liveness and readiness probes, outages and recovery."""
