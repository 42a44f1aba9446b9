"""The telemetry class: metrics, traces and request ids."""
