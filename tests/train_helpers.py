"""A tiny model and a tiny epoch-deterministic data stream for the trainer tests, and a script that
trains with them in a subprocess (resume, mirrored and multi-worker tests).

    python tests/train_helpers.py OUTPUT [--epochs N] [--strategy S] [--cpus K] [--weights FILE]
        [--lr X] [--nan] [--devices a,b] [--global-batch N] [--losses FILE] [--kill-at E:S]
        [--no-compat-fixes] [--backend jax [--jax-devices N]]

With ``--backend jax`` the model trains on Keras' JAX backend (the data stays tf.data);
``--jax-devices N`` splits the CPU into N XLA devices and trains data parallel over them
(``keras.distribution.DataParallel``). Both must be set before Keras and JAX are imported.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

NUM_CLASSES = 4
IMAGE = 12
EXAMPLES = 96


def tiny_examples(seed: int = 0, count: int = EXAMPLES, nan: bool = False):
    """Images whose class is the brightest quadrant, plus noise: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, size=count)
    images = rng.normal(0.0, 1.0, size=(count, IMAGE, IMAGE, 3)).astype("float32")
    half = IMAGE // 2
    for i, label in enumerate(labels):
        y, x = divmod(int(label), 2)
        images[i, y * half:(y + 1) * half, x * half:(x + 1) * half] += 0.25
    if nan:
        images[:] = np.nan
    return images, labels.astype("int64")


def tiny_datasets(config, start_epoch: int, global_batch: int, *, nan: bool = False):
    """Same contract as the trainer's default: an infinite stream whose epoch e depends only on
    (seed, e), starting at ``start_epoch``; steps per epoch; validation data; classes."""
    import tensorflow as tf

    images, labels = tiny_examples(0, nan=nan)
    steps = EXAMPLES // global_batch
    if config.steps_per_epoch:
        steps = min(steps, config.steps_per_epoch)
    order = np.concatenate([
        np.random.default_rng([config.seed, epoch]).permutation(EXAMPLES)[: steps * global_batch]
        for epoch in range(start_epoch, config.epochs + 1)
    ])
    train = (
        tf.data.Dataset.from_tensor_slices((images[order], labels[order]))
        .batch(global_batch, drop_remainder=True)
        .repeat()
    )
    val_images, val_labels = tiny_examples(1, count=32)
    validation = tf.data.Dataset.from_tensor_slices((val_images, val_labels)).batch(global_batch)
    return train, steps, validation, NUM_CLASSES


def tiny_model(config, num_classes: int, *, dropout: float = 0.0):
    import keras

    layers = [
        keras.Input((IMAGE, IMAGE, 3)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Flatten(name="flatten"),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="dropout6"))
    layers += [
        keras.layers.Dense(num_classes, name="fc8"),
        keras.layers.Activation("softmax", dtype="float32", name="predictions"),
    ]
    return keras.Sequential(layers, name="tiny")


class KillAt:
    """Keras callback factory: the process sends itself SIGKILL after training step ``step`` of
    epoch ``epoch`` (both from 0), the way a crash or a preempted machine ends it: no cleanup."""

    @staticmethod
    def make(epoch: int, step: int):
        import signal

        import keras

        class _Kill(keras.callbacks.Callback):
            current = 0

            def on_epoch_begin(self, epoch_, logs=None):
                self.current = epoch_

            def on_train_batch_end(self, batch, logs=None):
                if (self.current, batch) == (epoch, step):
                    os.kill(os.getpid(), signal.SIGKILL)

        return _Kill()


class StepMarker:
    """Keras callback factory: appends 'epoch step' to a file after each training step, and writes
    every batch's running loss, so tests can poll progress instead of sleeping."""

    @staticmethod
    def make(path):
        import keras

        class _Marker(keras.callbacks.Callback):
            epoch = 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

            def on_train_batch_end(self, batch, logs=None):
                with open(path, "a") as handle:
                    handle.write(f"{self.epoch} {batch} {logs.get('loss', float('nan'))!r}\n")

        return _Marker()


def _variable_devices(model) -> str:
    """`` variable_devices=N``: the devices a JAX model's first kernel lives on ('' on TensorFlow)."""
    value = model.trainable_variables[0].value
    sharding = getattr(value, "sharding", None)
    return f" variable_devices={len(sharding.device_set)}" if sharding is not None else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--cpus", type=int, default=1, help="logical CPU devices to create")
    parser.add_argument("--devices", default=None, help="mirrored devices, comma separated")
    parser.add_argument("--global-batch", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--weights", default=None, help="write final weights (npz) here")
    parser.add_argument("--losses", default=None, help="write per-batch losses (text) here")
    parser.add_argument("--nan", action="store_true")
    parser.add_argument("--kill-at", default=None, help="EPOCH:STEP: SIGKILL after that step")
    parser.add_argument("--no-compat-fixes", action="store_true",
                        help="train without keras_compat.multi_worker_fixes")
    parser.add_argument("--backend", default=None, help="KERAS_BACKEND for this process")
    parser.add_argument("--jax-devices", type=int, default=0,
                        help="with --backend jax: N CPU devices, data parallel over them")
    args = parser.parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    if args.jax_devices:
        os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.jax_devices}"
        os.environ["JAX_PLATFORMS"] = "cpu"

    import tensorflow as tf

    strategy = None
    if args.jax_devices > 1:
        from alexnet_keras.training.keras_distribution import make_distribution

        strategy = make_distribution("mirrored")
    if args.cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.cpus)]
        )
    if args.devices:
        from alexnet_keras.training.distribute import make_strategy

        strategy = make_strategy("mirrored", devices=args.devices.split(","))

    from alexnet_keras.training.callbacks import TrainingDivergedError
    from alexnet_keras.training import TrainConfig, fit

    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, global_batch_size=args.global_batch,
        learning_rate=args.lr, lr_scaling="none", schedule="constant", weight_decay=5e-4,
        strategy=args.strategy, steps_per_epoch=args.steps, output=args.output,
        tensorboard=False, verbose=0, seed=1,
    )
    extra = []
    if args.losses:
        extra.append(StepMarker.make(args.losses))
    if args.kill_at:
        extra.append(KillAt.make(*map(int, args.kill_at.split(":"))))
    if args.no_compat_fixes:
        import contextlib
        import importlib

        fit_module = importlib.import_module("alexnet_keras.training.fit")  # the module, not fit()
        fit_module.multi_worker_fixes = lambda model, strategy: contextlib.nullcontext()
    try:
        result = fit(
            config,
            build_model=lambda c, n: tiny_model(c, n, dropout=args.dropout),
            datasets=lambda c, e, b: tiny_datasets(c, e, b, nan=args.nan),
            strategy=strategy,
            callbacks=extra,
        )
    except TrainingDivergedError as error:
        print(error, file=sys.stderr)
        return 3
    if args.weights:
        np.savez(args.weights, *[np.asarray(w) for w in result.model.get_weights()])
    print(f"DONE status={result.status} initial_epoch={result.initial_epoch} "
          f"replicas={result.replicas} global_batch={result.global_batch_size} "
          f"backend={result.config.backend}{_variable_devices(result.model)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
