"""Notebook 03's figures of the Figure 1 protocol (``alexnet_keras.figure1``; Section 3.1, Figure 1)."""

from __future__ import annotations

import math

import numpy as np

from alexnet_keras.plots.common import pyplot as _pyplot

COLOURS = {"relu": "tab:blue", "tanh": "tab:red"}
LABELS = {"relu": "ReLU", "tanh": "tanh"}
CELL_TITLES = {
    ("cuda-convnet", "raw"): "cuda-convnet start, raw pixels - mean (the paper's)",
    ("glorot", "raw"): "Keras' Glorot start, raw pixels - mean",
    ("cuda-convnet", "unit"): "cuda-convnet start, pixels / 255",
    ("glorot", "unit"): "Keras' Glorot start, pixels / 255",
}


def _cells(records):
    order = [("cuda-convnet", "raw"), ("glorot", "raw"), ("cuda-convnet", "unit"), ("glorot", "unit")]
    present = {(r["init"], r["input_scale"]) for r in records if "init" in r}
    return [c for c in order if c in present]


def _grid(count):
    plt = _pyplot()
    rows = math.ceil(count / 2)
    fig, axes = plt.subplots(rows, 2, figsize=(10.5, 3.6 * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def plot_rate_search(records: list[dict]):
    """Steps to the threshold against the learning rate, per cell: every search run (open triangles
    for runs that did not reach it, drawn at the step where they stopped) and each rate's median."""
    search = [r for r in records if r.get("role") == "search"]
    cells = _cells(search)
    fig, axes = _grid(len(cells))
    for ax, (init, scale) in zip(axes, cells):
        for activation in ("relu", "tanh"):
            runs = [r for r in search if (r["init"], r["input_scale"], r["activation"])
                    == (init, scale, activation)]
            if not runs:
                continue
            colour = COLOURS[activation]
            reached = [r for r in runs if r["steps_to_threshold"]]
            censored = [r for r in runs if not r["steps_to_threshold"] and not r["diverged"]]
            diverged = [r for r in runs if r["diverged"]]
            ax.scatter([r["learning_rate"] for r in reached], [r["steps_to_threshold"] for r in reached],
                       color=colour, s=22, label=f"{LABELS[activation]}: reached")
            ax.scatter([r["learning_rate"] for r in censored], [r["budget_steps"] for r in censored],
                       facecolors="none", edgecolors=colour, marker="^", s=30,
                       label=f"{LABELS[activation]}: not reached by its last step (shown)")
            ax.scatter([r["learning_rate"] for r in diverged], [r["budget_steps"] for r in diverged],
                       color=colour, marker="x", s=30, label=f"{LABELS[activation]}: diverged")
            rates = sorted({r["learning_rate"] for r in runs})
            medians = [np.median([r["steps_to_threshold"] or math.inf for r in runs
                                  if r["learning_rate"] == q]) for q in rates]
            finite = [(q, m) for q, m in zip(rates, medians) if math.isfinite(m)]
            if finite:
                ax.plot(*zip(*finite), color=colour, alpha=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("SGD steps to the threshold")
        ax.set_title(CELL_TITLES[init, scale])
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9)
    fig.suptitle("Learning-rate search: steps to the threshold per rate (search seeds; line: median)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _band(curves):
    """(steps, median, low, high) over runs; a run that stopped keeps its last error."""
    steps = sorted({s for c in curves for s in c[0]})
    values = np.array([np.interp(steps, c[0], c[1], right=c[1][-1]) for c in curves])
    return np.array(steps), np.median(values, 0), values.min(0), values.max(0)


def plot_threshold_curves(records: list[dict], threshold: float):
    """The paper's Figure 1, per cell: training error against SGD steps for each activation at its
    chosen rate, median (line) and range (band) over the final seeds, the threshold dashed. An
    activation whose final runs are not there yet is drawn from its best rate's search runs, dotted."""
    cells = _cells(records)
    fig, axes = _grid(len(cells))
    for ax, (init, scale) in zip(axes, cells):
        for activation in ("relu", "tanh"):
            mine = [r for r in records if r.get("role") in ("search", "final") and
                    (r["init"], r["input_scale"], r["activation"]) == (init, scale, activation)]
            finals = [r for r in mine if r["role"] == "final"]
            style, note = "-", f"{len(finals)} final seeds"
            if not finals and mine:
                reached = [r for r in mine if r["steps_to_threshold"]]
                if reached:
                    best = min(reached, key=lambda r: r["steps_to_threshold"])["learning_rate"]
                    note = "search runs; final seeds not run yet"
                else:
                    best = min(mine, key=lambda r: r["final_train_error"])["learning_rate"]
                    note = "search runs; none reached the threshold"
                finals = [r for r in mine if r["learning_rate"] == best]
                style = ":"
            if not finals:
                continue
            steps, median, low, high = _band([(r["curve_steps"], r["curve_errors"]) for r in finals])
            colour = COLOURS[activation]
            ax.plot(steps, median, style, color=colour,
                    label=f"{LABELS[activation]}, lr {finals[0]['learning_rate']:.2g} ({note})")
            ax.fill_between(steps, low, high, color=colour, alpha=0.15)
        ax.axhline(threshold, color="black", ls="--", lw=1)
        ax.text(0, threshold - 0.01, f"threshold {threshold:.0%}", va="top", ha="left", fontsize=9)
        ax.set_ylim(0, 0.95)
        ax.set_xlabel("SGD steps (batch of 128)")
        ax.set_ylabel("training error")
        ax.set_title(CELL_TITLES[init, scale])
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle("Figure 1 redrawn: training error against steps (line: median; band: range over seeds)")
    fig.tight_layout()
    return fig
