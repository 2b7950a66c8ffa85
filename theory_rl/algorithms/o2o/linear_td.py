"""Expected linear TD on a buffer distribution: the stability oracle behind WSRL's warm-up (digest WP-C, C1).

Zhou, Peng, Li, Levine, Kumar, "Efficient Online RL Fine-Tuning Need Not Retain Offline Data", ICLR 2025, arXiv
2412.07762: fine-tuning without the offline data collapses unless a short warm-up of the frozen offline policy
seeds the online buffer. With linear features ``phi(s, a) in R^d`` the expected semi-gradient TD update of
``Q_w = Phi w`` toward the target policy ``pi`` on pairs drawn from ``mu`` is

    ``w <- w + alpha (b - A w)``,  ``A = Phi^T D (Phi - gamma P_pi Phi)``,  ``b = Phi^T D r``,

``D = diag(mu)``, ``(P_pi Phi)(s, a) = sum_{s', a'} P(s' | s, a) pi(a' | s') phi(s', a')``. It is stable for small
``alpha`` iff every eigenvalue of ``A`` has a positive real part. If ``mu`` is the normalised discounted occupancy
of ``pi`` itself (the warm-up's own data, when ``pi`` is the frozen policy), ``mu P_pi <= mu / gamma`` pairwise, and
Cauchy-Schwarz gives ``v^T D (I - gamma P_pi) v >= (1 - sqrt(gamma)) ||v||_D^2``: the symmetric part of ``A`` is
positive definite relative to ``G = Phi^T D Phi`` with margin ``1 - sqrt(gamma)`` (a Tsitsiklis-Van Roy-type
argument [D: derived in the digest, tested here]). Off-policy ``mu`` (the offline data for a greedy target, a
narrow first online buffer) can make ``A`` unstable. With one-hot (tabular) features ``A = D (I - gamma P_pi)``
restricted to the support is row diagonally dominant, so every eigenvalue has a positive real part for ANY ``mu``
(Gershgorin): the tabular negative control.

- :func:`expected_td` -- ``(A, b)``;
- :func:`td_stability` -- the smallest real part of ``eig(A)`` and the relative margin ``min eig(sym(A), G)``;
- :func:`td_fixed_point` -- ``w = A^{-1} b`` (the TD fixed point).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from theory_rl._validation import (
    Instance,
    as_float_array,
    check_distributions,
    check_shape,
    validate_params,
)
from theory_rl.mdp import TabularMDP
from theory_rl.policies import policy_matrix

__all__ = ["expected_td", "td_stability", "td_fixed_point"]


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def expected_td(mdp: TabularMDP, features, policy, mu) -> tuple[np.ndarray, np.ndarray]:
    """The expected TD system ``(A, b)`` of linear Q-evaluation of ``policy`` on pairs drawn from ``mu``.

    Parameters
    ----------
    mdp : TabularMDP
        Discounted.
    features : array_like, shape (S, A, d)
        ``phi(s, a)``.
    policy : array_like
        The target policy (actions ``(S,)`` or probabilities ``(S, A)``).
    mu : array_like, shape (S, A)
        The buffer's pair distribution.

    Returns
    -------
    tuple of numpy.ndarray
        ``A`` ``(d, d)`` and ``b`` ``(d,)``.
    """
    phi = as_float_array(features, "features", ndim=3)
    check_shape(phi, "features", (mdp.S, mdp.A, phi.shape[2]))
    pi = policy_matrix(mdp, policy)
    mu = as_float_array(mu, "mu", shape=(mdp.S, mdp.A))
    check_distributions(mu.reshape(1, -1), "mu")
    Phi = phi.reshape(mdp.S * mdp.A, -1)
    next_phi = np.einsum("sat,tb,tbd->sad", mdp.P, pi, phi).reshape(mdp.S * mdp.A, -1)  # (P_pi Phi)
    w = mu.reshape(-1)
    A = Phi.T @ (w[:, None] * (Phi - mdp.gamma * next_phi))
    b = Phi.T @ (w * mdp.R.reshape(-1))
    return A, b


def td_stability(A, G=None) -> dict:
    """Stability numbers of the expected TD matrix ``A``.

    Parameters
    ----------
    A : array_like, shape (d, d)
    G : array_like, shape (d, d), optional
        A positive-definite Gram matrix ``Phi^T D Phi`` for the relative margin.

    Returns
    -------
    dict
        ``min_real_eig``: the smallest real part of ``eig(A)`` (stable iff ``> 0``); ``min_sym_eig``: the smallest
        eigenvalue of ``(A + A^T) / 2`` (``> 0``: ``A`` positive definite, a sufficient condition); with ``G``,
        ``relative_margin``: the smallest generalised eigenvalue of ``((A + A^T) / 2, G)``, which is
        ``>= 1 - sqrt(gamma)`` for on-policy data.
    """
    A = as_float_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A has shape {A.shape}, expected a non-empty square matrix")
    sym = (A + A.T) / 2
    out = {"min_real_eig": float(np.linalg.eigvals(A).real.min()), "min_sym_eig": float(np.linalg.eigvalsh(sym)[0])}
    if G is not None:
        G = as_float_array(G, "G", shape=A.shape)
        try:
            out["relative_margin"] = float(scipy.linalg.eigh(sym, (G + G.T) / 2, eigvals_only=True)[0])
        except np.linalg.LinAlgError:
            raise ValueError("G is not positive definite (the features are not independent on the data)") from None
    return out


def td_fixed_point(A, b) -> np.ndarray:
    """The TD fixed point ``w = A^{-1} b`` (a ValueError if ``A`` is singular)."""
    A = as_float_array(A, "A", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if A.shape[0] != A.shape[1] or A.shape[0] != b.shape[0]:
        raise ValueError(f"A has shape {A.shape} and b {b.shape}, expected (d, d) and (d,)")
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        raise ValueError("A is singular: no unique TD fixed point") from None
