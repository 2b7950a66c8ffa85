"""Bellman backups of an MDP on its own storage, policy linear systems, and the span certificate.

:class:`Backups` gives the scalable solvers (:mod:`theory_rl.solvers`, :mod:`theory_rl.sparse_planning`) one set of
operations whatever the storage: one BLAS call on the dense ``(S*A, S)`` matrix (DESIGN.md, "Speed"), or numba
kernels on the CSR rows of a sparse MDP (one pass over the non-zeros, no ``(S, A)`` temporary for the max).
:func:`policy_values` solves ``(I - gamma P_pi) V = r_pi`` directly where a dense solve fits and with a Krylov
method (scipy's GMRES or BiCGSTAB) where it does not, to a stated residual.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from theory_rl._csr_kernels import (
    csr_bellman_gather,
    csr_bellman_max,
    csr_gauss_seidel,
    csr_q,
    csr_shifted_q,
    dense_gauss_seidel,
    gathered_sweeps,
    mpi_eliminate,
    sweep_done,
)
from theory_rl._validation import (
    PROB_TOL,
    as_float_array,
    as_index_array,
    check_choice,
    check_instance,
    check_real,
    check_shape,
    check_step,
)
from theory_rl.feasibility import mask_infeasible
from theory_rl.mdp import TabularMDP
from theory_rl.results import ConvergenceError, PlanningResult

__all__ = ["DIRECT_LIMIT", "LINEAR_SOLVERS", "MPI_SWEEP_CAP", "MPI_SWEEP_RATIO", "Backups", "policy_values"]

#: States up to which a policy's values come from a dense LAPACK solve (a 4096 x 4096 system: 128 MiB, ~1 s).
DIRECT_LIMIT = 4096
#: Linear solvers of :func:`policy_values`: "auto" (direct up to DIRECT_LIMIT states, else GMRES).
LINEAR_SOLVERS = ("auto", "direct", "gmres", "bicgstab")
#: Adaptive MPI (``m=None``): at most this many evaluation sweeps per iteration, ...
MPI_SWEEP_CAP = 50
#: ... stopping once a sweep's change has span below this fraction of the last backup's span ``sp(T V - V)``.
MPI_SWEEP_RATIO = 0.1
_EPS = np.finfo(np.float64).eps


class Backups:
    """Bellman backups of ``mdp`` on its storage: dense BLAS, or numba kernels on CSR rows.

    Parameters
    ----------
    mdp : TabularMDP
        Dense or sparse; finite-horizon MDPs use their discount (``gamma = 1`` when undiscounted) and a step ``h``.

    Notes
    -----
    ``width`` is the largest number of terms in one row's sum (S dense, the largest row support sparse); it sizes
    the round-off bound :meth:`roundoff` of one computed backup.
    """

    def __init__(self, mdp: TabularMDP) -> None:
        mdp = check_instance(mdp, "mdp", TabularMDP)
        self.mdp, self.S, self.A = mdp, mdp.S, mdp.A
        self.gamma = float(mdp.discount)
        self.sparse = mdp.is_sparse
        if self.sparse:
            T = mdp.transitions
            self._csr = (T.indptr, T.indices, T.data)
            self._staged = T.shape[0] > mdp.S * mdp.A
            self.width = int(np.diff(T.indptr).max(initial=0))
        else:
            self.width = mdp.S
        self._max_rewards = {}  # issue 15: the reward tables of the max backups, -inf at infeasible pairs

    # ------------------------------------------------------------------ pieces of one stage
    def _step(self, h):
        return check_step(h, "h", self.mdp.horizon)

    def rewards(self, h=None) -> np.ndarray:
        """The flat ``(S*A,)`` reward table of step ``h`` (C-contiguous, read-only)."""
        return np.ascontiguousarray(self.mdp.R_at(self._step(h)) if self.mdp.is_episodic else self.mdp.R).reshape(-1)

    def max_rewards(self, h=None) -> np.ndarray:
        """:meth:`rewards` with ``-inf`` at infeasible pairs (the same array without a mask): the table of the
        max/greedy backups, so they range over feasible actions only (:mod:`theory_rl.feasibility`)."""
        if self.mdp.feasible is None:
            return self.rewards(h)
        h = self._step(h)
        if h not in self._max_rewards:
            self._max_rewards[h] = mask_infeasible(self.mdp, self.rewards(h))
        return self._max_rewards[h]

    def _row0(self, h) -> int:
        return h * self.S * self.A if (self.sparse and self._staged) else 0

    def _dense(self, h) -> np.ndarray:
        P = self.mdp.P_at(h) if self.mdp.is_episodic else self.mdp.P
        return P.reshape(-1, self.S)

    def _values(self, V) -> np.ndarray:
        V = np.ascontiguousarray(V, dtype=np.float64)
        check_shape(V, "V", (self.S,))
        return V

    # ------------------------------------------------------------------ backups
    def q(self, V, h=None, *, masked: bool = True) -> np.ndarray:
        """``Q = R_h + gamma P_h V``, shape ``(S, A)``; ``-inf`` at infeasible pairs unless ``masked=False``."""
        h, V = self._step(h), self._values(V)
        if not self.sparse:  # the same expressions as planning.q_from_values, so dense results agree exactly
            PV = (self._dense(h) @ V).reshape(self.S, self.A)
            Q = self.mdp.R_at(h) + self.gamma * PV if self.mdp.is_episodic else self.mdp.R + self.gamma * PV
            return mask_infeasible(self.mdp, Q) if masked and self.mdp.feasible is not None else Q
        out = np.empty(self.S * self.A)
        R = self.max_rewards(h) if masked else self.rewards(h)
        csr_q(*self._csr, R, V, self.gamma, self._row0(h if h is not None else 0), out)
        return out.reshape(self.S, self.A)

    def bellman(self, V, h=None) -> tuple[np.ndarray, np.ndarray]:
        """``(T V, greedy actions)``: ``max_a Q(s, a)`` and its lowest argmax, without an ``(S, A)`` temporary
        on sparse storage."""
        if not self.sparse:
            Q = self.q(V, h)
            return Q.max(axis=1), np.argmax(Q, axis=1)
        h, V = self._step(h), self._values(V)
        out, act = np.empty(self.S), np.empty(self.S, dtype=np.int64)
        csr_bellman_max(*self._csr, self.max_rewards(h), V, self.gamma, self.S, self.A,
                        self._row0(h if h is not None else 0), out, act)
        return out, act

    def policy_sweeps(self, actions: np.ndarray, V: np.ndarray, m: int) -> np.ndarray:
        """``m`` sweeps ``V <- r_pi + gamma P_pi V`` of the deterministic stationary policy ``actions``."""
        R = self.rewards()
        V = np.array(self._values(V))
        if self.sparse:  # the policy's rows gathered once into a compact CSR (1/A of the storage)
            rows = np.arange(self.S) * self.A + actions
            P_pi, r_pi = self.mdp.transitions[rows], R[rows]
        else:
            rows = np.arange(self.S) * self.A + actions
            P_pi, r_pi = self._dense(None)[rows], R[rows]
        for _ in range(int(m)):  # scipy's CSR mat-vec measured as fast as a numba loop here
            V = r_pi + self.gamma * (P_pi @ V)
        return V

    def gauss_seidel(self, V: np.ndarray) -> float:
        """One in-place Gauss-Seidel sweep over ``V`` (writable, float64, contiguous) in state order; returns the
        largest change."""
        if self.sparse:
            return float(csr_gauss_seidel(*self._csr, self.max_rewards(), V, self.gamma, self.S, self.A))
        return float(dense_gauss_seidel(self._dense(None), self.max_rewards(), V, self.gamma, self.S, self.A))

    def policy_system(self, policy) -> tuple:
        """``(P_pi, r_pi)`` of a stationary policy (actions ``(S,)`` or probabilities ``(S, A)``): a CSR matrix
        on sparse storage, a dense array otherwise."""
        S, A = self.S, self.A
        R = self.rewards()
        policy = np.asarray(policy)
        if policy.ndim == 1:
            rows = np.arange(S) * A + as_index_array(policy, "policy", A)
            if self.sparse:
                return self.mdp.transitions[rows], R[rows]
            return self._dense(None)[rows], R[rows]
        pi = policy.reshape(-1)
        if self.sparse:  # P_pi = Pi T with Pi[s, s*A + a] = pi(a|s)
            Pi = scipy.sparse.csr_array((pi, np.arange(S * A), np.arange(0, S * A + 1, A)), shape=(S, S * A))
            return Pi @ self.mdp.transitions, (pi * R).reshape(S, A).sum(axis=1)
        return np.einsum("sa,sat->st", policy, self.mdp.P), np.einsum("sa,sa->s", policy, R.reshape(S, A))

    # ------------------------------------------------------------------ modified policy iteration
    def mpi(self, V, *, m: int | None, threshold: float, max_iter: int) -> MPIRun:
        """Modified policy iteration from ``V`` until ``sp(T V - V) < threshold`` or ``max_iter`` backups.

        Each iteration is one backup ``W = T V`` with its greedy policy d, then evaluation sweeps
        ``V <- r_d + gamma P_d V`` from ``W``: exactly ``m`` of them, or (``m=None``) until a sweep's change has
        span below ``max(threshold, MPI_SWEEP_RATIO * sp(T V - V))`` (below ``threshold`` once d repeats the last
        policy, or when the sweeps contract fast enough to get there within A more, a backup's cost), at most
        ``MPI_SWEEP_CAP``. Sparse storage: one numba pass per backup that also keeps ``P V`` (the
        result's Q then costs no second pass) and gathers d's rows into a compact CSR for the sweeps (allocated
        once). Dense: one BLAS call per backup and per sweep. Returns the ``MPIRun`` of the last backup.

        Sparse storage also drops actions proven suboptimal (MacQueen 1967; Puterman 1994, Sec. 6.7.2), so that
        later backups read fewer rows. After a backup ``W = T' V`` of the current action sets (the same ``V*``
        as the MDP, by induction), with ``lo <= W - V <= hi`` and ``c = gamma / (1 - gamma)``: Porteus' bounds give
        ``V* <= V + hi / (1 - gamma)``, so ``Q*(s, a) = R + gamma P V* <= Q_V(s, a) + c hi``, and ``V*(s) >= W(s) +
        c lo``; an action with ``W(s) - Q_V(s, a) > c (hi - lo)`` thus has ``Q*(s, a) < V*(s)`` and is not
        optimal, and dropping it leaves ``V*`` unchanged. The slack adds the round-off of the computed ``Q_V``,
        ``W``, ``lo``, ``hi`` (``4 (1 + c)`` times :meth:`roundoff`) and rows summing to ``1 +- PROB_TOL`` (``c
        (|lo| + |hi|) PROB_TOL``). The result's Q covers every action (see ``MPIRun.certificate``).
        """
        gamma, S, A = self.gamma, self.S, self.A
        R = self.max_rewards()  # -inf at infeasible pairs: the greedy rows (and so the sweeps) stay feasible
        V = np.array(self._values(V))
        W, spare = np.empty(S), np.empty(S)
        act = np.zeros(S, dtype=np.int64)
        cap = MPI_SWEEP_CAP if m is None else int(m)
        if self.sparse:
            indptr = self._csr[0]
            room = int(np.diff(indptr).reshape(S, A).max(axis=1).sum()) if S * A else 0
            gptr, gidx, gdat, gr = np.empty(S + 1, np.int64), np.empty(room, np.int64), np.empty(room), np.empty(S)
            pv = np.empty(S * A)
            alive = np.ones(S * A, dtype=np.uint8)
            rptr = np.arange(0, S * A + 1, A, dtype=np.int64)
        else:
            P2 = self._dense(None)
        sweeps, changes = 0, S
        for k in range(1, max_iter + 1):
            if self.sparse:
                lo, hi, changes = csr_bellman_gather(*self._csr, R, V, gamma, S, A, W, act, pv, alive, gptr, gidx,
                                                     gdat, gr)
            else:
                Q = R.reshape(S, A) + gamma * (P2 @ V).reshape(S, A)
                best = np.argmax(Q, axis=1)
                changes = int(np.count_nonzero(best != act)) if k > 1 else S
                act, W = best, Q[np.arange(S), best]
                lo, hi = float((W - V).min()), float((W - V).max())
            span = hi - lo
            if span < threshold or k == max_iter:
                break
            if self.sparse:
                c = gamma / (1.0 - gamma)
                slack = c * span + c * (abs(lo) + abs(hi)) * PROB_TOL + 4.0 * (1.0 + c) * self.roundoff(V)
                mpi_eliminate(rptr, R, pv, W, gamma, slack, alive)
            if m is not None:
                stop = final = 0.0
            else:
                final = threshold
                stop = threshold if (changes == 0 and k > 1) else max(threshold, MPI_SWEEP_RATIO * span)
            if self.sparse:  # three buffers rotate: the old V becomes the next backup's output
                V_old = V
                V, spare, j, _ = gathered_sweeps(gptr, gidx, gdat, gr, W, spare, gamma, cap, stop, final, A, span)
                W = V_old
            else:
                V, j = self._dense_sweeps(P2, R, act, W, cap, stop, final, span)
            sweeps += j
        return MPIRun(self, V, lo, hi, k, sweeps, span < threshold, pv if self.sparse else None,
                      alive if self.sparse else None)

    def _dense_sweeps(self, P2, R, act, V, m: int, stop: float, final: float, span: float) -> tuple:
        rows = np.arange(self.S) * self.A + act
        P_pi, r_pi = P2[rows], R[rows]
        for j in range(1, m + 1):
            V_new = r_pi + self.gamma * (P_pi @ V)
            d = V_new - V
            V = V_new
            prev, span = span, float(d.max() - d.min())
            if sweep_done(span, prev, stop, final, self.A):
                return V, j
        return V, m

    # ------------------------------------------------------------------ certificates
    @staticmethod
    def result(V, Q, iterations, residual, error_bound, converged, method, constants=None) -> PlanningResult:
        """The :class:`~theory_rl.results.PlanningResult` record (read-only arrays, greedy policy of ``Q`` with
        the lowest index among ties), as planning's solvers return it."""
        V, Q = np.asarray(V), np.asarray(Q)
        policy = np.argmax(Q, axis=-1)
        for arr in (V, Q, policy):
            arr.setflags(write=False)
        return PlanningResult(V=V, Q=Q, policy=policy, iterations=int(iterations), residual=float(residual),
                              error_bound=float(error_bound), converged=bool(converged), method=method,
                              constants=dict(constants or {}))

    def roundoff(self, V) -> float:
        """Bound on the floating-point error of one computed backup (``width + 6`` roundings of ``|V|_inf``)."""
        return (self.width + 6) * _EPS * (1.0 + float(np.abs(V).max(initial=0.0)))

    def span_certificate(self, V, W) -> tuple[np.ndarray, float, float]:
        """Porteus' bounds around a computed backup ``W = T V`` of a discounted MDP.

        ``T V + c min(T V - V) <= V* <= T V + c max(T V - V)`` with ``c = gamma / (1 - gamma)``
        (Porteus 1971; Puterman 1994, Sec. 6.6). Returns the midpoint ``V_out`` of that band, its half-width
        plus the round-off of ``W`` (a proven bound on ``|V_out - V*|_inf``), and the span ``sp(T V - V)``.
        """
        d = W - V
        lo, hi = float(d.min()), float(d.max())
        c = self.gamma / (1.0 - self.gamma)
        V_out = W + c * (0.5 * (lo + hi))
        bound = c * 0.5 * (hi - lo) + self.roundoff(V_out) / (1.0 - self.gamma)
        return V_out, bound, hi - lo


def policy_values(P_pi, r_pi, gamma: float, *, linear_solver: str = "auto", atol: float = 1e-12) -> np.ndarray:
    """Values of a policy: the solution of ``(I - gamma P_pi) V = r_pi``.

    Parameters
    ----------
    P_pi : numpy.ndarray or scipy.sparse matrix, shape (S, S)
        The policy's transition matrix (rows sum to one).
    r_pi : array_like, shape (S,)
    gamma : float
        Discount in [0, 1).
    linear_solver : {"auto", "direct", "gmres", "bicgstab"}
        "direct": one LAPACK solve of the dense system (exact up to round-off); "gmres" / "bicgstab": the
        scipy.sparse.linalg Krylov method, followed by Jacobi sweeps ``V <- r_pi + gamma P_pi V`` (each shrinks
        the residual by gamma in the sup norm) until the residual is below ``atol``; "auto": direct up to
        ``DIRECT_LIMIT`` states, GMRES beyond.
    atol : float, default 1e-12
        Target of ``|r_pi + gamma P_pi V - V|_inf`` for the Krylov methods; then
        ``|V - V^pi|_inf <= atol / (1 - gamma)``.

    Raises
    ------
    ConvergenceError
        If the Krylov method and 10^4 Jacobi sweeps leave the residual above ``atol``.
    """
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0, closed="left")
    linear_solver = check_choice(linear_solver, "linear_solver", LINEAR_SOLVERS)
    atol = check_real(atol, "atol", low=0.0, closed="neither")
    r_pi = as_float_array(r_pi, "r_pi", ndim=1)
    S = r_pi.shape[0]
    if scipy.sparse.issparse(P_pi):
        if P_pi.dtype.kind not in "biuf" or not np.isfinite(P_pi.data).all():
            raise ValueError("P_pi must have finite real entries")
    else:
        P_pi = as_float_array(P_pi, "P_pi", ndim=2)
    if P_pi.shape != (S, S):
        raise ValueError(f"P_pi has shape {P_pi.shape}, expected ({S}, {S}) to match r_pi")
    if linear_solver == "auto":
        linear_solver = "direct" if S <= DIRECT_LIMIT else "gmres"
    if linear_solver == "direct":
        system = (P_pi.toarray() if scipy.sparse.issparse(P_pi) else np.array(P_pi)) * -gamma
        system.flat[:: S + 1] += 1.0
        return np.linalg.solve(system, r_pi)
    if scipy.sparse.issparse(P_pi):
        system = scipy.sparse.eye_array(S, format="csr") - gamma * scipy.sparse.csr_array(P_pi)
    else:
        system = scipy.sparse.linalg.aslinearoperator(np.eye(S) - gamma * np.asarray(P_pi))
    krylov = scipy.sparse.linalg.gmres if linear_solver == "gmres" else scipy.sparse.linalg.bicgstab
    extra = {"restart": 60} if linear_solver == "gmres" else {}
    V, _info = krylov(system, r_pi, rtol=1e-13, atol=0.25 * atol, maxiter=2000, **extra)
    V = np.asarray(V, dtype=np.float64)
    # Polish in the sup norm the certificate needs: the Krylov residual is measured in the 2-norm.
    residual = float(np.abs(r_pi + gamma * (P_pi @ V) - V).max())
    sweeps = 0
    while not residual <= atol:
        if sweeps >= 10_000:
            raise ConvergenceError(f"policy_values ({linear_solver}): residual {residual:.3e} above atol={atol:g} "
                                   f"after the Krylov solve and {sweeps} Jacobi sweeps (gamma={gamma})")
        # |res| shrinks by gamma per sweep: enough sweeps to reach atol, at least one
        n = 1 if gamma == 0 else max(1, min(1000, math.ceil(math.log(atol / residual) / math.log(gamma))))
        for _ in range(n):
            V = r_pi + gamma * (P_pi @ V)
        sweeps += n
        residual = float(np.abs(r_pi + gamma * (P_pi @ V) - V).max())
    return V


class MPIRun:  # returned by Backups.mpi, not built by users (so not in __all__)
    """The last backup of :meth:`Backups.mpi`: ``V`` and the bounds ``lo <= T V - V <= hi`` of its computed backup.

    :meth:`certificate` turns them into Porteus' bounds in the form ``V + [lo, hi] / (1 - gamma)`` (Porteus 1971;
    Puterman 1994, Sec. 6.6): ``T V >= V + lo`` gives ``V* >= V + lo / (1 - gamma)`` by monotonicity and
    contraction, and likewise above. This form is ``1/gamma`` wider than the one around ``T V``, but its midpoint
    ``V + c`` has ``Q = R + gamma (P V + c P 1)``, from the ``P V`` the backup kept (sparse storage): no further pass.
    """

    def __init__(self, backups, V, lo, hi, iterations, sweeps, converged, pv, alive) -> None:
        self.backups, self.V, self.lo, self.hi = backups, V, float(lo), float(hi)
        self.iterations, self.sweeps, self.converged = int(iterations), int(sweeps), bool(converged)
        self.span = self.hi - self.lo
        self._pv = pv
        #: Sparse storage: ``(S*A,)`` uint8, 0 for the actions proven suboptimal on the way; None when dense.
        self.alive = alive

    def certificate(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(V_out, Q, error_bound)``: the band's midpoint ``V_out = V + (lo + hi) / (2 (1 - gamma))``, its Q, and
        the band's half-width plus the round-off of the computed backup (a proven bound on ``|V_out - V*|``)."""
        B = self.backups
        one_minus = 1.0 - B.gamma
        c = 0.5 * (self.lo + self.hi) / one_minus
        V_out = self.V + c
        if B.sparse:  # Q of V + c from P V and the row sums (a fresh pass over the dropped rows only), into pv
            csr_shifted_q(*B._csr, B.max_rewards(), self.V, self._pv, self.alive, B.gamma, c, self._pv)
            Q = self._pv.reshape(B.S, B.A)
        else:  # dense: one BLAS call, as planning.q_from_values (P 1 would cost as much)
            Q = B.q(V_out)
        bound = 0.5 * self.span / one_minus + B.roundoff(V_out) / one_minus
        return V_out, Q, bound
