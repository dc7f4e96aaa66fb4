"""The conda environment and the pip package pin the same things."""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return dict(req.split("==") for req in requirements)


def _environment_pins() -> tuple[str, dict[str, str]]:
    text = (ROOT / "environment.yml").read_text()
    python = re.search(r"^\s*-\s*python=(\S+)", text, re.M).group(1)
    pins = dict(re.findall(r"^\s*-\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", text, re.M))
    return python, pins


def test_environment_yml_and_pyproject_pin_the_same_versions():
    python, pins = _environment_pins()
    assert pins == _pyproject_pins()


def test_environment_python_is_allowed_by_pyproject():
    python, _ = _environment_pins()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.search(r">=(\d+\.\d+)", requires).group(1)
    high = re.search(r"<(\d+\.\d+)", requires).group(1)
    as_tuple = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    assert as_tuple(low) <= as_tuple(python) < as_tuple(high)


def test_constraints_agree_with_the_pins():
    constraints = dict(
        line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line
    )
    lowered = {k.lower().replace("_", "-"): v for k, v in constraints.items()}
    for name, version in _pyproject_pins().items():
        assert lowered[name.lower().replace("_", "-")] == version, name


def test_this_interpreter_is_a_supported_python():
    assert sys.version_info[:2] >= (3, 11)
