"""Kill tests for algorithms/linear.py (issue 14, mutation testing): PEVI on a hand-computed instance, LSVI-UCB's
planning pass against an independent re-implementation, the beta formulas by hand, the exact error messages.

Every expected value is computed here by hand or by a second implementation (explicit sums, ``np.linalg.inv``),
never by calling the module under test twice.
"""

import dataclasses
import math
import re

import numpy as np
import pytest

from theory_rl.algorithms.linear import (
    lsvi_ucb,
    lsvi_ucb_beta,
    pevi,
    pevi_beta,
    pevi_good_event,
    ridge,
    sherman_morrison,
)
from theory_rl.data import CountDataset, sample_generative
from theory_rl.generators.linear import random_linear_mdp


# -- sherman_morrison, ridge: default lambda and the messages ---------------------------------------------------------
def test_sherman_morrison_matches_the_inverse_and_refuses_wrong_dimensions():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(sherman_morrison(np.linalg.inv(A), x), np.linalg.inv(A + np.outer(x, x)),
                               rtol=1e-13)
    with pytest.raises(ValueError, match=re.escape("A_inv must have 2 dimensions, got shape (2,)")):
        sherman_morrison(np.ones(2), np.ones(2))
    # a (1, 1) x would be accepted by a check on its size only (the algebra broadcasts): the dimension is checked
    with pytest.raises(ValueError, match=re.escape("x must have 1 dimensions, got shape (1, 1)")):
        sherman_morrison(np.eye(1), [[1.0]])


def test_ridge_default_lambda_is_one_and_messages_name_the_argument():
    Phi = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    y = np.array([1.0, 2.0, 3.0])
    # (Phi^T Phi + I) = [[3, 1], [1, 6]], Phi^T y = [3, 8]; its inverse times: [(18 - 8), (24 - 3)] / 17
    np.testing.assert_allclose(ridge(Phi, y), np.array([10.0, 21.0]) / 17.0, rtol=1e-14)
    with pytest.raises(ValueError, match=re.escape("Phi must have 2 dimensions, got shape (3,)")):
        ridge(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=re.escape("y must have 1 dimensions, got shape (3, 1)")):
        ridge(Phi, np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"^y has shape \(2,\), expected \(3,\)$"):
        ridge(Phi, np.ones(2))


# -- beta formulas by hand --------------------------------------------------------------------------------------------
def test_pevi_beta_by_hand():
    # c d H sqrt(log(2 d H max(K, 1) / xi)), c = 1 by default
    assert pevi_beta(1, 2, 1, 0.1) == pytest.approx(2.0 * math.sqrt(math.log(40.0)), rel=1e-14)
    assert pevi_beta(2, 3, 0, 0.5) == pytest.approx(6.0 * math.sqrt(math.log(24.0)), rel=1e-14)
    assert pevi_beta(2, 3, 5, 0.5, c=0.25) == pytest.approx(1.5 * math.sqrt(math.log(120.0)), rel=1e-14)


def test_lsvi_ucb_beta_by_hand():
    # c d H sqrt(log(2 d max(T, 1) / p)), c = 1 by default
    assert lsvi_ucb_beta(2, 3, 1, 0.5) == pytest.approx(6.0 * math.sqrt(math.log(8.0)), rel=1e-14)
    assert lsvi_ucb_beta(2, 3, 0, 0.5) == pytest.approx(6.0 * math.sqrt(math.log(8.0)), rel=1e-14)
    assert lsvi_ucb_beta(3, 2, 10, 0.1, c=0.5) == pytest.approx(3.0 * math.sqrt(math.log(600.0)), rel=1e-14)


# -- PEVI on a one-state, two-action, d = 1 instance computed by hand --------------------------------------------------
PHI = np.array([[[1.0], [10.0]]])  # (S, A, d) = (1, 2, 1): action 1 extrapolates ten times further


def _hand_data() -> CountDataset:
    """H = 2; at each step action 0 seen 3 times with reward 1 (one state, so every transition stays)."""
    counts = np.array([[[3, 0]], [[3, 0]]])
    return CountDataset(counts, counts[..., None], counts.astype(float), 1, 2, horizon=2)


def test_pevi_by_hand_where_the_clip_at_h_minus_h_binds():
    """Lambda_h = 3 + 1 = 4. h = 1: w = 3/4, Gamma = 0.5 |phi| / 2 = (0.25, 2.5), Q_1 = clip((0.5, 5), 0, 1) =
    (0.5, 1), V_1 = 1. h = 0: target = 3 (1 + V_1) = 6, w = 1.5, Q_0 = clip((1.25, 12.5), 0, 2) = (1.25, 2)."""
    res = pevi(PHI, _hand_data(), beta=0.5)
    np.testing.assert_allclose(res.Lambda, np.full((2, 1, 1), 4.0), rtol=1e-15)
    np.testing.assert_allclose(res.w, [[1.5], [0.75]], rtol=1e-14)
    np.testing.assert_allclose(res.penalty, [[[0.25, 2.5]], [[0.25, 2.5]]], rtol=1e-14)
    np.testing.assert_allclose(res.Q, [[[1.25, 2.0]], [[0.5, 1.0]]], rtol=1e-14)
    np.testing.assert_allclose(res.V, [[2.0], [1.0]], rtol=1e-14)
    np.testing.assert_array_equal(res.policy, [[1], [1]])


def test_pevi_constants_and_beta_from_the_theorem():
    data = _hand_data()
    # K defaults to the most transitions at one step (3); beta = penalty_scale c d H sqrt(log(2 d H K / xi))
    res = pevi(PHI, data, penalty_scale=0.5, c=0.25, xi=0.2, lam=2.0)
    beta = 0.5 * 0.25 * 1 * 2 * math.sqrt(math.log(2 * 1 * 2 * 3 / 0.2))
    assert res.constants == pytest.approx({"beta": beta, "xi": 0.2, "c": 0.25, "penalty_scale": 0.5, "lam": 2.0,
                                           "K": 3}, rel=1e-14)
    assert set(res.constants) == {"beta", "xi", "c", "penalty_scale", "lam", "K"}
    # Lambda = 3 + 2 = 5, Gamma = beta |phi| / sqrt(5)
    np.testing.assert_allclose(res.penalty[1, 0], beta * np.array([1.0, 10.0]) / math.sqrt(5.0), rtol=1e-14)
    # n_episodes overrides K (in beta too)
    res = pevi(PHI, data, n_episodes=50, c=0.5)
    assert res.constants["K"] == 50
    assert res.constants["beta"] == pytest.approx(0.5 * 2 * math.sqrt(math.log(2 * 2 * 50 / 0.1)), rel=1e-14)


def test_pevi_messages():
    data = _hand_data()
    with pytest.raises(ValueError, match=re.escape("phi must have 3 or 4 dimensions, got shape (2, 1)")):
        pevi(np.ones((2, 1)), data)
    with pytest.raises(ValueError, match=re.escape("phi has 3 stages, expected H = 2 (from the data)")):
        pevi(np.ones((3, 1, 2, 1)), data)
    with pytest.raises(ValueError, match=re.escape("phi has (S, A) = (2, 3), but data has (1, 2)")):
        pevi(np.ones((2, 3, 1)), data)
    discounted = CountDataset(np.zeros((1, 2)), np.zeros((1, 2, 1)), np.zeros((1, 2)), 1, 2, gamma=0.9)
    with pytest.raises(ValueError, match=r"^data is a discounted CountDataset \(horizon None\); expected "):
        pevi(PHI, discounted)


# -- pevi_good_event: the comparison, its tolerance and its shape check ----------------------------------------------
def _pevi_on_random_instance():
    lin = random_linear_mdp(4, 2, 3, 3, seed=11)
    data = sample_generative(lin, np.full((3, 4, 2), 20), 0)
    return lin, pevi(lin.phi, data, penalty_scale=0.05)


def _errors(lin, res) -> np.ndarray:
    """|phi_h^T w_h - (r_h + P_h V_{h+1})| by explicit loops over the true model (H, S, A)."""
    H, S, A = lin.H, lin.S, lin.A
    V = np.vstack([res.V, np.zeros((1, S))])
    out = np.empty((H, S, A))
    for h in range(H):
        for s in range(S):
            for a in range(A):
                out[h, s, a] = abs(lin.stage_phi[h, s, a] @ res.w[h] - lin.R[h, s, a] - lin.P[h, s, a] @ V[h + 1])
    return out


def test_pevi_good_event_boundaries():
    lin, res = _pevi_on_random_instance()
    err = _errors(lin, res)
    assert (err > 1e-6).all()
    # penalty = the error exactly: the event holds (within the 1e-12 tolerance)
    assert pevi_good_event(lin, dataclasses.replace(res, penalty=err))
    # no penalty: fails; every error exceeds its penalty by exactly 0.5: fails too (0.5 is far above 1e-12)
    assert not pevi_good_event(lin, dataclasses.replace(res, penalty=np.zeros_like(err)))
    assert not pevi_good_event(lin, dataclasses.replace(res, penalty=err - 0.5))
    # one entry exactly at the tolerance (error == penalty + 1e-12 in floating point), the others far inside: holds
    pen = err + 1.0
    e = err[1, 2, 0]
    p = e - 1e-12
    while p + 1e-12 != e:  # find the float whose sum with 1e-12 rounds to the error exactly
        p = np.nextafter(p, np.inf if p + 1e-12 < e else -np.inf)
    pen[1, 2, 0] = p
    assert pevi_good_event(lin, dataclasses.replace(res, penalty=pen))


def test_pevi_good_event_refuses_a_result_of_another_shape():
    """Each of Q, w and V checked on its own (a V with H - 1 rows used to end in an IndexError, with H + 1 rows
    in a silently shifted check)."""
    lin, res = _pevi_on_random_instance()
    want = "expected (3, 4, 2), (3, 3) and (3, 4) for lmdp"
    # a result of another instance (3 actions, same d and H): refused by its Q's shape alone
    other = random_linear_mdp(4, 3, 3, 3, seed=12)
    res3 = pevi(other.phi, sample_generative(other, np.full((3, 4, 3), 5), 0))
    with pytest.raises(ValueError, match=re.escape(f"result has Q of shape (3, 4, 3), w (3, 3) and V (3, 4), {want}")):
        pevi_good_event(lin, res3)
    with pytest.raises(ValueError, match=re.escape(f"result has Q of shape (3, 4, 2), w (3, 2) and V (3, 4), {want}")):
        pevi_good_event(lin, dataclasses.replace(res, w=res.w[:, :2]))
    for V in (res.V[:-1], np.vstack([res.V, res.V[:1]])):
        with pytest.raises(ValueError, match=re.escape(f"w (3, 3) and V {V.shape}, {want}")):
            pevi_good_event(lin, dataclasses.replace(res, V=V))


# -- LSVI-UCB: the planning pass against an independent re-implementation ----------------------------------------------
def _lsvi_oracle(phi, data, lam, beta, H, reward=None):
    """Jin et al. (2020) Alg. 1's planning pass written out with explicit sums over (s, a) and np.linalg.inv."""
    S, A, d = phi.shape[1], phi.shape[2], phi.shape[3]
    Q = np.zeros((H, S, A))
    Vn = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Lam, rhs = lam * np.eye(d), np.zeros(d)
        for s in range(S):
            for a in range(A):
                x = phi[h, s, a]
                Lam += data.counts[h, s, a] * np.outer(x, x)
                r = data.reward_sums[h, s, a] if reward is None else 0.0
                rhs += x * (r + data.transition_counts[h, s, a] @ Vn)
        inv = np.linalg.inv(Lam)
        w = inv @ rhs
        for s in range(S):
            for a in range(A):
                x = phi[h, s, a]
                base = 0.0 if reward is None else reward[h, s, a]
                Q[h, s, a] = min(base + x @ w + beta * math.sqrt(x @ inv @ x), H)
        Vn = Q[h].max(axis=1)
    return Q


def _policy_value(lin, policy, R) -> float:
    H, S = lin.H, lin.S
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = np.array([R[h, s, policy[h, s]] + lin.P[h, s, policy[h, s]] @ V for s in range(S)])
    return float(lin.init @ V)


@pytest.mark.parametrize("with_reward", [False, True])
def test_lsvi_ucb_last_pass_matches_an_independent_planner(with_reward):
    """Run K and K + 1 episodes from the same seed: the first K episodes are the same, so the (K + 1)-th planning
    pass (the result's Q) is the oracle's planning on the K-episode run's data."""
    lin = random_linear_mdp(3, 2, 2, 3, seed=5)
    H, K, lam, beta = lin.H, 6, 2.0, 0.3
    reward = np.random.default_rng(0).uniform(size=(H, lin.S, lin.A)) if with_reward else None
    kw = dict(seed=1, lam=lam, beta=beta, reward=reward)
    short, res = lsvi_ucb(lin, K, **kw), lsvi_ucb(lin, K + 1, **kw)
    np.testing.assert_array_equal(res.policies[:K], short.policies)
    phi = lin.stage_phi
    oracle = _lsvi_oracle(phi, short.data, lam, beta, H, reward)
    assert (oracle < H - 1e-6).any(axis=(1, 2)).all()  # the clip at H does not hide the estimates at any step
    np.testing.assert_allclose(res.Q, oracle, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.V, oracle.max(axis=2), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res.policy, oracle.argmax(axis=2))
    np.testing.assert_array_equal(res.policies[K], oracle.argmax(axis=2))
    # Lambda^{-1} after K episodes: (lam I + sum N phi phi^T)^{-1}, inverted directly
    Lam = lam * np.eye(lin.d) + np.einsum("hsa,hsad,hsae->hde", short.data.counts, phi, phi)
    np.testing.assert_allclose(short.Lambda_inv, np.linalg.inv(Lam), rtol=1e-10, atol=1e-12)
    # the returns: the sampled rewards, or the known reward along the trajectories
    R = lin.R if reward is None else reward
    total = short.data.reward_sums.sum() if reward is None else (short.data.counts * reward).sum()
    assert short.returns.sum() == pytest.approx(total, rel=1e-12)
    # the played policies' exact values, under the reward that is being maximised
    np.testing.assert_allclose(short.episode_values, [_policy_value(lin, pi, R) for pi in short.policies],
                               rtol=1e-12)
    # types and bookkeeping
    assert np.issubdtype(short.policies.dtype, np.integer)
    assert np.issubdtype(short.data.transition_counts.dtype, np.integer)
    assert short.data.meta == {"generator": "lsvi_ucb", "n_episodes": K}
    assert short.constants == {"beta": beta, "p": 0.05, "c": 1.0, "bonus_scale": 1.0, "lam": lam, "K": K}


def test_lsvi_ucb_default_beta_and_untracked_values():
    lin = random_linear_mdp(3, 2, 2, 3, seed=5)
    d, H, K = 2, 3, 4
    res = lsvi_ucb(lin, K, seed=0, track_values=False)
    assert res.episode_values is None
    assert res.constants["beta"] == pytest.approx(d * H * math.sqrt(math.log(2 * d * K * H / 0.05)), rel=1e-14)
    res = lsvi_ucb(lin, K, seed=0, c=0.5, bonus_scale=3.0, p=0.2)
    assert res.constants["beta"] == pytest.approx(1.5 * d * H * math.sqrt(math.log(2 * d * K * H / 0.2)), rel=1e-14)


def test_lsvi_ucb_reward_messages():
    lin = random_linear_mdp(3, 2, 2, 3, seed=5)
    with pytest.raises(ValueError, match=re.escape("reward must have 3 dimensions, got shape (3, 3, 2, 1)")):
        lsvi_ucb(lin, 1, seed=0, reward=np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"^reward has shape \(3, 3, 3\), expected \(3, 3, 2\)$"):
        lsvi_ucb(lin, 1, seed=0, reward=np.zeros((3, 3, 3)))


# -- the scale PEVI assumes (the complete rerun of 2026-11-26, after the reward-range merge) --------------------------
def test_pevi_refuses_data_off_the_unit_scale_by_its_name():
    """PEVI's beta and its clipping at H - h assume rewards in [0, 1] and an undiscounted horizon: data recording
    another reward range, or a discount, is refused with a message that names PEVI and says what to do."""
    from theory_rl.data import sample_iid_counts  # noqa: PLC0415
    from theory_rl.mdp import TabularMDP  # noqa: PLC0415

    rng = np.random.default_rng(5)
    S, A, H = 3, 2, 3
    P = rng.dirichlet(np.ones(S), size=(S, A))
    phi = np.eye(S * A).reshape(S, A, S * A)
    mu = np.full((H, S, A), 1.0 / (S * A))
    ranged = TabularMDP(P, -3.0 + 4.0 * rng.random((S, A)), np.full(S, 1 / S), horizon=H, reward_range=(-3, 1),
                        reward_noise="gaussian", reward_std=0.4)
    with pytest.raises(ValueError, match=r"^PEVI assumes rewards in \[0, 1\], but the rewards lie in \[-3\.0, 1\.0\]"):
        pevi(phi, sample_iid_counts(ranged, mu, 50, seed=1))
    discounted = TabularMDP(P, rng.random((S, A)), np.full(S, 1 / S), horizon=H, gamma=0.9)
    discounted_message = r"^PEVI assumes an undiscounted finite horizon, but the problem is discounted \(gamma 0\.9\)"
    with pytest.raises(ValueError, match=discounted_message):
        pevi(phi, sample_iid_counts(discounted, mu, 50, seed=1))
