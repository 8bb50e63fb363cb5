# envsound's two commands: `make demo` (the main job on the embedded sample data) and
# `make test`. Both set up a project-local virtual environment from requirements/lock.txt.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.envsound-installed
UV_VERSION := 0.13.9
# pytest-xdist workers for `make test` (tests/conftest.py groups the tests).
TEST_WORKERS ?= 2

.PHONY: demo test setup lock clean

demo: setup
	$(BIN)/envsound demo

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

setup: $(STAMP)

# The editable install runs the build step that generates envsound_wire (setup.py).
$(STAMP): requirements/lock.txt pyproject.toml setup.py scripts/wire_codegen.py
	@py=$$(scripts/find-python310.sh) || exit 1; \
	  [ -x $(BIN)/python ] || $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements/lock.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $@

# Re-resolves requirements/requirements.in into the lock file (maintainers only).
lock: setup
	$(BIN)/uv pip compile requirements/requirements.in --python-version 3.10 \
	  --python-platform x86_64-manylinux_2_31 -o requirements/lock.txt

clean:
	rm -rf $(VENV) build *.egg-info envsound_wire
