"""The seeded builder of the demo town 七都镇 (demo): geometry, people, places and history."""
