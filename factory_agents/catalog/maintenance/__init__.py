"""Condition monitoring: vibration and temperature features, T² anomalies, remaining life."""
