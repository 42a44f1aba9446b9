"""The Phase 2 reference server: implements openapi/phase2.yaml exactly, for the conformance suite.

`create_app(config)` builds the ASGI app; `python -m phase2_reference serve` runs it under uvicorn;
`phase2_reference.testing.launcher.running_server(config)` serves it on a loopback port for tests.
"""

from __future__ import annotations

__version__ = "0.1.0"

from phase2_reference.app import Phase2App, create_app
from phase2_reference.config import Config, ConfigError, TrustedIssuer

__all__ = ["Config", "ConfigError", "Phase2App", "TrustedIssuer", "__version__", "create_app"]
