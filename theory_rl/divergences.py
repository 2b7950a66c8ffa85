"""Bernoulli KL divergences as sympy expressions: the exponents of the LCB paper's lower bounds.

:func:`bernoulli_kl` and the numerically stable :func:`kl_half_vs_inverse` (the exponent of Rashidinejad et al.
2021, Prop. 2). :mod:`theory_rl.bounds` builds its theorems from them and re-exports both.
"""

from __future__ import annotations

import sympy
from sympy.codegen.cfunctions import log1p

from theory_rl._validation import check_real

__all__ = ["bernoulli_kl", "kl_half_vs_inverse"]


def _symbolic(value, name: str, **interval):
    """``value`` as a sympy expression: a sympy object passes as it is (a symbol or an exact number); a plain
    number must be a real number in ``interval`` (NaN, inf, complex, strings and bools refused, naming ``name``)."""
    if isinstance(value, sympy.Basic):
        return value
    check_real(value, name, **interval)
    return sympy.sympify(value)


def bernoulli_kl(p, q):
    r"""KL divergence :math:`\mathrm{KL}(\mathrm{Bern}(p)\,\|\,\mathrm{Bern}(q))` as a sympy expression.

    Parameters
    ----------
    p, q : sympy expression or number
        Success probabilities, :math:`p \in [0, 1]`, :math:`q \in (0, 1)`.

    Returns
    -------
    sympy.Expr
        :math:`p \log(p/q) + (1-p) \log((1-p)/(1-q))`, with the convention :math:`0 \log 0 = 0` applied when
        ``p`` is 0 or 1 (an integer or a float).
    """
    p = _symbolic(p, "p", low=0.0, high=1.0)
    q = _symbolic(q, "q", low=0.0, high=1.0, closed="neither")
    terms = []
    # is_zero, not != 0: sympy >= 1.13 has Float(0.0) != 0, which would give 0 * log(0) = nan for p = 0.0
    if p.is_zero is not True:
        terms.append(p * sympy.log(p / q))
    if (1 - p).is_zero is not True:
        terms.append((1 - p) * sympy.log((1 - p) / (1 - q)))
    return sympy.Add(*terms)


def kl_half_vs_inverse(c):
    r""":math:`\mathrm{KL}(\mathrm{Bern}(1/2)\,\|\,\mathrm{Bern}(1/c))` in a numerically stable closed form.

    Equal to ``bernoulli_kl(1/2, 1/c)`` for :math:`c > 1`, written as
    :math:`\tfrac12 \operatorname{log1p}\big((c-2)^2 / (4(c-1))\big)` so that lambdified evaluation keeps full
    relative precision near :math:`c = 2`, where the divergence vanishes. Decreasing on :math:`(1, 2]`.

    Parameters
    ----------
    c : sympy expression or number
        The concentrability :math:`C^\star > 1`.

    Returns
    -------
    sympy.Expr
    """
    c = _symbolic(c, "c", low=1.0, closed="neither")
    return log1p((c - 2) ** 2 / (4 * (c - 1))) / 2
