"""Edge-of-reach analysis (Sims et al. 2024, arXiv 2402.12527) against independent oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import shortest_path

from tests.strategies import tabular_mdps
from theory_rl.algorithms.edge_of_reach import (
    boundary_value_q,
    count_model,
    disagreement_penalty,
    interpolate_models,
    linear_fqi,
    random_model,
    reach_diameter,
    reach_distances,
    reach_sets,
    shortest_path_states,
    stay_gridworld,
    truncated_fqi,
    two_state_example,
    void_values,
)
from theory_rl.generators import garnet
from theory_rl.planning import solve

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def mdp_with_starts(draw):
    """A small discounted MDP (sparse supports included) and a random non-empty start set."""
    mdp = draw(tabular_mdps(max_S=7, max_A=3, episodic=False))
    starts = draw(st.lists(st.integers(0, mdp.S - 1), min_size=1, max_size=3, unique=True))
    return mdp, np.array(starts)


def bfs_oracle(P: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Distances from the start set by scipy's graph search on a super-source graph (independent of reach_sets)."""
    S = P.shape[0]
    adj = np.zeros((S + 1, S + 1))
    adj[:S, :S] = (P > 0).any(axis=1)
    adj[S, starts] = 1.0
    d = shortest_path(adj, unweighted=True, indices=S)[:S] - 1.0
    return np.where(np.isinf(d), -1, d).astype(int)


@pytest.fixture(scope="module")
def corridor():
    """15x15 five-action grid, start (7, 2), goal (7, 12), dataset = the straight corridor between them."""
    mdp = stay_gridworld(15, 15, goal=(7, 12), start=(7, 2), gamma=0.9)
    return mdp, shortest_path_states((7, 2), (7, 12), 15)


# ---------------------------------------------------------------------------------------------- reach sets
def test_chain_reach_sets():
    P = np.zeros((4, 1, 4))
    P[[0, 1, 2, 3], 0, [1, 2, 3, 3]] = 1.0
    for k, edge in [(1, [1]), (2, [2]), (3, [3]), (4, [])]:
        rs = reach_sets(P, [0], k)
        assert np.flatnonzero(rs.edge).tolist() == edge
        assert np.flatnonzero(rs.within).tolist() == list(range(min(k, 4)))
    assert reach_diameter(P, [0]) == 3


@given(mdp_with_starts(), st.integers(1, 8))
@SETTINGS
def test_reach_sets_match_graph_distances(case, k):
    mdp, starts = case
    d = bfs_oracle(mdp.P, starts)
    np.testing.assert_array_equal(reach_distances(mdp, starts), d)
    rs = reach_sets(mdp.P, starts, k)
    np.testing.assert_array_equal(rs.within, (d >= 0) & (d < k))
    np.testing.assert_array_equal(rs.edge, d == k)
    # R_t by boolean matrix powers of the adjacency matrix
    adj = (mdp.P > 0).any(axis=1).astype(int)
    x = np.zeros(mdp.S, dtype=int)
    x[starts] = 1
    for t in range(k + 1):
        np.testing.assert_array_equal(rs.R[t], x > 0)
        x = ((x @ adj) > 0).astype(int)


@given(mdp_with_starts(), st.integers(1, 9))
@SETTINGS
def test_edge_empty_exactly_when_k_exceeds_diameter(case, k):
    mdp, starts = case
    diameter = int(bfs_oracle(mdp.P, starts).max())
    assert reach_diameter(mdp.P, starts) == diameter
    assert (not reach_sets(mdp.P, starts, k).edge.any()) == (k > diameter)


def test_grid_edge_is_the_band_at_distance_k():
    mdp = stay_gridworld(15, 15, goal=(0, 14), start=(7, 2))
    rs = reach_sets(mdp, shortest_path_states((7, 2), (7, 6), 15), 3)
    rows, cols = np.divmod(np.arange(mdp.S), 15)
    manhattan = np.abs(rows - 7) + np.maximum.reduce([2 - cols, cols - 6, np.zeros_like(cols)])
    np.testing.assert_array_equal(rs.edge, manhattan == 3)
    np.testing.assert_array_equal(rs.within, manhattan < 3)
    assert rs.diameter == 7 + 8


# ---------------------------------------------------------------------------------------------- FQI variants
@given(mdp_with_starts(), st.integers(1, 4), st.integers(0, 2**32 - 1))
@SETTINGS
def test_oracle_patch_recovers_q_star_within_reach(case, k, seed):
    mdp, starts = case
    res = truncated_fqi(mdp, starts, k, variant="oracle_patch", void_scale=5.0, seed=seed)
    Q_star = solve(mdp).Q
    W = res.reach.within
    np.testing.assert_allclose(res.Q[W], Q_star[W], atol=1e-8, rtol=0)
    assert res.converged


@given(mdp_with_starts(), st.integers(1, 4), st.integers(0, 2**32 - 1))
@SETTINGS
def test_base_fixed_point_is_the_boundary_value_solve(case, k, seed):
    mdp, starts = case
    res = truncated_fqi(mdp, starts, k, variant="base", void_scale=3.0, seed=seed)
    void = void_values(mdp.S, mdp.A, scale=3.0, seed=np.random.default_rng(seed).spawn(2)[0])[0]
    W = res.reach.within
    np.testing.assert_array_equal(res.Q[~W], void[~W])  # the void is never fitted
    oracle = boundary_value_q(mdp, W, void.max(axis=1))
    np.testing.assert_allclose(res.Q[W], oracle[W], atol=1e-7, rtol=1e-9)


@given(mdp_with_starts(), st.integers(1, 4), st.integers(0, 2**32 - 1))
@SETTINGS
def test_proposition_1_error_decays_with_distance_to_the_edge(case, k, seed):
    """|V_base(s) - V*(s)| <= gamma^(k - d(s)) max_{E_k} |max_a Q0 - V*| for s in W_k (Proposition 1)."""
    mdp, starts = case
    res = truncated_fqi(mdp, starts, k, variant="base", void_scale=3.0, seed=seed)
    V_star = solve(mdp).V
    rs = res.reach
    if not rs.edge.any():
        np.testing.assert_allclose(res.V[rs.within], V_star[rs.within], atol=1e-8)
        return
    void_err = np.abs(res.V[rs.edge] - V_star[rs.edge]).max()
    W = np.flatnonzero(rs.within)
    bound = mdp.gamma ** (k - rs.distance[W]) * void_err
    assert np.all(np.abs(res.V[W] - V_star[W]) <= bound + 1e-7)


@given(mdp_with_starts(), st.integers(1, 4), st.integers(0, 2**32 - 1), st.integers(2, 6))
@SETTINGS
def test_ravl_penalty_exactly_zero_within_reach(case, k, seed, n):
    mdp, starts = case
    res = truncated_fqi(mdp, starts, k, variant="ravl", n_members=n, void_scale=2.0, seed=seed)
    assert np.all(res.penalty[res.fitted] == 0.0)
    assert np.all(res.members[:, res.fitted] == res.members[0, res.fitted])
    if res.reach.edge.any():
        assert np.all(res.penalty[res.reach.edge] > 0.0)  # distinct continuous draws, almost surely
    # its fixed point is the boundary-value solve with the pessimistic boundary max_a min_i Q0_i
    void = void_values(mdp.S, mdp.A, scale=2.0, seed=np.random.default_rng(seed).spawn(2)[0], n_members=n)
    oracle = boundary_value_q(mdp, res.reach.within, void.min(axis=0).max(axis=1))
    np.testing.assert_allclose(res.Q[res.reach.within], oracle[res.reach.within], atol=1e-7, rtol=1e-9)


@given(mdp_with_starts(), st.integers(1, 3))
@SETTINGS
def test_terminal_and_long_variants(case, k):
    mdp, starts = case
    term = truncated_fqi(mdp, starts, k, variant="terminal", void_scale=3.0, seed=1)
    W = term.reach.within
    oracle = boundary_value_q(mdp, W, np.zeros(mdp.S))
    np.testing.assert_allclose(term.Q[W], oracle[W], atol=1e-7, rtol=1e-9)
    long = truncated_fqi(mdp, starts, k, variant="long", void_scale=3.0, seed=1)
    assert not long.reach.edge.any()
    assert long.k == max(k, reach_diameter(mdp.P, starts) + 1)
    Wl = long.reach.within
    np.testing.assert_allclose(long.Q[Wl], solve(mdp).Q[Wl], atol=1e-8, rtol=0)


def test_corridor_headline_numbers(corridor):
    """Base is lured to the edge; OraclePatch and the RAVL analogue recover Q*(start) and the optimal return."""
    mdp, starts = corridor
    q_star = float(mdp.init @ solve(mdp).V)
    assert q_star == pytest.approx(0.9**10 / 0.1, rel=1e-12)
    base = truncated_fqi(mdp, starts, 3, variant="base", void_scale=10.0, seed=0)
    assert base.history[-1] > 2 * q_star and base.true_return < 0.01 * q_star
    for variant in ("oracle_patch", "ravl"):
        res = truncated_fqi(mdp, starts, 3, variant=variant, void_scale=10.0, seed=0)
        assert res.history[-1] == pytest.approx(q_star, abs=1e-8)
        assert res.true_return == pytest.approx(q_star, abs=1e-8)


def test_sampled_mode_is_deterministic_and_zero_penalty_on_visited_pairs(corridor):
    mdp, starts = corridor
    kw = dict(mode="sampled", n_iterations=20, n_rollouts=16, void_scale=3.0, seed=7)
    a = truncated_fqi(mdp, starts, 3, variant="ravl", n_members=4, **kw)
    b = truncated_fqi(mdp, starts, 3, variant="ravl", n_members=4, **kw)
    np.testing.assert_array_equal(a.members, b.members)
    np.testing.assert_array_equal(a.history, b.history)
    assert np.all(a.penalty[a.fitted] == 0.0)
    assert a.fitted.any() and not a.fitted[~a.reach.within].any()  # rollouts never fit a state outside W_k
    c = truncated_fqi(mdp, starts, 3, variant="ravl", n_members=4, **{**kw, "seed": 8})
    assert not np.array_equal(a.members, c.members)


def test_sampled_mode_converges_to_support_mode_on_deterministic_model():
    """With every W_k pair visited, sampled FQI on a deterministic model has the support-mode fixed point."""
    mdp = stay_gridworld(5, 5, goal=(2, 4), start=(2, 0), gamma=0.5)
    starts = shortest_path_states((2, 0), (2, 4), 5)
    sup = truncated_fqi(mdp, starts, 2, variant="base", void_scale=1.0, seed=3)
    smp = truncated_fqi(
        mdp,
        starts,
        2,
        variant="base",
        mode="sampled",
        epsilon=1.0,
        n_iterations=80,
        n_rollouts=64,
        void_scale=1.0,
        seed=3,
    )
    assert smp.fitted.sum() == sup.fitted.sum()
    np.testing.assert_allclose(smp.Q, sup.Q, atol=1e-9)


# ---------------------------------------------------------------------------------------------- models
def test_stay_gridworld_closed_form():
    mdp = stay_gridworld(4, 6, goal=(3, 5), start=(0, 0), gamma=0.8)
    rows, cols = np.divmod(np.arange(mdp.S), 6)
    np.testing.assert_allclose(solve(mdp).V, 0.8 ** (np.abs(rows - 3) + np.abs(cols - 5)) / 0.2, atol=1e-9)


def test_mopo_penalty_vanishes_at_the_true_model():
    mdp = garnet(6, 2, 3, seed=0, gamma=0.9)
    models = count_model(mdp, 5, seed=1, n_members=4)
    assert models.shape == (4, 6, 2, 6)
    np.testing.assert_allclose(models.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(models, count_model(mdp, 5, seed=1, n_members=4))
    u = [disagreement_penalty(interpolate_models(models, mdp.P, w)).max() for w in (0.0, 0.5, 1.0)]
    assert u[0] > 0 and u[1] == pytest.approx(u[0] / 2) and u[2] == pytest.approx(0.0, abs=1e-15)
    rnd = random_model(6, 2, seed=2)
    np.testing.assert_allclose(interpolate_models(mdp.P, rnd, 1.0), rnd)


# ---------------------------------------------------------------------------------------------- linear FQI
@pytest.mark.parametrize("gamma", [0.51, 0.6, 0.9, 0.99])
def test_two_state_example_diverges_above_one_half(gamma):
    w = two_state_example(gamma, n_iterations=60)
    np.testing.assert_allclose(w[1:], (2 * gamma) ** np.arange(1, 61), rtol=1e-10)
    assert w[-1] > 1e0 and np.all(np.diff(w) > 0)


@pytest.mark.parametrize("gamma", [0.0, 0.2, 0.49])
def test_two_state_example_converges_below_one_half(gamma):
    w = two_state_example(gamma, w0=-3.0, n_iterations=200)
    np.testing.assert_allclose(w[1:], 3.0 * (2 * gamma) ** np.arange(1, 201), rtol=1e-10, atol=1e-300)
    assert abs(w[-1]) < 0.1 * 3.0


def test_two_state_example_boundary_and_tabular_contrast():
    np.testing.assert_allclose(two_state_example(0.5, n_iterations=20), 1.0)
    # with one-hot (tabular) features the edge values are separate weights and nothing diverges
    w = linear_fqi(np.eye(3)[[0]], [0.0], np.eye(3)[None, [1, 2]], 0.99, w0=[1.0, 5.0, -5.0], n_iterations=50)
    np.testing.assert_allclose(w[-1], [0.99 * 5.0, 5.0, -5.0])


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(starts=[9]), r"starts\[0\] is state 9"),
        (dict(starts=[]), "starts is empty"),
        (dict(starts=[0.5]), "integer state indices"),
        (dict(k=0), "k is 0"),
        (dict(variant="mopo"), "variant is 'mopo'"),
        (dict(mode="online"), "mode is 'online'"),
        (dict(void=np.zeros((2, 2))), "void has shape"),
        (dict(model=np.ones((3, 2, 3))), r"model\[0, 0\] sums to 3"),
        (dict(reward_penalty=-np.ones((3, 2))), r"reward_penalty\[0, 0\] is -1"),
        (dict(void_scale=-1.0), "void_scale is -1"),
        (dict(variant="ravl", n_members=1), "n_members"),
        (dict(mode="sampled", epsilon=2.0), "epsilon is 2"),
    ],
)
def test_truncated_fqi_rejects_bad_input(kwargs, match):
    mdp = garnet(3, 2, 2, seed=0, gamma=0.9)
    args = dict(starts=[0], k=2, seed=0) | kwargs
    with pytest.raises(ValueError, match=match):
        truncated_fqi(mdp, args.pop("starts"), args.pop("k"), **args)


def test_other_functions_reject_bad_input():
    mdp = garnet(3, 2, 2, seed=0, gamma=0.9)
    with pytest.raises(ValueError, match="atol is 1"):
        reach_sets(mdp, [0], 1, atol=1.0)
    with pytest.raises(ValueError, match="boolean mask of shape"):
        reach_sets(mdp, np.array([True, False]), 1)
    with pytest.raises(ValueError, match="gamma is 1"):
        two_state_example(1.0)
    with pytest.raises(ValueError, match="weight is 2"):
        interpolate_models(mdp.P, mdp.P, 2.0)
    with pytest.raises(ValueError, match="goal"):
        stay_gridworld(3, 3, goal=(3, 0))
    with pytest.raises(ValueError, match="within must be a boolean mask"):
        boundary_value_q(mdp, [1, 0, 0], np.zeros(3))
    with pytest.raises(ValueError, match="seed is None"):
        count_model(mdp, 3, seed=None)


# ---------------------------------------------------------------------------------------------- issue 12
def test_truncated_fqi_needs_a_seed_and_speaks_the_shared_vocabulary():
    from theory_rl.results import IterativeResult

    mdp = garnet(4, 2, 2, seed=0, gamma=0.8)
    with pytest.raises(TypeError, match="seed"):
        truncated_fqi(mdp, [0], 2)
    res = truncated_fqi(mdp, [0], 2, seed=0)
    assert isinstance(res, IterativeResult) and res.method == "truncated_fqi" and res.converged
    assert res.constants["gamma"] == 0.8 and res.constants["tol"] == 1e-10
    assert "converged after" in res.certificate()
    np.testing.assert_array_equal(res.V, res.Q.max(axis=1))


def test_truncated_fqi_stops_through_the_shared_on_max_iter_rule():
    from theory_rl.results import ConvergenceError, ConvergenceWarning

    mdp = garnet(4, 2, 2, seed=0, gamma=0.9)
    with pytest.raises(ConvergenceError, match="truncated_fqi did not converge in 3 iterations"):
        truncated_fqi(mdp, [0], 3, max_iter=3, void_scale=5.0, seed=0)
    with pytest.warns(ConvergenceWarning, match="truncated_fqi"):
        res = truncated_fqi(mdp, [0], 3, max_iter=3, void_scale=5.0, seed=0, on_max_iter="warn")
    assert not res.converged and res.iterations == 3 and res.error_bound > 1e-10
    with pytest.raises(ValueError, match="on_max_iter is 'ignore'"):
        truncated_fqi(mdp, [0], 3, seed=0, on_max_iter="ignore")


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1j, "0.1"], ids=repr)
def test_edge_of_reach_refuses_non_finite_or_complex_scalars(bad):
    mdp = garnet(3, 2, 2, seed=0, gamma=0.9)
    for name in ("atol", "tol", "void_scale", "penalty_scale", "epsilon"):
        with pytest.raises(ValueError, match=f"{name} is"):
            truncated_fqi(mdp, [0], 2, seed=0, **{name: bad})
    with pytest.raises(ValueError, match="atol is"):
        reach_sets(mdp, [0], 1, atol=bad)
    with pytest.raises(ValueError, match="weight is"):
        interpolate_models(mdp.P, mdp.P, bad)
    with pytest.raises(ValueError, match="gamma is"):
        two_state_example(bad)
    with pytest.raises(ValueError, match="scale is"):
        void_values(2, 2, scale=bad, seed=0)
    with pytest.raises(ValueError, match="k is"):
        reach_sets(mdp, [0], 2.0)


def test_start_mask_is_public_and_shared():
    from theory_rl.algorithms.edge_of_reach._reach import start_mask

    np.testing.assert_array_equal(start_mask([2, 0], 3), [True, False, True])
    with pytest.raises(ValueError, match="starts is empty"):
        start_mask([], 3)


# ---------------------------------------------------------------------------------------------- issue 12, item 4
def test_cells_are_integer_pairs_named():
    with pytest.raises(ValueError, match=r"goal\[1\] is float"):
        stay_gridworld(3, 3, goal=(1, 1.5))
    with pytest.raises(ValueError, match="start is str"):
        shortest_path_states("ab", (1, 1), 3)
    with pytest.raises(ValueError, match="width is"):
        shortest_path_states((0, 0), (1, 1), 2.5)
    with pytest.raises(ValueError, match=r"goal \(0, 3\) is outside"):
        shortest_path_states((0, 0), (0, 3), 3)


def test_truncated_fqi_checks_parameters_its_variant_does_not_use():
    mdp = garnet(3, 2, 2, seed=0, gamma=0.9)
    with pytest.raises(ValueError, match=r"oracle_q\[0, 0\] is nan"):
        truncated_fqi(mdp, [0], 2, seed=0, oracle_q=np.full((3, 2), np.nan))
    for name in ("n_members", "n_iterations", "n_rollouts"):
        with pytest.raises(ValueError, match=rf"\b{name}\b.*more than this machine"):
            truncated_fqi(mdp, [0], 2, seed=0, **{name: 10**12})
    with pytest.raises(ValueError, match=r"\(k \+ 1, S\)"):
        truncated_fqi(mdp, [0], 10**12, seed=0)


def test_absurd_sizes_are_refused_before_allocating():
    mdp = garnet(3, 2, 2, seed=0, gamma=0.9)
    with pytest.raises(ValueError, match=r"\(n_members, S, A, S\)"):
        count_model(mdp, 2, seed=0, n_members=10**12)
    with pytest.raises(ValueError, match=r"\(k \+ 1, S\)"):
        reach_sets(mdp, [0], 10**12)
    with pytest.raises(ValueError, match=r"\(n_iterations \+ 1, d\)"):
        two_state_example(0.4, n_iterations=10**12)
    with pytest.raises(ValueError, match=r"\(n_members, S, A\)"):
        void_values(3, 2, scale=1.0, seed=0, n_members=10**12)
    with pytest.raises(ValueError, match=r"\(S, A, S\)"):
        random_model(10**12, 2, seed=0)
