"""Tables of the Figure 1 protocol: ``runs.csv``, ``ratios.csv``, ``start.csv`` and ``provenance.json``.

The ratio of a cell (initialisation x input scale) is tanh's median steps to the threshold over
ReLU's, on the final seeds only, with a bootstrap 95% interval over seeds (each activation's seeds
resampled on their own). A run that never reached the threshold counts as infinitely long (censored,
not dropped): a median that is infinite makes the ratio infinite (tanh) or zero (ReLU), and the
counts ``relu_reached`` / ``tanh_reached`` say how many got there.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from alexnet_keras.figure1.protocol import Settings, Store, median_steps

RUN_COLUMNS = ("run", "arm", "activation", "init", "input_scale", "learning_rate", "seed", "role",
               "steps_to_threshold", "final_train_error", "steps_trained", "budget_steps", "diverged",
               "seconds")
RATIO_COLUMNS = ("init", "input_scale", "relu_learning_rate", "tanh_learning_rate", "relu_median",
                 "tanh_median", "ratio", "low", "high", "relu_reached", "tanh_reached", "seeds")


def _steps(records):
    return np.array([r["steps_to_threshold"] or math.inf for r in records], float)


def bootstrap_ratio(relu: np.ndarray, tanh: np.ndarray, *, draws: int = 10_000, seed: int = 0):
    """(low, high): the 2.5th and 97.5th percentiles of median(tanh*) / median(relu*) over bootstrap
    resamples of each activation's seeds. Infinite steps (censored) stay infinite."""
    rng = np.random.default_rng(seed)
    a = np.median(rng.choice(tanh, (draws, len(tanh))), axis=1)
    b = np.median(rng.choice(relu, (draws, len(relu))), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isinf(a) & np.isinf(b), np.nan, a / b)
    ratios = np.sort(ratios[~np.isnan(ratios)])
    if len(ratios) == 0:
        return math.nan, math.nan
    return float(ratios[int(0.025 * (len(ratios) - 1))]), float(ratios[int(0.975 * (len(ratios) - 1))])


def ratios(store: Store, settings: Settings) -> list[dict]:
    rows = []
    for init, scale in settings.cells:
        finals = {a: [r for r in store.runs.values() if r.get("role") == "final" and r["init"] == init
                      and r["input_scale"] == scale and r["activation"] == a] for a in ("relu", "tanh")}
        if not finals["relu"] or not finals["tanh"]:
            continue
        relu, tanh = _steps(finals["relu"]), _steps(finals["tanh"])
        low, high = bootstrap_ratio(relu, tanh)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = float(np.median(tanh) / np.median(relu))
        rows.append({
            "init": init, "input_scale": scale,
            "relu_learning_rate": finals["relu"][0]["learning_rate"],
            "tanh_learning_rate": finals["tanh"][0]["learning_rate"],
            "relu_median": median_steps(finals["relu"]), "tanh_median": median_steps(finals["tanh"]),
            "ratio": ratio, "low": low, "high": high,
            "relu_reached": int(np.isfinite(relu).sum()), "tanh_reached": int(np.isfinite(tanh).sum()),
            "seeds": min(len(relu), len(tanh)),
        })
    return rows


def _write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})


def write_tables(store: Store, settings: Settings, provenance: dict) -> list[dict]:
    """Writes runs.csv, ratios.csv, start.csv and provenance.json into the store's folder."""
    runs = sorted((r for r in store.runs.values() if r.get("role") in ("search", "final")),
                  key=lambda r: (r["arm"], r["role"], r["learning_rate"], r["seed"]))
    _write_csv(store.root / "runs.csv", RUN_COLUMNS, runs)
    table = ratios(store, settings)
    _write_csv(store.root / "ratios.csv", RATIO_COLUMNS, table)
    starts = [r for r in store.runs.values() if r.get("role") == "start"]
    if starts:
        columns = ["arm", "learning_rate", "rate_position"] + sorted(
            k for k in starts[0] if k.startswith(("saturated_", "update_ratio_")))
        _write_csv(store.root / "start.csv", columns, sorted(starts, key=lambda r: r["arm"]))
    (store.root / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    return table


def format_table(rows: list[dict]) -> str:
    lines = [f"{'init':<13}{'input':<6}{'ReLU lr':>9}{'tanh lr':>9}{'ReLU':>7}{'tanh':>7}"
             f"{'ratio':>7}  95% interval   reached"]
    for r in rows:
        lines.append(f"{r['init']:<13}{r['input_scale']:<6}{r['relu_learning_rate']:>9.2g}"
                     f"{r['tanh_learning_rate']:>9.2g}{r['relu_median']:>7.0f}{r['tanh_median']:>7.0f}"
                     f"{r['ratio']:>7.2f}  {r['low']:.2f}..{r['high']:.2f}     "
                     f"{r['relu_reached']}/{r['seeds']}, {r['tanh_reached']}/{r['seeds']}")
    return "\n".join(lines)


def read_results(folder) -> dict:
    """What notebook 03 reads: every run's record (with its curve), the settings, provenance, the
    ratio rows, the start measures, and which arms have their final runs."""
    folder = Path(folder)
    records = [json.loads(p.read_text()) for p in sorted((folder / "runs").glob("*.json"))]

    def rows(name):
        path = folder / name
        if not path.exists():
            return []
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    provenance = json.loads((folder / "provenance.json").read_text())
    finals = {r["arm"] for r in records if r.get("role") == "final"}
    arms = sorted({r["arm"] for r in records})
    return {"records": records, "settings": provenance["settings"], "provenance": provenance,
            "ratios": rows("ratios.csv"), "start": rows("start.csv"),
            "complete": [a for a in arms if a in finals and f"{a}-start" in {r["run"] for r in records}],
            "arms": arms}
