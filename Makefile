# Every target sets itself up: a fresh clone needs only python3 (>= 3.10) with venv.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_OUT ?= results/demo
DEMO_STUDY_OUT ?= results/demo_study
DEMO_CAL_OUT ?= results/demo_calibration

.PHONY: demo test bench lint clean setup browser office mutate

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/twin run plant_configs/demo_plant.yaml --out $(DEMO_OUT) --overwrite
	$(BIN)/twin report $(DEMO_OUT)
	$(BIN)/twin compare simulations/demo_study.yaml --days 14 --replications 3 --out $(DEMO_STUDY_OUT) --overwrite
	$(BIN)/twin calibrate simulations/demo_calibration.yaml --out $(DEMO_CAL_OUT) --overwrite

# Debian's chromium and chromium-driver for the dashboard's browser test (root or sudo needed;
# without them that one test is skipped and says why).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null) || echo "make: chromium could not be installed"; \
	else echo "make: not root: install chromium and chromium-driver for the browser test"; fi

# Debian's LibreOffice Calc (no GUI) for the test that opens results.xlsx headless (root or sudo
# needed; without it that one test is skipped and says why).
office:
	@if command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends libreoffice-calc-nogui >/dev/null) \
	    || echo "make: LibreOffice could not be installed"; \
	else echo "make: not root: install libreoffice-calc-nogui for the workbook test"; fi

test: $(STAMP) browser office
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py
	$(BIN)/python benchmarks/ems_overhead.py
	$(BIN)/python benchmarks/lp_dispatch.py
	$(BIN)/python benchmarks/dashboard_speed.py
	$(BIN)/python benchmarks/calibration_speed.py

# Mutation testing of the core modules (mutmut 3; not in CI: minutes per module). MODULES picks
# some (tariff storage economics metering ems accounting evaluation); WORKERS mutants at once.
# Results per module in .mutate/NAME/summary.md; the recorded ones are in tests/MUTATION.md.
MODULES ?=
WORKERS ?= 1
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	$(BIN)/python tests/mutate.py --workers $(WORKERS) $(MODULES)

lint: $(STAMP)
	$(BIN)/ruff check twin tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info .mutate
