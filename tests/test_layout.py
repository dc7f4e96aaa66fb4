"""The package's layout: three wings imported one way, no circles, and a README map that stays true.

The design (../shared/DESIGN.md, README "How it fits together"): ``cli -> training -> data, model``.
These tests read the source with ``ast`` (every import, including those inside functions), so a
lazy import that closes a circle fails here as well.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "alexnet_keras"

# The wing each module belongs to, and the wings it may import from.
ALLOWED = {
    "model": {"model", "checks", "backend"},
    "data": {"data", "model", "checks", "backend", "progress"},
    "training": {"training", "data", "model", "checks", "plots", "backend"},  # plots: the run's curves PNG
    "checks": set(),
    "progress": set(),  # a live bar on a terminal, plain lines in a log
    "backend": {"_quiet"},  # which Keras backend; imports TensorFlow quietly when asked to
    "plots": {"plots", "model", "data", "checks", "backend"},
    "figure1": {"figure1", "model", "data", "checks", "backend"},
    "ablation": {"ablation", "model", "data", "training", "plots", "checks", "backend"},
    "bench": {"bench", "model", "data", "training", "checks", "backend"},
    "cli": {"cli", "model", "data", "training", "bench", "checks", "plots", "ablation", "figure1",
            "backend", "_quiet"},
    "_quiet": set(),  # silences TensorFlow's start-up lines; imported by the package's __init__
    "course": {"_quiet"},  # the notebooks' one-line set-up
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_imports(path: Path) -> set[str]:
    """Every ``alexnet_keras...`` module that ``path`` imports, resolved to a module name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("alexnet_keras"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("alexnet_keras"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else node.module)
    return found


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _wing(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package's own __init__: re-exports only
    return parts[1] if parts[1] != "__main__" else "cli"


def test_imports_run_one_way_between_the_wings():
    wrong = []
    for module, path in _modules().items():
        wing = _wing(module)
        if wing is None:
            continue
        for imported in _package_imports(path):
            target = _wing(imported)
            if target is not None and target not in ALLOWED.get(wing, set()):
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "imports against the design's direction:\n" + "\n".join(wrong)


def test_no_import_circle_between_modules():
    modules = _modules()
    # Edges to a module's own parent package are left out: a submodule reaching a sibling through
    # ``from alexnet_keras.data import offline`` resolves to the sibling itself.
    graph = {
        name: {t for t in _package_imports(path) if t in modules and t != name and not name.startswith(t + ".")}
        for name, path in modules.items()
    }
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                circles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_importing_the_package_registers_what_checkpoints_hold(tmp_path):
    """A checkpoint written by the trainer loads after ``import alexnet_keras`` and nothing else."""
    script = f"""
import keras
import alexnet_keras
from alexnet_keras.training.config import TrainConfig
from alexnet_keras.training.fit import compile_model
model = alexnet_keras.alexnet("paper", input_shape=(67, 67, 3), {_classes_keyword()}=3)
compile_model(model, TrainConfig(epochs=1), 0.01, 1)
model.save(r"{tmp_path / 'm.keras'}")
"""
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    load = f"""
import keras, numpy as np, alexnet_keras
model = keras.models.load_model(r"{tmp_path / 'm.keras'}")
scores = model.evaluate(np.zeros((2, 67, 67, 3)), np.array([0, 1]), verbose=0, return_dict=True)
print(type(model.optimizer).__name__, sorted(scores))
"""
    done = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PaperSGD" in done.stdout and "top1_error" in done.stdout and "top5_error" in done.stdout


def _classes_keyword() -> str:
    import inspect

    from alexnet_keras import alexnet

    return "classes" if "classes" in inspect.signature(alexnet).parameters else "num_classes"


def _readme_map_names() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## How it fits together", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`(alexnet_keras(?:\.\w+)+)`", section)


def test_readme_section_map_exists():
    assert len(_readme_map_names()) >= 10


@pytest.mark.parametrize("dotted", _readme_map_names() if (ROOT / "README.md").exists()
                         and "## How it fits together" in (ROOT / "README.md").read_text() else [])
def test_every_name_in_the_readme_map_imports(dotted):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return
    pytest.fail(f"{dotted} does not import")


def test_offline_set_defaults_to_the_repository_data_folder(monkeypatch):
    """Generated files go to ``data/`` (ignored by git), never inside the package."""
    from alexnet_keras.data import offline

    monkeypatch.delenv("ALEXNET_KERAS_DATA", raising=False)
    assert offline.default_root() == ROOT / "data" / "offline"


def _notebook_and_readme_imports() -> list[str]:
    """Every ``from alexnet_keras... import a, b`` and ``import alexnet_keras...`` that a notebook's
    code or the README's code blocks contain, as dotted names."""
    import json

    sources = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path.exists():
            sources += re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    names = set()
    for source in sources:
        cleaned = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(cleaned)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alexnet_keras"):
                names |= {f"{node.module}:{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names if alias.name.startswith("alexnet_keras")}
    return sorted(names)


def test_the_notebooks_and_readme_imports_are_found():
    assert len(_notebook_and_readme_imports()) > 20  # the list is read, not empty


@pytest.mark.parametrize("name", _notebook_and_readme_imports())
def test_every_import_the_notebooks_and_readme_use_works(name):
    module, _, attribute = name.partition(":")
    imported = importlib.import_module(module)
    if attribute:
        assert hasattr(imported, attribute) or importlib.util.find_spec(f"{module}.{attribute}"), name
