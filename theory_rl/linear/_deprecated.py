"""The deprecated linear-only counts record and samplers (issue 12), kept for one release.

Each builds on the ONE data layer, :mod:`theory_rl.data`, which sits above this package: the imports of
``theory_rl.data`` are inside the functions, and this module is the one place of ``theory_rl.linear`` allowed to
make them (an ``ignore_imports`` line of the import-linter contracts in pyproject.toml; both go with the aliases).
The names warn on access, through ``__getattr__`` of :mod:`theory_rl.linear`, :mod:`theory_rl.linear.counts` and
:mod:`theory_rl.linear.sampling`.
"""

from __future__ import annotations

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import as_float_array, check_int

__all__ = ["Counts", "sample_episodes", "sample_generative_counts", "sample_policy_counts", "sample_rewards"]


def _mixture(policies, weights):
    """Old convention: one policy (H, S), or a stack (m, H, S) mixed uniformly unless ``weights`` are given."""
    pols = np.asarray(policies)
    if pols.ndim == 2:
        return pols, None
    if pols.ndim != 3:
        raise ValueError(f"policies has shape {pols.shape}, expected (H, S) or (m, H, S)")
    return list(pols), np.full(len(pols), 1.0 / len(pols)) if weights is None else weights


class Counts:
    """Deprecated: the counts record is :class:`theory_rl.data.CountDataset` (finite horizon).

    ``Counts(N, reward_sums)`` builds the equivalent record: ``transition_counts = N`` (H, S, A, S),
    ``counts = N.sum(-1)``, ``horizon = H``. ``Counts.covariance(phi)`` is
    :func:`theory_rl.linear.feature_covariance` of ``record.counts``.
    """

    __deprecated_alias__ = True

    def __new__(cls, N, reward_sums):
        from theory_rl.data import CountDataset

        N = as_float_array(N, "N", ndim=4)
        H, S, A, _ = N.shape
        return CountDataset(N.sum(axis=-1), N, as_float_array(reward_sums, "reward_sums", ndim=3), S, A, horizon=H)

    @staticmethod
    def zeros(H: int, S: int, A: int):
        """Empty data: ``CountsBuilder(S, A, horizon=H).to_counts()``."""
        from theory_rl.data import CountsBuilder

        return CountsBuilder(S, A, horizon=H).to_counts()

    @staticmethod
    def from_episodes(states, actions, rewards, S: int, A: int):
        """Counts of episodes ``states`` (n, H+1), ``actions`` (n, H), ``rewards`` (n, H): a
        :class:`theory_rl.data.CountsBuilder` of horizon H fed with them."""
        from theory_rl.data import CountsBuilder

        H = np.shape(actions)[-1] if np.ndim(actions) == 2 else 0
        builder = CountsBuilder(S, A, horizon=max(H, 1))
        builder.add_episode(states, actions, rewards)
        return builder.to_counts()


def sample_rewards(R, *, noise: str, std: float, seed) -> np.ndarray:
    """Deprecated: ``theory_rl.data.sample_rewards(as_generator(seed), R, noise, std)`` (same draws)."""
    from theory_rl.data import sample_rewards as draw

    return np.asarray(draw(as_generator(seed), R, noise, std), dtype=np.float64)


def sample_episodes(lmdp, policies, n_episodes: int, *, seed, weights=None):
    """Deprecated: ``theory_rl.data.sample_rollouts(lmdp, policy, n_episodes, seed, weights=weights)``; a stack
    of policies without ``weights`` is mixed uniformly, as before."""
    from theory_rl.data import sample_rollouts

    policy, weights = _mixture(policies, weights)
    return tuple(sample_rollouts(lmdp, policy, check_int(n_episodes, "n_episodes", low=0), seed, weights=weights))


def sample_policy_counts(lmdp, policies, n_episodes: int, *, seed, weights=None):
    """Deprecated: ``theory_rl.data.sample_policy_counts(lmdp, policy, n_episodes, seed, weights=weights)``."""
    from theory_rl.data import sample_policy_counts as draw

    policy, weights = _mixture(policies, weights)
    return draw(lmdp, policy, n_episodes, seed, weights=weights)


def sample_generative_counts(lmdp, n_sa, *, seed):
    """Deprecated: ``theory_rl.data.sample_generative(lmdp, n_sa, seed)``."""
    from theory_rl.data import sample_generative

    return sample_generative(lmdp, n_sa, seed)
