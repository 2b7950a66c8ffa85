"""Gymnasium's toy-text environments as tabular MDPs: :func:`from_toy_text`.

FrozenLake, Taxi and CliffWalking (and any environment of the same kind) expose their model as
``env.unwrapped.P[s][a]``: a list of ``(probability, next_state, reward, terminated)``. The importer turns it into
a :class:`~theory_rl.mdp.TabularMDP`:

- *termination*: a terminated transition leads to one added absorbing state (index ``S_env``, the last), which
  loops on itself with reward 0 under every action; so the value of a state is the expected discounted sum of the
  rewards up to termination, as Gymnasium's episodes define it (the reward of the terminating step included). The
  absorbing state is added only when some transition terminates;
- *duplicates*: entries with the same next state (FrozenLake's slippery moves against a wall list it up to three
  times) are summed; the mean reward is ``R(s, a) = sum_entries p r``;
- *rewards*: mapped to [0, 1] by the affine :class:`~theory_rl.scales.RewardMap` of the rewards' range
  (the absorbing state's 0 included), the identity when they already lie in [0, 1] (FrozenLake); it is returned,
  and ``ImportedMDP.values`` maps values back;
- *start*: ``env.unwrapped.initial_state_distrib`` (all three environments have one), unless ``init`` is given.

Gymnasium is imported only when the function runs (extra ``gym``).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse

from theory_rl._validation import Integer, Options, Real, check_table, validate_params
from theory_rl.generators.csr import use_sparse
from theory_rl.interop.optional import require
from theory_rl.interop.rewards import ImportedMDP, fit_reward_map
from theory_rl.mdp import REWARD_NOISES, TabularMDP

__all__ = ["from_toy_text"]

#: Tolerance on the sum of the probabilities listed for one (s, a) (TabularMDP's own tolerance).
PROB_TOL = 1e-10


def _environment(env):
    """The unwrapped environment of ``env`` (an id string is made with ``gymnasium.make``)."""
    if isinstance(env, str):
        gym = require("gymnasium", "from_toy_text")
        try:
            env = gym.make(env)
        except Exception as err:  # noqa: BLE001 - gymnasium raises its own error classes for unknown ids
            raise ValueError(f"env is {env!r}, which gymnasium.make cannot build: {err}") from None
    unwrapped = getattr(env, "unwrapped", None)
    table = getattr(unwrapped, "P", None)
    if not isinstance(table, dict):
        raise ValueError(f"env is {type(env).__name__}, expected a Gymnasium environment with a transition table "
                         "env.unwrapped.P (a dict state -> action -> [(prob, next, reward, terminated)])")
    return unwrapped, table, getattr(env, "spec", None) or getattr(unwrapped, "spec", None)


def _transition_table(table: dict):
    """COO triplets over state-action rows, terminations, expected and extreme rewards of ``env.unwrapped.P``."""
    S = len(table)
    if S == 0 or sorted(table) != list(range(S)):
        raise ValueError(f"env.unwrapped.P has keys {sorted(table)[:5]}..., expected the states 0..{S - 1}")
    A = len(table[0]) if isinstance(table[0], dict) else 0
    check_table("the imported transitions", (S, A), ("S", "A"))
    rows, cols, probs, ends = [], [], [], []
    R = np.zeros(S * A)
    r_low, r_high = np.inf, -np.inf
    for s in range(S):
        acts = table[s]
        if not isinstance(acts, dict) or sorted(acts) != list(range(A)):
            raise ValueError(f"env.unwrapped.P[{s}] must map the actions 0..{A - 1} to transition lists")
        for a in range(A):
            total = 0.0
            for entry in acts[a]:
                try:
                    p, nxt, r, term = entry
                except (TypeError, ValueError):
                    raise ValueError(f"env.unwrapped.P[{s}][{a}] holds {entry!r}, expected "
                                     "(prob, next_state, reward, terminated)") from None
                ok = (isinstance(p, numbers.Real) and np.isfinite(p) and p >= 0
                      and isinstance(nxt, numbers.Integral) and 0 <= nxt < S
                      and isinstance(r, numbers.Real) and np.isfinite(r))  # fmt: skip
                if not ok:
                    raise ValueError(f"env.unwrapped.P[{s}][{a}] holds {entry!r}: expected a probability >= 0, a "
                                     f"next state in 0..{S - 1} and a finite reward")  # fmt: skip
                if p == 0:
                    continue
                rows.append(s * A + a)
                cols.append(int(nxt))
                probs.append(float(p))
                ends.append(bool(term))
                R[s * A + a] += p * r
                total += p
                r_low, r_high = min(r_low, float(r)), max(r_high, float(r))
            if abs(total - 1.0) > PROB_TOL:
                raise ValueError(f"env.unwrapped.P[{s}][{a}] has probabilities summing to {total:.12g}, expected 1 "
                                 f"(tolerance {PROB_TOL:g})")  # fmt: skip
    return S, A, np.array(rows, np.int64), np.array(cols, np.int64), np.array(probs), np.array(ends, bool), R, \
        (r_low, r_high)


@validate_params(gamma=Real(0, 1, closed="left", optional=True), horizon=Integer(1, optional=True),
                 reward_noise=Options(REWARD_NOISES))  # fmt: skip
def from_toy_text(
    env,
    *,
    gamma: float | None = None,
    horizon: int | None = None,
    init=None,
    reward_range=None,
    reward_noise: str = "deterministic",
    sparse: bool | None = None,
) -> ImportedMDP:
    """A Gymnasium toy-text environment (``env.unwrapped.P``) as a tabular MDP with its absorbing state.

    Parameters
    ----------
    env : gymnasium.Env or str
        An environment with a transition table ``env.unwrapped.P`` (FrozenLake, Taxi, CliffWalking), or its id
        for ``gymnasium.make`` (default settings).
    gamma, horizon
        Discounted (``gamma``, the default 0.9 when neither is given) or finite-horizon MDP (e.g. the
        environment's ``spec.max_episode_steps``). Both: the ``gamma``-discounted problem truncated at ``horizon``
        steps, imported as the finite-horizon MDP with that discount (``mdp.gamma`` with ``mdp.horizon``).
    init : array_like, shape (S_env,), optional
        Initial distribution over the environment's states; ``env.unwrapped.initial_state_distrib`` by default.
    reward_range : (float, float), optional
        The range mapped to [0, 1]; by default the rewards' own range (with the absorbing state's 0), or the
        identity map when they lie in [0, 1]. See :class:`~theory_rl.scales.RewardMap`.
    reward_noise : str, default "deterministic"
        How the MDP samples rewards around their mean (see :class:`~theory_rl.mdp.TabularMDP`). Gymnasium's
        rewards depend on the next state; the MDP keeps only their mean ``R(s, a)``, which is what its values use.
    sparse : bool, optional
        Store the transitions sparse (CSR, as listed) or dense; by default sparse when large
        (:func:`theory_rl.generators.csr.use_sparse`: Taxi is, FrozenLake and CliffWalking are not).

    Returns
    -------
    ImportedMDP
        ``mdp`` (``S_env + 1`` states with the absorbing one, the last), ``reward_map``, ``absorbing``, ``source``.

    Examples
    --------
    >>> from theory_rl import planning
    >>> imp = from_toy_text("FrozenLake-v1", gamma=0.9)
    >>> round(planning.expected_return(imp.mdp, planning.solve(imp.mdp).policy), 7)
    0.0688909
    """
    if gamma is None and horizon is None:
        gamma = 0.9
    unwrapped, table, spec = _environment(env)
    S, A, rows, cols, probs, ends, R, (r_low, r_high) = _transition_table(table)
    absorbing = S if ends.any() else None
    n_states = S + (absorbing is not None)
    if absorbing is not None:
        cols = np.where(ends, absorbing, cols)
        rows = np.append(rows, absorbing * A + np.arange(A))
        cols = np.append(cols, np.full(A, absorbing))
        probs = np.append(probs, np.ones(A))
        R = np.append(R, np.zeros(A))
        r_low, r_high = min(r_low, 0.0), max(r_high, 0.0)
    reward_map = fit_reward_map(r_low, r_high, reward_range)
    # Duplicates summed by the COO -> CSR conversion (its documented behaviour).
    kernel = scipy.sparse.coo_array((probs, (rows, cols)), shape=(n_states * A, n_states)).tocsr()
    kernel.sum_duplicates()
    if use_sparse(n_states * A * n_states, kernel.nnz, sparse):
        P = kernel
    else:
        check_table("P", (n_states, A, n_states), ("S", "A", "S"))
        P = kernel.toarray().reshape(n_states, A, n_states)
    if init is None:
        init = getattr(unwrapped, "initial_state_distrib", None)
        if init is None:
            raise ValueError("init is None and the environment has no initial_state_distrib: give init")
    init = np.asarray(init)
    if init.shape != (S,):
        raise ValueError(f"init has shape {init.shape}, expected ({S},): one entry per state of the environment")
    if absorbing is not None:
        init = np.append(init, 0.0)
    R_unit = np.clip(reward_map.to_unit(R.reshape(n_states, A)), 0.0, 1.0)  # clips rounding only
    mdp = TabularMDP(P, R_unit, init, gamma=gamma, horizon=horizon, reward_noise=reward_noise)
    name = getattr(spec, "id", None) or type(unwrapped).__name__
    meta = {"S_env": S, "A": A, "terminating_transitions": int(ends.sum()), "nonzeros": int(kernel.nnz),
            "max_episode_steps": getattr(spec, "max_episode_steps", None)}  # fmt: skip
    return ImportedMDP(mdp, reward_map, absorbing, f"gymnasium {name}", meta)
