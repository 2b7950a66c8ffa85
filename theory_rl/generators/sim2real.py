"""Sim-to-real instance families for H2O (Niu et al. 2022, "When to Trust Your Simulator", arXiv 2206.13464).

Each family gives a *real* MDP (where returns are measured and the offline data come from) and a *simulator*
(queried without limit) whose dynamics differ from the real ones by a controlled gap:

- :func:`sim_gap_gridworld`: a gridworld with a short "bridge" route and a longer safe route. In reality every
  action taken on a bridge cell drops the agent into an absorbing trap with probability ``p_trap``; the simulator
  agrees everywhere except on the first ``region`` bridge cells, where it says ``p_trap - gap``. Knobs: the gap
  size, the size of the wrong region (the real-data size and coverage are the data's knobs, see
  :func:`bridge_pairs` and :func:`theory_rl.data.controlled_coverage`).
- :func:`global_gap`: a simulator wrong everywhere, ``P_sim = (1 - lam) P + lam P_rand`` with ``P_rand`` drawn
  from the seed (the digest's global-gap family).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Real, check_int, check_table, validate_params
from theory_rl.generators.basic import GRID_MOVES
from theory_rl.mdp import TabularMDP

__all__ = ["SimGapInstance", "sim_gap_gridworld", "global_gap", "bridge_pairs"]


@dataclass(frozen=True, eq=False)
class SimGapInstance:
    """A real MDP and its simulator, with the layout of :func:`sim_gap_gridworld`.

    Attributes
    ----------
    real, sim : TabularMDP
        The real MDP and the simulator (same states, actions, rewards, initial distribution and gamma).
    bridge : (k,) int
        The bridge cells (states), in route order from the start.
    region : (r,) int
        The bridge cells where the simulator is wrong (the first ``r`` of ``bridge``).
    trap, goal, start : int
        The absorbing trap (reward 0), the absorbing goal (reward 1 per step) and the start state.
    gap, p_trap : float
    """

    real: TabularMDP
    sim: TabularMDP
    bridge: np.ndarray
    region: np.ndarray
    trap: int
    goal: int
    start: int
    gap: float
    p_trap: float


def _grid_kernel(height: int, width: int, slip: float, trap_prob: np.ndarray) -> np.ndarray:
    """Moves of the four actions with a uniform slip, plus a fall into the trap (last state) with probability
    ``trap_prob[cell]`` on every action taken at that cell. The goal (bottom right) and the trap absorb."""
    n = height * width
    S = n + 1
    P = np.zeros((S, 4, S))
    goal = n - 1
    for r in range(height):
        for c in range(width):
            s = r * width + c
            if s == goal:
                P[s, :, s] = 1.0
                continue
            targets = []
            for dr, dc in GRID_MOVES:
                nr, nc = r + dr, c + dc
                targets.append(nr * width + nc if 0 <= nr < height and 0 <= nc < width else s)
            for a in range(4):
                move = np.zeros(S)
                move[targets[a]] += 1.0 - slip
                for t in targets:
                    move[t] += slip / 4.0
                P[s, a] = (1.0 - trap_prob[s]) * move
                P[s, a, n] += trap_prob[s]
    P[n, :, n] = 1.0
    return P


@validate_params(gap=Real(0.0, 1.0), p_trap=Real(0.0, 1.0), slip=Real(0.0, 1.0), gamma=Real(0.0, 1.0, closed="left"))
def sim_gap_gridworld(
    gap: float,
    *,
    region: int | None = None,
    p_trap: float = 0.2,
    width: int = 6,
    height: int = 3,
    slip: float = 0.0,
    gamma: float = 0.9,
) -> SimGapInstance:
    """The bridge gridworld of the H2O digest (tabular analogue of Niu et al. 2022's dynamics-gap tasks).

    Cells ``r * width + c`` of a ``height x width`` grid, plus a trap state ``S - 1``. The agent starts at the
    bottom-left cell; the bottom-right cell is the goal (absorbing, reward 1 per step; every other reward is 0).
    The bottom-row cells between them are the bridge: every action taken there falls into the trap with
    probability ``p_trap`` in reality. The simulator says ``p_trap - gap`` on the first ``region`` bridge cells
    (all of them by default) and agrees with reality elsewhere. With the defaults the safe route (up one row,
    across, down: 7 moves) is optimal in reality (value ``0.9^7 / 0.1 = 4.78`` at the start against
    ``0.9^5 0.8^4 / 0.1 = 2.42`` for the bridge), and the simulator prefers the bridge once
    ``(1 - 0.2 + gap)^4 > 0.9^2``, i.e. ``gap > 0.149``.

    Parameters
    ----------
    gap : float in [0, p_trap]
        The simulator's under-estimate of the trap probability on the wrong region.
    region : int, optional
        How many bridge cells (from the start side) the simulator gets wrong; ``width - 2`` (all) by default.
    p_trap : float in [0, 1], default 0.2
    width : int >= 3, default 6; height : int >= 2, default 3
    slip : float in [0, 1], default 0
        Probability that a move is replaced by a uniformly random one (as in :func:`gridworld`).
    gamma : float in [0, 1), default 0.9
    """
    width = check_int(width, "width", low=3)
    height = check_int(height, "height", low=2)
    check_table("P", (height * width + 1, 4, height * width + 1),
                ("height * width + 1", "4", "height * width + 1"))  # fmt: skip
    if gap > p_trap:
        raise ValueError(f"gap is {gap}, expected a number in [0, p_trap = {p_trap}]")
    bridge = np.array([(height - 1) * width + c for c in range(1, width - 1)])
    region = len(bridge) if region is None else check_int(region, "region", low=0, high=len(bridge))
    n = height * width
    trap_real = np.zeros(n + 1)
    trap_real[bridge] = p_trap
    trap_sim = trap_real.copy()
    trap_sim[bridge[:region]] = p_trap - gap
    R = np.zeros((n + 1, 4))
    R[n - 1] = 1.0
    init = np.zeros(n + 1)
    start = (height - 1) * width
    init[start] = 1.0
    real = TabularMDP(_grid_kernel(height, width, slip, trap_real), R, init, gamma=gamma,
                      reward_noise="deterministic")  # fmt: skip
    sim = TabularMDP(_grid_kernel(height, width, slip, trap_sim), R, init, gamma=gamma, reward_noise="deterministic")
    return SimGapInstance(real=real, sim=sim, bridge=bridge, region=bridge[:region].copy(), trap=n, goal=n - 1,
                          start=start, gap=float(gap), p_trap=float(p_trap))  # fmt: skip


@validate_params(lam=Real(0.0, 1.0))
def global_gap(mdp: TabularMDP, lam: float, *, seed: SeedLike) -> TabularMDP:
    """A simulator wrong everywhere: ``P_sim = (1 - lam) P + lam P_rand``, ``P_rand(·|s, a) ~ Dirichlet(1)``.

    Rewards, initial distribution and gamma are those of ``mdp`` (discounted). ``P_rand`` depends on the seed
    only, so one seed gives a family of simulators nested in ``lam``.
    """
    if not isinstance(mdp, TabularMDP) or not mdp.is_discounted:
        raise ValueError(f"mdp is {mdp!r}, expected a discounted TabularMDP")
    rng = as_generator(seed)
    P_rand = rng.dirichlet(np.ones(mdp.S), size=(mdp.S, mdp.A))
    P = (1.0 - lam) * mdp.P + lam * P_rand
    return TabularMDP(P, mdp.R, mdp.init, gamma=mdp.gamma, reward_noise=mdp.reward_noise, reward_std=mdp.reward_std,
                      reward_range=mdp.reward_range)


def bridge_pairs(instance: SimGapInstance) -> np.ndarray:
    """Boolean ``(S, A)`` mask of the state-action pairs on the bridge (to remove them from a data distribution
    when the real data should not cover the gap region)."""
    if not isinstance(instance, SimGapInstance):
        raise ValueError(f"instance is {instance!r}, expected a SimGapInstance")
    mask = np.zeros((instance.real.S, instance.real.A), dtype=bool)
    mask[instance.bridge] = True
    return mask

