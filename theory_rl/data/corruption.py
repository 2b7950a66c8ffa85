"""Corruption of offline data (rewards, dynamics, states, actions; random or adversarial), a transform of the ONE
sample-level dataset.

Yang, Zhong, Xu, Zhang, Zhang, Han & Zhang (2023), "Towards Robust Offline Reinforcement Learning under Diverse
Data Corruption" (RIQL), ICLR 2024, arXiv 2310.12955; protocol of their code (github YangRui2015/RIQL,
``attack.py``): every transition is attacked independently with probability ``corruption_rate`` (default 0.3)
and the perturbation has range ``corruption_range`` (default 1.0), both defaults of the code's README.

The code's continuous perturbations (``+ U(-eps, eps) * std`` of each dimension, or a projected-gradient step
against a pre-trained EDAC critic) have no discrete counterpart; the tabular analogue replaces the corrupted entry
(issue-18 digest, B1):

============  ===================================================  =================================================
target        random                                               adversarial (needs ``Q``, e.g. ``Q*``)
============  ===================================================  =================================================
``reward``    ``r <- U(-30 eps, 30 eps)`` (the code's factor 30)    ``r <- -eps r`` (the code)
``dynamics``  ``s' <- uniform state``                               ``s' <- argmin_s max_a Q(s, a)``
``action``    ``a <- uniform action``                               ``a <- argmin_a Q(s, a)``
``state``     ``s <- uniform state``                                ``s <- argmin_s Q(s, a)``
============  ===================================================  =================================================

The code attacks ``next_observations`` for dynamics and ``observations`` (not the next ones) for states; so here.
``eps`` (``scale``) enters only the reward attacks: a replaced index has no range.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Options, Real, as_float_array, check_instance, validate_params
from theory_rl.data.samples import FIELDS, OfflineDataset

__all__ = ["CORRUPTION_TARGETS", "CORRUPTION_MODES", "Corrupted", "corrupt"]

#: What can be corrupted, and how.
CORRUPTION_TARGETS = ("reward", "dynamics", "action", "state")
CORRUPTION_MODES = ("random", "adversarial")
#: The factor of the code's random reward attack, ``U(-30 eps, 30 eps)`` (attack.py, ``corrupt_rew``).
REWARD_FACTOR = 30.0


class Corrupted(NamedTuple):
    """The corrupted dataset and which transitions were attacked.

    Attributes
    ----------
    data : OfflineDataset
        The dataset after the attack (``meta["corruption"]`` records target, mode, rate, scale, count).
    mask : numpy.ndarray of bool, shape (n,)
        True for the attacked transitions.
    """

    data: OfflineDataset
    mask: np.ndarray


@validate_params(target=Options(CORRUPTION_TARGETS), mode=Options(CORRUPTION_MODES), rate=Real(0.0, 1.0),
                 scale=Real(0.0, None))
def corrupt(data: OfflineDataset, target: str, *, seed: SeedLike, mode: str = "random", rate: float = 0.3,
            scale: float = 1.0, Q=None) -> Corrupted:
    """Attack a fraction of the transitions of ``data`` (RIQL's protocol, tabular analogue; module docstring).

    Parameters
    ----------
    data : OfflineDataset
        Discounted or finite-horizon sample-level data (never modified).
    target : {"reward", "dynamics", "action", "state"}
    seed : int, SeedSequence or Generator
        Which transitions are attacked (each independently with probability ``rate``) and the random values.
    mode : {"random", "adversarial"}, default "random"
    rate : float, default 0.3
        The code's ``corruption_rate``.
    scale : float, default 1.0
        The code's ``corruption_range`` ``eps`` (reward attacks only).
    Q : array_like, shape (S, A), optional
        Action values the adversary attacks (the clean ``Q*`` in the experiment); needed by the adversarial
        dynamics, action and state attacks. Ties go to the lowest index.

    Returns
    -------
    Corrupted
        ``(data, mask)``.
    """
    check_instance(data, "data", OfflineDataset)
    if mode == "adversarial" and target != "reward":
        if Q is None:
            raise ValueError(f"the adversarial {target} attack needs Q, shape ({data.S}, {data.A})")
        Q = as_float_array(Q, "Q", shape=(data.S, data.A))
    elif Q is not None:
        Q = as_float_array(Q, "Q", shape=(data.S, data.A))
    rng = as_generator(seed)
    n = len(data)
    mask = rng.random(n) < rate
    idx = np.flatnonzero(mask)
    arrays = {f: getattr(data, f).copy() for f in FIELDS}
    m = idx.size
    if target == "reward":
        if mode == "random":
            arrays["reward"][idx] = rng.uniform(-REWARD_FACTOR * scale, REWARD_FACTOR * scale, size=m)
        else:
            arrays["reward"][idx] = -scale * arrays["reward"][idx]
    elif target == "dynamics":
        worst = int(np.argmin(Q.max(axis=1))) if mode == "adversarial" else None
        new = rng.integers(data.S, size=m) if worst is None else np.full(m, worst)
        arrays["next_state"][idx] = new.astype(arrays["next_state"].dtype)
    elif target == "action":
        if mode == "random":
            new = rng.integers(data.A, size=m)
        else:
            new = np.argmin(Q, axis=1)[arrays["state"][idx]]
        arrays["action"][idx] = new.astype(arrays["action"].dtype)
    else:  # state
        if mode == "random":
            new = rng.integers(data.S, size=m)
        else:
            new = np.argmin(Q, axis=0)[arrays["action"][idx]]
        arrays["state"][idx] = new.astype(arrays["state"].dtype)
    # The clean data's coverage record no longer describes these samples: dropped, also while still lazy (a
    # Manifest's dict() holds its computed entries only; popping "coverage" left an unread lazy record in place).
    meta = {k: v for k, v in dict(data.meta).items() if k != "coverage"}
    meta["corruption"] = {"target": target, "mode": mode, "rate": rate, "scale": scale, "n_corrupted": int(m),
                          "source": "Yang et al. (2023), RIQL attack.py (tabular analogue)"}
    out = OfflineDataset(**arrays, S=data.S, A=data.A, gamma=data.gamma, horizon=data.horizon, meta=meta)
    return Corrupted(out, mask)
