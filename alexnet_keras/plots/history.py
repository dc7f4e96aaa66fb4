"""Training curves from the trainer's CSV log (``plot_history``, ``read_csv_log``)."""

from __future__ import annotations

import csv
import os

from alexnet_keras.plots.common import pyplot as _pyplot


def read_csv_log(path: str) -> dict[str, list[float]]:
    """The trainer's CSV log (``training_log.csv``, one row per epoch) as ``{column: [value per epoch]}``."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def _history_dict(history_or_csv_path) -> dict[str, list[float]]:
    if isinstance(history_or_csv_path, (str, os.PathLike)):
        return read_csv_log(history_or_csv_path)
    history = getattr(history_or_csv_path, "history", history_or_csv_path)  # keras History
    return {key: [float(v) for v in values] for key, values in dict(history).items()}


def plot_history(history_or_csv_path, path: str | None = None):
    """Plot loss, top-1 error and top-5 error (training and validation) per epoch, and the rate.

    Args:
        history_or_csv_path: a ``keras.callbacks.History``, a ``{metric: [value per epoch]}`` dict,
            or the path of the trainer's CSV log.
        path: where to save the PNG (folders are created). The figure is then drawn on its own
            ``matplotlib.figure.Figure``, outside pyplot: matplotlib's backend and pyplot's figures
            stay as they were (the trainer calls this). ``None``: a pyplot figure, for notebooks.

    Returns:
        The matplotlib figure.
    """
    history = _history_dict(history_or_csv_path)
    if not history:
        raise ValueError("the history is empty: nothing to plot")
    length = len(next(iter(history.values())))
    epochs = [int(e) + 1 for e in history["epoch"]] if "epoch" in history else list(range(1, length + 1))
    panels = [("loss", "cross-entropy loss", "loss (nats per image)"),
              ("top1_error", "top-1 error", "error rate (fraction of images)"),
              ("top5_error", "top-5 error", "error rate (fraction of images)")]
    panels = [panel for panel in panels if panel[0] in history or f"val_{panel[0]}" in history]
    has_lr = "learning_rate" in history
    count = len(panels) + has_lr
    columns = min(count, 2)  # two panels a row: 10 inches, 1,000 pixels at 100 dpi
    rows = -(-count // columns)
    size = (5 * columns, 3.1 * rows)
    if path is None:
        figure = _pyplot().figure(figsize=size)
    else:
        from matplotlib.figure import Figure

        figure = Figure(figsize=size)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis in axes[count:]:
        axis.set_visible(False)
    for axis, (key, title, ylabel) in zip(axes, panels):
        for prefix, label in (("", "training"), ("val_", "validation")):
            if prefix + key in history:
                axis.plot(epochs, history[prefix + key], marker="o", markersize=3, label=label)
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.legend()
    if has_lr:
        axis = axes[count - 1]
        axis.plot(epochs, history["learning_rate"], marker="o", markersize=3, color="gray")
        if min(history["learning_rate"]) > 0:  # warm-up starts at 0, which a log axis cannot show
            axis.set_yscale("log")
        axis.set_title("learning rate (epoch's last step)")
        axis.set_xlabel("epoch")
        axis.set_ylabel("learning rate (per step)")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        figure.savefig(path, dpi=100)
    return figure


# ---------------------------------------------------------------------------------------------
# Notebook figures (notebooks 01, 03, 04; notebook helper). Each returns the matplotlib figure.
# ---------------------------------------------------------------------------------------------
