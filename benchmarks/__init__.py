"""The proof tools: benchmarks and CI-sized proofs that try to break the reference the way production would.

Not part of the installed suite (the wheel ships `conformance` and `phase2_reference` only); run
from a checkout, e.g. `python -m benchmarks.load`, and imported by the tests in tests/proof/.

- `clients`: the test-only OAuth clients of fixtures/clients.yaml, the one place they are written;
- `launch`: the reference server as its own process on a free loopback port;
- `schemathesis_cli`: Schemathesis' CLI and its proof configuration (`schemathesis.toml`);
- `load`: a mixed concurrent load, with a SIGKILL in the middle, checked against a model;
- `fuzz`: malformed requests against every operation, none of which may fail or change the server;
- `seeds`, `fault_detection`, `suite_vs_schemathesis`, `reference_vs_prism`, `remote_latency`
  (with `delay_proxy`): comparisons whose figures are in the README.
"""
