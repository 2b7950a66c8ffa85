"""Offline algorithms written for rewards in [0, 1] and undiscounted horizons, run on data whose rewards lie in
another range or whose finite horizon is discounted (issue 15, item 5): :func:`on_unit_rewards`.

The papers' penalties, clipping and value bounds (``H``, ``1/(1 - gamma)``) assume rewards in [0, 1] (and, for a
finite horizon, no discount); their algorithms therefore refuse data whose ``meta["reward_range"]`` or
``meta["discount"]`` (written by the samplers from ``TabularMDP.reward_range`` and ``gamma``) says otherwise. This
module maps such data exactly, runs the algorithm unchanged, and maps its values back:

- rewards through the affine :class:`~theory_rl.scales.RewardMap` ``r' = (r - r_min) / (r_max - r_min)``: the
  data of the mapped MDP (:func:`~theory_rl.scales.unit_rewards`) drawn with the same seed;
- a discount ``g`` of a finite horizon through the stage rewards ``g^h r'`` (still in [0, 1]): the data of the
  undiscounted stage-reward MDP (:func:`~theory_rl.scales.undiscounted_stages`), whose values are ``g^h`` times
  the discounted ones and whose optimal policies are the same.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from theory_rl._validation import check_callable
from theory_rl.scales import RewardMap, scale_meta_of

__all__ = ["on_unit_rewards", "unit_dataset"]


def _stage_weights(g: float, H: int) -> np.ndarray:
    if H > 1 and not g ** (H - 1) >= 1e-200:  # also g = 0: the late stage rewards would vanish
        raise ValueError(f"data.meta['discount'] is {g!r} with horizon {H}: discount^(H-1) = {g ** (H - 1):.3g} "
                         "underflows the stage rewards discount^h r; use a shorter horizon or a larger discount")
    return g ** np.arange(H, dtype=np.float64)


def unit_dataset(data):
    """``data`` mapped onto rewards in [0, 1] and an undiscounted horizon: ``(dataset, reward_map, discount)``.

    Rewards go through the :class:`~theory_rl.scales.RewardMap` of ``meta["reward_range"]`` (the identity without
    one); a finite horizon discounted by ``g = meta["discount"]`` then gets the stage rewards ``g^h r'`` and
    ``discount = g`` is returned (else None). A :class:`~theory_rl.data.CountDataset` gets ``reward_sums' =
    g^h (reward_sums - r_min N) / w``, an :class:`~theory_rl.data.OfflineDataset` ``reward' = g^h (reward - r_min)
    / w`` (``w = r_max - r_min``, ``h`` each sample's step); counts, transitions and the other fields are the same.
    ``meta`` loses ``reward_range`` and ``discount`` and records them as ``unit_rewards_of``. Data that needs no map
    is returned as is.
    """
    if not dataclasses.is_dataclass(data) or not hasattr(data, "meta") or not hasattr(data, "horizon"):
        raise ValueError(f"data is a {type(data).__name__}, expected a theory_rl.data CountDataset or OfflineDataset")
    scale = scale_meta_of(data)
    m = RewardMap(*scale.get("reward_range", (0.0, 1.0)))
    g = scale.get("discount")
    if m.is_identity and g is None:
        return data, m, None
    H = data.horizon
    weights = None if g is None else _stage_weights(g, H)
    meta = data.meta.copy()
    for key in scale:
        del meta[key]
    meta["unit_rewards_of"] = scale
    fields = {f.name for f in dataclasses.fields(data)}
    if "reward" in fields:  # sample level (its counts and reward sums follow from the samples)
        reward = m.to_unit(data.reward)
        if weights is not None:
            reward = reward * weights[np.asarray(data.step)]
        return dataclasses.replace(data, reward=reward, meta=meta), m, g
    if "reward_sums" in fields:
        sums = (np.asarray(data.reward_sums, dtype=np.float64) - m.low * np.asarray(data.counts)) / m.scale
        if weights is not None:
            sums = sums * weights.reshape((H,) + (1,) * (sums.ndim - 1))
        return dataclasses.replace(data, reward_sums=sums, meta=meta), m, g
    raise ValueError(f"data is a {type(data).__name__} without reward_sums or reward fields")


def on_unit_rewards(algorithm, data, *args, **kwargs):
    """``algorithm(unit_data, *args, **kwargs)`` on ``data`` mapped onto rewards in [0, 1] and an undiscounted
    horizon (:func:`unit_dataset`), with its values mapped back to ``data``'s units and discount.

    The result's ``V`` and ``Q`` (when present) become ``w V'_h / g^h + r_min c_h`` with ``c_h = 1/(1 - gamma)``
    (discounted), ``H - h`` (finite horizon) or ``(1 - g^(H-h)) / (1 - g)`` (finite horizon discounted by ``g``; no
    ``g^h`` without one); its ``penalty`` (when present) ``w b'_h / g^h``; other fields (e.g. PEVI's weights ``w``)
    stay in the mapped units; ``constants`` gains ``reward_range`` and ``discount``. The policy is the algorithm's
    on the mapped data: both maps preserve the order of the returns, so every guarantee the paper proves holds for
    the mapped problem, and a sub-optimality bound ``epsilon`` on it is ``w epsilon`` here (at step 0).

    Parameters
    ----------
    algorithm : callable
        An offline algorithm taking the dataset first and returning a :class:`~theory_rl.results.Result` (e.g.
        ``vi_lcb``, ``bernstein_vi_lcb``, ``vi_lcb_episodic``, ``empirical_vi``; ``functools.partial(pevi, phi)``).
    data : CountDataset or OfflineDataset
        Rewards in ``data.meta["reward_range"]``, a finite horizon discounted by ``data.meta["discount"]`` (as the
        samplers record them).
    *args, **kwargs
        Passed to ``algorithm``.

    Examples
    --------
    >>> import numpy as np
    >>> from theory_rl.algorithms.lcb import empirical_vi
    >>> from theory_rl.data import sample_iid_counts
    >>> from theory_rl.mdp import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), [[-1.0, 3.0]], [1.0], horizon=2, reward_range=(-1, 3),
    ...                  reward_noise="deterministic")
    >>> res = on_unit_rewards(empirical_vi, sample_iid_counts(mdp, np.full((1, 2), 0.5), 100, seed=0))
    >>> res.policy.tolist(), res.V.tolist(), res.constants["reward_range"]
    ([[1], [1]], [[6.0], [3.0]], [-1.0, 3.0])
    """
    check_callable(algorithm, "algorithm")
    unit, m, g = unit_dataset(data)
    result = algorithm(unit, *args, **kwargs)
    constants = {**getattr(result, "constants", {}), "reward_range": [m.low, m.high], "discount": g}
    changes = {"constants": constants}
    for name in ("V", "Q"):
        if getattr(result, name, None) is not None:
            changes[name] = m.values(getattr(result, name), unit, stage_discount=g)
    if getattr(result, "penalty", None) is not None:
        b = m.scale * np.asarray(result.penalty, dtype=np.float64)
        if g is not None:
            b = b / _stage_weights(g, unit.horizon).reshape((-1,) + (1,) * (b.ndim - 1))
        changes["penalty"] = b
    return dataclasses.replace(result, **changes)
