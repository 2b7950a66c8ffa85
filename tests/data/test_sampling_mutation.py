"""Kill tests of the ``data-sampling`` mutants (issue 14, item 3; ``python -m benchmarks.mutation --module
data-sampling``): ``sample_policy_counts`` (and the action stack and mixture weights it reads), ``controlled_coverage``.

Each test pins a value a plausible slip would change: counts computed by hand on a deterministic MDP, the exact error
message (naming the offending entry), controlled coverage's closed forms on bandits. Statistical checks use fixed
seeds and state their false-failure probability. Only public functions are called.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from theory_rl import data
from theory_rl._random import seed_sequence
from theory_rl.mdp import ContextualBandit, MultiArmedBandit, TabularMDP
from theory_rl.policies import epsilon_mixture

S, A, H = 3, 2, 3
#: deterministic moves: action a from state s leads to (s + a + 1) mod 3
NEXT = np.array([[(s + a + 1) % S for a in range(A)] for s in range(S)])
REWARD = np.array([[0.0, 1.0], [0.5, 0.25], [1.0, 0.0]])


def _raises(message, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises a ValueError whose message is exactly ``message``."""
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message


def _chain(init=(1.0, 0.0, 0.0), noise="deterministic") -> TabularMDP:
    P = np.zeros((S, A, S))
    P[np.arange(S)[:, None], np.arange(A)[None, :], NEXT] = 1.0
    return TabularMDP(P, REWARD, np.asarray(init), horizon=H, reward_noise=noise)


def _by_hand(actions: np.ndarray, n: int, start: int = 0):
    """The counts of ``n`` episodes of the deterministic per-step policy ``actions`` (H, S) from ``start``."""
    N = np.zeros((H, S, A), np.int64)
    C = np.zeros((H, S, A, S), np.int64)
    s = start
    for h in range(H):
        a = actions[h, s]
        N[h, s, a] += n
        C[h, s, a, NEXT[s, a]] += n
        s = NEXT[s, a]
    return N, C


POLICY = np.array([[0, 1, 0], [1, 1, 1], [0, 0, 1]])  # path: s0 -a0-> s1 -a1-> s0 -a0-> s1
OTHER = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 0]])  # path: s0 -a1-> s2 -a0-> s0 -a1-> s2


# ---------------------------------------------------------------------- sample_policy_counts, exact
@pytest.mark.parametrize("form", ["per-step", "stationary", "one-hot", "one-hot stationary"])
def test_policy_counts_of_a_deterministic_chain_are_the_hand_counts(form):
    mdp = _chain()
    stationary = np.array([1, 0, 0])  # s0 -a1-> s2 -a0-> s0 -a1-> s2
    actions = POLICY if "stationary" not in form else np.tile(stationary, (H, 1))
    policy = {"per-step": POLICY, "stationary": stationary, "one-hot": np.eye(A)[POLICY],
              "one-hot stationary": np.eye(A)[stationary]}[form]
    c = data.sample_policy_counts(mdp, policy, 10, seed=0)
    N, C = _by_hand(actions, 10)
    np.testing.assert_array_equal(c.counts, N)
    np.testing.assert_array_equal(c.transition_counts, C)
    np.testing.assert_array_equal(c.reward_sums, N * REWARD)  # deterministic rewards: the sums are N R exactly
    assert c.counts.dtype == np.int64 and c.transition_counts.dtype == np.int64
    assert (c.n, c.S, c.A, c.horizon, c.gamma) == (30, S, A, H, None)
    assert c.meta == {"generator": "sample_policy_counts", "mdp": repr(mdp), "n_episodes": 10,
                      "seed": {"entropy": "0", "spawn_key": []}}


def test_policy_counts_of_an_unnormalised_start_and_of_zero_episodes():
    # every episode starts in s2
    mdp = _chain(init=(0.0, 0.0, 1.0))
    c = data.sample_policy_counts(mdp, POLICY, 7, seed=4)
    np.testing.assert_array_equal(c.counts, _by_hand(POLICY, 7, start=2)[0])
    empty = data.sample_policy_counts(mdp, POLICY, 0, seed=4)
    assert empty.n == 0 and not empty.counts.any() and not empty.transition_counts.any()


@pytest.mark.parametrize("as_list", [False, True])
@pytest.mark.parametrize("weights", [[1.0, 0.0], [0.0, 1.0]])
def test_a_mixture_with_one_weight_one_follows_that_policy_only(weights, as_list):
    mdp = _chain()
    stack = np.stack([POLICY, OTHER])
    c = data.sample_policy_counts(mdp, list(stack) if as_list else stack, 12, seed=3, weights=weights)
    N, C = _by_hand(stack[int(np.argmax(weights))], 12)
    np.testing.assert_array_equal(c.counts, N)
    np.testing.assert_array_equal(c.transition_counts, C)


@pytest.mark.parametrize("weights", [[1.0, 0.0], [0.0, 1.0]])
def test_a_mixture_of_mixed_forms_follows_the_weighted_policy(weights):
    # an (H, S) action table and an (S, A) probability table: not a stack, each read on its own
    mdp = _chain()
    stationary = np.array([1, 0, 0])
    c = data.sample_policy_counts(mdp, [POLICY, np.eye(A)[stationary]], 9, seed=1, weights=weights)
    actions = POLICY if weights[0] == 1.0 else np.tile(stationary, (H, 1))
    np.testing.assert_array_equal(c.counts, _by_hand(actions, 9)[0])


@pytest.mark.parametrize("as_list", [False, True])
def test_a_mixture_splits_the_episodes_by_the_weights(as_list):
    # POLICY takes a0 in s0 at step 0, OTHER a1: N[0, 0, 0] ~ Binomial(4000, 0.25), sd 27.4; outside 6 sd with
    # probability < 2e-9 (fixed seeds: the outcome is fixed, this is the chance a seed fails a correct sampler)
    mdp = _chain()
    stack = np.stack([POLICY, OTHER])
    for seed in (0, 1, 2):
        c = data.sample_policy_counts(mdp, list(stack) if as_list else stack, 4000, seed=seed, weights=[0.25, 0.75])
        k = c.counts[0, 0, 0]
        assert abs(k - 1000) < 6 * np.sqrt(4000 * 0.25 * 0.75)
        N0, _ = _by_hand(POLICY, k)
        N1, _ = _by_hand(OTHER, 4000 - k)
        np.testing.assert_array_equal(c.counts, N0 + N1)


def test_a_generator_seed_continues_its_stream():
    mdp = _chain(init=(0.5, 0.25, 0.25))
    pi = np.full((H, S, A), 0.5)
    rng = np.random.default_rng(seed_sequence(5))
    first = data.sample_policy_counts(mdp, pi, 50, seed=rng)
    second = data.sample_policy_counts(mdp, pi, 50, seed=rng)
    # the first draw from the Generator equals the draw from the seed it was made from; the second continues the
    # stream (equal counts in all 18 entries of both draws: probability far below 1e-6)
    np.testing.assert_array_equal(first.counts, data.sample_policy_counts(mdp, pi, 50, seed=5).counts)
    assert not np.array_equal(first.counts, second.counts)
    assert first.meta["seed"] == "a Generator's stream"


@pytest.mark.parametrize("stationary", [False, True])
def test_stochastic_policy_counts_are_consistent_and_follow_the_occupancy(stationary):
    """Per-step (or stationary) probabilities on the deterministic chain from a spread start: every draw obeys the
    flow identities exactly, and ``N_h / n`` matches the exact occupancy ``d_h``."""
    init = np.array([0.5, 0.3, 0.2])
    mdp = _chain(init=init)
    rng = np.random.default_rng(11)
    probs = rng.dirichlet(np.ones(A), size=(1 if stationary else H, S))
    policy = probs[0] if stationary else probs
    n = 20000
    c = data.sample_policy_counts(mdp, policy, n, seed=8)
    N, C = c.counts, c.transition_counts
    # exact occupancy by forward recursion
    d = np.zeros((H, S, A))
    state = init.copy()
    for h in range(H):
        d[h] = state[:, None] * probs[0 if stationary else h]
        state = np.zeros(S)
        np.add.at(state, NEXT, d[h])
    for h in range(H):
        assert N[h].sum() == n
        np.testing.assert_array_equal(C[h].sum(axis=-1), N[h])
        moved = np.zeros((S, A, S), np.int64)
        moved[np.arange(S)[:, None], np.arange(A)[None, :], NEXT] = N[h]
        np.testing.assert_array_equal(C[h], moved)  # deterministic moves
        if h + 1 < H:
            np.testing.assert_array_equal(C[h].sum(axis=(0, 1)), N[h + 1].sum(axis=1))
    # each of the 18 entries is Binomial(n, d): outside 6 sd with probability < 2e-9 each, < 4e-8 in all
    sd = np.sqrt(n * d * (1 - d))
    assert (np.abs(N - n * d) <= 6 * sd + 1e-9).all()
    np.testing.assert_array_equal(c.reward_sums, N * REWARD)


def test_bernoulli_reward_sums_are_binomial_given_the_counts():
    # POLICY's path visits (0, 0) at steps 0 and 2 (mean reward 0) and (1, 1) at step 1 (mean 0.25)
    mdp = _chain(noise="bernoulli")
    c = data.sample_policy_counts(mdp, POLICY, 400, seed=2)
    R = c.reward_sums
    assert R[0, 0, 0] == 0 and R[2, 0, 0] == 0  # REWARD[0, 0] = 0: no success
    # R[1, 1, 1] ~ Binomial(400, 0.25): sd 8.66, outside 6 sd with probability < 2e-9
    assert abs(R[1, 1, 1] - 100) < 6 * 8.67
    assert R.sum() == R[1, 1, 1]


# ---------------------------------------------------------------------- sample_policy_counts, refusals
def test_policy_counts_refusals_name_the_entry():
    mdp = _chain()
    discounted = TabularMDP(np.ones((1, 1, 1)), [[0.0]], [1.0], gamma=0.5)
    _raises("mdp is discounted; sample_policy_counts needs a finite-horizon model",
            data.sample_policy_counts, discounted, [0], 3, 0)
    bad = POLICY.copy()
    bad[1, 1] = 2
    _raises("policy[1, 1] is 2, expected a value in 0..1", data.sample_policy_counts, mdp, bad, 3, 0)
    stack = np.zeros((2, H, S), int)
    for value in (A, 5, -1):
        stack[1, 2, 1] = value
        for pols in (stack, list(stack)):
            _raises(f"policy[1, 2, 1] is {value}, expected a value in 0..1",
                    data.sample_policy_counts, mdp, pols, 3, 0, weights=[0.5, 0.5])
    # unsigned actions are a stack too
    ustack = np.zeros((2, H, S), np.uint8)
    ustack[0, 0, 2] = 7
    _raises("policy[0, 0, 2] is 7, expected a value in 0..1",
            data.sample_policy_counts, mdp, ustack, 3, 0, weights=[0.5, 0.5])
    # not a stack: each policy is read on its own and named policy[k], even one with no episodes
    half = np.full((S, A), 0.5)
    half[0, 1] = 0.75
    _raises("policy[1][0] sums to 1.25, expected 1 (tolerance 2e-10)",
            data.sample_policy_counts, mdp, [POLICY, half], 3, 0, weights=[1.0, 0.0])
    _raises("weights is empty, expected one weight per policy", data.sample_policy_counts, mdp, [], 3, 0, weights=[])
    _raises("policy holds 2 policies, but weights has 1 entries",
            data.sample_policy_counts, mdp, [POLICY, OTHER], 3, 0, weights=[1.0])
    _raises("weights sums to 1.1, expected 1 (tolerance 1e-08)",
            data.sample_policy_counts, mdp, [POLICY, OTHER], 3, 0, weights=[0.5, 0.6])
    _raises("weights must have 1 dimensions, got shape (1, 2)",
            data.sample_policy_counts, mdp, [POLICY, OTHER], 3, 0, weights=[[0.5, 0.5]])


# ---------------------------------------------------------------------- controlled_coverage, closed forms
def test_controlled_coverage_on_a_bandit_is_the_closed_form():
    """Means (0.2, 0.9, 0.5): pi* plays arm 1, ``d = (0, 1, 0)``. ``mu = d / c + (1 - 1/c) nu`` with ``nu`` uniform on
    arms 0 and 2; the eps-mixture puts ``1 - 2 eps / 3`` on arm 1, so ``d / d_b`` peaks at ``1 / (1 - 2 eps / 3)``:
    ``eps = 3/4`` for ``c = 2``, and ``c = 4`` is out of reach (``eps = 1`` reaches 3)."""
    mab = MultiArmedBandit([0.2, 0.9, 0.5])
    cc = data.controlled_coverage(mab, 2.0)
    np.testing.assert_allclose(cc.mu.reshape(-1), [0.25, 0.5, 0.25], rtol=0, atol=1e-15)
    assert cc.c_star == pytest.approx(2.0, abs=1e-12)
    assert cc.epsilon == pytest.approx(0.75, abs=1e-12)
    np.testing.assert_allclose(cc.behaviour_policy.reshape(-1), [0.25, 0.5, 0.25], atol=1e-12)
    assert cc.behaviour_c_star == pytest.approx(2.0, abs=1e-10)
    np.testing.assert_array_equal(cc.target_policy.reshape(-1), [0.0, 1.0, 0.0])
    far = data.controlled_coverage(mab, 4.0)
    np.testing.assert_allclose(far.mu.reshape(-1), [0.375, 0.25, 0.375], rtol=0, atol=1e-15)
    assert far.c_star == pytest.approx(4.0, abs=1e-12)
    assert far.epsilon == 1.0
    np.testing.assert_allclose(far.behaviour_policy.reshape(-1), np.full(3, 1 / 3), atol=1e-15)
    assert far.behaviour_c_star == pytest.approx(3.0, abs=1e-12)
    expert = data.controlled_coverage(mab, 1.0)
    np.testing.assert_array_equal(expert.mu.reshape(-1), [0.0, 1.0, 0.0])
    assert expert.epsilon == 0.0 and expert.c_star == 1.0 and expert.behaviour_c_star == 1.0
    np.testing.assert_array_equal(expert.behaviour_policy.reshape(-1), [0.0, 1.0, 0.0])


def test_controlled_coverage_breaks_ties_at_the_lowest_index_and_takes_a_given_policy():
    # two equally likely contexts, pi plays action 1 in context 0 and action 0 in context 1: d = (0, .5, .5, 0)
    # flat; k* = 1 (the first of the tie), nu uniform 1/3 on pairs 0, 2, 3: mu = d / 2 + nu / 2
    cb = ContextualBandit([[0.1, 0.9], [0.8, 0.3]], [0.5, 0.5])
    cc = data.controlled_coverage(cb, 2.0, np.array([1, 0]))
    np.testing.assert_allclose(cc.mu.reshape(-1), [1 / 6, 1 / 4, 1 / 4 + 1 / 6, 1 / 6], rtol=0, atol=1e-15)
    assert cc.c_star == pytest.approx(2.0, abs=1e-12)
    # the same policy given as probabilities; pi* is the same policy here
    np.testing.assert_allclose(data.controlled_coverage(cb, 2.0, np.eye(2)[[1, 0]]).mu, cc.mu, atol=0)
    np.testing.assert_allclose(data.controlled_coverage(cb, 2.0).mu, cc.mu, atol=0)
    # eps-mixture: d_b(s, pi(s)) = 0.5 (1 - eps / 2), ratio 1 / (1 - eps / 2) = 2 at eps = 1: reached exactly
    assert cc.epsilon == pytest.approx(1.0, abs=1e-10)
    assert cc.behaviour_c_star == pytest.approx(2.0, abs=1e-9)


def test_controlled_coverage_refusals():
    _raises("c_star > 1 is impossible with a single state-action pair (counting feasible ones; mu = d^pi = 1)",
            data.controlled_coverage, MultiArmedBandit([0.5]), 1.5)
    # c_star = 1 on a single pair is fine: mu = d, with no division by the zero other pairs (no warning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data.controlled_coverage(MultiArmedBandit([0.5]), 1.0).mu.reshape(-1) == pytest.approx([1.0])


# ---------------------------------------------------------------------- the samplers' records: meta, gamma, scale
def _scaled(**kind) -> TabularMDP:
    P = np.zeros((S, A, S))
    P[..., 1] = 1.0  # every move to s1
    return TabularMDP(P, 3 * REWARD - 1, np.array([1.0, 0.0, 0.0]), reward_noise="deterministic",
                      reward_range=(-1, 2), **kind)


def test_sample_generative_records_seed_gamma_and_scale():
    mdp = _scaled(gamma=0.75)
    c = data.sample_generative(mdp, 4, seed=7)
    assert (c.gamma, c.horizon) == (0.75, None)
    assert c.meta == {"generator": "sample_generative", "mdp": repr(mdp), "n_per_pair": 4, "n": 24,
                      "seed": {"entropy": "7", "spawn_key": []}, "reward_range": [-1.0, 2.0]}
    np.testing.assert_array_equal(c.counts, np.full((S, A), 4))
    np.testing.assert_array_equal(c.transition_counts[..., 1], np.full((S, A), 4))
    np.testing.assert_array_equal(c.reward_sums, 4 * (3 * REWARD - 1))
    episodic = _scaled(gamma=0.75, horizon=2)
    per = np.full((2, S, A), 2.0)
    per[1, 2, 0] = 5.0
    c = data.sample_generative(episodic, per, seed=7)
    assert (c.gamma, c.horizon) == (None, 2)
    assert c.meta == {"generator": "sample_generative", "mdp": repr(episodic), "n_per_pair": "per pair", "n": 27,
                      "seed": {"entropy": "7", "spawn_key": []}, "reward_range": [-1.0, 2.0], "discount": 0.75}
    np.testing.assert_array_equal(c.counts, per.astype(np.int64))


def test_sample_policy_counts_records_the_scale():
    mdp = _scaled(gamma=0.75, horizon=2)
    c = data.sample_policy_counts(mdp, [0, 1, 1], 5, seed=7)
    assert (c.gamma, c.horizon) == (None, 2)
    assert c.meta == {"generator": "sample_policy_counts", "mdp": repr(mdp), "n_episodes": 5,
                      "seed": {"entropy": "7", "spawn_key": []}, "reward_range": [-1.0, 2.0], "discount": 0.75}
    N = np.zeros((2, S, A), np.int64)
    N[0, 0, 0] = N[1, 1, 1] = 5  # s0 -a0-> s1 -a1-> s1
    np.testing.assert_array_equal(c.counts, N)
    np.testing.assert_array_equal(c.reward_sums, N * (3 * REWARD - 1))


# ---------------------------------------------------------------------- normalisation, stacks, per-step tables
def _loose(**kind) -> TabularMDP:
    """Rows and start summing to 1 + 8e-11 (inside the model's tolerance, 1e-10), last entries 0: numpy's
    multinomial refuses ``sum(p[:-1]) > 1 + 1e-12``, so only a sampler that renormalises can draw from them."""
    P = np.zeros((S, A, S))
    P[..., :2] = 0.5 + 4e-11
    return TabularMDP(P, REWARD, np.array([0.5 + 4e-11, 0.5 + 4e-11, 0.0]), reward_noise="deterministic", **kind)


def test_samplers_renormalise_rows_inside_the_tolerance():
    mdp = _loose(gamma=0.5)
    assert mdp.P.sum(axis=-1).max() > 1 + 1e-12 and mdp.init.sum() > 1 + 1e-12  # stored as given
    c = data.sample_generative(mdp, 5, seed=0)
    np.testing.assert_array_equal(c.transition_counts.sum(axis=-1), np.full((S, A), 5))
    assert not c.transition_counts[..., 2].any()
    episodic = _loose(horizon=H)
    for policy in (np.zeros(S, int), np.full((S, A), 0.5)):
        c = data.sample_policy_counts(episodic, policy, 40, seed=1)
        assert c.counts.sum() == 40 * H and not c.counts[:, 2].any()  # s2 is never reached
    c = data.sample_policy_counts(episodic, np.zeros((2, H, S), int), 40, seed=1, weights=[0.5, 0.5])
    assert c.counts.sum() == 40 * H
    # weights summing to 1 + 5e-9 (inside their tolerance, 1e-8) with a last weight 0: renormalised too
    c = data.sample_policy_counts(_chain(), np.stack([POLICY, OTHER]), 6, seed=2, weights=[1 + 5e-9, 0.0])
    np.testing.assert_array_equal(c.counts, _by_hand(POLICY, 6)[0])


def test_a_two_step_policy_uses_each_steps_actions():
    # H = 2: a per-step table (2, S) is not stationary; step 1 must read row 1
    mdp = _scaled(horizon=2)
    c = data.sample_policy_counts(mdp, np.array([[0, 0, 0], [1, 0, 1]]), 5, seed=3)
    N = np.zeros((2, S, A), np.int64)
    N[0, 0, 0] = N[1, 1, 0] = 5  # s0 -a0-> s1, then row 1 says a0 in s1
    np.testing.assert_array_equal(c.counts, N)
    c = data.sample_policy_counts(mdp, np.array([[0, 0, 0], [1, 1, 1]]), 5, seed=3)
    N[1, 1] = [0, 5]
    np.testing.assert_array_equal(c.counts, N)


def test_only_integer_action_tables_of_the_steps_shape_are_stacked():
    mdp = _chain()
    one_hot = np.eye(A, dtype=int)[np.array([[0, 1, 0], [1, 1, 1]])]  # (2, S, A) integers: not (m, H, S)
    _raises("policy[0] has shape (3, 2), expected (S,) or (H, S) actions with S = 3, H = 3",
            data.sample_policy_counts, mdp, one_hot, 10, 0, weights=[1.0, 0.0])
    # Python lists of actions: read one by one
    c = data.sample_policy_counts(mdp, [[1, 0, 0], POLICY.tolist()], 8, seed=0, weights=[0.0, 1.0])
    np.testing.assert_array_equal(c.counts, _by_hand(POLICY, 8)[0])
    # float tables of shape (m, H, S) are probabilities (here H = S = A = 2), not actions
    square = TabularMDP(np.eye(2)[[[1, 0], [0, 1]]], np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=2,
                        reward_noise="deterministic")  # s0: a0 -> s1, a1 -> s0; s1: a0 -> s0, a1 -> s1
    probs = np.stack([np.eye(2)[[1, 1]], np.eye(2)[[0, 0]]])  # policy 0 plays a1 everywhere
    c = data.sample_policy_counts(square, probs, 7, seed=0, weights=[1.0, 0.0])
    N = np.zeros((2, 2, 2), np.int64)
    N[0, 0, 1] = N[1, 0, 1] = 7
    np.testing.assert_array_equal(c.counts, N)


def test_an_infeasible_action_in_a_stack_is_refused_by_name():
    P = np.zeros((S, A, S))
    P[..., 0] = 1.0
    mdp = TabularMDP(P, np.zeros((S, A)), np.array([1.0, 0.0, 0.0]), horizon=2, reward_noise="deterministic",
                     feasible=[[True, True], [True, False], [True, True]])
    stack = np.zeros((2, 2, S), int)
    stack[1, 1, 1] = 1
    _raises("policy: (state, action) = (1, 1) is infeasible (mdp.feasible is False there)",
            data.sample_policy_counts, mdp, stack, 10, 0, weights=[0.5, 0.5])


@pytest.mark.parametrize("c_star", [1.3, 1.7, 2.2, 2.9])
def test_controlled_coverage_behaviour_is_the_documented_epsilon_mixture(c_star):
    # behaviour_policy = (1 - eps) pi + eps / A exactly (the documented form, float for float), and it reaches c_star
    mab = MultiArmedBandit([0.2, 0.9, 0.5, 0.1, 0.3, 0.6, 0.7])
    cc = data.controlled_coverage(mab, c_star)
    np.testing.assert_array_equal(cc.behaviour_policy, epsilon_mixture(cc.target_policy, cc.epsilon, 1, 7))
    # d_b(a*) = 1 - 6 eps / 7 = 1 / c_star; Brent's method at xtol = rtol = 1e-14 finds eps within 2e-14
    assert cc.epsilon == pytest.approx(7 / 6 * (1 - 1 / c_star), abs=2e-14)
    assert cc.behaviour_c_star == pytest.approx(c_star, abs=1e-13)


# ---------------------------------------------------------------------- stochastic policies: steps, mixtures
def _line(A3: int = 3, H2: int = 2) -> TabularMDP:
    """One state, ``A3`` actions, horizon ``H2``: the counts are the actions drawn."""
    return TabularMDP(np.ones((1, A3, 1)), np.zeros((1, A3)), np.ones(1), horizon=H2, reward_noise="deterministic")


def test_a_two_step_stochastic_policy_uses_each_steps_probabilities():
    # step 0 plays a0, step 1 splits a1 / a2: a per-step table of H = 2 must not be read as stationary
    pi = np.array([[[0.0, 0.0, 1.0]], [[0.0, 0.5, 0.5]]])
    c = data.sample_policy_counts(_line(), pi, 100, seed=4)
    assert c.counts[0, 0].tolist() == [0, 0, 100]
    assert c.counts[1, 0, 0] == 0 and c.counts[1, 0].sum() == 100 and 0 < c.counts[1, 0, 1] < 100  # P(fail) = 2^-99


def test_stochastic_policies_are_renormalised_inside_their_tolerance():
    # rows summing to 1 + 8e-11 (policy tolerance 1e-10) with a last entry 0: numpy refuses sum(p[:-1]) > 1 + 1e-12
    pi = np.array([[0.5 + 4e-11, 0.5 + 4e-11, 0.0]])
    c = data.sample_policy_counts(_line(), pi, 50, seed=0)
    assert c.counts[:, 0, 2].sum() == 0 and c.counts.sum() == 100


def test_a_mixture_of_stochastic_policies_adds_the_components_counts():
    # two stochastic (non-stack) policies: each component's counts add up, step by step
    first = np.array([[0.5, 0.5, 0.0]])
    second = np.array([[0.0, 0.5, 0.5]])
    c = data.sample_policy_counts(_line(), [first, second], 300, seed=6, weights=[0.5, 0.5])
    assert c.counts.sum() == 600 and c.transition_counts.sum() == 600
    np.testing.assert_array_equal(c.counts.sum(axis=(1, 2)), [300, 300])
    np.testing.assert_array_equal(c.transition_counts.sum(axis=(1, 2, 3)), [300, 300])
    # a0 and a2 both drawn at each step: each is Binomial(300, 1/4) given the split; P(zero) < 1e-30
    assert (c.counts[:, 0, [0, 2]] > 0).all()


# ---------------------------------------------------------------------- sample_transitions
def _two_stage(**extra):
    """Step 0 moves ``s -> s + a + 1``, step 1 ``s -> s + 2 a + 2`` (mod 3); deterministic rewards per step."""
    P = np.zeros((2, S, A, S))
    for s in range(S):
        for a in range(A):
            P[0, s, a, (s + a + 1) % S] = 1.0
            P[1, s, a, (s + 2 * a + 2) % S] = 1.0
    R = np.array([REWARD, [[0.75, 0.0], [0.0, 0.125], [0.0, 1.0]]])
    return P, R


def test_sample_transitions_follows_each_steps_model():
    P, R = _two_stage()
    mdp = TabularMDP(P, R, np.array([1.0, 0.0, 0.0]), horizon=2, reward_noise="deterministic")
    states, actions, steps = np.array([0, 1, 2, 0, 2]), np.array([1, 1, 0, 0, 1]), np.array([0, 1, 1, 0, 1])
    nxt, rew = data.sample_transitions(mdp, states, actions, 0, steps=steps)
    np.testing.assert_array_equal(nxt, [(s + a + 1) % S if h == 0 else (s + 2 * a + 2) % S
                                        for s, a, h in zip(states, actions, steps, strict=True)])
    np.testing.assert_array_equal(rew, R[steps, states, actions])
    assert nxt.dtype == np.int32 and rew.dtype == np.float64
    # no steps: step 0 for every pair
    nxt, rew = data.sample_transitions(mdp, states, actions, 0)
    np.testing.assert_array_equal(nxt, (states + actions + 1) % S)
    np.testing.assert_array_equal(rew, R[0, states, actions])


def test_sample_transitions_refusals_name_the_entry():
    P, R = _two_stage()
    mdp = TabularMDP(P, R, np.array([1.0, 0.0, 0.0]), horizon=2, reward_noise="deterministic")
    _raises("actions[1] is 2, expected a value in 0..1", data.sample_transitions, mdp, [0, 1], [0, 2], 0)
    _raises("states has shape (2,) but actions has shape (1,)", data.sample_transitions, mdp, [0, 1], [0], 0)
    _raises("steps[1] is 2, expected a value in 0..1", data.sample_transitions, mdp, [0, 1], [0, 0], 0, steps=[0, 2])
    _raises("steps has shape (1,), expected (2,)", data.sample_transitions, mdp, [0, 1], [0, 0], 0, steps=[0])
    discounted = TabularMDP(P[0], R[0], np.array([1.0, 0.0, 0.0]), gamma=0.5, reward_noise="deterministic",
                            feasible=[[True, True], [True, False], [True, True]])
    _raises("steps[1] is 1, expected a value in 0..0",
            data.sample_transitions, discounted, [0, 1], [0, 0], 0, steps=[0, 1])
    _raises("states, actions: (state, action) = (1, 1) is infeasible (mdp.feasible is False there)",
            data.sample_transitions, discounted, [0, 1], [0, 1], 0)
    nxt, rew = data.sample_transitions(discounted, [0, 1, 2], [1, 0, 0], 0, steps=[0, 0, 0])
    np.testing.assert_array_equal(nxt, [2, 2, 0])
    np.testing.assert_array_equal(rew, [1.0, 0.5, 1.0])


# ---------------------------------------------------------------------- rewards, i.i.d. counts
def test_sample_rewards_default_std_is_zero():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(data.sample_rewards(rng, np.array([0.25, 0.5]), "gaussian"), [0.25, 0.5])
    np.testing.assert_array_equal(data.sample_rewards(rng, np.array([0.25, 0.5]), "gaussian", n=np.array([2, 4])),
                                  [0.5, 2.0])


def test_count_samplers_draw_gaussian_sums_with_the_models_std_and_refuse_unsampleable_bernoulli():
    P = np.zeros((S, A, S))
    P[..., 1] = 1.0
    mdp = TabularMDP(P, REWARD, np.array([1.0, 0.0, 0.0]), gamma=0.5, reward_noise="gaussian", reward_std=0.5)
    c = data.sample_generative(mdp, 100, seed=0)
    # each sum is N(100 R, (10 * 0.5)^2): all six within 1e-9 of 100 R has probability ~ 1e-50
    assert np.abs(c.reward_sums - 100 * REWARD).max() > 1e-9
    # and each within 6 sd (5 * 6 = 30): false failure < 1.2e-8
    assert np.abs(c.reward_sums - 100 * REWARD).max() < 30
    bad = TabularMDP(P, 3 * REWARD - 1, np.array([1.0, 0.0, 0.0]), gamma=0.5, reward_range=(-1, 2))
    message = ("mdp has Bernoulli rewards (values in {0, 1}) but reward_range (-1.0, 2.0): Bernoulli draws need "
               "rewards in [0, 1]. Give reward_noise='gaussian' or 'deterministic', or sample "
               "theory_rl.scales.unit_rewards(mdp) and map the rewards back with its RewardMap")
    _raises(message, data.sample_generative, bad, 3, 0)
    _raises(message, data.sample_iid_counts, bad, np.full((S, A), 1 / 6), 3, 0)


def test_sample_iid_counts_records_and_renormalises():
    mdp = _scaled(gamma=0.5)
    mu = np.full((S, A), 1 / 6)
    for c in (data.sample_iid_counts(mdp, mu, 60, seed=3), data.sample_iid_counts_batch(mdp, mu, 60, [3])[0]):
        assert (c.gamma, c.horizon, c.n) == (0.5, None, 60)
        assert dict(c.meta) == {"generator": "sample_iid_counts", "mdp": repr(mdp), "n": 60,
                                "seed": {"entropy": "3", "spawn_key": []}, "reward_range": [-1.0, 2.0]}
        assert c.meta["coverage"] == {"C_star": 3.0}  # the lazy entry: max d* / mu, d* peaking at 1/2, mu = 1/6
        np.testing.assert_array_equal(c.transition_counts[..., 1], c.counts)  # every move to s1
        np.testing.assert_array_equal(c.reward_sums, c.counts * (3 * REWARD - 1))
    episodic = _scaled(horizon=2)
    c = data.sample_iid_counts(episodic, np.stack([mu, mu]), 30, seed=1)
    assert (c.gamma, c.horizon, c.n) == (None, 2, 60)
    np.testing.assert_array_equal(c.counts.sum(axis=(1, 2)), [30, 30])
    # each step's distribution normalised on its own: the last pair, weight 0 at both steps, is never drawn
    step = np.full((S, A), 1 / 5)
    step[2, 1] = 0.0
    c = data.sample_iid_counts(episodic, np.stack([step, step]), 30, seed=1)
    assert not c.counts[:, 2, 1].any() and c.counts.sum() == 60
    # a distribution and rows summing to 1 + 8e-11 with last entries 0: only renormalised draws pass numpy's check
    loose = _loose(gamma=0.5)
    mu = np.zeros((S, A))
    mu[0] = mu[1, 0] = 1 / 3 + 2e-11
    c = data.sample_iid_counts(loose, mu, 90, seed=2)
    assert c.counts.sum() == 90 and c.counts[1, 1] == 0 and not c.counts[2].any()
    np.testing.assert_array_equal(c.transition_counts.sum(axis=-1), c.counts)
    with pytest.raises(ValueError) as info:
        data.sample_iid_counts_batch(loose, mu, 5, 7)
    assert str(info.value) == "seeds is int, expected a sequence of seeds (one per dataset)"



# ---------------------------------------------------------------------- sample_rewards: the documented draws
MEANS = np.array([[0.0, 0.25], [0.5, 1.0]])


def test_single_rewards_are_the_documented_draws():
    out = data.sample_rewards(np.random.default_rng(5), MEANS, "bernoulli")
    np.testing.assert_array_equal(out, (np.random.default_rng(5).random(MEANS.shape) < MEANS).astype(float))
    assert out.dtype == np.float64 and out[0, 0] == 0.0 and out[1, 1] == 1.0
    out = data.sample_rewards(np.random.default_rng(5), MEANS, "gaussian", 0.3)
    np.testing.assert_array_equal(out, MEANS + 0.3 * np.random.default_rng(5).standard_normal(MEANS.shape))
    rng = np.random.default_rng(5)
    out = data.sample_rewards(rng, MEANS, "deterministic", 0.3)
    np.testing.assert_array_equal(out, MEANS)
    out[0, 0] = 9.0  # a copy, not the caller's array
    assert MEANS[0, 0] == 0.0
    assert rng.random() == np.random.default_rng(5).random()  # deterministic rewards draw nothing
    # a scalar mean gives a float
    for noise, std in (("bernoulli", 0.0), ("gaussian", 0.2), ("deterministic", 0.0)):
        value = data.sample_rewards(np.random.default_rng(1), 1.0, noise, std)
        assert type(value) is float
    assert data.sample_rewards(np.random.default_rng(1), 1.0, "bernoulli") == 1.0
    assert data.sample_rewards(np.random.default_rng(1), 0.75, "deterministic") == 0.75
    assert data.sample_rewards(np.random.default_rng(1), 0.75, "gaussian", 0.2) == \
        0.75 + 0.2 * np.random.default_rng(1).standard_normal()


def test_reward_sums_are_the_documented_draws():
    N = np.array([[3, 0], [7, 2]])
    out = data.sample_rewards(np.random.default_rng(6), MEANS, "bernoulli", n=N)
    np.testing.assert_array_equal(out, np.random.default_rng(6).binomial(N, MEANS).astype(float))
    assert out.dtype == np.float64 and out[0, 0] == 0.0 and out[1, 1] == 2.0
    out = data.sample_rewards(np.random.default_rng(6), MEANS, "gaussian", 0.3, n=N)
    np.testing.assert_array_equal(out, np.random.default_rng(6).normal(N * MEANS, np.sqrt(N) * 0.3))
    out = data.sample_rewards(np.random.default_rng(6), MEANS, "deterministic", 0.3, n=N)
    np.testing.assert_array_equal(out, N * MEANS)
    # integer-valued floats and booleans are counts too
    np.testing.assert_array_equal(data.sample_rewards(np.random.default_rng(6), MEANS, "deterministic",
                                                      n=N.astype(float)), N * MEANS)
    np.testing.assert_array_equal(data.sample_rewards(np.random.default_rng(6), MEANS[0], "deterministic",
                                                      n=np.array([True, True])), MEANS[0])
    # a scalar mean with n: a float64 sum
    out = data.sample_rewards(np.random.default_rng(6), 0.5, "deterministic", n=4)
    assert np.asarray(out).dtype == np.float64 and out == 2.0


def test_sample_rewards_refusals_name_the_entry():
    rng = np.random.default_rng(0)
    _raises("mean[1] is 1.5, expected a value in [0, 1]", data.sample_rewards, rng, np.array([0.5, 1.5]),
            "bernoulli")
    _raises("mean[0, 1] is 1.5, expected a value in [0, 1]", data.sample_rewards, rng, np.array([[0.5, 1.5]]),
            "bernoulli", n=np.array([[1, 1]]))
    _raises("n[1] is 1.5, expected an integer count", data.sample_rewards, rng, np.array([0.5, 0.5]), "gaussian",
            n=[1, 1.5])
    _raises("n has shape (3,), expected the shape (2,) of mean", data.sample_rewards, rng, np.array([0.5, 0.5]),
            "gaussian", n=[1, 2, 3])
    _raises("n[0, 1] is -2, expected a count >= 0", data.sample_rewards, rng, np.array([[0.5, 0.5]]), "gaussian",
            n=[[0, -2]])  # the zero before it is a valid count
    _raises("std is -1.0, expected a real number in [0, inf]", data.sample_rewards, rng, np.array([0.5]),
            "gaussian", -1.0)
    # Gaussian and deterministic means are not limited to [0, 1]
    assert data.sample_rewards(rng, np.array([1.5]), "deterministic", n=np.array([2]))[0] == 3.0


# ---------------------------------------------------------------------- RolloutSampler
def test_rollout_sampler_follows_a_deterministic_chain_from_a_given_start():
    mdp = _chain()
    ro = data.RolloutSampler(mdp, init=[0.0, 0.0, 1.0]).sample(POLICY, 4, seed=0)
    # s2 -a0-> s0 -a1-> s2 -a1-> s1 (POLICY's rows per step)
    np.testing.assert_array_equal(ro.states, np.tile([2, 0, 2, 1], (4, 1)))
    np.testing.assert_array_equal(ro.actions, np.tile([0, 1, 1], (4, 1)))
    np.testing.assert_array_equal(ro.rewards, np.tile([REWARD[2, 0], REWARD[0, 1], REWARD[2, 1]], (4, 1)))
    assert ro.rewards.dtype == np.float64
    empty = data.RolloutSampler(mdp).sample(POLICY, 0, seed=0)
    assert (empty.states.shape, empty.actions.shape, empty.rewards.shape) == ((0, 4), (0, 3), (0, 3))
    # a mixture with one weight 1: that policy's path from the model's start s0
    ro = data.RolloutSampler(mdp).sample([POLICY, OTHER], 3, seed=1, weights=[0.0, 1.0])
    np.testing.assert_array_equal(ro.states, np.tile([0, 2, 0, 2], (3, 1)))


def test_rollout_sampler_refusals_name_the_entry():
    mdp = _chain()
    sampler = data.RolloutSampler(mdp)
    _raises("init must have 1 dimensions, got shape (1, 3)", data.RolloutSampler, mdp, init=[[1.0, 0.0, 0.0]])
    _raises("init has shape (2,), expected (3,)", data.RolloutSampler, mdp, init=[1.0, 0.0])
    _raises("init sums to 1.1, expected 1 (tolerance 1e-10)", data.RolloutSampler, mdp, init=[0.5, 0.6, 0.0])
    _raises("policy[1] is 2, expected a value in 0..1", sampler.sample, np.array([0, 2, 0]), 3, 0)
    _raises("policy has shape (1, 2), expected (S,) or (H, S) actions with S = 3, H = 3",
            sampler.sample, np.array([[0, 1]]), 3, 0)
    _raises("policy[1][1] is 2, expected a value in 0..1",
            sampler.sample, [np.array([0, 0, 0]), np.array([0, 2, 0])], 3, 0, weights=[0.5, 0.5])
    _raises("policy[1] is 5, expected a value in 0..1", sampler.episode, np.array([0, 5, 0]),
            np.random.default_rng(0))
    with pytest.raises(ValueError) as info:
        sampler.sample(POLICY, 2**40, 0)
    assert str(info.value).startswith("the rollouts of shape (n_episodes, n_steps + 1) = (1099511627776, 4) needs "
                                      "4.4e+12 entries (1.06e+14 bytes), more than this machine's ")


# ---------------------------------------------------------------------- trajectory datasets, the lazy coverage record
def test_trajectory_datasets_record_the_discount():
    mdp = _scaled(gamma=0.75)
    d = data.sample_trajectories(mdp, np.array([0, 0, 1]), 2, seed=0, n_steps=3)
    assert (d.gamma, d.horizon, len(d)) == (0.75, None, 6)
    np.testing.assert_array_equal(d.state, [0, 1, 1] * 2)  # s0 -a0-> s1 -a0-> s1, every move to s1
    np.testing.assert_array_equal(d.next_state, [1, 1, 1] * 2)


def test_lazy_coverage_refusals():
    from theory_rl.data.behaviour import LazyCoverage  # the samplers' thunk (not re-exported)

    mdp = _scaled(gamma=0.75)
    message = "LazyCoverage needs exactly one of mu (i.i.d. data) and policy (trajectories)"
    _raises(message, LazyCoverage, mdp)
    _raises(message, LazyCoverage, mdp, mu=np.full((S, A), 1 / 6), policy=np.zeros(S, int))
    _raises("mdp is a str, expected a TabularMDP", LazyCoverage, "mdp", mu=np.full((S, A), 1 / 6))


def test_episode_lengths_and_their_refusals():
    discounted, episodic = _scaled(gamma=0.75), _scaled(horizon=2)
    assert data.RolloutSampler(discounted, n_steps=1).T == 1
    assert data.RolloutSampler(episodic, n_steps=2).T == 2 and data.RolloutSampler(episodic).T == 2
    ro = data.RolloutSampler(discounted, n_steps=1).sample(np.zeros(S, int), 2, seed=0)
    np.testing.assert_array_equal(ro.states, [[0, 1], [0, 1]])
    _raises("n_steps is 0, expected an integer >= 1", data.RolloutSampler, discounted, n_steps=0)
    _raises("n_steps is float (1.5), expected an integer", data.RolloutSampler, discounted, n_steps=1.5)
    _raises("a discounted MDP needs n_steps, the length of each sampled trajectory", data.RolloutSampler, discounted)
    _raises("n_steps is 3; a finite-horizon MDP runs exactly H = 2 steps", data.RolloutSampler, episodic, n_steps=3)
    with pytest.raises(ValueError) as info:
        data.RolloutSampler(discounted, n_steps=2**45)
    assert str(info.value).startswith("one episode of shape (n_steps + 1) = (35184372088833) needs 3.52e+13 entries "
                                      "(8.44e+14 bytes), more than this machine's ")


def test_trajectory_batches_record_meta_and_refuse_huge_tables():
    mdp = _scaled(gamma=0.75)
    policy = np.array([0, 0, 1])
    base = {"generator": "sample_trajectories", "mdp": repr(mdp), "n_episodes": 2, "n_steps": 3,
            "reward_range": [-1.0, 2.0]}
    one = data.sample_trajectories_batch(mdp, policy, 2, 5, None, n_steps=3)
    assert dict(one.meta) == {**base, "seed": {"entropy": "5", "spawn_key": []}}
    assert one.meta["coverage"] == {"C_star": "inf"}  # pi* takes a1 in s0, which this policy never does
    trials = data.sample_trajectories_batch(mdp, policy, 2, 5, 2, n_steps=3)
    for i, d in enumerate(trials):
        assert dict(d.meta) == {**base, "seed": {"entropy": "5", "spawn_key": [i]}}
        assert d.meta["coverage"] == {"C_star": "inf"}
        np.testing.assert_array_equal(d.state, [0, 1, 1] * 2)
    with pytest.raises(ValueError) as info:
        data.sample_trajectories_batch(mdp, policy, 2**40, 5, None, n_steps=3)
    assert str(info.value).startswith("the sampled transitions of shape (n_episodes, n_steps) = (1099511627776, 3) "
                                      "needs 3.3e+12 entries (1.19e+14 bytes), more than this machine's ")
    with pytest.raises(ValueError) as info:
        data.sample_trajectories_batch(mdp, policy, 2**40, 5, 2, n_steps=3)
    assert str(info.value).startswith("the sampled transitions of shape (n_trials, n_episodes, n_steps) = "
                                      "(2, 1099511627776, 3) needs 6.6e+12 entries (2.37e+14 bytes), more than ")


def test_iid_batches_record_meta_and_refuse_huge_tables():
    mdp = _scaled(gamma=0.75)
    mu = np.full((S, A), 1 / 6)
    base = {"generator": "sample_iid", "mdp": repr(mdp), "n": 4, "reward_range": [-1.0, 2.0]}
    for i, d in enumerate(data.sample_iid_batch(mdp, mu, 4, 5, 2)):
        assert dict(d.meta) == {**base, "seed": {"entropy": "5", "spawn_key": [i]}}
        assert d.meta["coverage"] == {"C_star": 4.5}  # max d* / mu with mu = 1/6: d* peaks at 3/4
        np.testing.assert_array_equal(d.next_state, np.ones(4))  # every move to s1
    with pytest.raises(ValueError) as info:
        data.sample_iid_batch(mdp, mu, 2**40, 5, None)
    assert str(info.value).startswith("the sampled tuples of shape (H, n) = (1, 1099511627776) needs 1.1e+12 "
                                      "entries (3.96e+13 bytes), more than this machine's ")
    with pytest.raises(ValueError) as info:
        data.sample_iid_batch(mdp, mu, 2**40, 5, 2)
    assert str(info.value).startswith("the sampled tuples of shape (n_trials, H, n) = (2, 1, 1099511627776) needs "
                                      "2.2e+12 entries (7.92e+13 bytes), more than this machine's ")
