"""Which Keras backend runs the model: TensorFlow (the default), JAX or PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, and ``import alexnet_keras`` imports
Keras (the package registers its layers for loading checkpoints). So the command line's
``--backend NAME`` must act before that: ``select_from_argv`` is called at the top of the package's
``__init__`` when the package runs as a command (``python -m alexnet_keras``, ``alexnet-keras``)
and sets ``KERAS_BACKEND`` from the arguments. Later, ``check_active`` compares the backend Keras
runs with the one asked for and names the fix when they differ.

This module imports nothing from the package and neither Keras nor TensorFlow at import time.
"""

from __future__ import annotations

import importlib.util
import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")
EXTRAS = {"tensorflow": "tensorflow-cpu (or tensorflow)", "jax": "'alexnet-keras[jax]' (or jax)",
          "torch": "'alexnet-keras[torch]' (or torch)"}


def backend_from_argv(argv: list[str]) -> str | None:
    """The value of the first ``--backend NAME`` or ``--backend=NAME`` in ``argv``, or None."""
    for index, item in enumerate(argv):
        if item == "--backend" and index + 1 < len(argv):
            return argv[index + 1]
        if item.startswith("--backend="):
            return item.split("=", 1)[1]
    return None


def launched_as_command() -> bool:
    """True while ``python -m alexnet_keras`` (Python sets ``sys.argv[0]`` to ``"-m"`` while it
    imports the package) or the ``alexnet-keras`` script starts."""
    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first) == "alexnet-keras"


def installed(name: str) -> bool:
    """Whether ``import name`` can find the package (imports nothing; a broken one counts as missing)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def select_from_argv(argv: list[str]) -> None:
    """Set ``KERAS_BACKEND`` from ``--backend NAME`` before Keras is imported.

    Only a known, installed backend is set; anything else is left for ``check_active`` (called by
    the command) to report as one line. Without ``--backend`` and ``KERAS_BACKEND``, on a machine
    without TensorFlow, jax (else torch) is chosen, so ``python -m alexnet_keras`` starts there."""
    name = backend_from_argv(argv)
    if "keras" in sys.modules:
        return
    if name in BACKENDS and installed(name):
        os.environ["KERAS_BACKEND"] = name
    elif name is None and "KERAS_BACKEND" not in os.environ and not installed("tensorflow"):
        # Keras' default backend is missing (a JAX or PyTorch GPU machine): take one that is there.
        for other in ("jax", "torch"):
            if installed(other):
                os.environ["KERAS_BACKEND"] = other
                break


def active() -> str:
    """The backend Keras runs (imports Keras)."""
    import keras

    return keras.backend.backend()


def check_active(name: str | None) -> str:
    """The backend Keras runs; ``ValueError`` (one line, with the fix) when it is not ``name``.

    ``name`` None or ``"auto"`` accepts whichever backend ``KERAS_BACKEND`` chose."""
    if name not in (None, "auto") and name not in BACKENDS:
        raise ValueError(f"backend {name!r} is not a Keras backend; use one of {', '.join(BACKENDS)}")
    if name not in (None, "auto") and not installed(name):
        raise ValueError(f"backend {name!r} is not installed: pip install {EXTRAS[name]}")
    running = active()
    if name not in (None, "auto") and running != name:
        raise ValueError(
            f"Keras already runs on {running!r}, not {name!r}: the backend is chosen before Keras "
            f"is first imported; run `python -m alexnet_keras ... --backend {name}` or set "
            f"KERAS_BACKEND={name} before importing keras")
    return running


def require_tensorflow(what: str):
    """``import tensorflow``, or ``ValueError`` saying that ``what`` needs it and how to get it."""
    if not installed("tensorflow"):
        raise ValueError(f"{what} needs TensorFlow (tf.data reads and augments the images, also on "
                         f"the jax backend): pip install tensorflow-cpu")
    from alexnet_keras._quiet import stderr_silenced

    with stderr_silenced():  # TensorFlow's C++ start-up lines, when Keras did not import it first
        import tensorflow as tf

    return tf


__all__ = ["BACKENDS", "active", "backend_from_argv", "check_active", "installed",
           "launched_as_command", "require_tensorflow", "select_from_argv"]
