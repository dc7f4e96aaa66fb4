"""The Figure 1 protocol: each network at its best learning rate, chosen fairly, then fresh seeds.

For every arm (activation x initialisation x input scale):
1. **Search**: a grid of log-spaced learning rates (at most a factor sqrt(10) apart), ``search_seeds``
   seeds each; a rate's score is its median steps to the threshold (a censored run counts as never).
   While the fastest rate is at an end of the grid, the grid grows by one rate at that end.
2. **Final**: ``final_seeds`` fresh seeds (never used in the search) at the chosen rate, each with the
   full step budget. Only these are reported, so no seed chose its own rate.
A search run stops early once it has run twice the best median found so far for its arm: its rate
can then no longer have the smallest median (with two seeds the median is their mean, and one run of
at least twice the best makes the mean at least the best), so the choice is the same as with the full
budget; its record's ``budget_steps`` says where it was cut. The grid is run from its middle outwards,
so that a good rate is known early.

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

import numpy as np

from alexnet_keras.figure1 import data as figure1_data
from alexnet_keras.figure1.training import Clock, start_measures, train_run

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


def median_steps(records: list[dict]) -> float:
    """Median steps to threshold; a run that never reached it counts as infinitely long."""
    return float(np.median([r["steps_to_threshold"] or math.inf for r in records]))


def choose_rate(records: list[dict]) -> tuple[float, str]:
    """(the fastest rate, where it lies: "inside", "low end" or "high end") from search records."""
    rates = sorted({r["learning_rate"] for r in records})
    scores = [median_steps([r for r in records if r["learning_rate"] == rate]) for rate in rates]
    if all(math.isinf(s) for s in scores):
        return rates[0], "none reached"
    best = int(np.argmin(scores))
    where = "low end" if best == 0 else "high end" if best == len(rates) - 1 else "inside"
    return rates[best], where


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

    def run(role, rate, seed, limit=None):
        key = run_id(arm, role, rate, seed)
        if key not in store.runs:
            result = train_run(x, y, probe, activation=activation, init=init, learning_rate=rate,
                               seed=seed, clock=clock, limit=limit)
            store.put({"run": key, "arm": arm, "activation": activation, "init": init,
                       "input_scale": scale, "learning_rate": rate, "seed": seed, "role": role,
                       **result})
            log(f"{key}: steps_to_threshold={result['steps_to_threshold']} "
                f"final_train_error={result['final_train_error']:.3f} ({result['seconds']} s)")
        return store.runs[key]

    def search(rates):
        for rate in rates:
            for seed in settings.search_seeds:
                done = [r for r in store.runs.values() if r["arm"] == arm and r["role"] == "search"]
                complete = {q for q in {r["learning_rate"] for r in done} if q != rate and
                            len([r for r in done if r["learning_rate"] == q]) >= len(settings.search_seeds)}
                best = min((median_steps([r for r in done if r["learning_rate"] == q])
                            for q in complete), default=math.inf)
                run("search", rate, seed, None if math.isinf(best) else int(2 * best) + clock.every)

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
