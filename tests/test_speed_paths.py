"""Issue 16's fast paths give the results of the paths they short-cut: bit for bit where the arithmetic is the same
(evaluation by a gather, the batched i.i.d. counts, the trusted MDP, the validation fast path), and to round-off
with identical policies where the summation order changed (VI-LCB's compiled sweeps)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import seeded_arrays, tabular_mdps
from theory_rl import planning
from theory_rl._validation import Integer, Real, validate_params
from theory_rl.algorithms import lcb
from theory_rl.data import CountDataset, sample_iid_counts, sample_iid_counts_batch
from theory_rl.generators import concentrability as instances
from theory_rl.mdp import TabularMDP, trusted_mdp
from theory_rl.policies import policy_matrix


# ---------------------------------------------------------------------- validate_params' fast path
@validate_params(n=Integer(1), delta=Real(0.0, 1.0, closed="neither"))
def _f(n, m=2, *, delta=0.5, flag=False):
    return n, m, delta, flag


@validate_params(x=Integer(0))
def _g(x, *rest, **extra):
    return x, rest, extra


def test_fast_path_binds_checks_and_refuses_as_inspect_does():
    assert _f(3) == (3, 2, 0.5, False)
    assert _f(3, 4, delta=0.25, flag=True) == (3, 4, 0.25, True)
    assert _f(n=5, m=1) == (5, 1, 0.5, False)
    assert _g(1, 2, 3, k=4) == (1, (2, 3), {"k": 4})  # *args / **kwargs: the bind path
    for bad in (lambda: _f(0), lambda: _f(n=0), lambda: _f(2, delta=1.0), lambda: _g(-1, 2)):
        with pytest.raises(ValueError):
            bad()
    # Wrong calls are TypeErrors before any check runs (as inspect's bind): missing, doubled, unknown, too many.
    for bad in (lambda: _f(), lambda: _f(0, n=2), lambda: _f(2, nope=1), lambda: _f(1, 2, 3), lambda: _f(delta=2.0)):
        with pytest.raises(TypeError) as err:
            bad()
        assert not isinstance(err.value, ValueError)


# ---------------------------------------------------------------------- evaluation by a gather, cached returns
@settings(max_examples=60, deadline=None)
@given(tabular_mdps(episodic=False), st.integers(0, 2**31 - 1))
def test_evaluate_of_an_action_array_is_bit_identical_to_the_probability_path(mdp, seed):
    actions = np.random.default_rng(seed).integers(0, mdp.A, mdp.S)
    one_hot = policy_matrix(mdp, actions)  # floats: the general (einsum) path
    np.testing.assert_array_equal(planning.evaluate(mdp, actions), planning.evaluate(mdp, one_hot))
    J = planning.expected_return(mdp, actions)
    assert J == planning.expected_return(mdp, one_hot)
    assert planning.expected_return(mdp, actions.copy()) == J  # the cached value, same bits


def test_fast_evaluation_refuses_bad_actions_like_policy_matrix():
    P, R, init = seeded_arrays(3, 2, 0, 0.0)
    mdp = TabularMDP(P, R, init, gamma=0.9)
    for bad in (np.array([0, 2, 1]), np.array([0, -1, 1])):
        with pytest.raises(ValueError, match=r"policy\[1\]"):
            planning.expected_return(mdp, bad)
        with pytest.raises(ValueError, match=r"policy\[1\]"):
            planning.evaluate(mdp, bad)


def test_cached_returns_follow_the_policy_content_not_the_array_object():
    P, R, init = seeded_arrays(4, 3, 1, 0.3)
    mdp = TabularMDP(P, R, init, gamma=0.8)
    pi = np.zeros(4, int)
    first = planning.expected_return(mdp, pi)
    pi[2] = 1  # the caller mutates its array: the next call sees the new policy
    assert planning.expected_return(mdp, pi) == float(mdp.init @ planning.evaluate(mdp, pi))
    assert planning.expected_return(mdp, np.zeros(4, int)) == first


# ---------------------------------------------------------------------- trusted construction
def test_trusted_mdp_equals_the_validated_one():
    P, R, init = seeded_arrays(5, 3, 2, 0.5)
    a = TabularMDP(P, R, init, gamma=0.9)
    b = trusted_mdp(P.copy(), R.copy(), init.copy(), gamma=0.9)
    for name in ("P", "R", "init"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not getattr(b, name).flags.writeable
    assert (a.gamma, a.horizon, a.reward_noise, a.reward_std, repr(a)) == (
        b.gamma, b.horizon, b.reward_noise, b.reward_std, repr(b))
    np.testing.assert_array_equal(planning.solve(a).V, planning.solve(b).V)
    # the same private fields as __init__ sets (a field added there must be added to trusted_mdp too)
    assert sorted(vars(TabularMDP(P, R, init, gamma=0.9))) == sorted(vars(trusted_mdp(P, R, init, gamma=0.9)))
    assert (b.S, b.A, b.is_sparse, b.transitions.nnz) == (a.S, a.A, False, a.transitions.nnz)
    with pytest.raises(AttributeError):
        b.foo = 1


# ---------------------------------------------------------------------- batched i.i.d. counts
def test_iid_counts_batch_equals_one_call_per_seed():
    mdp, mu = instances.undercovered_mdp(5, 2.0, 0.1, gamma=0.9, seed=0)
    seeds = np.random.SeedSequence(7).spawn(4)
    batch = sample_iid_counts_batch(mdp, mu, 300, seeds)
    for d, ss in zip(batch, seeds, strict=True):
        one = sample_iid_counts(mdp, mu, 300, ss)
        for f in ("counts", "transition_counts", "reward_sums"):
            np.testing.assert_array_equal(getattr(d, f), getattr(one, f))
        assert d.meta["seed"] == one.meta["seed"]
    with pytest.raises(ValueError, match="seeds"):
        sample_iid_counts_batch(mdp, mu, 300, 3)


# ---------------------------------------------------------------------- VI-LCB's compiled sweeps
def _numpy_sweeps(models, penalties, gamma, pi0, iterations):
    """The former numpy loop of Alg. 3 (before issue 16), kept as the oracle."""
    V, policy = np.zeros(pi0.shape[0]), pi0.copy()
    for t in range(iterations):
        model, penalty = models[t % len(models)], penalties[t % len(models)]
        Q = model.R - penalty + gamma * (model.P @ V)
        Q = np.where(model.seen, Q, np.minimum(Q, 0.0))
        V_mid, pi_mid = Q.max(axis=1), np.argmax(Q, axis=1)
        better = V_mid > V
        V, policy = np.where(better, V_mid, V), np.where(better, pi_mid, policy)
    return V, Q, policy


@pytest.mark.parametrize("split", [False, True])
def test_compiled_sweeps_match_the_numpy_loop(split):
    # Fails if the kernel drops the unseen clip, the strict monotone update, the fold rotation or the discount.
    worst, diffs = 0.0, 0
    for seed in range(60):
        mdp, mu = instances.undercovered_mdp(5, 2.0, 0.2, gamma=0.9, seed=seed)
        n = (30, 200, 1500)[seed % 3]
        data = sample_iid_counts(mdp, mu, n, seed)
        folds = [data] if not split else [
            CountDataset(*(np.asarray(x) for x in (data.counts, data.transition_counts, data.reward_sums)), 5, 2,
                         gamma=0.9),
            sample_iid_counts(mdp, mu, n, seed + 1000),
        ]
        models = [f.empirical_model(unseen="uniform", unseen_reward=0.0) for f in folds]
        penalties = [0.05 * np.sqrt(3.0 / np.maximum(m.counts, 1)) / (1 - 0.9) for m in models]
        pi0 = np.argmax(np.asarray(data.counts), axis=1)
        ref = _numpy_sweeps(models, penalties, 0.9, pi0, 37)
        got = lcb._pessimistic_sweeps(folds, 0.9, lambda N: 0.05 * np.sqrt(3.0 / np.maximum(N, 1)) / (1 - 0.9), pi0,
                                      37)
        worst = max(worst, float(np.abs(ref[0] - got[0]).max()), float(np.abs(ref[1] - got[1]).max()))
        diffs += not np.array_equal(ref[2], got[2])
    assert worst < 1e-12 and diffs == 0


# ---------------------------------------------------------------------- lazy imports
def test_importing_planning_does_not_import_scipy_optimize():
    code = "import sys, theory_rl.planning; print('scipy.optimize' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- BLAS threads in process
def test_inline_runs_use_one_blas_thread_and_restore_the_limits():
    from threadpoolctl import threadpool_info, threadpool_limits

    from theory_rl.runner.executors import run_inline

    def blas_threads():
        np.dot(np.ones((2, 2)), np.ones(2))  # numpy's BLAS is loaded
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    seen = []

    def cell(config, seed):
        seen.append(blas_threads())
        return {"x": 1.0}

    with threadpool_limits(limits=2, user_api="blas"):  # a machine default of two threads (where BLAS allows)
        before = blas_threads()
        outcomes = [o for _, o in run_inline(cell, [({}, 0), ({}, 1)])]
        assert blas_threads() == before
    assert [o["status"] for o in outcomes] == ["ok", "ok"]
    assert seen and all(all(n == 1 for n in threads) for threads in seen)
