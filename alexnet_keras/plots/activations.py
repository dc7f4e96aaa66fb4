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
