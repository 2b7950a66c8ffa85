"""HNPG's log-linear actor (Zhou et al. 2023, Alg. 3; theory_rl.algorithms.hybrid_pg.hnpg) against independent
oracles: HAC's tabular softmax NPG (one-hot features give the same iterates), a weighted least-squares solve by
scipy's lstsq for the compatible-feature fit, and the reparameterisation invariance that distinguishes the natural
gradient from the plain policy gradient."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl import data, planning
from theory_rl.algorithms import hybrid_pg as hp

SETTINGS = settings(max_examples=20, deadline=None)


@st.composite
def episodic_case(draw):
    mdp = draw(tabular_mdps(max_S=4, max_A=3, max_H=3, episodic=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return mdp, rng


def one_hot(S, A):
    return np.eye(S * A).reshape(S, A, S * A)


@SETTINGS
@given(episodic_case(), st.sampled_from([0.5, 2.0]), st.sampled_from([0.3, 1.0, 4.0]), st.booleans())
def test_one_hot_hnpg_has_the_iterates_of_tabular_hac(case, eta, lam, with_offline):
    mdp, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    off = None
    if with_offline:
        beh = rng.dirichlet(np.ones(A), size=(H, S))
        off = data.sample_policy_counts(mdp, beh, 7, seed=int(rng.integers(1 << 30)))
    seed = int(rng.integers(1 << 30))
    tab = hp.hac(mdp, off, 6, seed=seed, eta=eta, lam=lam, m=3)
    ll = hp.hnpg(mdp, off, 6, features=one_hot(S, A), seed=seed, eta=eta, lam=lam, m=3, actions="policy")
    np.testing.assert_allclose(ll.values, tab.values, atol=1e-9)
    np.testing.assert_allclose(ll.policy, tab.policy, atol=1e-9)
    np.testing.assert_allclose(ll.Q, tab.Q, atol=1e-9)
    assert ll.method == ("hnpg" if with_offline else "npg_loglinear")


@SETTINGS
@given(episodic_case(), st.sampled_from([0.5, 1.0, 3.0]))
def test_one_hot_population_direction_is_the_exact_softmax_npg_step(case, eta):
    # "data" weights at population values (nu and d^pi of full support): every action of every state is weighted,
    # so w_h(s, .) = Q^pi_h(s, .) + c_s and the log-linear step is softmax_npg_update with exact Q.
    mdp, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    theta = rng.normal(size=(H, S * A))
    pi = hp.loglinear_policy(theta, one_hot(S, A))
    Q = planning.q_values(mdp, pi)
    nu = rng.dirichlet(np.ones(S * A), size=H).reshape(H, S, A)
    d = planning.occupancy(mdp, pi)
    w = hp.hnpg_direction(pi, Q, one_hot(S, A), 100 * nu, 30 * d, actions="data")
    new = hp.loglinear_policy(theta + eta * w, one_hot(S, A))
    np.testing.assert_allclose(new, hp.softmax_npg_update(pi, Q, eta), atol=1e-9)


def lstsq_direction(pi, f, phi, N_off, N_on, lam, actions):
    """Independent: one row per (h, s, a) pair with weight rho, score computed per row, scipy gelsd."""
    H, S, A = f.shape
    d = phi.shape[2]
    out = np.zeros((H, d))
    for h in range(H):
        rows, targets, weights = [], [], []
        n_on = N_on[h].sum()
        n_off = 0.0 if N_off is None else N_off[h].sum()
        use_off = N_off is not None and N_off.sum() > 0
        for s in range(S):
            state_w = sum((lam if use_off else 1.0) * N_on[h, s, b] / n_on if n_on else 0.0 for b in range(A))
            if use_off and n_off:
                state_w += sum(N_off[h, s, b] / n_off for b in range(A))
            for a in range(A):
                if actions == "policy":
                    wt = state_w * pi[h, s, a]
                else:
                    wt = (lam if use_off else 1.0) * N_on[h, s, a] / n_on if n_on else 0.0
                    if use_off and n_off:
                        wt += N_off[h, s, a] / n_off
                if wt > 0:
                    score = phi[s, a] - sum(pi[h, s, b] * phi[s, b] for b in range(A))
                    rows.append(score)
                    targets.append(f[h, s, a] - sum(pi[h, s, b] * f[h, s, b] for b in range(A)))
                    weights.append(wt)
        if rows:
            sw = np.sqrt(np.asarray(weights))
            out[h] = scipy.linalg.lstsq(sw[:, None] * np.asarray(rows), sw * np.asarray(targets),
                                        cond=1e-10, lapack_driver="gelsd")[0]  # fmt: skip
    return out


@SETTINGS
@given(episodic_case(), st.integers(1, 5), st.sampled_from([0.5, 1.0, 3.0]), st.sampled_from(["data", "policy"]),
       st.booleans())  # fmt: skip
def test_direction_is_the_compatible_least_squares_fit(case, d, lam, actions, with_offline):
    mdp, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    phi = rng.normal(size=(S, A, d))
    pi = hp.loglinear_policy(rng.normal(size=(H, d)), phi)
    f = rng.normal(size=(H, S, A))
    N_on = rng.integers(0, 3, size=(H, S, A)).astype(float)
    N_off = rng.integers(0, 3, size=(H, S, A)).astype(float) if with_offline else None
    w = hp.hnpg_direction(pi, f, phi, N_off, N_on, lam=lam, actions=actions)
    np.testing.assert_allclose(w, lstsq_direction(pi, f, phi, N_off, N_on, lam, actions), atol=1e-7)


def test_natural_step_is_invariant_to_reparameterisation_and_plain_pg_is_not():
    # phi' = phi M (M invertible): the natural direction becomes M^{-1} w, so the policy after the step is the same;
    # the plain gradient g becomes M^T g and the step differs. A zero direction would not move the policy at all.
    rng = np.random.default_rng(0)
    H, S, A, d = 2, 4, 3, 3
    phi = rng.normal(size=(S, A, d))
    M = np.array([[3.0, 1.0, 0.0], [0.0, 0.5, 0.2], [0.4, 0.0, 2.0]])
    theta = rng.normal(size=(H, d))
    pi = hp.loglinear_policy(theta, phi)
    f = rng.normal(size=(H, S, A))
    N_on = rng.integers(1, 4, size=(H, S, A)).astype(float)
    w = hp.hnpg_direction(pi, f, phi, None, N_on)
    w2 = hp.hnpg_direction(pi, f, phi @ M, None, N_on)
    step = hp.loglinear_policy(theta + 0.7 * w, phi)
    np.testing.assert_allclose(hp.loglinear_policy(np.linalg.solve(M, theta.T).T + 0.7 * w2, phi @ M), step,
                               atol=1e-10)  # fmt: skip
    assert np.abs(step - pi).max() > 1e-2
    # the plain policy gradient g = sum rho phibar fbar under both parameterisations
    rho = N_on / N_on.sum(axis=(1, 2), keepdims=True)

    def grad(feat):
        out = np.zeros((H, feat.shape[2]))
        for h in range(H):
            score = feat - np.einsum("sa,sad->sd", pi[h], feat)[:, None, :]
            fbar = f[h] - (pi[h] * f[h]).sum(axis=1, keepdims=True)
            out[h] = np.einsum("sa,sad,sa->d", rho[h], score, fbar)
        return out

    pg1 = hp.loglinear_policy(theta + 0.7 * grad(phi), phi)
    pg2 = hp.loglinear_policy(np.linalg.solve(M, theta.T).T + 0.7 * grad(phi @ M), phi @ M)
    assert np.abs(pg1 - pg2).max() > 1e-3
    assert np.abs(pg1 - step).max() > 1e-3


def test_loglinear_hnpg_improves_on_a_linear_mdp_and_records_theta():
    # Fixed seeds (deterministic): on the complete (kappa = 0) linear instance the log-linear HNPG with the linear
    # critic leaves the uniform policy's return well behind.
    from theory_rl import policies
    from theory_rl.generators.completeness import misspecified_linear_mdp

    inst = misspecified_linear_mdp(0.0, seed=1, concentration=0.05)
    mdp = inst.mdp
    beh = policies.epsilon_mixture(planning.solve(mdp).policy, 0.5, mdp.S, mdp.A, mdp.horizon)
    off = data.sample_policy_counts(mdp, beh, 200, seed=2)
    res = hp.hnpg(mdp, off, 40, features=inst.phi, critic_features=inst.phi, seed=3, eta=1.0)
    v_star = planning.optimal_return(mdp)
    assert v_star - res.values[-1] < 0.5 * (v_star - res.values[0])
    assert np.asarray(res.constants["theta"]).shape == (mdp.horizon, inst.phi.shape[2])
    np.testing.assert_allclose(hp.loglinear_policy(res.constants["theta"], inst.phi), res.policy, atol=1e-12)


@SETTINGS
@given(episodic_case(), st.integers(1, 4), st.sampled_from([0.5, 2.0]))
def test_critic_in_the_actor_span_makes_the_fit_exact(case, d, eta):
    # f = phi theta_f: fbar = phibar theta_f, so w = theta_f on the weighted pairs' span and, with every pair
    # weighted, the log-linear step is the softmax NPG step on f (why hnpg_ll tracks hac_1 in the experiment).
    mdp, rng = case
    H, S, A = mdp.horizon, mdp.S, mdp.A
    phi = rng.normal(size=(S, A, d))
    theta = rng.normal(size=(H, d))
    pi = hp.loglinear_policy(theta, phi)
    f = np.einsum("sad,hd->hsa", phi, rng.normal(size=(H, d)))
    N_on = rng.integers(1, 4, size=(H, S, A)).astype(float)
    w = hp.hnpg_direction(pi, f, phi, N_on[::-1].copy(), N_on, lam=2.0)
    np.testing.assert_allclose(hp.loglinear_policy(theta + eta * w, phi), hp.softmax_npg_update(pi, f, eta),
                               atol=1e-8)  # fmt: skip
