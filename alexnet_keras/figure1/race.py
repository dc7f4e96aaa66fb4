"""Choosing a learning rate by racing the rates: no step is spent that cannot change the choice.

A rate's score is the median, over its search seeds, of the steps to the threshold; a run that never
reached it within the full budget (or diverged) counts as infinitely long. The fastest rate wins;
a tie goes to the smaller rate (``numpy.argmin`` over the rates in increasing order).

Racing: before each search run, :func:`race_limit` computes the fewest steps after which, if the run
has still not reached the threshold, its rate can no longer win against the best rate whose seeds
have all finished. Each seed of the rate counts as at least what is known of it: its steps if it
reached, infinity if it ran the full budget without reaching, one more than the steps it ran if it
was cut, and 0 if it has not started. A run cut there gets no time, so its rate is recorded as
never reaching, which it provably would not do in time to win. Hence the chosen rate (and every
decision to extend the grid) is the one the full budget would give; ``tests/test_figure1.py`` checks
this against the unpruned search on a synthetic case.

The seeds of a rate run one after another. With two seeds (the median is their mean) this spends
exactly the steps that running them side by side in chunks would, and less when the first seed
runs the whole budget without reaching: the rate's median is then infinite and the second seed is
not run at all.
"""

from __future__ import annotations

import math

import numpy as np


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


def lower_bound(record: dict, full_budget: int) -> float:
    """The least steps to threshold the run's full-budget version could have."""
    if record.get("steps_to_threshold"):
        return float(record["steps_to_threshold"])
    if record.get("diverged") or record.get("budget_steps", full_budget) >= full_budget:
        return math.inf
    return float(record["budget_steps"] + 1)  # cut at budget_steps without reaching


def best_complete(records: list[dict], rate: float, seeds: int) -> tuple[float, float | None]:
    """(median, rate) of the fastest rate other than ``rate`` whose ``seeds`` runs have all finished;
    (inf, None) when there is none."""
    best, best_rate = math.inf, None
    for q in sorted({r["learning_rate"] for r in records} - {rate}):
        runs = [r for r in records if r["learning_rate"] == q]
        if len(runs) >= seeds and median_steps(runs) < best:
            best, best_rate = median_steps(runs), q
    return best, best_rate


def race_limit(known: list[float], unstarted: int, *, rate: float, best: float, best_rate: float | None,
               budget: int) -> int:
    """Steps to give the next run of ``rate``: the fewest after which, not having reached, its rate
    has lost to ``best`` (the median of ``best_rate``), whatever its other runs do; ``budget`` when
    no cut is safe; 0 when the rate has already lost.

    ``known``: the lower bounds of the rate's finished runs (:func:`lower_bound`); ``unstarted``:
    how many of its seeds, besides this one, have not run (each counts as 0 steps)."""
    if math.isinf(best):
        return budget

    def lost(this: float) -> bool:
        median = float(np.median(known + [0.0] * unstarted + [this]))
        return median > best or (median == best and best_rate is not None and rate > best_rate)

    if lost(0.0):
        return 0
    if not lost(float(budget)):  # not reached by step budget - 1 still leaves a chance
        return budget
    low, high = 0, budget - 1  # smallest limit L with lost(L + 1)
    while low < high:
        middle = (low + high) // 2
        if lost(middle + 1.0):
            high = middle
        else:
            low = middle + 1
    return low
