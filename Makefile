# Every target creates .venv/ on first use, with the pinned dependencies, then runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= agg

.PHONY: demo test test-package test-notebooks lab bench summary clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[dev,torch]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m alexnet_keras train --demo --output runs/demo

test: test-package test-notebooks

test-package: $(STAMP)
	$(PY) -m pytest tests -q -rs --durations=15

test-notebooks: $(STAMP)
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -q --durations=10

summary: $(STAMP)
	$(PY) -m alexnet_keras summary --variant paper

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) -m alexnet_keras bench input
	$(PY) -m alexnet_keras bench train

clean-venv:
	rm -rf $(VENV)
