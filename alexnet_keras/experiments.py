"""Small experiments from the paper that run on a laptop: Figure 1, ReLU against tanh (Section 3.1).

The paper trains "a four-layer convolutional neural network" on CIFAR-10 with ReLUs and with tanh
units, each with the learning rate that made it train fastest and no regularisation, and reports that
the ReLU network reaches 25% training error six times sooner. ``notebooks/03_relu_vs_tanh.ipynb``
repeats that with :func:`alexnet_keras.small_convnet` and the functions below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from alexnet_keras.checks import check_choice
from alexnet_keras.model.architecture import small_convnet

DATASETS = ("digits", "cifar10")


def load_images(name: str = "digits", *, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Training images and labels for the Figure 1 experiment, as the paper feeds them (Section 2).

    ``"digits"``: scikit-learn's bundled handwritten digits (1,797 images of 8x8 pixels, 10 classes;
    no download), brought to the 0..255 range of raw pixels. ``"cifar10"``: the 50,000 CIFAR-10
    training images through TensorFlow Datasets (downloads on first use).
    Both are returned as float32 ``[N, H, W, C]`` with the mean image subtracted (the paper's only
    preprocessing: "subtracting the mean activity over the training set from each pixel"), and int64
    labels.
    """
    check_choice("name", name, DATASETS)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = digits.images.astype("float32") * (255.0 / 16.0)  # 0..16 ink levels -> 0..255
        images, labels = images[..., None], digits.target.astype("int64")
    elif name == "cifar10":
        import tensorflow_datasets as tfds

        images, labels = tfds.as_numpy(
            tfds.load("cifar10", split="train", as_supervised=True, batch_size=-1, data_dir=data_dir)
        )
        images, labels = images.astype("float32"), labels.astype("int64")
    return images - images.mean(axis=0, keepdims=True), labels


class GradientNormHistory(keras.callbacks.Callback):
    """Records the L2 norm of the loss gradient for each layer's kernel while a model trains.

    Every ``every`` training steps the gradient of the loss on a fixed ``probe`` batch ``(x, y)`` is
    computed (without changing the weights), so the numbers are comparable from step to step and
    between networks. ``norms`` maps a layer name to a list of norms; ``steps`` holds the step of each
    record. Uses ``tf.GradientTape``: TensorFlow backend only.
    """

    def __init__(self, probe: tuple[np.ndarray, np.ndarray], every: int = 10):
        super().__init__()
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                f"GradientNormHistory needs the tensorflow backend; received {keras.backend.backend()!r}"
            )
        self.probe = probe
        self.every = every
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}
        self._step = 0

    def _record(self):
        import tensorflow as tf

        x, y = self.probe
        layers = [layer for layer in self.model.layers if getattr(layer, "kernel", None) is not None]
        with tf.GradientTape() as tape:
            predictions = self.model(x, training=False)
            loss = keras.losses.sparse_categorical_crossentropy(y, predictions)
            loss = tf.reduce_mean(loss)
        gradients = tape.gradient(loss, [layer.kernel for layer in layers])
        for layer, gradient in zip(layers, gradients):
            self.norms.setdefault(layer.name, []).append(float(tf.norm(gradient)))
        self.steps.append(self._step)

    def on_train_begin(self, logs=None):
        self._record()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0:
            self._record()


class EpochShuffle(keras.utils.PyDataset):
    """``(images, labels)`` in batches, in a new random order every epoch, from ``seed`` alone.

    ``model.fit(x, y, shuffle=True)`` on arrays draws its permutation with TensorFlow's global
    seed, and after ``keras.utils.set_random_seed`` (Keras 3.15, TensorFlow 2.21) it draws the same
    one every epoch: every epoch then replays the same sequence of batches, and anything measured
    along the run (the gradient on a probe batch) repeats once per epoch. This dataset draws each
    epoch's permutation from ``numpy.random.default_rng(seed)``; the last batch of an epoch is
    smaller when ``batch_size`` does not divide the data set, as with arrays.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0):
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self._rng = np.random.default_rng(seed)
        self.order = self._rng.permutation(len(images))

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.images[batch], self.labels[batch]

    def on_epoch_end(self):
        self.order = self._rng.permutation(len(self.images))


@dataclass
class Run:
    """One training run: training error after each epoch and, if recorded, gradient norms."""

    activation: str
    learning_rate: float
    seed: int
    training_error: list[float]
    gradient_steps: list[int] = field(default_factory=list)
    gradient_norms: dict[str, list[float]] = field(default_factory=dict)


def train_small_convnet(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    activation: str,
    learning_rate: float,
    epochs: int,
    seed: int = 0,
    batch_size: int = 32,
    momentum: float = 0.9,
    gradient_every: int | None = None,
) -> Run:
    """Train :func:`small_convnet` with plain SGD and momentum, no regularisation (Section 3.1).

    The training error of an epoch is one minus the accuracy Keras accumulates over the epoch's
    batches (as cuda-convnet reported it). Each epoch visits the images in a new order
    (:class:`EpochShuffle`, seeded by ``seed``). ``gradient_every`` also records per-layer gradient norms
    (:class:`GradientNormHistory`) on a fixed batch of 256 training images.
    """
    keras.utils.set_random_seed(seed)
    model = small_convnet(
        activation=activation, classes=int(labels.max()) + 1, input_shape=images.shape[1:]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = []
    if gradient_every:
        probe = np.random.default_rng(seed).choice(len(images), size=min(256, len(images)), replace=False)
        callbacks.append(GradientNormHistory((images[probe], labels[probe]), every=gradient_every))
    # EpochShuffle, not fit(shuffle=True): under a fixed seed the latter repeats one order each epoch
    history = model.fit(EpochShuffle(images, labels, batch_size, seed), epochs=epochs, verbose=0,
                        callbacks=callbacks)
    errors = [1.0 - a for a in history.history["accuracy"]]
    run = Run(activation, learning_rate, seed, errors)
    if callbacks:
        run.gradient_steps, run.gradient_norms = callbacks[0].steps, callbacks[0].norms
    return run


def epochs_to_threshold(training_error, threshold: float) -> int | None:
    """The first epoch (counting from 1) whose training error is at or below ``threshold``, or None."""
    for epoch, error in enumerate(training_error, start=1):
        if error <= threshold:
            return epoch
    return None


def pick_learning_rate(runs: list[Run]) -> float:
    """The learning rate whose run trained fastest: the lowest training error averaged over its epochs.

    This is the paper's rule for Figure 1: each network's learning rate "chosen to make training as
    fast as possible". The mean over epochs rewards an early fall, not just a good last epoch, and
    needs no threshold (a short sweep may not reach it).
    """
    return min(runs, key=lambda run: float(np.mean(run.training_error))).learning_rate
