"""Offline RL from trajectory preferences: Bradley-Terry reward learning against preference-conditioned imitation.

Kang, Shi, Liu, He & Wang (2023), "Beyond Reward: Offline Preference-guided Policy Optimization" (OPPO), ICML 2023,
arXiv 2305.16217; the issue-18 digest (B5) asks the *question* in tabular form, not the deep claim:

- two-step: the reward ``r`` (linear in the trajectory features ``phi(tau) = sum_t gamma^t e_{s_t a_t}``, so the
  return is ``phi(tau) . r``) fitted by Bradley-Terry maximum likelihood,
  ``P(tau_i > tau_j) = sigma(phi(tau_i) . r - phi(tau_j) . r)``, with an L2 penalty (:func:`bradley_terry_reward`);
  then offline planning with it (the caller's choice: empirical VI or VI-LCB);
- one-step "OPPO-lite" (:func:`preference_conditioned_imitation`): each trajectory's embedding is its normalised
  feature vector ``z_i``; the target ``z*`` is the embedding of the trajectory with the highest Bradley-Terry
  score (OPPO searches ``z*`` by a triplet loss; its minimiser over the data's convex hull moves toward the
  preferred embeddings, and the best-scored data point is the simplest stand-in: stated, not the paper's loss);
  the policy imitates the data weighted by the kernel ``exp(-||z_i - z*||^2 / bandwidth^2)`` (hindsight
  information matching with a nonparametric ``pi(a | s, z*)``).

The digest's expectation: under Bradley-Terry preferences of a Markov reward the two-step method is at least as good;
the one-step method can win only when the preferences come from a non-Markov rule.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from theory_rl._validation import Real, as_float_array, as_index_array, validate_params

__all__ = ["trajectory_features", "bradley_terry_reward", "preference_conditioned_imitation"]


@validate_params(gamma=Real(0.0, 1.0))
def trajectory_features(states, actions, S: int, A: int, *, gamma: float = 1.0) -> np.ndarray:
    """``phi(tau) = sum_t gamma^t e_{(s_t, a_t)}`` for each trajectory: shape ``(n, S * A)``.

    Parameters
    ----------
    states, actions : array_like of int, shape (n, T)
        The first ``T`` states and the actions of ``n`` trajectories.
    S, A : int
    gamma : float in [0, 1], default 1
    """
    from theory_rl._validation import check_int

    S, A = check_int(S, "S", low=1), check_int(A, "A", low=1)
    s = as_index_array(states, "states", S, ndim=2)
    a = as_index_array(actions, "actions", A, ndim=2)
    if s.shape != a.shape:
        raise ValueError(f"states has shape {s.shape} and actions {a.shape}: expected the same (n, T)")
    from theory_rl._validation import check_table

    check_table("the features", (s.shape[0], S * A), ("n", "S * A"))
    n, T = s.shape
    phi = np.zeros((n, S * A))
    w = np.broadcast_to(gamma ** np.arange(T), (n, T))
    np.add.at(phi, (np.repeat(np.arange(n), T), (s * A + a).ravel()), w.ravel())
    return phi


def _bt_loss(r, D, y, l2):
    m = D @ r
    # -log sigma(m) for y = 1, -log sigma(-m) for y = 0, stably; plus l2/2 ||r||^2
    loss = np.logaddexp(0.0, -m) * y + np.logaddexp(0.0, m) * (1 - y)
    p = 0.5 * (1.0 + np.tanh(0.5 * m))  # sigma(m)
    grad = D.T @ (p - y) + l2 * r
    return float(loss.sum() + 0.5 * l2 * r @ r), grad


@validate_params(l2=Real(0.0, None, closed="neither"))
def bradley_terry_reward(features, pairs, preferences, *, l2: float = 1e-2) -> np.ndarray:
    """The L2-penalised Bradley-Terry maximum-likelihood reward (a convex logistic regression on feature differences).

    Minimises ``sum_k -log sigma(+-(phi_i - phi_j) . r) + l2/2 ||r||^2`` over ``r`` (L-BFGS, exact gradient; the
    objective is strictly convex, so the minimiser is unique).

    Parameters
    ----------
    features : array_like, shape (n, d)
        Trajectory features (:func:`trajectory_features`).
    pairs : array_like of int, shape (m, 2)
        Compared trajectories ``(i, j)``.
    preferences : array_like, shape (m,)
        1 if ``tau_i`` is preferred, 0 if ``tau_j`` is (values in [0, 1] act as soft labels).
    l2 : float > 0, default 0.01

    Returns
    -------
    numpy.ndarray, shape (d,)
    """
    phi = as_float_array(features, "features", ndim=2)
    ij = as_index_array(pairs, "pairs", phi.shape[0], ndim=2)
    if ij.shape[1:] != (2,):
        raise ValueError(f"pairs has shape {ij.shape}, expected (m, 2)")
    y = as_float_array(preferences, "preferences", shape=(ij.shape[0],))
    if ((y < 0) | (y > 1)).any():
        raise ValueError("preferences must lie in [0, 1]")
    D = phi[ij[:, 0]] - phi[ij[:, 1]]
    res = scipy.optimize.minimize(_bt_loss, np.zeros(phi.shape[1]), args=(D, y, l2), jac=True, method="L-BFGS-B",
                                  options={"maxiter": 10_000, "gtol": 1e-10, "ftol": 1e-15})
    return res.x


@validate_params(bandwidth=Real(0.0, None, closed="neither"), l2=Real(0.0, None, closed="neither"))
def preference_conditioned_imitation(states, actions, S: int, A: int, pairs, preferences, *,
                                     bandwidth: float = 0.5, l2: float = 1e-2):
    """OPPO-lite (module docstring): ``pi(a|s) ∝ sum_i k(z_i, z*) N_i(s, a)``, uniform at states no weighted
    trajectory visits.

    Returns
    -------
    policy : numpy.ndarray, shape (S, A)
    weights : numpy.ndarray, shape (n,)
        The kernel weights ``k(z_i, z*)`` of the trajectories.
    """
    phi = trajectory_features(states, actions, S, A)
    norm = np.linalg.norm(phi, axis=1, keepdims=True)
    z = phi / np.where(norm > 0, norm, 1.0)
    # Bradley-Terry scores of the trajectories themselves (one parameter per trajectory)
    score = bradley_terry_reward(np.eye(phi.shape[0]), pairs, preferences, l2=l2)
    z_star = z[int(np.argmax(score))]
    w = np.exp(-np.sum((z - z_star) ** 2, axis=1) / bandwidth ** 2)
    counts = (w[:, None] * phi).sum(axis=0).reshape(S, A)  # gamma = 1: visit counts
    total = counts.sum(axis=1, keepdims=True)
    policy = np.where(total > 0, counts / np.where(total > 0, total, 1.0), 1.0 / A)
    return policy, w
