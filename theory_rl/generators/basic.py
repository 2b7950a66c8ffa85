"""Seeded random and structured MDPs and bandits.

Random generators take a required ``seed`` (int, SeedSequence or Generator). Structured ones are deterministic.
Each MDP generator takes ``gamma`` (discounted) or ``horizon`` (finite horizon), as :class:`TabularMDP` does.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from theory_rl._random import SeedLike, as_generator
from theory_rl._sparse import DENSE_LIMIT
from theory_rl._validation import (
    InvalidParameterError,
    as_index_array,
    check_cell,
    check_choice,
    check_int,
    check_positive_int,
    check_real,
    check_table,
)
from theory_rl.generators.csr import combination_lock_csr, gridworld_csr, river_swim_csr, use_sparse
from theory_rl.mdp import ContextualBandit, MultiArmedBandit, TabularMDP

__all__ = [
    "slip_kernel",
    "garnet",
    "river_swim",
    "gridworld",
    "combination_lock",
    "gamblers_problem",
    "random_bandit",
    "random_contextual_bandit",
]


def _discount_or_horizon(gamma, horizon, default_gamma: float = 0.9) -> dict:
    if gamma is None and horizon is None:
        return {"gamma": default_gamma}
    return {"gamma": gamma, "horizon": horizon}


def _probability(value, name: str) -> float:
    return check_real(value, name, low=0.0, high=1.0)  # NaN, inf, complex, bools and strings refused


def garnet(
    S: int,
    A: int,
    branching: int,
    *,
    seed: SeedLike,
    gamma: float | None = None,
    horizon: int | None = None,
    reward_noise: str = "bernoulli",
    sparse: bool | None = None,
) -> TabularMDP:
    """A random Garnet MDP (Archibald, McKinnon & Thomas 1995; Bhatnagar et al. 2009).

    Each ``(s, a)`` moves to ``branching`` distinct next states drawn uniformly, with probabilities given by
    the spacings of ``branching - 1`` sorted uniforms (a uniform draw from the simplex). Mean rewards are
    uniform on [0, 1]; the initial distribution is uniform. ``branching = S`` gives a dense random MDP.

    The sparse form (issue 15) is built in time and memory linear in the ``S * A * branching`` non-zeros: the
    supports by rejection (``branching^2 <= S``), Floyd's algorithm, or a random permutation per pair
    (``branching > S / 4``), the probabilities as normalised exponentials (the same uniform law on the
    simplex), stored as CSR (``mdp.transitions``). S = 10^6, A = 10,
    branching 5 takes a few seconds (``benchmarks/quantecon.py``). It draws the same distribution as the dense
    form but not the same sample: one seed gives different MDPs in the two forms.

    Parameters
    ----------
    S, A : int
        Numbers of states and actions.
    branching : int
        Number of reachable next states per ``(s, a)``, in ``1..S``.
    seed : int, SeedSequence or Generator
    gamma, horizon
        Discounted (default ``gamma = 0.9``) or finite-horizon.
    reward_noise : str
        Reward distribution for sampling, see :class:`TabularMDP`.
    sparse : bool, optional
        Sparse (CSR) or dense storage. By default sparse exactly when the dense ``(S, A, S)`` table would exceed
        2^25 entries (the size up to which a sparse MDP densifies on demand), so small Garnets keep their dense
        draws and large ones are built sparse.
    """
    S = check_positive_int(S, "S")
    A = check_positive_int(A, "A")
    branching = check_positive_int(branching, "branching")
    if branching > S:
        raise ValueError(f"branching is {branching}, expected at most S = {S}")
    if sparse is None:
        sparse = S * A * S > DENSE_LIMIT
    elif not isinstance(sparse, (bool, np.bool_)):
        raise ValueError(f"sparse is {sparse!r}, expected True, False or None")
    if sparse:
        check_table("the transitions", (S, A, branching), ("S", "A", "branching"), itemsize=16)
        return _sparse_garnet(S, A, branching, as_generator(seed), reward_noise, _discount_or_horizon(gamma, horizon))
    check_table("P", (S, A, S), ("S", "A", "S"))
    rng = as_generator(seed)
    P = np.zeros((S, A, S))
    # Next states: the first `branching` entries of a random permutation of 0..S-1, per (s, a).
    order = np.argsort(rng.random((S, A, S)), axis=-1)[..., :branching]
    cuts = np.sort(rng.random((S, A, branching - 1)), axis=-1)
    weights = np.diff(cuts, prepend=0.0, append=1.0)
    np.put_along_axis(P, order, weights, axis=-1)
    P /= P.sum(axis=-1, keepdims=True)  # exact normalisation after the floating-point spacings
    R = rng.random((S, A))
    return TabularMDP(
        P, R, np.full(S, 1.0 / S), reward_noise=reward_noise, **_discount_or_horizon(gamma, horizon)
    )


def _sparse_garnet(S: int, A: int, b: int, rng: np.random.Generator, reward_noise: str, kind: dict) -> TabularMDP:
    """The sparse Garnet of :func:`garnet`, in time and memory linear in the S * A * b non-zeros."""
    n = S * A
    if b * b <= S:  # b uniform draws, rows with a repeat redrawn: uniform on distinct b-sets; P(repeat) <= b^2 / 2S
        support = rng.integers(0, S, size=(n, b))
        while True:
            support.sort(axis=1)
            redo = np.flatnonzero((support[:, 1:] == support[:, :-1]).any(axis=1))
            if redo.size == 0:
                break
            support[redo] = rng.integers(0, S, size=(redo.size, b))
    elif 4 * b > S:  # dense-ish supports: the first b entries of a random permutation (cost n * S <= 4 n * b)
        support = np.sort(np.argsort(rng.random((n, S)), axis=1)[:, :b], axis=1)
    else:  # Floyd (Bentley & Floyd 1987): for j = S-b..S-1 draw t in 0..j; take t, or j if t was taken
        support = np.empty((n, b), dtype=np.int64)
        for i, j in enumerate(range(S - b, S)):
            t = rng.integers(0, j + 1, size=n)
            taken = (support[:, :i] == t[:, None]).any(axis=1) if i else np.zeros(n, dtype=bool)
            support[:, i] = np.where(taken, j, t)
        support.sort(axis=1)
    # Normalised i.i.d. exponentials: the uniform distribution on the simplex, as the dense form's spacings.
    weights = rng.standard_exponential((n, b))
    total = weights[:, 0].copy()
    for j in range(1, b):
        total += weights[:, j]
    weights /= total[:, None]
    R = rng.random((S, A))
    # An underflowed weight would be an explicit zero, which the MDP's canonical form drops.
    T = scipy.sparse.csr_array((n, S))  # arrays set directly: scipy's constructor would downcast to int32 and back
    T.data, T.indices, T.indptr = weights.reshape(-1), support.reshape(-1), np.arange(0, n * b + 1, b)
    return TabularMDP(T, R, np.full(S, 1.0 / S), reward_noise=reward_noise, **kind)


def river_swim(
    S: int = 6,
    *,
    gamma: float | None = None,
    horizon: int | None = None,
    p_right: float = 0.35,
    p_left: float = 0.05,
    r_left: float = 0.005,
    r_right: float = 1.0,
    sparse: bool | None = None,
) -> TabularMDP:
    """RiverSwim (Strehl & Littman 2008), with the parameters of Osband, Russo & Van Roy (2013).

    States ``0..S-1`` on a river; action 0 swims left (with the current, always succeeds), action 1 swims right
    (against it): from an inner state it moves right with probability ``p_right``, left with ``p_left`` and stays
    otherwise; at the left bank it moves right with ``p_right + p_left``; at the right bank it stays with
    ``1 - p_left`` (the right bank is reached and kept). Rewards: ``r_left`` for swimming left at state 0,
    ``r_right`` for swimming right at state ``S-1``. The swimmer starts at state 0.

    ``sparse``: store ``P`` as CSR (at most 3 entries a row, built in O(S)), dense, or (None) sparse when large
    (:func:`theory_rl.generators.csr.use_sparse`); both forms are the same MDP, entry for entry.
    """
    S = check_positive_int(S, "S", minimum=2)
    p_right, p_left = _probability(p_right, "p_right"), _probability(p_left, "p_left")
    if p_right + p_left > 1:
        raise ValueError(f"p_right + p_left is {p_right + p_left}, expected at most 1")
    check_table("R", (S, 2), ("S", "2"))
    R = np.zeros((S, 2))
    R[0, 0] = _probability(r_left, "r_left")
    R[S - 1, 1] = _probability(r_right, "r_right")
    init = np.zeros(S)
    init[0] = 1.0
    kind = _discount_or_horizon(gamma, horizon, 0.95)
    if use_sparse(2 * S * S, 6 * S, sparse):
        return TabularMDP(river_swim_csr(S, p_right, p_left), R, init, reward_noise="bernoulli", **kind)
    check_table("P", (S, 2, S), ("S", "2", "S"))
    P = np.zeros((S, 2, S))
    for s in range(S):
        P[s, 0, max(s - 1, 0)] = 1.0
    P[0, 1, 1] = p_right + p_left
    P[0, 1, 0] = 1.0 - p_right - p_left
    for s in range(1, S - 1):
        P[s, 1, s + 1] = p_right
        P[s, 1, s - 1] = p_left
        P[s, 1, s] = 1.0 - p_right - p_left
    P[S - 1, 1, S - 1] = 1.0 - p_left
    P[S - 1, 1, S - 2] = p_left
    return TabularMDP(P, R, init, reward_noise="bernoulli", **kind)


#: Grid moves of the four actions: up, right, down, left (row, column offsets).
GRID_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def gridworld(
    height: int,
    width: int,
    *,
    slip: float = 0.1,
    walls: tuple[tuple[int, int], ...] = (),
    start: tuple[int, int] = (0, 0),
    goal: tuple[int, int] | None = None,
    gamma: float | None = None,
    horizon: int | None = None,
    sparse: bool | None = None,
) -> TabularMDP:
    """A slippery gridworld with walls and an absorbing goal.

    State ``r * width + c`` is cell ``(r, c)``. Actions 0..3 move up, right, down, left; with probability
    ``1 - slip`` the intended move happens, otherwise a uniformly random one of the four. Moves into a wall or off
    the grid leave the agent in place. Every action at the goal earns reward 1 and stays there; all other
    rewards are 0. Wall cells are unreachable (they keep self-loops so P stays valid).

    ``sparse``: store ``P`` as CSR (at most 5 entries a row, built in O(S) by
    ``theory_rl.generators.csr.gridworld_csr``), dense, or (None) sparse when large
    (:func:`theory_rl.generators.csr.use_sparse`); both forms are the same MDP, entry for entry.
    """
    height = check_positive_int(height, "height")
    width = check_positive_int(width, "width")
    slip = _probability(slip, "slip")
    check_table("R", (height * width, 4), ("height * width", "4"))
    goal = (height - 1, width - 1) if goal is None else check_cell(goal, "goal", height, width)
    start = check_cell(start, "start", height, width)
    if isinstance(walls, str):
        raise InvalidParameterError(f"walls is {walls!r}, expected a sequence of cells (row, column)")
    try:
        wall_list = list(walls)
    except TypeError:
        raise InvalidParameterError(f"walls is {walls!r}, expected a sequence of cells (row, column)") from None
    wall_set = {check_cell(w, "walls entry", height, width) for w in wall_list}
    if start in wall_set or goal in wall_set:
        raise ValueError("start and goal must not be walls")
    S = height * width
    R = np.zeros((S, 4))
    R[goal[0] * width + goal[1], :] = 1.0
    init = np.zeros(S)
    init[start[0] * width + start[1]] = 1.0
    kind = _discount_or_horizon(gamma, horizon, 0.95)
    if use_sparse(4 * S * S, 20 * S, sparse):
        wall_mask = np.zeros(S, dtype=bool)
        wall_mask[[r * width + c for r, c in wall_set]] = True
        P = gridworld_csr(height, width, slip, GRID_MOVES, wall_mask, goal[0] * width + goal[1])
        return TabularMDP(P, R, init, reward_noise="bernoulli", **kind)
    check_table("P", (S, 4, S), ("height * width", "4", "height * width"))
    cells = {(r, c) for r in range(height) for c in range(width)}
    P = np.zeros((S, 4, S))

    def target(r, c, move):
        nr, nc = r + move[0], c + move[1]
        return (r, c) if (nr, nc) not in cells or (nr, nc) in wall_set else (nr, nc)

    for r, c in cells:
        s = r * width + c
        if (r, c) == goal or (r, c) in wall_set:
            P[s, :, s] = 1.0
            continue
        for a, move in enumerate(GRID_MOVES):
            tr, tc = target(r, c, move)
            P[s, a, tr * width + tc] += 1.0 - slip
            for other in GRID_MOVES:
                orow, ocol = target(r, c, other)
                P[s, a, orow * width + ocol] += slip / 4.0
    return TabularMDP(P, R, init, reward_noise="bernoulli", **kind)


def combination_lock(
    horizon: int, A: int, *, seed: SeedLike, anti_reward: float = 0.0, sparse: bool | None = None
) -> TabularMDP:
    """A combination lock: one secret action per step; a single mistake is unrecoverable.

    Two states: 0 ("on track") and 1 ("failed", absorbing). At step ``h`` in state 0, the secret action
    ``code[h]`` (drawn uniformly from the seed) keeps the agent on track; any other action fails it. Taking the
    secret action at the last step earns reward 1, so V* = 1 while the uniform policy earns ``A^-H``.
    Stage-dependent ``P`` and ``R`` of shapes ``(H, 2, A, 2)`` and ``(H, 2, A)``; the code is
    ``argmax R[H-1, 0]`` for the last step and ``argmax P[h, 0, :, 0]`` for each step.

    ``anti_reward`` (default 0: the plain lock) is the mean reward of falling off the chain: every wrong action
    in state 0 earns it. Zhou et al. (2023)'s anti-shaped distractor pays 0.1 with probability 0.5, i.e.
    ``anti_reward = 0.05`` in mean (rewards here are deterministic means). It pulls on-policy gradients toward
    failing early.

    ``sparse``: store ``P`` as CSR (one entry a row, ``(H*2*A, 2)``), dense, or (None) sparse when large
    (:func:`theory_rl.generators.csr.use_sparse`); both forms are the same MDP, entry for entry.
    """
    H = check_positive_int(horizon, "horizon")
    A = check_positive_int(A, "A", minimum=2)
    anti_reward = _probability(anti_reward, "anti_reward")
    check_table("R", (H, 2, A), ("horizon", "2", "A"))
    code = as_generator(seed).integers(0, A, size=H)
    R = np.zeros((H, 2, A))
    R[:, 0, :] = anti_reward
    R[np.arange(H), 0, code] = 0.0
    R[H - 1, 0, code[H - 1]] = 1.0
    if use_sparse(H * 4 * A, H * 2 * A, sparse):
        return TabularMDP(combination_lock_csr(code, A), R, np.array([1.0, 0.0]), horizon=H,
                          reward_noise="deterministic")  # fmt: skip
    check_table("P", (H, 2, A, 2), ("horizon", "2", "A", "2"))
    P = np.zeros((H, 2, A, 2))
    P[:, 0, :, 1] = 1.0
    P[np.arange(H), 0, code, 0] = 1.0
    P[np.arange(H), 0, code, 1] = 0.0
    P[:, 1, :, 1] = 1.0
    return TabularMDP(P, R, np.array([1.0, 0.0]), horizon=H, reward_noise="deterministic")


def gamblers_problem(
    target: int = 50,
    *,
    p_head: float = 0.45,
    horizon: int = 100,
    invalid_bets: str = "clip",
) -> TabularMDP:
    """The gambler's problem as in Li, Shi, Chen, Chi & Wei (2024, Sec. 4), after Sutton & Barto (2018, Ex. 4.3).

    Capital ``s`` in ``0..target``; a stake of ``b`` wins ``b`` with probability ``p_head`` and loses it
    otherwise. Reward 1 on reaching ``target``; capital 0 and ``target`` are absorbing with reward 0. Finite
    horizon ``H = 100`` and a uniform initial distribution over all ``target + 1`` states, as in the paper.

    Action ``a`` in ``0..target//2 - 1`` stakes ``b = a + 1``. The allowed stakes at capital ``s`` are
    ``1..min(s, target - s)``; a fixed action set needs a convention for the others, and the paper does not state
    one (unverified): with ``invalid_bets="clip"`` (default) a too-large stake is cut to ``min(s, target - s)``;
    with ``"lose"`` it forfeits the whole capital (moves to 0), making such actions strictly bad.

    The mean reward is ``R(s, a) = p_head * 1[s + b = target]``: the expected reward of the winning transition,
    so values equal the paper's exactly. Sampled rewards are Bernoulli with that mean, independent of the sampled
    next state; the tabular algorithms use only reward sums, whose mean is the same.
    """
    target = check_positive_int(target, "target", minimum=2)
    H = check_positive_int(horizon, "horizon")
    p_head = _probability(p_head, "p_head")
    check_choice(invalid_bets, "invalid_bets", ("clip", "lose"))
    S, A = target + 1, target // 2
    check_table("P", (S, A, S), ("target + 1", "target // 2", "target + 1"))
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    P[0, :, 0] = 1.0
    P[target, :, target] = 1.0
    for s in range(1, target):
        max_stake = min(s, target - s)
        for a in range(A):
            stake = a + 1
            if stake > max_stake and invalid_bets == "lose":
                P[s, a, 0] = 1.0
                continue
            stake = min(stake, max_stake)
            P[s, a, s + stake] += p_head
            P[s, a, s - stake] += 1.0 - p_head
            R[s, a] = p_head if s + stake == target else 0.0
    return TabularMDP(P, R, np.full(S, 1.0 / S), horizon=H, reward_noise="bernoulli")


def random_bandit(A: int, *, seed: SeedLike, reward_noise: str = "bernoulli") -> MultiArmedBandit:
    """A multi-armed bandit with arm means uniform on [0, 1]."""
    A = check_positive_int(A, "A")
    check_table("the arm means", (A,), ("A",))
    return MultiArmedBandit(as_generator(seed).random(A), reward_noise=reward_noise)


def random_contextual_bandit(
    S: int, A: int, *, seed: SeedLike, context_dist=None, reward_noise: str = "bernoulli"
) -> ContextualBandit:
    """A contextual bandit with means uniform on [0, 1]; contexts uniform unless ``context_dist`` is given."""
    S = check_positive_int(S, "S")
    A = check_positive_int(A, "A")
    check_table("the mean rewards", (S, A), ("S", "A"))
    rho = np.full(S, 1.0 / S) if context_dist is None else context_dist
    return ContextualBandit(as_generator(seed).random((S, A)), rho, reward_noise=reward_noise)


def slip_kernel(targets, slip: float, absorbing: int | None = None) -> np.ndarray:
    """The transition kernel of a slippery move model with an optional absorbing state.

    ``targets[s, a]`` is the state that move ``a`` leads to from ``s``; with probability ``1 - slip`` the chosen
    move happens, otherwise a uniformly random one of the ``A`` moves (the chosen one included), so
    ``P[s, a] = (1 - slip) e_{targets[s, a]} + slip / A sum_b e_{targets[s, b]}``. Row ``absorbing``, if given, is
    replaced by a self-loop. Shared by the torus gridworld (GuDA) and the edge-of-reach gridworld.

    Parameters
    ----------
    targets : array_like of int, shape (S, A)
        Successor state of every move, each in ``0..S-1``.
    slip : float
        Probability in [0, 1] of a uniformly random move.
    absorbing : int, optional
        A state that stays put under every action.

    Returns
    -------
    numpy.ndarray, shape (S, A, S)
    """
    S = np.shape(targets)[0] if np.ndim(targets) == 2 else 0
    targets = as_index_array(targets, "targets", S, ndim=2)
    S, A = targets.shape
    if S == 0 or A == 0:
        raise ValueError(f"targets has shape {targets.shape}, expected (S, A) with S, A >= 1")
    check_table("the kernel", (S, A, S), ("S", "A", "S"))
    slip = check_real(slip, "slip", low=0.0, high=1.0)
    P = np.zeros((S, A, S))
    for a in range(A):
        P[np.arange(S), a, targets[:, a]] += 1.0 - slip
        for b in range(A):
            P[np.arange(S), a, targets[:, b]] += slip / A
    if absorbing is not None:
        absorbing = check_int(absorbing, "absorbing", low=0, high=S - 1)
        P[absorbing] = 0.0
        P[absorbing, :, absorbing] = 1.0
    return P
