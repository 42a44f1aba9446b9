"""The target: how the suite reaches a deployment (HTTP, TLS, tokens) and nothing else."""
