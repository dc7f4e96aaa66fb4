"""One ablation run: train it (``StepLog`` adds each step's loss and each epoch's seconds), score it
once on the test split, measure it, check a folder holds the same run, and keep its small files as
the record that is committed. ``alexnet_keras.ablation.protocol`` runs the arms through these.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time

import keras
import numpy as np

from alexnet_keras.ablation import measures, report
from alexnet_keras.ablation.report import read_rows
from alexnet_keras.plots import read_csv_log
from alexnet_keras.training.config import TrainConfig

TEST = "test_top1_error"
PREDICTIONS = report.RUN_PREDICTIONS
# What ``keep_run`` keeps of a finished run folder (everything ``measure_run`` reads)
RECORD_FILES = ("config.json", "training_log.csv", "epochs.csv", "steps.csv", PREDICTIONS)


class StepLog(keras.callbacks.Callback):
    """Appends each step's running loss (``steps.csv``) and each epoch's training seconds
    (``epochs.csv``) to a run folder at the end of every epoch; the CSV log has neither."""

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._rows, self._start = epoch, [], time.perf_counter()
        self._end = self._start

    def on_train_batch_end(self, batch, logs=None):
        self._rows.append((self._epoch, batch, float((logs or {})["loss"])))
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        _append(os.path.join(self.folder, "steps.csv"), ("epoch", "batch", "running_loss"), self._rows)
        _append(os.path.join(self.folder, "epochs.csv"), ("epoch", "seconds"),
                [(epoch, self._end - self._start)])


def _append(path, header, rows):
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(header)
        writer.writerows(rows)


def step_losses(folder: str) -> list[float]:
    """Each training step's loss, in order, from ``steps.csv`` (a resumed epoch's rows replace
    those of its interrupted attempt)."""
    latest = {}
    for row in read_rows(os.path.join(folder, "steps.csv")):
        latest[(int(row["epoch"]), int(row["batch"]))] = float(row["running_loss"])
    losses = []
    for epoch in sorted({e for e, _ in latest}):
        losses += measures.batch_losses([latest[key] for key in sorted(latest) if key[0] == epoch])
    return losses


def measure_run(folder: str) -> dict:
    """A run folder's numbers (the CSV columns; definitions in ``alexnet_keras.ablation.measures``):
    the last epoch's validation error, its test error from ``test_predictions.npz``, the censored
    measures (None: not reached within the run)."""
    history = read_csv_log(os.path.join(folder, "training_log.csv"))
    val, train = history["val_top1_error"], history["top1_error"]
    seconds = [float(r["seconds"]) for r in read_rows(os.path.join(folder, "epochs.csv"))]
    losses = step_losses(folder)
    with np.load(os.path.join(folder, PREDICTIONS)) as stored:
        softmax, labels = stored["softmax"].astype(np.float32), stored["labels"]
    from alexnet_keras.training.metrics import top_k_errors

    test = top_k_errors(softmax, labels)
    classes = softmax.shape[-1]
    return {
        "epochs": len(val), "steps_per_epoch": len(losses) // max(len(val), 1),
        TEST: test["top1_error"], "test_top5_error": test["top5_error"], "test_images": len(labels),
        "validation_top1_error": val[-1], "best_validation_top1_error": min(val),
        "final_train_top1_error": train[-1], "train_val_gap": val[-1] - train[-1],
        "epochs_to_converge": measures.epochs_to_converge(val),
        # the first epoch also traces and compiles
        "seconds_per_epoch": float(np.median(seconds[1:] or seconds)),
        "plateau_exit_step": measures.plateau_exit_step(losses, classes),
        "initial_loss": losses[0],
    }


def train_run(config: TrainConfig, test_steps: int | None = None, score_test: bool = True) -> None:
    """Train (or resume, or read back) one run, then score its last checkpoint on the test split
    once (``test_predictions.npz``, kept: a finished run is not scored again). ``score_test=False``
    (a run that only helps choose, as in ``alexnet_keras.ablation.rates``): the test split stays
    untouched."""
    from alexnet_keras.training.fit import fit
    from alexnet_keras.training.scoring import split_predictions

    result = fit(config, callbacks=[StepLog(config.output)])
    path = os.path.join(config.output, PREDICTIONS)
    if score_test and not os.path.exists(path):
        softmax, labels = split_predictions(result.model, config, steps=test_steps)
        np.savez_compressed(path + ".tmp.npz", softmax=softmax.astype(np.float16), labels=labels)
        os.replace(path + ".tmp.npz", path)
    keras.backend.clear_session()


def check_same_run(folder: str, config: TrainConfig) -> None:
    """Refuses a run folder or record made with other settings than ``config`` (``epochs`` too,
    which ``fit`` would let a resume change: a finished 24-epoch cosine run "resumed" to 48 epochs
    is neither recipe), naming the fields; a folder without ``config.json`` passes."""
    from alexnet_keras.training.run_folder import recorded_differences

    refused, allowed = recorded_differences(folder, config)
    differ = {**refused, **{k: v for k, v in allowed.items() if k == "epochs"}}
    if differ:
        fields = ", ".join(f"{k} {was!r} there, {now!r} now" for k, (was, now) in differ.items())
        raise ValueError(f"{folder} holds a run made with other settings ({fields}); move it aside "
                         "(or give the protocol other --runs and --output folders) and run again")


def keep_run(folder: str, record: str, figures=None, files=RECORD_FILES, **about) -> None:
    """Copies a finished run's small files (``files``, by default ``RECORD_FILES``: its logs, test
    softmax and configuration; ``run.json``: machine and date, and ``about``) from ``folder`` to
    ``record``, the folder that is committed: the checkpoints stay behind (hundreds of MB each).
    ``figures``: a base run's (row, rows per class, conv1 kernel) from
    ``report.checkpoint_figures``. Written whole or not at all (a temporary folder renamed), so an
    interruption never leaves half a record."""
    partial = record + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    for name in files:
        shutil.copy2(os.path.join(folder, name), partial)
    about = {"machine": report.machine(), "date": time.strftime("%Y-%m-%d"), "trained_in": folder,
             **about}
    if figures is not None:
        row, by_class, kernel = figures
        about.update(figures=row, retrieval=by_class)
        np.save(os.path.join(partial, "conv1_kernels.npy"), kernel)
    with open(os.path.join(partial, "run.json"), "w") as handle:
        json.dump(about, handle, indent=1)
    os.replace(partial, record)
