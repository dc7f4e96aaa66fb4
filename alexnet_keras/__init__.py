"""alexnet-keras: AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012) in Keras 3.

Three parts, imported one way (cli -> training -> data, model):
``alexnet_keras.model`` (the network), ``alexnet_keras.data`` (sources and augmentation) and
``alexnet_keras.training`` (the recipe, ``fit``, evaluation). Importing this package builds nothing
and touches neither the network nor a GPU; it registers every custom object a checkpoint holds, so
``keras.models.load_model`` works after ``import alexnet_keras``.

Run as a command (``python -m alexnet_keras ... --backend jax``), the package reads ``--backend``
before it imports Keras, since Keras fixes its backend at its first import (``alexnet_keras.backend``).
"""

from alexnet_keras import backend as _backend

if _backend.launched_as_command():
    import sys as _sys

    _backend.select_from_argv(_sys.argv[1:])

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
