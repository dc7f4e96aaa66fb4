"""The Figure 1 protocol: each network at its best learning rate, chosen fairly, then fresh seeds.

For every arm (activation x initialisation x input scale):
1. **Search**: a grid of log-spaced learning rates (at most a factor sqrt(10) apart), ``search_seeds``
   seeds each; a rate's score is its median steps to the threshold (a censored run counts as never).
   While the fastest rate is at an end of the grid, the grid grows by one rate at that end.
2. **Final**: ``final_seeds`` fresh seeds (never used in the search) at the chosen rate, each with the
   full step budget. Only these are reported, so no seed chose its own rate.
Search runs race (:mod:`alexnet_keras.figure1.race`): each is cut as soon as its rate provably
cannot beat the best rate whose seeds have all finished, so the choice is the one the full budget
would give; a cut run's record says where it stopped and why (``pruned``). The grid is run from its
middle outwards, so that a good rate is known early.

Every finished run is one JSON file in ``<output>/runs/``, written atomically: an interrupted
protocol resumes where it stopped, and processes given disjoint ``arms`` can share one output.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from alexnet_keras.figure1 import data as figure1_data
from alexnet_keras.figure1.race import best_complete, choose_rate, lower_bound, median_steps, race_limit
from alexnet_keras.figure1.training import Clock, start_measures, train_run

__all__ = ["Settings", "Store", "QUICK", "choose_rate", "median_steps", "run_arm", "run_protocol"]

ACTIVATIONS = ("relu", "tanh")
INITS = ("cuda-convnet", "glorot")
CELLS = tuple((init, scale) for init in INITS for scale in figure1_data.INPUT_SCALES)


@dataclass(frozen=True)
class Settings:
    """Everything that defines the experiment; recorded in provenance.json."""

    dataset: str = "shapes"
    train_images: int = 25_000
    probe_images: int = 2_048
    threshold: float = 0.35
    budget_steps: int = 10_000
    every: int = 25
    batch_size: int = 128
    grid: tuple[float, ...] = tuple(10.0 ** (e / 2) for e in range(-8, -1))  # 1e-4 .. 1e-1, x sqrt(10)
    search_seeds: tuple[int, ...] = (0, 1)
    final_seeds: tuple[int, ...] = (100, 101, 102, 103, 104)
    max_extensions: int = 4
    data_seed: int = 0
    cells: tuple[tuple[str, str], ...] = CELLS

    @property
    def clock(self) -> Clock:
        return Clock(self.threshold, self.budget_steps, self.every, self.batch_size)


QUICK = Settings(train_images=512, probe_images=256, threshold=0.8, budget_steps=30, every=5,
                 batch_size=32, grid=(10.0 ** -2.5, 10.0 ** -2, 10.0 ** -1.5), search_seeds=(0,),
                 final_seeds=(100, 101), max_extensions=1, cells=(("cuda-convnet", "raw"),))


def arm_name(activation: str, init: str, scale: str) -> str:
    return f"{activation}-{init}-{scale}"


def run_id(arm: str, role: str, learning_rate: float, seed: int) -> str:
    return f"{arm}-{role}-lr{math.log10(learning_rate):+.2f}-s{seed}"


@dataclass
class Store:
    """The folder of finished runs: one JSON file each, written atomically."""

    root: Path
    runs: dict = field(default_factory=dict)

    def __post_init__(self):
        self.root = Path(self.root)
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        for path in sorted((self.root / "runs").glob("*.json")):
            self.runs[path.stem] = json.loads(path.read_text())

    def put(self, record: dict) -> None:
        record = {**record, "finished_at": round(time.time(), 1)}
        path = self.root / "runs" / f"{record['run']}.json"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
        self.runs[record["run"]] = record


def _arm_inputs(settings: Settings, scale: str, cache: dict):
    if scale not in cache:
        images, labels = cache["images"]
        x = figure1_data.preprocess(images, scale)
        cache[scale] = (x, labels, (x[: settings.probe_images], labels[: settings.probe_images]))
    return cache[scale]


def run_arm(settings: Settings, store: Store, activation: str, init: str, scale: str, cache: dict,
            log=print) -> None:
    """Search, then final runs, for one arm; skips every run the store already has."""
    arm = arm_name(activation, init, scale)
    x, y, probe = _arm_inputs(settings, scale, cache)
    clock = settings.clock

    def run(role, rate, seed, limit=None, why=""):
        key = run_id(arm, role, rate, seed)
        if key not in store.runs:
            record = {"run": key, "arm": arm, "activation": activation, "init": init,
                      "input_scale": scale, "learning_rate": rate, "seed": seed, "role": role,
                      "backend": keras.backend.backend()}
            if limit == 0:  # lost before it started: no step spent
                record.update({"steps_to_threshold": None, "final_train_error": None, "steps_trained": 0,
                               "budget_steps": 0, "diverged": False, "seconds": 0.0, "curve_steps": [],
                               "curve_errors": []})
            else:
                record.update(train_run(x, y, probe, activation=activation, init=init, learning_rate=rate,
                                        seed=seed, clock=clock, limit=limit))
            if why and not record["steps_to_threshold"]:
                record["pruned"] = {"limit": limit, "why": why}
            store.put(record)
            log(f"{key}: steps_to_threshold={record['steps_to_threshold']} "
                f"steps_trained={record['steps_trained']} ({record['seconds']} s)"
                + (f"; cut: {why}" if "pruned" in record else ""))
        return store.runs[key]

    def search(rates):
        for rate in rates:
            for index, seed in enumerate(settings.search_seeds):
                if run_id(arm, "search", rate, seed) in store.runs:
                    continue
                done = [r for r in store.runs.values() if r["arm"] == arm and r["role"] == "search"]
                best, best_rate = best_complete(done, rate, len(settings.search_seeds))
                mine = [lower_bound(r, clock.budget) for r in done if r["learning_rate"] == rate]
                unstarted = len(settings.search_seeds) - index - 1
                limit = race_limit(mine, unstarted, rate=rate, best=best, best_rate=best_rate,
                                   budget=clock.budget)
                why = "" if limit == clock.budget else (
                    f"not reached by step {limit}, rate {rate:.3g} cannot beat rate {best_rate:.3g}'s median "
                    f"of {best:.0f} steps (its seeds so far: {', '.join(f'{b:.0f}' for b in mine) or 'none'})")
                run("search", rate, seed, limit if limit < clock.budget else None, why)

    rates = list(settings.grid)
    middle = (len(rates) - 1) / 2
    search(sorted(rates, key=lambda r: (abs(rates.index(r) - middle), -r)))
    for _ in range(settings.max_extensions):
        records = [r for r in store.runs.values() if r["arm"] == arm and r["role"] == "search"]
        chosen, where = choose_rate(records)
        if where == "low end":
            rates.insert(0, rates[0] / math.sqrt(10))
            search(rates[:1])
        elif where == "high end":
            rates.append(rates[-1] * math.sqrt(10))
            search(rates[-1:])
        else:
            break
    records = [r for r in store.runs.values() if r["arm"] == arm and r["role"] == "search"]
    chosen, where = choose_rate(records)
    for seed in settings.final_seeds:
        run("final", chosen, seed)
    key = f"{arm}-start"
    if key not in store.runs:
        store.put({"run": key, "arm": arm, "role": "start", "learning_rate": chosen,
                   "rate_position": where,
                   **start_measures(x, y, probe, activation=activation, init=init,
                                    learning_rate=chosen, seed=settings.final_seeds[0], clock=clock)})


def fingerprint(images: np.ndarray) -> str:
    """SHA-256 of the training images' bytes: the same data set wherever it was generated."""
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


def _check_same(path: Path, settings: dict) -> None:
    """Records the settings and the data's fingerprint; refuses to add runs made with others."""
    settings = json.loads(json.dumps(settings))  # tuples as lists, as read back
    if path.exists():
        recorded = json.loads(path.read_text())
        changed = sorted(k for k in set(recorded) | set(settings) if recorded.get(k) != settings.get(k))
        if changed:
            raise ValueError(
                f"{path.parent} holds runs made with other settings or data ({', '.join(changed)} "
                f"differ): choose another --output, or delete that folder to start again")
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:  # atomic: processes sharing the output may start together
        json.dump(settings, f, indent=1)
    os.replace(tmp, path)


def run_protocol(settings: Settings, output: str | os.PathLike, *, arms: list[str] | None = None,
                 log=print) -> Store:
    """Runs every arm (or only ``arms``, names as :func:`arm_name` gives) into ``output``."""
    store = Store(Path(output))
    wanted = [(a, i, s) for i, s in settings.cells for a in ACTIVATIONS]
    if arms:
        names = {arm_name(*w): w for w in wanted}
        unknown = sorted(set(arms) - set(names))
        if unknown:
            raise ValueError(f"unknown arm(s) {', '.join(unknown)}; choose from {', '.join(names)}")
        wanted = [names[a] for a in arms]
    images = figure1_data.load(settings.dataset, settings.train_images, seed=settings.data_seed)
    Path(output).mkdir(parents=True, exist_ok=True)
    _check_same(Path(output) / "settings.json", {**asdict(settings), "data_sha256": fingerprint(images[0])})
    cache = {"images": images}
    for activation, init, scale in wanted:
        run_arm(settings, store, activation, init, scale, cache, log=log)
    return store
