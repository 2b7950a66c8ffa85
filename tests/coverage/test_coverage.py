"""Coverage: closed-form coverability against an LP over the occupancy polytope, and the coefficient orderings."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.strategies import seeded_arrays, tabular_mdps
from tests.strategies_sim import build_mdp, random_distributions, random_policy
from theory_rl import coverage
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy


def _lp_reachability(mdp: TabularMDP) -> np.ndarray:
    """max_pi d_h^pi(s, a) for every target by one LP: an independent copy of the occupancy polytope per target.

    The copies do not interact, so maximising the sum maximises every copy (checked per target below).
    Finite horizon: variables d_t (K, S*A), sum_a d_0 = rho, sum_a d_{t+1}(x', .) = sum_{x,a} P_t(x'|x,a) d_t.
    Discounted: sum_a d(x', .) = (1 - gamma) rho(x') + gamma sum_{x,a} P(x'|x,a) d(x, a).
    """
    S, A = mdp.S, mdp.A
    M = np.kron(np.eye(S), np.ones((A, 1)))  # (S*A, S): marginal over actions
    if mdp.is_discounted:
        K = S * A
        d = cp.Variable((K, S * A), nonneg=True)
        cons = [d @ M == (1 - mdp.gamma) * np.tile(mdp.init, (K, 1)) + mdp.gamma * d @ mdp.P.reshape(S * A, S)]
        objective = cp.sum(cp.multiply(d, np.eye(K)))
        cp.Problem(cp.Maximize(objective), cons).solve(solver=cp.HIGHS)
        return np.diag(d.value).reshape(S, A)
    H = mdp.horizon
    K = H * S * A
    ds = [cp.Variable((K, S * A), nonneg=True) for _ in range(H)]
    cons = [ds[0] @ M == np.tile(mdp.init, (K, 1))]
    for t in range(H - 1):
        cons.append(ds[t + 1] @ M == ds[t] @ mdp.P_at(t).reshape(S * A, S))
    target = np.eye(K).reshape(K, H, S * A)
    objective = sum(cp.sum(cp.multiply(ds[t], target[:, t, :])) for t in range(H))
    cp.Problem(cp.Maximize(objective), cons).solve(solver=cp.HIGHS)
    values = np.stack([ds[t].value for t in range(H)], axis=1)  # (K, H, S*A)
    return np.einsum("kts,kts->k", values, target).reshape(H, S, A)


@settings(max_examples=25, deadline=None)
@given(tabular_mdps(max_S=3, max_A=2, max_H=3))
# Found by hypothesis: the discounted policy-iteration values left R(s, a) = -1.2e-17, so mu had a negative entry.
@example(mdp=TabularMDP(*seeded_arrays(3, 2, 28, 0.8), gamma=0.9))
def test_closed_form_coverability_equals_occupancy_polytope_lp(mdp):
    reach = coverage.max_reachability(mdp)
    assert np.all(reach >= 0) and np.all(reach <= 1)  # maxima of probabilities, exactly in [0, 1]
    np.testing.assert_allclose(reach, _lp_reachability(mdp), rtol=0, atol=1e-6)
    cov = coverage.coverability(mdp)
    per_step = reach.reshape(-1, mdp.S * mdp.A).sum(axis=1)
    assert cov.value == pytest.approx(per_step.max(), abs=1e-12)
    assert cov.value <= mdp.S * mdp.A + 1e-9
    assert cov.value >= 1 - 1e-9  # sum over pairs of one policy's occupancy is already 1
    # The optimal mu attains C_cov: no policy has a larger ratio (checked through all-policy concentrability).
    assert coverage.all_policy_concentrability(mdp, cov.mu) == pytest.approx(cov.value, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(tabular_mdps(max_S=4, max_A=3, max_H=4), st.integers(0, 2**31 - 1))
def test_coefficient_orderings(mdp, seed):
    rng = np.random.default_rng(seed)
    shape = (mdp.S, mdp.A) if mdp.is_discounted else (mdp.horizon, mdp.S, mdp.A)
    mu = random_distributions(rng, shape[:-2] + (mdp.S * mdp.A,), sparsity=0.0).reshape(shape)
    policy = random_policy(mdp, seed, deterministic=bool(seed % 2))
    c_all = coverage.all_policy_concentrability(mdp, mu)
    c_cov = coverage.coverability(mdp).value
    c_pi = coverage.concentrability(mdp, policy, mu)
    assert c_all >= c_cov - 1e-9
    assert c_all >= c_pi - 1e-9
    assert c_pi >= 1 - 1e-9
    # A finite class is dominated by the class of all policies.
    finite = coverage.coverability(mdp, [policy, random_policy(mdp, seed + 1, deterministic=True)])
    assert finite.value <= c_cov + 1e-9
    assert np.all(finite.reachability <= coverage.max_reachability(mdp) + 1e-9)
    # Clipped concentrability lies between 0 and min(g, C*); without clipping it is E_d[d/mu].
    d = occupancy(mdp, policy)
    unclipped = coverage.clipped_concentrability(mdp, policy, mu, 1e12)
    np.testing.assert_allclose(unclipped, (d * coverage.density_ratio(mdp, policy, mu)).sum(axis=(-2, -1)))
    clipped = np.asarray(coverage.clipped_concentrability(mdp, policy, mu, 1.5))
    assert np.all(clipped <= 1.5 + 1e-12) and np.all(clipped <= np.asarray(unclipped) + 1e-12)


def test_single_policy_class_has_coverability_one():
    mdp = build_mdp(3, S=4, A=3, horizon=4)
    policy = random_policy(mdp, 0, deterministic=False)
    cov = coverage.coverability(mdp, [policy])
    assert cov.value == pytest.approx(1.0)
    np.testing.assert_allclose(cov.mu, occupancy(mdp, policy))


@pytest.mark.parametrize("k, A, p", [(2, 2, 0.5), (3, 4, 0.8), (4, 4, 0.0)])
def test_controlled_coverability_family_of_glow_digest(k, A, p):
    """Amortila et al. (2024) experiment family: action a moves to state a mod k w.p. p, else uniformly;
    C_cov,h = A (1 + (k - 1) p) for every step after the first (uniform start: C_cov,0 = A)."""
    P = np.empty((k, A, k))
    for a in range(A):
        P[:, a, :] = (1 - p) / k
        P[:, a, a % k] += p
    mdp = TabularMDP(P, np.zeros((k, A)), np.full(k, 1 / k), horizon=4)
    cov = coverage.coverability(mdp)
    np.testing.assert_allclose(cov.per_step, [A] + [A * (1 + (k - 1) * p)] * 3, rtol=1e-12)


def test_bandit_coverability_is_the_number_of_arms():
    from theory_rl.generators import random_bandit

    mab = random_bandit(4, seed=0)
    assert coverage.coverability(mab).value == pytest.approx(4.0)
    assert coverage.concentrability(mab, np.array([2]), np.full((1, 4), 0.25)) == pytest.approx(4.0)


def test_uncovered_policy_and_bad_mu():
    mdp = build_mdp(5, S=3, A=2, gamma=0.5)
    mu = np.array([[0.5, 0.0], [0.25, 0.0], [0.25, 0.0]])
    with pytest.raises(ValueError, match="does not cover"):
        coverage.concentrability(mdp, np.ones(3, dtype=int), mu)
    assert coverage.concentrability(mdp, np.ones(3, dtype=int), mu, allow_infinite=True) == np.inf
    assert np.isinf(coverage.density_ratio(mdp, np.ones(3, dtype=int), mu)).any()
    with pytest.raises(ValueError, match="does not cover"):
        coverage.all_policy_concentrability(mdp, mu)
    with pytest.raises(ValueError, match="sums to"):
        coverage.concentrability(mdp, np.zeros(3, dtype=int), mu * 2)
    with pytest.raises(ValueError, match="clip"):
        coverage.clipped_concentrability(mdp, np.zeros(3, dtype=int), np.full((3, 2), 1 / 6), 0)
    with pytest.raises(ValueError, match="empty"):
        coverage.coverability(mdp, [])
    with pytest.raises(ValueError, match="TabularMDP"):
        coverage.coverability("not an mdp")


def test_max_ratio_is_public():
    d = np.array([[0.5, 0.5], [0.0, 0.0]])
    mu = np.array([[0.25, 0.25], [0.25, 0.25]])
    assert coverage.max_ratio(d, mu) == 2.0
    with pytest.raises(ValueError, match=r"mu does not cover the policy: it visits \(s, a\) = \(0, 1\)"):
        coverage.max_ratio(d, np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert coverage.max_ratio(d, np.array([[1.0, 0.0], [0.0, 0.0]]), allow_infinite=True) == np.inf
    assert not hasattr(coverage, "_max_ratio")  # the old private name is gone
    with pytest.raises(ValueError, match="d has shape"):
        coverage.occupancy_ratio(np.ones(3), np.ones(2))


# ---------------------------------------------------------------------- issue 14: the maximum at an interior step
def _peaked_mdp(S, A, H, k, seed):
    """Every step sends every pair to state 0, except step k - 1, where state 0's actions spread over the states
    with random distributions: only step k reaches more than one state, so C_cov peaks at the interior step k."""
    rng = np.random.default_rng(seed)
    P = np.zeros((H, S, A, S))
    P[..., 0] = 1.0
    P[k - 1, 0] = rng.dirichlet(np.full(S, 0.5), size=A)
    R = rng.random((H, S, A))
    init = np.eye(S)[0]
    return TabularMDP(P, R, init, horizon=H), P[k - 1, 0]


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 4), st.integers(2, 3), st.integers(3, 5), st.data(), st.integers(0, 2**31 - 1))
def test_coverability_maximum_at_an_interior_step(S, A, H, data, seed):
    k = data.draw(st.integers(1, H - 2), label="k")  # interior: neither the first nor the last step
    mdp, spread = _peaked_mdp(S, A, H, k, seed)
    cov = coverage.coverability(mdp)
    # by hand: one reachable state (state 0) at every other step, so A there; at step k, A sum_s max_a P(s | 0, a)
    peak = A * spread.max(axis=0).sum()
    expected = np.full(H, float(A))
    expected[k] = peak
    np.testing.assert_allclose(cov.per_step, expected, rtol=1e-12)
    assert peak > A + 1e-9 or np.allclose(spread, spread[0])  # distinct random rows: strictly above the others
    assert cov.value == pytest.approx(peak, rel=1e-12)
    assert int(np.argmax(cov.per_step)) == k
    np.testing.assert_allclose(coverage.max_reachability(mdp), _lp_reachability(mdp), atol=1e-6)
    # the optimal mu at step k is proportional to the reachabilities there
    np.testing.assert_allclose(cov.mu[k], np.broadcast_to(spread.max(axis=0)[:, None], (S, A)) / peak,
                               rtol=1e-12)
