"""Devices: the digital twin of a territory, publishing over MQTT and obeying commands."""
