"""The Keras side of ``bench train``: the paper model compiled with the project's optimiser on the
backend Keras runs, the matmul that measures the machine, the LRN variants, and ``run_rounds`` (every
setting timed in this process, for notebook 04 and ``bench profile``).

``bench train`` itself times each backend in its own process (``alexnet_keras.bench.serve``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def default_xla() -> bool:
    """XLA as ``python -m alexnet_keras train`` uses it by default on one device, for the backend
    Keras runs and its device (``TrainConfig.xla``, ``xla_enabled``)."""
    import keras

    from alexnet_keras.training.fit import device_kind, xla_enabled

    return xla_enabled(None, distributed=False, backend=keras.backend.backend(), device=device_kind())


def configure_threads(threads: int | None, inter_op_threads: int | None) -> None:
    """TensorFlow's thread pools (set before its first op), or torch's; JAX has no such setting."""
    import keras

    if keras.backend.backend() == "torch" and threads:
        import torch

        torch.set_num_threads(threads)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        if inter_op_threads:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
    except RuntimeError as error:  # TensorFlow already initialised by the caller
        print(f"note: thread settings not applied ({error})", file=sys.stderr)


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Float32 matmul throughput of this machine on the backend Keras runs, GFLOP/s (median of
    ``repeats``; one ``keras.ops.matmul``, finished when its sum reaches NumPy)."""
    import keras
    from keras import ops

    a = keras.random.normal((size, size), seed=0)
    b = keras.random.normal((size, size), seed=1)

    def product():
        return ops.convert_to_numpy(ops.sum(ops.matmul(a, b)))

    product()  # warm up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def synthetic_batch(args: argparse.Namespace):
    """The fixed batch every step trains on, on the backend's default device (a GPU when there
    is one), so no host-to-device copy is timed."""
    import numpy as np
    from keras import ops

    rng = np.random.default_rng(0)
    images = rng.standard_normal((args.batch_size, args.image_size, args.image_size, 3)) * 50
    labels = rng.integers(0, args.num_classes, size=(args.batch_size,))
    return ops.convert_to_tensor(images.astype("float32")), ops.convert_to_tensor(labels)


def time_steps(model, images, labels, steps: int) -> float:
    """Images/s over ``steps`` training steps (``train_on_batch`` returns NumPy: each has finished)."""
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    return steps * int(images.shape[0]) / (time.perf_counter() - start)


def add_lrn_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lrn", choices=["ops", "autodiff", "tf"], default="ops",
                        help="'ops': the package's LocalResponseNormalization (keras.ops, its own "
                        "gradient); 'autodiff': the same forward with the gradient left to autodiff "
                        "(the package before 2026-12-02); 'tf': tf.nn.local_response_normalization")


def _autodiff_lrn_layer_class():
    """The package's LRN forward, differentiated by autodiff instead of its written-out gradient."""
    from keras import ops

    from alexnet_keras.model.layers import LocalResponseNormalization

    class AutodiffLocalResponseNormalization(LocalResponseNormalization):
        def _normalize(self, x):
            norm = self.bias + self.alpha * self._window_sum(ops.square(x))
            return x * ops.exp(-self.beta * ops.log(norm))

    return AutodiffLocalResponseNormalization


def _tf_lrn_layer_class():
    """A prototype LRN with tf.nn.local_response_normalization (same formula, TensorFlow only)."""
    import tensorflow as tf

    from alexnet_keras.model.layers import LocalResponseNormalization

    class TFLocalResponseNormalization(LocalResponseNormalization):
        def call(self, inputs):
            return tf.nn.local_response_normalization(
                inputs, depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha,
                beta=self.beta,
            )

    return TFLocalResponseNormalization


def build_model(args: argparse.Namespace, jit_compile: bool):
    """The paper model, compiled with the project's optimiser (coupled weight decay)."""
    import keras

    from alexnet_keras.model import architecture as models

    original = models.LocalResponseNormalization
    if args.lrn != "ops":
        models.LocalResponseNormalization = {"tf": _tf_lrn_layer_class,
                                             "autodiff": _autodiff_lrn_layer_class}[args.lrn]()
    try:
        model = models.alexnet(
            "paper", classes=args.num_classes,
            input_shape=(args.image_size, args.image_size, 3),
            tower_implementation=args.tower_implementation,
        )
    finally:
        models.LocalResponseNormalization = original
    try:
        from alexnet_keras.training.optimizer import build_optimizer

        optimizer = build_optimizer(0.01, momentum=0.9, weight_decay=5e-4)
    except ImportError:  # the trainer's module is optional here
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    model.compile(
        optimizer=optimizer, loss="sparse_categorical_crossentropy", jit_compile=jit_compile
    )
    return model


def forward_macs(model) -> int:
    from alexnet_keras.model.summary import layer_table, totals

    return totals(layer_table(model))[1]


def run_rounds(args: argparse.Namespace, settings: list[bool]):
    """In this process: warm every XLA setting up, then ``--repeats`` rounds of the matmul and each
    setting. Returns (matmul GFLOP/s per round, {xla: images/s per round}, [], forward MACs)."""
    images, labels = synthetic_batch(args)
    models = {}
    for jit in settings:
        models[jit] = build_model(args, jit)
        for _ in range(args.warmup):  # XLA compiles during the first
            models[jit].train_on_batch(images, labels)
    macs = forward_macs(next(iter(models.values())))
    matmul, rates = [], {jit: [] for jit in settings}
    for _ in range(args.repeats):
        matmul.append(matmul_gflops(args.matmul_size))
        for jit, model in models.items():
            rates[jit].append(time_steps(model, images, labels, args.steps))
    return matmul, rates, [], macs
