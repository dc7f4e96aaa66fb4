"""The pilot of 2026-12-02 (``results/ablations/pilot/``), re-analysed as the full protocol's runs are.

The pilot: the base recipe cut to 8 epochs (the cosine compressed), 3 seeds per setting, held-out
error on the 300 validation images (there was no test split, and no per-image predictions were
kept), 33 runs, with the activation arm and He's start. Its arms shared seeds 0, 1 and 2, so they
pair. ``reanalyse`` writes beside its runs:

    comparisons.csv  per arm: paired difference of the last epoch's validation top-1 error (or the
                     arm's own metric), interval, p, Holm p over the 8 arms, minimum detectable
                     effect (no bootstrap over images: no per-image predictions were kept)
    censored.csv     plateau exit per setting: runs, reached, Kaplan-Meier median, restricted mean

Its ``epochs_to_converge`` is the pilot's own definition (first epoch within 1 point of the best,
never censored: the runs did not record whether the curve flattened).

    python -m alexnet_keras.ablation.pilot [folder]
"""

from __future__ import annotations

import dataclasses
import sys

from alexnet_keras.ablation import analysis, measures, protocol, report

FOLDER = "results/ablations/pilot"
EPOCHS, SEEDS, STEPS_PER_EPOCH = 8, 3, 1300 // 32  # 1,300 training images in batches of 32
CENSORED = ("plateau_exit_step",)


def pilot_arms() -> tuple:
    """The pilot's 8 arms in its order, comparing its metrics: the last epoch's validation error
    where the full protocol compares test error; the initialisation arm with He's start too."""
    arms = []
    for arm in protocol.ARMS:
        if arm.metric == protocol.TEST:
            arm = dataclasses.replace(arm, metric=measures.VALUE)
        if arm.name == "initialization":
            arm = dataclasses.replace(arm, settings={**arm.settings, "he": {"initializer": "he"}})
            arms.append(dataclasses.replace(protocol.ACTIVATION_ARM, metric=measures.VALUE))
        arms.append(arm)
    return tuple(arms)


def read_runs(folder: str = FOLDER) -> list[dict]:
    """The pilot's runs.csv, each row with the steps per epoch its plateau budget needs."""
    return [{**row, "steps_per_epoch": STEPS_PER_EPOCH}
            for row in report.read_rows(f"{folder}/runs.csv")]


def reanalyse(folder: str = FOLDER) -> dict:
    """Writes ``comparisons.csv`` and ``censored.csv`` in ``folder`` from its ``runs.csv``."""
    rows, arms = read_runs(folder), pilot_arms()
    results = {"comparisons": analysis.compare(rows, arms, CENSORED),
               "censored": analysis.censored_rows(rows, arms, "plateau_exit_step")}
    for name, table in results.items():
        report.write_csv(f"{folder}/{name}.csv", table)
    return results


if __name__ == "__main__":
    written = reanalyse(*sys.argv[1:2])
    print(report.format_table(written["comparisons"], ["arm", "metric", "pairs", "difference", "low",
                                                       "high", "p_value", "p_holm", "mde"]))
