# `make run` and `make test` set everything up themselves on first use (and only then):
# cairo's headers for pycairo, the virtual environment in .venv, and alstudio with its dev tools.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.alstudio-installed

.PHONY: run test lint bench system-packages clean

run: $(STAMP)
	$(BIN)/alstudio gui

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check alstudio tests benchmarks
	$(BIN)/lint-imports

# The figures in docs/benchmarks.md (several minutes on a 2-core CPU).
bench: $(STAMP)
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/engine.py --lecture
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui_responsiveness.py --cycles 4
	$(BIN)/python benchmarks/llm_annotator.py

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pycairo (which synbols draws with) compiles against cairo's headers found through pkg-config.
system-packages:
	@if pkg-config --exists cairo 2>/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing libcairo2-dev and pkg-config with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcairo2-dev pkg-config; \
	else \
		echo "alstudio needs cairo's headers to build pycairo. Run:"; \
		echo "    sudo apt-get install -y libcairo2-dev pkg-config"; \
		echo "then run make again."; \
		exit 1; \
	fi

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
