"""HAC / HNPG of Zhou et al. (2023), tabular (theory_rl.algorithms.hybrid_pg), against independent oracles:
planning.q_values for the population critic (whose fixed point is Q^pi), a weighted least-squares solve for the
sample critic, exact policy evaluation for the NPG step's improvement property, and the combination lock."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl import data, planning, policies
from theory_rl.algorithms import hybrid_pg as hp
from theory_rl.data import CountDataset
from theory_rl.generators import combination_lock

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def episodic_with_policy(draw):
    mdp = draw(tabular_mdps(max_S=5, max_A=3, max_H=4, episodic=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pi = rng.dirichlet(np.ones(mdp.A), size=(mdp.horizon, mdp.S))
    return mdp, pi, rng


def population_offline(mdp, nu, n=1000.0) -> CountDataset:
    P, R = mdp.stage_P, mdp.stage_R
    N = n * nu
    return CountDataset(N, N[..., None] * P, N * R, mdp.S, mdp.A, horizon=mdp.horizon)


@SETTINGS
@given(episodic_with_policy(), st.sampled_from([0.0, 0.1, 1.0, 10.0]))
def test_population_critic_is_q_pi(case, lam):
    # nu arbitrary (full support), on-policy terms at their expectations d^pi and d^pi Q^pi: f = Q^pi exactly.
    mdp, pi, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    nu = rng.dirichlet(np.ones(S * A), size=H).reshape(H, S, A)
    Q = planning.q_values(mdp, pi)
    d = planning.occupancy(mdp, pi)
    f = hp.hpe(pi, population_offline(mdp, nu), 50 * d, 50 * d * Q, lam=lam)
    np.testing.assert_allclose(f, Q, atol=1e-9)
    # On-policy only: exact on the support of d^pi, 0 off it.
    f_on = hp.hpe(pi, None, d, d * Q)
    np.testing.assert_allclose(f_on[d > 0], Q[d > 0], atol=1e-9)


@SETTINGS
@given(episodic_with_policy(), st.sampled_from([0.5, 1.0, 3.0]), st.integers(1, 30), st.integers(1, 30))
def test_sample_critic_is_the_weighted_least_squares_fit(case, lam, n_off, n_on):
    mdp, pi, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    beh = rng.dirichlet(np.ones(A), size=(H, S))
    off = data.sample_policy_counts(mdp, beh, n_off, seed=int(rng.integers(1 << 30)))
    roll = data.sample_rollouts(mdp, pi, n_on, seed=int(rng.integers(1 << 30)))
    N_on, Y = hp.mc_statistics(roll, S, A)
    f = hp.hpe(pi, off, N_on, Y, lam=lam)
    # Independent: per step h (backward), per pair, lstsq on the rows of both losses with their weights.
    s, a, r = roll.states, roll.actions, roll.rewards
    togo = np.cumsum(r[:, ::-1], axis=1)[:, ::-1]
    C, Rs, Noff = off.transition_counts, off.reward_sums, off.counts
    g = np.zeros((H + 1, S, A))
    for h in range(H - 1, -1, -1):
        v_next = (pi[h + 1] * g[h + 1]).sum(axis=1) if h + 1 < H else np.zeros(S)
        n_off_h, n_on_h = Noff[h].sum(), n_on
        for x in range(S):
            for b in range(A):
                rows, targets, weights = [], [], []
                if Noff[h, x, b] > 0:
                    r_hat = Rs[h, x, b] / Noff[h, x, b]
                    for y in range(S):
                        if C[h, x, b, y] > 0:
                            rows.append(1.0)
                            targets.append(r_hat + v_next[y])
                            weights.append(C[h, x, b, y] / n_off_h)
                on = (s[:, h] == x) & (a[:, h] == b)
                for ret in togo[on, h]:
                    rows.append(1.0)
                    targets.append(ret)
                    weights.append(lam / n_on_h)
                if rows:
                    w = np.sqrt(np.asarray(weights))
                    sol = np.linalg.lstsq((w * np.asarray(rows))[:, None], w * np.asarray(targets), rcond=None)
                    g[h, x, b] = sol[0][0]
    np.testing.assert_allclose(f, g[:H], atol=1e-9)


@SETTINGS
@given(episodic_with_policy(), st.sampled_from([0.1, 1.0, 5.0]))
def test_exact_npg_step_improves_every_state(case, eta):
    # The softmax NPG step with exact Q^pi is a policy improvement (Agarwal et al. 2021, Lemma 5.2 analogue).
    mdp, pi, _ = case
    new = hp.softmax_npg_update(pi, planning.q_values(mdp, pi), eta)
    manual = pi * np.exp(eta * planning.q_values(mdp, pi))
    np.testing.assert_allclose(new, manual / manual.sum(axis=-1, keepdims=True), atol=1e-12)
    assert np.all(planning.evaluate(mdp, new) >= planning.evaluate(mdp, pi) - 1e-10)


def test_hnpg_opens_the_lock_where_npg_follows_the_distractor():
    # Fixed seeds (deterministic outcome): H = 8, A = 4, eta = 1. NPG is pulled to the 0.05 distractor; HNPG with
    # 200 epsilon-greedy (eps = 1/H) offline episodes reaches J >= 0.9 within 300 episodes.
    H, A = 8, 4
    mdp = combination_lock(H, A, seed=3, anti_reward=0.05)
    beh = policies.epsilon_mixture(planning.solve(mdp).policy, 1 / H, mdp.S, mdp.A, H)
    off = data.sample_policy_counts(mdp, beh, 200, seed=1)
    npg = hp.hac(mdp, None, 100, seed=0, eta=1.0)
    hnpg = hp.hac(mdp, off, 100, seed=0, eta=1.0)
    assert npg.method == "npg" and hnpg.method == "hac"
    assert npg.episodes_to_success == -1 and npg.values[-1] == pytest.approx(0.05, abs=1e-3)
    assert 0 <= hnpg.episodes_to_success <= 300 and hnpg.values[-1] > 0.99
    hyq = hp.hy_q(mdp, off, 5, seed=0)
    assert hyq.values[-1] == pytest.approx(1.0)
    assert hp.hac_step_size(100, 4, 8) == pytest.approx(np.sqrt(np.log(4) / 100) / 8)


def test_combination_lock_distractor():
    mdp = combination_lock(4, 3, seed=0, anti_reward=0.05)
    plain = combination_lock(4, 3, seed=0)
    code = np.argmax(plain.stage_P[:, 0, :, 0], axis=1)
    for h in range(4):
        for a in range(3):
            want = (1.0 if h == 3 else 0.0) if a == code[h] else 0.05
            assert mdp.stage_R[h, 0, a] == want
    assert np.all(plain.stage_R[:, 0, :].sum(axis=1)[:3] == 0)
    with pytest.raises(ValueError, match="anti_reward"):
        combination_lock(4, 3, seed=0, anti_reward=1.5)


@SETTINGS
@given(episodic_with_policy(), st.integers(1, 4), st.sampled_from([0.5, 1.0]))
def test_linear_critic_is_the_weighted_least_squares_fit_and_one_hot_is_tabular(case, d, lam):
    mdp, pi, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    beh = rng.dirichlet(np.ones(A), size=(H, S))
    off = data.sample_policy_counts(mdp, beh, 20, seed=int(rng.integers(1 << 30)))
    N_on, Y = hp.mc_statistics(data.sample_rollouts(mdp, pi, 15, seed=int(rng.integers(1 << 30))), S, A)
    one_hot = np.eye(S * A).reshape(S, A, S * A)
    np.testing.assert_allclose(hp.hpe(pi, off, N_on, Y, lam=lam, features=one_hot),
                               hp.hpe(pi, off, N_on, Y, lam=lam), atol=1e-9)  # fmt: skip
    phi = rng.random((S, A, d))
    f = hp.hpe(pi, off, N_on, Y, lam=lam, features=phi)
    # Independent: scipy's lstsq on the per-pair rows (the per-sample losses summed per pair) at each step.
    import scipy.linalg

    model = off.empirical_model(unseen="uniform", unseen_reward=0.0)
    g = np.zeros((H + 1, S, A))
    X = phi.reshape(S * A, d)
    for h in range(H - 1, -1, -1):
        v = (pi[h + 1] * g[h + 1]).sum(axis=1) if h + 1 < H else np.zeros(S)
        w_off = off.counts[h] / off.counts[h].sum()
        w_on = lam * N_on[h] / N_on[h].sum()
        rows_w = np.concatenate([w_off.reshape(-1), w_on.reshape(-1)])
        targets = np.concatenate([(model.R[h] + model.P[h] @ v).reshape(-1),
                                  np.where(N_on[h] > 0, Y[h] / np.maximum(N_on[h], 1), 0).reshape(-1)])
        design = np.vstack([X, X])
        keep = rows_w > 0
        sw = np.sqrt(rows_w[keep])
        theta = scipy.linalg.lstsq(sw[:, None] * design[keep], sw * targets[keep], lapack_driver="gelsd")[0]
        g[h] = (X @ theta).reshape(S, A)
    np.testing.assert_allclose(f, g[:H], atol=1e-7)


def test_count_fqi_on_a_linear_mdp_is_exact_and_tabular_matches_empirical_vi():
    from theory_rl.algorithms.lcb import empirical_vi
    from theory_rl.generators.completeness import misspecified_linear_mdp

    inst = misspecified_linear_mdp(0.0, seed=0)
    mdp = inst.mdp
    H, S, A = mdp.horizon, mdp.S, mdp.A
    N = np.full((H, S, A), 10.0)
    pop = CountDataset(N, N[..., None] * mdp.stage_P, N * mdp.stage_R, S, A, horizon=H)
    Q_star = planning.solve(mdp).Q
    np.testing.assert_allclose(hp.count_fqi(pop, inst.phi), Q_star, atol=1e-8)  # complete class: exact
    np.testing.assert_allclose(hp.count_fqi(pop), empirical_vi(pop).Q, atol=1e-12)
    assert inst.completeness_error < 1e-12
    assert misspecified_linear_mdp(1.0, seed=0).completeness_error > 0.05
