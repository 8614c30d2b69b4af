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

.PHONY: setup lab test check grade verify sync bench upgrade clean

setup: $(STAMP)

# Re-install only when the project's requirements or their pins change. constraints.txt pins every
# package at the version the stored notebook outputs were recorded with.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
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

# Move to the newest releases on purpose: resolve again, re-record every notebook, and show what changed.
upgrade:
	rm -rf .venv-upgrade && $(PYTHON) -m venv .venv-upgrade
	.venv-upgrade/bin/python -m pip install --quiet --upgrade pip
	.venv-upgrade/bin/python -m pip install --quiet -e '.[dev]'
	(head -n 2 constraints.txt; .venv-upgrade/bin/python -m pip freeze --exclude-editable | grep -v '^fastapi-course-lab') > constraints.new
	mv constraints.new constraints.txt && rm -rf .venv-upgrade
	$(MAKE) setup
	$(COURSE) record
	git --no-pager diff --stat -- constraints.txt notebooks
	@echo "Review what changed above (git diff), then run make test before committing."

clean:
	rm -rf $(VENV) artifacts .coverage .coverage.* htmlcov
