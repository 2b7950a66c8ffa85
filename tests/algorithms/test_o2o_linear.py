"""The harness's linear-feature learner (issue 19, WSRL item): one-hot oracle, the switches, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import data, generators
from theory_rl.algorithms.o2o import finetune


def _setup(seed, S=5, A=3, gamma=0.8):
    mdp = generators.garnet(S, A, 3, gamma=gamma, seed=seed)
    b = data.CountsBuilder(S, A, gamma=gamma)
    b.add_rollouts(data.sample_rollouts(mdp, np.full((S, A), 1.0 / A), 4, seed, n_steps=10))
    return mdp, b.to_counts()


def _one_hot(mdp):
    return np.eye(mdp.S * mdp.A).reshape(mdp.S, mdp.A, -1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), offline=st.sampled_from(["vi_lcb", "empirical_vi", "none"]),
       online=st.sampled_from(["q_learning", "pessimistic", "optimistic"]), warmup=st.sampled_from([0, 20]),
       fraction=st.sampled_from([0.0, 0.3, 1.0]), tau=st.sampled_from([5e-3, 1.0]))
def test_one_hot_features_equal_the_tabular_run(seed, offline, online, warmup, fraction, tau):
    # the oracle: with one-hot features the linear learner IS tabular Q-learning (same seed, same episodes)
    mdp, D = _setup(seed)
    kw = dict(seed=seed, offline=offline, online=online, warmup_steps=warmup, offline_fraction=fraction, tau=tau,
              online_steps=60, n_steps=10, bonus_scale=0.1)
    lin, tab = finetune(mdp, D, features=_one_hot(mdp), **kw), finetune(mdp, D, **kw)
    np.testing.assert_allclose(lin.Q, tab.Q, rtol=0, atol=1e-9 * max(1.0, np.abs(tab.Q).max()))
    for name in ("J_eval", "J_behaviour", "regret", "q_start", "q_start_true", "steps"):
        np.testing.assert_allclose(getattr(lin, name), getattr(tab, name), rtol=0, atol=1e-9)
    np.testing.assert_allclose(lin.td_offline, tab.td_offline, rtol=1e-9, atol=1e-9)
    assert np.array_equal(lin.policy, tab.policy) and lin.method == tab.method + "+linear"


def test_shared_features_differ_from_tabular_and_rescaling_is_harmless():
    # fails if the features were ignored (a linear run equal to the tabular one) ...
    mdp, D = _setup(3)
    phi = np.random.default_rng(0).random((mdp.S, mdp.A, 4))
    kw = dict(seed=1, online_steps=60, n_steps=10, offline="empirical_vi")
    lin, tab = finetune(mdp, D, features=phi, **kw), finetune(mdp, D, **kw)
    assert np.abs(lin.Q - tab.Q).max() > 1e-3
    # ... and Q stays in the span of the features, while rescaling them does not change the function class
    Phi = phi.reshape(-1, 4)
    w = np.linalg.lstsq(Phi, lin.Q.reshape(-1), rcond=None)[0]
    np.testing.assert_allclose(Phi @ w, lin.Q.reshape(-1), atol=1e-9)
    np.testing.assert_allclose(finetune(mdp, D, features=7.0 * phi, **kw).Q, lin.Q, atol=1e-9)


def test_retention_switch_and_warmup_are_used():
    mdp, D = _setup(5)
    phi = np.random.default_rng(1).random((mdp.S, mdp.A, 4))
    kw = dict(online_steps=60, n_steps=10, offline="empirical_vi", features=phi)
    # offline fraction 1: the updates see the offline data only, so Q does not depend on the online episodes
    a, b = finetune(mdp, D, seed=1, offline_fraction=1.0, **kw), finetune(mdp, D, seed=2, offline_fraction=1.0, **kw)
    np.testing.assert_allclose(a.Q, b.Q, atol=1e-12)
    # fraction 0 (no retention): the online episodes drive the updates, different seeds give different Q
    c, d = finetune(mdp, D, seed=1, **kw), finetune(mdp, D, seed=2, **kw)
    assert np.abs(c.Q - d.Q).max() > 1e-6 and np.abs(c.Q - a.Q).max() > 1e-6
    # the warm-up: its steps are counted, its regret is that of the frozen offline policy, and it changes Q
    w = finetune(mdp, D, seed=1, warmup_steps=30, **kw)
    assert w.steps[1] == 30 + 10 and w.regret[1] >= 3 * (w.J_star - w.J_offline) - 1e-9
    assert np.abs(w.Q - c.Q).max() > 1e-6


def test_bad_features():
    mdp, D = _setup(0)
    kw = dict(seed=0, online_steps=10, n_steps=10)
    with pytest.raises(ValueError, match="features"):
        finetune(mdp, D, features=np.zeros((mdp.S + 1, mdp.A, 2)), **kw)
    with pytest.raises(ValueError, match="features"):
        finetune(mdp, D, features=np.zeros((mdp.S, mdp.A, 2)), **kw)
    with pytest.raises(ValueError, match="features"):
        finetune(mdp, D, features=np.full((mdp.S, mdp.A, 2), np.nan), **kw)
    with pytest.raises(ValueError, match="features"):
        finetune(mdp, D, features=_one_hot(mdp), online="ensemble_lcb", **kw)
    with pytest.raises(ValueError, match="projection_floor"):
        finetune(mdp, D, features=_one_hot(mdp), projection_floor=0.0, **kw)
