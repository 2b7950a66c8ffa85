"""Issue 14, item 3 (fourth pass): tests written against the mutants of ``theory_rl/algorithms/glow/`` that the first
complete run on the current code (reward ranges, discounted horizons and action masks merged) left alive after
``test_glow_mutation.py`` .. ``test_glow_mutation3.py``: the refusals of problems off GLOW's scale, the
de-duplication of near-equal density ratios, and the optimism's exact empirical mean."""

import re

import numpy as np
import pytest

from theory_rl.algorithms.glow import classes, online
from theory_rl.mdp import TabularMDP


def _mdp(H=2, S=3, A=2, seed=0, **kw):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    return TabularMDP(P, rng.random((H, S, A)) / H, np.full(S, 1 / S), horizon=H, **kw)


def _ranged(H=2, S=3, A=2, seed=0):
    """The same dynamics as ``_mdp``, its rewards stated on [0, 2] (values still in [0, 1 / H])."""
    return _mdp(H, S, A, seed, reward_range=(0.0, 2.0))


def _discounted(H=2, S=3, A=2, seed=0):
    """A discounted finite horizon (gamma 0.9) on ``_mdp``'s model."""
    return _mdp(H, S, A, seed, gamma=0.9)


RANGE_MSG = r"{} assumes rewards in \[0, 1\], but the rewards lie in \[0\.0, 2\.0\]"
DISC_MSG = r"{} assumes an undiscounted finite horizon, but the problem is discounted \(gamma 0\.9\)"


# ---------------------------------------------------------------------------------------------- scale refusals
def test_model_based_classes_refuses_a_model_off_the_unit_scale_by_name():
    """Every model is checked (the second of two here), and the message names ``model_based_classes``: F is the
    undiscounted Q* in [0, H], which a range or a discount would silently change."""
    with pytest.raises(ValueError, match="^" + RANGE_MSG.format("model_based_classes")):
        classes.model_based_classes([_mdp(), _ranged(seed=1)])
    with pytest.raises(ValueError, match="^" + DISC_MSG.format("model_based_classes")):
        classes.model_based_classes([_mdp(), _discounted(seed=1)])
    classes.model_based_classes([_mdp(), _mdp(seed=1)])  # the unit-scale models are accepted


# ---------------------------------------------------------------------------------------------- near-equal ratios
def _near_twins(eps=1e-13):
    """One layer, one state, two actions: the uniform policy and one moved by ``eps`` (ratios 1 +- 2 eps to each
    other: equal to 12 decimals, not to 13)."""
    mdp = TabularMDP(np.full((1, 1, 2, 1), 1.0), np.zeros((1, 1, 2)), np.array([1.0]), horizon=1)
    uniform = np.full((1, 1, 2), 0.5)
    moved = np.array([[[0.5 + eps, 0.5 - eps]]])
    return mdp, uniform, moved


def test_ratio_class_merges_ratios_equal_to_twelve_decimals():
    """Ratios are de-duplicated after rounding to 12 decimals (so round-off never splits a ratio into two
    members): a policy 1e-13 away from another adds no member; one 1e-6 away does."""
    mdp, uniform, moved = _near_twins()
    alone = classes.ratio_class(mdp, [uniform])
    np.testing.assert_array_equal(alone, np.ones((1, 1, 1, 2)))
    np.testing.assert_array_equal(classes.ratio_class(mdp, [uniform, moved]), alone)
    _, _, far = _near_twins(1e-6)
    assert classes.ratio_class(mdp, [uniform, far]).shape[0] == 3


def test_hybrid_ratio_class_merges_ratios_equal_to_twelve_decimals():
    """As for ``ratio_class``: with nu uniform, every ratio of the near-twin policies (to each other, to nu and to
    the mixtures (nu + d) / 2) is 1 to 12 decimals, so the class is the single all-ones weight."""
    mdp, uniform, moved = _near_twins()
    nu = np.full((1, 1, 2), 0.5)
    alone = classes.hybrid_ratio_class(mdp, [uniform], nu)
    np.testing.assert_array_equal(alone, np.ones((1, 1, 1, 2)))
    np.testing.assert_array_equal(classes.hybrid_ratio_class(mdp, [uniform, moved], nu), alone)


# ---------------------------------------------------------------------------------------------- optimism
def test_optimism_takes_the_exact_empirical_mean_a_one_ulp_larger_value_wins():
    """Round 2's choice is ``argmax_{f in F_2}`` of the empirical mean of ``max_a f_1(x_1, a)`` over the layer-1
    states seen (lowest index on ties). All K = 3 episodes start in state 0, so the means are ``f_1(0, 0)`` exactly:
    member 1, one ulp above member 0, must win. (Its value times 9 rounds to member 0's: a mean computed with any
    other positive factor than ``1 / 3`` per episode can tie the two and pick member 0.) W = 0 keeps every member
    in F_2 (violations 0 <= beta_2)."""
    xs = np.linspace(0.55, 0.95, 4001)
    x = next(v for v in xs if 9.0 * v == 9.0 * np.nextafter(v, 2.0))  # fl(9 x) = fl(9 y): a tie under scaling
    y = np.nextafter(x, 2.0)
    F = np.zeros((2, 1, 2, 2))
    F[0, 0, 0, 0], F[1, 0, 0, 0] = x, y
    fc = classes.finite_classes(F, np.zeros((1, 1, 2, 2)))
    mdp = TabularMDP(np.full((1, 2, 2, 2), 0.5), np.zeros((1, 2, 2)), np.array([1.0, 0.0]), horizon=1)
    res = online.glow(mdp, fc, 2, seed=0, K=3, beta_scale=1.0, diagnostics=False)
    np.testing.assert_array_equal(res.chosen, [0, 1])
    np.testing.assert_array_equal(res.set_size, [2, 2])


def test_criteria_refuse_a_record_off_the_unit_scale_by_name():
    """``as_counts`` (every criterion's first step) refuses a record whose meta states a reward range other than
    [0, 1] or a discount, naming "GLOW's statistics"; a unit-scale record of the same model passes unchanged."""
    from theory_rl.algorithms.glow import statistics
    from theory_rl.data import sample_iid_counts

    mu = np.full((2, 3, 2), 1 / 6)
    ranged = sample_iid_counts(_mdp(reward_range=(0.0, 2.0), reward_noise="deterministic"), mu, 20, seed=0)
    disc = sample_iid_counts(_discounted(), mu, 20, seed=0)
    fc = classes.model_based_classes([_mdp()])
    for call in (statistics.as_counts, lambda s: statistics.glow_violations(fc.F, fc.W, s, 1.0, 0.0)):
        with pytest.raises(ValueError, match="^" + RANGE_MSG.format("GLOW's statistics")):
            call(ranged)
        with pytest.raises(ValueError, match="^" + DISC_MSG.format("GLOW's statistics")):
            call(disc)
    unit = sample_iid_counts(_mdp(), mu, 20, seed=0)
    assert statistics.as_counts(unit) is unit


def test_decoy_classes_refuses_a_model_off_the_unit_scale_by_name():
    """``decoy_classes`` builds undiscounted Q* in [0, H] from the model: a range or a discount is refused, naming
    ``decoy_classes``."""
    targets = np.zeros((1, 2, 3, 2), bool)
    with pytest.raises(ValueError, match="^" + RANGE_MSG.format("decoy_classes")):
        classes.decoy_classes(_ranged(), targets, 0.5)
    with pytest.raises(ValueError, match="^" + DISC_MSG.format("decoy_classes")):
        classes.decoy_classes(_discounted(), targets, 0.5)


def test_glow_h2o_and_offline_only_refuse_masked_or_off_scale_problems_by_name():
    """``check_problem`` (the first step of ``glow``, ``h2o``, ``offline_only`` and ``ClassEvaluator``) refuses an
    MDP with infeasible actions (the classes' greedy policies range over all actions) and one off the unit scale
    (GLOW's constants assume [0, 1] rewards, no discount), each with a message naming the algorithms."""
    from theory_rl.algorithms.glow import hybrid

    fc = classes.model_based_classes([_mdp()])
    nu = np.full((2, 3, 2), 1 / 6)
    masked = _mdp(feasible=np.array([[True, False], [True, True], [True, True]]))
    mask_msg = "glow / h2o / offline_only does not support infeasible actions (this mdp has a feasible mask)"
    calls = {
        "glow": lambda m: online.glow(m, fc, 2, seed=0),
        "h2o": lambda m: hybrid.h2o(m, fc, nu, 2, seed=0),
        "offline_only": lambda m: hybrid.offline_only(m, fc, nu, 2, seed=0),
        "check_problem": lambda m: online.check_problem(m, fc),
    }
    for call in calls.values():
        with pytest.raises(ValueError, match="^" + re.escape(mask_msg)):
            call(masked)
        with pytest.raises(ValueError, match="^" + RANGE_MSG.format(re.escape("GLOW (theory_rl.algorithms.glow)"))):
            call(_ranged())
        with pytest.raises(ValueError, match="^" + DISC_MSG.format(re.escape("GLOW (theory_rl.algorithms.glow)"))):
            call(_discounted())
    online.check_problem(_mdp(), fc)  # the unit-scale, unmasked model passes


# ---------------------------------------------------------------------------------------------- empirical means
def _moments_by_hand(F, W, counts, trans, rsum, clip):
    """D[f, w, h] = (1 / N_h) sum_{x,a} min(w, clip) (n f - R - sum_x' C V_{f,h+1}), Q[w, h] = (1 / N_h) sum n
    min(w, clip)^2, both 0 at a layer with N_h = 0: loops over the entries."""
    nF, H, S, A = F.shape
    nW = W.shape[0]
    D, Q = np.zeros((nF, nW, H)), np.zeros((nW, H))
    for h in range(H):
        N = counts[h].sum()
        if N == 0:
            continue
        for j in range(nW):
            for x in range(S):
                for a in range(A):
                    w = min(W[j, h, x, a], clip)
                    Q[j, h] += counts[h, x, a] * w * w / N
                    for i in range(nF):
                        nxt = sum(trans[h, x, a, y] * F[i, h + 1, y].max() for y in range(S)) if h + 1 < H else 0.0
                        D[i, j, h] += w * (counts[h, x, a] * F[i, h, x, a] - rsum[h, x, a] - nxt) / N
    return D, Q


def test_weighted_moments_divide_by_fractional_layer_sizes_and_ignore_empty_layers():
    """A record of weighted (fractional) counts: layer 0 holds 0.5 samples in all, so its means are sums times 2;
    layer 1 holds none, so its moments are 0 whatever its reward sums hold (the empirical mean of an empty
    sample), not the sums themselves."""
    from theory_rl.algorithms.glow import statistics
    from theory_rl.data import CountDataset

    H, S, A = 2, 2, 2
    counts = np.zeros((H, S, A))
    counts[0, 0, 1], counts[0, 1, 0] = 0.375, 0.125
    trans = np.zeros((H, S, A, S))
    trans[0, 0, 1] = [0.125, 0.25]
    trans[0, 1, 0] = [0.125, 0.0]
    rsum = np.zeros((H, S, A))
    rsum[0, 0, 1], rsum[0, 1, 0] = 0.25, 0.0625
    rsum[1, 1, 1] = 0.5  # reward sums at a layer without samples
    data = CountDataset(counts, trans, rsum, S, A, horizon=H)
    rng = np.random.default_rng(3)
    F, W = rng.random((3, H, S, A)), 2.0 * rng.random((2, H, S, A))
    D, Q = statistics.weighted_moments(F, W, data, 1.5)
    D_ref, Q_ref = _moments_by_hand(F, W, counts, trans, rsum, 1.5)
    np.testing.assert_allclose(D, D_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Q, Q_ref, rtol=1e-12, atol=1e-15)
    assert np.all(D[:, :, 1] == 0.0) and np.all(Q[:, 1] == 0.0)
    assert np.abs(D[:, :, 0]).max() > 0.1


def test_finite_classes_names_the_dimensions_of_a_value_class_without_four():
    """A value class must be ``(|F|, H, S, A)``: a scalar or an empty vector is refused at once by its number of
    dimensions, never by a numpy error from the greedy actions computed on it."""
    W = np.ones((1, 1, 2, 2))
    for F in (np.float64(1.0), np.zeros(0), np.zeros((2, 2))):
        msg = f"F must have 4 dimensions, got shape {F.shape}"
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            classes.finite_classes(F, W)
