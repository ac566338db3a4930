# The two commands of the README: `make run` opens Atelier, `make test` runs the whole suite.
# Each one sets everything up first (a venv in .venv) when needed.
.PHONY: run test setup bench bundle

run:
	@scripts/setup.sh
	.venv/bin/python main.py

test:
	@scripts/setup.sh test
	QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest

bench:
	@scripts/setup.sh test
	QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks

bundle:
	@scripts/setup.sh package
	packaging/build.sh && packaging/smoke.sh
