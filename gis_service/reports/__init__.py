"""Reports for any period and area: the weekly review and the monthly analysis."""
