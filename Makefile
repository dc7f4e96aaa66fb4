# Every target creates .venv/ on first use, with the pinned dependencies, then runs.
# Its Python: PYTHON=... when given, else python3 when pyproject.toml's requires-python allows it,
# else the newest allowed python3.X on the PATH; with none, tools/find-python says how to get one
# and nothing is created. A .venv/ on a Python that is not allowed is made again.
PYTHON ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= agg

.PHONY: demo test test-package test-notebooks lab bench summary clean-venv

$(STAMP): pyproject.toml constraints.txt
	@if ! PYTHON=$(PY) sh tools/find-python >/dev/null 2>&1; then \
		python=$$(PYTHON='$(PYTHON)' sh tools/find-python) || exit 1; \
		rm -rf $(VENV); echo "Creating $(VENV)/ with $$python"; \
		"$$python" -m venv $(VENV) || { rm -rf $(VENV); exit 1; }; \
	fi
	$(PY) -m pip install -c constraints.txt -e ".[dev,torch,jax]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m alexnet_keras train --demo --output runs/demo

test: test-package test-notebooks

# Two pytest workers (pytest-xdist), each file's tests in one of them: 1.2x faster than one on the
# 2-core machine (TensorFlow already keeps both cores busy most of the time).
test-package: $(STAMP)
	$(PY) -m pytest tests -q -rs --durations=15 -n 2 --dist loadfile

test-notebooks: $(STAMP)
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -q --durations=10 \
		-n 2 --dist loadfile

summary: $(STAMP)
	$(PY) -m alexnet_keras summary --variant paper

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) -m alexnet_keras bench input
	$(PY) -m alexnet_keras bench train

clean-venv:
	rm -rf $(VENV)
