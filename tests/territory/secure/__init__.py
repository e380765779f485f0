"""Tests of the secured broker set-up, against a real mosquitto over TLS."""
