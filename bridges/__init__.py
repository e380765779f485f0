"""Bridges: real protocols (GBFS, LoRaWAN network servers, ...) turned into telemetry on the normal topics."""
