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

import argparse
import contextlib
import csv
import dataclasses
import json
import os
import sys
import time
from typing import Callable

from alexnet_keras import distribute
from alexnet_keras.callbacks import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
    LearningRateLogger,
    PaperLearningRateDrops,
    TerminateOnNaNWithAdvice,
    TrainingDivergedError,
    latest_backup_epoch,
)
from alexnet_keras.optimizer import SCHEDULES, WEIGHT_DECAY_MODES, build_optimizer, learning_rate_schedule

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclasses.dataclass
class TrainConfig:
    """One training run. Defaults are the paper's (Sections 4.2 and 5) on ImageNet.

    ``batch_size`` is per replica; the global batch is ``batch_size x replicas`` unless
    ``global_batch_size`` is given. The learning rate is ``learning_rate x global batch /
    reference_batch_size`` under ``lr_scaling="linear"`` (see ``alexnet_keras.distribute``).
    """

    # data
    dataset: str = "imagenet2012"
    data_dir: str | None = None
    manual_dir: str | None = None
    image_size: int | None = None  # None: the variant's own (227; 224 for torchvision)
    cache: bool = False  # keep decoded images in memory (small datasets)
    # model (alexnet_keras.alexnet options)
    variant: str = "paper"
    activation: str = "relu"
    normalization: str = "lrn"
    initializer: str = "paper"
    dropout: float = 0.5
    # optimisation (Section 5)
    epochs: int = 90
    batch_size: int = 128
    global_batch_size: int | None = None
    learning_rate: float = 0.01
    lr_scaling: str = "linear"
    reference_batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4
    weight_decay_mode: str = "coupled"
    schedule: str = "paper"
    plateau_patience: int = 5
    max_lr_drops: int = 3
    lr_drop_factor: float = 0.1
    step_epochs: int = 30
    warmup_epochs: int = 5
    # run
    seed: int = 0
    strategy: str = "auto"
    mixed_precision: str = "float32"
    xla: bool | None = None  # None: on without a tf.distribute strategy (``xla_enabled``)
    deterministic: bool = False
    steps_per_epoch: int | None = None  # None: one pass over the training set
    validation_steps: int | None = None  # None: the whole validation set
    output: str = "runs/alexnet"
    tensorboard: bool = True
    verbose: str | int = "auto"

    def __post_init__(self):
        checks = {
            "schedule": (self.schedule, SCHEDULES),
            "weight_decay_mode": (self.weight_decay_mode, WEIGHT_DECAY_MODES),
            "lr_scaling": (self.lr_scaling, distribute.LR_SCALINGS),
            "strategy": (self.strategy, distribute.STRATEGIES),
            "mixed_precision": (self.mixed_precision, PRECISIONS),
        }
        for field, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{field} must be one of {list(allowed)}; received {value!r}")
        for field in ("epochs", "batch_size", "reference_batch_size"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1; received {getattr(self, field)!r}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0; received {self.learning_rate!r}")

    @classmethod
    def demo(cls, **overrides) -> "TrainConfig":
        """The ``make demo`` run: AlexNet on the generated offline set, about 10 minutes on 2 CPU cores.

        Same architecture (paper variant, two towers, LRN, overlapping pooling, dropout), smaller
        images, and a recipe that starts learning within a few minutes: Glorot initialisation
        instead of N(0, 0.01) (which needs many epochs to leave the plateau at ln(classes)), batch
        normalisation, warm-up then cosine decay, learning rate 0.005 at batch 32 (the paper's 0.01
        at batch 128 would be 0.0025 here under linear scaling; 0.01 and more learn far slower in
        this short run). The paper's SGD, momentum 0.9 and coupled weight decay 0.0005 stay.
        """
        values = dict(DEMO)
        values.update(overrides)
        return cls(**values)


# The demo's settings (``TrainConfig.demo()``, ``--demo``); every other field keeps the paper's value.
DEMO = dict(
    dataset="offline",  # generated: 10 shape classes, 1,300 training and 300 held-out images
    image_size=99,  # the same layers at 99x99: conv1 23x23, pool5 2x2
    cache=True,  # decode the JPEGs once
    normalization="batch",
    initializer="keras",
    epochs=24,  # about 12 s each on 2 cores
    batch_size=32,
    learning_rate=0.005,
    lr_scaling="none",
    schedule="cosine",
    warmup_epochs=1,
    output="runs/demo",
)


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
    from alexnet_keras import augment, data

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
    from alexnet_keras.models import alexnet

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

    from alexnet_keras.metrics import TopKError

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


@contextlib.contextmanager
def _multi_worker_fixes(model, strategy):
    """Work around keras-team/keras#20585: Keras 3's ``fit`` fails under MultiWorkerMirroredStrategy.

    Two spots fail, and only with several workers:
    1. Before training, Keras builds the model from one batch, which it first *reduces across the
       workers* just to learn its shapes; the collective rejects the per-replica batch ("Attempt
       to convert a value (PerReplica...)"). One local replica's batch has the same shapes.
    2. After each step, Keras averages the metric values across workers with ``axis=0``, which
       scalars lack ("Invalid reduction dimension 0"). Scalars are averaged with ``axis=None``.
    Both patches are in force only for this ``fit`` with this strategy; other strategies run
    Keras' own code.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        yield
        return
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    def local_value(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(local_value, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    original_reduce = keras_tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy_, reduction):
        if strategy_ is not strategy or reduction not in ("auto", "mean"):
            return original_reduce(values, strategy_, reduction)

        def mean(value):
            scalar = getattr(value, "shape", None) is not None and value.shape.rank == 0
            return strategy.reduce("MEAN", value, axis=None if scalar else 0)

        return tf.nest.map_structure(mean, values)

    model._maybe_symbolic_build = build
    keras_tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        keras_tf_trainer.reduce_per_replica = original_reduce
        del model._maybe_symbolic_build


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
        with _multi_worker_fixes(model, strategy):
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


# ---------------------------------------------------------------------------------------------- CLI

# (flag, TrainConfig field, type, help): the command line maps one to one onto TrainConfig.
_FLAGS = [
    ("--dataset", "dataset", str, "offline, imagenet2012, imagenette, cifar10 or folder"),
    ("--data-dir", "data_dir", str, "TFDS data_dir (or the folder for --dataset folder)"),
    ("--manual-dir", "manual_dir", str, "folder holding ILSVRC2012_img_{train,val}.tar"),
    ("--image-size", "image_size", int, "input height and width (default 227; 224 torchvision)"),
    ("--cache", "cache", bool, "keep decoded images in memory (small datasets)"),
    ("--variant", "variant", str, "paper, single or torchvision"),
    ("--activation", "activation", str, "relu or tanh"),
    ("--normalization", "normalization", str, "lrn (paper), batch or none"),
    ("--initializer", "initializer", str, "paper (N(0, 0.01)) or keras (Glorot)"),
    ("--dropout", "dropout", float, "dropout rate after fc6 and fc7"),
    ("--epochs", "epochs", int, "epochs to train (paper: about 90)"),
    ("--batch-size", "batch_size", int, "batch per replica (paper: 128)"),
    ("--global-batch-size", "global_batch_size", int, "global batch (must divide by replicas)"),
    ("--lr", "learning_rate", float, "base learning rate at batch 128 (paper: 0.01)"),
    ("--lr-scaling", "lr_scaling", str, "linear (lr x global batch / 128) or none"),
    ("--reference-batch-size", "reference_batch_size", int, "batch the base lr is meant for"),
    ("--momentum", "momentum", float, "SGD momentum (paper: 0.9)"),
    ("--weight-decay", "weight_decay", float, "weight decay (paper: 0.0005)"),
    ("--weight-decay-mode", "weight_decay_mode", str, "coupled (paper) or decoupled (AdamW-style)"),
    ("--schedule", "schedule", str, "paper (/10 on plateau, 3 times), step, cosine or constant"),
    ("--plateau-patience", "plateau_patience", int, "epochs without improvement before a drop"),
    ("--max-lr-drops", "max_lr_drops", int, "learning-rate drops of the paper schedule"),
    ("--lr-drop-factor", "lr_drop_factor", float, "factor of each drop (paper: 0.1)"),
    ("--step-epochs", "step_epochs", int, "epochs between drops of the step schedule"),
    ("--warmup-epochs", "warmup_epochs", int, "warm-up epochs of the cosine schedule"),
    ("--seed", "seed", int, "random seed (initialisation, data order, augmentation)"),
    ("--strategy", "strategy", str, "auto, default, mirrored, multi_worker or tpu"),
    ("--mixed-precision", "mixed_precision", str, "float32, mixed_float16 or mixed_bfloat16"),
    ("--xla", "xla", bool, "compile the training step with XLA (default: on without a distribution strategy)"),
    ("--deterministic", "deterministic", bool, "deterministic TensorFlow ops (slower)"),
    ("--steps-per-epoch", "steps_per_epoch", int, "train on the first N batches each epoch"),
    ("--validation-steps", "validation_steps", int, "validate on the first N batches"),
    ("--output", "output", str, "folder for checkpoints, logs, backup and the curves PNG"),
    ("--tensorboard", "tensorboard", bool, "write TensorBoard logs"),
]


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """``TrainConfig`` (or ``TrainConfig.demo()`` with ``--demo``) with every given flag applied."""
    overrides = {
        field: getattr(args, field) for _, field, _, _ in _FLAGS if getattr(args, field) is not None
    }
    return TrainConfig.demo(**overrides) if args.demo else TrainConfig(**overrides)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true",
        help="the offline demo run (AlexNet on the generated set, ~10 minutes on 2 CPU cores); "
        "other flags override its settings",
    )
    defaults = TrainConfig()
    for flag, field, kind, text in _FLAGS:
        default = getattr(defaults, field)
        if kind is bool:
            parser.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction,
                                default=None, help=f"{text} (default {default})")
        else:
            parser.add_argument(flag, dest=field, type=kind, default=None,
                                help=f"{text} (default {default})")


def _run_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    print(f"Training configuration: {json.dumps(dataclasses.asdict(config))}")
    try:
        result = fit(config)
    except TrainingDivergedError as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    if not distribute.is_chief():
        return 0
    paths = result.paths
    print(f"\nTrained {len(result.history.get('loss', []))} epochs in {result.seconds / 60:.1f} min "
          f"({result.replicas} replica(s), global batch {result.global_batch_size}, "
          f"learning rate {result.learning_rate:g})")
    print(format_metrics_table(result.history))
    print(f"best checkpoint:  {paths['best']}")
    print(f"last checkpoint:  {paths['last']}")
    print(f"TensorBoard logs: {paths['tensorboard']}  (tensorboard --logdir {paths['tensorboard']})")
    print(f"CSV log:          {paths['csv']}")
    print(f"training curves:  {paths['plot']}")
    return 0


def add_train_command(subparsers) -> argparse.ArgumentParser:
    """Add ``train`` to an ``argparse`` subparsers object (``python -m alexnet_keras train``)."""
    parser = subparsers.add_parser(
        "train", help="train AlexNet (the paper's recipe; --demo for the offline demo)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(parser)
    parser.set_defaults(func=_run_train)
    return parser


def add_evaluate_command(subparsers) -> argparse.ArgumentParser:
    """Add ``evaluate`` (defined in ``alexnet_keras.evaluate``)."""
    from alexnet_keras.evaluate import add_evaluate_command as add

    return add(subparsers)
