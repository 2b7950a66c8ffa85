"""Datasets in and out of the offline-RL ecosystem: Minari and d3rlpy, losslessly.

- :func:`to_minari` / :func:`from_minari` (:mod:`~theory_rl.interop.minari_io`, extra ``minari``);
- :func:`to_d3rlpy` / :func:`from_d3rlpy` (:mod:`~theory_rl.interop.d3rlpy_io`, extra ``d3rlpy``).

Exporters keep every transition of an :class:`~theory_rl.data.OfflineDataset` (i.i.d. samples as one-step
episodes, trajectories with their final next state); importers give the shared record back, so the toolkit's
exact analysis (counts, the empirical model, concentrability against a given policy) runs on discrete datasets
users already have. ``import theory_rl.interop`` needs neither library: each is imported when a function that
uses it is called, and a missing one is an ImportError naming the extra that installs it.
"""

from __future__ import annotations

from theory_rl.interop.d3rlpy_io import from_d3rlpy, to_d3rlpy
from theory_rl.interop.minari_io import from_minari, to_minari

__all__ = ["to_minari", "from_minari", "to_d3rlpy", "from_d3rlpy"]
