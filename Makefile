# The two set-up commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_DASH := $(VENV)/.installed-dashboard
LOG_DIR ?= logs
PYTEST_ARGS ?=
# The suite mostly waits on sockets and subprocesses: 4 workers on 2 cores (`make test PYTEST_WORKERS=0`: one process).
# loadgroup: tests sharing one heavy service (a Ray, an emulator) carry @pytest.mark.xdist_group and share a worker.
PYTEST_WORKERS ?= 4
XDIST = -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: run smoke dashboard test test-fast lint typecheck contracts unit integration bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# setup.py compiles the hot path (Cython; hedge/native.py): a change to it reinstalls. A hot module edited
# since the build runs pure until then (`hedge version` says which); HEDGE_PURE=1 runs everything pure.
$(STAMP_RUN): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

## run: install and start the daemon on the built-in local exchange
run: $(STAMP_RUN)
	$(PY) -m hedge run

## smoke: `hedge doctor` (warnings allowed, a FAIL stops) then `hedge run --once` on the local exchange (<= 60 s)
SMOKE_DIR ?= /tmp/hedge-smoke
smoke: $(STAMP_RUN)
	rm -rf $(SMOKE_DIR)
	HEDGE_RUNTIME__METRICS__PORT=0 HEDGE_RUNTIME__LOG_DIR=$(SMOKE_DIR) timeout 60 $(VENV)/bin/hedge doctor --venue local; \
	  rc=$$?; [ $$rc -le 1 ] || exit $$rc
	HEDGE_RUNTIME__METRICS__PORT=0 timeout 60 $(VENV)/bin/hedge run --venue local --once --log-dir $(SMOKE_DIR)

$(STAMP_DASH): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[dashboard]'
	touch $@

## dashboard: install the dashboard extra and serve it on http://127.0.0.1:8501 over LOG_DIR (default logs)
dashboard: $(STAMP_DASH)
	$(PY) -m hedge dashboard --log-dir $(LOG_DIR)

## test: install with the dev extra; ruff, mypy, import contracts, the full pytest suite
test: $(STAMP_DEV) lint typecheck contracts
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

## test-fast: the same checks and every test but the ones marked slow (over ~5 s each)
test-fast: $(STAMP_DEV) lint typecheck contracts
	$(PY) -m pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP_DEV)
	$(VENV)/bin/mypy hedge

contracts: $(STAMP_DEV)
	$(VENV)/bin/lint-imports

unit: $(STAMP_DEV)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP_DEV)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

bench: $(STAMP_DEV)
	@for s in scripts/bench_*.py; do echo "== $$s"; $(PY) $$s || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info hedge/_native
