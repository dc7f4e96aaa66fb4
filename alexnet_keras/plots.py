"""Figures: training curves (``plot_history``) and the notebooks' figure helpers."""

from __future__ import annotations

import csv
import os

import numpy as np


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
    panels = [("loss", "cross-entropy loss"), ("top1_error", "top-1 error"), ("top5_error", "top-5 error")]
    panels = [(key, title) for key, title in panels if key in history or f"val_{key}" in history]
    has_lr = "learning_rate" in history
    size = (4 * (len(panels) + has_lr), 3.2)
    if path is None:
        figure = _pyplot().figure(figsize=size)
    else:
        from matplotlib.figure import Figure

        figure = Figure(figsize=size)
    axes = figure.subplots(1, len(panels) + has_lr, squeeze=False)[0]
    for axis, (key, title) in zip(axes, panels):
        for prefix, label in (("", "training"), ("val_", "validation")):
            if prefix + key in history:
                axis.plot(epochs, history[prefix + key], marker="o", markersize=3, label=label)
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    if has_lr:
        axis = axes[-1]
        axis.plot(epochs, history["learning_rate"], marker="o", markersize=3, color="gray")
        if min(history["learning_rate"]) > 0:  # warm-up starts at 0, which a log axis cannot show
            axis.set_yscale("log")
        axis.set_title("learning rate (epoch's last step)")
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        figure.savefig(path, dpi=100)
    return figure


# ---------------------------------------------------------------------------------------------
# Notebook figures (notebooks 01, 03, 04; notebook helper). Each returns the matplotlib figure.
# ---------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_parameters_and_compute(rows, title: str = "AlexNet (paper variant)"):
    """Bar charts of parameters and multiply-accumulates per weighted layer (Section 3.5).

    ``rows`` is ``alexnet_keras.layer_table(model)``; layers without weights are left out.
    Convolutions and fully connected layers get different colours.
    """
    plt = _pyplot()
    weighted = [r for r in rows if r.parameters]
    names = [r.name for r in weighted]
    colours = ["tab:blue" if r.kind != "Dense" else "tab:orange" for r in weighted]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, values, label in (
        (axes[0], [r.parameters / 1e6 for r in weighted], "parameters (millions)"),
        (axes[1], [r.multiply_accumulates / 1e6 for r in weighted], "multiply-accumulates per image (millions)"),
    ):
        ax.bar(names, values, color=colours)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("tab:blue", "tab:orange")]
    axes[0].legend(handles, ["convolutional", "fully connected"], loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_lrn_effect(layer, centre_values, neighbour_values, n_channels: int = 5):
    """Output of the middle channel of an LRN window against its input (Section 3.3).

    The middle channel takes each value of ``centre_values``; its ``n_channels - 1`` neighbours all
    hold one value of ``neighbour_values`` per curve. ``layer`` is a
    ``LocalResponseNormalization`` (or any callable on a ``[..., channels]`` array).
    """
    from keras import ops

    plt = _pyplot()
    centre_values = np.asarray(centre_values, dtype="float32")
    middle = n_channels // 2
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(centre_values, centre_values, color="grey", linestyle=":", label="no normalisation (b = a)")
    for value in neighbour_values:
        x = np.full((len(centre_values), n_channels), value, dtype="float32")
        x[:, middle] = centre_values
        y = ops.convert_to_numpy(layer(x))[:, middle]
        ax.plot(centre_values, y, label=f"neighbours at {value:g}")
    ax.set_xlabel("input a of the middle channel")
    ax.set_ylabel("output b of the middle channel")
    ax.set_title("Local response normalisation, k=2, n=5, alpha=1e-4, beta=0.75")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_activation_derivatives(x=None):
    """ReLU, tanh and the logistic sigmoid, and their derivatives (Section 3.1).

    The saturating units' derivatives vanish away from zero; ReLU's is 1 for every positive input.
    """
    plt = _pyplot()
    x = np.linspace(-5, 5, 1001) if x is None else np.asarray(x)
    sigmoid = 1 / (1 + np.exp(-x))
    curves = {
        "ReLU  max(0, x)": (np.maximum(0, x), (x > 0).astype(float)),
        "tanh": (np.tanh(x), 1 - np.tanh(x) ** 2),
        "logistic sigmoid  1/(1+e^-x)": (sigmoid, sigmoid * (1 - sigmoid)),
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, (value, derivative) in curves.items():
        axes[0].plot(x, value, label=label)
        axes[1].plot(x, derivative, label=label)
    axes[0].set_ylim(-1.5, 3)
    axes[0].set_title("activation f(x)")
    axes[1].set_title("derivative f'(x)")
    for ax in axes:
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_training_error(errors_by_activation: dict, threshold: float, title: str = ""):
    """Training error against epochs, one curve per seed, the threshold dashed (the paper's Figure 1).

    ``errors_by_activation`` maps a label (``"relu"``, ``"tanh"``) to a list of per-seed lists of
    training errors, one value per epoch. ReLU curves are solid, tanh curves dashed, as in Figure 1.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = {"relu": ("tab:blue", "-"), "tanh": ("tab:red", "--")}
    for label, runs in errors_by_activation.items():
        colour, linestyle = styles.get(label, (None, "-"))
        for index, errors in enumerate(runs):
            epochs = np.arange(1, len(errors) + 1)
            ax.plot(epochs, errors, color=colour, linestyle=linestyle, alpha=0.8,
                    label=label if index == 0 else None)
    ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"{threshold:.0%} training error")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epochs")
    ax.set_ylabel("training error rate")
    ax.set_ylim(0, None)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_gradient_norms(runs_by_activation: dict):
    """Per-layer gradient norms during training, one panel per network (log scale).

    ``runs_by_activation`` maps a label to an object with ``gradient_steps`` and ``gradient_norms``
    (``alexnet_keras.experiments.Run``).
    """
    plt = _pyplot()
    labels = list(runs_by_activation)
    fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, label in zip(axes, labels):
        run = runs_by_activation[label]
        for layer, norms in run.gradient_norms.items():
            ax.plot(run.gradient_steps, norms, label=layer)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"{label}: gradient norm per layer")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("||dL/dW|| (probe batch)")
    fig.tight_layout()
    return fig


def _kernel_tiles(kernels: np.ndarray, columns: int) -> np.ndarray:
    """``[kh, kw, 3, n]`` kernels as one RGB image of tiles, each kernel scaled to 0..1 on its own."""
    kh, kw, _, n = kernels.shape
    rows = int(np.ceil(n / columns))
    canvas = np.ones(((kh + 1) * rows - 1, (kw + 1) * columns - 1, 3))
    for index in range(n):
        kernel = kernels[..., index]
        kernel = (kernel - kernel.min()) / max(float(kernel.max() - kernel.min()), 1e-12)
        r, c = divmod(index, columns)
        canvas[r * (kh + 1): r * (kh + 1) + kh, c * (kw + 1): c * (kw + 1) + kw] = kernel
    return canvas


def plot_conv1_kernels(kernel, towers: int = 2, columns: int = 16):
    """The conv1 kernels as RGB tiles, one panel per tower (the paper's Figure 3).

    ``kernel`` is conv1's ``[11, 11, 3, 96]`` weight. In the two-tower network the first half of the
    kernels feeds tower 1 (conv2's first group) and the second half tower 2; Figure 3 shows them as
    the top three and bottom three rows. Each tile is scaled to 0..1 on its own.
    """
    plt = _pyplot()
    kernel = np.asarray(kernel)
    per_tower = kernel.shape[-1] // towers
    fig, axes = plt.subplots(towers, 1, figsize=(columns * 0.6, towers * 2.2))
    axes = np.atleast_1d(axes)
    for t, ax in enumerate(axes):
        ax.imshow(_kernel_tiles(kernel[..., t * per_tower:(t + 1) * per_tower], columns), interpolation="nearest")
        ax.set_title(f"tower {t + 1}: conv1 kernels {t * per_tower + 1}-{(t + 1) * per_tower}")
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_nearest_neighbours(queries, neighbours, distances=None):
    """Query images (first column) and their nearest neighbours by feature distance (Figure 4).

    ``queries``: ``[Q, H, W, 3]``; ``neighbours``: ``[Q, K, H, W, 3]``; images in 0..255 or 0..1.
    ``distances`` (``[Q, K]``), when given, titles each neighbour.
    """
    plt = _pyplot()
    queries, neighbours = np.asarray(queries), np.asarray(neighbours)
    scale = 255.0 if max(queries.max(), neighbours.max()) > 1.5 else 1.0
    q, k = neighbours.shape[:2]
    fig, axes = plt.subplots(q, k + 1, figsize=(1.6 * (k + 1), 1.7 * q), squeeze=False)
    for i in range(q):
        axes[i, 0].imshow(np.clip(queries[i] / scale, 0, 1))
        axes[i, 0].set_title("query", fontsize=8)
        for j in range(k):
            axes[i, j + 1].imshow(np.clip(neighbours[i, j] / scale, 0, 1))
            if distances is not None:
                axes[i, j + 1].set_title(f"d={distances[i][j]:.3g}", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return fig
