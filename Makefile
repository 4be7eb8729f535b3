.PHONY: setup demo test cluster

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh

# the always-on cluster (README "Production: always on"); `gis-service cluster down` stops it
cluster: setup
	.venv/bin/gis-service cluster up
