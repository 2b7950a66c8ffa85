"""The record of the offline learners of :mod:`theory_rl.algorithms.lcb` (there as ``lcb.OfflineResult``; kept in
this small module so that lcb.py stays under 500 lines)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl.results import Result, renamed_field

__all__ = ["OfflineResult"]


@dataclass(frozen=True, kw_only=True, repr=False)
class OfflineResult(Result):
    """What an offline algorithm returns: a :class:`theory_rl.results.Result` with the penalty it subtracted.

    Attributes
    ----------
    policy : numpy.ndarray
        Actions, shape ``(S,)`` or ``(H, S)``.
    V : numpy.ndarray
        The algorithm's (pessimistic) values of its policy, shape ``(S,)`` or ``(H, S)``; for the baselines, the
        values they act on (empirical rewards or empirical-model values).
    Q : numpy.ndarray
        The action scores the policy is greedy in, shape ``(S, A)`` or ``(H, S, A)``.
    method : str
        The algorithm (``"vi_lcb"``, ``"bernstein_vi_lcb"``, ...).
    constants : dict
        Constants and diagnostics (delta, log term, iterations, ...).
    penalty : numpy.ndarray
        The penalty subtracted from each ``(s, a)`` (zeros for the baselines).

    ``values``, ``algorithm`` and ``info`` are the deprecated names of ``V``, ``method`` and ``constants``.
    """

    penalty: np.ndarray

    values = renamed_field("values", "V")
    algorithm = renamed_field("algorithm", "method")
    info = renamed_field("info", "constants")

    def __repr__(self) -> str:
        return f"OfflineResult({self.method}, policy shape {self.policy.shape}, constants={self.constants})"


OfflineResult.__module__ = "theory_rl.algorithms.lcb"  # its public home (pickles and docs name it there)
