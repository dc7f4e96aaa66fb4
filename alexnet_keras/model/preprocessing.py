"""What the model expects of its input, and what its outputs mean (Section 2; keras.applications).

``preprocess_input`` lives beside the model, as in ``keras.applications``: ``mode="paper"`` is the
paper's mean subtraction (Section 2, what our trainer feeds the network), ``mode="torch"`` is
torchvision's normalisation, which its published AlexNet weights expect. ``decode_predictions``
names the 1000 ILSVRC-2012 classes, read offline from files TensorFlow Datasets ships.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from alexnet_keras.checks import check_choice

# Mean RGB over the ImageNet training set, 0..255 scale: the values published with the VGG models
# (Simonyan & Zisserman 2014) and used by Caffe and keras.applications. Section 2: "subtracting the
# mean activity over the training set from each pixel".
IMAGENET_MEAN = (123.68, 116.779, 103.939)
# torchvision's normalisation (pixels on 0..1): the mean and standard deviation its weights expect.
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
PREPROCESSING_MODES = ("paper", "torch")


def preprocess_input(x, mode: str = "paper"):
    """Prepares RGB images on a 0..255 scale (``[..., H, W, 3]``, channels last) for the model.

    ``"paper"``: subtract ``IMAGENET_MEAN`` (Section 2). ``"torch"``: ``x / 255``, then subtract
    ``TORCH_MEAN`` and divide by ``TORCH_STD`` (torchvision's ``ImageClassification`` transform).
    Returns float32: a NumPy array for NumPy (or list) input, a tensor for a tensor.
    """
    check_choice("mode", mode, PREPROCESSING_MODES)
    if isinstance(x, (np.ndarray, list, tuple, int, float)):
        x = np.asarray(x, np.float32)
    else:  # a tensor: cast only if needed, so float32 tf.data batches stay plain TensorFlow
        import keras

        if keras.backend.standardize_dtype(x.dtype) != "float32":
            x = keras.ops.cast(x, "float32")
    if x.shape[-1] != 3:
        raise ValueError(f"preprocess_input expects RGB images, channels last ([..., H, W, 3]); "
                         f"received shape {tuple(x.shape)}")
    if mode == "paper":
        return x - np.asarray(IMAGENET_MEAN, np.float32)
    return (x / 255.0 - np.asarray(TORCH_MEAN, np.float32)) / np.asarray(TORCH_STD, np.float32)


def _tfds_folder() -> Path:
    spec = importlib.util.find_spec("tensorflow_datasets")  # finds the folder; imports nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("decode_predictions reads the class names that tensorflow-datasets ships; "
                          "pip install tensorflow-datasets")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """The 1000 ILSVRC-2012 classes in the usual index order: (WordNet id, readable name) pairs.

    Offline sources, both in the tensorflow-datasets package: the WordNet ids from
    ``datasets/imagenet2012/labels.txt`` (sorted ids, the order of TFDS, torchvision and Keras) and
    the names from ``datasets/siscore/labels.py`` (``IMAGENET_LABELS_LIST``, the widely copied
    list of the same 1000 classes in the same order).
    """
    folder = _tfds_folder() / "datasets"
    wnids = (folder / "imagenet2012" / "labels.txt").read_text().split()
    tree = ast.parse((folder / "siscore" / "labels.py").read_text())
    names = next(
        ast.literal_eval(node.value) for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "IMAGENET_LABELS_LIST"
    )
    if len(wnids) != 1000 or len(names) != 1000:
        raise ValueError(f"expected 1000 ImageNet classes in {folder}; found {len(wnids)} ids and "
                         f"{len(names)} names")
    return tuple(zip(wnids, names))


def decode_predictions(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each row of ``preds`` (``[batch, 1000]``), as keras.applications does:
    a list per image of ``(wordnet_id, name, score)``, best first."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(f"decode_predictions expects a batch of 1000 ImageNet scores, shape "
                         f"(batch, 1000); received shape {preds.shape}")
    classes = imagenet_classes()
    order = np.argsort(-preds, axis=1)[:, :top]
    return [[(*classes[i], float(row[i])) for i in indices] for row, indices in zip(preds, order)]
