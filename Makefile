# FastAPI Course Lab. `make lab` to learn, `make test` to run everything CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COURSE := $(BIN)/course
STAMP := $(VENV)/.installed
JUPYTER_ARGS ?=
NOTEBOOK_DIR ?= notebooks
# Jupyter refuses to run as root without being told; containers and CI machines run as root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test check grade verify sync bench clean

setup: $(STAMP)

# Re-install only when the project's requirements change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)
	@echo "course installed: $(COURSE)"

lab: setup
	@echo "Starting JupyterLab on notebooks/ (embedded mode: no services needed)."
	$(BIN)/jupyter lab --notebook-dir=$(NOTEBOOK_DIR) $(ROOT_ARGS) $(JUPYTER_ARGS)

test: setup
	$(COURSE) test

check: setup
	$(COURSE) check $(EXERCISE)

verify: setup
	$(COURSE) verify --impl solutions

sync: setup
	$(COURSE) sync

# make grade SUBMISSIONS="submissions/*.zip" OUT=grades
grade: setup
	$(COURSE) grade $(SUBMISSIONS) --out $(or $(OUT),grades)

bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) artifacts .coverage .coverage.* htmlcov
