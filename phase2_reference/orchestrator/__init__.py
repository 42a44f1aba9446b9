"""The orchestrator layer: worlds and runtimes, the runtime state machine and its background scheduler."""
