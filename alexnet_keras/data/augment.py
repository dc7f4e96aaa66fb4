"""The paper's preprocessing and data augmentation (Sections 2 and 4.1), in one namespace.

Section 2: rescale the shorter side to 256, crop the central 256x256, subtract the mean.
Section 4.1: training on random 224x224 (here 227x227 by default, see PAPER.md) patches and their
horizontal reflections, plus PCA lighting; testing on the centre patch, or the ten patches (four
corners and centre, and their reflections) whose softmax outputs are averaged.

The code lives in three modules: ``decode`` (decoding only the window a crop keeps), ``ops`` (one
function per augmentation, and the default-mean deviation) and ``pipelines`` (the training and
evaluation streams, composed of those ops). This module re-exports their public names.
"""

from alexnet_keras.data.decode import (DCT_METHOD, RESIZE_SIZE, decode_central_square,
                                       decode_patch, decode_window, default_resize_size)
from alexnet_keras.data.ops import (IMAGENET_EIGENVALUES, IMAGENET_EIGENVALUES_UNIT_SCALE,
                                    IMAGENET_EIGENVECTORS, IMAGENET_MEAN, center_crop,
                                    compute_mean, compute_rgb_pca, crop_at, lighting_alpha,
                                    pca_lighting, random_crop, random_crop_offset, random_flip,
                                    resize_shorter_side, subtract_mean, ten_crop)
from alexnet_keras.data.pipelines import (AUTOTUNE, augmentation_seeds, epoch_order,
                                          evaluation_pipeline, training_pipeline)

__all__ = [
    "AUTOTUNE", "DCT_METHOD", "IMAGENET_EIGENVALUES", "IMAGENET_EIGENVALUES_UNIT_SCALE",
    "IMAGENET_EIGENVECTORS", "IMAGENET_MEAN", "RESIZE_SIZE", "augmentation_seeds", "center_crop",
    "compute_mean", "compute_rgb_pca", "crop_at", "decode_central_square", "decode_patch",
    "decode_window", "default_resize_size", "epoch_order", "evaluation_pipeline", "lighting_alpha",
    "pca_lighting", "random_crop", "random_crop_offset", "random_flip", "resize_shorter_side",
    "subtract_mean", "ten_crop", "training_pipeline",
]
