"""Offline algorithms written for rewards in [0, 1], run on data whose rewards lie in another range (issue 15,
item 5): :func:`on_unit_rewards`.

The papers' penalties, clipping and value bounds (``H``, ``1/(1 - gamma)``) assume rewards in [0, 1]; their
algorithms therefore refuse data whose ``meta["reward_range"]`` (written by the samplers from
``TabularMDP.reward_range``) says otherwise. This module maps such data exactly onto [0, 1] with the affine
:class:`~theory_rl.scales.RewardMap` ``r' = (r - r_min) / (r_max - r_min)``, runs the algorithm unchanged, and maps
its values back: the policy is the one the algorithm returns on the mapped data, which is the data of the mapped MDP
(:func:`~theory_rl.scales.unit_rewards`) drawn with the same seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from theory_rl._validation import check_callable
from theory_rl.scales import RewardMap, scale_meta_of

__all__ = ["on_unit_rewards", "unit_dataset"]


def unit_dataset(data):
    """``data`` with its rewards mapped onto [0, 1] by the :class:`~theory_rl.scales.RewardMap` of its
    ``meta["reward_range"]``, and the map.

    A :class:`~theory_rl.data.CountDataset` gets ``reward_sums' = (reward_sums - r_min N) / w``, an
    :class:`~theory_rl.data.OfflineDataset` ``reward' = (reward - r_min) / w`` (``w = r_max - r_min``); the counts,
    transitions and other fields are the same. Its ``meta`` loses ``reward_range`` and records
    ``unit_rewards_of = [r_min, r_max]``. Data without a range (rewards in [0, 1]) is returned as is, with the
    identity map.

    Returns
    -------
    (dataset, RewardMap)
    """
    if not dataclasses.is_dataclass(data) or not hasattr(data, "meta"):
        raise ValueError(f"data is a {type(data).__name__}, expected a theory_rl.data CountDataset or OfflineDataset")
    reward_range = scale_meta_of(data).get("reward_range")
    if reward_range is None:
        return data, RewardMap(0.0, 1.0)
    m = RewardMap(*reward_range)
    meta = data.meta.copy()
    del meta["reward_range"]
    meta["unit_rewards_of"] = [m.low, m.high]
    fields = {f.name for f in dataclasses.fields(data)}
    if "reward" in fields:  # sample level (its counts and reward sums follow from the samples)
        return dataclasses.replace(data, reward=m.to_unit(data.reward), meta=meta), m
    if "reward_sums" in fields:
        sums = (np.asarray(data.reward_sums, dtype=np.float64) - m.low * np.asarray(data.counts)) / m.scale
        return dataclasses.replace(data, reward_sums=sums, meta=meta), m
    raise ValueError(f"data is a {type(data).__name__} without reward_sums or reward fields")


def on_unit_rewards(algorithm, data, *args, **kwargs):
    """``algorithm(unit_data, *args, **kwargs)`` on ``data`` mapped onto [0, 1] (:func:`unit_dataset`), with its
    values mapped back to ``data``'s reward units.

    The result's ``V`` and ``Q`` (when present) become ``w V' + r_min c_h`` with ``c_h = 1/(1 - gamma)``
    (discounted) or ``H - h`` (finite horizon), its ``penalty`` (when present) ``w b'``, and ``constants`` gains
    ``reward_range``. The policy is the algorithm's on the mapped data: the affine map preserves the order of the
    returns, so every guarantee the paper proves for [0, 1] rewards holds for the mapped problem, and a value bound
    ``epsilon`` on it is ``w epsilon`` here.

    Parameters
    ----------
    algorithm : callable
        An offline algorithm taking the dataset first and returning a :class:`~theory_rl.results.Result` (e.g.
        ``vi_lcb``, ``bernstein_vi_lcb``, ``vi_lcb_episodic``, ``empirical_vi``).
    data : CountDataset or OfflineDataset
        Rewards in ``data.meta["reward_range"]`` (as the samplers record it); a discounted finite horizon
        (``meta["discount"]``) stays the algorithm's to support or refuse.
    *args, **kwargs
        Passed to ``algorithm``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory_rl.algorithms.lcb import vi_lcb_episodic
    >>> from theory_rl.data import sample_iid_counts
    >>> from theory_rl.mdp import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), [[-1.0, 3.0]], [1.0], horizon=2, reward_range=(-1, 3),
    ...                  reward_noise="deterministic")
    >>> res = on_unit_rewards(vi_lcb_episodic, sample_iid_counts(mdp, np.full((1, 2), 0.5), 100, seed=0))
    >>> res.policy.tolist(), res.constants["reward_range"]
    ([[1], [1]], [-1.0, 3.0])
    """
    check_callable(algorithm, "algorithm")
    unit, m = unit_dataset(data)
    result = algorithm(unit, *args, **kwargs)
    changes = {"constants": {**getattr(result, "constants", {}), "reward_range": [m.low, m.high]}}
    for name in ("V", "Q"):
        if getattr(result, name, None) is not None:
            changes[name] = m.values(getattr(result, name), data)
    if getattr(result, "penalty", None) is not None:
        changes["penalty"] = m.scale * np.asarray(result.penalty)
    return dataclasses.replace(result, **changes)
