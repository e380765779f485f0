"""LoRaWAN: a network server's decoded uplinks read into readings of inventory devices."""
