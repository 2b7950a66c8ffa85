"""Behaviour design and the coverage of sampled data.

- :func:`controlled_coverage`: a behaviour distribution (i.i.d. model) and an epsilon-mixture behaviour policy
  (trajectory model) whose single-policy concentrability ``C*`` (Rashidinejad et al. 2021, Def. 1) is a requested
  value, to sweep ``C*`` in the LCB experiments.
- ``coverage_record``: the ``meta["coverage"]`` entry of a sampled dataset, the exact ``C*`` of an optimal
  policy w.r.t. the distribution of the data. It needs a planning call (cached per MDP), so the samplers register
  it lazily (``theory_rl.data.files.Manifest``): it is paid only when read or saved.

Internal plumbing: ``coverage_record``, ``trajectory_distribution`` and ``LazyCoverage`` build the
samplers' ``meta["coverage"]`` entry from arguments the samplers have already validated; they are not in
``__all__``. Their names carry no underscore so that the sampler modules import them without a private import.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from theory_rl._validation import Instance, Integer, Real, check_instance, validate_params
from theory_rl.coverage import as_distribution, concentrability, max_ratio
from theory_rl.feasibility import feasible_uniform
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, solve
from theory_rl.policies import epsilon_mixture, mixture, policy_matrix

__all__ = ["ControlledCoverage", "controlled_coverage"]


def _optimal_policy(mdp: TabularMDP) -> np.ndarray:
    return solve(mdp).policy


#: The optimal policy's occupancy per MDP (immutable, so the cache never goes stale); weak keys free it with the MDP.
_OPTIMAL_OCCUPANCY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@validate_params(mdp=Instance(TabularMDP))
def coverage_record(mdp: TabularMDP, data_dist: np.ndarray) -> dict:
    """C* of the optimal policy w.r.t. a data distribution (exact, population level).

    The samplers register it lazily (:class:`LazyCoverage`); the planning behind it runs once per MDP, not once
    per dataset.
    """
    d_star = _OPTIMAL_OCCUPANCY.get(mdp)
    if d_star is None:
        d_star = _OPTIMAL_OCCUPANCY[mdp] = occupancy(mdp, _optimal_policy(mdp))
    c = max_ratio(d_star, as_distribution(mdp, data_dist), "the optimal policy", allow_infinite=True)
    return {"C_star": c if np.isfinite(c) else "inf"}  # strict JSON has no Infinity


@validate_params(mdp=Instance(TabularMDP), T=Integer(1))
def trajectory_distribution(mdp: TabularMDP, policy, T: int) -> np.ndarray:
    """Population distribution of one transition drawn uniformly from the ``T``-step trajectory samples.

    Finite horizon: the per-step occupancy ``d_h`` (the data record their step). Discounted: every one of the
    ``T`` steps of an episode is a sample of equal weight, so the data distribution is the per-step average
    ``(1/T) sum_{t<T} d_t`` with ``d_t(s, a) = Pr(s_t = s, a_t = a)``, computed exactly by forward recursion
    (it is not the normalised discounted occupancy, which weights step ``t`` by ``(1 - gamma) gamma^t``).
    """
    if mdp.is_episodic:
        return occupancy(mdp, policy)
    pi = policy_matrix(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    d_s = mdp.init.astype(np.float64, copy=True)
    total = np.zeros(mdp.S)
    for _ in range(T):
        total += d_s
        d_s = P_pi.T @ d_s
    return (total / T)[:, None] * pi


class LazyCoverage:
    """The thunk behind a dataset's lazy ``meta["coverage"]``: :func:`coverage_record` of ``mdp`` and the data
    distribution, ``mu`` itself (i.i.d. data) or :func:`trajectory_distribution` of ``(policy, n_steps)``
    (trajectories), computed on the first call only."""

    __slots__ = ("mdp", "mu", "policy", "n_steps", "_value")

    def __init__(self, mdp: TabularMDP, *, mu=None, policy=None, n_steps: int | None = None) -> None:
        check_instance(mdp, "mdp", TabularMDP)
        if (mu is None) == (policy is None):
            raise ValueError("LazyCoverage needs exactly one of mu (i.i.d. data) and policy (trajectories)")
        self.mdp, self.mu, self.policy, self.n_steps = mdp, mu, policy, n_steps
        self._value = None

    def __call__(self) -> dict:
        if self._value is None:
            dist = self.mu if self.policy is None else trajectory_distribution(self.mdp, self.policy, self.n_steps)
            self._value = coverage_record(self.mdp, dist)
        return dict(self._value)


# ---------------------------------------------------------------------- controlled coverage
@dataclass(frozen=True)
class ControlledCoverage:
    """Behaviour with a requested concentrability, see :func:`controlled_coverage`.

    Attributes
    ----------
    mu : numpy.ndarray
        Data distribution for the i.i.d. model, ``(S, A)`` or ``(H, S, A)``.
    c_star : float
        Measured ``max d^pi / mu`` (equals the request up to round-off).
    behaviour_policy : numpy.ndarray
        ``(1 - epsilon) pi + epsilon * uniform`` for the trajectory model, probabilities.
    epsilon : float
    behaviour_c_star : float
        Measured ``max d^pi / d^behaviour`` from exact occupancies.
    target_policy : numpy.ndarray
        The target policy ``pi`` as probabilities.
    """

    mu: np.ndarray
    c_star: float
    behaviour_policy: np.ndarray
    epsilon: float
    behaviour_c_star: float
    target_policy: np.ndarray


@validate_params(c_star=Real(1.0))
def controlled_coverage(mdp: TabularMDP, c_star: float, policy=None) -> ControlledCoverage:
    """Behaviour data whose single-policy concentrability w.r.t. ``policy`` (``pi*`` by default) is ``c_star``.

    i.i.d. model. With ``d = d^pi`` (per step ``h`` for a finite horizon), ``k*`` the most visited pair (lowest
    index among ties) and ``nu`` uniform on the other ``S A - 1`` pairs,

        ``mu = d / c_star + (1 - 1/c_star) nu``.

    Then ``d / mu <= c_star`` everywhere (as ``nu >= 0``) with equality at ``k*`` (where ``nu = 0``), so
    ``max d/mu = c_star`` exactly up to round-off (with infeasible actions, ``mdp.feasible``, ``nu`` and the
    uniform policy below range over the feasible pairs only); ``c_star = 1`` gives ``mu = d`` (expert data), and for
    ``c_star > 1`` every pair has ``mu > 0``. For a multi-armed bandit this is ``mu(a*) = 1/c_star`` and the
    rest spread uniformly, the instance family of Rashidinejad et al. (2021, Sec. 4).

    Trajectory model. The behaviour policy is the epsilon-mixture ``(1 - eps) pi + eps uniform`` with ``eps``
    solved (Brent's method) so that ``max d^pi / d^behaviour = c_star`` with exact occupancies: the per-step
    occupancies ``d_h`` (finite horizon) or the normalised discounted occupancies of :func:`occupancy`
    (discounted; the standard definition, Rashidinejad et al. 2021). If even ``eps = 1`` (uniform behaviour)
    stays below ``c_star``, ``eps = 1`` is returned and ``behaviour_c_star`` reports the (smaller) value
    reached: always read the measured value. For a discounted MDP, trajectories sampled from the behaviour
    with :func:`sample_trajectories` follow the per-step average of the ``n_steps`` step distributions, not the
    discounted occupancy, so that sampler's ``meta["coverage"]["C_star"]`` (the C* of the sampled
    distribution) can differ from ``behaviour_c_star``.

    Raises
    ------
    ValueError
        ``c_star < 1`` (impossible: ``d`` and ``mu`` both sum to one), not finite, or ``c_star > 1`` on an MDP
        with a single state-action pair.
    """
    check_instance(mdp, "mdp", TabularMDP)
    S, A, H = mdp.S, mdp.A, mdp.horizon
    pairs = np.ones(S * A, bool) if mdp.feasible is None else mdp.feasible.reshape(-1)  # issue 15: feasible only
    if c_star > 1.0 and pairs.sum() == 1:
        raise ValueError("c_star > 1 is impossible with a single state-action pair (counting feasible ones; "
                         "mu = d^pi = 1)")
    pi = policy_matrix(mdp, _optimal_policy(mdp) if policy is None else policy)
    d = occupancy(mdp, pi)
    flat = d.reshape(-1, S * A)
    mu = flat / c_star
    if c_star > 1.0:
        top = np.argmax(flat, axis=1)
        nu = np.where(pairs, 1.0 / (pairs.sum() - 1), 0.0) * np.ones((flat.shape[0], 1))
        nu[np.arange(flat.shape[0]), top] = 0.0
        mu = mu + (1.0 - 1.0 / c_star) * nu
    mu = mu.reshape(d.shape)
    measured = concentrability(mdp, pi, mu)

    def behaviour_of(eps: float) -> np.ndarray:  # uniform over the feasible actions (issue 15)
        return epsilon_mixture(pi, eps, S, A, H) if mdp.feasible is None else mixture(pi, feasible_uniform(mdp),
                                                                                      eps, S, A, H)

    def gap(eps: float) -> float:
        b = behaviour_of(eps)
        return concentrability(mdp, pi, occupancy(mdp, b), allow_infinite=True) - c_star

    if c_star == 1.0:
        eps = 0.0
    elif gap(1.0) <= 0.0:
        eps = 1.0
    else:
        eps = float(scipy.optimize.brentq(gap, 0.0, 1.0, xtol=1e-14, rtol=1e-14))
    behaviour = behaviour_of(eps)
    b_star = concentrability(mdp, pi, occupancy(mdp, behaviour))
    return ControlledCoverage(mu, measured, behaviour, eps, b_star, pi)
