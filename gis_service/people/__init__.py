"""Departments and workers (grid workers, squads, dispatchers) with their AB backups."""
