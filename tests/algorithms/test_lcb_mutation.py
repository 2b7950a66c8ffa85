"""Issue 14, item 3: tests written against the mutants of ``theory_rl/algorithms/lcb.py`` that the suite let live
(``python -m benchmarks.mutation --module lcb``). Each pins a behaviour the docstrings state: the result record's
fields and dtypes, the unseen-pair rule of VI-LCB's sweeps, the strict monotone update, the deprecation message."""

import math

import numpy as np
import pytest

from theory_rl.algorithms import lcb
from theory_rl.data import CountDataset


def _counts_data(N, next_state, rewards, gamma=0.9, horizon=None):
    """A CountDataset with deterministic transitions ``s, a -> next_state[s, a]`` and reward sums ``N * rewards``."""
    N = np.asarray(N)  # integer counts stay integers (a CountDataset accepts both)
    S = N.shape[-2]
    C = np.zeros(N.shape + (S,), dtype=N.dtype)
    idx = np.indices(N.shape)
    C[(*idx, np.asarray(next_state))] = N
    kind = {"horizon": horizon} if horizon is not None else {"gamma": gamma}
    return CountDataset(N, C, N * np.asarray(rewards, dtype=float), S, N.shape[-1], **kind)


# ---------------------------------------------------------------------- most_played's record
def test_most_played_record_fields_and_dtypes():
    N = np.array([[3, 5], [0, 0], [2, 1]])
    data = _counts_data(N, np.zeros((3, 2), int), np.zeros((3, 2)), gamma=0.5)
    res = lcb.most_played(data)
    assert data.counts.dtype.kind == "i"
    np.testing.assert_array_equal(res.policy, [1, 0, 0])
    # V is zeros of shape (S,), Q the counts as float64, penalty zeros as float64 (float64 everywhere)
    assert res.V.shape == (3,) and not res.V.any()
    assert res.Q.dtype == np.float64 and np.array_equal(res.Q, N)
    assert res.penalty.dtype == np.float64 and res.penalty.shape == (3, 2) and not res.penalty.any()
    # episodic counts: one row of V per step
    Nh = np.stack([N, N[::-1]])
    ep = lcb.most_played(_counts_data(Nh, np.zeros((2, 3, 2), int), np.zeros((2, 3, 2)), horizon=2))
    assert ep.V.shape == (2, 3) and ep.policy.shape == (2, 3)


def test_behaviour_cloning_warning_text():
    data = _counts_data([[1.0, 2.0]], [[0, 0]], [[0.0, 0.0]])
    with pytest.warns(DeprecationWarning) as record:
        lcb.behaviour_cloning(data)
    assert str(record[0].message) == "behaviour_cloning is deprecated; use most_played"  # the whole text
    # stacklevel > 1: the warning points outside lcb.py (at the caller; under mutmut, at its trampoline)
    assert record[0].filename != lcb.__file__


# ---------------------------------------------------------------------- VI-LCB's sweeps
def test_vi_lcb_keeps_pi0_where_no_action_strictly_improves():
    """Alg. 3's monotone update switches only if max_a Q_t(s, a) > V_{t-1}(s), strictly. State 0: both actions seen,
    reward 0, to the absorbing zero-reward state 1; pi_0(0) = 1 (the most played). Without a penalty Q_t(0, .) = 0 =
    V_{t-1}(0), so the policy stays 1; with ">=" it would switch to the argmax's tie-break, action 0."""
    data = _counts_data([[1.0, 5.0], [3.0, 3.0]], [[1, 1], [1, 1]], [[0.0, 0.0], [0.0, 0.0]], gamma=0.5)
    for scale in (0.0, 1.0):
        res = lcb.vi_lcb(data, split=False, penalty_scale=scale)
        np.testing.assert_array_equal(res.policy, [1, 0])
        np.testing.assert_array_equal(res.V, [0.0, 0.0])


def test_vi_lcb_unseen_pairs_have_reward_zero_and_q_at_most_zero():
    """Unseen pairs: r = 0, uniform P_hat and Q_t <= 0 (vi_lcb's docstring). Two states, state 0's action 1 unseen,
    every seen reward 1 (deterministic). With a tiny penalty the seen values are close to 1/(1-gamma) = 2, the
    unseen pair's unclipped Q_t = -b + gamma (V(0) + V(1)) / 2 > 0 is clipped to 0, and the policy never picks it."""
    gamma, scale = 0.5, 1e-3
    data = _counts_data([[10.0, 0.0], [10.0, 10.0]], [[1, 0], [1, 0]], [[1.0, 0.0], [1.0, 1.0]], gamma=gamma)
    res = lcb.vi_lcb(data, split=False, penalty_scale=scale, iterations=60)
    assert res.Q[0, 1] == 0.0 and res.policy[0] == 0
    # with the paper's penalty the unseen pair's Q_t is its (negative) unclipped value: -b + gamma mean(V)
    n = 30  # three seen pairs, ten samples each; delta = 1/n
    L = 2000.0 * math.log(2 * 2 * 2 * n)
    res = lcb.vi_lcb(data, split=False, iterations=3)
    b_unseen = math.sqrt(L) / (1 - gamma)
    assert res.Q[0, 1] == pytest.approx(-b_unseen + gamma * res.V.mean(), rel=1e-12)  # r = 0, uniform P_hat


def test_empirical_best_refuses_finite_horizon_data():
    Nh = np.ones((2, 3, 2))
    with pytest.raises(ValueError, match="needs discounted or bandit data; got data with horizon=2"):
        lcb.empirical_best(_counts_data(Nh, np.zeros((2, 3, 2), int), np.zeros((2, 3, 2)), horizon=2))


def test_empirical_best_record_fields():
    """Greedy on r_hat: V = max_a r_hat(s, a) per state, Q = r_hat (unseen pairs 0), zero penalty, its method."""
    data = _counts_data([[2.0, 4.0, 0.0], [0.0, 0.0, 0.0]], [[0, 0, 0], [1, 1, 1]], [[0.5, 0.25, 0.0], [0, 0, 0]])
    res = lcb.empirical_best(data)
    np.testing.assert_array_equal(res.policy, [0, 0])
    np.testing.assert_array_equal(res.V, [0.5, 0.0])
    np.testing.assert_array_equal(res.Q, [[0.5, 0.25, 0.0], [0.0, 0.0, 0.0]])
    assert res.penalty.shape == (2, 3) and not res.penalty.any() and res.method == "empirical_best"


# ---------------------------------------------------------------------- empirical_vi
def _vi_oracle(P, r, gamma, sweeps=2000):
    """Plain value iteration written out here: V = max_a r + gamma P V (to round-off)."""
    V = np.zeros(P.shape[0])
    for _ in range(sweeps):
        V = (r + gamma * P @ V).max(axis=1)
    return V, r + gamma * P @ V


def test_empirical_vi_record_unseen_pairs_and_reward_clip():
    """Certainty equivalence on (P_hat, r_hat): unseen pairs r_hat = 0 and a uniform P_hat; r_hat clipped to [0, 1]
    (reward sums of noisy rewards may leave it: -0.5 and 1.5 here)."""
    gamma = 0.5
    # state 0: action 0 seen (mean -0.5 -> 0), action 1 unseen; state 1: action 0 mean 1.5 (-> 1), action 1 mean 0.2
    N = np.array([[2.0, 0.0], [2.0, 5.0]])
    data = CountDataset(N, np.array([[[0, 2], [0, 0]], [[1, 1], [5, 0]]], float), np.array([[-1.0, 0], [3.0, 1.0]]),
                        2, 2, gamma=gamma)
    P = np.array([[[0, 1], [0.5, 0.5]], [[0.5, 0.5], [1, 0]]])
    r = np.array([[0.0, 0.0], [1.0, 0.2]])
    V, Q = _vi_oracle(P, r, gamma)
    res = lcb.empirical_vi(data)
    np.testing.assert_allclose(res.V, V, atol=1e-12)
    np.testing.assert_allclose(res.Q, Q, atol=1e-12)
    np.testing.assert_array_equal(res.policy, np.argmax(Q, axis=1))
    assert res.penalty.shape == (2, 2) and not res.penalty.any() and res.method == "empirical_vi"


def test_empirical_vi_reads_duck_typed_data_without_a_horizon_attribute():
    """The module docstring's data contract: counts, ..., gamma / horizon, empirical_model. A discounted record that
    has no ``horizon`` attribute at all is discounted data."""
    base = _counts_data([[3.0, 1.0], [2.0, 2.0]], [[1, 0], [0, 1]], [[0.5, 1.0], [0.0, 0.25]], gamma=0.6)

    class Minimal:  # only what the docstring lists
        counts, transition_counts, reward_sums = base.counts, base.transition_counts, base.reward_sums
        S, A, gamma = 2, 2, 0.6
        empirical_model = staticmethod(base.empirical_model)

    np.testing.assert_allclose(lcb.empirical_vi(Minimal()).V, lcb.empirical_vi(base).V, rtol=1e-14)


# ---------------------------------------------------------------------- lcb_contextual
def test_lcb_contextual_record_by_hand():
    """Alg. 2: b(s, a) = sqrt(constant log(2 S A / delta) / N(s, a)), delta = 1/N by default; unseen pairs get the
    once-seen width (or 1); V = max_a (r_hat - b), Q = r_hat - b, constants record delta, scale and constant."""
    N = np.array([[4.0, 1.0, 0.0], [2.0, 2.0, 9.0]])
    r = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1 / 3]])
    data = _counts_data(N, np.zeros((2, 3), int), r)
    n = 18
    for kwargs, delta, scale, constant in (({}, 1 / n, 1.0, 2000.0),
                                           ({"delta": 0.05, "penalty_scale": 0.1, "constant": 0.5}, 0.05, 0.1, 0.5)):
        L = constant * math.log(2 * 2 * 3 / delta)
        b = scale * np.where(N > 0, np.sqrt(L / np.maximum(N, 1)), max(math.sqrt(L), 1.0))
        res = lcb.lcb_contextual(data, **kwargs)
        np.testing.assert_allclose(res.penalty, b, rtol=1e-14)
        np.testing.assert_allclose(res.Q, r - b, rtol=1e-14)
        np.testing.assert_allclose(res.V, (r - b).max(axis=1), rtol=1e-14)
        np.testing.assert_array_equal(res.policy, np.argmax(r - b, axis=1))
        assert res.method == "lcb_contextual"
        assert res.constants == {"delta": pytest.approx(delta, rel=1e-15), "scale": scale, "constant": constant}
    with pytest.raises(ValueError, match="needs discounted or bandit data; got data with horizon=2"):
        lcb.lcb_contextual(_counts_data(np.ones((2, 2, 3)), np.zeros((2, 2, 3), int), np.zeros((2, 2, 3)), horizon=2))


# ---------------------------------------------------------------------- vi_lcb_episodic
def test_vi_lcb_episodic_record_by_hand():
    """Alg. 4 with H = 2, S = 2, A = 2, by hand: b_h = scale H sqrt(L / max(N_h, 1)), L = constant log(2 S A /
    delta), delta = 1/N by default; unseen pairs r = 0 and a uniform P_hat; Q_h = r - b + P V_{h+1}, V_h = max(max_a
    Q_h, 0); the last step's Q is r - b (V_{H} = 0)."""
    H = 2
    N = np.array([[[3, 0], [1, 2]], [[2, 2], [0, 4]]])
    nxt = np.array([[[1, 0], [0, 1]], [[0, 1], [0, 0]]])
    r = np.array([[[1.0, 0.0], [0.0, 0.5]], [[0.5, 1.0], [0.0, 0.25]]])
    data = _counts_data(N, nxt, r, horizon=H)
    n = int(N.sum())
    P = np.zeros((H, 2, 2, 2))
    P[(*np.indices(N.shape), nxt)] = 1.0
    P[N == 0] = 0.5
    for kwargs, delta, scale, constant in (({}, 1 / n, 1.0, 2000.0),
                                           ({"delta": 0.1, "penalty_scale": 0.02, "constant": 0.5}, 0.1, 0.02, 0.5)):
        L = constant * math.log(2 * 2 * 2 / delta)
        b = scale * H * np.sqrt(L / np.maximum(N, 1))
        Q1 = r[1] - b[1]
        V1 = np.maximum(Q1.max(axis=1), 0.0)
        Q0 = r[0] - b[0] + P[0] @ V1
        res = lcb.vi_lcb_episodic(data, **kwargs)
        np.testing.assert_allclose(res.penalty, b, rtol=1e-14)
        np.testing.assert_allclose(res.Q, [Q0, Q1], rtol=1e-13)
        np.testing.assert_allclose(res.V, [np.maximum(Q0.max(axis=1), 0.0), V1], rtol=1e-13)
        np.testing.assert_array_equal(res.policy, np.argmax([Q0, Q1], axis=-1))
        assert res.method == "vi_lcb_episodic" and res.V.shape == (H, 2)
        assert res.constants == {"delta": pytest.approx(delta, rel=1e-15), "L": pytest.approx(L, rel=1e-15),
                                 "scale": scale}
    # the scaled run has V_1 > 0 somewhere, so the backup P_hat V_{h+1} enters Q_0 (at the paper's constants V = 0)
    assert (lcb.vi_lcb_episodic(data, delta=0.1, penalty_scale=0.02, constant=0.5).V[1] > 0).any()


# ---------------------------------------------------------------------- bernstein_vi_lcb
def _bern_oracle(N, var, l_term, c_b, vmax, form):
    """Li et al.'s width written out: eq. (28) ("max") or (55) ("sum"), capped at vmax; unseen pairs get vmax."""
    safe = np.maximum(N, 1)
    first = np.sqrt(c_b * l_term * var / safe)
    second = (2 if form == "max" else 1) * c_b * l_term * vmax / safe
    width = np.maximum(first, second) if form == "max" else first + second
    return np.where(N > 0, np.minimum(width, vmax), vmax)


def test_bernstein_vi_lcb_episodic_record_by_hand():
    """Finite horizon (their Alg. 2), H = 2, by hand: c_b = 16 by default, l = log(N H / delta), delta = 1/N by
    default, value_bound H by default (or the one passed), unseen pairs r = 0 and a uniform P_hat."""
    H = 2
    N = np.array([[[30, 0], [10, 20]], [[20, 20], [0, 40]]])
    nxt = np.array([[[1, 0], [0, 1]], [[0, 1], [0, 0]]])
    r = np.array([[[1.0, 0.0], [0.0, 0.5]], [[0.5, 1.0], [0.0, 0.25]]])
    data = _counts_data(N, nxt, r, horizon=H)
    n = int(N.sum())
    P = np.zeros((H, 2, 2, 2))
    P[(*np.indices(N.shape), nxt)] = 1.0
    P[N == 0] = 0.5
    cases = (({}, 1 / n, 16.0, float(H)),
             ({"delta": 0.1, "c_b": 0.01, "value_bound": 1.5}, 0.1, 0.01, 1.5),
             ({"c_b": 0.01, "penalty_scale": 0.5}, 1 / n, 0.01, float(H)))
    for kwargs, delta, c_b, vmax in cases:
        scale = kwargs.get("penalty_scale", 1.0)
        l_term = math.log(n * H / delta)
        b1 = scale * _bern_oracle(N[1], np.zeros((2, 2)), l_term, c_b, vmax, "sum")
        Q1 = np.maximum(r[1] - b1, 0.0)
        V1 = Q1.max(axis=1)
        var0 = P[0] @ V1**2 - (P[0] @ V1) ** 2
        b0 = scale * _bern_oracle(N[0], np.maximum(var0, 0), l_term, c_b, vmax, "sum")
        Q0 = np.maximum(r[0] + P[0] @ V1 - b0, 0.0)
        res = lcb.bernstein_vi_lcb(data, **kwargs)
        np.testing.assert_allclose(res.penalty, [b0, b1], rtol=1e-13)
        np.testing.assert_allclose(res.Q, [Q0, Q1], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(res.V, [Q0.max(axis=1), V1], rtol=1e-13, atol=1e-15)
        assert res.method == "bernstein_vi_lcb"
        assert res.constants == {"delta": pytest.approx(delta, rel=1e-15), "c_b": c_b, "scale": scale,
                                 "second_order": "sum", "log_term": pytest.approx(l_term, rel=1e-15),
                                 "value_bound": vmax}
    assert (lcb.bernstein_vi_lcb(data, c_b=0.01).V[0] > 0).any()  # the backup of V_1 matters at step 0


def test_bernstein_vi_lcb_discounted_record_and_defaults():
    """Discounted (their Alg. 1): c_b = 144 by default (16 is the finite-horizon one), l = log(N / ((1 - gamma)
    delta)), value bound 1/(1 - gamma); the values are the fixed point of the oracle's operator with the 5/N term."""
    gamma = 0.5
    N = np.array([[40, 0], [30, 50]])
    data = _counts_data(N, [[1, 0], [0, 1]], [[1.0, 0.0], [0.5, 0.75]], gamma=gamma)
    n = int(N.sum())
    P = np.array([[[0, 1], [0.5, 0.5]], [[1, 0], [0, 1]]], float)
    r = np.array([[1.0, 0.0], [0.5, 0.75]])
    for kwargs, delta, c_b, vmax in (({}, 1 / n, 144.0, 2.0), ({"delta": 0.2, "c_b": 0.01, "value_bound": 1.0},
                                                              0.2, 0.01, 1.0)):
        res = lcb.bernstein_vi_lcb(data, tol=1e-14, **kwargs)
        l_term = math.log(n / ((1 - gamma) * delta))
        V = res.V
        var = np.maximum(P @ V**2 - (P @ V) ** 2, 0)
        b = _bern_oracle(N, var, l_term, c_b, vmax, "max") + 5 / n
        np.testing.assert_allclose(res.penalty, b, rtol=1e-12)
        np.testing.assert_allclose(np.maximum(r + gamma * P @ V - b, 0), res.Q, atol=1e-12)
        np.testing.assert_allclose(res.Q.max(axis=1), V, atol=1e-12)
        c = res.constants
        assert (c["delta"], c["c_b"], c["scale"], c["value_bound"], c["second_order"], c["converged"]) == (
            pytest.approx(delta, rel=1e-15), c_b, 1.0, vmax, "max", True)
        assert c["log_term"] == pytest.approx(l_term, rel=1e-15)
    assert (lcb.bernstein_vi_lcb(data, c_b=0.01, value_bound=1.0).V > 0).all()  # the penalty does not zero V


def test_bernstein_vi_lcb_iteration_count_and_stopping_rule_by_hand():
    """gamma = 0 and deterministic transitions (Var = 0 everywhere): sweep 1 gives V_1 = max_a max(r - b, 0) and
    sweep 2 the same, so the loop stops at k = 2 with the rule max |V_{k+1} - V_k| < tol. With tol equal to the first
    change max V_1 exactly, the strict rule does not stop at k = 1 either."""
    data = _counts_data([[40, 10], [30, 50]], [[1, 0], [0, 1]], [[1.0, 0.0], [0.5, 0.75]], gamma=0.0)
    res = lcb.bernstein_vi_lcb(data, c_b=0.01)
    assert res.constants["iterations"] == 2 and res.constants["converged"] is True
    assert res.method == "bernstein_vi_lcb" and res.V.max() > 0
    exact = lcb.bernstein_vi_lcb(data, c_b=0.01, tol=float(res.V.max()))
    assert exact.constants["iterations"] == 2
    with pytest.warns(Warning, match=r"did not converge in 1 iterations \(last change 9\.\d\de-01, tol 1e-10\)"):
        lcb.bernstein_vi_lcb(data, c_b=0.01, max_iter=1, on_max_iter="warn")


def test_known_rewards_replace_the_empirical_ones_and_are_checked():
    """known_rewards in [0, 1] (any value there, 0.5 included) are used instead of r_hat; a wrong shape is refused
    with a message giving both accepted shapes, (S, A) or (H, S, A)."""
    data = _counts_data([[40, 10], [30, 50]], [[1, 0], [0, 1]], [[1.0, 0.0], [0.5, 0.75]], gamma=0.5)
    R = np.array([[0.5, 0.25], [0.0, 1.0]])
    same = _counts_data([[40, 10], [30, 50]], [[1, 0], [0, 1]], R, gamma=0.5)
    np.testing.assert_allclose(lcb.bernstein_vi_lcb(data, c_b=0.01, known_rewards=R).V,
                               lcb.bernstein_vi_lcb(same, c_b=0.01).V, rtol=1e-14)
    np.testing.assert_allclose(lcb.empirical_vi(data, known_rewards=R).V, lcb.empirical_vi(same).V, rtol=1e-14)
    ep = _counts_data(np.ones((3, 2, 2), int), np.zeros((3, 2, 2), int), np.zeros((3, 2, 2)), horizon=3)
    with pytest.raises(ValueError, match=r"^known_rewards has shape \(3,\), expected \(2, 2\) or \(3, 2, 2\)$"):
        lcb.bernstein_vi_lcb(ep, known_rewards=np.full(3, 0.5))


# ---------------------------------------------------------------------- vi_lcb's constants
def test_vi_lcb_constants_iterations_and_the_size_guard():
    """T = max(1, ceil(log max(N, 2) / (1 - gamma))): with N = 2 samples and gamma = 0, T = ceil(log 2) = 1.
    L = constant log(2 S A / delta) without split, with the delta passed; an absurd ``iterations`` is refused at
    once, naming the folds' counts table."""
    data = _counts_data([[1, 0], [1, 0]], [[0, 0], [0, 0]], [[1.0, 0.0], [0.0, 0.0]], gamma=0.0)
    res = lcb.vi_lcb(data, split=False)
    assert res.constants["iterations"] == 1 and res.method == "vi_lcb_nosplit"
    res = lcb.vi_lcb(data, split=False, delta=0.25, constant=0.5, penalty_scale=0.5)
    assert res.constants == {"delta": 0.25, "L": pytest.approx(0.5 * math.log(2 * 2 * 2 / 0.25), rel=1e-15),
                             "iterations": 1, "split": False, "scale": 0.5}
    big = 10**15
    message = (rf"^the folds' counts of shape \(iterations \+ 1, S, A, S\) = \({big + 1}, 2, 2, 2\) needs "
               r"8e\+15 entries")
    with pytest.raises(ValueError, match=message):
        lcb.vi_lcb(data, split=False, iterations=big)


def test_vi_lcb_split_pi0_is_the_most_played_action_on_fold_0_and_messages():
    """At the paper's constants the penalty exceeds every value, so no iteration improves on V_0 = 0 and the policy
    is pi_0, the most played action on fold 0 of the random split (T + 1 folds, the split's own seed)."""
    from theory_rl._random import as_generator
    from theory_rl.data import sample_iid
    from theory_rl.generators import garnet

    mdp = garnet(5, 3, 2, gamma=0.5, seed=2)
    data = sample_iid(mdp, np.full((5, 3), 1 / 15), 60, seed=2)
    res = lcb.vi_lcb(data, split=True, seed=7)
    T = res.constants["iterations"]
    folds = data.split(T + 1, seed=as_generator(7))
    pi0 = np.argmax(np.asarray(folds[0].counts), axis=1)
    assert not res.V.any() and res.method == "vi_lcb" and res.constants["split"] is True
    np.testing.assert_array_equal(res.policy, pi0)
    assert not np.array_equal(pi0, np.argmax(np.asarray(folds[1].counts), axis=1))  # fold 1 would differ
    with pytest.raises(ValueError, match=r"^vi_lcb with split=True needs a seed for the random split$"):
        lcb.vi_lcb(data, split=True)
    with pytest.raises(ValueError, match=r"^vi_lcb with split=True needs sample-level data \(an OfflineDataset\); "
                                         r"pass split=False$"):
        lcb.vi_lcb(data.to_counts(), split=True, seed=0)


def test_discounted_algorithms_refuse_data_without_a_discount_factor():
    base = _counts_data([[3, 1], [2, 2]], [[1, 0], [0, 1]], [[0.5, 1.0], [0.0, 0.25]], gamma=0.6)

    class NoGamma:  # discounted-looking data that carries no gamma attribute at all
        counts, transition_counts, reward_sums = base.counts, base.transition_counts, base.reward_sums
        S, A = 2, 2
        empirical_model = staticmethod(base.empirical_model)

    message = r"^data carries no discount factor gamma; build it from a discounted MDP$"
    for algo in (lambda d: lcb.vi_lcb(d, split=False), lcb.bernstein_vi_lcb, lcb.empirical_vi):
        with pytest.raises(ValueError, match=message):
            algo(NoGamma())
    # no horizon attribute either: not finite-horizon data, and the message says so
    with pytest.raises(ValueError, match=r"finite-horizon \(counts per step h\) data; got data with horizon=None$"):
        lcb.vi_lcb_episodic(NoGamma())


# ---------------------------------------------------------------------- lcb_bandit
def test_lcb_bandit_record_by_hand():
    """Alg. 1: b(a) = scale sqrt(log(2 A / delta) / (2 N(a))), delta = 1/N by default; V = max_a (r_hat - b),
    Q = r_hat - b (the scores), penalty = b; the delta passed reaches both the scores and the constants."""
    N = np.array([[4, 1, 9]])
    r = np.array([[0.5, 1.0, 1 / 3]])
    data = _counts_data(N, np.zeros((1, 3), int), r, gamma=0.0)
    for kwargs, delta, scale in (({}, 1 / 14, 1.0), ({"delta": 0.3, "penalty_scale": 0.25}, 0.3, 0.25)):
        b = scale * np.sqrt(math.log(2 * 3 / delta) / (2 * N))
        res = lcb.lcb_bandit(data, **kwargs)
        np.testing.assert_allclose(res.penalty, b, rtol=1e-13)
        np.testing.assert_allclose(res.Q, r - b, rtol=1e-13)
        np.testing.assert_allclose(res.V, [(r - b).max()], rtol=1e-13)
        assert res.V.shape == (1,) and res.policy.tolist() == [int(np.argmax(r - b))] and res.method == "lcb_bandit"
        assert res.constants == {"delta": pytest.approx(delta, rel=1e-15), "scale": scale}
    # delta = 1/N: with one sample, delta = 1 and b = sqrt(log(2 A) / 2)
    one = lcb.lcb_bandit(_counts_data([[1, 0, 0]], np.zeros((1, 3), int), [[1.0, 0.0, 0.0]], gamma=0.0))
    assert one.constants["delta"] == 1.0 and one.penalty[0, 0] == pytest.approx(math.sqrt(math.log(6) / 2), rel=1e-15)
    with pytest.raises(ValueError, match="needs discounted or bandit data; got data with horizon=2"):
        lcb.lcb_bandit(_counts_data(np.ones((2, 1, 3), int), np.zeros((2, 1, 3), int), np.zeros((2, 1, 3)), horizon=2))
