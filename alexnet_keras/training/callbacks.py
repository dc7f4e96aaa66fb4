"""Callbacks of the trainer: the paper's learning-rate drops (Section 5), the learning-rate log,
crash-safe checkpoints, a NaN stop that says what to try, and the set ``fit`` uses (the training
state backup is ``training.backup``).

Every file the trainer writes goes to a temporary file in the same folder first and is then renamed
over the target with ``os.replace``, which is atomic on POSIX and Windows: a process killed while it
writes leaves the previous checkpoint intact, never a half-written one.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np

NAN_ADVICE = (
    "The training loss became NaN or infinite ({value}) at epoch {epoch}, batch {batch}; training stopped.\n"
    "Things to try:\n"
    "  - a lower learning rate (--lr): the paper's 0.01 is for batch 128, and the linear scaling rule\n"
    "    raises it with the global batch (--lr-scaling none turns that off);\n"
    "  - a warm-up (--schedule cosine --warmup-epochs 5), or --normalization batch;\n"
    "  - check the input scaling: float32 images, 0..255 minus the mean (no integer division,\n"
    "    no double scaling);\n"
    "  - with --mixed-precision mixed_float16, try mixed_bfloat16 or float32;\n"
    "  - look for corrupt images or labels outside 0..num_classes-1.\n"
    "The backup of the last finished epoch (if any) is kept: fix the setting and run the\n"
    "command again to resume from it."
)


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


def write_atomically(path: str, write) -> None:
    """Call ``write(temporary_path)``, then rename the result to ``path`` in one step.

    The temporary file lies in the same folder (so the rename stays on one file system) and keeps
    ``path``'s extension (Keras checks ``.keras`` / ``.weights.h5`` suffixes).
    """
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, dot, extension = name.partition(".")
    temporary = os.path.join(folder, f".{stem}.tmp{os.getpid()}{dot}{extension}")
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except Exception as error:  # a full disk, a size limit: name the file (writers often do not)
        named = write_error(error, path)
        if named is None:
            raise
        raise OSError(named.errno, named.strerror, path) from error  # the file, not its temporary
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_error(error: BaseException, path: str) -> OSError | None:
    """``error`` as an ``OSError`` naming ``path`` when it is a failed write that the user fixes
    (a full disk, a size limit, a read-only folder), also when TensorFlow raised it; else None."""
    import errno

    if isinstance(error, OSError) and error.errno is not None:
        return error if error.filename else OSError(error.errno, error.strerror, path)
    message = getattr(error, "message", "")
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
        if message and os.strerror(number) in message:
            return OSError(number, os.strerror(number), path)
    return None


def save_model_atomically(model: keras.Model, path: str) -> None:
    """``model.save(path)`` (weights, optimizer state, config) without a half-written file ever at ``path``."""
    from alexnet_keras.training import labels

    def write(temporary):
        model.save(temporary)
        labels.write_into(temporary, model)  # the class names it was trained on

    write_atomically(path, write)


class PaperLearningRateDrops(keras.callbacks.Callback):
    """Divide the learning rate by 10 when the validation error stops improving, three times at most.

    Section 5: "The heuristic which we followed was to divide the learning rate by 10 when the
    validation error rate stopped improving with the current learning rate. The learning rate was
    initialized at 0.01 and reduced three times prior to termination."

    "Stopped improving" is made precise as: ``monitor`` has not fallen below its best value by more
    than ``min_delta`` for ``patience`` epochs. Its state (best, wait, drops) is saved in the backup.
    """

    def __init__(
        self,
        monitor: str = "val_top1_error",
        *,
        factor: float = 0.1,
        patience: int = 5,
        max_drops: int = 3,
        min_delta: float = 0.0,
        verbose: int = 1,
    ):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1); received {factor!r}")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.max_drops, self.min_delta, self.verbose = max_drops, min_delta, verbose
        self.best, self.wait, self.drops = math.inf, 0, 0

    def get_state(self) -> dict:
        return {"best": self.best, "wait": self.wait, "drops": self.drops}

    def set_state(self, state: dict) -> None:
        self.best, self.wait, self.drops = state["best"], state["wait"], state["drops"]

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise ValueError(
                f"the paper schedule watches {self.monitor!r}, which the logs lack (they have "
                f"{sorted(logs or {})}); give validation data or choose --schedule step or cosine"
            )
        if current < self.best - self.min_delta:
            self.best, self.wait = float(current), 0
            return
        self.wait += 1
        if self.wait >= self.patience and self.drops < self.max_drops:
            optimizer = self.model.optimizer
            old = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            optimizer.learning_rate = old * self.factor
            self.drops += 1
            self.wait = 0
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} has not improved for {self.patience} "
                    f"epochs; learning rate {old:.3g} -> {old * self.factor:.3g} "
                    f"(drop {self.drops} of {self.max_drops})"
                )


class LearningRateLogger(keras.callbacks.Callback):
    """Adds ``learning_rate`` to the epoch logs: the rate of the epoch's last training step.

    With a ``schedule`` (a ``keras.optimizers.schedules.LearningRateSchedule``) that is
    ``schedule(iterations - 1)``: at the epoch's end the optimizer's own ``learning_rate`` is already
    the *next* step's (a step schedule's drop would show one epoch early). Without one the rate is
    read when the epoch begins: the paper's drops (``PaperLearningRateDrops``) change it only at
    epoch ends, after the epoch it was used in.
    """

    def __init__(self, schedule=None):
        super().__init__()
        self.schedule = schedule if callable(schedule) else None
        self.rate = math.nan

    def _current(self) -> float:
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        if self.schedule is None:
            self.rate = self._current()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self.schedule is not None:
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) - 1
            self.rate = float(keras.ops.convert_to_numpy(self.schedule(max(step, 0))))
        logs["learning_rate"] = self.rate


class AtomicModelCheckpoint(keras.callbacks.Callback):
    """Save the whole model (``.keras``) at each epoch end, or only when ``monitor`` improves.

    Unlike ``keras.callbacks.ModelCheckpoint``, the file is written atomically, and the best value
    so far is part of the backup state, so a resumed run does not overwrite a better "best".
    Only the chief writes (``enabled=False`` on other workers).
    """

    def __init__(self, filepath: str, *, monitor: str = "val_top1_error", save_best_only=False,
                 enabled: bool = True):
        super().__init__()
        self.filepath, self.monitor, self.save_best_only = filepath, monitor, save_best_only
        self.enabled = enabled
        self.best = math.inf

    def get_state(self) -> dict:
        return {"best": self.best}

    def set_state(self, state: dict) -> None:
        self.best = state["best"]

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            current = (logs or {}).get(self.monitor)
            if current is None or not current < self.best:
                return
            self.best = float(current)
        if self.enabled:
            save_model_atomically(self.model, self.filepath)


class TerminateOnNaNWithAdvice(keras.callbacks.TerminateOnNaN):
    """Stop at the first NaN or infinite loss, saying what to try.

    ``raise_error=True`` (the trainer's choice) raises ``TrainingDivergedError``: no further
    callback runs, so the backup of the last finished epoch stays the newest and a fixed command
    resumes from it. ``raise_error=False`` is Keras' graceful stop: it prints the advice and sets
    ``model.stop_training``; Keras then still ends the epoch (and its callbacks see it).
    """

    def __init__(self, raise_error: bool = True):
        super().__init__(raise_error=raise_error)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        advice = NAN_ADVICE.format(value=loss, epoch=self.epoch + 1, batch=batch + 1)
        if self.raise_error:
            raise TrainingDivergedError(advice)
        print(f"\n{advice}")
        self.model.stop_training = True


# ------------------------------------------------------------------------------ the trainer's set


def epoch_callbacks(config, paths, *, chief, start_epoch, rate, stateful, backup, extra) -> list:
    """Every callback of the trainer's ``model.fit``, in order; ``backup`` last but the ``extra``."""
    found = [LearningRateLogger(rate), TerminateOnNaNWithAdvice(), *stateful,
             AtomicModelCheckpoint(paths["last"], enabled=chief)]
    if chief:
        found.append(keras.callbacks.CSVLogger(paths["csv"], append=start_epoch > 0))
        if config.tensorboard:
            found.append(keras.callbacks.TensorBoard(paths["tensorboard"]))
    found.append(backup)  # last: a backup means every other epoch-end step is done
    return found + list(extra or [])


def stateful_callbacks(config, paths, *, chief, validation: bool) -> list:
    """The callbacks whose state the backup keeps: the best checkpoint (with validation data) and
    the paper's learning-rate drops (``config.schedule == "paper"``, Section 5)."""
    found = []
    if validation:
        found.append(AtomicModelCheckpoint(paths["best"], save_best_only=True, enabled=chief))
    if config.schedule == "paper":
        found.append(PaperLearningRateDrops(
            factor=config.lr_drop_factor, patience=config.plateau_patience,
            max_drops=config.max_lr_drops,
        ))
    return found
