"""Issue 14, item 3: tests written against mutants of ``theory_rl/algorithms/glow/`` that the suite let live
(``python -m benchmarks.mutation --module glow``, a partial first run): the refusals and their messages, the tie
tolerance passed through, and the shapes the checks demand."""

import numpy as np
import pytest

from theory_rl.algorithms.glow import classes, statistics
from theory_rl.data import CountsBuilder
from theory_rl.mdp import TabularMDP


def _fin(H=2, S=2, A=2, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    return TabularMDP(P, rng.random((H, S, A)), np.full(S, 1 / S), horizon=H)


def test_greedy_actions_checks_and_tolerance():
    with pytest.raises(ValueError, match=r"^F has shape \(2, 0\), expected at least one action on the last axis$"):
        classes.greedy_actions(np.zeros((2, 0)))
    with pytest.raises(ValueError, match=r"^F has shape \(\), expected at least one action"):
        classes.greedy_actions(np.float64(1.0))
    # one action is enough; a single row (ndim 1) is a valid F
    np.testing.assert_array_equal(classes.greedy_actions(np.zeros((3, 1))), [0, 0, 0])
    assert classes.greedy_actions(np.array([0.0, 1.0])) == 1
    # the tolerance passed is used: within it, the lower index wins
    F = np.array([[0.0, 1e-3]])
    assert classes.greedy_actions(F, tol=1e-2)[0] == 0 and classes.greedy_actions(F, tol=0.0)[0] == 1


def test_optimal_q_checks_shapes():
    P = np.full((2, 2, 2, 2), 0.5)
    with pytest.raises(ValueError, match=r"^R must have 3 dimensions"):
        classes.optimal_q(P, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^P has shape \(2, 2, 2, 3\), expected"):
        classes.optimal_q(np.full((2, 2, 2, 3), 1 / 3), np.zeros((2, 2, 2)))


def test_model_based_classes_refusals():
    with pytest.raises(ValueError, match=r"^models is int \(3\), expected a sequence of finite-horizon TabularMDPs$"):
        classes.model_based_classes(3)
    message = r"^models must be a non-empty sequence of finite-horizon TabularMDPs$"
    with pytest.raises(ValueError, match=message):
        classes.model_based_classes([])
    disc = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros((2, 2)), np.full(2, 0.5), gamma=0.5)
    with pytest.raises(ValueError, match=message):
        classes.model_based_classes([_fin(), disc])
    with pytest.raises(ValueError, match=r"^models differ in \(H, S, A\)$"):
        classes.model_based_classes([_fin(), _fin(H=3)])


def test_residual_sums_names_f_and_the_deprecated_builder_warns_in_full():
    stats = CountsBuilder(2, 2, horizon=2).to_counts()
    with pytest.raises(ValueError, match=r"^F has shape \(1, 2, 2, 3\), expected \(\|F\|, H, S, A\)"):
        statistics.residual_sums(np.zeros((1, 2, 2, 3)), stats)
    with pytest.warns(DeprecationWarning) as record:
        statistics.SufficientStatistics(2, 2, 2)
    assert str(record[0].message) == (
        "SufficientStatistics is deprecated; use theory_rl.data.CountsBuilder(S, A, horizon=H) and its "
        "to_counts() (the criteria take the CountDataset)")
    assert record[0].filename != statistics.__file__


def test_clipping_loss_and_potential_by_hand():
    """T = 3 rounds, H = 2 layers, one state and two actions. Layer 0: d_1 = (1, 0), d_2 = (0, 1), d_3 = (1/2, 1/2);
    layer 1: d_t = (1, 0) every round. Clipping loss at round t >= 2: the d_t-mass where d_t > g_t d_bar_t,
    d_bar_t = mean of d_1..d_{t-1}, the largest over layers. g = (5, 2, 1.5): round 2, layer 0: d_bar = (1, 0), the
    mass on action 1 (1 > 0): loss 1. Round 3, layer 0: d_bar = (1/2, 1/2), 1/2 > 1.5 * 1/2 fails: 0; layer 1: 0.
    Potential: sum_{s<=t} E_{d_s}[d_s / (d_1 + ... + d_s)]; layer 0: 1, 1 + 1 = 2, 2 + (1/4)/(3/2) * 2 = 2 + 1/3;
    layer 1: 1, 1 + 1/2, 1 + 1/2 + 1/3."""
    from theory_rl.algorithms.glow import online

    d = np.zeros((3, 2, 1, 2))
    d[0, 0, 0] = [1.0, 0.0]
    d[1, 0, 0] = [0.0, 1.0]
    d[2, 0, 0] = [0.5, 0.5]
    d[:, 1, 0] = [1.0, 0.0]
    np.testing.assert_allclose(online.clipping_loss(d, np.array([5.0, 2.0, 1.5])), [0.0, 1.0, 0.0], atol=1e-15)
    # g_3 = 1/2: at round 3 both actions of layer 0 exceed (1/2 > 1/2 * 1/2) and so does layer 1 (1 > 1/2): loss 1
    np.testing.assert_allclose(online.clipping_loss(d, np.array([5.0, 2.0, 0.5])), [0.0, 1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(online.potential(d), [[1.0, 1.0], [2.0, 1.5], [2 + 1 / 3, 1.5 + 1 / 3]], rtol=1e-14)
    with pytest.raises(ValueError, match=r"^clips has shape \(2,\), expected"):
        online.clipping_loss(d, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^occupancies must have 4 dimensions"):
        online.clipping_loss(d[0], np.array([1.0, 2.0]))
    assert online.clipping_loss(d[:1], np.array([1.0])).tolist() == [0.0]  # one round: no data, no loss


def test_mle_log_likelihood_by_hand():
    """H = 1, S = 2, A = 1, the data at state 0 only: n = 4 transitions, 1 to state 0 and 3 to state 1, reward sum
    3. A model with P(. | 0) = (1/4, 3/4) and mean reward r: log-likelihood log(1/4) + 3 log(3/4) + 3 log r +
    log(1 - r), r clipped to [eps, 1 - eps]; models with r = 0.9 and r = 1 (clipped to 1 - eps). Without models the
    plug-in is refused."""
    from theory_rl.algorithms.glow import offline
    from theory_rl.data import CountDataset

    P = np.array([[[[0.25, 0.75]], [[0.5, 0.5]]]])
    models = [TabularMDP(P, np.array([[[r], [0.0]]]), np.array([1.0, 0.0]), horizon=1) for r in (0.9, 1.0)]
    fc = classes.model_based_classes(models)
    N = np.array([[[4], [0]]])
    C = np.array([[[[1, 3]], [[0, 0]]]])
    stats = CountDataset(N, C, np.array([[[3.0], [0.0]]]), 2, 1, horizon=1)
    eps = 1e-3
    trans = np.log(0.25) + 3 * np.log(0.75)
    want = [trans + 3 * np.log(0.9) + np.log(0.1), trans + 3 * np.log(1 - eps) + np.log(eps)]
    np.testing.assert_allclose(offline.mle_log_likelihood(fc, stats, eps=eps), want, rtol=1e-12)
    with pytest.raises(ValueError, match=r"^classes have no models; the MLE plug-in needs model-based classes$"):
        offline.mle_log_likelihood(classes.finite_classes(fc.F, fc.W), stats)


def test_offline_only_record():
    """The gap is the exact sub-optimality of the returned policy (FQI's policy need not be a member's), and the
    constants record the plug-in, the scaled gamma, delta, gamma_scale and n."""
    from theory_rl.algorithms.glow import decoy_classes, offline_only
    from theory_rl.generators.coverability import coverability_family
    from theory_rl.planning import expected_return, solve

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((3, 2, 2), 0.25)
    j_star = expected_return(inst.mdp, solve(inst.mdp).policy)
    for plugin in ("fqi", "mabo_cr"):
        res = offline_only(inst.mdp, fc, nu, 12, seed=3, plugin=plugin, delta=0.2, gamma=0.5, gamma_scale=2.0)
        assert res.gap == pytest.approx(max(j_star - expected_return(inst.mdp, res.policy), 0.0), abs=1e-12)
        assert res.constants == {"plugin": plugin, "gamma": 1.0, "delta": 0.2, "gamma_scale": 2.0, "n": 12}


def test_h2o_constants_record_the_gamma_passed_and_its_scale():
    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    res = h2o(inst.mdp, fc, np.full((3, 2, 2), 0.25), 3, seed=0, gamma=0.5, gamma_scale=2.0, delta=0.2)
    c = res.constants
    assert (c["gamma"], c["gamma_scale"], c["delta"], c["plugin"]) == (1.0, 2.0, 0.2, "mabo_cr")


def test_mle_plugin_needs_model_based_classes():
    from theory_rl.algorithms.glow import decoy_classes, finite_classes, offline_only
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    bare = finite_classes(fc.F, fc.W)
    with pytest.raises(ValueError, match=r"^plugin 'mle' needs model-based classes \(classes.models is None\)$"):
        offline_only(inst.mdp, bare, np.full((3, 2, 2), 0.25), 5, seed=0, plugin="mle")


def test_h2o_gaps_per_round_and_offline_pool():
    """gaps[t] is the exact sub-optimality of round t's policy (the chosen member's greedy policy), and after T rounds
    the offline record holds the whole pool: T i.i.d. samples per layer from the first child of the seed."""
    from theory_rl._random import seed_sequence, spawn
    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.data import sample_iid
    from theory_rl.generators.coverability import coverability_family
    from theory_rl.planning import expected_return, solve

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((3, 2, 2), 0.25)
    T = 6
    res = h2o(inst.mdp, fc, nu, T, seed=0)  # seed 0: the gaps change across rounds (0.075, then 0)
    j_star = expected_return(inst.mdp, solve(inst.mdp).policy)
    want = [max(j_star - expected_return(inst.mdp, fc.policies[i]), 0.0) for i in res.chosen]
    np.testing.assert_allclose(res.gaps, want, atol=1e-12)
    assert res.gaps[0] > 0 and res.gaps[-1] == 0  # so a shifted index would be seen
    pool = sample_iid(inst.mdp, nu, T, spawn(seed_sequence(0), 2)[0]).to_counts()
    np.testing.assert_array_equal(res.offline.counts, pool.counts)
    np.testing.assert_array_equal(res.offline.transition_counts, pool.transition_counts)


def test_h2o_default_gamma_when_nu_misses_the_optimal_policy():
    """C* = inf (nu misses pairs pi* visits) is allowed: the default gamma then uses C_cov alone and c_star is inf."""
    import math

    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.algorithms.glow.online import ClassEvaluator
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.zeros((3, 2, 2))
    nu[:, 0, 0] = 1.0  # one pair per layer
    res = h2o(inst.mdp, fc, nu, 2, seed=0, delta=0.1)
    assert res.constants["c_star"] == math.inf
    ev = ClassEvaluator(inst.mdp, fc)
    L = res.constants["L"]
    assert res.constants["gamma"] == pytest.approx(math.sqrt(ev.c_cov() / (2 * L)), rel=1e-12)  # Thm 3.1's form
