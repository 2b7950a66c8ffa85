"""numba kernels for sampling: transitions, rewards, trajectories and i.i.d. (s, a) ~ mu datasets.

Kernels trust their inputs (validation happens in :mod:`theory_rl.data`). They never touch numpy's global RNG:
each trial owns a splitmix64 stream (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
generators", OOPSLA) started from one explicit uint64 seed, so a batched call (``prange`` over trials), a one-trial
call and any thread count give identical samples. The per-trial seeds come from
``numpy.random.SeedSequence.spawn`` (see :func:`theory_rl.data.trial_seeds`), which gives well-mixed, independent
seeds. splitmix64's state walks a Weyl sequence, so two trials' streams overlap only if their seeds lie within
the number of draws of each other on it: probability about ``n_trials^2 * draws / 2^64``, negligible.

Categorical draws use Walker's alias method (Walker 1977, ACM TOMS 3(3); Vose 1991, IEEE TSE 17(9)): a table per
row of P (``S*A`` rows, or ``H*S*A`` for a stage-dependent P), so a draw is one 53-bit uniform, one multiply and
one compare. An entry with probability zero is never drawn.

Table layout: a categorical distribution over ``K`` outcomes with row index ``r`` lives in ``prob[r, :]`` (float64
thresholds) and ``alias[r, :]`` (int32). Reward noise codes: 0 Bernoulli(R), 1 Gaussian N(R, std^2),
2 deterministic R.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NOISE_CODES = {"bernoulli": 0, "gaussian": 1, "deterministic": 2}

#: Episodes stepped together in :func:`trajectories_trial` (instruction-level parallelism).
LANES = 8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


# ---------------------------------------------------------------------- generator
@njit(cache=True, inline="always")
def _next_u64(state):
    """splitmix64: advance the state by the golden gamma and return (new state, mixed 64-bit output)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return state, z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _uniform(state):
    """A uniform double in [0, 1) with 53 random bits."""
    state, z = _next_u64(state)
    return state, np.float64(np.int64(z >> _S11)) * _TO_UNIT  # signed conversion is one instruction


@njit(cache=True, inline="always")
def _alias_draw(state, prob, alias, row):
    """One draw from the alias table ``(prob[row], alias[row])``: one uniform and one compare."""
    state, u = _uniform(state)
    K = prob.shape[1]
    t = u * K
    k = np.int64(t)
    if k >= K:  # cannot happen for u < 1, kept so that no index can go out of bounds
        k = K - 1
    other = np.int64(alias[row, k])
    # A select rather than a branch: the outcome is unpredictable, a mispredicted branch costs more than the load.
    return state, k if t - k < prob[row, k] else other


@njit(cache=True, inline="always")
def _reward(state, mean, noise, std):
    """A reward with mean ``mean``: Bernoulli (0), Gaussian by Box-Muller (1) or deterministic (2)."""
    if noise == 0:
        state, u = _uniform(state)
        return state, np.float64(u < mean)  # branch-free: the outcome is unpredictable
    if noise == 1:
        state, u1 = _uniform(state)
        state, u2 = _uniform(state)
        return state, mean + std * np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    return state, mean


# ---------------------------------------------------------------------- alias tables
@njit(cache=True)
def build_alias(p):
    """Alias tables for every row of ``p`` (shape ``(rows, K)``, rows summing to one).

    Vose's stable construction. Returns ``(prob, alias)`` with ``prob`` float64 and ``alias`` int32, both
    ``(rows, K)``. Entries with ``p = 0`` get threshold 0 and are never an alias, so they are never drawn.
    """
    rows, K = p.shape
    prob = np.ones((rows, K))
    alias = np.empty((rows, K), dtype=np.int32)
    small = np.empty(K, dtype=np.int64)
    large = np.empty(K, dtype=np.int64)
    scaled = np.empty(K)
    for r in range(rows):
        total = 0.0
        for k in range(K):
            total += p[r, k]
        ns = 0
        nl = 0
        for k in range(K):
            alias[r, k] = k
            scaled[k] = p[r, k] * K / total
            if scaled[k] < 1.0:
                small[ns] = k
                ns += 1
            else:
                large[nl] = k
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = small[ns]
            g = large[nl - 1]
            prob[r, s] = scaled[s]
            alias[r, s] = g
            scaled[g] = (scaled[g] + scaled[s]) - 1.0
            if scaled[g] < 1.0:
                nl -= 1
                small[ns] = g
                ns += 1
        # Left-overs (exactly 1 up to round-off) keep threshold 1: they are always drawn as themselves.
        for i in range(nl):
            prob[r, large[i]] = 1.0
        for i in range(ns):
            prob[r, small[i]] = 1.0 if scaled[small[i]] > 0.0 else 0.0
    return prob, alias


# ---------------------------------------------------------------------- transitions and rewards
@njit(cache=True)
def sample_transitions(
    seed, P_prob, P_alias, S, A, stages, states, actions, R, noise, std, next_out, reward_out
):
    """Next states and rewards for given ``(h, s, a)`` triples, one stream (one trial).

    ``P_prob``/``P_alias`` have ``nP*S*A`` rows (``nP = 1`` for a stationary P); ``R`` has shape ``(nR, S, A)``.
    """
    state = np.uint64(seed)
    nP = P_prob.shape[0] // (S * A)
    nR = R.shape[0]
    for i in range(states.shape[0]):
        h = stages[i]
        s = states[i]
        a = actions[i]
        hp = h if nP > 1 else 0
        hr = h if nR > 1 else 0
        state, nxt = _alias_draw(state, P_prob, P_alias, (hp * S + s) * A + a)
        next_out[i] = nxt
        state, r = _reward(state, R[hr, s, a], noise, std)
        reward_out[i] = r


# ---------------------------------------------------------------------- trajectories
# The model and policy arguments shared by every trajectory kernel, between ``seed`` and the outputs:
#   init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, pi_actions, deterministic, pi_probs, R, noise, std
# The policy has ``nPi`` stages (1 = stationary): deterministic policies use ``pi_actions`` ``(nPi, S)``, stochastic
# ones the alias tables ``pi_prob``/``pi_alias`` with ``nPi*S`` rows over actions. ``pi_probs`` ``(nPi, S, A)`` gives
# the behaviour probability recorded with each action (unused, and may be any array, when nothing records it).


@njit(cache=True)
def trajectories_trial(
    seed,
    init_prob,
    init_alias,
    P_prob,
    P_alias,
    S,
    A,
    pi_prob,
    pi_alias,
    pi_actions,
    deterministic,
    pi_probs,
    R,
    noise,
    std,
    states_out,
    actions_out,
    rewards_out,
    bprob_out,
):
    """``n_episodes = states_out.shape[0]`` episodes of ``T = actions_out.shape[1]`` steps, one stream.

    Path layout: ``states_out`` has ``T + 1`` columns. ``bprob_out`` may be None (nothing recorded). (A joint
    ``(a, s')`` table, one draw per step for stochastic policies, was tried and measured slower: its larger rows
    and the decoding lengthen the dependency chain.)
    """
    # Passing None as pi_actions for a stochastic policy makes numba compile a separate loop for each form, with
    # the policy branch resolved at compile time: a run-time branch in the hot loop was measured to cost ~1.7x.
    if deterministic:
        _trajectories(
            np.uint64(seed), init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, pi_actions, pi_probs,
            R, noise, std, states_out, None, actions_out, rewards_out, bprob_out, None, None,
        )  # fmt: skip
    else:
        _trajectories(
            np.uint64(seed), init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, None, pi_probs,
            R, noise, std, states_out, None, actions_out, rewards_out, bprob_out, None, None,
        )  # fmt: skip


@njit(cache=True)
def transitions_trial(
    seed, init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, pi_actions, deterministic, pi_probs, R,
    noise, std, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
):  # fmt: skip
    """The draws of :func:`trajectories_trial` (same seed, same samples) written in the transition layout of a
    dataset: every output is ``(n_episodes, T)`` (``state_out[e, h] = s_h``, ``next_out[e, h] = s_{h+1}``,
    ``step_out[e, h] = h``, ``episode_out[e, h] = e``), so its flat C-order view is the dataset's column with no
    copy."""
    if deterministic:
        _trajectories(
            np.uint64(seed), init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, pi_actions, pi_probs,
            R, noise, std, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
        )  # fmt: skip
    else:
        _trajectories(
            np.uint64(seed), init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, None, pi_probs,
            R, noise, std, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
        )  # fmt: skip


@njit(cache=True)
def _trajectories(
    state, init_prob, init_alias, P_prob, P_alias, S, A, pi_prob, pi_alias, pi_actions, pi_probs, R, noise, std,
    states_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
):  # fmt: skip
    """The one trajectory loop. ``next_out`` None: path layout (``states_out`` ``(n, T+1)``); else the transition
    layout of :func:`transitions_trial`. ``bprob_out``, ``step_out``, ``episode_out`` None: not written. Every
    ``is None`` branch is resolved at compile time.

    Episodes run in groups of ``LANES``, stepped together: within a group the draws go lane by lane at each step.
    The episodes are independent, so the CPU overlaps their dependency chains (state -> table row -> next state);
    this more than doubles throughput over one episode at a time. The order of draws is fixed, so the samples
    depend only on the seed and the arguments (never on the layout).
    """
    n_episodes, T = actions_out.shape
    nP = P_prob.shape[0] // (S * A)
    nR = R.shape[0]
    if pi_actions is None:
        nPi = pi_prob.shape[0] // S
    else:
        nPi = pi_actions.shape[0]
    cur = np.empty(LANES, np.int64)
    for e0 in range(0, n_episodes, LANES):
        L = min(LANES, n_episodes - e0)
        for j in range(L):
            state, s = _alias_draw(state, init_prob, init_alias, 0)
            cur[j] = s
            if next_out is None:
                states_out[e0 + j, 0] = s
        for h in range(T):
            hpi = h if nPi > 1 else 0
            hp = h if nP > 1 else 0
            hr = h if nR > 1 else 0
            for j in range(L):
                e = e0 + j
                s = cur[j]
                if pi_actions is None:
                    state, a = _alias_draw(state, pi_prob, pi_alias, hpi * S + s)
                else:
                    a = np.int64(pi_actions[hpi, s])
                state, s2 = _alias_draw(state, P_prob, P_alias, (hp * S + s) * A + a)
                state, r = _reward(state, R[hr, s, a], noise, std)
                actions_out[e, h] = a
                rewards_out[e, h] = r
                if bprob_out is not None:
                    bprob_out[e, h] = pi_probs[hpi, s, a]
                if next_out is None:
                    states_out[e, h + 1] = s2
                else:
                    states_out[e, h] = s
                    next_out[e, h] = s2
                if step_out is not None:
                    step_out[e, h] = h
                if episode_out is not None:
                    episode_out[e, h] = e
                cur[j] = s2


@njit(cache=True, parallel=True)
def trajectories_batch(seeds, model, states_out, actions_out, rewards_out, bprob_out):
    """:func:`trajectories_trial` for each trial ``i``, ``prange`` over trials.

    ``model`` is the tuple of :func:`trajectories_trial`'s arguments between ``seed`` and the outputs; the
    outputs have a leading trial axis.
    """
    for i in prange(seeds.shape[0]):
        trajectories_trial(seeds[i], *model, states_out[i], actions_out[i], rewards_out[i], bprob_out[i])


@njit(cache=True, parallel=True)
def transitions_batch(seeds, model, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out):
    """:func:`transitions_trial` for each trial ``i`` (outputs with a leading trial axis), ``prange`` over trials."""
    for i in prange(seeds.shape[0]):
        transitions_trial(
            seeds[i], *model, state_out[i], next_out[i], actions_out[i], rewards_out[i], bprob_out[i], step_out[i],
            episode_out[i],
        )  # fmt: skip


# ---------------------------------------------------------------------- i.i.d. (s, a) ~ mu
@njit(cache=True)
def iid_trial(
    seed,
    mu_prob,
    mu_alias,
    mu_flat,
    P_prob,
    P_alias,
    S,
    A,
    R,
    noise,
    std,
    states_out,
    actions_out,
    rewards_out,
    next_out,
    stages_out,
    bprob_out,
):
    """The LCB data model: at each of ``nMu = mu_prob.shape[0]`` steps, ``n = states_out.shape[0] // nMu`` tuples
    ``(s, a) ~ mu_h``, ``r ~ R_h(s, a)``, ``s' ~ P_h(. | s, a)``, one stream. ``mu_flat`` is ``(nMu, S*A)``."""
    state = np.uint64(seed)
    nMu = mu_prob.shape[0]
    n = states_out.shape[0] // nMu
    nP = P_prob.shape[0] // (S * A)
    nR = R.shape[0]
    # Decoding the pair index sa -> (sa // A, sa % A) by look-up: a 64-bit integer division costs ~40-90 cycles.
    dec_s = np.empty(S * A, np.int64)
    dec_a = np.empty(S * A, np.int64)
    for sa in range(S * A):
        dec_s[sa] = sa // A
        dec_a[sa] = sa % A
    i = 0
    for h in range(nMu):
        hp = h if nP > 1 else 0
        hr = h if nR > 1 else 0
        for _ in range(n):
            state, sa = _alias_draw(state, mu_prob, mu_alias, h)
            s = dec_s[sa]
            a = dec_a[sa]
            state, r = _reward(state, R[hr, s, a], noise, std)
            state, s2 = _alias_draw(state, P_prob, P_alias, (hp * S + s) * A + a)
            states_out[i] = s
            actions_out[i] = a
            rewards_out[i] = r
            next_out[i] = s2
            stages_out[i] = h
            bprob_out[i] = mu_flat[h, sa]
            i += 1


@njit(cache=True, parallel=True)
def iid_batch(seeds, model, states_out, actions_out, rewards_out, next_out, stages_out, bprob_out):
    """:func:`iid_trial` for each trial (``model``: its arguments between ``seed`` and the outputs; outputs with a
    leading trial axis), ``prange`` over trials."""
    for i in prange(seeds.shape[0]):
        iid_trial(
            seeds[i], *model, states_out[i], actions_out[i], rewards_out[i], next_out[i], stages_out[i], bprob_out[i]
        )


# ---------------------------------------------------------------------- baseline for the benchmark
@njit(cache=True)
def naive_trajectories(seed, cdf, init_cdf, actions, T, n_episodes, states_out):
    """The naive baseline of ``benchmarks/simulate.py``: inverse CDF by linear search with numba's np.random.

    ``cdf`` is ``(S, A, S)`` cumulative rows, ``actions`` a deterministic stationary policy. Not used by the
    library (numba's np.random is a global per-thread state).
    """
    np.random.seed(seed)  # noqa: NPY002 (numba's per-thread state, the baseline being measured)
    S = init_cdf.shape[0]
    for e in range(n_episodes):
        u = np.random.random()  # noqa: NPY002 (the naive baseline uses numba's np.random on purpose)
        s = 0
        while s < S - 1 and u >= init_cdf[s]:
            s += 1
        states_out[e, 0] = s
        for h in range(T):
            a = actions[s]
            u = np.random.random()  # noqa: NPY002 (the naive baseline uses numba's np.random on purpose)
            k = 0
            while k < S - 1 and u >= cdf[s, a, k]:
                k += 1
            s = k
            states_out[e, h + 1] = s


# ---------------------------------------------------------------------- robust location (issue 18)
@njit(cache=True)
def huber_location_groups(values, weights, offsets, kappa, out):
    """Weighted Huber location of each group, exactly: ``out[g] = argmin_q sum_i w_i l_kappa(y_i - q)``.

    Group ``g`` is ``values[offsets[g]:offsets[g + 1]]``, sorted ascending, with weights ``>= 0`` of positive
    sum. The minimiser is a root of the non-decreasing, piecewise-linear ``g(q) = sum_i w_i clip((q - y_i) /
    kappa, -1, 1)``, whose knots are ``y_i -+ kappa``: one sweep over the knots finds the segment where ``g``
    reaches 0, and there ``q = (sum_active w y - kappa (W_left - W_right)) / sum_active w`` (the winsorised
    mean). When ``g = 0`` on a whole segment (no active point: every residual in the linear region) the
    minimisers form that interval and its midpoint is returned (Yang et al. 2023's Huber loss; the midpoint
    rule of the issue-18 digest). O(n) per group after sorting.
    """
    for grp in range(offsets.shape[0] - 1):
        s, e = offsets[grp], offsets[grp + 1]
        total = 0.0
        for i in range(s, e):
            total += weights[i]
        i_in, i_out = s, s  # next knot y_i - kappa to enter, next knot y_j + kappa to leave
        w_left, w_act, sum_act, n_act = 0.0, 0.0, 0.0, 0
        x = values[s] - kappa
        result = np.nan
        while i_out < e:
            # all knots at x: enter, then leave
            while i_in < e and values[i_in] - kappa <= x:
                if weights[i_in] > 0.0:
                    w_act += weights[i_in]
                    sum_act += weights[i_in] * values[i_in]
                    n_act += 1
                i_in += 1
            while i_out < i_in and values[i_out] + kappa <= x:
                if weights[i_out] > 0.0:
                    w_act -= weights[i_out]
                    sum_act -= weights[i_out] * values[i_out]
                    n_act -= 1
                    w_left += weights[i_out]
                i_out += 1
            if n_act == 0:  # reset: no accumulated round-off on the flat pieces
                w_act, sum_act = 0.0, 0.0
            if i_out >= e:
                break
            nxt = values[i_out] + kappa
            if i_in < e and values[i_in] - kappa < nxt:
                nxt = values[i_in] - kappa
            w_right = total - w_left - w_act
            if n_act == 0:  # a flat piece: g is exactly w_left - w_right here
                if w_left - w_right == 0.0:  # the minimisers are [x, nxt]: their midpoint
                    result = 0.5 * (x + nxt)
                    break
                if w_left - w_right > 0.0:  # g reached 0 at x, where the previous piece ended
                    result = x
                    break
            else:  # g is linear here with root q; q >= nxt: the root lies further on (maybe a flat piece)
                q = (sum_act - kappa * (w_left - w_right)) / w_act
                # a root within round-off of the knot nxt is decided there: a flat zero piece may start at nxt
                if q < nxt - 1e-12 * (abs(nxt) + kappa):
                    result = max(q, x)
                    break
            x = nxt
        out[grp] = x if np.isnan(result) else result  # round-off pushed the root to the last knot
