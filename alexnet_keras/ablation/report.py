"""The ablation protocol's files: CSV tables, predictions, provenance, the summary over seeds, the
step-0 statistics and the Figure 3 / Figure 4 numbers of the base recipe's runs."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import time

import numpy as np

from alexnet_keras.ablation import measures

PROVENANCE = "provenance.json"
RESULT_NAMES = ("runs", "summary", "comparisons", "censored", "init", "ensemble", "figures", "retrieval")
PREDICTIONS = "predictions.npz"
RUN_PREDICTIONS = "test_predictions.npz"  # each run folder's test softmax
ENSEMBLE_PAPER = "5 CNNs vs 1: top-1 40.7 -> 38.1%, top-5 18.2 -> 16.4% (ILSVRC-2012 val, Section 6)"
SUMMARY_COLUMNS = ("test_top1_error", "validation_top1_error", "train_val_gap", "seconds_per_epoch")


def read_rows(path: str) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: str, rows: list[dict]) -> None:
    """``rows`` as a CSV with the union of their keys as columns (None written as empty)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in row.items()} for row in rows])


def machine() -> str:
    """This machine in one line: cores, CPU model and whether it has AVX-512 (figures differ)."""
    try:
        with open("/proc/cpuinfo") as handle:
            info = handle.read()
    except OSError:
        info = ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{os.cpu_count()} cores, {model}, {platform.machine()}, AVX-512 "
            f"{'yes' if 'avx512f' in info else 'no'}")


def write_provenance(output: str, command: str, started: float, folders, **extra) -> dict:
    """``provenance.json`` beside the CSVs: what wrote them, where, when, and how long it took:
    ``wall_seconds``, this call's wall time, and the training seconds (``epochs.csv``, validation
    and checkpoints not counted) that the run ``folders`` recorded, however many calls and resumes
    they took. ``extra``: more keys (test_images, validation_images, seeds)."""
    import keras
    import tensorflow as tf

    training = sum(float(row["seconds"]) for folder in folders
                   for row in read_rows(os.path.join(folder, "epochs.csv")))
    record = {"command": command, "date": time.strftime("%Y-%m-%d"), "machine": machine(),
              "software": f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
                          f"Keras {keras.__version__}",
              "runs": len(folders), **extra, "wall_seconds": round(time.time() - started),
              "training_seconds_recorded": round(training)}
    with open(os.path.join(output, PROVENANCE), "w") as handle:
        json.dump(record, handle, indent=1)
    return record


def write_predictions(output: str, folders, runs: str) -> tuple[dict, np.ndarray]:
    """Gathers each run folder's test softmax into ``output/predictions.npz`` (float16, key
    "<run>|seed<s>", and "labels"); returns ({(run, seed): softmax float32}, labels)."""
    arrays, predictions, labels = {}, {}, None
    for folder in folders:
        run, seed = os.path.relpath(folder, runs).split(os.sep)[-2:]
        with np.load(os.path.join(folder, RUN_PREDICTIONS)) as stored:
            arrays[f"{run}|{seed}"] = stored["softmax"]
            if labels is not None and not np.array_equal(labels, stored["labels"]):
                raise ValueError(f"{folder} was scored on other test images than the other runs; "
                                 "delete its test_predictions.npz and run the protocol again")
            labels = stored["labels"]
        predictions[(run, int(seed.removeprefix("seed")))] = arrays[f"{run}|{seed}"].astype(np.float32)
    np.savez_compressed(os.path.join(output, PREDICTIONS), labels=labels, **arrays)
    return predictions, labels


def read_predictions(output: str) -> tuple[dict, np.ndarray]:
    """``predictions.npz`` as ({(run, seed): softmax float32}, labels)."""
    with np.load(os.path.join(output, PREDICTIONS)) as stored:
        labels = stored["labels"]
        return ({(k.split("|")[0], int(k.split("|")[1].removeprefix("seed"))): stored[k].astype(np.float32)
                 for k in stored.files if k != "labels"}, labels)


def read_results(output: str) -> dict:
    """The CSVs a protocol wrote under ``output``: ``{name: [row dict]}``, values as text."""
    return {name: read_rows(os.path.join(output, f"{name}.csv")) for name in RESULT_NAMES
            if os.path.exists(os.path.join(output, f"{name}.csv"))}


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _values(rows, column) -> list[float]:
    return [v for v in (_number(r.get(column)) for r in rows) if not math.isnan(v)]


def summarize(rows: list[dict], columns=SUMMARY_COLUMNS) -> list[dict]:
    """Per arm and setting (in the rows' order): the seeds, and the mean and standard deviation over
    them of each of ``columns`` (the censored measures are summarised in ``censored.csv``)."""
    summary = []
    for arm, setting in dict.fromkeys((r["arm"], r["setting"]) for r in rows):
        chosen = [r for r in rows if r["arm"] == arm and r["setting"] == setting]
        entry = {"arm": arm, "setting": setting, "seeds": len(chosen)}
        for column in columns:
            values = _values(chosen, column)
            entry[f"mean_{column}"] = float(np.mean(values)) if values else math.nan
            entry[f"std_{column}"] = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        summary.append(entry)
    return summary


def format_table(rows: list[dict], columns=None, digits: int = 3) -> str:
    """Rows as aligned text (numbers to ``digits`` decimals; empty and NaN as ``-``)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0])

    def cell(value):
        if isinstance(value, str) and not any(mark in value.lower() for mark in ".en"):
            return value or "-"  # labels and integers as written ("0", "2/2", "seed0")
        number = _number(value)
        if math.isnan(number):
            return "-" if value in (None, "") or not isinstance(value, str) or value == "nan" else value
        if isinstance(value, (int, np.integer)) or (isinstance(value, str) and "." not in value):
            return str(value)
        return f"{number:.{digits}f}"

    table = [columns] + [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    return "\n".join("  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip() for line in table)


# ---------------------------------------------------------------------------------------- data


def held_out_images(config, split: str = "validation", steps: int | None = None):
    """(images, labels) as numpy: the centre patches of ``split`` through the evaluation pipeline."""
    from alexnet_keras import data
    from alexnet_keras.data import augment

    source = data.load(config.dataset, split, data_dir=config.data_dir)
    stream = augment.evaluation_pipeline(source.dataset, batch_size=config.batch_size,
                                         image_size=config.image_size)
    batches = list(stream.take(steps) if steps else stream)
    return (np.concatenate([np.asarray(x) for x, _ in batches]),
            np.concatenate([np.asarray(y) for _, y in batches]))


def init_rows(config, images, labels, classes: int,
              normalizations=("batch", "lrn"), initializers=("paper", "keras", "he")) -> list[dict]:
    """``initial_statistics`` (Section 5) per initialisation, under the base's batch
    normalisation and under the paper's LRN (where the initial scale is not normalised away)."""
    import keras

    from alexnet_keras.model.architecture import alexnet

    rows = []
    for normalization in normalizations:
        for initializer in initializers:
            keras.utils.set_random_seed(config.seed)
            model = alexnet(config.variant, classes=classes, input_shape=images.shape[1:],
                            normalization=normalization, initializer=initializer,
                            dropout=config.dropout, activation=config.activation)
            for row in measures.initial_statistics(model, images, labels):
                rows.append({"normalization": normalization, "initializer": initializer, **row})
            keras.backend.clear_session()
    return rows


def checkpoint_figures(name: str, path: str, images, labels, k: int = 5):
    """One base checkpoint's Figures 3 and 4: conv1's mean chroma per tower and the towers'
    specialisation (``tower_specialisation``, Figure 3), and fc7 retrieval precision at ``k`` on the
    held-out ``images`` against the same retrieval on their pixels (Figure 4). Returns (its row, its
    rows per class, its conv1 kernel array), all small enough to keep with the run's record."""
    import keras

    pixels = measures.retrieval_precision(np.reshape(images, (len(images), -1)), labels, k)
    model = keras.models.load_model(path, compile=False)
    chroma = measures.tower_chroma(model)
    towers = measures.tower_specialisation(model)
    precision = measures.retrieval_precision(measures.fc7_features(model, images), labels, k)
    row = {"model": name, "chroma_tower1": chroma[0], "chroma_tower2": chroma[1],
           "chroma_gap": towers["gap"], "chroma_gap_p_value": towers["p_value"],
           f"fc7_precision_at_{k}": precision["mean"],
           f"pixel_precision_at_{k}": pixels["mean"], "chance": _retrieval_chance(labels)}
    by_class = [{"model": name, "class": c, f"fc7_precision_at_{k}": precision[c],
                 f"pixel_precision_at_{k}": pixels[c]} for c in precision if c != "mean"]
    kernel = np.asarray(model.get_layer("conv1").kernel)
    keras.backend.clear_session()
    return row, by_class, kernel


def save_conv1_kernels(kernel, png: str, name: str) -> None:
    """Figure 3 for one network: its conv1 kernels as ``png`` and, beside it, the array (.npy)."""
    import matplotlib.pyplot as plt

    np.save(os.path.splitext(png)[0] + ".npy", kernel)
    figure = measures.plot_conv1_kernels(kernel)
    figure.suptitle(f"conv1 kernels by tower (Figure 3), base recipe {name}")
    figure.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(figure)


def _retrieval_chance(labels) -> float:
    """The precision of neighbours drawn at random from the other images."""
    labels = np.asarray(labels)
    counts = np.array([np.sum(labels == label) for label in labels])
    return float(np.mean((counts - 1) / max(len(labels) - 1, 1)))
