"""Soft Territory: the shared core (payload contract, settings, store, MQTT bus, CLI)."""
