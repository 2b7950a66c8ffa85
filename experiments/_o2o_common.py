"""Shared helpers of the offline-to-online experiments (issue 19): the instance, the data, means with CIs."""

from __future__ import annotations

import math

import numpy as np


def mean_ci(values) -> tuple[float, float]:
    """Mean and the half-width of a normal 95% confidence interval (1.96 standard errors; 0 for one value)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    half = 1.96 * x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else 0.0
    return float(x.mean()), float(half)


def group(records: list[dict], by: tuple[str, ...], metric: str) -> dict[tuple, list[float]]:
    """``{config values of by: [metric over seeds]}``, sorted by key."""
    out: dict[tuple, list[float]] = {}
    for rec in records:
        if metric in rec["metrics"] and all(k in rec["config"] for k in by):
            out.setdefault(tuple(rec["config"][k] for k in by), []).append(float(rec["metrics"][metric]))
    try:
        return dict(sorted(out.items()))
    except TypeError:  # mixed types in a key position
        return dict(sorted(out.items(), key=lambda kv: tuple(str(v) for v in kv[0])))
