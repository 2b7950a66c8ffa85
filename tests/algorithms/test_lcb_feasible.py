"""The LCB family on MDPs with infeasible actions (issue 15, item 5): with ``feasible=``, each learner equals the
same learner on the data of the reduced MDP (infeasible actions removed and the rest re-indexed), with its
log term held equal (``delta`` rescaled by k/A where the paper's log term counts the actions), on data collected
without the infeasible pairs; data from an unmasked simulator that make the infeasible actions look best show
that a learner ignoring the mask would fail."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.algorithms import lcb
from theory_rl.data import CountDataset, sample_generative
from theory_rl.mdp import TabularMDP


def _problem(seed: int, S: int, A: int, k: int, horizon: int | None, infeasible_data: bool = False):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.random((S, A)) * 0.5
    idx = np.sort(np.argsort(rng.random((S, A)), axis=1)[:, :k], axis=1)
    mask = np.zeros((S, A), bool)
    mask[np.arange(S)[:, None], idx] = True
    R[~mask] = 1.0  # the infeasible actions look best in the data
    kind = {"horizon": horizon} if horizon is not None else {"gamma": 0.8}
    sim = TabularMDP(P, R, np.full(S, 1.0 / S), reward_noise="deterministic", **kind)  # the unmasked simulator
    N = rng.integers(0, 30, size=((horizon,) if horizon else ()) + (S, A))
    if not infeasible_data:  # as data collected on the masked MDP: none at infeasible pairs
        N[..., ~mask] = 0
    data = sample_generative(sim, N, seed=seed)
    return data, mask, idx


def _reduced(data, idx) -> CountDataset:
    S, k = idx.shape
    rows = np.arange(S)[:, None]
    take = (lambda x: x[:, rows, idx]) if data.horizon else (lambda x: x[rows, idx])
    return CountDataset(take(np.asarray(data.counts)), take(np.asarray(data.transition_counts)),
                        take(np.asarray(data.reward_sums)), S, k, data.gamma, data.horizon)


LEARNERS = {
    "vi_lcb_nosplit": (False, lambda d, **kw: lcb.vi_lcb(d, split=False, penalty_scale=0.05, **kw), True),
    "vi_lcb_episodic": (True, lambda d, **kw: lcb.vi_lcb_episodic(d, penalty_scale=0.05, **kw), True),
    "bernstein_discounted": (False, lambda d, **kw: lcb.bernstein_vi_lcb(d, c_b=0.05, delta=0.1, **kw), False),
    "bernstein_episodic": (True, lambda d, **kw: lcb.bernstein_vi_lcb(d, c_b=0.05, delta=0.1, **kw), False),
    "empirical_vi_discounted": (False, lambda d, **kw: lcb.empirical_vi(d, **kw), False),
    "empirical_vi_episodic": (True, lambda d, **kw: lcb.empirical_vi(d, **kw), False),
}


@pytest.mark.parametrize("name", list(LEARNERS))
@settings(max_examples=15, deadline=None)
@given(S=st.integers(1, 5), A=st.integers(2, 4), k=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_a_masked_learner_equals_the_learner_on_the_reduced_data(name, S, A, k, seed):
    episodic, learn, log_counts_actions = LEARNERS[name]
    k = min(k, A - 1)
    data, mask, idx = _problem(seed, S, A, k, 3 if episodic else None)
    kw = {"delta": 0.1} if log_counts_actions else {}
    ours = learn(data, feasible=mask, **kw)
    if log_counts_actions:
        kw = {"delta": 0.1 * k / A}  # log(2 S A / delta) held equal
    oracle = learn(_reduced(data, idx), **kw)
    rows = np.arange(S)
    policy = np.asarray(ours.policy)
    assert mask[rows, policy].all()  # never an infeasible action
    np.testing.assert_array_equal(policy, idx[rows, np.asarray(oracle.policy)])
    np.testing.assert_allclose(ours.V, oracle.V, atol=1e-10)
    Q = np.asarray(ours.Q)
    assert np.isneginf(Q[..., ~mask]).all()
    np.testing.assert_allclose(Q[..., rows[:, None], idx], oracle.Q, atol=1e-10)


def test_without_the_mask_the_learners_pick_the_infeasible_actions():
    # the test above can fail: the data make the infeasible actions best, so the unmasked learners take them
    data, mask, _ = _problem(5, 4, 3, 1, None, infeasible_data=True)
    for result in (lcb.empirical_vi(data), lcb.vi_lcb(data, split=False, penalty_scale=0.0)):
        assert not mask[np.arange(4), result.policy].all()
    for result in (lcb.empirical_vi(data, feasible=mask), lcb.vi_lcb(data, split=False, penalty_scale=0.0,
                                                                      feasible=mask)):
        assert mask[np.arange(4), result.policy].all()


def test_vi_lcb_with_splitting_respects_the_mask():
    from theory_rl.data import sample_iid  # noqa: PLC0415
    S, A = 4, 3
    rng = np.random.default_rng(2)
    mask = rng.random((S, A)) < 0.6
    mask[:, 0] = True
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = np.where(mask, 0.3, 1.0)
    sim = TabularMDP(P, R, np.full(S, 0.25), gamma=0.8)
    data = sample_iid(sim, np.full((S, A), 1.0 / (S * A)), 3000, seed=1)
    res = lcb.vi_lcb(data, seed=0, penalty_scale=0.01, feasible=mask)
    assert mask[np.arange(S), res.policy].all()
    assert np.isneginf(np.asarray(res.Q)[~mask]).all()
    with pytest.raises(ValueError, match=r"feasible has shape \(3, 3\), expected \(S, A\) = \(4, 3\)"):
        lcb.vi_lcb(data, seed=0, feasible=mask[:3])


# ---------------------------------------------------------------------- the families that refuse a masked MDP
def _masked_mdp(horizon=None):
    P = np.full((3, 2, 3), 1.0 / 3)
    mask = np.array([[True, False], [True, True], [True, True]])
    kind = {"horizon": horizon} if horizon else {"gamma": 0.8}
    return TabularMDP(P, np.full((3, 2), 0.5), np.full(3, 1.0 / 3), feasible=mask, **kind)


REFUSED = "does not support infeasible actions"


def test_the_families_whose_greedy_steps_range_over_all_actions_refuse_a_masked_mdp():
    from theory_rl.algorithms import constrained_mdp, edge_of_reach, hybrid_pg, sim2real  # noqa: PLC0415
    from theory_rl.algorithms.glow.online import check_problem  # noqa: PLC0415
    from theory_rl.algorithms.o2o import finetune  # noqa: PLC0415

    disc, epi = _masked_mdp(), _masked_mdp(horizon=2)
    data = sample_generative(disc.replace(feasible=None), 2, seed=0)
    calls = {
        "hac": lambda: hybrid_pg.hac(epi, None, 2, seed=0),
        "hy_q": lambda: hybrid_pg.hy_q(epi, sample_generative(epi.replace(feasible=None), 1, seed=0), 2, seed=0),
        "sim_only": lambda: sim2real.sim_only(disc),
        "glow": lambda: check_problem(epi, None),
        "truncated_fqi": lambda: edge_of_reach.truncated_fqi(disc, [0], 1, seed=0),
        "boundary_value_q": lambda: edge_of_reach.boundary_value_q(disc, [True, True, False], np.zeros(3)),
        "finetune": lambda: finetune(disc, data, seed=0),
        "constrained_optimum": lambda: constrained_mdp.constrained_optimum(disc, np.zeros((3, 2)), 1.0),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=REFUSED):
            call()
        # the same call on the unmasked MDP gets past the refusal (it may fail later on its toy arguments)
    assert sim2real.sim_only(disc.replace(feasible=None)).policy.shape == (3,)
