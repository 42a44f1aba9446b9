"""The engine plugins layer: the simulated engines a runtime runs a world on."""
