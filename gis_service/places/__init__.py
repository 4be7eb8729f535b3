"""Other areas on the map: enforcement districts, protection zones, key projects."""
