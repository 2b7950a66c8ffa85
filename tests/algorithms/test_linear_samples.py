"""Sample-level PEVI and LSVI-UCB (issue 15, item 4) against the count-based functions of algorithms.linear and an
independent count-based oracle written here, on dense forms of small factored instances."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.algorithms.linear import lsvi_ucb, pevi
from theory_rl.algorithms.linear_samples import LinearGreedyPolicy, latent_dataset, lsvi_ucb_samples, pevi_samples
from theory_rl.generators.linear import random_factored_linear_mdp, random_linear_mdp
from theory_rl.linear import FactoredLinearMDP


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_lsvi_ucb_samples_equals_count_based_lsvi_ucb_on_a_dense_model(S, A, d, H, seed):
    """Same model, same seed: the dense model's rollout sampler sees the same policies, so everything agrees."""
    L = random_linear_mdp(S, A, d, H, seed=seed)
    ref = lsvi_ucb(L, 12, seed=seed, track_values=True)
    res = lsvi_ucb_samples(L, 12, seed=seed, track_values=True)
    assert np.array_equal(ref.returns, res.returns)
    assert np.abs(ref.episode_values - res.episode_values).max() < 1e-12
    assert np.abs(ref.Lambda_inv - res.Lambda_inv).max() < 1e-12
    V, Q = res.policy.values()
    assert np.abs(Q - ref.Q).max() < 1e-12
    K = 12
    played = ref.policies[np.arange(K)[:, None], np.arange(H)[None, :], res.states[:, :-1]]
    assert np.array_equal(played, res.actions)
    assert np.array_equal(ref.data.transition_counts.sum(), K * H)


def _count_based_optimistic_q(F, states, actions, rewards, Lam_inv, beta):
    """Oracle: LSVI-UCB's Q from dense counts over all S (Jin et al. 2020, Alg. 1), written independently."""
    P = F.to_linear()
    H, S, A = P.H, P.S, P.A
    N = np.zeros((H, S, A, S))
    Rs = np.zeros((H, S, A))
    for st_, ac, rw in zip(states, actions, rewards, strict=True):
        for h in range(H):
            N[h, st_[h], ac[h], st_[h + 1]] += 1
            Rs[h, st_[h], ac[h]] += rw[h]
    Q = np.zeros((H, S, A))
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        target = Rs[h] + N[h] @ V
        w = Lam_inv[h] @ np.einsum("sad,sa->d", P.stage_phi[h], target)
        bonus = beta * np.sqrt(np.einsum("sad,de,sae->sa", P.stage_phi[h], Lam_inv[h], P.stage_phi[h]))
        Q[h] = np.minimum(P.stage_phi[h] @ w + bonus, H)
        V = Q[h].max(axis=1)
    return Q


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_lsvi_ucb_samples_on_a_factored_model_matches_the_dense_oracle(S, A, d, H, seed):
    F = random_factored_linear_mdp(S, A, d, H, seed=seed, stationary=bool(seed % 2))
    K = 8
    res = lsvi_ucb_samples(F, K, seed=seed)
    assert res.constants["form"] == "factored"
    # the last planning pass used episodes 0..K-2 and Lambda_inv before the last episode
    Q = _count_based_optimistic_q(F, res.states[:-1], res.actions[:-1], res.rewards[:-1], res.policy.Lambda_inv,
                                  res.constants["beta"])
    _, Qs = res.policy.values()
    assert np.abs(Qs - Q).max() < 1e-12
    last = res.actions[-1]
    assert np.array_equal(last, Q[np.arange(H), res.states[-1, :-1]].argmax(axis=1))


def test_lsvi_ucb_samples_learns_on_a_large_factored_model():
    """S = 20,000: nothing of size S is allocated by the learner; it beats the uniformly random policy."""
    F = random_factored_linear_mdp(20_000, 4, 3, 4, seed=1, concentration=0.3)
    res = lsvi_ucb_samples(F, 150, seed=0, bonus_scale=0.05)
    assert res.states.shape == (150, 5) and res.w.shape == (4, 3)
    from theory_rl.linear import linear_backward_induction, linear_evaluate

    opt = float(F.init @ linear_backward_induction(F).V[0])
    rand = float(F.init @ linear_evaluate(F, np.full((F.S, F.A), 1 / F.A))[0])
    late = res.returns[-50:].mean()
    assert late > rand + 0.5 * (opt - rand), (late, rand, opt)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31),
       st.sampled_from([0.0, 1.0]))
def test_pevi_samples_equals_count_based_pevi(S, A, d, H, seed, scale):
    F = random_factored_linear_mdp(S, A, d, H, seed=seed, stationary=bool(seed % 2))
    behaviour = np.full((S, A), 1 / A)
    data = latent_dataset(F, behaviour, 30, seed)
    ref = pevi(F.phi, data.to_counts(), penalty_scale=scale)
    res = pevi_samples(F, data, penalty_scale=scale)
    assert res.constants == ref.constants
    assert np.abs(res.w - ref.w).max() < 1e-12
    assert np.abs(res.Lambda - ref.Lambda).max() < 1e-12
    V, Q = res.policy.values()
    assert np.abs(Q - ref.Q).max() < 1e-12 and np.abs(V - ref.V).max() < 1e-12
    same = pevi_samples(F.phi, data, penalty_scale=scale)  # features as an array: the same estimates
    assert np.array_equal(same.w, res.w)


def test_pevi_penalty_makes_values_pessimistic():
    F = random_factored_linear_mdp(6, 2, 3, 3, seed=4)
    data = latent_dataset(F, np.full((6, 2), 0.5), 40, 0)
    pess = pevi_samples(F, data).policy.values()[1]
    plain = pevi_samples(F, data, penalty_scale=0.0).policy.values()[1]
    assert (pess <= plain + 1e-12).all() and (pess < plain - 1e-6).any()


def test_latent_dataset_and_refusals():
    F = random_factored_linear_mdp(5, 2, 3, 3, seed=0)
    data = latent_dataset(F, np.zeros(5, int), 4, 0)
    assert len(data) == 12 and data.horizon == 3 and (data.behaviour_prob == 1).all()
    with pytest.raises(ValueError, match="phi"):
        pevi_samples(np.ones((4, 2, 3)), data)
    with pytest.raises(ValueError, match="sign"):
        LinearGreedyPolicy(F.features, np.zeros((3, 3)), np.stack([np.eye(3)] * 3), 1.0, 0, np.ones(3))
    with pytest.raises(ValueError, match="Lambda_inv"):
        LinearGreedyPolicy(F.features, np.zeros((3, 3)), np.eye(3), 1.0, 1, np.ones(3))
    assert isinstance(F, FactoredLinearMDP)


def test_pevi_good_event_on_the_factored_form_matches_the_dense_form():
    from theory_rl.algorithms.linear import pevi_good_event

    F = random_factored_linear_mdp(5, 2, 3, 3, seed=6)
    data = latent_dataset(F, np.full((5, 2), 0.5), 50, 1)
    for scale in (0.0, 1.0):
        res = pevi(F.phi, data.to_counts(), penalty_scale=scale)
        assert pevi_good_event(F, res) == pevi_good_event(F.to_linear(), res)
    assert pevi_good_event(F, pevi(F.phi, data.to_counts()))  # the theorem's penalty covers the error here
    assert not pevi_good_event(F, pevi(F.phi, data.to_counts(), penalty_scale=0.0))
