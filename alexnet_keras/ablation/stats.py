"""The statistics of the ablation protocol: paired differences over seeds, a bootstrap over seeds and
test images together, Holm's correction over the family of arms, the minimum detectable effect, and
censored measures (a run that never reached a threshold) without dropping any run.

- **paired difference** (``paired_comparison``): the arms share their seeds (seed s: the same data
  order, crops, flips and lighting draws in every arm; ``alexnet_keras.data.pipelines``), so the
  difference is analysed per seed: d_s = treatment_s - control_s, its mean, the t interval over seeds
  and the paired t-test (``scipy.stats.ttest_rel``).
- **minimum detectable effect** (``minimum_detectable_effect``): the smallest true difference a
  paired design of n seeds detects with 80% power at two-sided alpha 0.05,
  (t_0.975 + t_0.8) x sd(d) / sqrt(n), t with n - 1 degrees of freedom.
- **bootstrap over seeds and images** (``bootstrap_difference``): per-image errors [seeds, images] of
  both arms, resampled together: the same seeds (pairs) and the same test images for both arms in
  each draw; the percentile interval counts both sources of noise.
- **Holm** (``holm``): step-down adjusted p-values over the family; a NaN p-value is left out.
- **censored** (``censored_summary``): times that are None never reached the threshold within the
  budget; their time is "longer than the budget". Reported: the fraction reached, the Kaplan-Meier
  median (``scipy.stats.ecdf`` on ``CensoredData``; None when fewer than half reached it) and the
  restricted mean, the mean of min(time, budget), which every run has. Paired comparisons of a
  censored measure use the restricted value min(time, budget) per run (``restricted``).
"""

from __future__ import annotations

import math

import numpy as np

POWER, ALPHA = 0.8, 0.05


def paired_comparison(treatment, control, confidence: float = 0.95) -> dict:
    """Mean of treatment_s - control_s over the paired seeds, its t interval, the paired t-test's
    p-value and the minimum detectable effect. Fewer than two pairs, or no spread: NaN interval."""
    from scipy import stats

    treatment, control = np.asarray(treatment, float), np.asarray(control, float)
    if treatment.shape != control.shape or treatment.ndim != 1 or not treatment.size:
        raise ValueError("paired_comparison needs one value per seed on each side, the same seeds in "
                         f"the same order; received shapes {treatment.shape} and {control.shape}")
    differences = treatment - control
    result = {"pairs": int(differences.size), "difference": float(differences.mean()),
              "low": math.nan, "high": math.nan, "p_value": math.nan,
              "sd_difference": math.nan, "mde": math.nan}
    if differences.size >= 2:
        result["sd_difference"] = float(differences.std(ddof=1))
        result["mde"] = minimum_detectable_effect(differences)
        if result["sd_difference"] > 0:
            test = stats.ttest_rel(treatment, control)
            interval = test.confidence_interval(confidence)
            result.update(low=float(interval.low), high=float(interval.high),
                          p_value=float(test.pvalue))
    return result


def minimum_detectable_effect(differences, alpha: float = ALPHA, power: float = POWER) -> float:
    """(t_(1 - alpha/2) + t_power) x sd(differences) / sqrt(n), t with n - 1 degrees of freedom."""
    from scipy import stats

    differences = np.asarray(differences, float)
    n = differences.size
    if n < 2:
        return math.nan
    df = n - 1
    factor = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    return float(factor * differences.std(ddof=1) / math.sqrt(n))


def bootstrap_difference(treatment_errors, control_errors, draws: int = 2000, seed: int = 0,
                         confidence: float = 0.95) -> dict:
    """Percentile interval of mean error(treatment) - mean error(control) from per-image errors
    [seeds, images] (1 wrong, 0 right), resampling seeds and images together: each draw picks
    seeds with replacement (the same for both arms: pairs) and images with replacement (the same)."""
    treatment = np.asarray(treatment_errors, float)
    control = np.asarray(control_errors, float)
    if treatment.shape != control.shape or treatment.ndim != 2:
        raise ValueError("bootstrap_difference needs [seeds, images] errors of the same shape for "
                         f"both arms; received {treatment.shape} and {control.shape}")
    differences = treatment - control
    seeds, images = differences.shape
    rng = np.random.default_rng(seed)
    values = np.empty(draws)
    for draw in range(draws):
        rows = differences[rng.integers(0, seeds, seeds)]
        weights = np.bincount(rng.integers(0, images, images), minlength=images)
        values[draw] = float((rows @ weights).sum()) / (seeds * images)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return {"difference": float(differences.mean()), "boot_low": float(low),
            "boot_high": float(high)}


def holm(p_values) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given; NaN stays NaN and is not counted."""
    p = np.asarray(p_values, float)
    adjusted = np.full(p.shape, math.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    running, k = 0.0, len(order)
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p[index]))
        adjusted[index] = running
    return [float(a) for a in adjusted]


def restricted(times, budget: float) -> np.ndarray:
    """min(time, budget) per run, a censored time (None or NaN) counting as the budget."""
    values = np.array([math.nan if t is None else float(t) for t in times])
    return np.where(np.isnan(values), float(budget), np.minimum(values, float(budget)))


def censored_summary(times, budget: float) -> dict:
    """Runs, how many reached the threshold (a time that is not None/NaN), the Kaplan-Meier median
    (None when fewer than half reached it) and the restricted mean of min(time, budget)."""
    from scipy import stats

    values = np.array([math.nan if t is None else float(t) for t in times])
    reached = ~np.isnan(values)
    median = None
    if reached.any():
        data = stats.CensoredData(uncensored=values[reached],
                                  right=np.full(int((~reached).sum()), float(budget)))
        sf = stats.ecdf(data).sf
        below = np.flatnonzero(sf.probabilities <= 0.5)
        median = float(sf.quantiles[below[0]]) if below.size else None
    return {"runs": int(values.size), "reached": int(reached.sum()),
            "fraction_reached": float(reached.mean()) if values.size else math.nan,
            "km_median": median, "restricted_mean": float(restricted(times, budget).mean()),
            "budget": float(budget)}
