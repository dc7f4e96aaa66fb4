"""alexnet-keras: AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012) in Keras 3.

Three parts, imported one way (cli -> training -> data, model):
``alexnet_keras.model`` (the network), ``alexnet_keras.data`` (sources and augmentation) and
``alexnet_keras.training`` (the recipe, ``fit``, evaluation). Importing this package builds nothing
and touches neither the network nor a GPU; it registers every custom object a checkpoint holds, so
``keras.models.load_model`` works after ``import alexnet_keras``.

Run as a command (``python -m alexnet_keras ... --backend jax``), the package reads ``--backend``
before it imports Keras, since Keras fixes its backend at its first import (``alexnet_keras.backend``).

Logs: TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when it is imported; unless it is set already, this
import sets it to 2 (C++ errors only, as the CLI always did), and silences the C++ start-up lines
(oneDNN, CUDA stubs), which ignore it. ``TF_CPP_MIN_LOG_LEVEL=0`` keeps every line.
"""

import os

from alexnet_keras import backend as _backend
from alexnet_keras._quiet import stderr_silenced

if _backend.launched_as_command():
    import sys as _sys

    _backend.select_from_argv(_sys.argv[1:])

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with stderr_silenced():
    import keras  # noqa: F401  (imports the backend, TensorFlow by default, with its start-up lines)

from alexnet_keras.model import (  # noqa: E402 (after the backend is chosen)
    VARIANTS,
    LocalResponseNormalization,
    TowerConv2D,
    alexnet,
    decode_predictions,
    format_table,
    layer_table,
    paper_initializers,
    preprocess_input,
    small_convnet,
)
from alexnet_keras.training.metrics import TopKError  # noqa: E402
from alexnet_keras.training.optimizer import PaperSGD  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "LocalResponseNormalization",
    "PaperSGD",
    "TopKError",
    "TowerConv2D",
    "VARIANTS",
    "alexnet",
    "decode_predictions",
    "format_table",
    "layer_table",
    "paper_initializers",
    "preprocess_input",
    "small_convnet",
]
