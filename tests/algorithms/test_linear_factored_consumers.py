"""The policy-level routines, the offline-to-online coefficient, the reachable designs and FTPedel on the factored
form (issue 15, item 4): the dense form of the same small instance is the oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import factored_linear_models
from theory_rl import planning
from theory_rl.algorithms.design import reachable_design
from theory_rl.algorithms.ftpedel import distinct_policies, ftpedel
from theory_rl.coverage.o2o import o2o_coefficient, policy_class_summary
from theory_rl.data import sample_generative
from theory_rl.generators.linear import hybrid_family, random_linear_mdp
from theory_rl.linear import (
    FactoredLinearMDP,
    best_response,
    linear_evaluate,
    policy_covariances,
    policy_features,
)


@settings(max_examples=30, deadline=None)
@given(factored_linear_models(), st.integers(0, 2**32 - 1))
def test_policy_quantities_match_the_dense_form(F, seed):
    L = F.to_linear()
    rng = np.random.default_rng(seed)
    pol = rng.integers(F.A, size=(F.H, F.S))
    assert np.abs(policy_features(F, pol) - policy_features(L, pol)).max() < 1e-12
    assert np.abs(policy_covariances(F, pol) - policy_covariances(L, pol)).max() < 1e-12
    h = int(rng.integers(F.H))
    g = rng.random((F.S, F.A))
    reward = np.zeros((F.H, F.S, F.A))
    reward[h] = g
    tab = planning_mdp(L, reward)
    best = planning.backward_induction(tab).V[0] @ F.init  # the oracle: the best E[g(s_h, a_h)]
    for model in (F, L):
        got = planning.evaluate(tab, best_response(model, h, g))[0] @ F.init
        assert abs(got - best) < 1e-12


def planning_mdp(L, reward):
    """The dense MDP of L with reward ``reward`` (H, S, A) (for the best-response oracle)."""
    from theory_rl.mdp import TabularMDP

    return TabularMDP(L.P, reward, L.init, horizon=L.H)


def test_policy_class_summary_and_o2o_coefficient_match_the_dense_form():
    L = hybrid_family(0.1, r_safe=0.3)
    F = FactoredLinearMDP.from_linear(L)
    for a, b in zip(policy_class_summary(F), policy_class_summary(L), strict=True):
        assert np.abs(np.asarray(a, float) - np.asarray(b, float)).max() < 1e-12
    Loff = np.zeros((2, 2, 2))
    Loff[:, 0, 0] = 500.0
    for T in (0.0, 10.0, 1000.0):
        cf, cd = o2o_coefficient(F, Loff, 0.1, T), o2o_coefficient(L, Loff, 0.1, T)
        assert np.allclose(cf, cd, rtol=1e-6), (T, cf, cd)
    assert o2o_coefficient(F, np.zeros((2, 2, 2)), 0.1, 0.0, h=0) == math.inf


def test_reachable_design_matches_the_dense_form():
    L = random_linear_mdp(4, 2, 3, 3, seed=5)
    F = FactoredLinearMDP.from_linear(L)
    X = np.eye(3)
    a = reachable_design(F, 2, X, max_iter=40, on_max_iter="warn")
    b = reachable_design(L, 2, X, max_iter=40, on_max_iter="warn")
    assert abs(a.value - b.value) <= 1e-9 * max(1.0, abs(b.value))
    assert np.abs(a.covariance - b.covariance).max() < 1e-9


def _offline(lin, n, seed):
    n_sa = np.zeros((2, 3, 2))
    n_sa[0, 0, 0] = n_sa[1, 1, 0] = n
    return sample_generative(lin, n_sa, seed)


def test_ftpedel_runs_on_the_factored_form_and_is_eps_optimal():
    """The design (planning through the factors) is the dense one's; the data come from the latent sampler, so
    the episode counts differ from the dense run's by sampling noise only. Fixed seeds: a deterministic regression
    test (the theorem's per-run guarantee is 1 - delta = 0.9)."""
    L = hybrid_family(0.1, r_safe=0.3)
    F = FactoredLinearMDP.from_linear(L)
    assert np.array_equal(distinct_policies(F), distinct_policies(L))
    values = [float(F.init @ linear_evaluate(F, p)[0]) for p in distinct_policies(F)]
    for seed in range(3):
        off = _offline(L, 10**4, seed)
        res = ftpedel(F, 0.1, 0.1, seed=seed, offline=off)
        dense = ftpedel(L, 0.1, 0.1, seed=seed, offline=off)
        assert float(F.init @ linear_evaluate(F, res.policy)[0]) >= max(values) - 0.1
        assert abs(res.episodes - dense.episodes) <= 0.05 * dense.episodes
    with pytest.raises(ValueError, match="explorer='lsvi_ucb'"):
        ftpedel(F, 0.1, 0.1, seed=0, explorer="lsvi_ucb")
