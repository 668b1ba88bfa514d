# Everything goes through uv, installed with pip when missing; the lock file pins every package.
UV := python3 -m uv

.PHONY: setup run test lint bench

setup:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

run: setup
	$(UV) run scholarhouse ingest

test: setup
	$(UV) run pytest

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .

bench: setup
	$(UV) run python bench/bench_models.py
