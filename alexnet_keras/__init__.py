"""alexnet-keras: AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012) in Keras 3.

Importing this package builds nothing and touches neither the network nor a GPU.
"""

from alexnet_keras.layers import LocalResponseNormalization, TowerConv2D
from alexnet_keras.models import VARIANTS, alexnet, paper_initializers, small_convnet
from alexnet_keras.summary import format_table, layer_table

__version__ = "0.1.0"

__all__ = [
    "LocalResponseNormalization",
    "TowerConv2D",
    "VARIANTS",
    "alexnet",
    "format_table",
    "layer_table",
    "paper_initializers",
    "small_convnet",
]
