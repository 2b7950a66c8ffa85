"""Datasets in and out of the offline-RL ecosystem (Minari, d3rlpy), and models from other libraries.

- :func:`to_minari` / :func:`from_minari` (:mod:`~theory_rl.interop.minari_io`, extra ``minari``);
- :func:`to_d3rlpy` / :func:`from_d3rlpy` (:mod:`~theory_rl.interop.d3rlpy_io`, extra ``d3rlpy``).

Exporters keep every transition of an :class:`~theory_rl.data.OfflineDataset` (i.i.d. samples as one-step
episodes, trajectories with their final next state); importers give the shared record back, so the toolkit's
exact analysis (counts, the empirical model, concentrability against a given policy) runs on discrete datasets
users already have. ``import theory_rl.interop`` needs neither library: each is imported when a function that
uses it is called, and a missing one is an ImportError naming the extra that installs it.

Models (issue 15): :func:`from_toy_text` (Gymnasium's FrozenLake, Taxi, CliffWalking,
:mod:`~theory_rl.interop.toy_text`, extra ``gym``), :func:`from_discrete_dp` (QuantEcon's ``DiscreteDP`` arrays)
and :func:`from_mdptoolbox` (pymdptoolbox's ``(A, S, S)`` arrays; :mod:`~theory_rl.interop.dp_formats`, neither
library needed). Each returns an :class:`ImportedMDP`: the MDP with rewards in [0, 1] and the explicit affine
:class:`~theory_rl.scales.RewardMap` that put them there (``ImportedMDP.values`` maps values back to the source's
units).
"""

from __future__ import annotations

from theory_rl.interop.d3rlpy_io import from_d3rlpy, to_d3rlpy
from theory_rl.interop.dp_formats import from_discrete_dp, from_mdptoolbox
from theory_rl.interop.minari_io import from_minari, to_minari
from theory_rl.interop.rewards import ImportedMDP, RewardMap  # noqa: F401 (RewardMap: theory_rl.scales's)
from theory_rl.interop.toy_text import from_toy_text

__all__ = ["to_minari", "from_minari", "to_d3rlpy", "from_d3rlpy",
           "from_toy_text", "from_discrete_dp", "from_mdptoolbox", "ImportedMDP"]
# RewardMap (theory_rl.scales, issue 15 item 5) is imported above for ``from theory_rl.interop import RewardMap``.
