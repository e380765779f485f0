"""The OCPP central system: charge points (1.6J, 2.0.1) in, `ev_charger` readings out over
MQTT, the optimiser's set-points back as charging profiles, and a floor of safety per
charge point that holds its feeder even when the platform is down."""
