"""The constrained-MDP occupancy LP (issue 18, the realism benchmark's safety reference) against exhaustive
enumeration: with one constraint the optimum over stationary stochastic policies is the best mixture of two
deterministic policies (the occupancy polytope is the convex hull of theirs; its (return, cost) image is a polygon
and a single linear constraint cuts the best point on an edge), so enumerating the A^S deterministic policies and
all pairs is an independent exact oracle."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning
from theory_rl.algorithms.constrained_mdp import constrained_optimum
from theory_rl.mdp import TabularMDP


def _random_cmdp(seed, S=3, A=2, gamma=0.8):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(S, 0.5), size=(S, A))
    R = rng.uniform(size=(S, A))
    cost = rng.uniform(size=(S, A)) * (rng.uniform(size=(S, A)) < 0.7)
    return TabularMDP(P, R, rng.dirichlet(np.ones(S)), gamma=gamma), cost


def _cost(mdp, cost, pi):
    return float((planning.occupancy(mdp, pi) * cost).sum() / (1 - mdp.gamma))


def _enumerate(mdp, cost, budget):
    pts = []
    for acts in itertools.product(range(mdp.A), repeat=mdp.S):
        pi = np.array(acts)
        pts.append((planning.expected_return(mdp, pi), _cost(mdp, cost, pi)))
    best = max((J for J, C in pts if C <= budget), default=-np.inf)
    for (J1, C1), (J2, C2) in itertools.combinations(pts, 2):
        if (C1 - budget) * (C2 - budget) < 0:  # one over, one under: the mixture that spends exactly the budget
            lam = (budget - C2) / (C1 - C2)
            best = max(best, lam * J1 + (1 - lam) * J2)
    return best, min(C for _, C in pts), pts


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), frac=st.floats(0.0, 1.0))
def test_lp_value_equals_the_best_mixture_of_deterministic_policies(seed, frac):
    mdp, cost = _random_cmdp(seed)
    pts = [_cost(mdp, cost, np.array(a)) for a in itertools.product(range(mdp.A), repeat=mdp.S)]
    budget = min(pts) + frac * (max(pts) - min(pts))
    best, _, _ = _enumerate(mdp, cost, budget)
    res = constrained_optimum(mdp, cost, budget)
    assert res.constants["value"] == pytest.approx(best, abs=1e-7)
    # the returned stochastic policy attains the value and meets the budget when evaluated exactly
    assert planning.expected_return(mdp, res.policy) == pytest.approx(best, abs=1e-7)
    assert _cost(mdp, cost, res.policy) <= budget + 1e-7


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_slack_budget_gives_the_unconstrained_optimum_and_tight_binds(seed):
    mdp, cost = _random_cmdp(seed)
    J_star = planning.optimal_return(mdp)
    res = constrained_optimum(mdp, cost, 1e6)
    assert res.constants["value"] == pytest.approx(J_star, abs=1e-8)
    assert not res.constants["binding"] and res.constants["multiplier"] == pytest.approx(0.0, abs=1e-9)
    # a budget strictly between the least cost and the optimum's own cost binds and costs return
    c_star = _cost(mdp, cost, planning.solve(mdp).policy)
    least = res.constants["least_cost"]
    if c_star - least > 1e-6:
        budget = 0.5 * (least + c_star)
        tight = constrained_optimum(mdp, cost, budget)
        assert tight.constants["binding"]
        assert tight.constants["cost"] == pytest.approx(budget, abs=1e-7)
        assert tight.constants["value"] < J_star - 1e-9
        assert tight.constants["multiplier"] > 0
        # the multiplier is the slope of the value in the budget (envelope theorem), by a finite difference
        eps = 1e-5 * (c_star - least)
        up = constrained_optimum(mdp, cost, budget + eps).constants["value"]
        assert (up - tight.constants["value"]) / eps == pytest.approx(tight.constants["multiplier"], rel=1e-3)


def test_infeasible_budget_is_refused_or_gives_the_least_cost_policy():
    mdp, cost = _random_cmdp(3)
    _, least, pts = _enumerate(mdp, cost, 0.0)
    if least <= 1e-9:
        cost = cost + 0.1
        _, least, pts = _enumerate(mdp, cost, 0.0)
    with pytest.raises(ValueError, match="budget"):
        constrained_optimum(mdp, cost, 0.5 * least)
    res = constrained_optimum(mdp, cost, 0.5 * least, on_infeasible="least_cost")
    assert not res.constants["feasible"]
    assert res.constants["cost"] == pytest.approx(least, abs=1e-7)
    assert res.constants["value"] == pytest.approx(max(J for J, C in pts if C <= least + 1e-9), abs=1e-7)


@pytest.mark.parametrize("kwargs", [{"cost": -np.ones((3, 2))}, {"cost": np.ones((3, 3))}, {"budget": -1.0},
                                    {"budget": float("nan")}, {"on_infeasible": "clip"}])
def test_bad_input(kwargs):
    mdp, cost = _random_cmdp(0)
    args = {"cost": cost, "budget": 1.0, **kwargs}
    with pytest.raises(ValueError):
        constrained_optimum(mdp, args.pop("cost"), args.pop("budget"), **args)
