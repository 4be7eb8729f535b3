"""Point to grids/district/zones: the exact in-process locator and its endpoints."""
