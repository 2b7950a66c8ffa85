"""Export to and import from Minari (Farama's offline-RL dataset format): :func:`to_minari`, :func:`from_minari`.

Layout written (Minari 0.5, its ``EpisodeData``): one Minari episode per run of linked transitions
(:mod:`theory_rl.interop.transitions`: a trajectory, or one i.i.d. sample), with ``observations`` ``o_0 .. o_L``
(the states, then the final next state), ``actions``, ``rewards`` (float64, as sampled), ``terminations`` all
False (a tabular MDP has no terminal state: absorbing states are ordinary states) and ``truncations`` True at the
last step only (the run ends by the horizon, the episode length or the sampling, never by the MDP).
``infos["step"]`` holds the step ``h`` of each observation and ``infos["behaviour_prob"]`` the behaviour
probability of each action (NaN at the final observation, which has no action); the episode metadata
``theory_rl_episode`` keeps the dataset's episode id. The spaces are ``Discrete(S)`` and ``Discrete(A)``; the
dataset metadata ``theory_rl`` holds ``S``, ``A``, ``gamma``, ``horizon``, the transition count and the dataset's
``meta`` (generator, seed, sizes and the measured coverage ``meta["coverage"]``, computed if still lazy).
:func:`from_minari` reads all of it back, so the round trip is exact, every field included.
"""

from __future__ import annotations

import warnings

import numpy as np

from theory_rl._validation import Integer, Real, String, check_instance, validate_params
from theory_rl.data import OfflineDataset
from theory_rl.data.files import resolve_meta
from theory_rl.interop.optional import require
from theory_rl.interop.transitions import imported_dataset, run_bounds

__all__ = ["to_minari", "from_minari", "MINARI_FORMAT"]

#: The tag of the ``theory_rl`` block in a Minari dataset's metadata.
MINARI_FORMAT = "theory_rl.minari/1"


@validate_params(dataset_id=String(), author=String(optional=True), author_email=String(optional=True),
                 code_permalink=String(optional=True), description=String(optional=True))  # fmt: skip
def to_minari(
    dataset: OfflineDataset,
    dataset_id: str,
    *,
    author: str | None = None,
    author_email: str | None = None,
    code_permalink: str | None = None,
    description: str | None = None,
):
    """Create the Minari dataset ``dataset_id`` holding every transition of ``dataset``.

    Parameters
    ----------
    dataset : OfflineDataset
        Trajectory or i.i.d. data (any order: runs of linked transitions become episodes, see the module doc).
    dataset_id : str
        Minari's id, ``(namespace/)dataset_name-v<version>``, e.g. ``"theory_rl/garnet-iid-v0"`` (a namespace
        has at least two characters).
        The dataset is written where Minari keeps its datasets (``$MINARI_DATASETS_PATH``, else
        ``~/.minari/datasets``); an existing id is refused by Minari.
    author, author_email, code_permalink, description : str, optional
        Minari's provenance fields (Minari warns when the first three are missing). ``description`` defaults to
        one line naming the sizes and the generator.

    Returns
    -------
    minari.MinariDataset
        ``total_steps == len(dataset)``: no transition is dropped. The dataset is removed again if any step of
        the export fails, so no half-written dataset stays under ``dataset_id``.
    """
    check_instance(dataset, "dataset", OfflineDataset)
    minari = require("minari", "to_minari")
    spaces = require("gymnasium.spaces", "to_minari")
    buffer_cls = require("minari.data_collector", "to_minari").EpisodeBuffer
    try:  # before Minari's create call, which makes the dataset's folder before it parses the id
        require("minari.dataset.minari_dataset", "to_minari").parse_dataset_id(dataset_id)
    except (ValueError, TypeError) as err:  # Minari 0.5.4 raises TypeError for an id without "-v<version>"
        raise ValueError(f"dataset_id {dataset_id!r} is malformed: {err}") from err
    first, last = run_bounds(dataset)
    if first.size == 0:
        raise ValueError("dataset is empty: Minari stores episodes, and there is none to store")
    meta = resolve_meta(dataset.meta)
    generator = meta.get("generator", "unknown") if isinstance(meta, dict) else "unknown"
    if description is None:
        kind = f"horizon {dataset.horizon}" if dataset.horizon is not None else f"gamma {dataset.gamma}"
        description = (f"theory_rl OfflineDataset: {len(dataset)} transitions, S={dataset.S}, A={dataset.A}, "
                       f"{kind}, generator {generator}")  # fmt: skip
    buffers = []
    for k, (i, j) in enumerate(zip(first, last, strict=True)):
        rows = slice(int(i), int(j) + 1)
        L = int(j - i + 1)
        trunc = np.zeros(L, dtype=bool)
        trunc[-1] = True
        buffers.append(buffer_cls(
            id=k,
            observations=np.append(dataset.state[rows], dataset.next_state[j]).astype(np.int64),
            actions=dataset.action[rows].astype(np.int64),
            rewards=list(dataset.reward[rows]),
            terminations=list(np.zeros(L, dtype=bool)),
            truncations=list(trunc),
            infos={"step": np.append(dataset.step[rows], dataset.step[j] + 1).astype(np.int64),
                   "behaviour_prob": np.append(dataset.behaviour_prob[rows], np.nan)},
        ))  # fmt: skip
    with warnings.catch_warnings():
        # env_spec / eval_env: there is no registered Gymnasium id to give (theory_rl.envs.TabularEnv wraps an MDP
        # object, and the dataset's provenance is in the theory_rl metadata block instead).
        warnings.filterwarnings("ignore", message=".*eval_env.*", category=UserWarning)
        warnings.filterwarnings("ignore", message="env_spec is None", category=UserWarning)
        try:
            out = minari.create_dataset_from_buffers(
                dataset_id, buffers, observation_space=spaces.Discrete(dataset.S),
                action_space=spaces.Discrete(dataset.A), algorithm_name=f"theory_rl:{generator}", author=author,
                author_email=author_email, code_permalink=code_permalink, description=description,
            )  # fmt: skip
        except ValueError as err:  # an existing id (checked before anything is written)
            raise ValueError(f"dataset_id {dataset_id!r} is refused by Minari: {err}") from err
    try:
        out.storage.update_episode_metadata([{"theory_rl_episode": int(dataset.episode[i])} for i in first])
        out.storage.update_metadata({"theory_rl": {
            "format": MINARI_FORMAT, "S": dataset.S, "A": dataset.A, "gamma": dataset.gamma,
            "horizon": dataset.horizon, "n_transitions": len(dataset), "meta": meta,
        }})  # fmt: skip
        if out.total_steps != len(dataset):
            raise RuntimeError(f"Minari stored {out.total_steps} of {len(dataset)} transitions")
    except BaseException:
        minari.delete_dataset(dataset_id)
        raise
    return minari.load_dataset(dataset_id)


@validate_params(gamma=Real(0, 1, optional=True), horizon=Integer(1, optional=True))
def from_minari(dataset, *, gamma: float | None = None, horizon: int | None = None) -> OfflineDataset:
    """The transitions of a Minari dataset with discrete spaces as an :class:`OfflineDataset`.

    Parameters
    ----------
    dataset : minari.MinariDataset or str
        A loaded dataset, or the id of a local one.
    gamma, horizon : optional
        The MDP's discount or horizon. Default: those recorded by :func:`to_minari`; a dataset from elsewhere
        records neither (then ``step`` is the position in the episode and must be below ``horizon`` if given).

    Returns
    -------
    OfflineDataset
        One transition per Minari step, ``o_t -> o_{t+1}`` (the observation after a termination is kept as the
        next state: the toolkit has no terminal states, so an MDP analysing such data should make it absorbing;
        ``meta["terminated_episodes"]`` counts them). ``step``, ``behaviour_prob`` and the episode ids are read
        back where :func:`to_minari` wrote them; otherwise ``step`` is the position in the episode, the episode
        id is Minari's, and ``behaviour_prob`` is the empirical frequency ``N_h(s, a) / N_h(s)`` (``meta`` says
        so). ``meta["minari"]`` keeps the dataset's id and metadata.
    """
    minari = require("minari", "from_minari")
    if isinstance(dataset, str):
        try:
            dataset = minari.load_dataset(dataset)
        except Exception as err:  # Minari raises FileNotFoundError, ValueError or its own errors
            raise ValueError(f"dataset is {dataset!r}, which Minari cannot load: {err}") from err
    check_instance(dataset, "dataset", minari.MinariDataset)
    spaces = require("gymnasium.spaces", "from_minari")
    obs_space, act_space = dataset.observation_space, dataset.action_space
    for what, space in (("observation_space", obs_space), ("action_space", act_space)):
        if not isinstance(space, spaces.Discrete):
            raise ValueError(f"dataset has {what} {space}, expected a Discrete space (a tabular dataset)")
    S, A = int(obs_space.n), int(act_space.n)
    o0, a0 = int(obs_space.start), int(act_space.start)
    raw = dict(dataset.storage.metadata)
    ours = raw.get("theory_rl") if isinstance(raw.get("theory_rl"), dict) else {}
    ours = ours if ours.get("format") == MINARI_FORMAT else {}
    gamma = ours.get("gamma") if gamma is None else gamma
    horizon = ours.get("horizon") if horizon is None else horizon
    ids = list(dataset.episode_indices)
    ep_meta = list(dataset.storage.get_episode_metadata(ids)) if ids else []
    parts = {k: [] for k in ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob")}
    recorded_probs, terminated = True, 0
    for m, ep in zip(ep_meta, dataset.iterate_episodes(ids), strict=True):
        obs = np.asarray(ep.observations).reshape(-1).astype(np.int64) - o0
        act = np.asarray(ep.actions).reshape(-1).astype(np.int64) - a0
        L = act.shape[0]
        if obs.shape[0] != L + 1:
            raise ValueError(f"dataset episode {ep.id} has {obs.shape[0]} observations for {L} actions, "
                             f"expected {L + 1}")  # fmt: skip
        infos = ep.infos if isinstance(ep.infos, dict) else {}
        step = np.asarray(infos["step"][:L], dtype=np.int64) if "step" in infos else np.arange(L)
        if "behaviour_prob" in infos:
            parts["behaviour_prob"].append(np.asarray(infos["behaviour_prob"][:L], dtype=np.float64))
        else:
            recorded_probs = False
        terminated += bool(np.asarray(ep.terminations).any())
        parts["state"].append(obs[:-1])
        parts["next_state"].append(obs[1:])
        parts["action"].append(act)
        parts["reward"].append(np.asarray(ep.rewards, dtype=np.float64).reshape(-1))
        parts["step"].append(step)
        parts["episode"].append(np.full(L, int(m.get("theory_rl_episode", ep.id)), dtype=np.int64))
    arrays = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}
    probs = arrays.pop("behaviour_prob") if recorded_probs and ids else None
    meta = dict(ours.get("meta", {})) if ours else {}
    meta["minari"] = {k: v for k, v in raw.items() if k != "theory_rl"}
    meta["terminated_episodes"] = terminated
    return imported_dataset(arrays["state"], arrays["action"], arrays["reward"], arrays["next_state"],
                            arrays["step"], arrays["episode"], probs, S, A, gamma, horizon, meta,
                            f"Minari dataset {raw.get('dataset_id')!r}")  # fmt: skip
