"""The wall's live data: what changed, the KPI panel, the heat layer, a day replayed, grid cards."""
