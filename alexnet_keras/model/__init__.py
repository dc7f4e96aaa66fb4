"""The model: the LRN layer and the towers (Section 3), the AlexNet builders and variants (Section 3.5),
its input preprocessing, torchvision's weights, and the summary table."""

from alexnet_keras.model.architecture import alexnet, paper_initializers, small_convnet
from alexnet_keras.model.layers import LocalResponseNormalization, TowerConv2D
from alexnet_keras.model.preprocessing import decode_predictions, preprocess_input
from alexnet_keras.model.summary import format_table, layer_table, totals
from alexnet_keras.model.variants import VARIANTS, Variant

__all__ = [
    "LocalResponseNormalization", "TowerConv2D", "VARIANTS", "Variant", "alexnet",
    "decode_predictions", "format_table", "layer_table", "paper_initializers", "preprocess_input",
    "small_convnet", "totals",
]
