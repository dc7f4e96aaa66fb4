"""``python -m alexnet_keras figure1``: ReLU against tanh, each at its best rate (Section 3.1)."""

from __future__ import annotations

import argparse
import dataclasses
import sys


def _run_figure1(args: argparse.Namespace) -> int:
    from alexnet_keras.cli.parser import command_line, given
    from alexnet_keras.figure1 import QUICK, Settings, run

    settings = QUICK if args.quick else Settings()
    changes = given(args, "dataset", "train_images", "threshold", "budget_steps")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise ValueError(f"--threshold is a training error in (0, 1); received {args.threshold}")
    settings = dataclasses.replace(settings, **changes)
    output = args.output or ("runs/figure1_quick" if args.quick else "results/figure1")
    command = command_line()
    if args.processes > 1 and not args.tables_only:
        _run_in_processes(args, settings, output)
        run(output, settings=settings, command=command, tables_only=True)
        return 0
    run(output, settings=settings, arms=args.arms, command=command, tables_only=args.tables_only)
    return 0


def _run_in_processes(args: argparse.Namespace, settings, output: str) -> None:
    """One ``figure1 --arms <arm>`` process per arm, ``--processes`` at a time, sharing --output
    (each run is its own file). On one GPU the small network leaves it mostly idle, so several
    processes finish the protocol several times sooner; on 2 CPU cores they only compete."""
    import subprocess

    from alexnet_keras.figure1.protocol import ACTIVATIONS, arm_name

    arms = args.arms or [arm_name(a, i, s) for i, s in settings.cells for a in ACTIVATIONS]
    forwarded = ["--output", output] + (["--quick"] if args.quick else [])
    for flag, value in (("--dataset", args.dataset), ("--train-images", args.train_images),
                        ("--threshold", args.threshold), ("--budget-steps", args.budget_steps)):
        if value is not None:
            forwarded += [flag, str(value)]
    pending = list(arms)
    running: list[subprocess.Popen] = []
    failed = []
    while pending or running:
        while pending and len(running) < args.processes:
            arm = pending.pop(0)
            running.append(subprocess.Popen(
                [sys.executable, "-m", "alexnet_keras", "figure1", *forwarded, "--arms", arm]))
        finished = running.pop(0)
        if finished.wait() != 0:
            failed.append(" ".join(finished.args[-1:]))
    if failed:
        raise SystemExit(f"python -m alexnet_keras figure1: error: arm(s) {', '.join(failed)} failed "
                         "(their messages are above); the runs they finished are kept: the same "
                         "command resumes")


def add_figure1_command(subparsers) -> argparse.ArgumentParser:
    from alexnet_keras.cli.commands import positive_int

    parser = subparsers.add_parser(
        "figure1", help="Figure 1: ReLU against tanh, each at its best learning rate (resumable)",
        description="Search each network's learning rate on a grid (2 seeds a rate), then train 5 fresh "
        "seeds at the chosen rate; count SGD steps until the training error reaches the threshold. "
        "Writes runs.csv, ratios.csv, start.csv and provenance.json; an interrupted run resumes.")
    parser.add_argument("--output", default=None,
                        help="results folder (default: results/figure1; with --quick: runs/figure1_quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 512 images, one cell, 30 steps (not evidence)")
    parser.add_argument("--dataset", choices=["shapes", "cifar10"], default=None,
                        help="shapes: generated, offline (default); cifar10: the paper's (downloads)")
    parser.add_argument("--arms", nargs="+", default=None,
                        help="only these arms, e.g. relu-cuda-convnet-raw (processes given disjoint "
                        "arms can share one --output)")
    parser.add_argument("--train-images", type=positive_int, default=None)
    parser.add_argument("--threshold", type=float, default=None, help="training error to reach")
    parser.add_argument("--budget-steps", type=positive_int, default=None)
    parser.add_argument("--processes", type=positive_int, default=1,
                        help="run the arms in this many processes at once (for a GPU; default 1)")
    parser.add_argument("--tables-only", action="store_true",
                        help="train nothing: write the tables from the runs finished so far")
    parser.set_defaults(func=_run_figure1)
    return parser
