"""One-line set-up for the course notebooks: quiet logs, fixed seeds, readable figures.

Every notebook's first code cell is ``from alexnet_keras.course import setup; setup()``, so the first
screen a student sees is prose and the model, not plumbing. Importing the package already silences
TensorFlow's C++ start-up lines (``alexnet_keras._quiet``); :func:`setup` silences the one line of
the first operation (``cuInit`` on a machine without a GPU driver) and sets absl's and TensorFlow's
Python loggers to errors only. tests/test_notebook_outputs.py checks every stored output for log
lines, progress bars and colour codes, and every stored figure's size and resolution.
"""

from __future__ import annotations

import os
import sys

from alexnet_keras._quiet import stderr_silenced

#: Figures are stored at this resolution. A font of ``s`` points is ``s * FIGURE_DPI / 72`` pixels
#: high; with the sizes below the smallest text of a stored figure is 9 points, 12.5 pixels, and no
#: figure may use less than :data:`MIN_FONT_POINTS` (tests/test_notebook_outputs.py).
FIGURE_DPI = 100
#: Text at least 9 pixels high at :data:`FIGURE_DPI`: 9 * 72 / 100 = 6.48 points.
MIN_TEXT_PIXELS = 9
MIN_FONT_POINTS = MIN_TEXT_PIXELS * 72 / FIGURE_DPI

STYLE = {
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


def setup(seed: int = 0) -> None:
    """Quiet TensorFlow's and absl's logs and colour codes, seed Python, NumPy and Keras, set the plot style.

    Raises ``RuntimeError`` with the fix when Python or Keras is too old for the notebooks.
    """
    if sys.version_info < (3, 11):
        raise RuntimeError(f"Python 3.11+ is needed; this is {sys.version.split()[0]}. Run `make lab`.")
    # Jupyter's kernel sets FORCE_COLOR, so TFDS prints its build messages in bold ANSI codes;
    # NO_COLOR (https://no-color.org) comes first for termcolor, which TFDS prints with.
    os.environ["NO_COLOR"] = "1"
    import keras

    if not keras.__version__.startswith("3."):
        raise RuntimeError(f"Keras 3 is needed; found {keras.__version__}. Run `make lab`.")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with stderr_silenced():  # the first operation calls cuInit, which logs when there is no driver
            tf.config.list_physical_devices()
            tf.constant(0.0) + 0.0
        tf.get_logger().setLevel("ERROR")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    keras.utils.set_random_seed(seed)
    _inline_figures()
    import matplotlib

    matplotlib.rcParams.update(STYLE)


def _inline_figures() -> None:
    """In a Jupyter kernel, draw figures inline whatever ``MPLBACKEND`` says (``make test`` exports
    ``agg``, under which nbval would find no stored figure); elsewhere do nothing."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")
