"""Mutation-killing tests for theory_rl.algorithms.glow (issue 14 item 3): the validation branches of
FiniteClasses / _check_models, each asserting the full error message (anchored) and the accepted boundary."""
import re

import numpy as np
import pytest

from theory_rl.algorithms.glow.classes import FiniteClasses, trusted_greedy_actions


def _full(msg):
    return "^" + re.escape(msg) + "$"


@pytest.fixture
def parts():
    F = np.zeros((2, 1, 2, 2))
    F[1, 0, 0, 1] = 1.0
    W = np.ones((1, 1, 2, 2))
    pol = trusted_greedy_actions(F)
    P = np.full((1, 2, 2, 2), 0.5)
    R = np.zeros((1, 2, 2))
    init = np.array([0.5, 0.5])
    return F, W, pol, (P, R, init)


def test_finite_classes_dimension_and_emptiness_messages(parts):
    F, W, pol, _ = parts
    with pytest.raises(ValueError, match=_full("F must have 4 dimensions, got shape (1, 2, 2)")):
        FiniteClasses(F[0], W, pol)
    with pytest.raises(ValueError, match=_full("W must have 4 dimensions, got shape (1, 2, 2)")):
        FiniteClasses(F, W[0], pol)
    with pytest.raises(ValueError, match=_full("F has 0 and W 1 members; both classes must be non-empty")):
        FiniteClasses(F[:0], W, pol[:0])
    with pytest.raises(ValueError, match=_full("F has 2 and W 0 members; both classes must be non-empty")):
        FiniteClasses(F, W[:0], pol)
    msg = "F members have shape (1, 2, 2) but W members (2, 2, 2); expected equal (H, S, A)"
    with pytest.raises(ValueError, match=_full(msg)):
        FiniteClasses(F, np.ones((2, 2, 2, 2)), pol)
    msg = "F members have shape (1, 2, 2) but W members (1, 2, 3); expected equal (H, S, A)"
    with pytest.raises(ValueError, match=_full(msg)):
        FiniteClasses(F, np.ones((1, 1, 2, 3)), pol)


def test_finite_classes_policy_messages(parts):
    F, W, pol, _ = parts
    with pytest.raises(ValueError, match=_full("policies[0, 0, 0] is 2, expected a value in 0..1")):
        FiniteClasses(F, W, pol + 2)
    with pytest.raises(ValueError, match=_full("policies must have 3 dimension(s), got shape (1, 2)")):
        FiniteClasses(F, W, pol[0])
    with pytest.raises(ValueError, match=_full("policies has shape (1, 1, 2), expected (2, 1, 2)")):
        FiniteClasses(F, W, pol[:1])
    msg = "policies are not the greedy actions of F (lowest index on ties, greedy_actions(F))"
    with pytest.raises(ValueError, match=_full(msg)):
        FiniteClasses(F, W, 1 - pol)


def test_finite_classes_stores_readonly_copies(parts):
    F, W, pol, model = parts
    c = FiniteClasses(F.astype(int).tolist(), W.astype(int).tolist(), pol.tolist(), [model, list(model)])
    for arr in (c.F, c.W, c.policies):
        assert isinstance(arr, np.ndarray) and not arr.flags.writeable
    assert c.F.dtype == float and c.W.dtype == float
    np.testing.assert_array_equal(c.policies, pol)
    assert isinstance(c.models, tuple) and len(c.models) == 2
    for triple in c.models:
        assert isinstance(triple, tuple) and len(triple) == 3
        assert all(isinstance(a, np.ndarray) and not a.flags.writeable for a in triple)
    assert FiniteClasses(F, W, pol).models is None


def test_check_models_messages(parts):
    F, W, pol, (P, R, init) = parts
    good = (P, R, init)
    msg = "models is str ('ab'), expected a sequence of (P, R, init) triples or None"
    with pytest.raises(ValueError, match=_full(msg)):
        FiniteClasses(F, W, pol, "ab")
    msg = "models is int (3), expected a sequence of (P, R, init) triples or None"
    with pytest.raises(ValueError, match=_full(msg)):
        FiniteClasses(F, W, pol, 3)
    with pytest.raises(ValueError, match=r"^models is list_iterator \(<list_iterator object at .*>\), expected a "
                                         r"sequence of \(P, R, init\) triples or None$"):
        FiniteClasses(F, W, pol, iter([good, good]))
    with pytest.raises(ValueError, match=_full("models has 1 entries, expected one per member of F (2)")):
        FiniteClasses(F, W, pol, [good])
    with pytest.raises(ValueError, match=_full("models[1] is tuple, expected a (P, R, init) triple")):
        FiniteClasses(F, W, pol, [good, (P, R)])
    with pytest.raises(ValueError, match=_full("models[1] is dict, expected a (P, R, init) triple")):
        FiniteClasses(F, W, pol, [good, {0: P, 1: R, 2: init}])
    with pytest.raises(ValueError, match=_full("models[1].P has shape (1, 2, 2, 1), expected (1, 2, 2, 2)")):
        FiniteClasses(F, W, pol, [good, (P[..., :1], R, init)])
    with pytest.raises(ValueError, match=_full("models[1].P[0, 0, 0] sums to 0.5, expected 1 (tolerance 1e-10)")):
        FiniteClasses(F, W, pol, [good, (P * 0.5, R, init)])
    with pytest.raises(ValueError, match=_full("models[1].R has shape (2, 2), expected (1, 2, 2)")):
        FiniteClasses(F, W, pol, [good, (P, R[0], init)])
    with pytest.raises(ValueError, match=_full("models[1].init has shape (1,), expected (2,)")):
        FiniteClasses(F, W, pol, [good, (P, R, init[:1])])
    with pytest.raises(ValueError, match=_full("models[1].init sums to 0.4, expected 1 (tolerance 1e-10)")):
        FiniteClasses(F, W, pol, [good, (P, R, np.array([0.2, 0.2]))])


def _mdp(H=2, S=3, A=2, seed=0):
    from theory_rl.mdp import TabularMDP

    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    return TabularMDP(P, rng.random((H, S, A)), np.full(S, 1 / S), horizon=H)


def test_policy_list_messages_and_accepted_kinds():
    from theory_rl.algorithms.glow.classes import ratio_class

    mdp = _mdp()
    det = np.zeros((2, 3), int)
    sto = np.full((2, 3, 2), 0.5)
    cases = [
        (3, "policies is int (3), expected a sequence of policies"),
        ("ab", "policies is str ('ab'), expected a sequence of policies"),
        ([det, "ab"],
         "policies[1] has dtype object, expected integer actions (H, S) or action probabilities (H, S, A)"),
        ([det.astype(bool)],
         "policies[0] has dtype bool, expected integer actions (H, S) or action probabilities (H, S, A)"),
        ([det + 2], "policies[0][0, 0] is 2, expected a value in 0..1"),
        ([det[0]], "policies[0] must have 2 dimension(s), got shape (3,)"),
        ([det[:, :2]], "policies[0] has shape (2, 2), expected (2, 3)"),
        ([det, sto[:, :2]], "policies[1] has shape (2, 2, 2), expected (2, 3, 2)"),
        ([det, sto * 0.5], "policies[1][0, 0] sums to 0.5, expected 1 (tolerance 1e-10)"),
        ([], "policies is empty, expected at least one policy"),
    ]
    for policies, msg in cases:
        with pytest.raises(ValueError, match=_full(msg)):
            ratio_class(mdp, policies)
    # accepted: one deterministic and one stochastic policy, two distinct occupancies -> 4 ordered pairs
    W = ratio_class(mdp, [det, sto])
    assert W.shape == (4, 2, 3, 2) and np.isfinite(W).all() and (W >= 0).all()


def test_decoy_classes_targets_messages_and_passthrough():
    from theory_rl.algorithms.glow.classes import decoy_classes, ratio_class

    mdp = _mdp()
    msgs = [
        (np.full((1, 2, 3, 2), 2), "targets[0, 0, 0, 0] is 2, expected a value in 0..1"),
        (np.zeros((2, 3, 2), bool), "targets has shape (2, 3, 2), expected (n_decoys, 2, 3, 2)"),
        (np.zeros((1, 2, 3, 3), bool), "targets has shape (1, 2, 3, 3), expected (n_decoys, 2, 3, 2)"),
        (np.zeros((1, 1, 2, 3, 2), bool), "targets has shape (1, 1, 2, 3, 2), expected (n_decoys, 2, 3, 2)"),
    ]
    for targets, msg in msgs:
        with pytest.raises(ValueError, match=_full(msg)):
            decoy_classes(mdp, targets, 1.0)
    # 0/1 integers are accepted and mean the same as booleans
    t = np.zeros((2, 2, 3, 2), int)
    t[0, 1, 0, 0] = 1
    t[1, 0, 2, 1] = 1
    a = decoy_classes(mdp, t, 0.7)
    b = decoy_classes(mdp, t.astype(bool), 0.7)
    np.testing.assert_array_equal(a.F, b.F)
    assert a.F.shape == (3, 2, 3, 2)
    # mixtures and ratio_cap are passed through to ratio_class
    t = np.zeros((3, 2, 3, 2), bool)
    t[0, 0, 0, 1] = t[1, 1, 1, 1] = t[2, 0, 2, 1] = True
    c = decoy_classes(mdp, t, 5.0, mixtures=2, ratio_cap=3.0)
    expected = ratio_class(mdp, c.policies, mixtures=2, ratio_cap=3.0)
    np.testing.assert_array_equal(c.W, expected)
    default = ratio_class(mdp, c.policies)
    assert c.W.shape != default.shape or not np.array_equal(c.W, default)
    d = decoy_classes(mdp, t, 5.0, ratio_cap=3.0)
    np.testing.assert_array_equal(d.W, ratio_class(mdp, d.policies, ratio_cap=3.0))
    assert not np.array_equal(d.W, ratio_class(mdp, d.policies))


def test_offline_only_result_fields():
    from theory_rl.algorithms.glow import decoy_classes, offline_only
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 3, 0.5, gap=0.2)
    classes = decoy_classes(inst.mdp, inst.targets, 0.4)
    nu = np.full((3, 2, 3), 1 / 6)
    for plugin in ("mabo_cr", "fqi", "mle"):
        res = offline_only(inst.mdp, classes, nu, 50, seed=5, plugin=plugin)
        assert isinstance(res.chosen, int) and -1 <= res.chosen < classes.F.shape[0]
        assert isinstance(res.Q, np.ndarray) and res.Q.shape == (3, 2, 3)
        assert isinstance(res.V, np.ndarray) and res.V.shape == (3, 2)
        np.testing.assert_array_equal(res.V, res.Q.max(axis=-1))
        if res.chosen >= 0:
            np.testing.assert_array_equal(res.Q, classes.F[res.chosen])
        assert 0.0 <= res.gap <= 1.0


def _oracle_ratios(occ, dens, cap):
    rows = []
    for den in dens:
        for num in occ:
            r = np.zeros_like(num)
            for idx in np.ndindex(num.shape):
                if den[idx] > 0:
                    r[idx] = min(num[idx] / den[idx], cap)
                elif num[idx] > 0:
                    r[idx] = cap
            rows.append(r)
    return np.unique(np.round(np.stack(rows), 9), axis=0)


def _distinct_policies(mdp):
    H, S, A = mdp.horizon, mdp.S, mdp.A
    return [np.zeros((H, S), int), np.ones((H, S), int), np.tile(np.arange(S) % A, (H, 1))]


def test_ratio_class_and_hybrid_ratio_class_match_an_oracle():
    from itertools import combinations

    from theory_rl.algorithms.glow.classes import hybrid_ratio_class, ratio_class
    from theory_rl.planning import occupancy

    mdp = _mdp(seed=3)
    pols = _distinct_policies(mdp)
    occ = [occupancy(mdp, pi) for pi in pols]
    for mixtures in (1, 2, 3):
        dens = [np.mean([occ[i] for i in U], axis=0) for m in range(1, mixtures + 1)
                for U in combinations(range(3), m)]
        got = ratio_class(mdp, pols, mixtures=mixtures, ratio_cap=7.0)
        want = _oracle_ratios(occ, dens, 7.0)
        assert got.shape == want.shape
        np.testing.assert_allclose(np.unique(np.round(got, 9), axis=0), want, atol=1e-9)
    nu = np.random.default_rng(1).dirichlet(np.ones(6), size=2).reshape(2, 3, 2)
    got = hybrid_ratio_class(mdp, pols, nu, ratio_cap=7.0)
    want = _oracle_ratios(occ, occ + [nu] + [(nu + d) / 2 for d in occ], 7.0)
    assert got.shape == want.shape
    np.testing.assert_allclose(np.unique(np.round(got, 9), axis=0), want, atol=1e-9)


def test_model_based_classes_passes_mixtures_and_cap():
    from theory_rl.algorithms.glow.classes import model_based_classes, ratio_class

    models = [_mdp(seed=s) for s in (0, 1, 2)]
    c = model_based_classes(models, mixtures=2, ratio_cap=3.0)
    want = np.unique(np.concatenate([ratio_class(m, c.policies, mixtures=2, ratio_cap=3.0) for m in models]), axis=0)
    np.testing.assert_array_equal(c.W, want)
    plain = np.unique(np.concatenate([ratio_class(m, c.policies) for m in models]), axis=0)
    assert c.W.shape != plain.shape or not np.array_equal(c.W, plain)
    capped = np.unique(np.concatenate([ratio_class(m, c.policies, ratio_cap=3.0) for m in models]), axis=0)
    mixed = np.unique(np.concatenate([ratio_class(m, c.policies, mixtures=2) for m in models]), axis=0)
    assert not (c.W.shape == capped.shape and np.array_equal(c.W, capped))
    assert not (c.W.shape == mixed.shape and np.array_equal(c.W, mixed))


def test_sufficient_statistics_add_trajectory_is_add_episode_and_as_counts_message():
    import warnings

    from theory_rl.algorithms.glow.statistics import SufficientStatistics, as_counts
    from theory_rl.data import CountsBuilder, RolloutSampler

    mdp = _mdp(H=3, S=2, A=2, seed=4)
    sampler = RolloutSampler(mdp)
    rng = np.random.default_rng(0)
    episodes = [sampler.episode(rng.integers(0, 2, size=(3, 2)), rng) for _ in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = SufficientStatistics(3, 2, 2)
    new = CountsBuilder(2, 2, horizon=3)
    for ep in episodes:
        old.add_trajectory(*ep)
        new.add_episode(*ep)
    a, b = as_counts(old), as_counts(new)
    assert a.counts.sum() == 15
    for field in ("counts", "reward_sums", "transition_counts"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    disc = CountsBuilder(2, 2).to_counts()
    msg = "stats is a discounted record (horizon None), expected per-layer counts (H, S, A)"
    with pytest.raises(ValueError, match=_full(msg)):
        as_counts(disc)


def test_fqi_result_method_and_value():
    from theory_rl.algorithms.glow import decoy_classes, fqi
    from theory_rl.data import sample_iid
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 3, 0.5, gap=0.2)
    classes = decoy_classes(inst.mdp, inst.targets, 0.4)
    stats = sample_iid(inst.mdp, np.full((3, 2, 3), 1 / 6), 40, 2).to_counts()
    res = fqi(classes, stats)
    assert res.method == "fqi"
    assert res.V.shape == (3, 2)
    np.testing.assert_array_equal(res.V, res.Q.max(axis=-1))


def test_weighted_moments_empty_layer_is_zero_without_a_division_warning():
    import warnings

    from theory_rl.algorithms.glow import weighted_moments
    from theory_rl.data import CountsBuilder, RolloutSampler

    mdp = _mdp(H=2, S=2, A=2, seed=5)
    F = np.random.default_rng(0).random((2, 2, 2, 2))
    W = np.ones((2, 2, 2, 2))
    empty = CountsBuilder(2, 2, horizon=2).to_counts()
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("error")
        D, Q = weighted_moments(F, W, empty, 1.0)
    assert not D.any() and not Q.any()
    b = CountsBuilder(2, 2, horizon=2)
    b.add_episode(*RolloutSampler(mdp).episode(np.zeros((2, 2), int), np.random.default_rng(1)))
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("error")
        D, Q = weighted_moments(F, W, b.to_counts(), 1.0)
    np.testing.assert_allclose(Q, 1.0)  # one sample per layer, weight 1


def test_h2o_result_value_and_data_provenance():
    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 3, 0.5, gap=0.2)
    classes = decoy_classes(inst.mdp, inst.targets, 0.4)
    res = h2o(inst.mdp, classes, np.full((3, 2, 3), 1 / 6), 3, seed=0)
    assert isinstance(res.V, np.ndarray) and res.V.shape == (3, 2)
    np.testing.assert_array_equal(res.V, res.Q.max(axis=-1))
    assert res.offline.meta["generator"] == "h2o offline"
    assert res.online.meta["generator"] == "h2o online"


def test_h2o_refuses_an_offline_table_beyond_memory_at_once():
    from theory_rl._validation import MEMORY_BYTES
    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 3, 0.5, gap=0.2)
    classes = decoy_classes(inst.mdp, inst.targets, 0.4)
    T = 10**15
    msg = (f"the offline samples of shape (T, H) = ({T}, 3) needs {3 * T:.3g} entries ({3 * T * 40:.3g} bytes), "
           f"more than this machine's {MEMORY_BYTES:.3g} bytes of memory")
    with pytest.raises(ValueError, match=_full(msg)):
        h2o(inst.mdp, classes, np.full((3, 2, 3), 1 / 6), T, seed=0)


def test_fqi_picks_the_least_squares_member():
    from theory_rl.algorithms.glow import fqi
    from theory_rl.algorithms.glow.classes import finite_classes
    from theory_rl.data import sample_iid
    from theory_rl.mdp import TabularMDP

    mdp = TabularMDP(np.ones((1, 1, 1, 1)), np.full((1, 1, 1), 0.5), np.ones(1), horizon=1)
    stats = sample_iid(mdp, np.ones((1, 1, 1)), 10, 3).to_counts()
    n, ybar = stats.counts[0, 0, 0], stats.reward_sums[0, 0, 0] / stats.counts[0, 0, 0]
    assert n == 10 and ybar >= 0.2
    # least squares: the sample mean beats 0 and -3 (a cubic loss would pick -3, a divided cross term 0)
    classes = finite_classes(np.array([ybar, 0.0, -3.0]).reshape(3, 1, 1, 1), np.ones((1, 1, 1, 1)))
    res = fqi(classes, stats)
    assert res.layers.tolist() == [0]
    np.testing.assert_allclose(res.Q, ybar)
