"""Patrol tracks from grid workers' phones, their last known positions, patrol coverage."""
