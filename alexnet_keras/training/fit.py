"""Train AlexNet with the paper's recipe under ``tf.distribute`` (Section 5), and its command line.

``TrainConfig`` holds the recipe with the paper's values as defaults; ``fit(config)`` runs it:

    strategy -> global batch and learning rate -> data stream (resumable) -> model and optimiser
    inside ``strategy.scope()`` -> ``model.fit`` with checkpoints, backup, TensorBoard, CSV log,
    NaN stop -> training-curves PNG.

Everything a run writes goes under ``config.output``::

    config.json              the configuration, for the record
    checkpoints/best.keras   the model with the lowest validation top-1 error so far
    checkpoints/last.keras   the model after the last finished epoch
    backup/                  resume state (one file per epoch, the two newest); removed at the end
    logs/                    TensorBoard (``tensorboard --logdir OUTPUT/logs``)
    training_log.csv         one row per epoch: losses, top-1/top-5 errors, learning rate
    training_curves.png      the curves of the CSV log

Run the same command again after an interruption and it resumes from the newest backup, with the
data stream started at the same epoch, so no finished epoch is lost.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from typing import Callable

from alexnet_keras.training import distribute
from alexnet_keras.training.callbacks import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
    LearningRateLogger,
    PaperLearningRateDrops,
    TerminateOnNaNWithAdvice,
    latest_backup_epoch,
)
from alexnet_keras.training.config import TrainConfig
from alexnet_keras.training.keras_compat import multi_worker_fixes
from alexnet_keras.training.optimizer import build_optimizer, learning_rate_schedule


@dataclasses.dataclass
class TrainResult:
    """What ``fit`` returns: the model, the whole history (resumed epochs included) and the paths."""

    model: object
    history: dict
    config: TrainConfig
    replicas: int
    global_batch_size: int
    learning_rate: float
    steps_per_epoch: int
    initial_epoch: int
    seconds: float
    paths: dict


# --------------------------------------------------------------------------------------------- data


def _default_datasets(config: TrainConfig, start_epoch: int, global_batch: int):
    """Training stream (infinite, starting at ``start_epoch``), steps per epoch, validation data and
    number of classes, from ``alexnet_keras.data`` and ``alexnet_keras.augment``."""
    from alexnet_keras import data
    from alexnet_keras.data import augment

    image_size = _image_size(config)
    train = data.load(config.dataset, "train", data_dir=config.data_dir, manual_dir=config.manual_dir)
    source, num_examples = train, train.num_examples  # a Source: file lists shuffle cheaply
    steps = distribute.steps_per_epoch(num_examples, global_batch)
    if config.steps_per_epoch and config.steps_per_epoch < steps:
        # An "epoch" becomes a pass over the first steps x batch examples, so that epochs stay
        # aligned with the data stream (resuming relies on it).
        steps = config.steps_per_epoch
        num_examples = steps * global_batch
        source = train.dataset.take(num_examples)
    train_ds = augment.training_pipeline(
        source, batch_size=global_batch, image_size=image_size, seed=config.seed,
        start_epoch=start_epoch, num_examples=num_examples, cache=config.cache,
    )
    validation = data.load(
        config.dataset, "validation", data_dir=config.data_dir, manual_dir=config.manual_dir
    )
    val_ds = augment.evaluation_pipeline(
        validation, batch_size=global_batch, image_size=image_size, cache=config.cache
    )
    return train_ds, steps, val_ds, len(train.class_names)


def _image_size(config: TrainConfig) -> int:
    if config.image_size:
        return config.image_size
    return 224 if config.variant == "torchvision" else 227


def _default_model(config: TrainConfig, num_classes: int):
    from alexnet_keras.model.architecture import alexnet

    size = _image_size(config)
    return alexnet(
        config.variant, num_classes=num_classes, input_shape=(size, size, 3),
        activation=config.activation, normalization=config.normalization,
        initializer=config.initializer, dropout=config.dropout,
    )


# ---------------------------------------------------------------------------------------------- fit


def xla_enabled(xla: bool | None, distributed: bool) -> bool:
    """Whether the training step is compiled with XLA (``jit_compile``).

    ``xla`` when it is given. By default (``None``) XLA is on when training runs on one device
    without a ``tf.distribute`` strategy: on the project's 2-core CPU it trains the paper model
    1.76x faster than without (``bench train``, benchmarks/RESULTS.md). Under a strategy
    (MirroredStrategy, MultiWorkerMirroredStrategy, TPU) it is off by default, as Keras itself
    leaves it there; ``--xla`` turns it on.
    """
    if xla is not None:
        return bool(xla)
    return not distributed


def compile_model(model, config: TrainConfig, learning_rate: float, steps_per_epoch: int) -> None:
    """Compile with the paper's optimiser, the schedule, cross-entropy and top-1/top-5 error.

    Call it inside ``strategy.scope()``: whether a strategy is in scope decides the default XLA
    setting (``xla_enabled``).
    """
    import keras
    import tensorflow as tf

    from alexnet_keras.training.metrics import TopKError

    rate = learning_rate_schedule(
        config.schedule, learning_rate, steps_per_epoch=steps_per_epoch, epochs=config.epochs,
        step_epochs=config.step_epochs, drop_factor=config.lr_drop_factor,
        warmup_epochs=config.warmup_epochs,
    )
    optimizer = build_optimizer(
        rate, momentum=config.momentum, weight_decay=config.weight_decay,
        weight_decay_mode=config.weight_decay_mode,
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(),  # the model ends in softmax
        metrics=[TopKError(1), TopKError(5)],
        jit_compile=xla_enabled(config.xla, distributed=tf.distribute.has_strategy()),
    )


def _paths(output: str) -> dict:
    return {
        "output": output,
        "config": os.path.join(output, "config.json"),
        "best": os.path.join(output, "checkpoints", "best.keras"),
        "last": os.path.join(output, "checkpoints", "last.keras"),
        "backup": os.path.join(output, "backup"),
        "tensorboard": os.path.join(output, "logs"),
        "csv": os.path.join(output, "training_log.csv"),
        "plot": os.path.join(output, "training_curves.png"),
    }


def _backup_dir(paths: dict) -> str:
    # Workers other than the chief keep their own backups (same content, no write races).
    return paths["backup"] if distribute.is_chief() else os.path.join(paths["backup"], distribute.task_id())


def _truncate_csv(path: str, start_epoch: int) -> None:
    """Drop CSV rows of epochs the resumed run will redo (written after the last backup)."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) < start_epoch]
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(kept)


def read_csv_log(path: str) -> dict[str, list[float]]:
    """The CSV log as ``{column: [value per epoch]}``."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def fit(
    config: TrainConfig,
    *,
    build_model: Callable | None = None,
    datasets: Callable | None = None,
    strategy=None,
    callbacks: list | None = None,
) -> TrainResult:
    """Train as ``config`` says; resume from ``config.output``'s backup when there is one.

    Args:
        config: the run.
        build_model: ``build_model(config, num_classes) -> keras.Model``, called inside the strategy
            scope (default: ``alexnet`` with the config's options).
        datasets: ``datasets(config, start_epoch, global_batch) -> (train, steps_per_epoch,
            validation or None, num_classes)``; ``train`` must be infinite and start at epoch
            ``start_epoch`` (default: ``data.load`` + ``augment`` pipelines).
        strategy: a ``tf.distribute.Strategy`` (default: ``make_strategy(config.strategy)``).
        callbacks: extra Keras callbacks.

    Raises:
        TrainingDivergedError: the loss became NaN or infinite (the message says what to try).
    """
    started = time.perf_counter()
    if strategy is None:  # first: multi-worker strategies must exist before any other op
        strategy = distribute.make_strategy(config.strategy)
    import keras
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    global_batch = distribute.global_batch_size(
        replicas, batch_size=config.batch_size, global_batch=config.global_batch_size
    )
    learning_rate = distribute.scale_learning_rate(
        config.learning_rate, global_batch, rule=config.lr_scaling,
        reference_batch=config.reference_batch_size,
    )
    paths = _paths(config.output)
    chief = distribute.is_chief()
    backup_dir = _backup_dir(paths)
    start_epoch = latest_backup_epoch(backup_dir)
    if chief:
        os.makedirs(config.output, exist_ok=True)
        with open(paths["config"], "w") as handle:
            json.dump(dataclasses.asdict(config), handle, indent=2)
        if start_epoch:
            _truncate_csv(paths["csv"], start_epoch)
        elif os.path.exists(paths["csv"]):
            os.remove(paths["csv"])

    # The data stream is built before the global seed is set: its randomness comes from
    # (config.seed, epoch) alone, whatever seed an earlier run in this process left behind.
    tf.random.set_seed(None)
    train_ds, steps, val_ds, num_classes = (datasets or _default_datasets)(
        config, start_epoch, global_batch
    )
    keras.utils.set_random_seed(config.seed)  # initial weights, dropout
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    if config.validation_steps and val_ds is not None:
        val_ds = val_ds.take(config.validation_steps)

    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.mixed_precision)
    try:
        with strategy.scope():
            model = (build_model or _default_model)(config, num_classes)
            compile_model(model, config, learning_rate, steps)

        stateful = [AtomicModelCheckpoint(paths["best"], save_best_only=True, enabled=chief)]
        if config.schedule == "paper":
            stateful.append(PaperLearningRateDrops(
                factor=config.lr_drop_factor, patience=config.plateau_patience,
                max_drops=config.max_lr_drops,
            ))
        if val_ds is None:
            stateful = [c for c in stateful if not isinstance(c, AtomicModelCheckpoint)]
        backup = AtomicBackupAndRestore(backup_dir, stateful=stateful)
        callback_list = [
            LearningRateLogger(),
            TerminateOnNaNWithAdvice(),
            *stateful,
            AtomicModelCheckpoint(paths["last"], enabled=chief),
        ]
        if chief:
            callback_list.append(keras.callbacks.CSVLogger(paths["csv"], append=start_epoch > 0))
            if config.tensorboard:
                callback_list.append(keras.callbacks.TensorBoard(paths["tensorboard"]))
        callback_list.append(backup)  # last: a backup means every other epoch-end step is done
        callback_list.extend(callbacks or [])

        if start_epoch and chief:
            print(f"Resuming from {backup_dir}: {start_epoch} of {config.epochs} epochs done")
        with multi_worker_fixes(model, strategy):
            model.fit(
                train_ds,
                epochs=config.epochs,
                initial_epoch=start_epoch,
                steps_per_epoch=steps,
                validation_data=val_ds,
                callbacks=callback_list,
                verbose=config.verbose,
                shuffle=False,  # the pipeline shuffles, per epoch and seed
            )
    finally:
        keras.config.set_dtype_policy(previous_policy)

    history = read_csv_log(paths["csv"]) if chief and os.path.exists(paths["csv"]) else {}
    if chief and history:
        from alexnet_keras.plots import plot_history

        plot_history(paths["csv"], paths["plot"])
    return TrainResult(
        model=model, history=history, config=config, replicas=replicas,
        global_batch_size=global_batch, learning_rate=learning_rate, steps_per_epoch=steps,
        initial_epoch=start_epoch, seconds=time.perf_counter() - started, paths=paths,
    )


def format_metrics_table(history: dict) -> str:
    """The last epoch's loss and errors, training beside validation, plus the best validation error."""
    if not history:
        return "(no epochs logged)"
    last = {key: values[-1] for key, values in history.items()}
    lines = [f"{'metric':<14}{'training':>10}{'validation':>12}"]
    for name in ("loss", "top1_error", "top5_error"):
        train_value = last.get(name)
        val_value = last.get(f"val_{name}")
        cell = lambda v: f"{v:.4f}" if v is not None else "-"  # noqa: E731
        lines.append(f"{name:<14}{cell(train_value):>10}{cell(val_value):>12}")
    epochs = len(history.get("epoch", history.get("loss", [])))
    if "val_top1_error" in history:
        best = min(history["val_top1_error"])
        at = history["val_top1_error"].index(best) + 1
        lines.append(f"best validation top-1 error {best:.4f} (accuracy {1 - best:.4f}) at epoch {at}")
    lines.append(f"epochs: {epochs}, last learning rate: {last.get('learning_rate', float('nan')):.3g}")
    return "\n".join(lines)
