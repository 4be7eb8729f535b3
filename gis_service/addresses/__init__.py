"""Address points: the offline gazetteer the geocoder matches against."""
