"""RO2O's uncertainty half (issue 19): the c_n calibration, the bootstrap ensemble and the ensemble LCB."""

from __future__ import annotations

import numpy as np
import pytest

from theory_rl import data, generators, planning
from theory_rl.algorithms.o2o import bootstrap_models, ensemble_lcb, expected_min_coefficient, finetune


def test_expected_min_coefficient_against_monte_carlo_and_the_known_value():
    # E[max of 10 standard normals] = 1.5387527 (tables of normal order statistics)
    assert expected_min_coefficient(10) == pytest.approx(1.5387527, abs=1e-6)
    assert expected_min_coefficient(2) == pytest.approx(1 / np.sqrt(np.pi), abs=1e-10)  # closed form
    z = np.random.default_rng(0).standard_normal((200_000, 5))
    # Monte Carlo standard error about 0.0015; 5 sigma: false-failure probability below 1e-6
    assert -z.min(axis=1).mean() == pytest.approx(expected_min_coefficient(5), abs=0.0075)
    assert expected_min_coefficient(1) == 0.0


def test_bootstrap_members_are_empirical_at_seen_pairs_and_disagree_off_the_data():
    mdp = generators.garnet(4, 2, 2, gamma=0.9, seed=0)
    D = data.sample_generative(mdp, np.array([[50, 0], [50, 0], [50, 0], [50, 0]]), 0)
    P, R = bootstrap_models(D, 20, seed=1)
    N = np.asarray(D.counts)
    C = np.asarray(D.transition_counts)
    seen = N > 0
    # each member's transition counts at a seen pair are N times its distribution: integers, summing to N
    counts = P[:, seen] * N[seen][None, :, None]
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
    # the bootstrap mean is the empirical distribution (20 members: loose tolerance, 4.5 sigma)
    np.testing.assert_allclose(P[:, seen].mean(axis=0), (C[seen] / N[seen][:, None]), atol=0.11)
    # unseen pairs: members disagree (random rows), seen ones far less
    assert P[:, ~seen].std(axis=0).mean() > 2 * P[:, seen].std(axis=0).mean()


def test_ensemble_lcb_with_much_data_is_the_optimal_policy_and_avoids_unseen_actions():
    mdp = generators.garnet(5, 3, 3, gamma=0.8, seed=3)
    big = data.sample_generative(mdp, 200_000, 0)
    res = ensemble_lcb(big, seed=0)
    assert planning.suboptimality(mdp, res.policy) == pytest.approx(0.0, abs=1e-9)
    # data on action 0 only: the std term steers the actor away from the unseen actions (fixed seeds, exact
    # counts); it fails if the std term is dropped (k = 4 would equal k = 0). The members' spread off the data
    # (uniform rewards, random rows) is modest, so unseen actions are still picked sometimes.
    picks = {}
    for k in (4.0, 0.0):
        picks[k] = 0
        for seed in range(10):
            m = generators.garnet(5, 3, 3, gamma=0.8, seed=seed)
            only0 = data.sample_generative(m, np.array([[30, 0, 0]] * 5), seed)
            picks[k] += int((ensemble_lcb(only0, seed=seed, std_coef=k).policy != 0).sum())
    assert picks[4.0] < picks[0.0] - 5


def test_harness_runs_ro2o_consistent_pessimism():
    mdp = generators.gridworld(3, 3, slip=0.1, gamma=0.9)
    D = data.sample_generative(mdp, 2, 0)
    res = finetune(mdp, D, seed=0, offline="ensemble_lcb", online="ensemble_lcb", online_steps=60, n_steps=20)
    assert res.method == "ensemble_lcb+ensemble_lcb" and res.J_eval.size == 4
    assert res.J_eval[-1] == pytest.approx(planning.expected_return(mdp, res.policy))
    with pytest.raises(ValueError, match="seed"):
        from theory_rl.algorithms.o2o import offline_phase
        offline_phase(D, "ensemble_lcb")
