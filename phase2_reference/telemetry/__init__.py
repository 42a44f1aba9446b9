"""Telemetry: Prometheus metrics, OpenTelemetry spans (OTLP protobuf or JSON) and JSON logs."""
