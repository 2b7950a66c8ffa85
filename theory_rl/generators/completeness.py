"""A linear-MDP family with a Bellman-completeness misspecification knob, for HNPG's robustness claim.

Zhou, Sekhari, Song & Sun (2023) claim that off-policy-only hybrid methods (Hy-Q / FQI) can converge to a bad policy
when Bellman completeness fails, while HNPG still converges at the on-policy rate. :func:`misspecified_linear_mdp`
starts from a random rank-``d`` linear MDP (:func:`theory_rl.generators.linear.random_linear_mdp`: complete for the
linear class of its features ``phi``) and mixes its transitions with a random tabular kernel,
``P_kappa = (1 - kappa) P_lin + kappa P_rand``, keeping ``phi`` and the rewards: ``kappa = 0`` is the linear MDP,
and as ``kappa`` grows the Bellman backup of a linear function leaves the span of ``phi``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Integer, Real, check_table, validate_params
from theory_rl.generators.linear import random_linear_mdp
from theory_rl.mdp import TabularMDP

__all__ = ["MisspecInstance", "misspecified_linear_mdp"]


@dataclass(frozen=True, eq=False)
class MisspecInstance:
    """A finite-horizon MDP, the features ``phi`` ``(S, A, d)`` of the linear class, and ``kappa``.

    ``completeness_error`` is the largest sup-norm distance, over steps, from the exact backup
    ``r_h + P_h max_a f_{h+1}`` of the least-squares projection of ``Q*_{h+1}`` to the span of ``phi`` (0 at
    ``kappa = 0``): a computable proxy of the inherent Bellman error.
    """

    mdp: TabularMDP
    phi: np.ndarray
    kappa: float
    completeness_error: float


@validate_params(kappa=Real(0.0, 1.0), S=Integer(2), A=Integer(2), d=Integer(1), horizon=Integer(1),
                 concentration=Real(0.0, None, closed="neither"))
def misspecified_linear_mdp(kappa: float, *, seed: SeedLike, S: int = 8, A: int = 3, d: int = 3, horizon: int = 4,
                            concentration: float = 0.2) -> MisspecInstance:  # fmt: skip
    """``P_kappa = (1 - kappa) P_lin + kappa P_rand`` on a random linear MDP; the seed fixes both kernels.

    ``concentration`` is the Dirichlet parameter of the features, of the measures' rows and of ``P_rand``'s rows
    (small: nearly one-hot features and sparse kernels, so that the gap between the linear class and the backups
    is visible; ours).
    """
    check_table("P", (horizon, S, A, S), ("horizon", "S", "A", "S"))
    rng = as_generator(seed)
    lin = random_linear_mdp(S, A, d, horizon, seed=rng, concentration=concentration)
    tab = lin.to_tabular()
    P_rand = rng.dirichlet(np.full(S, concentration), size=(horizon, S, A))
    P = (1.0 - kappa) * tab.stage_P + kappa * P_rand
    mdp = TabularMDP(P, tab.stage_R, tab.init, horizon=horizon, reward_noise="deterministic")
    phi = np.asarray(lin.phi, dtype=np.float64).reshape(S, A, d)
    X = phi.reshape(S * A, d)
    err, V = 0.0, np.zeros(S)
    for h in range(horizon - 1, -1, -1):
        backup = mdp.stage_R[h] + P[h] @ V  # the exact backup of the projected next-step function
        theta = np.linalg.lstsq(X, backup.reshape(-1), rcond=None)[0]
        proj = (X @ theta).reshape(S, A)
        err = max(err, float(np.abs(proj - backup).max()))
        V = proj.max(axis=1)
    return MisspecInstance(mdp=mdp, phi=phi, kappa=float(kappa), completeness_error=err)
