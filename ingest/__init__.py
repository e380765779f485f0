"""Ingest: MQTT telemetry → decode → validate → dedupe → batch → durable write → ack."""
