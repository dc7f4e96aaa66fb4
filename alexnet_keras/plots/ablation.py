"""Notebook 05's figures of the ablation protocol (``alexnet_keras.ablation``): each seed's result
per setting, and each arm's paired difference beside the paper's figure (Sections 3.2-4.2)."""

from __future__ import annotations

import math

from alexnet_keras.plots.common import pyplot as _pyplot


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def plot_seeds(runs: list[dict], arms, column: str, *, scale: float = 100.0, chance: float | None = None,
               xlabel: str = "top-1 error (%)", title: str | None = None):
    """One row per arm and setting, one dot per seed (coloured by seed, so a seed can be followed
    from setting to setting): ``column`` of the ``runs.csv`` rows, times ``scale``."""
    plt = _pyplot()
    labels, points = [], []
    for arm in arms:
        for setting in arm.settings:
            labels.append(f"{arm.name}: {setting}")
            points.append({int(r["seed"]): scale * _number(r[column]) for r in runs
                           if r["arm"] == arm.name and r["setting"] == setting})
    figure, axis = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.4), layout="constrained")
    seeds = sorted({s for values in points for s in values})
    for row, values in enumerate(points):
        for seed, value in values.items():
            axis.scatter(value, row, s=22, color=f"C{seed}")
    for seed in seeds:  # one legend entry per seed, whichever rows it has
        axis.scatter([], [], s=22, color=f"C{seed}", label=f"seed {seed}")
    if chance is not None:
        axis.axvline(scale * chance, color="grey", linestyle=":", label=f"chance ({scale * chance:g})")
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()
    axis.set(xlabel=xlabel, title=title)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    return figure


def plot_paired_differences(comparisons: list[dict], *, title: str, scale: float = 100.0,
                            xlabel: str = "top-1 error difference, treatment - control (points)",
                            paper_title: str = "Paper: ImageNet", paper_xlim=(-2.5, 1)):
    """Left: each comparison's mean paired difference with its 95% interval over seeds, on a grey
    band of +- its minimum detectable effect. Right, on its own axis (other data, other scale): the
    paper's figure for the same difference, or "no figure" where it gives none."""
    plt = _pyplot()
    figure, (ours, paper) = plt.subplots(
        1, 2, figsize=(10, 0.45 * len(comparisons) + 2.2), sharey=True, layout="constrained",
        gridspec_kw={"width_ratios": [2.2, 1]})
    for row, r in enumerate(comparisons):
        low, high, mean, mde = (scale * _number(r[k]) for k in ("low", "high", "difference", "mde"))
        ours.fill_betweenx([row - 0.3, row + 0.3], -mde, mde, color="0.9",
                           label="± smallest detectable effect" if row == 0 else None)
        ours.plot([low, high], [row, row], color="tab:blue")
        ours.plot(mean, row, "o", color="tab:blue",
                  label="paired difference, 95% interval" if row == 0 else None)
        figure_of_paper = _number(r.get("paper_difference"))
        if math.isnan(figure_of_paper):
            paper.text(sum(paper_xlim) / 2, row, "no figure", ha="center", va="center")
        else:
            paper.plot(scale * figure_of_paper, row, "x", color="tab:red", markersize=9)
    for axis in (ours, paper):
        axis.axvline(0, color="grey", linewidth=0.8)
    ours.set_yticks(range(len(comparisons)),
                    [f"{r['arm']}: {r['treatment']} - {r['control']}" for r in comparisons])
    ours.invert_yaxis()
    ours.set(xlabel=xlabel, title=title)
    ours.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=2)
    paper.set(xlabel="top-1 error difference (points)", title=paper_title, xlim=paper_xlim)
    return figure
