"""The responsibility list (权责清单): who handles which kind of matter, with what deadlines."""
