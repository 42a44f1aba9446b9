"""The protocol peers a run serves on loopback: the test token issuer, the OTLP receiver, and their HTTP server."""
