"""The offline address geocoder: messy hotline addresses to points (house, POI, road, village)."""
