"""The test split, touched once per run, after training.

Epochs, checkpoints and learning rates are chosen on the validation split; a number reported as a
test result comes from images that took no part in any choice. ``test_report`` scores the two
checkpoints a run keeps: ``best.keras``, the epoch chosen on validation (the lowest validation top-1
error), and ``last.keras``, and writes ``test_metrics.json`` in the run folder. ``python -m
alexnet_keras train --demo`` calls it after training; the ablation protocol keeps each run's
per-image test softmax (``split_predictions``).
"""

from __future__ import annotations

import json
import os

import numpy as np

from alexnet_keras.plots import read_csv_log
from alexnet_keras.training.metrics import top_k_errors

TEST_METRICS = "test_metrics.json"


def split_predictions(model, config, split: str = "test", steps: int | None = None):
    """(softmax [N, classes] float32, labels [N]) of ``model`` on ``split`` of ``config``'s data
    set: centre patches through the evaluation pipeline, in the split's fixed order."""
    from alexnet_keras import data
    from alexnet_keras.data import augment

    source = data.load(config.dataset, split, data_dir=config.data_dir, path=config.data_path)
    stream = augment.evaluation_pipeline(source.dataset, batch_size=config.batch_size,
                                         image_size=model.input_shape[1])
    scores, labels = [], []
    for images, batch_labels in (stream.take(steps) if steps else stream):
        scores.append(np.asarray(model(images, training=False), np.float32))
        labels.append(np.asarray(batch_labels))
    return np.concatenate(scores), np.concatenate(labels)


def test_report(config, paths: dict, steps: int | None = None) -> dict:
    """Test top-1/top-5 error of the validation-chosen checkpoint and of the last one; written to
    ``test_metrics.json`` in the run folder and returned. ``steps``: at most that many batches
    (a smoke test; the full split otherwise)."""
    import keras

    history = read_csv_log(paths["csv"])
    validation = [float(v) for v in history["val_top1_error"]]
    chosen = int(np.argmin(validation))  # best.keras: the first epoch with the lowest value
    report = {"split": "test", "chosen_on": "validation top-1 error"}
    for name, path, epoch in (("validation_chosen", paths["best"], chosen),
                              ("last", paths["last"], len(validation) - 1)):
        model = keras.models.load_model(path, compile=False)
        scores, labels = split_predictions(model, config, steps=steps)
        report[name] = {"checkpoint": os.path.basename(path), "epoch": epoch + 1,
                        "validation_top1_error": validation[epoch],
                        **{f"test_{k}": v for k, v in top_k_errors(scores, labels).items()}}
        report["test_images"] = int(len(labels))
        keras.backend.clear_session()
    with open(os.path.join(config.output, TEST_METRICS), "w") as handle:
        json.dump(report, handle, indent=1)
    return report


def format_test_report(report: dict) -> str:
    """Two lines: the test errors of the validation-chosen epoch and of the last epoch."""
    lines = []
    for name, label in (("validation_chosen", "epoch chosen on validation"), ("last", "last epoch")):
        entry = report[name]
        lines.append(f"test ({report['test_images']} images), {label} ({entry['epoch']}): top-1 error "
                     f"{entry['test_top1_error']:.4f} (accuracy {1 - entry['test_top1_error']:.4f}), "
                     f"top-5 error {entry['test_top5_error']:.4f}")
    return "\n".join(lines)
