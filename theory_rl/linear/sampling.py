"""Deprecated module (issue 12): the samplers of a linear MDP are those of :mod:`theory_rl.data`.

- ``sample_episodes`` -> :func:`theory_rl.data.sample_rollouts` (a LinearMDP, mixtures with ``weights``);
- ``sample_policy_counts`` -> :func:`theory_rl.data.sample_policy_counts`;
- ``sample_generative_counts`` -> :func:`theory_rl.data.sample_generative` (per-pair counts ``n_sa``);
- ``sample_rewards`` -> :func:`theory_rl.data.sample_rewards`.

The old names stay importable from here and from :mod:`theory_rl.linear` for one release; they warn on access.
"""

from __future__ import annotations

__all__: list[str] = []
__deprecated_module__ = True

#: The deprecated names (their replacements are listed above).
MOVED = ("sample_episodes", "sample_policy_counts", "sample_generative_counts", "sample_rewards")


def __getattr__(name: str):
    if name not in MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from theory_rl import linear

    return getattr(linear, name)  # warns: theory_rl.linear.<name> is deprecated
