"""Notebook 01's figures: parameters and compute per layer, the two towers (Figure 2), LRN (Section 3.3)."""

from __future__ import annotations

import numpy as np

from alexnet_keras.plots.common import pyplot as _pyplot


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


def plot_two_towers(model, title: str | None = None):
    """The network as two towers, drawn from ``model``'s layers (the paper's Figure 2, Section 3.2).

    One column per weighted layer (``conv1`` ... ``fc8``), one box per tower holding that tower's
    share of the kernels (or neurons), labelled with kernel size, stride and output size, and what
    follows the layer (LRN, pooling). Arrows from the previous column: grey within a tower, red where
    a layer takes input from both towers. A ``TowerConv2D`` layer sees only its own tower; a plain
    ``Conv2D`` or ``Dense`` after a two-tower layer sees both; the last layer (fc8) is drawn as one
    box. Built from ``alexnet()``'s layers, so another variant draws its own connectivity.
    """
    import keras
    from matplotlib.patches import FancyArrowPatch, Rectangle

    from alexnet_keras.model.layers import LocalResponseNormalization, TowerConv2D

    plt = _pyplot()
    stages = []  # (layer, [names of the layers that follow it until the next weighted layer])
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense, TowerConv2D)):
            stages.append((layer, []))
        elif stages and isinstance(layer, (LocalResponseNormalization, keras.layers.MaxPooling2D,
                                           keras.layers.AveragePooling2D)):
            stages[-1][1].append(layer)
    towers = max((getattr(layer, "towers", 1) for layer, _ in stages), default=1)
    width, height, gap_x, gap_y = 1.55, 1.2, 0.45, 0.5
    tower_y = [(towers - 1 - t) * (height + gap_y) for t in range(towers)]  # tower 1 on top
    extent_x = (len(stages) + 1) * (width + gap_x) - gap_x
    extent_y = towers * (height + gap_y) - gap_y
    inches = 10.5 / extent_x  # 10.5 inches wide whatever the depth: 1,050 pixels at 100 dpi
    fig, ax = plt.subplots(figsize=(10.5, 1.1 + inches * extent_y))
    within, across = "0.55", "tab:red"

    def box(x, y, h, lines, colour):
        ax.add_patch(Rectangle((x, y), width, h, facecolor=colour, edgecolor="0.25", linewidth=1))
        ax.text(x + width / 2, y + h / 2, "\n".join(lines), ha="center", va="center", fontsize=7)

    def arrow(x0, y0, x1, y1, colour):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10,
                                     color=colour, linewidth=1.4 if colour == across else 1.0))

    side = model.input_shape[1]
    full_h = tower_y[0] + height - tower_y[-1]
    box(0, tower_y[-1], full_h, ["input", f"{side}x{side}x{model.input_shape[-1]}"], "0.93")
    previous = [(tower_y[-1], full_h)]  # (bottom, height) of each box of the previous column
    for column, (layer, followers) in enumerate(stages, start=1):
        x = column * (width + gap_x)
        is_last = column == len(stages)
        grouped = isinstance(layer, TowerConv2D)
        shape = tuple(layer.output.shape[1:])
        units = shape[-1]
        if isinstance(layer, keras.layers.Dense):
            detail = [f"{units} neurons" if is_last or towers == 1 else f"{units // towers}/{units}"]
        else:
            kernel = layer.kernel_size if isinstance(layer, TowerConv2D) else layer.kernel_size[0]
            stride = layer.strides if isinstance(layer, TowerConv2D) else layer.strides[0]
            kernel = kernel[0] if isinstance(kernel, (tuple, list)) else kernel
            stride = stride[0] if isinstance(stride, (tuple, list)) else stride
            detail = [f"{units // towers}/{units} kernels" if towers > 1 else f"{units} kernels",
                      f"{kernel}x{kernel}/{stride} -> {shape[0]}"]
        extras = [", ".join("LRN" if isinstance(f, LocalResponseNormalization) else
                            f"pool -> {f.output.shape[1]}" for f in followers)] if followers else []
        colour = "#dbe9f6" if not isinstance(layer, keras.layers.Dense) else "#fde4c8"
        boxes = [(tower_y[-1], full_h)] if is_last or towers == 1 else [(y, height) for y in tower_y]
        for t, (y, h) in enumerate(boxes):
            label = [layer.name + (f" (tower {t + 1})" if len(boxes) > 1 else "")]
            box(x, y, h, label + detail + extras, colour)
            x0 = x - gap_x
            for s, (py, ph) in enumerate(previous):
                own = len(previous) == len(boxes) and s == t
                if len(previous) > 1 and len(boxes) > 1 and grouped and not own:
                    continue  # a grouped layer sees only its own tower
                crosses = len(previous) > 1 and not own
                start_y = py + ph / 2 if len(previous) > 1 else y + h / 2
                arrow(x0, start_y, x, y + h / 2 + (0.12 * (s - t) if crosses else 0),
                      across if crosses else within)
        previous = boxes
    ax.plot([], [], color=within, label="within a tower")
    ax.plot([], [], color=across, linewidth=1.4, label="crosses towers (GPUs talk)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False, fontsize=9)
    ax.set_xlim(-0.1, len(stages) * (width + gap_x) + width + 0.1)
    ax.set_ylim(tower_y[-1] - 0.1, tower_y[0] + height + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"{model.name}: {towers} tower{'s' if towers > 1 else ''}, "
                 f"drawn from the model's layers")
    fig.tight_layout()
    return fig


def _lrn_window_sum(activations: np.ndarray, depth_radius: int) -> np.ndarray:
    """Sum of squares over each channel's window of ``2 * depth_radius + 1`` channels (Section 3.3)."""
    squared = np.asarray(activations, dtype="float64") ** 2
    pad = [(0, 0)] * (squared.ndim - 1) + [(depth_radius, depth_radius)]
    padded = np.pad(squared, pad)
    channels = squared.shape[-1]
    return sum(padded[..., o:o + channels] for o in range(2 * depth_radius + 1))


def plot_lrn_gain(layer, centre_values, neighbour_values, n_channels: int = 5):
    """LRN's output, and its gain output/input, for one channel whose neighbours are held fixed.

    Left: output ``b`` against input ``a`` of the middle channel, with the line ``b = k**-beta * a``
    that a quiet window gives. Right: the gain ``b / a``, which starts at ``k**-beta`` (0.59 for the
    paper's k=2, beta=0.75) and falls as the window's squares grow (Section 3.3). ``layer`` is a
    ``LocalResponseNormalization``.
    """
    from keras import ops

    plt = _pyplot()
    centre_values = np.asarray(centre_values, dtype="float32")
    middle = n_channels // 2
    quiet = layer.bias ** -layer.beta
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(centre_values, quiet * centre_values, color="grey", linestyle=":",
                 label=f"b = k^-beta a = {quiet:.3f} a (quiet window)")
    axes[1].axhline(quiet, color="grey", linestyle=":", label=f"k^-beta = {quiet:.3f}")
    top = 0.0
    for value in neighbour_values:
        x = np.full((len(centre_values), n_channels), value, dtype="float32")
        x[:, middle] = centre_values
        y = ops.convert_to_numpy(layer(x))[:, middle]
        top = max(top, float(y.max()))
        axes[0].plot(centre_values, y, label=f"neighbours at {value:g}")
        safe = np.where(centre_values > 0, centre_values, np.nan)
        axes[1].plot(centre_values, y / safe, label=f"neighbours at {value:g}")
    axes[0].set_ylim(0, 1.4 * top)  # the quiet-window line leaves the plot: the curves fill it
    axes[0].set_ylabel("output b of the middle channel")
    axes[1].set_ylabel("gain b / a")
    axes[1].set_ylim(0, quiet * 1.1)
    for ax in axes:
        ax.set_xlabel("input a of the middle channel")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Local response normalisation, k={layer.bias:g}, n={2 * layer.depth_radius + 1}, "
                 f"alpha={layer.alpha:g}, beta={layer.beta:g}")
    fig.tight_layout()
    return fig


def plot_lrn_on_activations(activations, layer):
    """Where LRN acts on real activations (Section 3.3): ``activations`` are a layer's ReLU outputs
    (``[..., channels]``), ``layer`` the ``LocalResponseNormalization`` that follows.

    Left: histogram of ``alpha * sum of squares`` over each unit's window, against ``k``: where it
    is small against ``k`` the layer is a constant scaling. Right: each unit's gain ``b / a``
    against its input ``a``, relative to that constant ``k**-beta``.
    """
    plt = _pyplot()
    a = np.asarray(activations, dtype="float64")
    term = layer.alpha * _lrn_window_sum(a, layer.depth_radius)
    positive = a > 0
    gain = (layer.bias + term[positive]) ** -layer.beta / layer.bias ** -layer.beta
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.logspace(np.log10(np.percentile(term[term > 0], 0.5)), np.log10(max(term.max(), layer.bias) * 1.2), 60)
    axes[0].hist(term[term > 0].ravel(), bins=bins, color="tab:blue")
    axes[0].axvline(layer.bias, color="tab:red", linestyle="--", label=f"k = {layer.bias:g}")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("alpha * sum of squares over the window")
    axes[0].set_ylabel("units")
    axes[0].legend()
    axes[1].hexbin(a[positive], gain, gridsize=60, bins="log", cmap="viridis", mincnt=1)
    axes[1].axhline(1.0, color="grey", linestyle=":", label="gain = k^-beta (no extra suppression)")
    axes[1].set_xlabel("input a (ReLU output)")
    axes[1].set_ylabel("gain / k^-beta")
    axes[1].legend(fontsize=8, loc="lower left")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
