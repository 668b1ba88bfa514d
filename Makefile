# Everything goes through uv, installed with pip when missing; the lock file pins every package.
# Installed modules are compiled to bytecode once, at install: a process that imports Prefect,
# polars and DuckDB from source compiles them again each time it starts wherever bytecode is not
# written back (PYTHONDONTWRITEBYTECODE, read-only installs), about 3 s per process.
UV := python3 -m uv

.PHONY: setup run test lint bench

setup:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --compile-bytecode

run: setup
	$(UV) run scholarhouse ingest

test: setup
	$(UV) run pytest

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .

bench: setup
	$(UV) run python bench/bench_models.py
