"""Bridges: real devices' own protocols (OCPP, GBFS, LoRaWAN network servers) in, the
platform's MQTT telemetry out, commands back.

A bridge imports only the core (`territory/`): it republishes readings on the normal
telemetry topics so that ingest stays the one path into the store.
"""
