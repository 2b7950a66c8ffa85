"""Latent-state sampler of factored linear MDPs: memory O(d S), not O(S A S) (issue 15, item 4).

With non-negative factors, ``P_h(s' | s, a) = sum_i phi_h(s, a)_i mu_h[i, s']`` is a mixture: draw the latent index
``i`` with probability ``phi_h(s, a)_i m_{h,i}`` (``m_{h,i} = sum_s' mu_h[i, s']``, 1 for simplex features, so the
weights are ``phi_h(s, a)`` itself), then ``s' ~ mu_h[i] / m_{h,i}`` (Jin et al. 2020, Example 2.2, the latent
variable view). The second draw uses one Walker alias table per latent index and distinct stage, ``d`` tables
over ``S`` (not ``S A`` as a dense kernel needs), built once per model (Vose 1991); the first is an O(d) scan.

Randomness: numpy Generator streams drawn in blocks (``U (n, H + 1, 4)``: the initial state, then per step the
action of a stochastic policy, the latent index, the alias column and a Bernoulli reward; ``G (n, H)`` standard
normals for Gaussian rewards), consumed by a numba kernel (``latent_rollouts``), so one episode drawn by
``LatentSampler.episode`` equals the first of ``LatentSampler.rollouts`` from the same stream.
"""

from __future__ import annotations

import weakref

import numpy as np
from numba import njit

from theory_rl._random import as_generator
from theory_rl._validation import (
    Instance,
    as_float_array,
    as_index_array,
    check_instance,
    check_int,
    check_table,
    validate_params,
)
from theory_rl.linear.factored import FactoredLinearMDP
from theory_rl.policies import as_probabilities

__all__ = ["LatentSampler"]

_NOISE = {"bernoulli": 0, "gaussian": 1, "deterministic": 2}
_BLOCK = 1 << 14  # episodes per kernel call (bounds the uniforms' memory)


@njit(cache=True)
def _build_alias(p, prob, alias):  # pragma: no cover - numba
    """Vose's alias table of the non-negative row ``p`` (any positive total) into ``prob`` / ``alias``."""
    n = p.size
    total = p.sum()
    scaled = p * (n / total)
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        lo = small[ns]
        nl -= 1
        g = large[nl]
        prob[lo] = scaled[lo]
        alias[lo] = g
        scaled[g] = (scaled[g] + scaled[lo]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    while nl > 0:  # left over by round-off: keep themselves
        nl -= 1
        prob[large[nl]] = 1.0
        alias[large[nl]] = large[nl]
    while ns > 0:
        ns -= 1
        prob[small[ns]] = 1.0
        alias[small[ns]] = small[ns]


@njit(cache=True)
def _alias_tables(mu, prob, alias):  # pragma: no cover - numba
    for k in range(mu.shape[0]):
        for i in range(mu.shape[1]):
            if mu[k, i].sum() > 0.0:
                _build_alias(mu[k, i], prob[k, i], alias[k, i])


@njit(cache=True, inline="always")
def _alias_draw(prob, alias, u):  # pragma: no cover - numba
    n = prob.size
    x = u * n
    j = int(x)
    if j >= n:
        j = n - 1
    return j if x - j < prob[j] else alias[j]


@njit(cache=True, inline="always")
def _scan(w, u):  # pragma: no cover - numba
    """Index ``i`` with probability ``w_i / sum(w)`` by inverse CDF (the last positive weight on round-off)."""
    x = u * w.sum()
    c = 0.0
    last = 0
    for i in range(w.size):
        if w[i] > 0.0:
            c += w[i]
            last = i
            if x < c:
                return i
    return last


@njit(cache=True)
def latent_rollouts(U, G, init_prob, init_alias, phi, mass, mprob, malias, theta, actions, probs, deterministic,
                    noise, std, states, acts, rews):  # pragma: no cover - numba
    """Episodes of a policy in a factored linear MDP with non-negative factors (kernel; trusts its inputs).

    ``phi`` (nPhi, S, A, d), ``mass`` (nMu, d), ``mprob`` / ``malias`` (nMu, d, S), ``theta`` (H, d), ``actions``
    (nPi, S) int or ``probs`` (nPi, S, A); ``U`` (n, H+1, 4), ``G`` (n, H) or (1, 1); outputs ``states``
    (n, H+1), ``acts`` (n, H), ``rews`` (n, H). Stage ``h`` uses index ``min(h, n* - 1)`` of each stacked table.
    """
    n, H = acts.shape
    d = theta.shape[1]
    w = np.empty(d)
    for e in range(n):
        s = _alias_draw(init_prob, init_alias, U[e, 0, 0])
        states[e, 0] = s
        for h in range(H):
            kp = min(h, phi.shape[0] - 1)
            km = min(h, mass.shape[0] - 1)
            ka = min(h, actions.shape[0] - 1) if deterministic else min(h, probs.shape[0] - 1)
            a = actions[ka, s] if deterministic else _scan(probs[ka, s], U[e, h + 1, 0])
            f = phi[kp, s, a]
            r = 0.0
            for i in range(d):
                w[i] = f[i] * mass[km, i]
                r += f[i] * theta[h, i]
            i = _scan(w, U[e, h + 1, 1])
            s2 = _alias_draw(mprob[km, i], malias[km, i], U[e, h + 1, 2])
            if noise == 0:
                r = 1.0 if U[e, h + 1, 3] < r else 0.0
            elif noise == 1:
                r = r + std * G[e, h]
            acts[e, h] = a
            rews[e, h] = r
            s = s2
            states[e, h + 1] = s


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tables(model: FactoredLinearMDP):
    """Alias tables of ``init`` and of every ``mu_h[i]`` (cached per model; models are immutable)."""
    t = _TABLES.get(model)
    if t is None:
        mu = np.ascontiguousarray(model.mu.reshape(-1, model.d, model.S))
        mprob = np.ones(mu.shape)
        malias = np.zeros(mu.shape, np.int32)
        _alias_tables(mu, mprob, malias)
        iprob = np.ones((1, 1, model.S))
        ialias = np.zeros((1, 1, model.S), np.int32)
        _alias_tables(np.ascontiguousarray(model.init.reshape(1, 1, -1)), iprob, ialias)
        t = (iprob[0, 0], ialias[0, 0], mprob, malias)
        _TABLES[model] = t
    return t


class LatentSampler:
    """Episodes of a :class:`FactoredLinearMDP` with non-negative factors, in memory O(d S) beside the model.

    Parameters
    ----------
    model : FactoredLinearMDP
        Non-negative factors (``model.nonnegative``); signed ones are refused (no latent mixture exists).

    Notes
    -----
    Same law as the dense kernel ``phi mu``: ``transition_law`` enumerates the tables the kernel draws from
    (latent weights times each alias table's law), which the tests compare with ``P`` of small instances.
    """

    @validate_params(model=Instance(FactoredLinearMDP))
    def __init__(self, model: FactoredLinearMDP) -> None:
        if not model.nonnegative:
            raise ValueError("model has signed factors (phi or mu < 0): the latent sampler needs phi >= 0, mu >= 0")
        self.model = model
        self._init_prob, self._init_alias, self._mprob, self._malias = _tables(model)
        self._phi = model.phi.reshape((-1,) + model.phi.shape[-3:])
        self._noise = _NOISE[model.reward_noise]

    @property
    def nbytes(self) -> int:
        """Bytes of the sampler's own tables (alias tables of ``init`` and of ``mu``)."""
        return int(self._mprob.nbytes + self._malias.nbytes + self._init_prob.nbytes + self._init_alias.nbytes)

    def _policy(self, policy):
        m = self.model
        arr = np.asarray(policy)
        if arr.dtype != bool and np.issubdtype(arr.dtype, np.integer):
            if arr.shape not in ((m.S,), (m.H, m.S)):
                raise ValueError(f"policy holds actions with shape {arr.shape}, expected ({m.S},) or ({m.H}, {m.S})")
            acts = as_index_array(arr, "policy", m.A, ndim=None).astype(np.int32).reshape(-1, m.S)
            return np.ascontiguousarray(acts), np.ones((1, 1, 1)), True
        arr = as_float_array(arr, "policy", ndim=(2, 3))
        probs = as_probabilities(arr, m.S, m.A, horizon=m.H if arr.ndim == 3 else None)
        return np.zeros((1, 1), np.int32), np.ascontiguousarray(probs.reshape(-1, m.S, m.A)), False

    def _run(self, acts, probs, det, n, rng):
        m = self.model
        U = rng.random((n, m.H + 1, 4))
        G = rng.standard_normal((n, m.H)) if self._noise == 1 else np.zeros((1, 1))
        states = np.empty((n, m.H + 1), np.int64)
        actions = np.empty((n, m.H), np.int64)
        rewards = np.empty((n, m.H))
        latent_rollouts(U, G, self._init_prob, self._init_alias, self._phi, m.mass, self._mprob, self._malias,
                        m.theta, acts, probs, det, self._noise, float(m.reward_std), states, actions, rewards)
        return states, actions, rewards

    def rollouts(self, policy, n_episodes: int, seed):
        """``n_episodes`` episodes of ``policy`` (actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` /
        ``(H, S, A)``): ``states`` (n, H+1), ``actions`` (n, H), ``rewards`` (n, H). ``seed``: int, SeedSequence or
        Generator (a Generator advances)."""
        n = check_int(n_episodes, "n_episodes", low=0)
        check_table("the rollouts", (n, self.model.H + 1), ("n_episodes", "H + 1"), itemsize=24)
        rng = as_generator(seed)
        acts, probs, det = self._policy(policy)
        out = [self._run(acts, probs, det, min(_BLOCK, n - lo), rng) for lo in range(0, n, _BLOCK)] or [
            self._run(acts, probs, det, 0, rng)]
        return tuple(np.concatenate(x) for x in zip(*out, strict=True))

    def episode(self, act, rng: np.random.Generator):
        """One episode whose action at ``(h, s)`` is ``act(h, s)`` (a callable: the lazy greedy policies of the
        learners, which never tabulate a policy over S). Consumes the stream exactly as ``rollouts(., 1, rng)``."""
        m = self.model
        check_instance(rng, "rng", np.random.Generator)
        if not callable(act):
            raise ValueError(f"act is a {type(act).__name__}, expected a callable (h, s) -> action")
        U = rng.random((1, m.H + 1, 4))
        G = rng.standard_normal((1, m.H)) if self._noise == 1 else np.zeros((1, 1))
        states = np.empty(m.H + 1, np.int64)
        actions = np.empty(m.H, np.int64)
        rewards = np.empty(m.H)
        one_s = np.empty((1, 2), np.int64)
        one_a = np.empty((1, 1), np.int64)
        one_r = np.empty((1, 1))
        s = int(_first_state(U, self._init_prob, self._init_alias))
        states[0] = s
        for h in range(m.H):
            a = check_int(act(h, s), "act(h, s)", low=0, high=m.A - 1)
            # one step of the kernel from state s at step h (the same draws as the batched kernel's step h)
            latent_step(U[0, h + 1], G[0, h] if self._noise == 1 else 0.0, s, a, h, self._phi, m.mass, self._mprob,
                        self._malias, m.theta, self._noise, float(m.reward_std), one_s, one_a, one_r)
            actions[h], rewards[h] = a, one_r[0, 0]
            s = int(one_s[0, 1])
            states[h + 1] = s
        return states, actions, rewards

    def transition_law(self, h: int, s: int, a: int) -> np.ndarray:
        """The exact law (S,) of the kernel's next state from ``(h, s, a)``, enumerated from its tables:
        ``sum_i w_i / sum(w) * law(alias table i)``, ``w = phi_h(s, a) * m_h`` (for tests against ``P``)."""
        m = self.model
        h = check_int(h, "h", low=0, high=m.H - 1)
        s = check_int(s, "s", low=0, high=m.S - 1)
        a = check_int(a, "a", low=0, high=m.A - 1)
        km = min(h, m.mass.shape[0] - 1)
        w = self._phi[min(h, self._phi.shape[0] - 1), s, a] * m.mass[km]
        law = np.zeros(m.S)
        for i in np.flatnonzero(w > 0):
            law += w[i] / w.sum() * alias_law(self._mprob[km, i], self._malias[km, i])
        return law


def alias_law(prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The exact law of one draw from an alias table: ``(prob[j] + sum_{k: alias[k] = j} (1 - prob[k])) / n``."""
    n = prob.size
    return (prob + np.bincount(alias, weights=1.0 - prob, minlength=n)) / n


@njit(cache=True)
def _first_state(U, init_prob, init_alias):  # pragma: no cover - numba
    return _alias_draw(init_prob, init_alias, U[0, 0, 0])


@njit(cache=True)
def latent_step(u, g, s, a, h, phi, mass, mprob, malias, theta, noise, std, out_s, out_a, out_r):  # pragma: no cover
    """One step of ``latent_rollouts`` from ``(h, s, a)`` with uniforms ``u`` (4,) and normal ``g``."""
    d = theta.shape[1]
    kp = min(h, phi.shape[0] - 1)
    km = min(h, mass.shape[0] - 1)
    f = phi[kp, s, a]
    w = np.empty(d)
    r = 0.0
    for i in range(d):
        w[i] = f[i] * mass[km, i]
        r += f[i] * theta[h, i]
    i = _scan(w, u[1])
    out_s[0, 1] = _alias_draw(mprob[km, i], malias[km, i], u[2])
    if noise == 0:
        r = 1.0 if u[3] < r else 0.0
    elif noise == 1:
        r = r + std * g
    out_a[0, 0] = a
    out_r[0, 0] = r
