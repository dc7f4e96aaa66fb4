"""Each setting at its best learning rate, where the change plausibly moves it (EXPERIMENTS.md,
"Each arm at its best"; the same rule that took ReLU against tanh out of the protocol).

The base recipe's rate (0.005 at batch 32, ``TrainConfig.demo``) was set for a network with batch
normalisation after every convolution. Two arms change what that rate acts on: ``normalization``
(LRN, or nothing, in place of batch normalisation) and ``initialization`` (N(0, 0.01) weights and
biases of 1, which batch normalisation does not undo in fc6-fc8). Those settings, and the base
itself (the control of the initialisation arm, and a check of the 48-epoch recipe's rate), are
trained at rates ``STEP`` (sqrt(10)) apart around the base's, with a tuning seed (``TUNING_SEED``)
that is not one of the protocol's reported seeds 0-4, so no reported run chose its own rate. A
setting's rate is the one with the lowest validation top-1 error after the last epoch (the
schedule completes); when that rate is at an end of the grid, the grid is extended that way, up
to ``MAX_RATES`` rates, so the choice is inside it. A run whose loss became NaN is kept as
diverged (worse than any finished run). The test split is never touched here.

Records under ``output/records/<setting>/lr<rate>/seed<s>``; the table in ``output/rates.csv``,
the choices in ``output/choices.csv``. Run as ``python -m alexnet_keras.ablation.rates``.
"""

from __future__ import annotations

import json
import math
import os
import sys

from alexnet_keras.ablation import protocol, report
from alexnet_keras.plots import read_csv_log

SETTINGS = {"base": {}, "normalization=lrn": {"normalization": "lrn"},
            "normalization=none": {"normalization": "none"},
            "initializer=paper": {"initializer": "paper"}}
STEP = math.sqrt(10)
TUNING_SEED = 100
MAX_RATES = 5
LOG_FILES = ("config.json", "training_log.csv", "epochs.csv", "steps.csv")


def base_rate() -> float:
    return protocol.base_config().learning_rate


def grid(center: float, steps=(-1, 0, 1)) -> list[float]:
    """Rates ``STEP``**k x ``center``, rounded to 3 significant digits (they name folders)."""
    return [float(f"{center * STEP ** k:.3g}") for k in steps]


def train_rate(setting: str, rate: float, *, output: str, runs: str, seed: int = TUNING_SEED,
               quick: bool = False) -> dict:
    """Trains (or reads back) one setting at one rate; returns its row (``read_row``)."""
    from alexnet_keras.training.callbacks import TrainingDivergedError

    config = protocol.base_config(quick=quick, seed=seed, learning_rate=rate,
                                  epochs=1 if quick else protocol.EPOCHS,
                                  output=os.path.join(runs, setting, f"lr{rate:g}", f"seed{seed}"),
                                  **SETTINGS[setting])
    record = os.path.join(output, "records", setting, f"lr{rate:g}", f"seed{seed}")
    protocol.check_same_run(record, config)
    if not os.path.isdir(record):
        diverged = False
        try:
            protocol.train_run(config, score_test=False)
        except TrainingDivergedError:
            diverged = True
        files = [f for f in LOG_FILES if os.path.exists(os.path.join(config.output, f))]
        protocol.keep_run(config.output, record, files=files, diverged=diverged)
    return read_row(record, setting)


def read_row(record: str, setting: str) -> dict:
    """A record's numbers: its rate, seed, last and best validation error, last training error, and
    whether it diverged (its validation errors then count as 1.0, worse than any finished run)."""
    from alexnet_keras.training.run_folder import current_config, read_record

    config = current_config(read_record(os.path.join(record, "config.json")))
    with open(os.path.join(record, "run.json")) as handle:
        diverged = bool(json.load(handle).get("diverged"))
    path = os.path.join(record, "training_log.csv")
    log = read_csv_log(path) if os.path.exists(path) else {}
    validation, train = log.get("val_top1_error", []), log.get("top1_error", [])
    finished = not diverged and len(validation) == config["epochs"]
    return {"setting": setting, "learning_rate": float(config["learning_rate"]),
            "seed": int(config["seed"]), "epochs": len(validation), "diverged": diverged,
            "validation_top1_error": validation[-1] if finished else 1.0,
            "best_validation_top1_error": min(validation) if finished else 1.0,
            "final_train_top1_error": train[-1] if finished and train else math.nan}


def read_rows(output: str = "results/ablations/rates") -> list[dict]:
    """Every record under ``output/records`` as a row (what ``rates.csv`` holds)."""
    root, rows = os.path.join(output, "records"), []
    for setting in (s for s in SETTINGS if os.path.isdir(os.path.join(root, s))):
        rates = [r for r in os.listdir(os.path.join(root, setting)) if not r.endswith(".partial")]
        for rate in sorted(rates, key=lambda r: float(r[2:])):
            for seed in sorted(s for s in os.listdir(os.path.join(root, setting, rate))
                               if not s.endswith(".partial")):
                rows.append(read_row(os.path.join(root, setting, rate, seed), setting))
    return rows


def choose(rows: list[dict]) -> dict:
    """Per setting, the rate with the lowest last-epoch validation error, and which way the grid
    must grow (-1, +1) when that rate is at its end (0: inside, the choice stands)."""
    out = {}
    for setting in dict.fromkeys(r["setting"] for r in rows):
        mine = sorted((r for r in rows if r["setting"] == setting), key=lambda r: r["learning_rate"])
        best = min(range(len(mine)), key=lambda i: mine[i]["validation_top1_error"])
        edge = -1 if best == 0 else (1 if best == len(mine) - 1 else 0)
        out[setting] = {"setting": setting, "chosen_rate": mine[best]["learning_rate"],
                        "validation_top1_error": mine[best]["validation_top1_error"],
                        "rates": len(mine), "extend": edge if len(mine) > 1 else 1}
    return out


def check(settings=tuple(SETTINGS), *, output: str = "results/ablations/rates",
          runs: str = "runs/rates", quick: bool = False, log=print) -> tuple[list[dict], dict]:
    """Trains each setting on ``grid(base_rate())``, extending the grid while its best rate is at
    an end (up to ``MAX_RATES``); writes ``rates.csv`` and ``choices.csv``; returns (rows, choices)."""
    for setting in settings:
        rates = grid(base_rate())
        while True:
            mine = [train_rate(setting, rate, output=output, runs=runs, quick=quick) for rate in rates]
            choice = choose(mine)[setting]
            log(f"{setting}: " + ", ".join(f"lr {r['learning_rate']:g} -> {r['validation_top1_error']:.3f}"
                                          for r in mine) + f"; best {choice['chosen_rate']:g}")
            if choice["extend"] == 0 or len(rates) >= MAX_RATES:
                break
            rates = sorted(set(rates) | {grid(choice["chosen_rate"], (choice["extend"],))[0]})
    rows = read_rows(output)
    choices = choose(rows)
    report.write_csv(os.path.join(output, "rates.csv"), rows)
    report.write_csv(os.path.join(output, "choices.csv"), list(choices.values()))
    return rows, choices


def main(argv=None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(SETTINGS)
    unknown = sorted(set(names) - set(SETTINGS))
    if unknown:
        print(f"unknown setting(s) {unknown}; choose from {list(SETTINGS)}", file=sys.stderr)
        return 2
    _, choices = check(names)
    print(report.format_table(list(choices.values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
