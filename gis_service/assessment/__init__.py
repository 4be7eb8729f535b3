"""The monthly assessment of full-time grid workers, by a configurable scheme."""
