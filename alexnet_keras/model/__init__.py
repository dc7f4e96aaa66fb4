"""The model: the LRN layer and the towers (Section 3), the AlexNet builders and variants (Section 3.5), the summary table."""

from alexnet_keras.model.architecture import VARIANTS, alexnet, paper_initializers, small_convnet
from alexnet_keras.model.layers import LocalResponseNormalization, TowerConv2D
from alexnet_keras.model.summary import format_table, layer_table, totals

__all__ = [
    "LocalResponseNormalization", "TowerConv2D", "VARIANTS", "alexnet", "format_table", "layer_table",
    "paper_initializers", "small_convnet", "totals",
]
