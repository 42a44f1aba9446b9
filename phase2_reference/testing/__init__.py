"""Test-only parts, off unless asked for.

- `faults`: the fault corpus; every layer may consult it (`faults.active(name)` at the seam a fault
  breaks), and it imports nothing of the server;
- `controls`: the `/_reference/*` routes the gateway adds with `--test-controls`;
- `launcher`: serves the reference on a loopback port for tests and benchmarks.

This package imports none of its modules, so a layer that consults `faults` does not load the rest.
"""
