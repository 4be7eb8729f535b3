"""Incidents: intake, routing, the closed loop of actions, and the hash-chained history."""
