"""Issue 15, item 5: rewards on any bounded range and discounted finite horizons (theory_rl.scales, the MDP fields,
planning, the samplers, the bounds and the offline algorithms), each against an independent oracle."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import bounds, planning
from theory_rl.algorithms.lcb import bernstein_vi_lcb, empirical_vi, vi_lcb, vi_lcb_episodic
from theory_rl.algorithms.reward_scale import on_unit_rewards, unit_dataset
from theory_rl.data import (
    RolloutSampler,
    sample_generative,
    sample_iid,
    sample_iid_counts,
    sample_policy_counts,
    sample_trajectories,
)
from theory_rl.mdp import TabularMDP
from theory_rl.scales import RewardMap, require_unit_scale, scale_meta, undiscounted_stages, unit_rewards

from .strategies import tabular_mdps

GAMMAS = st.sampled_from([0.0, 0.3, 0.9, 0.999])


def loop_backward_induction(P, R, H, g):
    """The oracle: plain Python loops over V_h(s) = max_a R_h(s, a) + g sum_s' P_h(s'|s, a) V_{h+1}(s')."""
    S, A = R.shape[-2:]
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        Ph, Rh = (P[h] if P.ndim == 4 else P), (R[h] if R.ndim == 3 else R)
        for s in range(S):
            V[h, s] = max(Rh[s, a] + g * sum(Ph[s, a, t] * V[h + 1, t] for t in range(S)) for a in range(A))
    return V[:H]


def sparse_twin(mdp: TabularMDP) -> TabularMDP:
    return TabularMDP(scipy.sparse.csr_array(mdp.transitions), mdp.R, mdp.init, gamma=mdp.gamma, horizon=mdp.horizon,
                      reward_range=mdp.reward_range)  # fmt: skip


# ---------------------------------------------------------------------- the MDP's fields
def test_fields_defaults_and_repr():
    P = np.full((2, 2, 2), 0.5)
    mdp = TabularMDP(P, [[-1.0, 2.0], [0.0, 0.5]], [1.0, 0.0], gamma=0.9, horizon=4, reward_range=(-1, 2))
    assert mdp.reward_range == (-1.0, 2.0) and mdp.gamma == 0.9 and mdp.horizon == 4
    assert mdp.is_episodic and not mdp.is_discounted and mdp.discount == 0.9
    assert mdp.vmax == pytest.approx(2.0 * (1 - 0.9**4) / 0.1)  # max |r| times the discounted step count
    assert "gamma=0.9" in repr(mdp) and "reward_range=(-1.0, 2.0)" in repr(mdp)
    plain = TabularMDP(P, [[0.0, 1.0], [0.0, 0.5]], [1.0, 0.0], horizon=4)
    assert plain.reward_range == (0.0, 1.0) and plain.gamma is None and plain.discount == 1.0 and plain.vmax == 4.0
    # gamma = 1 with a horizon is the undiscounted MDP itself
    assert TabularMDP(P, plain.R, plain.init, gamma=1.0, horizon=4).gamma is None
    # replace keeps the range and the discount
    again = mdp.replace(init=[0.5, 0.5])
    assert again.reward_range == mdp.reward_range and again.gamma == 0.9
    with pytest.raises(ValueError, match=r"R\[0, 0\] is -1, expected a value in \[0, 1\]"):
        mdp.replace(reward_range=(0, 1))
    assert TabularMDP(P, plain.R, plain.init, gamma=0.5).vmax == 2.0


# ---------------------------------------------------------------------- (b) discounted finite horizons
@settings(max_examples=40, deadline=None)
@given(tabular_mdps(episodic=True, max_S=4, max_A=3, max_H=4), GAMMAS)
def test_backward_induction_with_discount_matches_loops_and_stage_rewards(mdp, g):
    disc = mdp.replace(gamma=g)
    oracle = loop_backward_induction(mdp.P, mdp.R, mdp.horizon, g)
    stages = undiscounted_stages(disc.replace(gamma=max(g, 0.3)))  # values g^h V_h, same optimal policies
    assert stages.gamma is None
    weight = (max(g, 0.3) ** np.arange(mdp.horizon))[:, None]
    for m in (disc, sparse_twin(disc)):
        res = planning.backward_induction(m)
        np.testing.assert_allclose(res.V, oracle, atol=1e-12)
        if g > 0:
            np.testing.assert_allclose(weight * res.V, planning.backward_induction(stages).V, atol=1e-12)
        np.testing.assert_allclose(res.Q.max(axis=-1), res.V, atol=0)
        np.testing.assert_allclose(planning.optimal_return(m), float(m.init @ oracle[0]), atol=1e-12)
    if g < 1.0:
        lp = planning.optimal_values_lp(disc)
        np.testing.assert_allclose(lp.V, oracle, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(tabular_mdps(episodic=True, max_S=4, max_A=3, max_H=4), GAMMAS, st.integers(0, 2**32 - 1))
def test_policy_evaluation_with_discount_matches_the_stage_reward_form(mdp, g, seed):
    g = max(g, 0.3)  # the stage form needs g > 0 (at g = 0 its late rewards vanish: refused)
    disc = mdp.replace(gamma=g)
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(mdp.A), size=(mdp.horizon, mdp.S))
    stages = undiscounted_stages(disc)
    weight = (g ** np.arange(mdp.horizon))[:, None]
    V_stage = planning.evaluate(stages, pi)
    # J(pi) = sum_h g^h <d_h, R_h> from the (undiscounted) occupancy: a third route
    d = planning.occupancy(disc, pi)
    J_occ = sum(g**h * float(np.sum(d[h] * disc.R_at(h))) for h in range(mdp.horizon))
    for m in (disc, sparse_twin(disc)):
        V = planning.evaluate(m, pi)
        np.testing.assert_allclose(weight * V, V_stage, atol=1e-12)
        np.testing.assert_allclose(planning.expected_return(m, pi), J_occ, atol=1e-12)
        Q = planning.q_values(m, pi)
        np.testing.assert_allclose(np.einsum("hsa,hsa->hs", pi, Q), V, atol=1e-12)


def test_undiscounted_stages_refuses_underflow_and_keeps_undiscounted():
    mdp = TabularMDP(np.ones((1, 1, 1)), [[1.0]], [1.0], horizon=200)
    assert undiscounted_stages(mdp) is mdp
    with pytest.raises(ValueError, match="underflows"):
        undiscounted_stages(mdp.replace(gamma=0.01))
    with pytest.raises(ValueError, match="underflows"):
        undiscounted_stages(mdp.replace(gamma=0.0))
    with pytest.raises(ValueError, match="finite-horizon"):
        undiscounted_stages(TabularMDP(np.ones((1, 1, 1)), [[1.0]], [1.0], gamma=0.5))
    # the native form has nothing to underflow: the last step still pays 0.01^199 ... times its reward
    V = planning.backward_induction(mdp.replace(gamma=0.01)).V
    assert V[-1, 0] == 1.0 and V[0, 0] == pytest.approx(1 / 0.99)


# ---------------------------------------------------------------------- (a) reward ranges
@settings(max_examples=40, deadline=None)
@given(tabular_mdps(max_S=4, max_A=3, max_H=4), st.sampled_from([(-1.0, 2.0), (-5.0, -2.0), (0.25, 0.5), (3, 13)]),
       st.sampled_from([None, 0.5, 0.9]))  # fmt: skip
def test_unit_rewards_maps_values_back_exactly(mdp, reward_range, g):
    lo, hi = reward_range
    if mdp.is_episodic and g is not None:
        mdp = mdp.replace(gamma=g)
    ranged = mdp.replace(R=lo + (hi - lo) * mdp.R, reward_range=reward_range)
    unit, m = unit_rewards(ranged)
    assert unit.reward_range == (0.0, 1.0) and (m.low, m.high) == (lo, hi)
    np.testing.assert_allclose(unit.R, mdp.R, atol=1e-14)
    # the oracle: planning on the ranged MDP itself (planning never assumed [0, 1])
    direct = planning.solve(ranged, method="policy_iteration" if ranged.is_discounted else None)
    mapped = planning.solve(unit, method="policy_iteration" if unit.is_discounted else None)
    scale = 1e-9 * max(1.0, np.abs(direct.V).max())
    np.testing.assert_allclose(m.values(mapped.V, unit), direct.V, atol=scale)
    np.testing.assert_allclose(m.values(mapped.Q, unit), direct.Q, atol=scale)
    assert planning.suboptimality(ranged, mapped.policy) <= 1e-8 * max(1.0, np.abs(direct.V).max())


def test_unit_rewards_identity_and_gaussian_std():
    P = np.full((1, 2, 1), 1.0)
    mdp = TabularMDP(P, [[0.0, 1.0]], [1.0], gamma=0.5)
    assert unit_rewards(mdp) == (mdp, RewardMap(0.0, 1.0))
    ranged = TabularMDP(P, [[-3.0, 1.0]], [1.0], gamma=0.5, reward_range=(-3, 1), reward_noise="gaussian",
                        reward_std=2.0)  # fmt: skip
    unit, m = unit_rewards(ranged)
    assert unit.reward_std == 0.5 and unit.reward_noise == "gaussian" and m.scale == 4.0


def test_interop_reexports_the_one_reward_map():
    from theory_rl.interop import RewardMap as InteropMap

    assert InteropMap is RewardMap


# ---------------------------------------------------------------------- samplers
def _ranged(noise="gaussian", **kw):
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    R = -2.0 + 5.0 * rng.random((3, 2))
    return TabularMDP(P, R, np.full(3, 1 / 3), reward_range=(-2, 3), reward_noise=noise, reward_std=0.5, **kw)


def test_samplers_refuse_bernoulli_rewards_off_the_unit_range():
    mdp = _ranged("bernoulli", gamma=0.9)
    mu = np.full((3, 2), 1 / 6)
    for call in (lambda: sample_iid(mdp, mu, 10, seed=0), lambda: sample_iid_counts(mdp, mu, 10, seed=0),
                 lambda: sample_generative(mdp, 2, seed=0), lambda: RolloutSampler(mdp, n_steps=3),
                 lambda: sample_trajectories(mdp, np.zeros(3, int), 2, seed=0, n_steps=3)):  # fmt: skip
        with pytest.raises(ValueError, match=r"Bernoulli .* reward_range \(-2.0, 3.0\)"):
            call()


def test_samplers_record_the_scale_and_a_discounted_horizon():
    mdp = _ranged(gamma=0.9, horizon=3)
    data = sample_iid(mdp, np.full((3, 2), 1 / 6), 50, seed=1)
    assert data.meta["reward_range"] == [-2.0, 3.0] and data.meta["discount"] == 0.9
    assert data.gamma is None and data.horizon == 3  # a dataset is discounted or finite-horizon, never both
    assert (data.reward < 0).any()  # Gaussian rewards around means in [-2, 3]
    for d in (sample_iid_counts(mdp, np.full((3, 2), 1 / 6), 50, seed=1), sample_generative(mdp, 2, seed=1),
              sample_policy_counts(mdp, np.zeros((3, 3), int), 5, seed=1),
              sample_trajectories(mdp, np.zeros((3, 3), int), 5, seed=1)):  # fmt: skip
        assert scale_meta(mdp) == {"reward_range": [-2.0, 3.0], "discount": 0.9}
        assert d.meta["reward_range"] == [-2.0, 3.0] and d.meta["discount"] == 0.9 and d.gamma is None
    plain = sample_iid(TabularMDP(mdp.P, mdp.R - mdp.R.min(), mdp.init, gamma=0.5, reward_range=(0, 5),
                                  reward_noise="deterministic"), np.full((3, 2), 1 / 6), 5, seed=1)  # fmt: skip
    assert plain.gamma == 0.5 and "discount" not in plain.meta


# ---------------------------------------------------------------------- algorithms
def test_lcb_family_refuses_ranged_or_discounted_horizon_data():
    mu = np.full((3, 2), 1 / 6)
    ranged = sample_iid_counts(_ranged(gamma=0.9), mu, 50, seed=0)
    for algo in (vi_lcb, bernstein_vi_lcb, empirical_vi):
        with pytest.raises(ValueError, match=r"assumes rewards in \[0, 1\], but the rewards lie in \[-2.0, 3.0\]"):
            algo(ranged, seed=0) if algo is vi_lcb else algo(ranged)
    episodic = _ranged(horizon=3).replace(R=np.full((3, 2), 0.5), reward_range=(0, 1))
    disc = sample_iid_counts(episodic.replace(gamma=0.9), mu, 50, seed=0)
    with pytest.raises(ValueError, match="undiscounted finite horizon, but the problem is discounted"):
        vi_lcb_episodic(disc)
    vi_lcb_episodic(sample_iid_counts(episodic, mu, 50, seed=0))  # undiscounted: accepted
    with pytest.raises(ValueError, match="assumes rewards"):
        require_unit_scale(_ranged(gamma=0.9), "f")


@settings(max_examples=25, deadline=None)
@given(tabular_mdps(max_S=4, max_A=3, max_H=3), st.sampled_from([(-1.0, 2.0), (-4.0, -3.0), (2.0, 10.0)]),
       st.integers(0, 2**32 - 1), st.sampled_from(["gaussian", "deterministic"]))  # fmt: skip
def test_algorithms_on_a_range_match_the_mapped_unit_mdp(mdp, reward_range, seed, noise):
    """The oracle test of the brief: same seed, the ranged MDP's data through on_unit_rewards and the mapped
    MDP's data straight into the algorithm give the same policy, and values that map exactly."""
    lo, hi = reward_range
    ranged = mdp.replace(R=lo + (hi - lo) * mdp.R, reward_range=reward_range, reward_noise=noise,
                         reward_std=0.3 * (hi - lo))  # fmt: skip
    unit, m = unit_rewards(ranged)
    mu = np.full(((mdp.horizon,) if mdp.is_episodic else ()) + (mdp.S, mdp.A), 1.0 / (mdp.S * mdp.A))
    sampler = sample_iid if seed % 2 else sample_iid_counts  # sample-level or count data
    data, data_unit = sampler(ranged, mu, 40, seed=seed), sampler(unit, mu, 40, seed=seed)
    mapped, _, discount = unit_dataset(data)
    assert discount is None
    np.testing.assert_allclose(mapped.reward_sums, data_unit.reward_sums, atol=1e-9)
    algos = [vi_lcb_episodic, empirical_vi] if mdp.is_episodic else [vi_lcb, bernstein_vi_lcb, empirical_vi]
    for algo in algos:
        kw = ({"seed": seed} if sampler is sample_iid else {"split": False}) if algo is vi_lcb else {}
        res, ref = on_unit_rewards(algo, data, **kw), algo(data_unit, **kw)
        assert res.constants["reward_range"] == [lo, hi]
        Q = np.asarray(ref.Q)
        top2 = np.sort(Q, axis=-1)[..., -2:] if mdp.A > 1 else None
        clear = (top2[..., 1] - top2[..., 0] > 1e-7) if top2 is not None else np.ones(Q.shape[:-1], bool)
        np.testing.assert_array_equal(np.asarray(res.policy)[clear], np.asarray(ref.policy)[clear])
        tol = 1e-7 * (hi - lo) * max(1.0, np.abs(Q).max())
        np.testing.assert_allclose(res.V, m.values(ref.V, data_unit), atol=tol)
        np.testing.assert_allclose(res.Q, m.values(ref.Q, data_unit), atol=tol)
        np.testing.assert_allclose(res.penalty, (hi - lo) * np.asarray(ref.penalty), atol=tol)


def test_on_unit_rewards_is_the_identity_on_unit_data():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), [[0.1, 0.9], [0.5, 0.2]], [0.5, 0.5], gamma=0.8)
    data = sample_iid_counts(mdp, np.full((2, 2), 0.25), 100, seed=3)
    assert unit_dataset(data)[0] is data
    a, b = on_unit_rewards(empirical_vi, data), empirical_vi(data)
    np.testing.assert_array_equal(a.V, b.V)
    np.testing.assert_array_equal(a.policy, b.policy)


# ---------------------------------------------------------------------- bounds
def test_bounds_scale_with_the_range_width():
    thm4 = bounds.get("rashidinejad2021_thm4")  # sqrt(S (C - 1) / N) + S / N
    assert thm4.evaluate(N=1000, C=1.0, S=10) == pytest.approx(0.01)
    assert thm4.evaluate(N=1000, C=1.0, S=10, reward_range=(-1, 2)) == pytest.approx(0.03)
    thm6 = bounds.get("rashidinejad2021_thm6_general")  # sqrt(S C / ((1 - gamma)^5 N)): 20 * 32 / 1000 = 0.64
    kw = dict(N=1000, C=2.0, S=10, gamma=0.5, L=1.0)
    assert thm6.evaluate(**kw) == pytest.approx(0.8)
    assert thm6.evaluate(**kw, reward_range=(2.0, 4.5)) == pytest.approx(2.0)
    hp = bounds.get("rashidinejad2021_thm1_hp")  # min(1, ...): the unit range's largest gap, times the width
    assert hp.evaluate(N=10, C=100.0, A=2, delta=0.5, check_regime=False, reward_range=(-3, 0)) == pytest.approx(3.0)
    np.testing.assert_allclose(thm4.evaluate(N=np.array([100.0, 1000.0]), C=1.0, S=10, reward_range=(0, 2)),
                               [0.2, 0.02])  # fmt: skip
    with pytest.raises(ValueError, match="reward_range is"):
        thm4.evaluate(N=1000, C=1.0, S=10, reward_range=(1, 1))


@settings(max_examples=25, deadline=None)
@given(tabular_mdps(episodic=True, max_S=4, max_A=3, max_H=4), st.sampled_from([(0.0, 1.0), (-1.0, 2.0), (2.0, 7.0)]),
       st.sampled_from([0.5, 0.9]), st.integers(0, 2**32 - 1))  # fmt: skip
def test_episodic_algorithms_on_a_discounted_horizon_match_the_stage_reward_mdp(mdp, reward_range, g, seed):
    """A discounted finite horizon through on_unit_rewards against the undiscounted stage-reward MDP of the mapped
    MDP (deterministic rewards, so the two samples are the same up to rounding), and empirical VI against exact
    planning on the data's own empirical model (which keeps the range and the discount)."""
    lo, hi = reward_range
    ranged = mdp.replace(R=lo + (hi - lo) * mdp.R, reward_range=reward_range, reward_noise="deterministic", gamma=g)
    stage = undiscounted_stages(unit_rewards(ranged)[0])
    mu = np.full((mdp.horizon, mdp.S, mdp.A), 1.0 / (mdp.S * mdp.A))
    data, data_stage = sample_iid_counts(ranged, mu, 30, seed=seed), sample_iid_counts(stage, mu, 30, seed=seed)
    assert data.meta["discount"] == g and "discount" not in data_stage.meta
    with pytest.raises(ValueError, match="undiscounted finite horizon" if lo == 0 and hi == 1 else "assumes rewards"):
        vi_lcb_episodic(data)
    weight = (g ** np.arange(mdp.horizon))[:, None]
    for algo in (vi_lcb_episodic, empirical_vi):
        res, ref = on_unit_rewards(algo, data), algo(data_stage)
        assert res.constants["discount"] == g
        Q = np.asarray(ref.Q)
        top2 = np.sort(Q, axis=-1)[..., -2:] if mdp.A > 1 else None
        clear = (top2[..., 1] - top2[..., 0] > 1e-7) if top2 is not None else np.ones(Q.shape[:-1], bool)
        np.testing.assert_array_equal(np.asarray(res.policy)[clear], np.asarray(ref.policy)[clear])
        tail = lo * (1 - g ** (mdp.horizon - np.arange(mdp.horizon)[:, None])) / (1 - g)
        np.testing.assert_allclose(res.V, (hi - lo) * np.asarray(ref.V) / weight + tail, atol=1e-7 * (hi - lo))
    # the third route: exact discounted planning on the empirical model in the data's own units
    exact = planning.backward_induction(data.empirical_mdp(np.full(mdp.S, 1.0 / mdp.S)))
    np.testing.assert_allclose(on_unit_rewards(empirical_vi, data).V, exact.V, atol=1e-9 * max(1.0, abs(lo), hi))


def test_pevi_through_on_unit_rewards_with_tabular_features():
    """PEVI (Jin et al. 2021) with one-hot features on a ranged MDP's data: the same policy as on the mapped MDP's
    data with the same seed, values mapped back; refused without the map."""
    import functools

    from theory_rl.algorithms.linear import pevi

    rng = np.random.default_rng(5)
    S, A, H = 3, 2, 3
    mdp = TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), -3.0 + 4.0 * rng.random((S, A)), np.full(S, 1 / S),
                     horizon=H, reward_range=(-3, 1), reward_noise="gaussian", reward_std=0.4)  # fmt: skip
    unit, m = unit_rewards(mdp)
    phi = np.eye(S * A).reshape(S, A, S * A)
    mu = np.full((H, S, A), 1.0 / (S * A))
    data, data_unit = sample_iid_counts(mdp, mu, 200, seed=9), sample_iid_counts(unit, mu, 200, seed=9)
    with pytest.raises(ValueError, match=r"PEVI assumes rewards in \[0, 1\]"):
        pevi(phi, data)
    res, ref = on_unit_rewards(functools.partial(pevi, phi), data, penalty_scale=0.1), pevi(phi, data_unit,
                                                                                          penalty_scale=0.1)
    np.testing.assert_array_equal(res.policy, ref.policy)
    np.testing.assert_allclose(res.V, m.values(ref.V, data_unit), atol=1e-9)
    assert not np.allclose(res.V, ref.V)  # the map is not the identity here


def test_every_algorithm_that_assumes_unit_rewards_refuses_a_range():
    """Each refusal of issue 15, item 5, by name: a ranged (or discounted finite-horizon) model or dataset is refused
    at once with the map to use, never run with constants sized for [0, 1]."""
    from theory_rl.algorithms import edge_of_reach, glow, hybrid_pg, o2o, robust_offline, sim2real

    rng = np.random.default_rng(2)
    S, A, H = 3, 2, 2
    P = rng.dirichlet(np.ones(S), size=(S, A))
    ranged = dict(R=-1.0 + 3.0 * rng.random((S, A)), init=np.full(S, 1 / S), reward_range=(-1, 2),
                  reward_noise="deterministic")  # fmt: skip
    disc = TabularMDP(P, gamma=0.9, **ranged)
    epi = TabularMDP(P, horizon=H, **ranged)
    epi_disc = TabularMDP(P, gamma=0.9, horizon=H, R=np.full((S, A), 0.5), init=np.full(S, 1 / S))
    disc_data = sample_iid_counts(disc, np.full((S, A), 1 / (S * A)), 30, seed=0)
    epi_counts = sample_iid_counts(epi_disc, np.full((H, S, A), 1 / (S * A)), 30, seed=0)
    classes = glow.decoy_classes(epi_disc.replace(gamma=None), [np.zeros((H, S, A), bool)], 0.5)
    calls = {
        "GLOW (theory_rl.algorithms.glow)": lambda: glow.glow(epi, classes, 2, seed=0),
        "model_based_classes": lambda: glow.model_based_classes([epi]),
        "decoy_classes": lambda: glow.decoy_classes(epi_disc, [np.zeros((H, S, A), bool)], 0.5),
        "GLOW's statistics": lambda: glow.mabo_cr(classes, epi_counts, 1.0),
        "count_fqi": lambda: hybrid_pg.count_fqi(epi_counts),
        "hac / hy_q / hnpg": lambda: hybrid_pg.hac(epi, None, 2, seed=0),
        "the sim2real algorithms": lambda: sim2real.sim_only(disc),
        "IQL / RIQL": lambda: robust_offline.iql(sample_iid(disc, np.full((S, A), 1 / (S * A)), 30, seed=0)),
        "finetune": lambda: o2o.finetune(disc, disc_data, seed=0),
        "truncated_fqi": lambda: edge_of_reach.truncated_fqi(disc, [0], 2, seed=0),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"{re.escape(name)} assumes (rewards in \[0, 1\]|an undiscounted)"):
            call()
