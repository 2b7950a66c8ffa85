"""Sampling kernels: alias tables are exact, samples follow P, R and d^pi, and never depend on batching/threads."""

from __future__ import annotations

import re

import numba
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import mdps_with_policy
from tests.strategies_sim import build_mdp, random_distributions, random_policy
from theory_rl import _kernels, data
from theory_rl.data.tables import dense_csr, support_table
from theory_rl.planning import occupancy
from theory_rl.policies import policy_matrix


def _implied(table, K: int) -> np.ndarray:
    """The exact distribution each row of a support table draws from: entry j of a row with m entries gives
    prob[j] / m to its own outcome and (1 - prob[j]) / m to its alias's outcome."""
    indptr, prob, own, other = table
    out = np.zeros((indptr.shape[0] - 1, K))
    for r in range(out.shape[0]):
        j = slice(indptr[r], indptr[r + 1])
        m = indptr[r + 1] - indptr[r]
        np.add.at(out[r], own[j], prob[j] / m)
        np.add.at(out[r], other[j], (1.0 - prob[j]) / m)
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 12), st.integers(1, 6))
def test_alias_tables_are_exact_and_never_draw_zero_probabilities(seed, K, rows):
    p = random_distributions(np.random.default_rng(seed), (rows, K), sparsity=0.4)
    table = support_table(p)
    np.testing.assert_allclose(_implied(table, K), p, rtol=0, atol=1e-12)
    indptr, prob, own, other = table
    # One entry per non-zero (memory linear in the support); an outcome of probability 0 is never an outcome.
    np.testing.assert_array_equal(np.diff(indptr), np.count_nonzero(p, axis=1))
    rows_of = np.repeat(np.arange(rows), np.diff(indptr))
    assert np.all(p[rows_of, own] > 0) and np.all(p[rows_of, other] > 0)


def test_support_tables_of_dense_and_csr_forms_are_identical():
    """The tables (hence the samples, for the same seeds) of a dense array and of its scipy CSR form agree bit for
    bit (issue 15 item 3): what a sparse TabularMDP will pass as ``mdp.transitions``."""
    import scipy.sparse

    p = random_distributions(np.random.default_rng(3), (40, 30), sparsity=0.8)
    csr = scipy.sparse.csr_array(p)
    sparse = _kernels.build_alias_csr(csr.indptr.astype(np.int64), csr.indices.astype(np.int32), csr.data)
    for a, b in zip(support_table(p), sparse, strict=True):
        np.testing.assert_array_equal(a, b)


def test_support_table_memory_is_linear_in_the_non_zeros():
    """10^6 rows with 5 non-zeros each: 5e6 entries of 16 bytes plus the offsets, no (rows, S) array anywhere."""
    rows, k = 10**6, 5
    indptr = np.arange(0, rows * k + 1, k, dtype=np.int64)
    indices = (np.arange(rows * k, dtype=np.int64) * 7919 % 10**6).astype(np.int32)
    data = np.tile([0.1, 0.2, 0.3, 0.25, 0.15], rows)
    table = _kernels.build_alias_csr(indptr, indices, data)
    assert sum(x.nbytes for x in table) == 8 * (rows + 1) + 16 * rows * k
    assert table[2].shape == (rows * k,)


def test_select_is_branch_free_in_the_compiled_kernel():
    """The alias select compiles to masks or a select, not a conditional jump on the threshold compare (issue 16).
    Checked on the LLVM IR of sample_transitions compiled afresh (a kernel loaded from numba's on-disk cache has
    no IR to inspect): no ``br i1`` on an ``fcmp`` result."""
    fresh = numba.njit(_kernels.sample_transitions.py_func)
    mdp = build_mdp(1, S=3, A=2, gamma=0.9)
    t = data.tables.model_tables(mdp)
    zero = np.zeros(1, np.int64)
    fresh(np.uint64(1), t.P, mdp.S, mdp.A, zero, zero, zero, t.R, 2, 0.0, np.empty(1, np.int32), np.empty(1))
    ir = next(iter(fresh.inspect_llvm().values()))
    compares = set(re.findall(r"(%[\w.]+) = fcmp (?:olt|ult)", ir))
    branches = set(re.findall(r"br i1 (%[\w.]+),", ir))
    assert compares, "no threshold compare found in the IR"
    assert not compares & branches


def test_next_states_follow_P_chi_square():
    mdp = build_mdp(11, S=6, A=3, gamma=0.9)
    n = 20_000
    pairs = [(s, a) for s in range(mdp.S) for a in range(mdp.A)]
    states = np.repeat([s for s, _ in pairs], n)
    actions = np.repeat([a for _, a in pairs], n)
    nxt, _ = data.sample_transitions(mdp, states, actions, seed=2024)
    for i, (s, a) in enumerate(pairs):
        observed = np.bincount(nxt[i * n : (i + 1) * n], minlength=mdp.S)
        p = mdp.P[s, a]
        assert observed[p == 0].sum() == 0
        expected = n * p[p > 0]
        if expected.size > 1:
            # 18 tests at level 1e-6 each: false-failure probability <= 1.8e-5 under a correct sampler.
            assert scipy.stats.chisquare(observed[p > 0], expected).pvalue > 1e-6


@pytest.mark.parametrize("noise", ["bernoulli", "gaussian", "deterministic"])
def test_rewards_have_mean_R(noise):
    mdp = build_mdp(3, S=2, A=2, gamma=0.5, noise=noise)
    n = 40_000
    states = np.repeat([0, 0, 1, 1], n)
    actions = np.repeat([0, 1, 0, 1], n)
    _, r = data.sample_transitions(mdp, states, actions, seed=5)
    means = r.reshape(4, n).mean(axis=1)
    R = mdp.R.reshape(-1)
    if noise == "deterministic":
        np.testing.assert_array_equal(r.reshape(4, n), np.repeat(R[:, None], n, axis=1))
        return
    if noise == "bernoulli":
        assert set(np.unique(r)) <= {0.0, 1.0}
    sd = np.sqrt(R * (1 - R)) if noise == "bernoulli" else np.full(4, mdp.reward_std)
    # 6 sigma per mean, 4 means: false-failure probability < 1e-8.
    assert np.all(np.abs(means - R) <= 6 * sd / np.sqrt(n) + 1e-12)


@pytest.mark.parametrize(
    "stage_dependent, deterministic, policy_stages",
    [(False, True, False), (True, False, True), (True, True, True), (False, False, False), (True, False, False)],
)
def test_trajectory_occupancy_converges_to_planning_occupancy(stage_dependent, deterministic, policy_stages):
    mdp = build_mdp(7, S=4, A=3, horizon=5, stage_dependent=stage_dependent)
    policy = random_policy(mdp, 1, deterministic=deterministic, stage_dependent=policy_stages)
    n = 40_000
    ds = data.sample_trajectories(mdp, policy, n, seed=99)
    freq = ds.counts / n
    d = occupancy(mdp, policy)
    # Each entry is a Binomial(n, d) frequency; 6 sigma (plus a floor for d ~ 0), 60 entries. The Gaussian
    # 6-sigma tail (2e-9 per entry) understates the binomial tails at the small d here (min d ~ 8e-4): summing
    # the exact two-sided binomial tail probabilities of the 60 entries (union bound) gives a false-failure
    # probability of at most 1.7e-7 per parametrisation and 8.5e-7 for the five together.
    tol = 6 * np.sqrt(d * (1 - d) / n) + 1e-12
    assert np.all(np.abs(freq - d) <= tol)
    # Behaviour probabilities are pi_h(a | s) of the sampled pair.
    pi = np.broadcast_to(policy_matrix(mdp, policy), (mdp.horizon, mdp.S, mdp.A))
    np.testing.assert_array_equal(ds.behaviour_prob, pi[ds.step, ds.state, ds.action])
    assert np.all(ds.behaviour_prob > 0)


def test_discounted_trajectories_match_discounted_occupancy():
    mdp = build_mdp(5, S=4, A=2, gamma=0.7)
    policy = random_policy(mdp, 2, deterministic=False)
    n, T = 20_000, 60
    ds = data.sample_trajectories(mdp, policy, n, seed=3, n_steps=T)
    w = (1 - mdp.gamma) * mdp.gamma ** ds.step.astype(float)
    est = (
        np.bincount(ds.state * mdp.A + ds.action, weights=w, minlength=mdp.S * mdp.A).reshape(mdp.S, mdp.A)
        / n
    )
    # Per episode the weighted indicator lies in [0, 1]: Hoeffding at 1e-9 per entry (8 entries), plus the
    # truncation bias gamma^T < 1e-9.
    tol = np.sqrt(np.log(2 / 1e-9) / (2 * n)) + mdp.gamma**T
    assert np.all(np.abs(est - occupancy(mdp, policy)) <= tol)


def _same(a, b):
    for f in ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


@pytest.mark.parametrize("noise", ["bernoulli", "gaussian"])
def test_identical_samples_batched_one_trial_and_thread_counts(noise):
    mdp = build_mdp(4, S=5, A=3, horizon=6, stage_dependent=True, noise=noise)
    policy = random_policy(mdp, 0, deterministic=False, stage_dependent=True)
    mu = random_distributions(np.random.default_rng(0), (mdp.S * mdp.A,)).reshape(mdp.S, mdp.A)
    n_trials = 5
    children = np.random.SeedSequence(17).spawn(n_trials)
    threads = numba.get_num_threads()
    try:
        runs = []
        for k in sorted({1, threads}):
            numba.set_num_threads(k)
            runs.append(
                (
                    data.sample_trajectories_batch(mdp, policy, 37, 17, n_trials),
                    data.sample_iid_batch(mdp, mu, 23, 17, n_trials),
                )
            )
    finally:
        numba.set_num_threads(threads)
    for trajs, iids in runs:
        for i in (0, 3):
            _same(trajs[i], data.sample_trajectories(mdp, policy, 37, children[i]))
            _same(iids[i], data.sample_iid(mdp, mu, 23, children[i]))
        _same(trajs[4], runs[0][0][4])
    # Different trials are different streams.
    assert not np.array_equal(runs[0][0][0].state, runs[0][0][1].state)


def test_seed_forms_and_reproducibility():
    mdp = build_mdp(1, S=3, A=2, horizon=3)
    a = data.sample_trajectories(mdp, np.zeros(3, dtype=int), 50, seed=8)
    b = data.sample_trajectories(mdp, np.zeros(3, dtype=int), 50, seed=np.random.SeedSequence(8))
    _same(a, b)
    c = data.sample_trajectories(mdp, np.zeros(3, dtype=int), 50, seed=np.random.default_rng(8))
    d = data.sample_trajectories(mdp, np.zeros(3, dtype=int), 50, seed=np.random.default_rng(8))
    _same(c, d)
    seeds = data.trial_seeds(8, 3)
    assert seeds.dtype == np.uint64 and len(set(seeds.tolist())) == 3
    for bad in (None, -1, 1.5, "x"):
        with pytest.raises(ValueError):
            data.sample_trajectories(mdp, np.zeros(3, dtype=int), 5, seed=bad)


@settings(max_examples=50, deadline=None)
@given(mdps_with_policy(max_S=5, max_A=3, max_H=4), st.integers(0, 20), st.integers(0, 2**31 - 1))
def test_every_sampled_transition_is_possible(mdp_policy, n_episodes, seed):
    mdp, policy = mdp_policy
    kw = {} if mdp.is_episodic else {"n_steps": 3}
    ds = data.sample_trajectories(mdp, policy, n_episodes, seed, **kw)
    T = mdp.horizon if mdp.is_episodic else 3
    assert len(ds) == n_episodes * T
    P = mdp.stage_P if mdp.is_episodic else mdp.P[None]
    h = ds.step if mdp.is_episodic else np.zeros_like(ds.step)
    assert np.all(P[h, ds.state, ds.action, ds.next_state] > 0)
    assert np.all(ds.behaviour_prob > 0)
    assert np.all(mdp.init[ds.state[ds.step == 0]] > 0)
    # Consecutive steps of an episode chain up.
    same = ds.episode[1:] == ds.episode[:-1]
    np.testing.assert_array_equal(ds.state[1:][same], ds.next_state[:-1][same])
    iid = data.sample_iid(mdp, np.full((mdp.S, mdp.A), 1 / (mdp.S * mdp.A)), n_episodes, seed)
    assert np.all(P[iid.step if mdp.is_episodic else 0, iid.state, iid.action, iid.next_state] > 0)


@pytest.mark.parametrize(("staged_pi", "staged_P"), [(False, False), (True, False), (False, True), (True, True)])
def test_joint_action_next_state_tables_are_exact(staged_pi, staged_P):
    """A stochastic policy's joint table draws (a, s') with probability pi_h(a | s) P_h(s' | s, a) exactly (issue 16:
    one draw per step), for every combination of stationary and stage-dependent policy and kernel."""
    rng = np.random.default_rng(5)
    S, A, H = 4, 3, 3
    probs = random_distributions(rng, ((H if staged_pi else 1), S, A), sparsity=0.3)
    P = random_distributions(rng, ((H if staged_P else 1), S, A, S), sparsity=0.5)
    indptr, codes, data_ = _kernels.joint_csr(probs, *dense_csr(P.reshape(-1, S)), S, A)
    table = _kernels.build_alias_csr(indptr, codes, data_)
    rows = max(probs.shape[0], P.shape[0]) * S
    assert indptr.shape == (rows + 1,)
    implied = np.zeros((rows, A, S))
    ptr, prob, own, other = table
    for r in range(rows):
        m = ptr[r + 1] - ptr[r]
        for j in range(ptr[r], ptr[r + 1]):
            for code, w in ((own[j], prob[j]), (other[j], 1.0 - prob[j])):
                implied[r, code >> 32, code & 0xFFFFFFFF] += w / m
    h = np.arange(rows) // S
    s = np.arange(rows) % S
    expected = probs[h if staged_pi else 0, s][:, :, None] * P[h if staged_P else 0, s]
    np.testing.assert_allclose(implied, expected, rtol=0, atol=1e-12)


def test_huber_location_groups_leaves_empty_groups_undefined_without_reading_past_the_end():
    # RIQL's critics pass one group per (critic, state, action) and read only the seen ones: an empty group, the
    # last ones included (offset = len(values)), must not read values[offset] (NUMBA_BOUNDSCHECK=1 found that read)
    values = np.array([0.0, 10.0, 3.0])
    weights = np.ones(3)
    offsets = np.array([0, 0, 2, 3, 3, 3])  # groups: empty, {0, 10}, {3}, empty, empty
    out = np.full(5, 7.0)
    _kernels.huber_location_groups(values, weights, offsets, 1.0, out)
    assert out[1] == 5.0 and out[2] == 3.0  # the midpoint of the flat piece; a single value
    assert np.isnan(out[[0, 3, 4]]).all()
