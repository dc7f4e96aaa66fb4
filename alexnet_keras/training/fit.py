"""Train AlexNet with the paper's recipe under ``tf.distribute`` (Section 5).

``TrainConfig`` holds the recipe with the paper's values as defaults; ``fit(config)`` runs it:

    open the run folder once (``run_folder.RunFolder``), lock it and plan in it -> strategy -> global batch and learning rate ->
    data stream at the resumed epoch -> model and optimiser inside ``strategy.scope()``, restored
    from the backup -> the first write -> ``model.fit`` with checkpoints, backup, TensorBoard, CSV
    log, NaN stop -> training-curves PNG.

Everything a run writes goes under ``config.output`` (``run_folder`` lists it). Run the same command
again after an interruption and it resumes from the newest backup, with the data stream started at
the same epoch, so no finished epoch is lost; after a finished run it changes nothing and says so.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Callable

from alexnet_keras.backend import check_active, require_tensorflow
from alexnet_keras.plots import plot_history, read_csv_log
from alexnet_keras.training import distribute, labels, run_folder
from alexnet_keras.training.callbacks import epoch_callbacks, stateful_callbacks, write_error
from alexnet_keras.training.backup import TrainingStateBackup
from alexnet_keras.training.config import TrainConfig
from alexnet_keras.training.inputs import (  # noqa: F401 (_default_*: fit's names before the split)
    _default_datasets, _default_model, _image_size, image_size, training_data,
)
from alexnet_keras.training.keras_compat import multi_worker_fixes
from alexnet_keras.training.keras_distribution import fit_scope, make_distribution
from alexnet_keras.training.compile import (  # noqa: F401 (fit's names before the split)
    TF_XLA_DEFAULT, compile_model, cpu_has_avx512, device_kind, progress_verbosity, xla_enabled,
)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says how many epochs are saved and how to resume."""


@dataclasses.dataclass
class TrainResult:
    """What ``fit`` returns: the model, the whole history (resumed epochs included) and the paths.

    ``status`` is ``"trained"``, or ``"complete"`` when the folder already held the finished run
    (then nothing was trained, ``model`` is ``checkpoints/last.keras`` and ``message`` says so).
    """

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
    status: str = "trained"
    message: str = ""


# ---------------------------------------------------------------------------------------------- fit


@dataclasses.dataclass
class _Run:
    """What ``fit`` settles before it builds anything: the strategy's numbers and the folder's plan."""

    strategy: object
    replicas: int
    global_batch: int
    learning_rate: float
    folder: run_folder.RunFolder
    plan: run_folder.Plan

    @property
    def paths(self) -> dict:
        return self.folder.paths

    @property
    def chief(self) -> bool:
        return self.folder.chief


def _plan(config: TrainConfig, folder: run_folder.RunFolder, strategy) -> _Run:
    if strategy is None:  # first: multi-worker strategies must exist before any other op
        if config.backend == "tensorflow":
            strategy = distribute.make_strategy(config.strategy, tpu=config.tpu_address,
                                                 cluster_timeout=config.cluster_timeout)
        else:
            strategy = make_distribution(config.strategy, backend=config.backend,
                                         tpu=config.tpu_address)
    replicas = strategy.num_replicas_in_sync
    global_batch = distribute.global_batch_size(
        replicas, batch_size=config.batch_size, global_batch=config.global_batch_size
    )
    learning_rate = distribute.scale_learning_rate(
        config.learning_rate, global_batch, rule=config.lr_scaling,
        reference_batch=config.reference_batch_size,
    )
    plan = folder.plan(config, derived=dict(
        replicas=replicas, global_batch_size=global_batch, learning_rate=learning_rate))
    if folder.chief and plan.message:
        print(plan.message)
    return _Run(strategy, replicas, global_batch, learning_rate, folder, plan)


def _on_backend(config: TrainConfig) -> TrainConfig:
    """``config`` with ``backend`` the one Keras runs (``"auto"`` resolved); ``ValueError`` when
    Keras runs another, or one the trainer does not support."""
    running = check_active(config.backend)
    if running not in ("tensorflow", "jax"):
        raise ValueError(f"train runs on the tensorflow or jax backend, not {running!r}: "
                         f"use --backend jax or --backend tensorflow (or KERAS_BACKEND)")
    return config if config.backend == running else dataclasses.replace(config, backend=running)


def _result(config, run: _Run, started: float, **values) -> TrainResult:
    return TrainResult(
        config=config, replicas=run.replicas, global_batch_size=run.global_batch,
        learning_rate=run.learning_rate, initial_epoch=run.plan.start_epoch, paths=run.paths,
        seconds=time.perf_counter() - started, **values,
    )


def _recorded(config, run: _Run, started: float) -> TrainResult:
    """A finished run as its folder holds it: the CSV history and ``checkpoints/last.keras``."""
    import keras

    csv_log, last = run.paths["csv"], run.paths["last"]
    history = read_csv_log(csv_log) if run.chief and os.path.exists(csv_log) else {}
    model = keras.models.load_model(last) if run.chief and os.path.exists(last) else None
    return _result(config, run, started, model=model, history=history, status="complete",
                   message=run.plan.message,
                   steps_per_epoch=run.plan.derived.get("steps_per_epoch", 0))


def _data(config: TrainConfig, run: _Run, datasets: Callable | None):
    """The training stream at the plan's epoch, steps per epoch, validation data, classes."""
    import keras

    tf = require_tensorflow("train")  # the input pipeline is tf.data on every backend
    # The data stream is built before the global seed is set: its randomness comes from
    # (config.seed, epoch) alone, whatever seed an earlier run in this process left behind.
    tf.random.set_seed(None)
    found = (datasets or training_data)(config, run.plan.start_epoch, run.global_batch)
    train_ds, steps, val_ds, num_classes = found[:4]
    if num_classes < 2:
        raise ValueError(f"the training data has {num_classes} class: a classifier needs at least "
                         "two (with one, every prediction is right and nothing is learnt); give "
                         "a data set with two or more classes (one folder per class)")
    run_folder.check_steps(run.plan, steps)
    run_folder.check_classes(run.plan, num_classes)
    if len(found) > 4:  # the default data's fingerprint: a resume must see the same data
        run_folder.check_data(run.plan, found[4])
    keras.utils.set_random_seed(config.seed)  # initial weights, dropout
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    if config.validation_steps and val_ds is not None:
        val_ds = val_ds.take(config.validation_steps)
    return train_ds, steps, val_ds, num_classes, (found[5] if len(found) > 5 else None)


def fit(
    config: TrainConfig,
    *,
    build_model: Callable | None = None,
    datasets: Callable | None = None,
    strategy=None,
    callbacks: list | None = None,
) -> TrainResult:
    """Train as ``config`` says; resume from ``config.output``'s backup when there is one.

    The run folder is opened once, here, and handed down. Every check comes before the first
    write (``RunFolder.plan``, the data, the model, the
    backup's fit to it): a refused configuration leaves the folder as it was. A finished run is
    returned as recorded (``status="complete"``), nothing trained or written.

    Args:
        config: the run.
        build_model: ``build_model(config, num_classes) -> keras.Model`` (built: it has an
            ``Input``), called inside the strategy scope (default: ``alexnet`` with the config's
            options).
        datasets: ``datasets(config, start_epoch, global_batch) -> (train, steps_per_epoch,
            validation or None, num_classes)``, optionally a fifth element, the data's
            fingerprint (a dict: a resume onto another one is refused); ``train`` must be infinite
            and start at epoch ``start_epoch`` (default: ``inputs.training_data``).
        strategy: a ``tf.distribute.Strategy`` (default: ``make_strategy(config.strategy,
            tpu=config.tpu_address)``).
        callbacks: extra Keras callbacks.

    Raises:
        run_folder.RunFolderError: the folder holds another run, or a trained one without
            backup, or the data changed since the run started.
        FolderInUseError: another process trains (or prepares) in ``config.output`` right now.
        TrainingDivergedError: the loss became NaN or infinite (the message says what to try).
        TrainingInterrupted: Ctrl-C; the message says how to resume.
    """
    folder = run_folder.RunFolder.open(
        config, task=None if distribute.is_chief() else distribute.task_id())
    with folder.lock():
        return _fit(config, folder, build_model, datasets, strategy, callbacks)


def _fit(config, folder, build_model, datasets, strategy, callbacks) -> TrainResult:
    started = time.perf_counter()
    config = _on_backend(config)
    run = _plan(config, folder, strategy)
    if run.plan.complete:
        return _recorded(config, run, started)
    import keras

    train_ds, steps, val_ds, num_classes, class_record = _data(config, run, datasets)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.mixed_precision)
    try:
        stateful = stateful_callbacks(config, run.paths, chief=run.chief, validation=val_ds is not None)
        backup = TrainingStateBackup(folder.backups, stateful=stateful)
        with run.strategy.scope():
            model = (build_model or _default_model)(config, num_classes)
            labels.remember(model, class_record)  # each checkpoint carries the class names
            rate = compile_model(model, config, run.learning_rate, steps)
            if run.plan.backup is not None:
                backup.restore(model, run.plan.backup)
        run.plan.derived["xla"] = bool(model.jit_compile)  # recorded in config.json
        if run.chief and run.plan.start_epoch == 0:
            print(f"XLA {'on' if model.jit_compile else 'off'}: " + (
                "as --xla/--no-xla asked" if config.xla is not None else
                "the faster default for this backend and device (--xla/--no-xla override it)"))
        folder.start(config, run.plan)  # the first write
        callback_list = epoch_callbacks(
            config, run.paths, chief=run.chief, start_epoch=run.plan.start_epoch, rate=rate,
            stateful=stateful, backup=backup, extra=callbacks,
        )
        with multi_worker_fixes(model, run.strategy), fit_scope(run.strategy):
            try:
                model.fit(
                    train_ds, epochs=config.epochs, initial_epoch=run.plan.start_epoch,
                    steps_per_epoch=steps, validation_data=val_ds, callbacks=callback_list,
                    verbose=progress_verbosity(config.verbose),
                    shuffle=False,  # the pipeline shuffles, per epoch and seed
                )
            except KeyboardInterrupt:
                raise TrainingInterrupted(folder.interrupted(config)) from None
            except Exception as error:
                _name_damaged_shard(config, error)
                named = write_error(error, config.output)  # a full disk: name the folder when
                if named is not None and named is not error:  # the writer did not
                    raise named from error
                raise
    finally:
        keras.config.set_dtype_policy(previous_policy)

    csv_log = run.paths["csv"]
    history = read_csv_log(csv_log) if run.chief and os.path.exists(csv_log) else {}
    if history:
        plot_history(csv_log, run.paths["plot"])
    return _result(config, run, started, model=model, history=history, steps_per_epoch=steps)


def _name_damaged_shard(config: TrainConfig, error: Exception) -> None:
    """A ``DataLossError`` while reading a prepared folder (a shard damaged after training
    started): raise the ``PreparedFolderError`` that names the shard and ``prepare --verify``."""
    import tensorflow as tf

    if config.prepared and isinstance(error, tf.errors.DataLossError):
        from alexnet_keras.data.prepared import check_shards

        for split in ("train", "validation"):
            check_shards(config.prepared, split, verify=True)  # raises, naming the shard


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
