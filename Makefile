# Two entry points: `make run` and `make test`. Both create the virtual
# environment .venv on first use and reinstall when a requirements file changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
# Extra options for the runner, e.g. make run ARGS="--preset paper --epochs 50"
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test student bench clean-env

run: $(INSTALLED)
	$(BIN)/python -m utils.run $(ARGS)

test: $(INSTALLED_DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Copies of the notebooks without outputs or solution cells, for a class: make student OUT=dir
student: $(INSTALLED)
	$(BIN)/python -m utils.student $(or $(OUT),outputs/student)

bench: $(INSTALLED_DEV)
	$(BIN)/python bench/train_speed.py --preset lite --epochs 1
	$(BIN)/python bench/load_speed.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(INSTALLED_DEV): requirements-dev.txt $(INSTALLED)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

clean-env:
	rm -rf $(VENV)
