"""Guided data augmentation (GuDA) on a torus gridworld, read off the exact concentrability and expert fraction.

Corrado, Qu, Balis, Labiosa & Hanna (2024), "Guided Data Augmentation for Offline RL and Imitation Learning",
RLC 2024, arXiv 2310.18247. Augmentation functions generate new transitions from existing ones by a known
symmetry of the dynamics (here the translations of :func:`theory_rl.generators.symmetric.torus_gridworld`, with
the reward recomputed from the known reward function); GuDA keeps an augmented transition only if it shows task
progress, random augmentation (RDA) keeps them all. The issue-18 digest (B3) predicts: GuDA lowers C* *and*
raises the expert fraction, so behaviour cloning and LCB both gain; RDA lowers C* but dilutes the expert fraction,
so LCB gains and BC loses.

Progress predicates: ``"distance"`` (user level: the torus distance to the goal decreases, ``d(g s') < d(g s)``)
and ``"value"`` (oracle: ``V(g s') > V(g s)`` for given values, e.g. ``V*``).
"""

from __future__ import annotations

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    Integer,
    Options,
    Real,
    as_float_array,
    check_cell,
    check_instance,
    check_int,
    validate_params,
)
from theory_rl.coverage import concentrability
from theory_rl.data import OfflineDataset, concatenate
from theory_rl.generators.symmetric import torus_distance, torus_translate
from theory_rl.mdp import TabularMDP

__all__ = ["augment", "expert_fraction", "data_concentrability"]


@validate_params(mode=Options(("random", "guided")), predicate=Options(("distance", "value")),
                 copies=Integer(1, 100))
def augment(data: OfflineDataset, n: int, goal, *, seed: SeedLike, mode: str = "guided", copies: int = 1,
            predicate: str = "distance", values=None) -> OfflineDataset:
    """The data plus translated copies of its transitions (``copies`` random non-zero shifts per transition).

    A copy ``(g s, a, r(g s), g s')`` is proposed for each transition whose state is not the goal and whose
    translated state is not the goal (there the dynamics are not translation-invariant); ``mode="guided"`` keeps
    it only if ``predicate`` holds. ``meta["augmentation"]`` records the proposed and kept counts.

    Parameters
    ----------
    data : OfflineDataset
        Discounted data on the ``n x n`` torus gridworld.
    n : int
    goal : (int, int)
    seed : int, SeedSequence or Generator
    mode : {"guided", "random"}
    copies : int, default 1
    predicate : {"distance", "value"}
    values : array_like, shape (n * n,), optional
        Needed with ``predicate="value"``.
    """
    check_instance(data, "data", OfflineDataset)
    n = check_int(n, "n", low=2, high=300)
    gr, gc = check_cell(goal, "goal", n, n)
    if data.S != n * n:
        raise ValueError(f"data has S = {data.S}, expected n * n = {n * n}")
    V = None
    if predicate == "value":
        if values is None:
            raise ValueError("predicate='value' needs values, shape (n * n,)")
        V = as_float_array(values, "values", shape=(n * n,))
    elif values is not None:
        as_float_array(values, "values", shape=(n * n,))
    rng = as_generator(seed)
    g = gr * n + gc
    src = np.repeat(np.arange(len(data)), copies)
    flat = rng.integers(1, n * n, size=src.size)  # a non-zero shift, uniformly
    shift = np.stack(np.divmod(flat, n), axis=1)
    s = torus_translate(data.state[src].astype(np.int64), shift, n)
    s2 = torus_translate(data.next_state[src].astype(np.int64), shift, n)
    ok = (data.state[src] != g) & (s != g)
    if mode == "guided":
        if V is None:
            ok &= torus_distance(s2, (gr, gc), n) < torus_distance(s, (gr, gc), n)
        else:
            ok &= V[s2] > V[s]
    k = int(ok.sum())
    new = OfflineDataset(
        state=s[ok].astype(data.state.dtype), action=data.action[src][ok], reward=np.zeros(k),
        next_state=s2[ok].astype(data.next_state.dtype), step=data.step[src][ok],
        episode=np.arange(k, dtype=np.int64),  # one episode per copy (concatenate renumbers after the data's)
        behaviour_prob=data.behaviour_prob[src][ok], S=data.S, A=data.A, gamma=data.gamma, meta={},
    )  # rewards recomputed: r = 1 only at the goal, which no kept copy starts from
    out = concatenate([data, new])
    meta = dict(out.meta)
    meta["augmentation"] = {"mode": mode, "predicate": predicate if mode == "guided" else None,
                            "proposed": int(src.size), "kept": k, "source": "Corrado et al. (2024), GuDA"}
    return OfflineDataset(*(getattr(out, f) for f in ("state", "action", "reward", "next_state", "step", "episode",
                                                      "behaviour_prob")),
                          S=out.S, A=out.A, gamma=out.gamma, horizon=out.horizon, meta=meta)


@validate_params(atol=Real(0.0, None))
def expert_fraction(data, Q, *, atol: float = 1e-9) -> float:
    """The fraction of transitions whose action is optimal (``Q(s, a) >= max_b Q(s, b) - atol``) at its state."""
    check_instance(data, "data", OfflineDataset)
    Q = as_float_array(Q, "Q", shape=(data.S, data.A))
    if len(data) == 0:
        raise ValueError("data is empty: no expert fraction")
    s, a = data.state.astype(np.int64), data.action.astype(np.int64)
    return float(np.mean(Q[s, a] >= Q.max(axis=1)[s] - atol))


def data_concentrability(mdp: TabularMDP, policy, data) -> float:
    """Exact ``C* = max d^pi / mu_hat`` of the data's empirical distribution ``mu_hat = N / n`` (inf when the policy
    visits an uncovered pair), :func:`theory_rl.coverage.concentrability`."""
    check_instance(mdp, "mdp", TabularMDP, episodic=False)
    check_instance(data, "data", OfflineDataset)
    if (data.S, data.A) != (mdp.S, mdp.A) or len(data) == 0:
        raise ValueError(f"data must be non-empty with (S, A) = ({mdp.S}, {mdp.A})")
    mu = data.counts / len(data)
    return float(concentrability(mdp, policy, mu, allow_infinite=True))
