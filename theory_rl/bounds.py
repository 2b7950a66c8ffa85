r"""The theorems of the LCB paper (and Li et al.'s sharpened VI-LCB) as sympy expressions.

Each theorem is a :class:`Bound`: a sympy expression for the sub-optimality bound together with the paper,
the theorem number, the setting, the regime in which it holds (a sympy condition), its assumptions, which
constants are omitted, and whether its form was checked against the paper (``verified``).

Sources
-------
- Rashidinejad, Zhu, Ma, Jiao, Russell, "Bridging Offline Reinforcement Learning and Imitation Learning:
  A Tale of Pessimism", NeurIPS 2021 / IEEE Trans. Inf. Theory 2022, arXiv:2103.12021.
- Li, Shi, Chen, Chi, Wei, "Settling the Sample Complexity of Model-Based Offline Reinforcement Learning",
  Ann. Statist. 2024, arXiv:2204.05275.

The forms come from the project's digest ``papers/lcb.md`` (its "Theorems [V]" table). ``verified`` is True
only for forms that the digest marks as read in the paper; anything else is False and its docstring entry
(the ``assumptions`` text) says what is unverified.

Rashidinejad et al.'s Theorem 9 is NOT registered: its statement could not be found (digest and searches),
and a guessed episodic rate would be presented as the paper's; ``UNREGISTERED`` says what is missing (issue 22).

Conventions
-----------
Bounds stated with ``\lesssim`` / ``\gtrsim`` are encoded without their universal constants (``constants``
says so); evaluating them gives the rate, not a number that provably bounds the sub-optimality. Every theorem
assumes rewards in [0, 1]; for rewards in ``[r_min, r_max]`` the affine map onto [0, 1] (:mod:`theory_rl.scales`)
keeps the optimal policies and multiplies every sub-optimality by ``r_max - r_min``, so
``evaluate(reward_range=(r_min, r_max), ...)`` scales the bound by that width (issue 15, item 5). Symbols are
module-level sympy Symbols with positivity assumptions; :meth:`Bound.evaluate` takes them by name
(``N=..., C=..., gamma=...``) and broadcasts numpy arrays.

Examples
--------
>>> from theory_rl import bounds
>>> b = bounds.get("rashidinejad2021_thm4")
>>> float(b.evaluate(N=1000, C=1.0, S=10))
0.01
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1, log1p

from theory_rl._ranges import check_reward_range
from theory_rl._validation import as_float_array, check_choice, check_str
from theory_rl.divergences import bernoulli_kl, kl_half_vs_inverse

__all__ = [
    "A", "BOUNDS", "Bound", "C", "C_clip", "H", "K", "L", "N", "S", "alpha", "bernoulli_kl", "delta",
    "epsilon", "for_setting", "gamma", "get", "kappa", "kl_half_vs_inverse", "UnknownBoundError", "UNREGISTERED",
]

# --------------------------------------------------------------------------------------------------------------
# Symbols
# --------------------------------------------------------------------------------------------------------------
N = sympy.Symbol("N", positive=True)  #: number of samples (transitions / arm pulls)
C = sympy.Symbol("C", positive=True)  #: single-policy concentrability C*
S = sympy.Symbol("S", positive=True)  #: number of states
A = sympy.Symbol("A", positive=True)  #: number of actions ``|A|``
gamma = sympy.Symbol("gamma", positive=True)  #: discount factor
delta = sympy.Symbol("delta", positive=True)  #: failure probability
H = sympy.Symbol("H", positive=True)  #: horizon (episodic)
epsilon = sympy.Symbol("epsilon", positive=True)  #: target accuracy
K = sympy.Symbol("K", positive=True)  #: number of episodes (Li et al., finite horizon)
L = sympy.Symbol("L", positive=True)  #: log factor of VI-LCB's penalty (Rashidinejad et al., Alg. 3)
C_clip = sympy.Symbol("C_clip", positive=True)  #: clipped concentrability C*_clipped (Li et al.)
alpha = sympy.Symbol("alpha", positive=True)  #: unspecified polynomial exponent (Thm 3, unverified)
kappa = sympy.Symbol("kappa", positive=True)  #: unspecified absolute constant (Prop. 1, unverified)

_LATEX_NAMES = {
    A: r"|\mathcal{A}|", C: r"C^{\star}", gamma: r"\gamma", delta: r"\delta", epsilon: r"\varepsilon", alpha: r"\alpha",
    kappa: r"\kappa", C_clip: r"C^{\star}_{\mathrm{clipped}}",
}

RASHIDINEJAD2021 = ("Rashidinejad, Zhu, Ma, Jiao, Russell (2021). Bridging Offline Reinforcement Learning and "
                    "Imitation Learning: A Tale of Pessimism. NeurIPS 2021 / IEEE T-IT 2022, arXiv:2103.12021")
LI2024 = ("Li, Shi, Chen, Chi, Wei (2024). Settling the Sample Complexity of Model-Based Offline Reinforcement "
          "Learning. Ann. Statist., arXiv:2204.05275")

_SETTINGS = ("mab", "cb", "mdp", "episodic")
_KINDS = ("upper", "lower", "failure")
_SETTING_TEXT = {"mab": "MAB", "cb": "CB", "mdp": "MDP", "episodic": "episodic MDP"}


_KL_DISPLAY = sympy.Symbol(r"\mathrm{KL}\left(\mathrm{Bern}(1/2)\,\|\,\mathrm{Bern}(1/C^{\star})\right)",
                           positive=True)


def _display(expr: sympy.Expr) -> sympy.Expr:
    """Name KL(Bern(1/2) || Bern(1/C*)) and rewrite the stable helpers (log1p, expm1) as log/exp for display."""
    expr = expr.subs(kl_half_vs_inverse(C), _KL_DISPLAY)
    expr = expr.replace(log1p, lambda a: sympy.log(1 + a, evaluate=False))
    return expr.replace(expm1, lambda a: sympy.exp(a) - 1)


def _sort(symbols) -> tuple[sympy.Symbol, ...]:
    return tuple(sorted(symbols, key=lambda s: s.name))


# --------------------------------------------------------------------------------------------------------------
# Bound
# --------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Bound:
    r"""One theorem: a sub-optimality bound with its provenance and regime.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"rashidinejad2021_thm1"``.
    paper : str
        Citation string.
    number : str
        Theorem / proposition number as in the paper, e.g. ``"Theorem 1"``.
    setting : {"mab", "cb", "mdp", "episodic"}
    algorithm : str
        The algorithm the bound is about, e.g. ``"LCB"``, ``"most-played"``, ``"minimax"`` (lower bounds over
        all algorithms).
    kind : {"upper", "lower", "failure"}
        ``"failure"``: a lower bound on one specific algorithm showing that it fails.
    expr : sympy.Expr
        The bound on the sub-optimality (the right-hand side).
    regime : sympy boolean
        Condition on the symbols under which the theorem applies.
    regime_text : str
        The regime in words.
    assumptions : str
        Assumptions of the theorem, and what about the encoding is unverified.
    constants : str
        Which constants are omitted ("up to universal constants" for ``\lesssim`` statements).
    verified : bool
        True only where the project's digest marks the form as read in the paper.
    lhs : str
        LaTeX left-hand side for :meth:`latex`.
    relation : str
        LaTeX relation for :meth:`latex` (``\lesssim``, ``\le``, ``\gtrsim``, ``\ge``).
    symbols : tuple of sympy.Symbol
        Every symbol of ``expr`` and ``regime``; computed when left empty.
    """

    name: str
    paper: str
    number: str
    setting: str
    algorithm: str
    kind: str
    expr: sympy.Expr
    regime: sympy.Basic
    regime_text: str
    assumptions: str
    constants: str
    verified: bool
    lhs: str = r"\mathbb{E}\left[J(\pi^{\star}) - J(\hat{\pi})\right]"
    relation: str = r"\lesssim"
    symbols: tuple = ()

    def __post_init__(self):
        check_choice(self.setting, "setting", _SETTINGS)
        check_choice(self.kind, "kind", _KINDS)
        free = self.expr.free_symbols | sympy.sympify(self.regime).free_symbols
        if not self.symbols:
            object.__setattr__(self, "symbols", _sort(free))
        elif not free <= set(self.symbols):
            raise ValueError(f"symbols {self.symbols} miss {_sort(free - set(self.symbols))}")

    # -- numeric evaluation -----------------------------------------------------------------------------------
    @functools.cached_property
    def _expr_symbols(self) -> tuple[sympy.Symbol, ...]:
        return _sort(self.expr.free_symbols)

    @functools.cached_property
    def _regime_symbols(self) -> tuple[sympy.Symbol, ...]:
        return _sort(sympy.sympify(self.regime).free_symbols)

    @functools.cached_property
    def _expr_fn(self):
        return sympy.lambdify(self._expr_symbols, self.expr, modules="numpy")

    @functools.cached_property
    def _regime_fn(self):
        return sympy.lambdify(self._regime_symbols, self.regime, modules="numpy")

    def _args(self, needed, values: Mapping[str, object]) -> list:
        known = {s.name for s in self.symbols}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{self.name}: unknown symbol(s) {unknown}; it depends on {sorted(known)}")
        missing = [s.name for s in needed if s.name not in values]
        if missing:
            raise ValueError(f"{self.name}: missing value for symbol(s) {missing}")
        # as_float_array refuses complex values (no silent loss of the imaginary part), strings, NaN and inf.
        return np.broadcast_arrays(*(as_float_array(values[s.name], s.name) for s in needed))

    def in_regime(self, **values):
        """Whether the regime condition holds at ``values`` (elementwise for arrays).

        Parameters
        ----------
        **values : float or array_like
            One value per symbol of the regime, by name.

        Returns
        -------
        bool or numpy.ndarray of bool
        """
        args = self._args(self._regime_symbols, values)
        out = np.asarray(self._regime_fn(*args), dtype=bool)
        shape = np.broadcast_shapes(*(a.shape for a in args)) if args else ()
        out = np.broadcast_to(out, shape)
        return bool(out) if out.ndim == 0 else out

    def evaluate(self, check_regime: bool = True, *, reward_range=(0.0, 1.0), **values):
        """Evaluate the bound numerically (lambdified, cached, numpy-broadcasting).

        Parameters
        ----------
        check_regime : bool, default True
            Raise when the regime condition is false at any of the given points.
        reward_range : (float, float), default (0, 1)
            The rewards' range ``(r_min, r_max)``: the bound (stated for [0, 1]) is multiplied by
            ``r_max - r_min``, the factor by which the affine map of the rewards scales every sub-optimality.
        **values : float or array_like
            One value per symbol, by name (``N=..., C=...``).

        Returns
        -------
        float or numpy.ndarray

        Raises
        ------
        ValueError
            If a symbol is missing or unknown, or (``check_regime``) the regime does not hold.
        """
        low, high = check_reward_range(reward_range)
        args = self._args(self._expr_symbols, values)
        if check_regime:
            ok = self.in_regime(**values)
            if not np.all(ok):
                raise ValueError(f"{self.name} ({self.number}): values outside the regime "
                                 f"{self.regime_text} [{self.regime}]")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(self._expr_fn(*args), dtype=float) * (high - low)
        if args:
            out = np.broadcast_to(out, np.broadcast_shapes(*(a.shape for a in args)))
        return float(out) if out.ndim == 0 else out

    # -- display ----------------------------------------------------------------------------------------------
    def latex(self) -> str:
        r"""A display string for ``IPython.display.Math``.

        Returns
        -------
        str
            ``\text{Theorem 1 (MAB, LCB, upper)}: \; <lhs> <relation> <expr>``.
        """
        body = sympy.latex(_display(self.expr), symbol_names=_LATEX_NAMES)
        head = rf"\text{{{self.number} ({_SETTING_TEXT[self.setting]}, {self.algorithm}, {self.kind})}}"
        return rf"{head}: \; {self.lhs} {self.relation} {body}"

    def __str__(self) -> str:
        return f"{self.name}: {self.number} [{self.setting}, {self.algorithm}, {self.kind}] {self.expr}"


# --------------------------------------------------------------------------------------------------------------
# The theorems
# --------------------------------------------------------------------------------------------------------------
_UP_TO = "up to universal constants (and, where the theorem has them, logarithmic factors)"
_gamma_ok = sympy.And(gamma < 1)
_delta_ok = sympy.And(delta < 1)


def _rz(name, number, setting, algorithm, kind, expr, regime, regime_text, assumptions, verified=True,
        constants=_UP_TO, **kw) -> Bound:
    return Bound(name=name, paper=RASHIDINEJAD2021, number=number, setting=setting, algorithm=algorithm,
                 kind=kind, expr=expr, regime=regime, regime_text=regime_text, assumptions=assumptions,
                 constants=constants, verified=verified, **kw)


_MAB = ("MAB (S = 1, gamma = 0), rewards in [0, 1]; N i.i.d. pulls a_i ~ mu; C* = 1/mu(a*). "
        "LCB is Alg. 1 with delta = 1/N.")
_CB = ("Contextual bandit (gamma = 0), rewards in [0, 1]; N i.i.d. (s, a) ~ mu; C* = max_s rho(s)/mu(s, pi*(s)). "
       "LCB is Alg. 2.")
_MDP = ("Discounted MDP, rewards in [0, 1], N i.i.d. (s, a, r, s') with (s, a) ~ mu; "
        "C* = max_{s,a} d^{pi*}(s, a)/mu(s, a).")
_LOWER_LHS = r"\inf_{\hat{\pi}} \sup \mathbb{E}\left[J(\pi^{\star}) - J(\hat{\pi})\right]"

_kl = kl_half_vs_inverse(C)

_ALL = [
    _rz("rashidinejad2021_thm1", "Theorem 1", "mab", "LCB", "upper",
        sympy.sqrt(C / N), sympy.And(C >= 1), "C* >= 1",
        _MAB + " Bound in expectation over the dataset."),
    _rz("rashidinejad2021_thm1_hp", "Theorem 1, eq. (9)", "mab", "LCB", "upper",
        sympy.Min(1, 2 * sympy.sqrt(C * sympy.log(2 * A / delta) / N)),
        sympy.And(C >= 1, _delta_ok, N >= 8 * C * sympy.log(1 / delta)),
        "C* >= 1, 0 < delta < 1, N >= 8 C* log(1/delta)",
        _MAB + " High-probability form: holds with probability at least 1 - 2 delta.",
        constants="exact (no constants omitted)",
        lhs=r"r(a^{\star}) - r(\hat{a})", relation=r"\le"),
    _rz("rashidinejad2021_thm2_large", "Theorem 2", "mab", "minimax", "lower",
        sympy.sqrt(C / N), sympy.And(C >= 2), "C* >= 2",
        _MAB + " Minimax lower bound over the instances with concentrability C* (Le Cam, two arms).",
        lhs=_LOWER_LHS, relation=r"\gtrsim"),
    _rz("rashidinejad2021_thm2_small", "Theorem 2", "mab", "minimax", "lower",
        sympy.exp(-(2 - C) * sympy.log(2 / (C - 1)) * N), sympy.And(C > 1, C < 2), "1 < C* < 2",
        _MAB + " Minimax lower bound over the instances with concentrability C* (Le Cam, two arms); "
               "exponentially small in N.",
        lhs=_LOWER_LHS, relation=r"\gtrsim"),
    _rz("rashidinejad2021_thm3", "Theorem 3", "mab", "LCB", "failure",
        N ** (-alpha), sympy.Eq(C, sympy.Rational(3, 2)), "C* = 1.5 (the paper's instance)",
        _MAB + " Verified (digest): at C* = 1.5 there is an instance on which LCB's sub-optimality is only "
               "polynomially small in N, while most-played's is exponentially small (Prop. 2), so LCB is "
               "not adaptively optimal. UNVERIFIED: the exponent; it is left as the symbol alpha > 0. The "
               "digest also lists a C* = 6 instance for Thm 3 whose role is not encoded.",
        verified=False, constants=_UP_TO + "; the exponent alpha is not given by the digest",
        relation=r"\gtrsim"),
    _rz("rashidinejad2021_prop1", "Proposition 1", "mab", "empirical best arm", "failure",
        kappa, sympy.And(N >= 2), "N >= 2 (the instance has mu = ((N-1)/N, 1/N))",
        _MAB + " Verified (digest): the empirical best arm fails on a two-arm instance with "
               "mu = ((N-1)/N, 1/N), R(1) = 2 a.s., R(2) in {2.1, 0}, rescaled by 2.1: its sub-optimality does "
               "not vanish as N grows. UNVERIFIED: the value of the constant, left as the symbol kappa > 0; "
               "that the instance's C* is N/(N-1) (arm 1 optimal) is inferred, not read.",
        verified=False, constants="the absolute constant kappa is not given by the digest",
        relation=r"\ge"),
    _rz("rashidinejad2021_prop2", "Proposition 2", "mab", "most-played", "upper",
        sympy.exp(-N * _kl), sympy.And(C >= 1, C < 2), "1 <= C* < 2",
        _MAB + " Most-played arm (imitation). Exponent KL(Bern(1/2) || Bern(1/C*)), encoded in the stable "
               "closed form kl_half_vs_inverse(C*); at C* = 1 the divergence is infinite and the bound is 0."),
    _rz("rashidinejad2021_thm4", "Theorem 4", "cb", "LCB", "upper",
        sympy.sqrt(S * (C - 1) / N) + S / N, sympy.And(C >= 1), "C* >= 1", _CB),
    _rz("rashidinejad2021_thm5", "Theorem 5", "cb", "minimax", "lower",
        sympy.sqrt(S * (C - 1) / N) + S / N, sympy.And(C >= 1), "C* >= 1",
        _CB + " Minimax lower bound (Fano, S states, 2 actions); matches Thm 4, so LCB is adaptively "
              "optimal in CB.",
        lhs=_LOWER_LHS, relation=r"\gtrsim"),
    _rz("rashidinejad2021_prop3", "Proposition 3", "cb", "most-played", "failure",
        C - 1, sympy.And(C > 1, C < 2), "1 < C* < 2",
        _CB + " Per-state most-played action fails: lim_{N -> oo} E[sub-optimality] >= C* - 1 (a limit "
              "statement, so the bound does not depend on N).",
        constants="exact (no constants omitted)",
        lhs=r"\lim_{N \to \infty} \mathbb{E}\left[J(\pi^{\star}) - J(\hat{\pi})\right]", relation=r"\ge"),
    _rz("rashidinejad2021_thm6_expert", "Theorem 6", "mdp", "VI-LCB", "upper",
        S / ((1 - gamma) ** 4 * N),
        sympy.And(C >= 1, _gamma_ok, C <= 1 + L * sympy.log(N) / (200 * (1 - gamma) * N)),
        "1 <= C* <= 1 + L log N / (200 (1 - gamma) N) (nearly expert data)",
        _MDP + " VI-LCB is Alg. 3 (Hoeffding penalty, data splitting). L is the algorithm's log factor, "
               "L = 2000 log(2 (T+1) S |A| / delta) with T = log N / (1 - gamma) in Alg. 3; it is left as a "
               "symbol."),
    _rz("rashidinejad2021_thm6_general", "Theorem 6", "mdp", "VI-LCB", "upper",
        sympy.sqrt(S * C / ((1 - gamma) ** 5 * N)),
        sympy.And(C >= 1, _gamma_ok, C > 1 + L * sympy.log(N) / (200 * (1 - gamma) * N)),
        "C* > 1 + L log N / (200 (1 - gamma) N)",
        _MDP + " VI-LCB is Alg. 3 (Hoeffding penalty, data splitting); L as in rashidinejad2021_thm6_expert."),
    _rz("rashidinejad2021_thm7", "Theorem 7", "mdp", "minimax", "lower",
        sympy.sqrt(S * (C - 1) / ((1 - gamma) ** 3 * N)) + S / ((1 - gamma) ** 2 * N),
        sympy.And(C >= 1, _gamma_ok), "C* >= 1, 0 < gamma < 1",
        _MDP + " Minimax lower bound (MDP replicas of states s0, s1, s+, s-, with p = 1/(2 - gamma), "
               "q = 2 - 1/gamma; q is a probability only for gamma >= 1/2, which the encoded regime does not "
               "impose because the digest does not state it).",
        lhs=_LOWER_LHS, relation=r"\gtrsim"),
    _rz("rashidinejad2021_thm8", "Theorem 8", "mdp", "behaviour cloning", "upper",
        S / (-expm1(-_kl) * N * (1 - gamma) ** 2),
        sympy.And(C >= 1, C < 2, _gamma_ok), "1 <= C* < 2, 0 < gamma < 1",
        _MDP + " Behaviour cloning (most-played action per state), discounted. The constant is "
               "C0 = 1 - exp(-KL(Bern(1/2) || Bern(1/C*))), encoded as -expm1(-kl_half_vs_inverse(C*)); "
               "C0 -> 0 as C* -> 2, so the regime is C* < 2 (C0 > 0)."),
    Bound(name="li2024_thm1", paper=LI2024, number="Theorem 1", setting="mdp", algorithm="VI-LCB (Bernstein)",
          kind="upper",
          expr=sympy.sqrt(S * C_clip * sympy.log(N * S / ((1 - gamma) * delta)) / ((1 - gamma) ** 3 * N)),
          regime=sympy.And(gamma >= sympy.Rational(1, 2), _gamma_ok, _delta_ok,
                           S * C_clip * sympy.log(N * S / ((1 - gamma) * delta)) <= (1 - gamma) * N),
          regime_text="1/2 <= gamma < 1, 0 < delta < 1, epsilon(N) <= 1/(1 - gamma) (with c1 = 1)",
          assumptions=_MDP + " Alg. 1 of Li et al. (Bernstein penalty, no data splitting) run for "
                             "tau_max >= log(N/(1-gamma))/(1-gamma) iterations. Stated as: the output is "
                             "epsilon-optimal with probability >= 1 - 2 delta once "
                             "N >= c1 S C*_clipped log(N S/((1-gamma) delta)) / ((1-gamma)^3 epsilon^2) "
                             "for epsilon in (0, 1/(1-gamma)]; encoded as the epsilon(N) that solves it. "
                             "C*_clipped = max_{s,a} min{d*(s,a), 1/S} / d_b(s,a).",
          constants="up to the universal constant c1 (set to 1, also in the regime's epsilon <= 1/(1-gamma))",
          verified=True, lhs=r"J(\pi^{\star}) - J(\hat{\pi})"),
    Bound(name="li2024_thm3", paper=LI2024, number="Theorem 3", setting="episodic", algorithm="VI-LCB (Bernstein)",
          kind="upper",
          expr=sympy.sqrt(H ** 3 * S * C_clip * sympy.log(K * H / delta) / K),
          regime=sympy.And(_delta_ok, H >= 1, K >= 1),
          regime_text="0 < delta < 1, H >= 1, K >= 1",
          assumptions="Finite-horizon MDP with horizon H, K sample trajectories; Alg. 2/3 of Li et al. "
                      "(Bernstein penalty, subsampling). Stated as: epsilon-optimal with probability "
                      ">= 1 - 12 delta once K >= c H^3 S C* log(KH/delta) / epsilon^2; encoded as the "
                      "epsilon(K) that solves it. UNVERIFIED: not in the project's digest (from research "
                      "notes transcribing the published version), the range of epsilon is not recorded, and "
                      "the notes write C* where Li et al.'s finite-horizon analysis uses the clipped "
                      "concentrability, which is what is encoded here.",
          constants="up to the universal constant c (set to 1)",
          verified=False, lhs=r"V^{\star}_1(\rho) - V^{\hat{\pi}}_1(\rho)"),
]

BOUNDS: dict[str, Bound] = {b.name: b for b in _ALL}
"""All registered bounds, by name."""

_SEARCHED = (" Searched (issue 22): SPIQA tex of arXiv 2103.12021v2 (intro only), v1 (abstract), IEEE T-IT doi "
             "10.1109/TIT.2022.3185139 (closed), NeurIPS 2021, the docs/pages/code/issues corpora: citations only.")
UNREGISTERED: dict[str, str] = {  #: results deliberately NOT registered or built: what is missing, where searched
    "rashidinejad2021_thm9": "Rashidinejad et al. Thm 9: its statement is missing (setting, rate, regime)." + _SEARCHED,
    "rashidinejad2021_thm7_instance": "Rashidinejad et al. Thm 7's MDPs (App. C.6): s0, s1, s+, s-, p = 1/(2-gamma), "
    "q = 2-1/gamma known; d* and mu (so C*), replica count, rewards, perturbation missing." + _SEARCHED}


class UnknownBoundError(KeyError, ValueError):
    """No bound is registered under the requested name.

    A KeyError (the registry-lookup convention: ``BOUNDS[name]``) and a ValueError (an invalid value of the
    parameter ``name``, as every other invalid argument of the library), so callers catching either see it.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def get(name: str) -> Bound:
    """The registered bound called ``name``.

    Raises
    ------
    UnknownBoundError
        (both KeyError and ValueError) for an unknown name, with the list of registered names;
        an InvalidParameterError (TypeError) when ``name`` is not a string.
    """
    name = check_str(name, "name")
    try:
        return BOUNDS[name]
    except KeyError:
        raise UnknownBoundError(f"name is {name!r}: no bound of that name; registered: {sorted(BOUNDS)}") from None


def for_setting(setting: str, kind: str | None = None) -> list[Bound]:
    """The registered bounds for ``setting`` (and ``kind`` if given), in registry order.

    Parameters
    ----------
    setting : {"mab", "cb", "mdp", "episodic"}
    kind : {"upper", "lower", "failure"}, optional

    Raises
    ------
    ValueError
        For an unknown setting or kind.
    """
    check_choice(setting, "setting", _SETTINGS)
    if kind is not None:
        check_choice(kind, "kind", _KINDS)
    return [b for b in BOUNDS.values() if b.setting == setting and (kind is None or b.kind == kind)]
