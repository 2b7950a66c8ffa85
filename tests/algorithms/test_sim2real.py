"""H2O of Niu et al. (2022), tabular (theory_rl.algorithms.sim2real), against independent oracles.

The oracles: exact policy evaluation by a linear solve (planning.q_values) in the real kernel, in the overlap
kernel built here from np.minimum, and in the mixture kernel of naive mixing; value/policy iteration in the
simulator; scipy's KL divergence; the Bayes-optimal classifiers' ratio computed from the counts; and, for the
full operator with its penalty, a central finite-difference gradient of the code's critic loss (written here
from the loss, not from the closed form (*)), which must vanish at the fixed point.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl import planning
from theory_rl.algorithms import sim2real as s2r
from theory_rl.data import CountDataset
from theory_rl.mdp import TabularMDP
from theory_rl.results import ConvergenceError

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def real_and_sim(draw, full_support: bool = True):
    """A discounted real MDP (gamma < 0.99 keeps the iterations short), a simulator ``(1 - lam) P + lam P_rand``
    (full support when ``P_rand`` has it) and a random stochastic policy."""
    real = draw(tabular_mdps(max_S=5, max_A=3, episodic=False))
    if real.gamma > 0.95:
        real = real.replace(gamma=0.9)
    lam = draw(st.sampled_from([0.05, 0.3, 0.7, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P_rand = rng.dirichlet(np.ones(real.S), size=(real.S, real.A))
    sim = TabularMDP((1 - lam) * real.P + lam * P_rand, real.R, real.init, gamma=real.gamma)
    pi = rng.dirichlet(np.ones(real.A), size=real.S)
    return real, sim, pi, rng


def empty_data(mdp: TabularMDP) -> CountDataset:
    S, A = mdp.S, mdp.A
    return CountDataset(np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A)), S, A, gamma=mdp.gamma)


def population_data(mdp: TabularMDP, mu: np.ndarray, n: float = 1000.0) -> CountDataset:
    """The expected counts of ``n`` i.i.d. samples from ``mu``: ``P_hat = P`` and ``r_hat = R`` exactly."""
    N = n * mu
    return CountDataset(N, N[..., None] * mdp.P, N * mdp.R, mdp.S, mdp.A, gamma=mdp.gamma)


@SETTINGS
@given(real_and_sim())
def test_unclipped_exact_is_without_real_data_evaluates_the_real_kernel(case):
    # beta = 0, w = P / P_sim unclipped, exact ratio: every sim backup is unbiased for P, so Q = Q^pi_M.
    real, sim, pi, _ = case
    res = s2r.dynamics_aware_h2o(empty_data(real), sim, ratio="exact", real_mdp=real, use_penalty=False,
                                 is_low=0.0, is_high=1e300, policy=pi, tol=1e-12)  # fmt: skip
    np.testing.assert_allclose(res.Q, planning.q_values(real, pi), atol=1e-8)
    assert res.converged and res.error_bound <= 1e-12 / (1 - real.gamma) + 1e-15


@SETTINGS
@given(real_and_sim())
def test_clipped_is_without_real_data_evaluates_the_overlap_kernel(case):
    # beta = 0, w clipped at 1 (floor 0), no real data: evaluation under min(P, P_sim) / (1 - TV).
    real, sim, pi, _ = case
    overlap = np.minimum(real.P, sim.P)
    K = overlap / overlap.sum(axis=-1, keepdims=True)
    oracle = planning.q_values(TabularMDP(K, real.R, real.init, gamma=real.gamma), pi)
    res = s2r.dynamics_aware_h2o(empty_data(real), sim, ratio="exact", real_mdp=real, use_penalty=False,
                                 is_low=0.0, policy=pi, tol=1e-12)  # fmt: skip
    np.testing.assert_allclose(res.Q, oracle, atol=1e-8)
    np.testing.assert_allclose(res.overlap_mass, 1 - s2r.tv_gap(real.P, sim.P), atol=1e-12)
    K2, m = s2r.overlap_kernel(real.P, sim.P, low=0.0)
    np.testing.assert_allclose(K2, K, atol=1e-12)


def test_overlap_kernel_is_neither_kernel():
    # The bridge's sim says trap 0.1 where reality says 0.2: the overlap kernel says 0.1 / 0.9, a third model.
    P = np.array([[[0.8, 0.2]], [[0.0, 1.0]]])
    P_sim = np.array([[[0.9, 0.1]], [[0.0, 1.0]]])
    K, m = s2r.overlap_kernel(P, P_sim, low=0.0)
    np.testing.assert_allclose(K[0, 0], [0.8 / 0.9, 0.1 / 0.9])
    np.testing.assert_allclose(m, [[0.9], [1.0]])


@SETTINGS
@given(real_and_sim())
def test_naive_mixing_evaluates_the_mixture_kernel(case):
    real, sim, pi, rng = case
    mu = rng.dirichlet(np.ones(real.S * real.A)).reshape(real.S, real.A)
    rho_s = rng.dirichlet(np.ones(real.S * real.A)).reshape(real.S, real.A)
    mix = (mu[..., None] * real.P + rho_s[..., None] * sim.P) / (mu + rho_s)[..., None]
    oracle = planning.q_values(TabularMDP(mix, real.R, real.init, gamma=real.gamma), pi)
    res = s2r.naive_mixing(population_data(real, mu), sim, sim_mu=rho_s, policy=pi, tol=1e-12)
    np.testing.assert_allclose(res.Q, oracle, atol=1e-8)


@SETTINGS
@given(real_and_sim())
def test_sim_only_is_planning_in_the_simulator(case):
    _, sim, _, _ = case
    res = s2r.sim_only(sim, tol=1e-12)
    oracle = planning.policy_iteration(sim)
    np.testing.assert_allclose(res.V, oracle.V, atol=1e-8)
    np.testing.assert_allclose(planning.evaluate(sim, res.policy), oracle.V, atol=1e-7)


@SETTINGS
@given(real_and_sim())
def test_darc_expected_correction_is_minus_kl(case):
    real, sim, pi, _ = case
    shift = (sim.P * s2r.darc_correction(real.P, sim.P, clip=1e9)).sum(axis=-1)
    kl = scipy.stats.entropy(sim.P, real.P, axis=-1)  # KL(P_sim || P), independent
    finite = np.isfinite(kl)  # P = 0 < P_sim: infinite KL (the correction is then clipped)
    np.testing.assert_allclose(shift[finite], -kl[finite], atol=1e-9)
    u = s2r.kl_gap(sim.P, real.P)
    np.testing.assert_allclose(u[finite], np.clip(kl[finite], 1e-45, 10.0), atol=1e-9)
    assert np.all(u[~finite] == 10.0)
    # DARC's fixed point: evaluation in P_sim with rewards r - KL, by a linear solve here.
    if finite.all():
        res = s2r.darc(empty_data(real), sim, ratio="exact", real_mdp=real, clip=1e9, policy=pi, tol=1e-12)
        S, A = real.S, real.A
        M = np.eye(S * A) - real.gamma * np.einsum("sat,tb->satb", sim.P, pi).reshape(S * A, S * A)
        oracle = np.linalg.solve(M, (real.R - kl).reshape(-1)).reshape(S, A)
        np.testing.assert_allclose(res.Q, oracle, atol=1e-7)


@SETTINGS
@given(real_and_sim(), st.integers(1, 50), st.integers(1, 50))
def test_count_kernel_ratio_is_the_bayes_classifiers_ratio(case, n_r, n_s):
    # D_sa(real | s, a) = N_r / (N_r + N_s), D_sas(real | s, a, s') = C_r / (C_r + C_s): the code's ratio
    # D_sas(real) D_sa(sim) / (D_sas(sim) D_sa(real)) equals P_hat_r / P_hat_s wherever both counts are positive.
    real, sim, _, rng = case
    S, A = real.S, real.A
    C_r = rng.multinomial(n_r, np.full(S, 1 / S), size=(S, A)).astype(float)
    C_s = rng.multinomial(n_s, np.full(S, 1 / S), size=(S, A)).astype(float)
    d_r = CountDataset(C_r.sum(-1), C_r, np.zeros((S, A)), S, A, gamma=real.gamma)
    d_s = CountDataset(C_s.sum(-1), C_s, np.zeros((S, A)), S, A, gamma=real.gamma)
    ok = (C_r > 0) & (C_s > 0)
    N_r, N_s = C_r.sum(-1, keepdims=True), C_s.sum(-1, keepdims=True)
    d_sas = np.where(ok, C_r / np.where(ok, C_r + C_s, 1), 0.5)
    d_sa = N_r / (N_r + N_s)
    classifier = (d_sas / (1 - d_sas)) / (d_sa / (1 - d_sa))
    eps = 1e-9  # smoothing -> 0 recovers the maximum-likelihood kernels
    ratio = s2r.count_kernel(d_r, smoothing=eps) / s2r.count_kernel(d_s, smoothing=eps)
    np.testing.assert_allclose(ratio[ok], classifier[ok], rtol=1e-6)


def _loss_gradient(Q, Qbar, rho_r, P_r, R, rho_s, P_s, w, u, beta, pi, gamma, h=1e-6):
    """Central finite differences of the code's critic loss in ``Q``, targets frozen at ``Qbar``:
    MSE_real + MSE_sim(w) + beta (logsumexp over the sim distribution of Q + log u - mean_real Q)."""
    Vbar = (pi * Qbar).sum(axis=1)
    target = R[..., None] + gamma * Vbar[None, None, :]  # (S, A, S')

    def loss(q):
        err = (q[..., None] - target) ** 2
        mse_r = (rho_r[..., None] * P_r * err).sum()
        mse_s = (rho_s[..., None] * P_s * w * err).sum()
        mask = rho_s > 0
        lse = scipy.special.logsumexp(q[mask] + np.log(u[mask]), b=rho_s[mask])
        return mse_r + mse_s + beta * (lse - (rho_r * q).sum())

    g = np.zeros_like(Q)
    for idx in np.ndindex(Q.shape):
        e = np.zeros_like(Q)
        e[idx] = h
        g[idx] = (loss(Q + e) - loss(Q - e)) / (2 * h)
    return g


@settings(max_examples=15, deadline=None)
@given(real_and_sim(), st.sampled_from([0.01, 0.3, 1.0]))
def test_h2o_fixed_point_zeroes_the_critic_loss_gradient(case, beta):
    real, sim, pi, rng = case
    S, A = real.S, real.A
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    rho_s = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    res = s2r.dynamics_aware_h2o(population_data(real, mu), sim, sim_mu=rho_s, ratio="exact", real_mdp=real,
                                 beta=beta, policy=pi, tol=1e-12)  # fmt: skip
    w = np.clip(np.where(sim.P > 0, real.P / np.where(sim.P > 0, sim.P, 1), 0), 1e-5, 1.0)
    u = np.clip(scipy.stats.entropy(sim.P, real.P, axis=-1), 1e-45, 10.0)
    np.testing.assert_allclose(res.gap_measure, u, atol=1e-12)
    # The gradient with the code's u: a round-off KL (1e-17 against the floor 1e-45) moves log u, hence d_phi.
    grad = _loss_gradient(res.Q, res.Q, mu, real.P, real.R, rho_s, sim.P, w, res.gap_measure, beta, pi, real.gamma)
    scale = max(1.0, np.abs(res.Q).max())
    assert np.abs(grad).max() <= 1e-6 * scale
    # The penalty is active: the no-penalty fixed point differs wherever d_phi - rho_r is not tiny.
    plain = s2r.dynamics_aware_h2o(population_data(real, mu), sim, sim_mu=rho_s, ratio="exact", real_mdp=real,
                                   use_penalty=False, policy=pi, tol=1e-12)  # fmt: skip
    push = np.abs(res.penalty_dist - mu).max()
    if push > 1e-3:
        assert np.abs(res.Q - plain.Q).max() > 1e-3 * beta * push


@SETTINGS
@given(real_and_sim(), st.sampled_from([0.01, 0.5]))
def test_real_only_pairs_get_the_cql_push_up(case, beta):
    # Pairs with real data and no sim data: Q = y_r + beta / 2 exactly (d_phi = 0 there).
    real, sim, pi, rng = case
    S, A = real.S, real.A
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    rho_s = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    only_real = rng.random((S, A)) < 0.5
    only_real.flat[0] = True
    only_real.flat[-1] = False if S * A > 1 else True
    rho_s = np.where(only_real, 0.0, rho_s)
    if rho_s.sum() == 0:
        rho_s.flat[-1] = 1.0
        only_real.flat[-1] = False
    rho_s /= rho_s.sum()
    res = s2r.dynamics_aware_h2o(population_data(real, mu), sim, sim_mu=rho_s, ratio="exact", real_mdp=real,
                                 beta=beta, policy=pi, tol=1e-12)  # fmt: skip
    V = (pi * res.Q).sum(axis=1)
    y_r = real.R + real.gamma * real.P @ V
    np.testing.assert_allclose((res.Q - y_r)[only_real], beta / 2, atol=1e-8)


def test_greedy_fixed_point_and_convergence_rule():
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.2)
    data = population_data(inst.real, np.full((inst.real.S, 4), 1 / (4 * inst.real.S)))
    res = s2r.dynamics_aware_h2o(data, inst.sim)
    assert res.converged and res.residual <= 1e-9 and res.method == "h2o_sim2real"
    # Greedy in its own Q, and the fixed point of (*) with V = max_a Q: one more application changes nothing.
    np.testing.assert_array_equal(res.policy, np.argmax(res.Q, axis=1))
    again = s2r.dynamics_aware_h2o(data, inst.sim, policy=res.policy)
    np.testing.assert_allclose(again.Q, res.Q, atol=1e-7)
    with pytest.raises(ConvergenceError, match="h2o_sim2real did not converge in 2"):
        s2r.dynamics_aware_h2o(data, inst.sim, max_iter=2)
    with pytest.warns(UserWarning):
        assert not s2r.dynamics_aware_h2o(data, inst.sim, max_iter=2, on_max_iter="warn").converged


def test_h2o_on_the_bridge_avoids_the_trap_that_sim_only_takes():
    # Exact-population real data covering every pair, the paper's defaults: H2O (exact or count ratio) picks the
    # real optimum; sim-only and naive mixing take the bridge (gap 0.2: the simulator says no trap at all).
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.2)
    real = inst.real
    data = population_data(real, np.full((real.S, 4), 1 / (4 * real.S)), n=10_000)
    J = lambda res: planning.expected_return(real, res.policy)  # noqa: E731
    opt = planning.optimal_return(real)
    assert J(s2r.sim_only(inst.sim)) < 0.6 * opt
    assert J(s2r.dynamics_aware_h2o(data, inst.sim, ratio="exact", real_mdp=real)) == pytest.approx(opt)
    assert J(s2r.dynamics_aware_h2o(data, inst.sim)) == pytest.approx(opt)


def test_invalid_arguments_are_named():
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.1)
    data = empty_data(inst.real)
    with pytest.raises(ValueError, match="real_mdp"):
        s2r.dynamics_aware_h2o(data, inst.sim, ratio="exact")
    with pytest.raises(ValueError, match="sim_mu"):
        s2r.dynamics_aware_h2o(data, inst.sim, sim_mu=np.ones((inst.real.S, 4)))
    with pytest.raises(ValueError, match="is_low"):
        s2r.dynamics_aware_h2o(data, inst.sim, is_low=0.9, is_high=0.5)
    other = CountDataset(np.zeros((2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2)), 2, 2, gamma=0.9)
    with pytest.raises(ValueError, match="real has S=2"):
        s2r.naive_mixing(other, inst.sim)


# ---------------------------------------------------------------------- issue 17 [hybrid2]: on-policy sim buffer
def test_onpolicy_sim_buffer_is_the_rollout_distribution():
    # epsilon = 1: every round rolls out the uniform policy, so the buffer's distribution is the empirical pair
    # distribution of rounds * episodes * n_steps uniform steps; oracle: the exact average state distribution over
    # the n_steps steps (propagated here with the kernel) times 1/A. 6000 pairs: each cell's standard error is at
    # most 0.0065; the 0.03 tolerance is > 4.5 standard errors (fixed seed: deterministic, false-failure
    # probability < 1e-4 over the cells had the seed been random).
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.1)
    real, sim = inst.real, inst.sim
    S, A = sim.S, sim.A
    data = population_data(real, np.full((S, A), 1 / (S * A)), n=2000)
    res = s2r.h2o_onpolicy_sim(data, sim, seed=3, rounds=6, episodes=50, n_steps=20, epsilon=1.0, capacity=None)
    mu = np.asarray(res.constants["sim_mu"])
    assert res.constants["sim_pairs"] == 6 * 50 * 20
    d, occ = np.asarray(sim.init, dtype=float), np.zeros(S)
    for _ in range(20):
        occ += d / 20
        d = d @ (np.full((S, A), 1 / A)[..., None] * np.asarray(sim.P)).sum(axis=1)
    np.testing.assert_allclose(mu, occ[:, None] / A * np.ones((1, A)), atol=0.03)
    # the last round's fixed point is H2O's with that buffer distribution
    np.testing.assert_allclose(res.Q, s2r.dynamics_aware_h2o(data, sim, sim_mu=mu).Q, atol=1e-12)
    assert res.method == "h2o_sim2real_onpolicy"


def test_onpolicy_sim_buffer_is_fifo():
    from theory_rl._random import as_generator
    from theory_rl.data import RolloutSampler
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.1)
    sim = inst.sim
    S, A = sim.S, sim.A
    data = population_data(inst.real, np.full((S, A), 1 / (S * A)), n=50)
    cap = 10 * data.n  # the default capacity, below the 600 pairs collected
    assert cap < 600
    res = s2r.h2o_onpolicy_sim(data, sim, seed=7, rounds=4, episodes=10, n_steps=15, epsilon=1.0)
    assert res.constants["capacity"] == cap and res.constants["sim_pairs"] == cap
    # Independent replay of the uniform rollouts: the buffer holds exactly the last cap of the 600 pairs.
    rng, sampler, chunks = as_generator(7), RolloutSampler(sim, n_steps=15), []
    for _ in range(4):
        roll = sampler.sample(np.full((S, A), 1 / A), 10, rng)
        chunks.append([int(s) * A + int(a) for s, a in zip(roll.states[:, :15].ravel(), roll.actions.ravel(),
                                                            strict=True)])  # fmt: skip
    last = np.concatenate(chunks)[-cap:]
    np.testing.assert_allclose(np.asarray(res.constants["sim_mu"]).ravel(), np.bincount(last, minlength=S * A) / cap)
    with pytest.raises(ValueError, match="sim_mu"):
        s2r.h2o_onpolicy_sim(data, sim, seed=0, sim_mu=np.full((S, A), 1 / (S * A)))


def test_onpolicy_sim_h2o_avoids_the_trap_and_concentrates_the_buffer():
    # Fixed seeds (deterministic). The on-policy buffer follows the greedy route (most mass on few pairs, unlike
    # the uniform buffer), and H2O still picks the real optimum where sim-only takes the bridge.
    from theory_rl.generators.sim2real import sim_gap_gridworld

    inst = sim_gap_gridworld(0.2)
    real = inst.real
    data = population_data(real, np.full((real.S, 4), 1 / (4 * real.S)), n=10_000)
    res = s2r.h2o_onpolicy_sim(data, inst.sim, seed=0, rounds=5, episodes=20, n_steps=30, epsilon=0.1)
    mu = np.asarray(res.constants["sim_mu"])
    assert np.sort(mu.ravel())[::-1][: real.S].sum() > 0.6  # uniform: S of the 4S pairs hold 0.25
    assert planning.expected_return(real, res.policy) == pytest.approx(planning.optimal_return(real))
