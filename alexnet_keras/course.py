"""One-line set-up for the course notebooks: quiet logs, fixed seeds, readable figures.

Every notebook's first code cell is ``from alexnet_keras.course import setup; setup()``, so the first
screen a student sees is prose and the model, not plumbing. :func:`setup` must run before TensorFlow
is imported for the log settings to take effect; importing this module imports neither TensorFlow
nor Keras.
"""

from __future__ import annotations

import os
import sys

#: Figures are stored at this resolution. With the font sizes below, the smallest text of a stored
#: figure is at least 9 pixels high (tests/test_notebook_outputs.py checks the stored images).
FIGURE_DPI = 100

_STYLE = {
    "figure.dpi": FIGURE_DPI,
    "savefig.dpi": FIGURE_DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def setup(seed: int = 0, *, backend: str | None = None) -> None:
    """Quiet TensorFlow/absl start-up logs, seed Python, NumPy and Keras, and set the plot style.

    ``backend``: a Keras backend to select (``"tensorflow"``, ``"jax"``, ``"torch"``); only effective
    before Keras is first imported. Raises ``RuntimeError`` with the fix when Python or Keras is too
    old for the notebooks.
    """
    if sys.version_info < (3, 11):
        raise RuntimeError(f"Python 3.11+ is needed; this is {sys.version.split()[0]}. Run `make lab`.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    _quiet_import_keras()
    import keras

    if not keras.__version__.startswith("3."):
        raise RuntimeError(f"Keras 3 is needed; found {keras.__version__}. Run `make lab`.")
    keras.utils.set_random_seed(seed)
    import matplotlib

    matplotlib.rcParams.update(_STYLE)


def _quiet_import_keras() -> None:
    """Import Keras (and TensorFlow when it is the backend) with C++ start-up lines silenced.

    TensorFlow's C++ start-up lines (cuInit, oneDNN notes) ignore ``TF_CPP_MIN_LOG_LEVEL``: stderr is
    pointed at /dev/null for the duration of the import, then restored.
    """
    if "keras" in sys.modules:
        return
    stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # cuInit's log line, silenced here
            tf.get_logger().setLevel("ERROR")
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        os.close(devnull)
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
