"""The paper's claims, measured: one base recipe, one change at a time, paired seeds.

Each arm of ``ARMS`` changes one thing the paper credits with a gain (LRN and overlapping pooling,
Sections 3.3-3.4; two towers, 3.2; dropout, 4.2; PCA lighting and random patches, 4.1; the
initialisation, 5) against ``base_config()``, the demo's recipe stretched to 48 epochs, and trains
every setting with ``seeds`` seeds through ``alexnet_keras.training.fit`` (one folder per run under
``runs``, so an interrupted run resumes); each finished run's logs and test softmax are kept under
``output/records/`` (``keep_run``), committed with the results, so the protocol continues on another
machine from them. Seed s means the same data order, crops, flips and lighting draws in every arm
(``alexnet_keras.data.pipelines``: stateless draws of (seed, epoch, position)), so arms are compared
per seed. After training, each run's last checkpoint is scored once on the offline set's test split
(5,000 images; nothing is chosen on it), and its per-image softmax is kept. Written under
``output``:

    runs.csv          one row per arm x setting x seed: test and validation top-1 error, gap,
                      epochs to converge (censored), plateau exit (censored), seconds per epoch
    comparisons.csv   per arm: paired difference, interval, p, Holm p, minimum detectable effect,
                      bootstrap over seeds and test images, the paper's figure (``analysis.compare``)
    censored.csv      the censored measures per setting: fraction reached, Kaplan-Meier median
    predictions.npz   each run's test softmax (float16), key "<run>|seed<s>", and "labels"
    init.csv          step-0 output std and gradient norm per layer, for each initialisation
    ensemble.csv      the base seeds on the test split: each, the mean member, the member chosen on
                      validation, and their softmax average (Section 6)
    figures.csv, retrieval.csv, conv1_kernels.png/.npy   Figures 3 and 4 (``report.checkpoint_figures``)
    records/<run>/seed<s>/   each finished run's record (``keep_run``)
    provenance.json   command, machine, date, wall seconds, test and validation images, seeds

The activation arm (ReLU against tanh, Section 3.1) is not here: a learning rate tuned for ReLU and
reused for tanh measures the rate (notebook 03 tunes one per activation: Figure 1). The same rule
for the other arms: the settings whose change most plausibly moves the best learning rate, LRN and
no normalisation in place of batch normalisation and the paper's N(0, 0.01) start, and the base
itself, are each trained at rates sqrt(10) apart on a tuning seed (``alexnet_keras.ablation.rates``,
results/ablations/rates/), and a setting whose best rate is not the base's trains at its own
(``tests/test_ablations.py`` checks ``ARMS`` against the committed choices). Pooling, towers,
dropout, lighting and crops keep the base's batch normalisation and start and were not checked.
``quick=True`` is a smoke test of every arm's code, not evidence.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

from alexnet_keras.checks import check_output_outside_inputs

import numpy as np

from alexnet_keras.ablation import analysis, measures
from alexnet_keras.ablation import report
from alexnet_keras.ablation.report import ENSEMBLE_PAPER, read_rows  # noqa: F401 (re-exported)
from alexnet_keras.ablation.runs import (  # noqa: F401 (the runner and its records; re-exported)
    PREDICTIONS, RECORD_FILES, TEST, StepLog, check_same_run, keep_run, measure_run, step_losses,
    train_run,
)
from alexnet_keras.training.config import TrainConfig, minimum_image_size

EPOCHS, SEEDS = 48, 5
# The base recipe's training seconds per epoch, and the rest of a run (build, validation after each
# epoch, the per-epoch backup and checkpoints, the 5,000 test images), from the recipe pilot's
# 48-epoch seed 1, which had the 2 cores (AMD EPYC, AVX-512) to itself on 2026-12-05: 7.9 s a
# training epoch (median, epochs.csv) and 9.7 minutes from its start to its record.
DEMO_SECONDS_PER_EPOCH, SECONDS_PER_RUN = 7.9, 9.7 * 60 - 48 * 7.9
VALUE = measures.VALUE
CENSORED = ("epochs_to_converge", "plateau_exit_step")


@dataclasses.dataclass(frozen=True)
class Arm:
    """One claim: ``settings`` maps a label to its ``TrainConfig`` changes from the base ({} is the
    base itself, trained once for all arms); ``treatment - control`` of ``metric`` is compared with
    ``paper``, the paper's figure; ``paper_difference``: that figure as the same difference (a
    fraction of top-1 error), where the paper gives one for top-1 error."""

    name: str
    settings: dict
    treatment: str
    control: str
    paper: str
    metric: str = "test_top1_error"
    paper_difference: float | None = None


ARMS = (
    Arm("normalization", {"batch (base)": {}, "lrn": {"normalization": "lrn"},
                          # its own rate: the rate check's choice (results/ablations/rates)
                          "none": {"normalization": "none", "learning_rate": 0.00158}}, "lrn", "none",
        "LRN: top-1 -1.4, top-5 -1.2 points (ImageNet, Section 3.3)", TEST, -0.014),
    Arm("pooling", {"3/2 (base)": {}, "2/2": {"overlapping_pooling": False}}, "3/2 (base)", "2/2",
        "overlapping: top-1 -0.4, top-5 -0.3 points; slightly harder to overfit (Section 3.4)",
        TEST, -0.004),
    Arm("towers", {"paper (base)": {}, "half": {"variant": "half"}},
        "paper (base)", "half", "two towers vs half-width one-GPU net: top-1 -1.7, top-5 -1.2 (Section 3.2)",
        TEST, -0.017),
    Arm("dropout", {"0.5 (base)": {}, "0": {"dropout": 0.0}}, "0.5 (base)", "0",
        "dropout roughly doubles the iterations needed to converge (Section 4.2)",
        metric="epochs_to_converge"),
    Arm("pca_lighting", {"on (base)": {}, "off": {"lighting_std": 0.0}}, "on (base)", "off",
        "PCA lighting: top-1 -1 point or more (Section 4.1)", TEST, -0.01),
    Arm("crops_flips", {"on (base)": {}, "off": {"random_crops": False, "flip": False}},
        "on (base)", "off", "without them, substantial overfitting (Section 4.1; no figure)",
        metric="train_val_gap"),
    Arm("initialization", {"glorot (base)": {}, "paper": {"initializer": "paper"}},
        "paper", "glorot (base)",
        "N(0, 0.01), biases 1 'accelerates the early stages of learning' (Section 5; no figure)",
        metric="plateau_exit_step"),
)
# Not an arm any more (see the module docstring); the pilot of results/ablations/pilot/ had it.
ACTIVATION_ARM = Arm(
    "activation", {"relu (base)": {}, "tanh": {"activation": "tanh"}}, "relu (base)", "tanh",
    "ReLU reaches 25% training error 6x sooner (4-layer CNN, CIFAR-10, Figure 1, Section 3.1)")


def quick_image_size(arms=ARMS) -> int:
    """The smallest input every setting of ``arms`` accepts (``minimum_image_size``)."""
    base = TrainConfig.demo()
    return max(minimum_image_size(o.get("variant", base.variant),
                                  overlapping_pooling=o.get("overlapping_pooling", True))
               for arm in arms for o in arm.settings.values())


def base_config(*, epochs: int = EPOCHS, quick: bool = False, **overrides) -> TrainConfig:
    """The base recipe: ``TrainConfig.demo()`` (the paper's two-tower network with LRN replaced by
    batch normalisation and N(0, 0.01) by Glorot, at 99x99 on the offline set), its warm-up and
    cosine schedule stretched to 48 epochs. The demo's 24 epochs are not converged: in the recipe
    pilot (``alexnet_keras.ablation.recipe``, results/ablations/recipe/) three seeds ended at test
    top-1 errors 0.295, 0.426 and 0.410 (standard deviation 7 points), still learning when the
    learning rate reached zero; at 48 epochs they end near 0.1 with flat validation curves (the
    pilot's ``summary.csv``). The 8-epoch pilot (results/ablations/pilot/) was further off still.

    Why not the paper's own recipe: at this size and length it would barely leave the loss plateau
    (``TrainConfig.demo``'s docstring), and a change of 1 point is invisible in a run that has not
    learned. The demo learns in minutes on 2 cores, so each paper choice is swapped into a recipe
    that works. ``quick``: smallest images, batches of 8, two steps, no XLA: a smoke test.
    """
    values = dict(epochs=epochs, verbose=0, tensorboard=False)
    if quick:
        values.update(image_size=quick_image_size(), batch_size=8, steps_per_epoch=2,
                      validation_steps=4, cache=False, xla=False)
    values.update(overrides)
    return TrainConfig.demo(**values)


def run_name(overrides: dict) -> str:
    """The folder of a setting: ``base``, or its changes (``normalization=lrn``)."""
    return "-".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "base"


def select_arms(names=None) -> tuple[Arm, ...]:
    known = {arm.name: arm for arm in ARMS}
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; choose from {sorted(known)}")
    return tuple(known[n] for n in names) if names else ARMS


def estimate_seconds(arms=ARMS, seeds: int = SEEDS, epochs: int = EPOCHS,
                     seconds_per_epoch: float = DEMO_SECONDS_PER_EPOCH,
                     seconds_per_run: float = SECONDS_PER_RUN) -> float:
    """Wall time of the protocol: distinct runs (the base once) x seeds x (epochs x seconds per
    epoch + the build and compile of each run)."""
    runs = {run_name(o) for arm in arms for o in arm.settings.values()}
    return len(runs) * seeds * (epochs * seconds_per_epoch + seconds_per_run)


def run_protocol(output: str = "results/ablations", *, runs: str = "runs/ablations",
                 seeds: int = SEEDS, epochs: int = EPOCHS, arms=None, quick: bool = False,
                 data_dir: str | None = None, log=print, command: str | None = None,
                 train: bool = True) -> dict:
    """Train every arm's settings with ``seeds`` seeds (resuming what ``runs`` holds), score each
    on the test split, keep each finished run's record under ``output/records/`` (``keep_run``: what
    the tables are computed from, so a record made on another machine is never trained again), then
    write the files listed in the module docstring under ``output``; returns the tables as
    ``{name: rows}``. ``train=False`` trains nothing: the tables cover the arms whose records are
    all kept, and ``provenance.json`` lists the others under ``arms_pending`` (an interim report
    while the protocol runs over several sittings; Holm's family is then the arms reported)."""
    if seeds < 1 or epochs < 1:
        raise ValueError(f"seeds and epochs must be at least 1; received seeds={seeds}, epochs={epochs}")
    chosen = select_arms(arms)
    for folder, flag in ((output, "--output"), (runs, "--runs")):
        check_output_outside_inputs(folder, {"--data-dir": data_dir}, output_flag=flag)
    started = time.time()
    os.makedirs(output, exist_ok=True)
    if quick:  # one seed, one epoch, whatever was asked
        seeds, epochs = 1, 1
    make = lambda seed, overrides: base_config(  # noqa: E731
        epochs=epochs, quick=quick, data_dir=data_dir, seed=seed,
        output=os.path.join(runs, run_name(overrides), f"seed{seed}"), **overrides)
    records = os.path.join(output, "records")
    if os.path.abspath(records) == os.path.abspath(runs):
        raise ValueError(f"the run folders ({runs}) cannot be where the records go; give another --runs")
    base = make(0, {})
    held_out = []  # the validation images, loaded once when first needed
    measured, rows, pending = {}, [], {}
    for arm in chosen:
        if not train:
            wanted = [os.path.join(records, run_name(o), f"seed{s}")
                      for o in arm.settings.values() for s in range(seeds)]
            done = sum(os.path.isdir(path) for path in wanted)
            if done < len(wanted):
                pending[arm.name] = f"{done} of {len(wanted)} runs kept"
                continue
        for setting, overrides in arm.settings.items():
            for seed in range(seeds):
                config, name = make(seed, overrides), run_name(overrides)
                record = os.path.join(records, name, f"seed{seed}")
                if record not in measured:
                    check_same_run(record, config)
                    if not os.path.isdir(record):
                        check_same_run(config.output, config)
                        log(f"[{arm.name}] {setting}, seed {seed}: {config.output}")
                        train_run(config, test_steps=4 if quick else None)
                        figures = None
                        if name == "base":
                            held_out = held_out or [
                                report.held_out_images(base, steps=base.validation_steps)]
                            figures = report.checkpoint_figures(
                                f"seed{seed}", os.path.join(config.output, "checkpoints", "last.keras"),
                                *held_out[0])
                        keep_run(config.output, record, figures)
                        log(f"[{arm.name}] {setting}, seed {seed}: kept in {record}")
                    measured[record] = measure_run(record)
                rows.append({"arm": arm.name, "setting": setting, "seed": seed,
                             "run": name, **measured[record]})
    chosen = [arm for arm in chosen if arm.name not in pending]
    if not chosen:
        raise ValueError(f"no arm has all its runs kept under {records} ({pending}); train first")
    predictions, labels = report.write_predictions(output, measured, records)
    kept = {}  # the base seeds' Figures 3 and 4, from their records
    for seed in range(seeds):
        path = os.path.join(records, "base", f"seed{seed}")
        if os.path.isdir(path):
            with open(os.path.join(path, "run.json")) as handle:
                kept[f"seed{seed}"] = (json.load(handle), path)
    validation = {f"seed{r['seed']}": r["validation_top1_error"] for r in rows if r["run"] == "base"}
    if kept:
        best = min(validation, key=validation.get) if validation else next(iter(kept))
        report.save_conv1_kernels(np.load(os.path.join(kept[best][1], "conv1_kernels.npy")),
                                  os.path.join(output, "conv1_kernels.png"), best)
    images, _ = held_out[0] if held_out else report.held_out_images(base, steps=base.validation_steps)
    train_images, train_labels = report.held_out_images(base, split="train", steps=1)
    classes = _classes(predictions)
    results = {
        "runs": rows, "summary": report.summarize(rows),
        "comparisons": analysis.compare(rows, chosen, CENSORED, predictions, labels),
        "censored": [r for metric in CENSORED for r in analysis.censored_rows(rows, chosen, metric)],
        "init": report.init_rows(base, train_images, train_labels, classes=classes),
        "ensemble": analysis.ensemble_rows(
            {f"seed{s}": predictions[("base", s)] for s in range(seeds) if ("base", s) in predictions},
            labels, validation),
        "figures": [about["figures"] for about, _ in kept.values()],
        "retrieval": [row for about, _ in kept.values() for row in about["retrieval"]],
    }
    for name, table in results.items():
        report.write_csv(os.path.join(output, f"{name}.csv"), table)
    report.write_provenance(output, command or "run_protocol(...)", started, list(measured),
                            test_images=len(labels), validation_images=len(images), seeds=seeds,
                            arms=[arm.name for arm in chosen], arms_pending=pending,
                            record_machines=sorted({_machine(path) for path in measured}))
    log(f"wrote {', '.join(results)} (.csv), predictions.npz and conv1_kernels (.png, .npy) to {output}")
    return results


def _classes(predictions: dict) -> int:
    """The number of classes: the width of any run's test softmax."""
    return int(next(iter(predictions.values())).shape[-1])


def _machine(record: str) -> str:
    with open(os.path.join(record, "run.json")) as handle:
        return json.load(handle)["machine"]
