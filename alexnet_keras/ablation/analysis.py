"""Each arm's comparison as the numbers can decide it: paired over seeds, with the bootstrap over
seeds and test images where per-image predictions exist, Holm over the family of arms, the minimum
detectable effect, and censored measures as censored (definitions: ``alexnet_keras.ablation.stats``).

``compare`` writes the rows of ``comparisons.csv``; ``verdict`` says in one sentence what a row
supports, and ``markdown_table`` puts the rows and their verdicts in the README's table;
``censored_rows`` and ``ensemble_rows`` are the tables beside it.
"""

from __future__ import annotations

import math

import numpy as np

from alexnet_keras.ablation import stats
from alexnet_keras.training.metrics import top_k_errors, true_class_rank

HOLM_ALPHA = 0.05
COLUMNS = ("arm", "metric", "treatment", "control", "pairs", "difference", "low", "high", "p_value",
           "p_holm", "mde", "paper_difference", "boot_low", "boot_high", "sd_difference", "censored",
           "paper")
# How each metric is shown: (scale, unit); errors are stored as fractions, shown in points.
UNITS = {"epochs_to_converge": (1, "epochs"), "plateau_exit_step": (1, "steps")}
POINTS = (100, "points")


def number(value) -> float:
    """A CSV cell as a float; empty, None or text: NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def budget(row: dict, metric: str) -> float:
    """The budget a censored ``metric`` of a run is censored at: its epochs, or its steps."""
    epochs = number(row.get("epochs"))
    if metric == "plateau_exit_step":
        return epochs * number(row.get("steps_per_epoch"))
    return epochs


def _by_seed(rows, arm, setting, metric, censored):
    chosen = {int(r["seed"]): r for r in rows if r["arm"] == arm.name and r["setting"] == setting}
    if not censored:
        return {s: number(r.get(metric)) for s, r in chosen.items()}
    return {s: float(stats.restricted([None if math.isnan(number(r.get(metric))) else
                                       number(r.get(metric))], budget(r, metric))[0])
            for s, r in chosen.items()}


def compare(rows: list[dict], arms, censored_metrics=(), predictions: dict | None = None,
            labels=None) -> list[dict]:
    """One row per arm (``COLUMNS``): treatment - control of the arm's metric over the seeds both
    settings have, paired; a censored metric as its restricted value min(time, budget); Holm over
    the arms with a p-value. ``predictions``: ``{(run, seed): softmax}`` with ``labels``, for the
    bootstrap over seeds and test images of a top-1 error metric."""
    out = []
    for arm in arms:
        censored = arm.metric in censored_metrics
        treatment = _by_seed(rows, arm, arm.treatment, arm.metric, censored)
        control = _by_seed(rows, arm, arm.control, arm.metric, censored)
        seeds = sorted(s for s in set(treatment) & set(control)
                       if not (math.isnan(treatment[s]) or math.isnan(control[s])))
        if not seeds:
            continue
        row = {"arm": arm.name, "metric": arm.metric, "treatment": arm.treatment,
               "control": arm.control, "censored": censored,
               **stats.paired_comparison([treatment[s] for s in seeds], [control[s] for s in seeds]),
               "paper_difference": arm.paper_difference, "paper": arm.paper,
               "boot_low": math.nan, "boot_high": math.nan}
        if predictions is not None and arm.metric.endswith("top1_error"):
            runs = {setting: _run_of(rows, arm, setting) for setting in (arm.treatment, arm.control)}
            errors = [np.stack([true_class_rank(predictions[(runs[side], s)], labels) >= 1
                                for s in seeds]) for side in (arm.treatment, arm.control)]
            boot = stats.bootstrap_difference(*errors)
            row.update(boot_low=boot["boot_low"], boot_high=boot["boot_high"])
        out.append(row)
    for row, adjusted in zip(out, stats.holm([r["p_value"] for r in out])):
        row["p_holm"] = adjusted
    return [{column: row.get(column) for column in COLUMNS} for row in out]


def _run_of(rows, arm, setting) -> str:
    return next(r["run"] for r in rows if r["arm"] == arm.name and r["setting"] == setting)


def verdict(row: dict, scale: float = 100.0, unit: str = "points") -> str:
    """What the row supports: "resolved (Holm p = .. < 0.05), in the paper's direction" (or not,
    or no paper figure), or "not resolvable here: smallest detectable effect x, the paper's y"."""
    p_holm, paper, mde = (number(row.get(k)) for k in ("p_holm", "paper_difference", "mde"))
    direction = _resolved_direction(row)
    if direction:
        return f"resolved (Holm p = {p_holm:.3f} < {HOLM_ALPHA}), {direction}"
    paper_text = "none" if math.isnan(paper) else f"{scale * paper:+.1f}"
    return (f"not resolvable here: smallest detectable effect {scale * mde:.1f} {unit}, "
            f"the paper's {paper_text}")


def markdown_table(rows: list[dict]) -> str:
    """``comparisons.csv`` as a Markdown table: per arm the paired difference (treatment - control)
    with its 95% interval, Holm's p, the smallest detectable effect, ``verdict`` and the paper."""
    lines = ["| arm: treatment - control | metric | difference (95% interval) | Holm p | "
             "smallest detectable | what it supports | the paper |", "|---" * 7 + "|"]
    for row in rows:
        scale, unit = UNITS.get(row["metric"], POINTS)
        difference, low, high, mde = (scale * number(row[k]) for k in ("difference", "low", "high", "mde"))
        direction = _resolved_direction(row)
        supports = f"resolved, {direction}" if direction else "not resolvable here"
        lines.append(
            f"| {row['arm']}: {row['treatment']} - {row['control']} | {row['metric']} | "
            f"{difference:+.1f} {unit} ({low:+.1f} to {high:+.1f}) | {_p(number(row['p_holm']))} | "
            f"{mde:.1f} {unit} | {supports} | "
            f"{row['paper']} |")
    return "\n".join(lines)


def _resolved_direction(row: dict) -> str | None:
    """For a row resolved after Holm, how its difference stands to the paper's; None otherwise."""
    p_holm, paper, difference = (number(row.get(k)) for k in ("p_holm", "paper_difference", "difference"))
    if math.isnan(p_holm) or p_holm >= HOLM_ALPHA:
        return None
    if math.isnan(paper):
        return "the paper gives no figure for this difference"
    same = np.sign(difference) == np.sign(paper)
    return "in the paper's direction" if same else "against the paper's direction"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def censored_rows(rows: list[dict], arms, metric: str) -> list[dict]:
    """Per arm and setting: ``stats.censored_summary`` of ``metric`` over its seeds."""
    out = []
    for arm in arms:
        for setting in arm.settings:
            chosen = [r for r in rows if r["arm"] == arm.name and r["setting"] == setting]
            if not chosen:
                continue
            times = [None if math.isnan(number(r.get(metric))) else number(r.get(metric))
                     for r in chosen]
            out.append({"arm": arm.name, "setting": setting, "metric": metric,
                        **stats.censored_summary(times, budget(chosen[0], metric))})
    return out


def ensemble_rows(softmax: dict, labels, validation_errors: dict) -> list[dict]:
    """``softmax``: {member: [N, classes]} on the test images. Each member alone, the mean member,
    the member with the lowest validation error (chosen without the test split) and the average
    of all softmax outputs (Section 6). The mean-member and best-member rows also hold the
    ensemble's top-1 error minus theirs (``ensemble_minus``) with a 95% bootstrap interval over
    the test images (``low``, ``high``; the members are fixed, so images are the only noise)."""
    rows = [{"model": name, "members": 1, **top_k_errors(s, labels)} for name, s in softmax.items()]
    keys = ("top1_error", "top5_error")
    wrong = {name: (true_class_rank(s, labels) >= 1).astype(float) for name, s in softmax.items()}
    together = np.mean(list(softmax.values()), axis=0)
    ensemble_wrong = (true_class_rank(together, labels) >= 1).astype(float)

    def against(member_wrong):
        boot = stats.bootstrap_difference(ensemble_wrong[None], member_wrong[None])
        return {"ensemble_minus": boot["difference"], "low": boot["boot_low"],
                "high": boot["boot_high"]}

    rows.append({"model": "mean member", "members": 1,
                 **{k: float(np.mean([r[k] for r in rows])) for k in keys},
                 **against(np.mean(list(wrong.values()), axis=0))})
    chosen = min(validation_errors, key=validation_errors.get)
    rows.append({"model": f"best member on validation ({chosen})", "members": 1,
                 **next({k: r[k] for k in keys} for r in rows if r["model"] == chosen),
                 **against(wrong[chosen])})
    rows.append({"model": "ensemble", "members": len(softmax), **top_k_errors(together, labels)})
    columns = ("model", "members", *keys, "ensemble_minus", "low", "high")
    return [{**{c: row.get(c, "") for c in columns}, "examples": int(len(labels))} for row in rows]
