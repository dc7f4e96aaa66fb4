"""The Figure 1 protocol (alexnet_keras.figure1): rate search, fresh final seeds, censoring, resume."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from alexnet_keras import small_convnet
from alexnet_keras.figure1 import protocol, race
from alexnet_keras.figure1.protocol import Settings, Store, choose_rate, median_steps
from alexnet_keras.figure1.report import bootstrap_ratio
from alexnet_keras.figure1.training import Clock, train_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_median_counts_a_run_that_never_reached_the_threshold_as_infinitely_long():
    runs = [{"steps_to_threshold": s} for s in (900, 1100, 1200, None, None)]
    assert median_steps(runs) == 1200  # dropping the two would give 1100
    assert math.isinf(median_steps(runs[:2] + [{"steps_to_threshold": None}] * 3))


def test_choose_rate_says_where_the_fastest_rate_lies():
    def runs(steps_by_rate):
        return [{"learning_rate": r, "steps_to_threshold": s} for r, ss in steps_by_rate.items() for s in ss]

    assert choose_rate(runs({0.01: [500, 700], 0.1: [300, 400], 1.0: [None, 900]})) == (0.1, "inside")
    assert choose_rate(runs({0.01: [500, 700], 0.1: [300, 400]})) == (0.1, "high end")
    assert choose_rate(runs({0.01: [200, 300], 0.1: [None, None]})) == (0.01, "low end")
    assert choose_rate(runs({0.01: [None, None], 0.1: [None, None]}))[1] == "none reached"


def test_bootstrap_interval_holds_the_ratio_and_keeps_censored_runs():
    relu, tanh = np.array([1000.0, 1100, 1050, 990, 1200]), np.array([6000.0, 6500, 5900, 7000, 6100])
    low, high = bootstrap_ratio(relu, tanh)
    assert low <= np.median(tanh) / np.median(relu) <= high and low > 4
    censored = np.array([6000.0, math.inf, math.inf, math.inf, 6100])
    assert math.isinf(bootstrap_ratio(relu, censored)[1])  # most draws have an infinite median


def test_search_extends_the_grid_cuts_hopeless_runs_and_reports_only_fresh_seeds(tmp_path, monkeypatch):
    calls = []

    def fake_train_run(x, y, probe, *, activation, init, learning_rate, seed, clock, limit=None):
        # fastest at 10**-0.5, beyond the grid's top (0.1): the search has to extend it
        steps = int(100 + 1000 * abs(math.log10(learning_rate) + 0.5))
        limit = clock.budget if limit is None else limit
        calls.append((learning_rate, seed, limit))
        reached = steps if steps <= limit else None
        return {"steps_to_threshold": reached, "final_train_error": 0.3, "steps_trained": min(steps, limit),
                "budget_steps": limit, "diverged": False, "seconds": 0.0, "curve_steps": [0],
                "curve_errors": [0.9]}

    monkeypatch.setattr(protocol, "train_run", fake_train_run)
    monkeypatch.setattr(protocol, "start_measures", lambda *a, **k: {"saturated_1": 0.0})
    settings = Settings(budget_steps=3000)
    cache = {"raw": (np.zeros((4, 32, 32, 3)), np.zeros(4), (np.zeros((2, 32, 32, 3)), np.zeros(2)))}
    store = Store(tmp_path)
    protocol.run_arm(settings, store, "relu", "glorot", "raw", cache, log=lambda _: None)

    search = [r for r in store.runs.values() if r["role"] == "search"]
    finals = [r for r in store.runs.values() if r["role"] == "final"]
    rates = sorted({r["learning_rate"] for r in search})
    assert len(rates) == len(settings.grid) + 2 and math.isclose(rates[-1], 1.0)  # 10**-0.5, then 10**0
    assert all(math.isclose(r["learning_rate"], 10 ** -0.5) for r in finals)
    assert sorted(r["seed"] for r in finals) == list(settings.final_seeds)
    assert not {r["seed"] for r in finals} & set(settings.search_seeds)
    assert all(r["budget_steps"] == settings.budget_steps for r in finals)
    cut = [r for r in search if r["budget_steps"] < settings.budget_steps and not r["steps_to_threshold"]]
    assert cut and all("cannot beat" in r["pruned"]["why"] for r in cut)  # each says where and why
    assert all(r in cut for r in search if "pruned" in r)

    done = len(calls)
    protocol.run_arm(settings, Store(tmp_path), "relu", "glorot", "raw", cache, log=lambda _: None)
    assert len(calls) == done  # resumed: every run was on disk


def test_race_limit_cuts_a_run_exactly_where_its_rate_can_no_longer_win():
    # best complete rate: median 5955 steps; two seeds a rate, so a rate's median is their mean
    limit = lambda known, unstarted, rate=1e-4: race.race_limit(
        known, unstarted, rate=rate, best=5955.0, best_rate=0.0316, budget=10_000)
    assert limit([], 1) == 10_000  # (L + 1 + 0) / 2 > 5955 needs L >= 11,910: no cut inside the budget
    assert limit([math.inf], 0) == 0  # the first seed never reached: the mean is infinite already
    assert limit([7000.0], 0) == 4910  # (7000 + 4911) / 2 > 5955; at 4910 the mean ties and 1e-4 wins ties
    assert limit([7000.0], 0, rate=0.1) == 4909  # a larger rate loses the tie
    assert limit([3000.0], 0) == 8910
    assert race.race_limit([], 1, rate=1e-4, best=math.inf, best_rate=None, budget=10_000) == 10_000


def _steps_table(seed, rates, seeds):
    """Steps to threshold per (rate, seed): a noisy valley over log rate, censored far from it."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-3.5, -1.0)
    table = {}
    for rate in rates:
        for s in seeds:
            steps = int(800 * np.exp(abs(math.log10(rate) - centre) * rng.uniform(0.8, 2.0)))
            table[(round(math.log10(rate), 3), s)] = steps if steps <= 3000 else None
    return table


@pytest.mark.parametrize("case", range(12))
def test_racing_chooses_the_rate_the_full_budget_chooses_with_fewer_steps(tmp_path, monkeypatch, case):
    settings = Settings(budget_steps=3000, search_seeds=(0, 1), final_seeds=(100,))
    grid = [settings.grid[0] / math.sqrt(10) ** k for k in range(5, 0, -1)] + list(settings.grid) + [
        settings.grid[-1] * math.sqrt(10) ** k for k in range(1, 6)]
    table = _steps_table(case, grid, settings.search_seeds + settings.final_seeds)
    spent = []

    def fake_train_run(x, y, probe, *, activation, init, learning_rate, seed, clock, limit=None):
        limit = clock.budget if limit is None else limit
        steps = table[(round(math.log10(learning_rate), 3), seed)]
        reached = steps if steps is not None and steps <= limit else None
        spent.append(reached or limit)
        return {"steps_to_threshold": reached, "final_train_error": 0.3, "steps_trained": reached or limit,
                "budget_steps": limit, "diverged": False, "seconds": 0.0, "curve_steps": [0],
                "curve_errors": [0.9]}

    monkeypatch.setattr(protocol, "train_run", fake_train_run)
    monkeypatch.setattr(protocol, "start_measures", lambda *a, **k: {"saturated_1": 0.0})
    cache = {"raw": (np.zeros((4, 32, 32, 3)), np.zeros(4), (np.zeros((2, 32, 32, 3)), np.zeros(2)))}

    def search(folder):
        spent.clear()
        store = Store(folder)
        protocol.run_arm(settings, store, "relu", "glorot", "raw", cache, log=lambda _: None)
        search = [r for r in store.runs.values() if r["role"] == "search"]
        final = [r for r in store.runs.values() if r["role"] == "final"]
        return choose_rate(search), final[0]["learning_rate"], sorted({r["learning_rate"] for r in search}), \
            sum(spent)

    raced = search(tmp_path / "raced")
    monkeypatch.setattr(protocol, "race_limit", lambda *a, budget, **k: budget)
    unpruned = search(tmp_path / "unpruned")
    assert raced[:3] == unpruned[:3]  # the same choice, the same grid, the same final rate
    assert raced[3] < unpruned[3]


def test_threshold_clock_stops_at_the_first_measurement_at_or_below_the_threshold():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 32, 32, 3)).astype("float32"), rng.integers(0, 10, 64)
    probe = (x[:16], y[:16])
    reached = train_run(x, y, probe, activation="relu", init="glorot", learning_rate=0.01, seed=0,
                        clock=Clock(threshold=1.0, budget=20, every=4, batch_size=8))
    assert reached["steps_to_threshold"] == 4 and reached["curve_steps"] == [0, 4]
    never = train_run(x, y, probe, activation="tanh", init="cuda-convnet", learning_rate=0.01, seed=0,
                      clock=Clock(threshold=0.0, budget=12, every=4, batch_size=8))
    assert never["steps_to_threshold"] is None and never["steps_trained"] == 12
    assert never["curve_steps"] == [0, 4, 8, 12]  # 8 steps an epoch, 4 steps a call


def test_cuda_convnet_start_is_the_authors_cifar10_network():
    model = small_convnet(activation="tanh", initializer="cuda-convnet")
    stds = {name: float(np.std(model.get_layer(name).kernel)) for name in ("conv1", "conv2", "conv3", "fc4")}
    assert 0.8e-4 < stds["conv1"] < 1.2e-4
    assert all(0.008 < stds[name] < 0.012 for name in ("conv2", "conv3", "fc4"))
    assert not any(np.any(model.get_layer(n).bias) for n in stds)


@pytest.mark.slow
def test_figure1_command_writes_its_tables_resumes_and_refuses_other_settings(tmp_path):
    output = tmp_path / "figure1"
    command = [sys.executable, "-m", "alexnet_keras", "figure1", "--quick", "--budget-steps", "10",
               "--output", str(output)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    first = subprocess.run(command + ["--processes", "2"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    for name in ("runs.csv", "ratios.csv", "start.csv", "provenance.json"):
        assert (output / name).exists(), name
    header = (output / "runs.csv").read_text().splitlines()[0].split(",")
    assert {"activation", "init", "input_scale", "learning_rate", "seed", "role", "steps_to_threshold",
            "final_train_error"} <= set(header)
    ratios = (output / "ratios.csv").read_text().splitlines()[0].split(",")
    assert {"ratio", "low", "high", "relu_reached", "tanh_reached", "seeds"} <= set(ratios)
    provenance = json.loads((output / "provenance.json").read_text())
    assert {"command", "machine", "date", "dataset", "threshold", "linear_train_error", "budget_steps",
            "wall_seconds"} <= set(provenance)
    runs = sorted(p.name for p in (output / "runs").iterdir())

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and sorted(p.name for p in (output / "runs").iterdir()) == runs

    other = subprocess.run(command + ["--threshold", "0.5"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert other.returncode == 1 and "other settings" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1, other.stderr
