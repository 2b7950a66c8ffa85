"""Issue 14, item 3 (fourth pass): tests written against the mutants of ``theory_rl/algorithms/glow/`` that the first
complete run on the current code (reward ranges, discounted horizons and action masks merged) left alive after
``test_glow_mutation.py`` .. ``test_glow_mutation3.py``: the refusals of problems off GLOW's scale, the
de-duplication of near-equal density ratios, and the optimism's exact empirical mean."""

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
