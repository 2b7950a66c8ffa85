"""numba loop of VI-LCB's pessimistic sweeps (Rashidinejad et al. 2021, Alg. 3), for :mod:`.lcb`.

One sweep on a 5-state MDP is ~10 numpy calls of ~1 us each, so the interpreter, not the arithmetic, set the cost
of the ~90 sweeps of a call (issue 16); here the whole loop is one compiled call. The arithmetic is the numpy
version's, ``Q = (r - b) + gamma * (P V)``, with ``P V`` summed over next states in index order: BLAS sums in
another order, so ``Q`` and ``V`` may differ from the former numpy loop in the last bits (never more than the
round-off of an ``S``-term sum); the policies agree except at such round-off ties (tested on random instances).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def pessimistic_sweeps(base, P, seen, gamma, pi0, iterations, V, policy, Q):
    """``iterations`` sweeps of Alg. 3's monotone update over ``F`` folds used in turn (fold ``t % F``).

    ``base`` is ``r_hat - b`` ``(F, S, A)``, ``P`` the empirical kernels ``(F, S, A, S)``, ``seen`` ``N > 0``
    ``(F, S, A)``. Writes ``V`` ``(S,)`` (from 0), ``policy`` ``(S,)`` (from ``pi0``) and the last ``Q``
    ``(S, A)``. A state switches action only when ``max_a Q > V`` strictly; ties go to the lowest action
    (``numpy.argmax``). Unseen pairs get ``Q <= 0``, their exact lower bound (rewards are non-negative): otherwise
    the uniform ``P_hat`` lends them the value of well-estimated states, and with a scaled-down penalty the
    monotone update switches to an action never tried (with the paper's constants ``b >= Vmax`` and this never
    binds).
    """
    F, S, A = base.shape
    for s in range(S):
        V[s] = 0.0
        policy[s] = pi0[s]
    V_mid = np.empty(S)
    pi_mid = np.empty(S, np.int64)
    for t in range(iterations):
        f = t % F
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                acc = 0.0
                for s2 in range(S):
                    acc += P[f, s, a, s2] * V[s2]
                q = base[f, s, a] + gamma * acc
                if not seen[f, s, a] and q > 0.0:
                    q = 0.0
                Q[s, a] = q
                if a == 0 or q > best:
                    best = q
                    arg = a
            V_mid[s] = best
            pi_mid[s] = arg
        for s in range(S):  # after the whole sweep: every state's Q used the previous V
            if V_mid[s] > V[s]:
                V[s] = V_mid[s]
                policy[s] = pi_mid[s]
