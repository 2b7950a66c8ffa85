"""Tests for theory_rl.bounds: monotonicity as the papers state it, numeric evaluation, regimes, limits, LaTeX."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from theory_rl import bounds
from theory_rl.bounds import BOUNDS, A, Bound, C, C_clip, H, K, L, N, S, alpha, delta, gamma, kappa

# --------------------------------------------------------------------------------------------------------------
# Monotonicity as stated (digest papers/lcb.md): +1 increasing, -1 decreasing, 0 constant.
# strict=False where the bound saturates (min(1, .)) so the derivative is 0 on part of the regime.
# --------------------------------------------------------------------------------------------------------------
MONOTONE = [
    ("rashidinejad2021_thm1", N, -1, True), ("rashidinejad2021_thm1", C, +1, True),
    ("rashidinejad2021_thm1_hp", N, -1, False), ("rashidinejad2021_thm1_hp", C, +1, False),
    ("rashidinejad2021_thm1_hp", delta, -1, False), ("rashidinejad2021_thm1_hp", A, +1, False),
    ("rashidinejad2021_thm2_large", N, -1, True), ("rashidinejad2021_thm2_large", C, +1, True),
    # exponential MAB lower bound: decays in N, and the rate (2-C) log(2/(C-1)) falls as C rises over (1, 2)
    ("rashidinejad2021_thm2_small", N, -1, True), ("rashidinejad2021_thm2_small", C, +1, True),
    ("rashidinejad2021_thm3", N, -1, True),
    ("rashidinejad2021_prop1", N, 0, True),  # does not vanish in N
    ("rashidinejad2021_prop2", N, -1, True), ("rashidinejad2021_prop2", C, +1, True),
    ("rashidinejad2021_thm4", N, -1, True), ("rashidinejad2021_thm4", C, +1, True),
    ("rashidinejad2021_thm4", S, +1, True),
    ("rashidinejad2021_thm5", N, -1, True), ("rashidinejad2021_thm5", C, +1, True),
    ("rashidinejad2021_thm5", S, +1, True),
    ("rashidinejad2021_prop3", N, 0, True), ("rashidinejad2021_prop3", C, +1, True),
    ("rashidinejad2021_thm6_expert", N, -1, True), ("rashidinejad2021_thm6_expert", S, +1, True),
    ("rashidinejad2021_thm6_expert", gamma, +1, True),
    ("rashidinejad2021_thm6_general", N, -1, True), ("rashidinejad2021_thm6_general", C, +1, True),
    ("rashidinejad2021_thm6_general", S, +1, True), ("rashidinejad2021_thm6_general", gamma, +1, True),
    ("rashidinejad2021_thm7", N, -1, True), ("rashidinejad2021_thm7", C, +1, True),
    ("rashidinejad2021_thm7", S, +1, True), ("rashidinejad2021_thm7", gamma, +1, True),
    ("rashidinejad2021_thm8", N, -1, True), ("rashidinejad2021_thm8", C, +1, True),
    ("rashidinejad2021_thm8", S, +1, True), ("rashidinejad2021_thm8", gamma, +1, True),
    ("li2024_thm1", N, -1, True), ("li2024_thm1", C_clip, +1, True), ("li2024_thm1", S, +1, True),
    ("li2024_thm1", gamma, +1, True), ("li2024_thm1", delta, -1, True),
    ("li2024_thm3", K, -1, True), ("li2024_thm3", C_clip, +1, True), ("li2024_thm3", S, +1, True),
    ("li2024_thm3", H, +1, True), ("li2024_thm3", delta, -1, True),
]

# C = 1 exactly is left out of the grid: the derivatives in C of sqrt(C - 1) and of KL(1/2 || 1/C) are infinite there.
GRID = {
    N: [2.0, 10.0, 100.0, 1e3, 1e4, 1e6], C: [1.01, 1.3, 1.5, 1.9, 1.99, 2.0, 3.0, 10.0, 100.0],
    S: [1.0, 3.0, 50.0], A: [2.0, 10.0], gamma: [0.5, 0.7, 0.9, 0.99], delta: [0.01, 0.1, 0.5],
    H: [1.0, 5.0, 20.0], K: [2.0, 100.0, 1e4], L: [1.0, 100.0, 1e4], alpha: [0.5, 1.0, 2.0], kappa: [0.1, 1.0],
    C_clip: [0.05, 1.0, 10.0],
}


def _grid_in_regime(b: Bound) -> dict[str, np.ndarray]:
    axes = [np.asarray(GRID[s]) for s in b.symbols]
    mesh = [m.ravel() for m in np.meshgrid(*axes, indexing="ij")]
    values = {s.name: m for s, m in zip(b.symbols, mesh, strict=True)}
    keep = np.asarray(b.in_regime(**values), dtype=bool)
    return {k: v[keep] for k, v in values.items()}


@pytest.mark.parametrize(("name", "sym", "sign", "strict"), MONOTONE, ids=[f"{m[0]}-{m[1]}" for m in MONOTONE])
def test_monotone_as_stated(name, sym, sign, strict):
    b = bounds.get(name)
    pts = _grid_in_regime(b)
    n_pts = len(next(iter(pts.values())))
    assert n_pts >= 3, f"grid has only {n_pts} points inside the regime of {name}"
    args = [pts[s.name] for s in b.symbols]
    # sign of d/dx log f (f > 0): immune to the underflow of exponentially small bounds
    dlog = sympy.diff(sympy.expand_log(sympy.log(b.expr), force=True), sym)
    dplain = sympy.diff(b.expr, sym)
    with np.errstate(all="ignore"):
        f = np.broadcast_to(sympy.lambdify(b.symbols, b.expr, "numpy")(*args), (n_pts,))
        g = np.real(np.broadcast_to(np.asarray(sympy.lambdify(b.symbols, dlog, "numpy")(*args), complex), (n_pts,)))
        d = np.broadcast_to(np.asarray(sympy.lambdify(b.symbols, dplain, "numpy")(*args), float), (n_pts,))
    assert np.all(f >= 0)
    assert np.all(np.isfinite(g)), f"non-finite log-derivative at {n_pts} grid points"
    if sign == 0:
        assert np.all(g == 0) and dplain == 0
        return
    signed = sign * g
    if strict:
        assert np.all(signed > 0), f"{name} not strictly {'in' if sign > 0 else 'de'}creasing in {sym}"
    else:
        assert np.all(signed >= -1e-15) and np.any(signed > 0)
    ok = np.isfinite(d) & (d != 0) & (f > 0)
    assert np.all(np.sign(d[ok]) == np.sign(g[ok]))


def test_thm2_small_rate_decreases_in_C_symbolically():
    rate = (2 - C) * sympy.log(2 / (C - 1))
    # d rate / dC = -log(2/(C-1)) - (2-C)/(C-1) < 0 on (1, 2)
    assert sympy.simplify(sympy.diff(rate, C) - (-sympy.log(2 / (C - 1)) - (2 - C) / (C - 1))) == 0
    for c in [sympy.Rational(101, 100), sympy.Rational(3, 2), sympy.Rational(199, 100)]:
        assert sympy.diff(rate, C).subs(C, c) < 0


# --------------------------------------------------------------------------------------------------------------
# Numeric evaluation equals the sympy expression
# --------------------------------------------------------------------------------------------------------------
STRATEGY = {
    N: st.floats(1.0, 1e7), C: st.one_of(st.just(1.5), st.just(1.0), st.floats(1.0, 2.0), st.floats(1.0, 200.0)),
    S: st.floats(1.0, 1e3), A: st.integers(2, 100).map(float), gamma: st.floats(0.01, 0.999),
    delta: st.floats(1e-6, 0.999), H: st.floats(1.0, 100.0), K: st.floats(1.0, 1e7), L: st.floats(0.1, 1e5),
    alpha: st.floats(0.1, 3.0), kappa: st.floats(0.01, 1.0), C_clip: st.floats(0.01, 100.0),
}


@pytest.mark.parametrize("name", sorted(BOUNDS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_evaluate_matches_expression(name, data):
    b = bounds.get(name)
    values = {s.name: data.draw(STRATEGY[s], label=s.name) for s in b.symbols}
    assume(b.in_regime(**values))
    got = b.evaluate(**values)
    exact = b.expr.subs({s: sympy.Float(values[s.name], 40) for s in b.symbols}).evalf(40)
    if not exact.is_finite and values.get("C") == 1.0:
        # KL(Bern(1/2) || Bern(1/C*)) is infinite at C* = 1: the expression's value there is its limit C* -> 1+
        others = {s: sympy.Float(values[s.name], 40) for s in b.symbols if s != C}
        exact = sympy.limit(b.expr.subs(others), C, 1, "+").evalf(40)
    expected = float(exact)
    assert np.isclose(got, expected, rtol=1e-12, atol=1e-300), (values, got, expected)


def test_evaluate_broadcasts_like_scalar_calls():
    b = bounds.get("rashidinejad2021_thm7")
    n = np.array([10.0, 100.0, 1e4])
    c = np.array([[1.0], [2.0], [5.0]])
    out = b.evaluate(N=n, C=c, S=4, gamma=0.9)
    assert out.shape == (3, 3)
    for i, j in itertools.product(range(3), range(3)):
        assert out[i, j] == b.evaluate(N=n[j], C=c[i, 0], S=4, gamma=0.9)


def test_known_values():
    assert bounds.get("rashidinejad2021_thm1").evaluate(N=400, C=4) == pytest.approx(0.1, rel=1e-15)
    assert bounds.get("rashidinejad2021_thm4").evaluate(N=1000, C=1.0, S=10) == pytest.approx(0.01, rel=1e-15)
    # min(1, .) saturates
    assert bounds.get("rashidinejad2021_thm1_hp").evaluate(N=300, C=50, A=2, delta=0.5) == 1.0
    # KL(Bern(1/2) || Bern(2/3)) = log(3 / (2 sqrt 2))
    kl = np.log(3 / (2 * np.sqrt(2)))
    assert bounds.get("rashidinejad2021_prop2").evaluate(N=7, C=1.5) == pytest.approx(np.exp(-7 * kl), rel=1e-13)


# --------------------------------------------------------------------------------------------------------------
# Regimes and bad input
# --------------------------------------------------------------------------------------------------------------
OUTSIDE = {
    "rashidinejad2021_thm1": dict(N=10, C=0.5),
    "rashidinejad2021_thm1_hp": dict(N=1, C=1, A=2, delta=0.01),
    "rashidinejad2021_thm2_large": dict(N=10, C=1.5),
    "rashidinejad2021_thm2_small": dict(N=10, C=2.5),
    "rashidinejad2021_thm3": dict(N=10, C=2.0, alpha=1.0),
    "rashidinejad2021_prop1": dict(N=1, kappa=0.1),
    "rashidinejad2021_prop2": dict(N=10, C=2.0),
    "rashidinejad2021_thm4": dict(N=10, C=0.5, S=2),
    "rashidinejad2021_thm5": dict(N=10, C=0.5, S=2),
    "rashidinejad2021_prop3": dict(C=2.5),
    "rashidinejad2021_thm6_expert": dict(N=1000, C=10, S=2, gamma=0.9, L=1),
    "rashidinejad2021_thm6_general": dict(N=1000, C=1, S=2, gamma=0.9, L=1),
    "rashidinejad2021_thm7": dict(N=10, C=2, S=2, gamma=1.5),
    "rashidinejad2021_thm8": dict(N=10, C=2.0, S=2, gamma=0.9),
    "li2024_thm1": dict(N=1e6, C_clip=1, S=2, gamma=0.3, delta=0.1),
    "li2024_thm3": dict(K=100, C_clip=1, S=2, H=5, delta=2.0),
}


def test_every_bound_has_an_outside_point():
    assert set(OUTSIDE) == set(BOUNDS)


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_outside_regime_raises(name):
    b = bounds.get(name)
    assert b.in_regime(**OUTSIDE[name]) is False
    with pytest.raises(ValueError, match="outside the regime"):
        b.evaluate(**OUTSIDE[name])
    # the check can be switched off
    b.evaluate(check_regime=False, **{k: v for k, v in OUTSIDE[name].items()
                                      if k in {s.name for s in b.expr.free_symbols}})


def test_outside_regime_raises_for_arrays_with_one_bad_point():
    b = bounds.get("rashidinejad2021_thm2_small")
    np.testing.assert_array_equal(b.in_regime(N=10, C=[1.5, 2.5]), [True, False])
    with pytest.raises(ValueError, match="outside the regime"):
        b.evaluate(N=10, C=np.array([1.5, 2.5]))


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_missing_symbol_is_named(name):
    b = bounds.get(name)
    full = {s.name: 1.5 for s in b.symbols}
    for s in b.symbols:
        partial = {k: v for k, v in full.items() if k != s.name}
        with pytest.raises(ValueError, match=rf"missing value for symbol\(s\) \['{s.name}'\]"):
            b.evaluate(**partial)


def test_unknown_symbol_rejected():
    with pytest.raises(ValueError, match="unknown symbol.*'gama'"):
        bounds.get("rashidinejad2021_thm7").evaluate(N=10, C=2, S=2, gama=0.9)


def test_bound_validates_fields():
    with pytest.raises(ValueError, match="setting"):
        Bound("x", "p", "Theorem 0", "pomdp", "LCB", "upper", N, sympy.true, "", "", "", False)
    with pytest.raises(ValueError, match="kind"):
        Bound("x", "p", "Theorem 0", "mab", "LCB", "sideways", N, sympy.true, "", "", "", False)
    with pytest.raises(ValueError, match="miss"):
        Bound("x", "p", "Theorem 0", "mab", "LCB", "upper", N / C, sympy.true, "", "", "", False, symbols=(N,))


# --------------------------------------------------------------------------------------------------------------
# Limits and identities
# --------------------------------------------------------------------------------------------------------------
def test_thm4_and_thm5_at_expert_data_reduce_to_S_over_N():
    for name in ("rashidinejad2021_thm4", "rashidinejad2021_thm5"):
        assert sympy.simplify(bounds.get(name).expr.subs(C, 1) - S / N) == 0


def test_thm7_at_expert_data_is_the_fast_rate():
    assert sympy.simplify(bounds.get("rashidinejad2021_thm7").expr.subs(C, 1) - S / ((1 - gamma) ** 2 * N)) == 0


def test_lcb_matches_the_lower_bounds_where_the_paper_says_so():
    # MAB, C* >= 2: LCB's sqrt(C*/N) is minimax; CB: Thm 4 = Thm 5
    thm1, thm2 = bounds.get("rashidinejad2021_thm1"), bounds.get("rashidinejad2021_thm2_large")
    assert sympy.simplify(thm1.expr - thm2.expr) == 0
    assert sympy.simplify(bounds.get("rashidinejad2021_thm4").expr - bounds.get("rashidinejad2021_thm5").expr) == 0


@pytest.mark.parametrize("c", [sympy.Rational(11, 10), sympy.Rational(3, 2), sympy.Rational(19, 10)])
def test_thm2_exponential_bound_vanishes_in_N(c):
    expr = bounds.get("rashidinejad2021_thm2_small").expr.subs(C, c)
    assert sympy.limit(expr, N, sympy.oo) == 0
    assert expr.subs(N, 1) > 0


@pytest.mark.parametrize("c", [sympy.Rational(101, 100), sympy.Rational(3, 2), sympy.Rational(199, 100)])
def test_prop2_exponent_is_positive_on_1_2(c):
    assert bounds.bernoulli_kl(sympy.Rational(1, 2), 1 / c) > 0
    assert bounds.kl_half_vs_inverse(c) > 0
    assert sympy.limit(bounds.get("rashidinejad2021_prop2").expr.subs(C, c), N, sympy.oo) == 0


def test_stable_kl_equals_bernoulli_kl():
    generic = bounds.bernoulli_kl(sympy.Rational(1, 2), 1 / C)
    stable = bounds.kl_half_vs_inverse(C)
    for c in ["1.0001", "1.3", "1.5", "1.9", "1.999999", "3", "50"]:
        c = sympy.Float(c, 50)
        assert abs((generic - stable.rewrite(sympy.log)).subs(C, c).evalf(50)) < sympy.Float("1e-45")
    assert bounds.kl_half_vs_inverse(2) == 0
    assert sympy.simplify(bounds.bernoulli_kl(sympy.Rational(1, 2), sympy.Rational(1, 2))) == 0


def test_bernoulli_kl_textbook_value_and_edge_p():
    # KL(Bern(1) || Bern(q)) = log(1/q); KL(Bern(0) || Bern(q)) = log(1/(1-q))
    q = sympy.Rational(1, 4)
    assert sympy.simplify(bounds.bernoulli_kl(1, q) - sympy.log(4)) == 0
    assert sympy.simplify(bounds.bernoulli_kl(0, q) - sympy.log(sympy.Rational(4, 3))) == 0


def test_thm8_constant_tends_to_one_at_expert_data():
    expr = bounds.get("rashidinejad2021_thm8").expr
    assert sympy.simplify(sympy.limit(expr, C, 1, "+") - S / (N * (1 - gamma) ** 2)) == 0
    # and the bound blows up as C* -> 2 (C0 -> 0)
    assert sympy.limit(expr.subs({S: 1, N: 1, gamma: 0}), C, 2, "-") == sympy.oo


def test_prop3_and_prop1_do_not_vanish_in_N():
    assert N not in bounds.get("rashidinejad2021_prop3").expr.free_symbols
    assert N not in bounds.get("rashidinejad2021_prop1").expr.free_symbols
    assert bounds.get("rashidinejad2021_prop3").evaluate(C=1.5) == pytest.approx(0.5)


def test_thm6_regimes_partition_at_C_ge_1():
    expert, general = bounds.get("rashidinejad2021_thm6_expert"), bounds.get("rashidinejad2021_thm6_general")
    rng = np.random.default_rng(0)
    vals = dict(N=10 ** rng.uniform(0.5, 7, 500), C=1 + 10 ** rng.uniform(-6, 2, 500), S=3.0,
                gamma=rng.uniform(0.01, 0.99, 500), L=10 ** rng.uniform(-1, 5, 500))
    e, g = expert.in_regime(**vals), general.in_regime(**vals)
    assert np.all(e ^ g) and e.any() and g.any()


def test_hp_bound_never_exceeds_one():
    b = bounds.get("rashidinejad2021_thm1_hp")
    c = np.linspace(1, 100, 50)
    out = b.evaluate(N=1000, C=c, A=5, delta=0.5)
    assert np.all(out <= 1) and np.any(out == 1) and np.any(out < 1)


# --------------------------------------------------------------------------------------------------------------
# Registry, provenance, LaTeX
# --------------------------------------------------------------------------------------------------------------
def test_registry():
    assert all(name == b.name for name, b in BOUNDS.items())
    assert not any("thm9" in name for name in BOUNDS)  # Thm 9 deliberately not registered (statement not found)
    # issue 22: every deliberately missing result says what is missing and where it was searched for
    assert set(bounds.UNREGISTERED) == {"rashidinejad2021_thm9", "rashidinejad2021_thm7_instance"}
    assert not set(bounds.UNREGISTERED) & set(BOUNDS)
    for text in bounds.UNREGISTERED.values():
        assert "missing" in text and "2103.12021v2" in text and "10.1109/TIT.2022.3185139" in text
    with pytest.raises(KeyError, match="rashidinejad2021_thm1"):
        bounds.get("rashidinejad2021_thm99")
    cb_upper = bounds.for_setting("cb", "upper")
    assert [b.name for b in cb_upper] == ["rashidinejad2021_thm4"]
    assert {b.name for b in bounds.for_setting("mab")} == {n for n, b in BOUNDS.items() if b.setting == "mab"}
    assert len(bounds.for_setting("mab")) == 7
    with pytest.raises(ValueError, match="setting"):
        bounds.for_setting("bandit")
    with pytest.raises(ValueError, match="kind"):
        bounds.for_setting("mab", "tight")


def test_verified_flags():
    unverified = {n for n, b in BOUNDS.items() if not b.verified}
    assert unverified == {"rashidinejad2021_thm3", "rashidinejad2021_prop1", "li2024_thm3"}
    for n in unverified:
        assert "UNVERIFIED" in BOUNDS[n].assumptions


def test_bounds_are_frozen():
    with pytest.raises(AttributeError):
        bounds.get("rashidinejad2021_thm1").expr = N


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_latex(name):
    b = bounds.get(name)
    s = b.latex()
    assert isinstance(s, str)
    assert s.startswith(r"\text{" + b.number + " (")
    assert b.relation in s and b.lhs in s
    depth = 0
    for ch in s.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert s.count(r"\left") == s.count(r"\right")
    for ugly in ("log1p", "expm", "kappa}", "gamma}"):
        assert ugly not in s.replace(r"\gamma", "").replace(r"\kappa", "")


def test_import_pulls_no_matplotlib():
    code = ("import sys, theory_rl.bounds; "
            "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'scipy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluate_refuses_complex_and_nan_values():
    from theory_rl import bounds as bd

    b = bd.get("rashidinejad2021_thm1")
    names = [s.name for s in b.symbols]
    good = {n: 2.0 if n != "N" else 1000 for n in names}
    for bad, message in ((1000 + 1j, "is complex"), (float("nan"), "is nan")):
        with pytest.raises(ValueError, match=message):
            b.evaluate(check_regime=False, **{**good, "N": bad})


def test_get_unknown_name_is_a_key_error_and_a_value_error_naming_name():
    for exc in (KeyError, ValueError):
        with pytest.raises(exc, match=r"name is 'no_such_bound': no bound of that name; registered: \["):
            bounds.get("no_such_bound")
    with pytest.raises(TypeError, match="name is float"):
        bounds.get(float("nan"))


def test_kl_helpers_refuse_non_real_numbers_but_keep_symbols():
    with pytest.raises(ValueError, match="p is nan"):
        bounds.bernoulli_kl(float("nan"), 0.5)
    with pytest.raises(ValueError, match="q is 1.0"):
        bounds.bernoulli_kl(0.5, 1.0)
    with pytest.raises(TypeError, match="c is a complex number"):
        bounds.kl_half_vs_inverse(1 + 1j)
    assert bounds.bernoulli_kl(bounds.C, 0.5).has(bounds.C)  # symbolic arguments pass unchecked


# --------------------------------------------------------------------------------------------------------------
# Issue 14: every registered bound pinned to an independent formula (plain math, typed here, not the sympy
# expression) at two points or more, so a wrong exponent of (1 - gamma), a dropped factor or a swapped symbol
# fails. Where a closed form is simple the literal value is given too.
# --------------------------------------------------------------------------------------------------------------
def _kl_half(c):  # KL(Bern(1/2) || Bern(1/c)), textbook form
    return 0.5 * math.log(0.5 * c) + 0.5 * math.log(0.5 / (1 - 1 / c))


HAND = {
    "rashidinejad2021_thm1": lambda N, C: math.sqrt(C / N),
    "rashidinejad2021_thm1_hp": lambda N, C, A, delta: min(1.0, 2 * math.sqrt(C * math.log(2 * A / delta) / N)),
    "rashidinejad2021_thm2_large": lambda N, C: math.sqrt(C / N),
    "rashidinejad2021_thm2_small": lambda N, C: ((C - 1) / 2) ** ((2 - C) * N),
    "rashidinejad2021_thm3": lambda N, C, alpha: N ** -alpha,
    "rashidinejad2021_prop1": lambda N, kappa: kappa,
    "rashidinejad2021_prop2": lambda N, C: math.exp(-N * _kl_half(C)),
    "rashidinejad2021_thm4": lambda N, C, S: math.sqrt(S * (C - 1) / N) + S / N,
    "rashidinejad2021_thm5": lambda N, C, S: math.sqrt(S * (C - 1) / N) + S / N,
    "rashidinejad2021_prop3": lambda C: C - 1,
    "rashidinejad2021_thm6_expert": lambda N, C, S, gamma, L: S / ((1 - gamma) ** 4 * N),
    "rashidinejad2021_thm6_general": lambda N, C, S, gamma, L: math.sqrt(S * C / ((1 - gamma) ** 5 * N)),
    "rashidinejad2021_thm7": lambda N, C, S, gamma: (math.sqrt(S * (C - 1) / ((1 - gamma) ** 3 * N))
                                                     + S / ((1 - gamma) ** 2 * N)),
    "rashidinejad2021_thm8": lambda N, C, S, gamma: S / ((1 - math.exp(-_kl_half(C))) * N * (1 - gamma) ** 2),
    "li2024_thm1": lambda N, C_clip, S, gamma, delta: math.sqrt(
        S * C_clip * math.log(N * S / ((1 - gamma) * delta)) / ((1 - gamma) ** 3 * N)),
    "li2024_thm3": lambda K, C_clip, S, H, delta: math.sqrt(H ** 3 * S * C_clip * math.log(K * H / delta) / K),
}

# (point, literal value or None): the literal values are by hand, e.g. thm2_small at C = 1.5, N = 3 is
# (1/4)^(3/2) = 1/8; thm6_expert at S = 2, gamma = 1/2, N = 100 is 2 * 16 / 100; thm8 at C = 1.5 has
# 1 - exp(-KL) = 1 - 2 sqrt(2)/3.
PINNED = [
    ("rashidinejad2021_thm1", dict(N=400, C=4), 0.1), ("rashidinejad2021_thm1", dict(N=50, C=2), 0.2),
    ("rashidinejad2021_thm1_hp", dict(N=1000, C=2, A=4, delta=0.1), None),
    ("rashidinejad2021_thm1_hp", dict(N=300, C=50, A=2, delta=0.5), 1.0),
    ("rashidinejad2021_thm2_large", dict(N=400, C=4), 0.1), ("rashidinejad2021_thm2_large", dict(N=8, C=2), 0.5),
    ("rashidinejad2021_thm2_small", dict(N=3, C=1.5), 0.125), ("rashidinejad2021_thm2_small", dict(N=10, C=1.2), 1e-8),
    ("rashidinejad2021_thm3", dict(N=100, C=1.5, alpha=0.5), 0.1),
    ("rashidinejad2021_thm3", dict(N=8, C=1.5, alpha=2 / 3), 0.25),
    ("rashidinejad2021_prop1", dict(N=2, kappa=0.3), 0.3), ("rashidinejad2021_prop1", dict(N=1000, kappa=0.7), 0.7),
    ("rashidinejad2021_prop2", dict(N=7, C=1.5), (2 * math.sqrt(2) / 3) ** 7),
    ("rashidinejad2021_prop2", dict(N=20, C=1.2), None),
    ("rashidinejad2021_thm4", dict(N=1000, C=1.0, S=10), 0.01), ("rashidinejad2021_thm4", dict(N=100, C=5, S=4), 0.44),
    ("rashidinejad2021_thm5", dict(N=1000, C=1.0, S=10), 0.01), ("rashidinejad2021_thm5", dict(N=100, C=5, S=4), 0.44),
    ("rashidinejad2021_prop3", dict(C=1.5), 0.5), ("rashidinejad2021_prop3", dict(C=1.25), 0.25),
    ("rashidinejad2021_thm6_expert", dict(N=1000, C=1.0, S=10, gamma=0.9, L=1), 100.0),
    ("rashidinejad2021_thm6_expert", dict(N=100, C=1.0, S=2, gamma=0.5, L=1), 0.32),
    ("rashidinejad2021_thm6_general", dict(N=1000, C=4, S=10, gamma=0.9, L=1), math.sqrt(4000.0)),
    ("rashidinejad2021_thm6_general", dict(N=100, C=2, S=2, gamma=0.5, L=1), math.sqrt(1.28)),
    ("rashidinejad2021_thm7", dict(N=1000, C=4, S=10, gamma=0.9), math.sqrt(30.0) + 1.0),
    ("rashidinejad2021_thm7", dict(N=100, C=2, S=2, gamma=0.5), 0.4 + 0.08),
    ("rashidinejad2021_thm8", dict(N=1000, C=1.5, S=10, gamma=0.9), 1 / (1 - 2 * math.sqrt(2) / 3)),
    ("rashidinejad2021_thm8", dict(N=100, C=1.2, S=2, gamma=0.5), None),
    ("li2024_thm1", dict(N=1e6, C_clip=1, S=2, gamma=0.9, delta=0.1), math.sqrt(2 * math.log(2e8) / 1e3)),
    ("li2024_thm1", dict(N=1e4, C_clip=0.5, S=3, gamma=0.5, delta=0.01), None),
    ("li2024_thm3", dict(K=100, C_clip=1, S=2, H=5, delta=0.1), math.sqrt(250 * math.log(5000) / 100)),
    ("li2024_thm3", dict(K=1e4, C_clip=0.5, S=3, H=2, delta=0.01), None),
]


def test_every_bound_is_pinned_at_two_points():
    assert set(HAND) == set(BOUNDS)
    for name in BOUNDS:
        assert sum(p[0] == name for p in PINNED) >= 2, name


@pytest.mark.parametrize(("name", "point", "value"), PINNED, ids=[f"{p[0]}-{i}" for i, p in enumerate(PINNED)])
def test_bound_pinned_to_an_independent_formula(name, point, value):
    got = bounds.get(name).evaluate(**point)
    want = HAND[name](**point)
    assert got == pytest.approx(want, rel=1e-13)
    if value is not None:
        assert got == pytest.approx(value, rel=1e-13) and want == pytest.approx(value, rel=1e-13)


def test_regime_boundaries_pinned_by_hand():
    # Thm 6: the expert regime ends at C* = 1 + L log N / (200 (1 - gamma) N); at N = 1000, gamma = 0.9, L = 1000
    # that is 1 + 1000 log(1000) / 20000 = 1.3453877639...
    edge = 1 + 1000 * math.log(1000) / (200 * 0.1 * 1000)
    expert, general = bounds.get("rashidinejad2021_thm6_expert"), bounds.get("rashidinejad2021_thm6_general")
    for c, inside in ((edge * (1 - 1e-9), True), (edge * (1 + 1e-9), False)):
        assert expert.in_regime(N=1000, C=c, S=2, gamma=0.9, L=1000) is inside
        assert general.in_regime(N=1000, C=c, S=2, gamma=0.9, L=1000) is not inside
    # Thm 1 (9): N >= 8 C* log(1/delta): at C* = 2, delta = 0.01 the threshold is 16 log(100) = 73.68...
    hp = bounds.get("rashidinejad2021_thm1_hp")
    assert hp.in_regime(N=74, C=2, A=2, delta=0.01) and not hp.in_regime(N=73, C=2, A=2, delta=0.01)
    # Li et al. Thm 1: S C log(N S / ((1-gamma) delta)) <= (1 - gamma) N, and gamma >= 1/2
    li = bounds.get("li2024_thm1")
    n_edge = 2 * math.log(1e4 * 2 / (0.5 * 0.1)) / 0.5  # S = 2, C = 1, gamma = 0.5, delta = 0.1: lhs at N = 1e4
    assert li.in_regime(N=1e4, C_clip=1, S=2, gamma=0.5, delta=0.1) is (n_edge <= 1e4)
    assert li.in_regime(N=30, C_clip=1, S=2, gamma=0.5, delta=0.1) is (2 * math.log(30 * 4 / 0.1) <= 15)
    assert not li.in_regime(N=1e6, C_clip=1, S=2, gamma=0.49, delta=0.1)
    assert li.in_regime(N=1e6, C_clip=1, S=2, gamma=0.5, delta=0.1)
    small, large = bounds.get("rashidinejad2021_thm2_small"), bounds.get("rashidinejad2021_thm2_large")
    assert small.in_regime(N=5, C=1.999) and not small.in_regime(N=5, C=2.0) and large.in_regime(N=5, C=2.0)
    assert not small.in_regime(N=5, C=1.0) and not large.in_regime(N=5, C=1.999)


# The registry's provenance, typed here: (paper, number, setting, algorithm, kind, verified, relation, symbols).
REGISTRY = {
    "rashidinejad2021_thm1": ("R", "Theorem 1", "mab", "LCB", "upper", True, r"\lesssim", "C N"),
    "rashidinejad2021_thm1_hp": ("R", "Theorem 1, eq. (9)", "mab", "LCB", "upper", True, r"\le", "A C N delta"),
    "rashidinejad2021_thm2_large": ("R", "Theorem 2", "mab", "minimax", "lower", True, r"\gtrsim", "C N"),
    "rashidinejad2021_thm2_small": ("R", "Theorem 2", "mab", "minimax", "lower", True, r"\gtrsim", "C N"),
    "rashidinejad2021_thm3": ("R", "Theorem 3", "mab", "LCB", "failure", False, r"\gtrsim", "C N alpha"),
    "rashidinejad2021_prop1": ("R", "Proposition 1", "mab", "empirical best arm", "failure", False, r"\ge", "N kappa"),
    "rashidinejad2021_prop2": ("R", "Proposition 2", "mab", "most-played", "upper", True, r"\lesssim", "C N"),
    "rashidinejad2021_thm4": ("R", "Theorem 4", "cb", "LCB", "upper", True, r"\lesssim", "C N S"),
    "rashidinejad2021_thm5": ("R", "Theorem 5", "cb", "minimax", "lower", True, r"\gtrsim", "C N S"),
    "rashidinejad2021_prop3": ("R", "Proposition 3", "cb", "most-played", "failure", True, r"\ge", "C"),
    "rashidinejad2021_thm6_expert": ("R", "Theorem 6", "mdp", "VI-LCB", "upper", True, r"\lesssim", "C L N S gamma"),
    "rashidinejad2021_thm6_general": ("R", "Theorem 6", "mdp", "VI-LCB", "upper", True, r"\lesssim", "C L N S gamma"),
    "rashidinejad2021_thm7": ("R", "Theorem 7", "mdp", "minimax", "lower", True, r"\gtrsim", "C N S gamma"),
    "rashidinejad2021_thm8": ("R", "Theorem 8", "mdp", "behaviour cloning", "upper", True, r"\lesssim", "C N S gamma"),
    "li2024_thm1": ("L", "Theorem 1", "mdp", "VI-LCB (Bernstein)", "upper", True, r"\lesssim",
                    "C_clip N S delta gamma"),
    "li2024_thm3": ("L", "Theorem 3", "episodic", "VI-LCB (Bernstein)", "upper", False, r"\lesssim",
                    "C_clip H K S delta"),
}

def _fresh_registry() -> dict:
    """The registry built again, in this process, by executing bounds.py as a separate module object (its
    construction runs at import; sys.modules' theory_rl.bounds is left alone)."""
    import importlib.util

    # Under its own name (functions keep __module__ "theory_rl.bounds", which mutmut's trampolines key on); the
    # imported module is put back at once (dataclasses looks the defining module up in sys.modules).
    spec = importlib.util.spec_from_file_location("theory_rl.bounds", bounds.__file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules["theory_rl.bounds"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules["theory_rl.bounds"] = bounds
    return module.BOUNDS


def test_registry_built_afresh_is_pinned():
    """The registry as an import builds it: provenance against the table above, texts against the registry this
    process imported, values against the independent formulas. (Under mutation testing this is what sees a mutant
    of the import-time constructor: the imported registry was built before the mutant was switched on.)"""
    fresh = _fresh_registry()
    assert set(fresh) == set(REGISTRY) == set(BOUNDS)
    for name, (paper, number, setting, algorithm, kind, verified, relation, symbols) in REGISTRY.items():
        got, here = fresh[name], BOUNDS[name]
        assert got.paper == (bounds.RASHIDINEJAD2021 if paper == "R" else bounds.LI2024)
        assert (got.number, got.setting, got.algorithm, got.kind, got.verified, got.relation) == (
            number, setting, algorithm, kind, verified, relation), name
        assert [s.name for s in got.symbols] == symbols.split(), name
        assert (got.lhs, got.regime_text, got.assumptions, got.constants) == (
            here.lhs, here.regime_text, here.assumptions, here.constants), name
        assert got.expr == here.expr and got.regime == here.regime, name
        for point, _ in ((p, v) for n, p, v in PINNED if n == name):
            assert got.evaluate(**point) == pytest.approx(HAND[name](**point), rel=1e-13), name
    assert fresh["rashidinejad2021_thm1_hp"].constants == "exact (no constants omitted)"
    assert fresh["rashidinejad2021_thm1"].constants.startswith("up to universal constants")
    assert fresh["rashidinejad2021_thm1"].lhs == r"\mathbb{E}\left[J(\pi^{\star}) - J(\hat{\pi})\right]"


# --------------------------------------------------------------------------------------------------------------
# Issue 14: tests that kill the survivors of `python -m benchmarks.mutation --module bounds`
# --------------------------------------------------------------------------------------------------------------
def test_bound_built_without_symbols_sorts_them_by_name():
    b = Bound("x", "p", "Theorem 0", "mab", "LCB", "upper", N / C + gamma, sympy.Eq(delta, delta), "", "", "", False)
    assert b.symbols == (C, N, gamma)  # sorted by name (C < N < gamma in code-point order), the regime's too
    assert b.evaluate(N=4.0, C=2.0, gamma=0.5) == 2.5
    exact = Bound("x", "p", "Theorem 0", "mab", "LCB", "upper", N / C, sympy.true, "", "", "", False, symbols=(N, C))
    assert exact.symbols == (N, C)  # given symbols that are exactly the free ones are accepted as given


def test_field_errors_name_the_field_exactly():
    with pytest.raises(ValueError, match=r"^setting is 'pomdp', expected one of"):
        Bound("x", "p", "Theorem 0", "pomdp", "LCB", "upper", N, sympy.true, "", "", "", False)
    with pytest.raises(ValueError, match=r"^kind is 'sideways', expected one of"):
        Bound("x", "p", "Theorem 0", "mab", "LCB", "sideways", N, sympy.true, "", "", "", False)
    with pytest.raises(ValueError, match=r"^setting is 'bandit', expected one of"):
        bounds.for_setting("bandit")
    with pytest.raises(ValueError, match=r"^kind is 'tight', expected one of"):
        bounds.for_setting("mab", "tight")
    with pytest.raises(ValueError, match=r"^N is complex"):
        bounds.get("rashidinejad2021_thm1").evaluate(check_regime=False, N=1 + 1j, C=2.0)
    assert str(bounds.UnknownBoundError()) == ""
    assert str(bounds.UnknownBoundError("no bound")) == "no bound"


def test_scalar_evaluation_is_a_python_float_and_arrays_stay_arrays():
    b = bounds.get("rashidinejad2021_thm1")
    assert type(b.evaluate(N=400, C=4)) is float
    assert isinstance(b.evaluate(N=[400.0], C=4), np.ndarray)
    assert type(b.in_regime(N=400, C=4)) is bool


def test_evaluation_outside_the_regime_is_silent_when_unchecked():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's divide / invalid warnings would be errors
        # C* = 1: log(2 / (C* - 1)) divides by zero; the bound's value there is its limit, 0
        assert bounds.get("rashidinejad2021_thm2_small").evaluate(check_regime=False, N=3, C=1.0) == 0.0
        # gamma > 1: sqrt of a negative number is invalid: NaN, and no warning (the regime check is off)
        assert np.isnan(bounds.get("rashidinejad2021_thm6_general").evaluate(
            check_regime=False, N=10, C=2, S=1, gamma=1.5, L=1))


def test_kl_helpers_check_their_ranges():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"^p is {p}"):
            bounds.bernoulli_kl(p, 0.5)
    for q in (-0.1, 0.0, 1.0):
        with pytest.raises(ValueError, match=rf"^q is {q}"):
            bounds.bernoulli_kl(0.5, q)
    for c in (0.5, 1.0):
        with pytest.raises(ValueError, match=rf"^c is {c}"):
            bounds.kl_half_vs_inverse(c)
    # 0 log 0 = 0 for p = 0 or 1 given as floats too (sympy >= 1.13: Float(0.0) != 0, once a nan here)
    for p in (0, 0.0, 1, 1.0):
        assert float(bounds.bernoulli_kl(p, 0.5)) == pytest.approx(math.log(2), rel=1e-15)
    assert float(bounds.bernoulli_kl(0.25, 0.5)) == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))


def test_latex_pinned_where_the_display_rewrites_the_stable_helpers():
    # Thm 8's C0 = -expm1(-KL) is displayed with exp; Prop 2's exponent names the KL divergence
    kl = r"\mathrm{KL}\left(\mathrm{Bern}(1/2)\,\|\,\mathrm{Bern}(1/C^{\star})\right)"
    lhs = r"\mathbb{E}\left[J(\pi^{\star}) - J(\hat{\pi})\right]"
    assert bounds.get("rashidinejad2021_thm8").latex() == (
        r"\text{Theorem 8 (MDP, behaviour cloning, upper)}: \; " + lhs + r" \lesssim - \frac{S}{N \left(-1 + e^{- "
        + kl + r"}\right) \left(1 - \gamma\right)^{2}}")
    assert bounds.get("rashidinejad2021_prop2").latex() == (
        r"\text{Proposition 2 (MAB, most-played, upper)}: \; " + lhs + r" \lesssim e^{- N " + kl + "}")
    assert bounds.get("rashidinejad2021_thm1").latex().endswith(r"\lesssim \frac{\sqrt{C^{\star}}}{\sqrt{N}}")


def test_latex_displays_log1p_and_expm1_outside_the_kl_as_log_and_exp():
    from sympy.codegen.cfunctions import expm1, log1p

    b = Bound("x", "p", "Theorem 0", "mab", "LCB", "upper", log1p(N) + expm1(C), sympy.true, "", "", "", False)
    body = b.latex().split(r"\lesssim ")[1]
    assert body == r"e^{C^{\star}} + \log{\left(N + 1 \right)} - 1", body
