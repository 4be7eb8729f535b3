"""The grid hierarchy (1 town + level 2 + level 3 + special grids), versioned."""
