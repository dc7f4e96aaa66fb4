"""Choosing the base recipe's length: the base's seeds trained for a few schedule lengths, judged by
the issue's three rules of a converged recipe (EXPERIMENTS.md, "Converged"):

- the schedule completes (warm-up and cosine decay to zero over ``epochs``);
- the validation error changes by less than ``FLAT`` over the last ``LAST`` epochs (the largest
  minus the smallest of them, per seed);
- the seeds' test top-1 errors have a standard deviation of at most ``SPREAD``.

Each run goes through the protocol's own ``train_run``, ``keep_run`` and ``measure_run``; records
under ``output/records/epochs<E>/seed<s>``, the summary in ``output/recipe.csv``. Run as
``python -m alexnet_keras.ablation.recipe EPOCHS SEEDS`` (for example ``48 0,1,2``).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from alexnet_keras.ablation import protocol, report
from alexnet_keras.plots import read_csv_log

FLAT, LAST, SPREAD = 0.02, 3, 0.03


def train_seeds(epochs: int, seeds, output: str = "results/ablations/recipe",
                runs: str = "runs/recipe", quick: bool = False, log=print) -> list[dict]:
    """Trains (or reads back) the base recipe at ``epochs`` for each seed; returns their rows."""
    rows = []
    for seed in seeds:
        config = protocol.base_config(epochs=epochs, seed=seed, quick=quick,
                                      output=os.path.join(runs, f"epochs{epochs}", f"seed{seed}"))
        record = os.path.join(output, "records", f"epochs{epochs}", f"seed{seed}")
        protocol.check_same_run(record, config)
        if not os.path.isdir(record):
            protocol.train_run(config, test_steps=4 if quick else None)
            protocol.keep_run(config.output, record)
        rows.append({"epochs": epochs, "seed": seed, **seed_row(record)})
        log(f"epochs {epochs}, seed {seed}: test top-1 error {rows[-1]['test_top1_error']:.4f}")
    return rows


def seed_row(record: str) -> dict:
    """One record's numbers: the protocol's measures and the last ``LAST`` epochs' validation range."""
    measured = protocol.measure_run(record)
    validation = read_csv_log(os.path.join(record, "training_log.csv"))["val_top1_error"]
    last = validation[-LAST:]
    return {"test_top1_error": measured["test_top1_error"],
            "validation_top1_error": measured["validation_top1_error"],
            "final_train_top1_error": measured["final_train_top1_error"],
            "last_epochs_validation_range": float(max(last) - min(last)),
            "seconds_per_epoch": measured["seconds_per_epoch"]}


def summarize(rows: list[dict]) -> list[dict]:
    """Per schedule length: seeds, the test errors' mean and standard deviation, the largest
    last-epochs validation range, and whether the three rules hold."""
    summary = []
    for epochs in sorted({r["epochs"] for r in rows}):
        mine = [r for r in rows if r["epochs"] == epochs]
        test = np.array([r["test_top1_error"] for r in mine])
        spread = float(np.std(test, ddof=1)) if len(test) > 1 else float("nan")
        flat = max(r["last_epochs_validation_range"] for r in mine)
        summary.append({"epochs": epochs, "seeds": len(mine), "test_mean": float(test.mean()),
                        "test_sd": spread, "max_last_epochs_validation_range": flat,
                        "flat": flat < FLAT, "spread_ok": spread <= SPREAD})
    return summary


def read_rows(output: str = "results/ablations/recipe") -> list[dict]:
    """Every record under ``output/records`` as a row (what ``recipe.csv`` holds)."""
    rows, root = [], os.path.join(output, "records")
    for length in sorted(os.listdir(root)):
        for seed in sorted(os.listdir(os.path.join(root, length))):
            rows.append({"epochs": int(length.removeprefix("epochs")),
                         "seed": int(seed.removeprefix("seed")),
                         **seed_row(os.path.join(root, length, seed))})
    return rows


def main(argv=None) -> int:
    epochs, seeds = (argv or sys.argv[1:])[:2]
    output = "results/ablations/recipe"
    train_seeds(int(epochs), [int(s) for s in seeds.split(",")], output)
    rows = read_rows(output)
    report.write_csv(os.path.join(output, "recipe.csv"), rows)
    report.write_csv(os.path.join(output, "summary.csv"), summarize(rows))
    print(report.format_table(summarize(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
