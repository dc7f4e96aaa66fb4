"""Callbacks of the trainer: the paper's learning-rate drops, crash-safe checkpoints and backups,
and a NaN stop that says what to try.

Every file the trainer writes goes to a temporary file in the same folder first and is then renamed
over the target with ``os.replace``, which is atomic on POSIX and Windows: a process killed while it
writes leaves the previous checkpoint intact, never a half-written one.
"""

from __future__ import annotations

import glob
import io
import json
import math
import os
import re

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
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def save_model_atomically(model: keras.Model, path: str) -> None:
    """``model.save(path)`` (weights, optimizer state, config) without a half-written file ever at ``path``."""
    write_atomically(path, lambda temporary: model.save(temporary))


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
    """Adds ``learning_rate`` (the value used in the epoch's last step) to the epoch logs."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            optimizer = self.model.optimizer
            lr = optimizer.learning_rate  # schedules: the value at the current step
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(lr))


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


_BACKUP_NAME = re.compile(r"epoch-(\d+)\.npz$")


def backup_files(backup_dir: str) -> list[tuple[int, str]]:
    """``(finished epochs, path)`` of every complete backup in ``backup_dir``, newest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(backup_dir), "epoch-*.npz")):
        match = _BACKUP_NAME.search(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def latest_backup_epoch(backup_dir: str) -> int:
    """Number of epochs the newest backup in ``backup_dir`` has finished; 0 when there is none."""
    files = backup_files(backup_dir)
    return files[0][0] if files else 0


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` with crash-safe files and the whole training state.

    At each epoch end it writes ``backup_dir/epoch-NNNNN.npz`` (NNNNN = epochs finished) through a
    temporary file and an atomic rename. The file holds every model variable (including the
    dropout layers' random-seed state, which ``save_weights`` leaves out), every optimizer variable
    (momentum, step count, learning rate) and the state of the ``stateful`` callbacks (the paper's
    learning-rate drops, the best checkpoint's value). The newest file names the epoch, so weights and
    epoch number can never disagree. The previous file is kept too, as a second chance.

    On ``fit`` it restores the newest file that loads and sets the initial epoch. The caller must
    start the data stream at the same epoch (``latest_backup_epoch``; ``augment.training_pipeline``'s
    ``start_epoch``). The folder is removed when training ends normally.
    """

    def __init__(self, backup_dir: str, *, stateful=(), keep: int = 2, delete_checkpoint=True):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=delete_checkpoint)
        self.stateful = list(stateful)
        self.keep = keep
        self.restored_epoch = 0

    def _variables(self):
        optimizer = self.model.optimizer
        return list(self.model.variables) + (list(optimizer.variables) if optimizer else [])

    def _load_model(self):
        files = backup_files(self.backup_dir)
        if not files:
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        errors = []
        for epoch, path in files:
            try:
                with np.load(path, allow_pickle=False) as archive:
                    values = [archive[f"v{i}"] for i in range(int(archive["count"]))]
                    state = json.loads(str(archive["state"]))
            except (OSError, ValueError, KeyError) as error:  # unreadable: try the older file
                errors.append(f"{path}: {error}")
                continue
            variables = self._variables()
            if len(values) != len(variables):
                raise ValueError(
                    f"backup {path} holds {len(values)} variables but the model and optimizer have "
                    f"{len(variables)}: it comes from a different configuration; use another "
                    f"--output or delete {self.backup_dir}"
                )
            for variable, value in zip(variables, values):
                variable.assign(value)
            for callback, callback_state in zip(self.stateful, state["callbacks"]):
                callback.set_state(callback_state)
            self.model._initial_epoch = epoch
            self.restored_epoch = epoch
            return
        raise OSError("no backup could be read: " + "; ".join(errors))

    def on_train_begin(self, logs=None):
        self._load_model()

    def _save_model(self):
        values = [keras.ops.convert_to_numpy(v) for v in self._variables()]
        state = {"epoch": self._current_epoch, "callbacks": [c.get_state() for c in self.stateful]}
        arrays = {f"v{i}": value for i, value in enumerate(values)}
        path = os.path.join(self.backup_dir, f"epoch-{self._current_epoch:05d}.npz")

        def write(temporary):
            buffer = io.BytesIO()
            np.savez(buffer, count=len(values), state=json.dumps(state), **arrays)
            with open(temporary, "wb") as handle:
                handle.write(buffer.getvalue())

        write_atomically(path, write)
        for _, old in backup_files(self.backup_dir)[self.keep:]:
            os.remove(old)


class TerminateOnNaNWithAdvice(keras.callbacks.TerminateOnNaN):
    """Stop at the first NaN or infinite loss and raise ``TrainingDivergedError`` saying what to try.

    Raising (rather than ``stop_training``) keeps the backup, so a fixed command can resume.
    """

    def __init__(self):
        super().__init__(raise_error=True)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            raise TrainingDivergedError(
                NAN_ADVICE.format(value=loss, epoch=self.epoch + 1, batch=batch + 1)
            )
