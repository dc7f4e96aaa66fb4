"""Notebook 03's figures: ReLU against tanh (Figure 1, Section 3.1)."""

from __future__ import annotations

import numpy as np

from alexnet_keras.plots.common import pyplot as _pyplot


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


def plot_training_error(errors_by_activation: dict, threshold: float, title: str = "", *,
                        ax=None, floor: float = 1e-3):
    """Training error against epochs, one curve per seed, the threshold dashed (the paper's Figure 1).

    ``errors_by_activation`` maps a label (``"relu"``, ``"tanh"``) to a list of per-seed lists of
    training errors, one value per epoch. ReLU curves are solid, tanh curves dashed, as in Figure 1.
    The error axis is logarithmic, so the region around a low threshold stays readable; errors
    below ``floor`` (an error of 0 included) are drawn at ``floor``. ``ax`` draws into an existing
    axes; the figure is returned either way.
    """
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
    else:
        fig = ax.figure
    styles = {"relu": ("tab:blue", "-"), "tanh": ("tab:red", "--")}
    top = threshold
    for label, runs in errors_by_activation.items():
        colour, linestyle = styles.get(label, (None, "-"))
        for index, errors in enumerate(runs):
            epochs = np.arange(1, len(errors) + 1)
            errors = np.maximum(np.asarray(errors, dtype=float), floor)
            top = max(top, float(errors.max()))
            ax.plot(epochs, errors, color=colour, linestyle=linestyle, alpha=0.8,
                    label=label if index == 0 else None)
    ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"{threshold:.0%} training error")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_yscale("log")
    ax.set_ylim(floor, min(1.0, 1.5 * top))
    ax.set_xlabel("epochs")
    ax.set_ylabel(f"training error rate (log scale; below {floor:g} drawn at {floor:g})", fontsize=9)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def plot_gradient_norms(runs_by_activation: dict, *, update_size: bool = False):
    """Per-layer gradient norms during training, one panel per run (log scale).

    ``runs_by_activation`` maps a label to an object with ``gradient_steps`` and ``gradient_norms``
    (``alexnet_keras.experiments.Run``). With ``update_size`` each norm is multiplied by the run's
    ``learning_rate``: the size of the plain-SGD step that gradient asks for (momentum makes the
    steady step about ten times that, for every run alike).
    """
    plt = _pyplot()
    labels = list(runs_by_activation)
    columns = min(2, len(labels))
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.4 * rows + 0.4), sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(labels):]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels):
        run = runs_by_activation[label]
        scale = run.learning_rate if update_size else 1.0
        for layer, norms in run.gradient_norms.items():
            ax.plot(run.gradient_steps, scale * np.asarray(norms), label=layer)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"{label} (lr {run.learning_rate:g})" if update_size else f"{label}: gradient norm per layer",
                     fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("learning rate x ||dL/dW||" if update_size else "||dL/dW|| (probe batch)")
    fig.tight_layout()
    return fig
