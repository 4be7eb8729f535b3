"""Photos attached to incidents from the field."""
