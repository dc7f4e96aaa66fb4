"""Runs the Figure 1 protocol and records where, when and how long (provenance.json)."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

from alexnet_keras.figure1 import data as figure1_data
from alexnet_keras.figure1.protocol import Settings, Store, fingerprint, run_protocol
from alexnet_keras.figure1.report import format_table, write_tables


def _machine() -> str:
    import os

    import keras

    devices = "cpu"
    if keras.backend.backend() == "jax":
        import jax

        devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return (f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
            f"Keras {keras.__version__} on {keras.backend.backend()} ({devices})").replace("  ", " ")


def _linear_baseline(settings: Settings, output: Path, log) -> dict:
    """The linear yardstick, computed once per data set (it takes minutes on 25,000 images)."""
    path = output / "linear.json"
    images, labels = figure1_data.load(settings.dataset, settings.train_images, seed=settings.data_seed)
    data = fingerprint(images)
    if path.exists() and json.loads(path.read_text()).get("data_sha256") == data:
        return json.loads(path.read_text())
    start = time.perf_counter()
    error, converged = figure1_data.linear_train_error(figure1_data.preprocess(images, "raw"), labels)
    record = {"data_sha256": data, "linear_train_error": error, "linear_converged": converged,
              "linear_seconds": round(time.perf_counter() - start, 1)}
    log(f"linear (multinomial logistic regression) training error: {error:.4f} (converged: {converged})")
    path.write_text(json.dumps(record))
    return record


def _sessions_read(output: Path) -> list[list[float]]:
    path = output / "sessions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _sessions(output: Path, start: float, end: float) -> None:
    """Every invocation's [start, end] (UNIX seconds), kept across resumes; their union is the wall
    time."""
    path = output / "sessions.jsonl"
    with open(path, "a") as f:  # one short append per process: processes sharing an output interleave safely
        f.write(json.dumps([round(start, 1), round(end, 1)]) + "\n")


def _union_seconds(intervals) -> float:
    total, current_end = 0.0, None
    for a, b in sorted(intervals):
        if current_end is None or a > current_end:
            total += b - a
            current_end = b
        elif b > current_end:
            total += b - current_end
            current_end = b
    return round(total, 1)


def run(output: str, *, settings: Settings, arms=None, command: str = "", tables_only: bool = False,
        log=print) -> list[dict]:
    """Runs the protocol (only ``arms`` when given), then, when all arms were asked for, the linear
    yardstick and the tables. ``tables_only``: no training and no yardstick (one already recorded
    in linear.json is used): the tables from the runs finished so far."""
    output_path = Path(output)
    output_path.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if tables_only:
        store = Store(output_path)
        linear_path = output_path / "linear.json"
        linear = json.loads(linear_path.read_text()) if linear_path.exists() else {}
    else:
        store = run_protocol(settings, output_path, arms=arms, log=log)
        _sessions(output_path, start, time.time())
        if arms:  # one of several processes sharing the output: the full invocation writes the tables
            return []
        linear = _linear_baseline(settings, output_path, log)
    sessions = _sessions_read(output_path)
    where = {"command": command, "machine": _machine(), "date": time.strftime("%Y-%m-%d", time.gmtime())}
    previous = output_path / "provenance.json"
    if tables_only and previous.exists():  # the runs were made where the last training command ran
        where = {k: json.loads(previous.read_text()).get(k, v) for k, v in where.items()}
    provenance = {
        **where,
        "dataset": settings.dataset, "threshold": settings.threshold,
        "linear_train_error": linear.get("linear_train_error"), **linear,
        "budget_steps": settings.budget_steps, "every_steps": settings.every,
        "wall_seconds": _union_seconds(sessions),
        "run_seconds": round(sum(r.get("seconds", 0) for r in store.runs.values()), 1),
        "settings": asdict(settings),
    }
    table = write_tables(store, settings, provenance)
    log(format_table(table))
    return table
