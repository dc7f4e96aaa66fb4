"""The training state backup (Section 5's 90 epochs take days: a crash must cost at most the epoch
under way): one crash-safe file per finished epoch, read back whole before a run resumes.

``backup_dir/epoch-NNNNN.npz`` (NNNNN = epochs finished) holds ``count``, ``v0``..``v{count-1}``
(every model and optimizer variable, in ``TrainingStateBackup.training_variables`` order) and
``state`` (JSON: the epoch and the stateful callbacks' ``get_state()``). It is its own format, not
Keras' ``BackupAndRestore``'s: that callback saves weights without the dropout seed state and keeps
the epoch in a separate file, which a crash between the two writes can set apart.
"""

from __future__ import annotations

import dataclasses
import glob
import io
import json
import os
import re
import zipfile

import keras
import numpy as np

from alexnet_keras.training.callbacks import write_atomically

_BACKUP_NAME = re.compile(r"epoch-(\d+)\.npz$")


def backup_files(backup_dir: str) -> list[tuple[int, str]]:
    """``(finished epochs, path)`` of every backup file in ``backup_dir``, newest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(backup_dir), "epoch-*.npz")):
        match = _BACKUP_NAME.search(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def latest_backup_epoch(backup_dir: str) -> int:
    """Number of epochs the newest backup file in ``backup_dir`` names; 0 when there is none."""
    files = backup_files(backup_dir)
    return files[0][0] if files else 0


@dataclasses.dataclass
class Backup:
    """One backup file read into memory: the epochs it has finished, every variable, callback state."""

    epoch: int
    path: str
    values: list
    state: dict


def read_backup(path: str) -> Backup:
    """Read a backup file whole; ``ValueError`` saying what is wrong when it is damaged
    (empty, truncated, garbled, or naming another epoch than its file name)."""
    match = _BACKUP_NAME.search(os.path.basename(path))
    try:
        with np.load(path, allow_pickle=False) as archive:
            values = [archive[f"v{i}"] for i in range(int(archive["count"]))]
            state = json.loads(str(archive["state"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{type(error).__name__}: {error}") from None
    epoch = int(match.group(1)) if match else -1
    if state.get("epoch") != epoch:
        raise ValueError(f"it records epoch {state.get('epoch')!r}, its name says {epoch}")
    return Backup(epoch, path, values, state)


def newest_readable_backup(backup_dir: str) -> tuple[Backup | None, list[tuple[str, str]]]:
    """The newest backup in ``backup_dir`` that reads whole (``None`` if none does), and
    ``(path, why)`` of each newer file that was skipped."""
    skipped = []
    for _, path in backup_files(backup_dir):
        try:
            return read_backup(path), skipped
        except ValueError as error:
            skipped.append((path, str(error)))
    return None, skipped


class TrainingStateBackup(keras.callbacks.Callback):
    """The whole training state at each epoch end, crash-safe: what a resumed run needs (Section 5's
    90 epochs take days; a crash must not cost more than the epoch under way).

    At each epoch end it writes ``backup_dir/epoch-NNNNN.npz`` (NNNNN = epochs finished) through a
    temporary file and an atomic rename. The file holds every model variable (including the
    dropout layers' random-seed state, which ``save_weights`` leaves out), every optimizer variable
    (momentum, step count, learning rate) and the state of the ``stateful`` callbacks (the paper's
    learning-rate drops, the best checkpoint's value). The file name gives the epoch, so weights and
    epoch number can never disagree. The ``keep`` newest files stay (the older one is a second
    chance if the newest is damaged), also after the last epoch: they record that the run finished.

    Restoring is the caller's step, before ``fit``: ``newest_readable_backup`` then ``restore``; the
    data stream and the CSV log must then start at ``backup.epoch`` too.
    """

    def __init__(self, backup_dir: str, *, stateful=(), keep: int = 2):
        super().__init__()
        self.backup_dir, self.stateful, self.keep = backup_dir, list(stateful), keep

    @staticmethod
    def training_variables(model) -> list:
        optimizer = model.optimizer
        return list(model.variables) + (list(optimizer.variables) if optimizer else [])

    def restore(self, model, backup: Backup) -> None:
        """Put ``backup``'s values into ``model``, its optimizer and the stateful callbacks.

        Builds the optimizer first (call inside the strategy's scope). ``ValueError`` when the
        backup comes from a model or optimizer with other variables.
        """
        optimizer = model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables = self.training_variables(model)
        if len(backup.values) != len(variables) or any(
            tuple(v.shape) != np.shape(value) for v, value in zip(variables, backup.values)
        ):
            raise ValueError(
                f"backup {backup.path} holds other variables than this model and optimizer "
                f"({len(backup.values)} arrays for {len(variables)} variables): it comes from "
                f"another configuration; use another --output, or --restart to start over"
            )
        for variable, value in zip(variables, backup.values):
            variable.assign(value)
        for callback, callback_state in zip(self.stateful, backup.state["callbacks"]):
            callback.set_state(callback_state)

    def on_epoch_end(self, epoch, logs=None):
        values = [keras.ops.convert_to_numpy(v) for v in self.training_variables(self.model)]
        state = {"epoch": epoch + 1, "callbacks": [c.get_state() for c in self.stateful]}
        arrays = {f"v{i}": value for i, value in enumerate(values)}
        path = os.path.join(self.backup_dir, f"epoch-{epoch + 1:05d}.npz")

        def write(temporary):
            buffer = io.BytesIO()
            np.savez(buffer, count=len(values), state=json.dumps(state), **arrays)
            with open(temporary, "wb") as handle:
                handle.write(buffer.getvalue())

        write_atomically(path, write)
        for _, old in backup_files(self.backup_dir)[self.keep:]:
            os.remove(old)
