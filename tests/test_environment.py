"""The set-up: pip, conda, the README and the Makefile agree on the Pythons and the pins, and the
Makefile finds a supported Python by itself or stops with one message before creating anything."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
FIND_PYTHON = ROOT / "tools" / "find-python"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pyproject_pins() -> dict[str, str]:
    project = _project()
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return dict(req.split("==") for req in requirements)


def _environment_pins() -> tuple[str, dict[str, str]]:
    text = (ROOT / "environment.yml").read_text()
    python = re.search(r"^\s*-\s*python(\S+)\s*$", text, re.M).group(1)
    pins = dict(re.findall(r"^\s*-\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", text, re.M))
    return python, pins


def _supported() -> list[str]:
    """The 3.x versions that requires-python allows, oldest first."""
    spec = SpecifierSet(_project()["requires-python"])
    return [f"3.{minor}" for minor in range(30) if f"3.{minor}.0" in spec]


def test_environment_yml_and_pyproject_pin_the_same_versions():
    _, pins = _environment_pins()
    assert pins == _pyproject_pins()


def test_constraints_agree_with_the_pins():
    constraints = dict(
        line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line
    )
    lowered = {k.lower().replace("_", "-"): v for k, v in constraints.items()}
    for name, version in _pyproject_pins().items():
        assert lowered[name.lower().replace("_", "-")] == version, name


def test_pyproject_conda_readme_and_find_python_name_the_same_pythons():
    supported = _supported()
    # The versions the pins were checked to install and pass on; change with the pins.
    assert supported == ["3.11", "3.12", "3.13"]
    classifiers = [c.rsplit(" :: ", 1)[1] for c in _project()["classifiers"] if "Python :: 3." in c]
    assert classifiers == supported

    conda_python, _ = _environment_pins()
    assert SpecifierSet(conda_python) == SpecifierSet(_project()["requires-python"])

    found = subprocess.run(
        ["sh", FIND_PYTHON, "--versions"], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == supported[::-1]

    readme = (ROOT / "README.md").read_text()
    stated = re.search(r"Python ((?:3\.\d+, )*3\.\d+ or 3\.\d+)", readme).group(1)
    assert re.findall(r"3\.\d+", stated) == supported
    for minor in re.findall(r"Python 3\.(\d+)", readme):
        assert f"3.{minor}" in supported, f"README mentions Python 3.{minor}"


def test_this_interpreter_is_a_supported_python():
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in _supported()


# tools/find-python on a PATH of fake interpreters that only report a version.


def _fake_python(folder: Path, name: str, version: str | None, venv_module: bool = True) -> None:
    """An executable `name` answering like Python `version` (None: a pyenv shim that fails)."""
    if version is None:
        body = 'echo "pyenv: $(basename "$0"): command not found" >&2\nexit 127\n'
    else:
        # `-m venv DIR` copies it to DIR/bin/python; any other call is logged in ../calls.log.
        body = f"""case "$1 $2" in
    "-c import sys"*) echo {version} ;;
    "-c import ensurepip"*) exit {0 if venv_module else 1} ;;
    "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
    *) echo "{version} $*" >> "$(dirname "$0")/../calls.log" ;;
esac
"""
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH directory with the few tools the script and the Makefile use, and no Python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["sh", "sed", "dirname", "basename", "cat", "cp", "mkdir", "rm", "touch", "make"]:
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir


def _find_python(bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", FIND_PYTHON], env={"PATH": str(bin_dir), **env}, capture_output=True, text=True
    )


def test_find_python_takes_python3_when_it_is_supported(bin_dir):
    _fake_python(bin_dir, "python3", "3.11")
    _fake_python(bin_dir, "python3.13", "3.13")
    result = _find_python(bin_dir)
    assert (result.returncode, result.stdout) == (0, "python3\n")
    assert result.stderr == ""


def test_find_python_falls_back_to_the_newest_supported_python3_x(bin_dir):
    _fake_python(bin_dir, "python3", "3.14")
    _fake_python(bin_dir, "python3.13", None)  # a pyenv shim for a version that is not selected
    _fake_python(bin_dir, "python3.12", "3.12")
    _fake_python(bin_dir, "python3.11", "3.11")
    result = _find_python(bin_dir)
    assert (result.returncode, result.stdout) == (0, "python3.12\n")
    assert "python3 (3.14), python3.13 (does not start)" in result.stderr


def test_find_python_skips_a_python_without_venv_and_says_which_package_adds_it(bin_dir):
    _fake_python(bin_dir, "python3", "3.13", venv_module=False)
    result = _find_python(bin_dir)
    assert result.returncode == 1
    assert "python3 (3.13 without its venv module: install python3.13-venv)" in result.stderr


def test_find_python_with_none_supported_names_the_versions_and_how_to_get_one(bin_dir):
    _fake_python(bin_dir, "python3", "3.14")
    _fake_python(bin_dir, "python3.10", "3.10")
    result = _find_python(bin_dir)
    assert result.returncode == 1 and result.stdout == ""
    message = result.stderr
    assert "needs Python 3.11 to 3.13" in message
    assert "Tried: python3 (3.14), python3.13 (not found), python3.12 (not found)" in message
    assert "uv python install 3.13" in message and "PYTHON=" in message


def test_python_variable_overrides_the_search_and_is_checked_too(bin_dir):
    _fake_python(bin_dir, "python3", "3.11")
    _fake_python(bin_dir, "python3.12", "3.12")
    _fake_python(bin_dir, "python3.10", "3.10")
    chosen = _find_python(bin_dir, PYTHON="python3.12")
    assert (chosen.returncode, chosen.stdout) == (0, "python3.12\n")
    refused = _find_python(bin_dir, PYTHON="python3.10")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "Tried: python3.10 (3.10)" in refused.stderr


# The Makefile itself, in a copy of the repository's set-up files, with the same fake interpreters.


def _repo_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    for name in ["Makefile", "pyproject.toml", "constraints.txt", "tools/find-python"]:
        shutil.copy(ROOT / name, repo / name)
    return repo


def _make_demo(repo: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    if not (bin_dir / "make").exists():
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "demo"], cwd=repo, env={"PATH": str(bin_dir)}, capture_output=True, text=True
    )


def test_make_creates_the_venv_with_the_supported_python_it_found(tmp_path, bin_dir):
    _fake_python(bin_dir, "python3", "3.14")
    _fake_python(bin_dir, "python3.13", "3.13")
    repo = _repo_copy(tmp_path)
    result = _make_demo(repo, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "Creating .venv/ with python3.13" in result.stdout
    calls = (repo / ".venv" / "calls.log").read_text().splitlines()
    assert calls[0].startswith("3.13 -m pip install -c constraints.txt")
    assert calls[1].startswith("3.13 -m alexnet_keras train --demo")


def test_make_remakes_a_venv_whose_python_is_not_supported(tmp_path, bin_dir):
    _fake_python(bin_dir, "python3", "3.14")
    _fake_python(bin_dir, "python3.12", "3.12")
    repo = _repo_copy(tmp_path)
    _fake_python(repo / ".venv" / "bin", "python", "3.14")  # left by an earlier attempt
    result = _make_demo(repo, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "Creating .venv/ with python3.12" in result.stdout
    assert (repo / ".venv" / "calls.log").read_text().startswith("3.12 -m pip install")


def test_make_with_no_supported_python_stops_with_the_message_and_creates_nothing(
    tmp_path, bin_dir
):
    _fake_python(bin_dir, "python3", "3.14")
    repo = _repo_copy(tmp_path)
    result = _make_demo(repo, bin_dir)
    assert result.returncode != 0
    assert "needs Python 3.11 to 3.13" in result.stderr
    left = sorted(p.name for p in repo.iterdir())
    assert left == ["Makefile", "constraints.txt", "pyproject.toml", "tools"]
