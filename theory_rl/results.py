"""One result vocabulary for every solver and learner, and the one stopping rule of every iterative routine.

Every solver or learner returns a :class:`Result` (or a subclass that adds its own fields): ``policy``, ``V``,
``Q``, ``method`` and ``constants`` always carry those names. A routine with a stopping rule returns an
:class:`IterativeResult`, which adds the certificate ``iterations``, ``residual``, ``error_bound`` and
``converged``. The model is scipy's ``OptimizeResult``: one vocabulary, whatever the method.

An iterative routine that hits ``max_iter`` before its stopping rule is met calls :func:`stop_at_max_iter`: it
raises :class:`ConvergenceError` by default (``on_max_iter="raise"``) or, with ``on_max_iter="warn"``, warns
with a :class:`ConvergenceWarning` and lets the routine return a result with ``converged=False``. Never silent.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from theory_rl._validation import Callable, String, check_int, check_on_max_iter, check_str, validate_params

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "Result",
    "IterativeResult",
    "stop_at_max_iter",
    "renamed_field",
    "PlanningResult",
]


class ConvergenceError(RuntimeError):
    """Raised when an iterative routine hits ``max_iter`` before its stopping rule certifies the answer."""


class ConvergenceWarning(UserWarning):
    """Warned instead of :class:`ConvergenceError` when ``on_max_iter="warn"``."""


def stop_at_max_iter(on_max_iter: str, method: str, max_iter: int, detail: str = "") -> None:
    """The shared ``on_max_iter`` rule, called when ``method`` used ``max_iter`` iterations unconverged.

    Raises :class:`ConvergenceError` (``"raise"``) or warns with :class:`ConvergenceWarning` (``"warn"``); the
    caller then returns its result with ``converged=False``. ``detail`` says how far from converged it stopped.
    """
    on_max_iter = check_on_max_iter(on_max_iter)
    method, detail = check_str(method, "method"), check_str(detail, "detail")
    max_iter = check_int(max_iter, "max_iter", low=0)
    message = f"{method} did not converge in {max_iter} iterations" + (f" ({detail})" if detail else "")
    if on_max_iter == "raise":
        raise ConvergenceError(message + "; raise max_iter, loosen tol, or pass on_max_iter='warn'")
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


@validate_params(old=String(), new=String(), read=Callable(optional=True))
def renamed_field(old: str, new: str, read=None) -> property:
    """A read-only property for a record field renamed to ``new`` (kept one release): it warns with a
    DeprecationWarning and returns ``getattr(record, new)``, or ``read(record)`` where the new home is not an
    attribute (e.g. ``constants["beta"]``)."""

    def fget(self):
        warnings.warn(f"{type(self).__name__}.{old} is deprecated; use .{new}", DeprecationWarning, stacklevel=2)
        return getattr(self, new) if read is None else read(self)

    return property(fget, doc=f"Deprecated name of ``{new}``.")


def _summary(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return repr(value)


@dataclass(frozen=True, kw_only=True, repr=False)
class Result:
    """What every solver and learner returns.

    Attributes
    ----------
    policy : numpy.ndarray
        The returned policy: actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``.
    V : numpy.ndarray or None
        The values the method computes for its policy (pessimistic, optimistic or exact, as its docstring
        says), shape ``(S,)`` or ``(H, S)``; None where the method computes none.
    Q : numpy.ndarray or None
        The action values or scores the policy is greedy in, shape ``(S, A)`` or ``(H, S, A)``.
    method : str
        Which method produced the result (``"vi_lcb"``, ``"policy_iteration"``, ...).
    constants : dict
        The constants and diagnostics the method used (delta, log terms, penalty scale, ...), JSON-friendly.
    """

    policy: np.ndarray
    V: np.ndarray | None = None
    Q: np.ndarray | None = None
    method: str = ""
    constants: dict = field(default_factory=dict)

    def _fields_repr(self) -> str:
        names = [f for f in self.__dataclass_fields__ if f not in ("method", "constants")]
        return ", ".join(f"{f}={_summary(getattr(self, f))}" for f in names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.method}: {self._fields_repr()}, constants={self.constants})"


@dataclass(frozen=True, kw_only=True, repr=False)
class IterativeResult(Result):
    """A :class:`Result` of a routine with a stopping rule, with its certificate.

    Attributes
    ----------
    iterations : int
        Iterations (sweeps, improvement steps, Frank-Wolfe steps, rounds) used.
    residual : float
        What the stopping rule tests at the end (a Bellman residual, a duality gap, a last change).
    error_bound : float
        A proven bound on the distance to the exact answer where the method has one, else ``nan``.
    converged : bool
        Whether the stopping rule was met (False only when ``on_max_iter="warn"`` let the routine return).
    """

    iterations: int = 0
    residual: float = float("nan")
    error_bound: float = float("nan")
    converged: bool = True

    def certificate(self) -> str:
        """A one-line human-readable summary of the certificate."""
        status = "converged" if self.converged else "NOT converged"
        bound = "" if np.isnan(self.error_bound) else f"; |V - V*| <= {self.error_bound:.3e}"
        return f"{self.method}: {status} after {self.iterations} iteration(s); residual {self.residual:.3e}{bound}"


# Issue 15: moved here from planning (which re-exports it), so that the planning methods of the layer below
# planning (theory_rl.solvers, theory_rl.sparse_planning) return the same record.
@dataclass(frozen=True, kw_only=True, repr=False)
class PlanningResult(IterativeResult):
    """Optimal values and policy of an MDP, with the certificate of how they were obtained.

    An :class:`theory_rl.results.IterativeResult` (``policy``, ``V``, ``Q``, ``method``, ``constants``, and the
    certificate ``iterations``, ``residual``, ``error_bound``, ``converged``). Here ``V`` has shape ``(S,)`` or
    ``(H, S)``; ``Q = R + gamma P V`` has shape ``(S, A)`` or ``(H, S, A)``; ``policy`` holds the greedy actions of
    ``Q`` (lowest index among ties); ``iterations`` counts sweeps (value iteration), improvement steps (policy
    iteration) or H (backward induction); ``residual`` is the Bellman residual ``max_s |T V(s) - V(s)|`` (value
    iteration: the last ``max |V_k - V_{k-1}|``, which its stopping rule tests; modified policy iteration: the span
    of ``T V - V`` that its stopping rule tests); ``error_bound`` is a proven bound
    on ``max_s |V(s) - V*(s)|``; ``constants`` holds the solver's settings (empty for the exact solvers).
    """

    def certificate(self) -> str:
        """A one-paragraph human-readable summary of the certificate."""
        status = "converged" if self.converged else "NOT converged"
        return (
            f"{self.method}: {status} after {self.iterations} iteration(s); "
            f"residual {self.residual:.3e}; |V - V*| <= {self.error_bound:.3e}"
        )

    def __repr__(self) -> str:
        return f"PlanningResult({self.certificate()})"
