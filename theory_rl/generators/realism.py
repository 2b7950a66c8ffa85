"""A "realism knobs" control task: the NeoRL-2 challenges and D5RL's data sources on one tabular instance.

Gao, Tu, Qin, Sun, Chen & Yu (2025), "NeoRL-2: Near Real-World Benchmarks for Offline RL with Extended Realistic
Scenarios", arXiv 2503.19267: very conservative behaviour data, delayed action effects, exogenous uncontrollable
factors, global safety constraints. Rafailov et al. (2024), D5RL, arXiv 2408.08441: scripted, play and mixed data.
The issue-18 digest (B4) maps the taxonomy, not the tasks, to a tabular generator:

- a set-point task (a stand-in for NeoRL-2's Pipeline): a level ``x in 0..L-1`` moved by ``down / stay / up``
  (slip: a random move), reward ``1 - |x - target| / (L - 1)``;
- the **exogenous factor** ``z`` picks the target among ``targets`` and switches to another uniformly with
  probability ``exo_switch`` per step, whatever the agent does (Pipeline's target flow switches with 0.003);
- the **delay** ``d``: an action acts ``d`` steps later. The Markov state carries the buffer of the last ``d``
  actions (``S = L * K * 3^d``); a learner that ignores the delay sees only ``(x, z)``
  (``RealismInstance.observation``);
- the **safety cost** ``c(s, a) = 1`` at the top level ``x = L - 1`` (an overflow), with a budget on its discounted
  sum;
- data sources: ``"scripted"``, a **conservative** controller (moves toward the target only when more than
  ``deadband`` away, else stays; plus ``noise`` uniform actions), ``"play"`` (uniform actions: task-agnostic), and
  ``"mixed"`` (the union of the two, half each; built by the caller from the two policies).

All behaviour and learned policies depend on the observed ``(x, z)`` only unless a learner uses the buffer, and
every policy is evaluated exactly in the Markov MDP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import Integer, Real, validate_params
from theory_rl.mdp import TabularMDP

__all__ = ["DATA_SOURCES", "RealismInstance", "realism_instance"]

DATA_SOURCES = ("scripted", "play", "mixed")
MOVES = (-1, 0, 1)  # down, stay, up


@dataclass(frozen=True)
class RealismInstance:
    """The task and its knobs.

    Attributes
    ----------
    mdp : TabularMDP
        The Markov MDP over ``(x, z, buffer)``: state ``((x * K + z) * 3^d + buffer code)``, the buffer's oldest
        action in the most significant digit; initial distribution uniform over ``(x, z)`` with a buffer of
        ``stay``.
    cost : numpy.ndarray, shape (S, A)
        The safety cost (1 at the top level).
    budget : float
        The budget on the discounted cost.
    observation : numpy.ndarray of int, shape (S,)
        ``x * K + z``: what a learner that ignores the delay observes.
    n_observed : int
        ``L * K``.
    behaviour : dict
        ``{"scripted": (S, A), "play": (S, A)}`` probabilities (functions of the observation only).
    targets : tuple of int
    delay : int
    """

    mdp: TabularMDP
    cost: np.ndarray
    budget: float
    observation: np.ndarray
    n_observed: int
    behaviour: dict
    targets: tuple
    delay: int

    def lift(self, policy_obs) -> np.ndarray:
        """A policy on observations ``(n_observed,)`` actions or ``(n_observed, A)`` probabilities, as a policy of
        the Markov MDP (the same action whatever the buffer)."""
        p = np.asarray(policy_obs)
        if p.shape[:1] != (self.n_observed,):
            raise ValueError(f"policy_obs has shape {p.shape}, expected ({self.n_observed},) or "
                             f"({self.n_observed}, {self.mdp.A})")
        return p[self.observation]


@validate_params(levels=Integer(3, 50), delay=Integer(0, 4), exo_switch=Real(0.0, 1.0), slip=Real(0.0, 1.0),
                 gamma=Real(0.0, 1.0, closed="left"), noise=Real(0.0, 1.0), deadband=Integer(0, 10),
                 budget=Real(0.0, None))
def realism_instance(levels: int = 8, *, delay: int = 0, exo_switch: float = 0.0, targets=(2, 5),
                     slip: float = 0.1, gamma: float = 0.9, noise: float = 0.1, deadband: int = 1,
                     budget: float = 0.5) -> RealismInstance:
    """The set-point task with its realism knobs (module docstring).

    Parameters
    ----------
    levels : int, default 8
        ``L``.
    delay : int, default 0
        Steps before an action acts (``d``; the Markov state grows by ``3^d``).
    exo_switch : float, default 0
        Per-step probability that the exogenous target switches.
    targets : sequence of int, default (2, 5)
        The target levels the exogenous factor picks from (``K`` of them, each in ``0..L-2``).
    slip, gamma : float
    noise : float, default 0.1
        Share of uniform actions in the scripted controller.
    deadband : int, default 1
        The scripted controller acts only when ``|x - target| > deadband`` (its conservatism).
    budget : float, default 0.5
        Budget on the discounted safety cost.
    """
    L, d = levels, delay
    tg = np.asarray(targets)
    if tg.ndim != 1 or tg.size < 1 or tg.dtype.kind not in "iu" or (tg < 0).any() or (tg > L - 2).any():
        raise ValueError(f"targets is {targets!r}, expected integer levels in 0..{L - 2}")
    K, A, B = tg.size, len(MOVES), 3 ** d
    S = L * K * B
    xs, zs, bufs = np.meshgrid(np.arange(L), np.arange(K), np.arange(B), indexing="ij")
    xs, zs, bufs = xs.ravel(), zs.ravel(), bufs.ravel()  # state order (x, z, buffer)
    P = np.zeros((S, A, S))
    # the applied move: the buffer's oldest action (or the current one without delay)
    oldest = bufs // (3 ** (d - 1)) if d else None
    z_next = np.full((K, K), exo_switch / max(K - 1, 1))
    np.fill_diagonal(z_next, 1.0 - exo_switch if K > 1 else 1.0)
    for a in range(A):
        applied = np.full(S, a) if d == 0 else oldest
        new_buf = (bufs % (3 ** (d - 1))) * 3 + a if d else np.zeros(S, dtype=np.int64)
        for m, mv in enumerate(MOVES):
            p_move = (1.0 - slip) * (applied == m) + slip / A
            x2 = np.clip(xs + mv, 0, L - 1)
            for z2 in range(K):
                idx = (x2 * K + z2) * B + new_buf
                np.add.at(P[:, a, :], (np.arange(S), idx), p_move * z_next[zs, z2])
    target = tg[zs]
    R = np.repeat((1.0 - np.abs(xs - target) / (L - 1))[:, None], A, axis=1)
    cost = np.repeat((xs == L - 1).astype(float)[:, None], A, axis=1)
    stay_code = sum(3 ** i for i in range(d))  # a buffer of "stay": action 1 in every digit (0 when d = 0)
    init = (bufs == stay_code).astype(float)
    init /= init.sum()
    obs = xs * K + zs
    err = target - xs
    scripted = np.full((S, A), noise / A)
    act = np.where(err > deadband, 2, np.where(err < -deadband, 0, 1))
    scripted[np.arange(S), act] += 1.0 - noise
    play = np.full((S, A), 1.0 / A)
    mdp = TabularMDP(P, R, init, gamma=gamma, reward_noise="deterministic")
    return RealismInstance(mdp=mdp, cost=cost, budget=budget, observation=obs, n_observed=L * K,
                           behaviour={"scripted": scripted, "play": play}, targets=tuple(int(t) for t in tg),
                           delay=d)
