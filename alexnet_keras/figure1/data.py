"""The images of the Figure 1 experiment and the paper's preprocessing (Sections 2 and 3.1).

Imports neither TensorFlow nor TensorFlow Datasets unless ``cifar10`` is asked for, so the
experiment runs on Keras' JAX or torch backend on a machine without TensorFlow.
"""

from __future__ import annotations

import numpy as np

DATASETS = ("shapes", "cifar10")
INPUT_SCALES = ("raw", "unit")


def shapes(count: int, *, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` generated images (uint8, ``[count, size, size, 3]``) of the offline set's 10 shapes.

    Each image is :func:`alexnet_keras.data.offline.draw_image` at ``size`` x ``size`` pixels (CIFAR-10's
    32 by default): a shape of random position, scale, rotation and colour on a textured, cluttered
    background. Classes take turns (balanced); the same ``seed`` gives the same images.
    """
    from alexnet_keras.data.offline import CLASS_NAMES, draw_image

    if count < len(CLASS_NAMES):
        raise ValueError(f"count must be at least {len(CLASS_NAMES)} (one image a class); received {count}")
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CLASS_NAMES)
    images = np.stack([draw_image(CLASS_NAMES[c], rng, size=(size, size), grain=0) for c in labels])
    return images, labels.astype("int64")


def cifar10(*, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10's 50,000 training images (uint8) and labels, through TensorFlow Datasets.

    Downloads on first use (or reads ``data_dir``): the paper's own data for Figure 1.
    """
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(
        tfds.load("cifar10", split="train", as_supervised=True, batch_size=-1, data_dir=data_dir))
    return images, labels.astype("int64")


def load(name: str, count: int, *, seed: int = 0, data_dir: str | None = None):
    """(uint8 images, int64 labels) of data set ``name`` (one of :data:`DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; received {name!r}")
    if name == "shapes":
        return shapes(count, seed=seed)
    images, labels = cifar10(data_dir=data_dir)
    return images[:count], labels[:count]


def preprocess(images: np.ndarray, scale: str) -> np.ndarray:
    """float32 network input from uint8 ``images``.

    ``"raw"``: the paper's only preprocessing, "subtracting the mean activity over the training set
    from each pixel" (Section 2): raw pixel values minus the per-pixel mean image, so values span
    about -255..255. ``"unit"``: pixels divided by 255, in [0, 1], without mean subtraction (what
    ``keras.layers.Rescaling(1/255)`` feeds in most Keras tutorials): the control for input scale.
    """
    if scale not in INPUT_SCALES:
        raise ValueError(f"input_scale must be one of {', '.join(INPUT_SCALES)}; received {scale!r}")
    x = images.astype("float32")
    if scale == "raw":
        return x - x.mean(axis=0, keepdims=True)
    return x / 255.0


def linear_train_error(x: np.ndarray, y: np.ndarray, *, max_iter: int = 2000) -> tuple[float, bool]:
    """Best training error of an unregularised multinomial logistic regression on ``x``, and whether
    L-BFGS converged.

    The yardstick for the threshold: if a linear map on the same pixels could reach it, time to the
    threshold would mostly be the time to fit a linear map. Features are standardised (a linear
    change of the inputs that changes nothing a linear model can fit, and helps L-BFGS converge).
    """
    from sklearn.linear_model import LogisticRegression

    flat = x.reshape(len(x), -1).astype("float64")
    flat = (flat - flat.mean(axis=0)) / (flat.std(axis=0) + 1e-8)
    model = LogisticRegression(C=np.inf, max_iter=max_iter, tol=1e-6).fit(flat, y)
    converged = bool(np.all(model.n_iter_ < max_iter))
    return float(1.0 - model.score(flat, y)), converged


def shape_name(label: int) -> str:
    """The name of shape class ``label`` (``shapes``' labels index the offline set's class names)."""
    from alexnet_keras.data.offline import CLASS_NAMES

    return CLASS_NAMES[int(label)]
