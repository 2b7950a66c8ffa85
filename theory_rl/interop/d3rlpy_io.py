"""Export to and import from d3rlpy (2.8): :func:`to_d3rlpy`, :func:`from_d3rlpy`.

d3rlpy stores episodes as rows ``(observation, action, reward)`` ending in a timeout or a terminal flag, without
next observations: its transition ``t`` goes from row ``t`` to row ``t + 1``, so a timed-out episode of ``T`` rows
yields ``T - 1`` transitions (and a terminal one ``T``, whose last transition leads to a zero observation with
``terminal = 1``: a value cut to 0, wrong for a tabular MDP, which has no terminal state). Hence
``MDPDataset(**dataset.as_arrays())``-style layouts lose the last step of every episode, and all of i.i.d. data.

:func:`to_d3rlpy` writes each run of linked transitions (:mod:`theory_rl.interop.transitions`: a trajectory, or
one i.i.d. sample) of ``L`` transitions as ``L + 1`` rows: the ``L`` transitions' states, actions and rewards,
then a padding row holding the final next state (action 0, reward 0, ``timeout = 1``; d3rlpy never uses the
padding row's action or reward as a transition's own, though a SARSA-style ``next_action`` of the last
transition and a sequence model's view of the episode do see it). d3rlpy then yields exactly the ``L``
transitions, none terminal: every transition is kept.

Observations (float32, as d3rlpy's encoders need; integer observations are refused by d3rlpy):

- ``"one_hot"``: ``e_s`` in ``R^S``; for a finite-horizon dataset followed by ``e_h`` in ``R^(H+1)`` (the step
  of the observation, ``H`` for the final next state of an episode), so that the observation is Markov for the
  stage-dependent MDP;
- ``"index"``: ``[s]``, or ``[s, h]`` for a finite horizon (exact in float32 up to ``2**24``).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Instance, Integer, Options, Real, check_table, validate_params
from theory_rl.data import OfflineDataset
from theory_rl.interop.optional import require
from theory_rl.interop.transitions import imported_dataset, run_bounds, run_starts

__all__ = ["OBSERVATIONS", "to_d3rlpy", "from_d3rlpy"]

#: The observation encodings of :func:`to_d3rlpy` / :func:`from_d3rlpy`.
OBSERVATIONS = ("one_hot", "index")
#: Integers up to this bound are exact in float32.
FLOAT32_EXACT = 2**24


def observation_size(S: int, horizon: int | None, observation: str) -> int:
    """Length of one encoded observation."""
    if observation == "index":
        return 1 if horizon is None else 2
    return S if horizon is None else S + horizon + 1


def encode(states, steps, S: int, horizon: int | None, observation: str) -> np.ndarray:
    """float32 observations ``(n, observation_size)`` of states (and, for a finite horizon, steps)."""
    n = states.shape[0]
    check_table("the d3rlpy observations", (n, observation_size(S, horizon, observation)), ("rows", "size"),
                itemsize=4)  # fmt: skip
    if observation == "index":
        cols = [states] if horizon is None else [states, steps]
        return np.stack(cols, axis=1).astype(np.float32)
    out = np.zeros((n, observation_size(S, horizon, observation)), dtype=np.float32)
    rows = np.arange(n)
    out[rows, states] = 1.0
    if horizon is not None:
        out[rows, S + steps] = 1.0
    return out


def decode(obs, S: int, horizon: int | None, observation: str, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(states, steps)`` of encoded observations; anything that is not an exact encoding is a ValueError."""
    obs = np.asarray(obs)
    size = observation_size(S, horizon, observation)
    if obs.ndim != 2 or obs.shape[1] != size:
        raise ValueError(f"{where}: observations have shape {obs.shape}, expected (rows, {size}) for "
                         f"observation={observation!r}, S={S}, horizon={horizon}")  # fmt: skip
    if observation == "index":
        bad = ~np.isfinite(obs) | (obs != np.round(obs))
        if bad.any():
            i = int(np.argwhere(bad)[0, 0])
            raise ValueError(f"{where}: observation {i} is {obs[i]}, expected integer indices")
        idx = obs.astype(np.int64)
        return idx[:, 0], (idx[:, 1] if horizon is not None else None)
    blocks = [(obs[:, :S], "state")] + ([(obs[:, S:], "step")] if horizon is not None else [])
    out = []
    for block, what in blocks:
        ok = ((block == 0) | (block == 1)).all(axis=1) & (block.sum(axis=1) == 1)
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(f"{where}: observation {i} is not a one-hot {what} encoding: {obs[i]}")
        out.append(np.argmax(block, axis=1).astype(np.int64))
    return out[0], (out[1] if horizon is not None else None)


@validate_params(dataset=Instance(OfflineDataset), observation=Options(OBSERVATIONS))
def to_d3rlpy(dataset: OfflineDataset, observation: str = "one_hot"):
    """``dataset`` as a d3rlpy ``MDPDataset`` (discrete actions) that keeps every transition.

    Parameters
    ----------
    dataset : OfflineDataset
        Trajectory or i.i.d. data (any order; see the module doc for the padding row of each run).
    observation : {"one_hot", "index"}
        The float32 encoding of states (and steps, for a finite horizon); see the module doc.

    Returns
    -------
    d3rlpy.dataset.MDPDataset
        ``transition_count == len(dataset)`` (checked: a d3rlpy that dropped a transition raises here), rewards
        float64 as sampled, ``action_size = A``. The step of a discounted dataset is not stored (it is the
        position in the run, which :func:`from_d3rlpy` restores for trajectories).
    """
    d3rlpy = require("d3rlpy", "to_d3rlpy")
    if len(dataset) == 0:
        raise ValueError("dataset is empty: d3rlpy needs at least one episode")
    if observation == "index" and max(dataset.S, (dataset.horizon or 0) + 1) > FLOAT32_EXACT:
        raise ValueError(f"observation='index' is exact in float32 only for S <= {FLOAT32_EXACT}; use 'one_hot'")
    first, last = run_bounds(dataset)
    n, k = len(dataset), first.size
    run_of = np.cumsum(run_starts(dataset)) - 1  # run of each transition
    row = np.arange(n) + run_of  # each earlier run adds one padding row
    pad = last + np.arange(k) + 1
    states = np.empty(n + k, dtype=np.int64)
    steps = np.empty(n + k, dtype=np.int64)
    states[row], states[pad] = dataset.state, dataset.next_state[last]
    steps[row], steps[pad] = dataset.step, dataset.step[last] + 1
    actions = np.zeros(n + k, dtype=np.int64)
    actions[row] = dataset.action
    rewards = np.zeros(n + k, dtype=np.float64)
    rewards[row] = dataset.reward
    timeouts = np.zeros(n + k, dtype=np.float32)
    timeouts[pad] = 1.0
    obs = encode(states, steps, dataset.S, dataset.horizon, observation)
    out = d3rlpy.dataset.MDPDataset(
        obs, actions, rewards, np.zeros(n + k, dtype=np.float32), timeouts,
        action_space=d3rlpy.constants.ActionSpace.DISCRETE, action_size=dataset.A,
    )  # fmt: skip
    if out.transition_count != n:
        raise RuntimeError(f"d3rlpy kept {out.transition_count} of {n} transitions (d3rlpy {d3rlpy.__version__})")
    return out


@validate_params(observation=Options(OBSERVATIONS), S=Integer(1, optional=True), gamma=Real(0, 1, optional=True),
                 horizon=Integer(1, optional=True), terminal_state=Integer(0, optional=True))  # fmt: skip
def from_d3rlpy(
    dataset,
    observation: str = "one_hot",
    *,
    S: int | None = None,
    gamma: float | None = None,
    horizon: int | None = None,
    terminal_state: int | None = None,
) -> OfflineDataset:
    """The transitions of a d3rlpy dataset with discrete actions as an :class:`OfflineDataset`.

    Exactly the transitions d3rlpy's own transition picker yields: rows ``t -> t + 1`` of each episode, plus the
    last row of a terminal episode.

    Parameters
    ----------
    dataset : d3rlpy.dataset.ReplayBufferBase
        An ``MDPDataset`` or replay buffer (discrete action space).
    observation : {"one_hot", "index"}
        How the observations encode the state (and the step, when ``horizon`` is given): see the module doc.
    S : int, optional
        Number of states; required for ``"index"``, inferred from the one-hot width otherwise.
    gamma, horizon : optional
        The MDP's discount or horizon (d3rlpy records neither). With ``horizon`` the step is read from the
        observation; without, it is the position in the episode.
    terminal_state : int, optional
        The (absorbing) state a terminal transition leads to: d3rlpy stores no observation after a termination,
        and a tabular MDP has no terminal state, so a dataset with terminal episodes needs it.

    Returns
    -------
    OfflineDataset
        Episode ids are d3rlpy's episode positions; ``behaviour_prob`` is the empirical frequency
        ``N_h(s, a) / N_h(s)`` (d3rlpy records no behaviour probability; ``meta`` says so).
    """
    d3rlpy = require("d3rlpy", "from_d3rlpy")
    if not isinstance(dataset, d3rlpy.dataset.ReplayBufferBase):
        raise ValueError(f"dataset is a {type(dataset).__name__}, expected a d3rlpy MDPDataset or ReplayBuffer")
    info = dataset.dataset_info
    if info.action_space != d3rlpy.constants.ActionSpace.DISCRETE:
        raise ValueError(f"dataset has action space {info.action_space}, expected discrete actions")
    A = int(info.action_size)
    width = int(np.prod(info.observation_signature.shape[0]))
    if observation == "index" and S is None:
        raise ValueError("S is None: observation='index' needs the number of states")
    if S is None:
        S = width - (horizon + 1 if horizon is not None else 0)
        if S < 1:
            raise ValueError(f"S: observations of width {width} leave no state for horizon {horizon}")
    if terminal_state is not None and terminal_state >= S:
        raise ValueError(f"terminal_state is {terminal_state}, expected a state in 0..{S - 1}")
    parts = {k: [] for k in ("state", "action", "reward", "next_state", "step", "episode")}
    for e, ep in enumerate(dataset.episodes):
        states, steps = decode(np.asarray(ep.observations).reshape(len(ep.observations), -1), S, horizon,
                               observation, f"dataset episode {e}")  # fmt: skip
        T = states.shape[0]
        m = T if ep.terminated else T - 1  # d3rlpy's transition_count
        nxt = states[1:m + 1] if not ep.terminated else np.append(states[1:], -1)
        if ep.terminated:
            if terminal_state is None:
                raise ValueError(f"terminal_state is None, but dataset episode {e} is terminal: its last "
                                 "transition needs the (absorbing) state it leads to")  # fmt: skip
            nxt[-1] = terminal_state
        parts["state"].append(states[:m])
        parts["next_state"].append(nxt)
        parts["action"].append(np.asarray(ep.actions).reshape(T, -1)[:m, 0].astype(np.int64))
        parts["reward"].append(np.asarray(ep.rewards, dtype=np.float64).reshape(T, -1)[:m, 0])
        parts["step"].append(steps[:m] if steps is not None else np.arange(m))
        parts["episode"].append(np.full(m, e, dtype=np.int64))
    arrays = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}
    meta = {"generator": "from_d3rlpy", "d3rlpy": {"version": d3rlpy.__version__, "observation": observation,
                                                   "episodes": len(dataset.episodes)}}  # fmt: skip
    return imported_dataset(arrays["state"], arrays["action"], arrays["reward"], arrays["next_state"],
                            arrays["step"], arrays["episode"], None, S, A, gamma, horizon, meta,
                            "d3rlpy dataset")  # fmt: skip
