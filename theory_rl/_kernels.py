"""numba kernels for sampling: transitions, rewards, trajectories and i.i.d. (s, a) ~ mu datasets.

Kernels trust their inputs (validation happens in :mod:`theory_rl.data`). They never touch numpy's global RNG:
each trial owns a splitmix64 stream (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators",
OOPSLA) started from one explicit uint64 seed, so a batched call (``prange`` over trials), a one-trial call and
any thread count give identical samples. The per-trial seeds come from ``numpy.random.SeedSequence.spawn`` (see
:func:`theory_rl.data.trial_seeds`): well mixed and independent. splitmix64's state walks a Weyl sequence, so two
trials' streams overlap only if their seeds lie within the number of draws of each other on it: probability about
``n_trials^2 * draws / 2^64``, negligible.

Categorical draws use Walker's alias method (Walker 1977, ACM TOMS 3(3); Vose 1991, IEEE TSE 17(9)) over each
row's SUPPORT (issues 15-16): a table per row of P (``S*A`` rows, or ``H*S*A`` for a stage-dependent P) with one
entry per non-zero, so memory is linear in the non-zeros and a dense P and its sparse (CSR) form give the same
tables, hence the same samples for the same seeds. A draw is one 53-bit uniform, one multiply, one compare and a
branch-free select. An outcome of probability zero has no entry, so it is never drawn.

Table layout (a "support table", the tuple ``(indptr, prob, own, other)``): row ``r`` holds entries
``indptr[r]:indptr[r + 1]`` (int64 offsets); entry ``j`` has the threshold ``prob[j]`` (float64), its own
outcome ``own[j]`` and its alias's outcome ``other[j]`` (int32: a next state, an action, or a pair index), so the
draw reads one position and never decodes. Built by :func:`build_alias_csr` from a canonical CSR triple
``(indptr, indices, data)`` (sorted indices, no duplicates: scipy's canonical format) or, for a dense array, by
:func:`theory_rl.data.tables.support_table`. Reward noise codes: 0 Bernoulli(R), 1 Gaussian N(R, std^2),
2 deterministic R.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NOISE_CODES = {"bernoulli": 0, "gaussian": 1, "deterministic": 2}

#: Episodes stepped together in :func:`trajectories_trial` (instruction-level parallelism).
LANES = 8

_GOLDEN, _M1, _M2 = (np.uint64(x) for x in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB))
_S30, _S27, _S31, _S11 = (np.uint64(x) for x in (30, 27, 31, 11))
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


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
def _alias_draw(state, table, row):
    """One draw from row ``row`` of a support table ``(indptr, prob, own, other)``: one uniform, one compare."""
    return _alias_pick(state, table, table[0][row], table[0][row + 1] - table[0][row])


@njit(cache=True, inline="always")
def _alias_pick(state, table, start, K):  # _alias_draw from the row whose K entries start at ``start``
    _, prob, own, other = table
    state, u = _uniform(state)
    t = u * K
    k = min(np.int64(t), K - 1)  # k < K already for u < 1; the min keeps every index in bounds
    j = start + k
    mine = np.int64(own[j])
    alt = np.int64(other[j])
    # Branch-free select by masks: the outcome is unpredictable, and a conditional expression was compiled (in
    # one instantiation) to a jump that mispredicts ~half the time (issue 16: 14.3 ns against 9.85 ns a step).
    keep = -np.int64(t - k < prob[j])
    return state, alt ^ ((mine ^ alt) & keep)


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
def build_alias_csr(indptr, indices, data):
    """Support tables (module docstring) of the rows of a canonical CSR triple: row ``r`` is the distribution
    ``data[indptr[r]:indptr[r+1]]`` over the outcomes ``indices[...]``, summing to one up to round-off.

    Vose's stable construction over each row's positive entries (explicit zeros are dropped: they have no entry).
    Returns ``(indptr, prob, own, other)``: int64 offsets, float64 thresholds, outcomes of ``indices``' dtype;
    memory linear in the non-zeros.
    """
    rows = indptr.shape[0] - 1
    out_ptr = np.zeros(rows + 1, np.int64)
    K_max = 0
    for r in range(rows):
        c = 0
        for j in range(indptr[r], indptr[r + 1]):
            if data[j] > 0.0:
                c += 1
        out_ptr[r + 1] = out_ptr[r] + c
        K_max = max(K_max, c)
    nnz = out_ptr[rows]
    prob = np.ones(nnz)
    own = np.empty(nnz, indices.dtype)  # int32 outcomes (states, actions); int64 codes of (a, s') pairs
    other = np.empty(nnz, indices.dtype)
    small = np.empty(K_max, np.int64)
    large = np.empty(K_max, np.int64)
    scaled = np.empty(K_max)
    alias = np.empty(K_max, np.int64)
    for r in range(rows):
        start = out_ptr[r]
        K = out_ptr[r + 1] - start
        total = 0.0
        i = 0
        for j in range(indptr[r], indptr[r + 1]):
            if data[j] > 0.0:
                own[start + i] = indices[j]
                scaled[i] = data[j]
                total += data[j]  # the same sum as over the dense row: its zeros add nothing
                i += 1
        ns = 0
        nl = 0
        for k in range(K):
            alias[k] = k
            scaled[k] = scaled[k] * K / total
            if scaled[k] < 1.0:
                small[ns] = k
                ns += 1
            else:
                large[nl] = k
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            sm = small[ns]
            g = large[nl - 1]
            prob[start + sm] = scaled[sm]
            alias[sm] = g
            scaled[g] = (scaled[g] + scaled[sm]) - 1.0
            if scaled[g] < 1.0:
                nl -= 1
                small[ns] = g
                ns += 1
        # Left-overs (exactly 1 up to round-off; every entry is positive) keep threshold 1: drawn as themselves.
        for k in range(K):
            other[start + k] = own[start + alias[k]]
    return out_ptr, prob, own, other


@njit(cache=True)
def joint_csr(probs, P_indptr, P_indices, P_data, S, A):
    """The CSR triple of ``Pr(a, s' | h, s) = pi_h(a | s) P_h(s' | s, a)`` for a stochastic policy ``probs``
    ``(nPi, S, A)`` and P's CSR triple (``nP*S*A`` rows): ``max(nPi, nP) * S`` rows, outcome codes
    ``a << 32 | s'`` (int64, ascending). One draw per step then gives both the action and the next state."""
    nPi = probs.shape[0]
    nP = (P_indptr.shape[0] - 1) // (S * A)
    rows = max(nPi, nP) * S
    indptr = np.zeros(rows + 1, np.int64)
    for r in range(rows):
        h, s = r // S, r % S
        c = 0
        for a in range(A):
            if probs[h if nPi > 1 else 0, s, a] > 0.0:
                row = ((h if nP > 1 else 0) * S + s) * A + a
                c += P_indptr[row + 1] - P_indptr[row]
        indptr[r + 1] = indptr[r] + c
    codes = np.empty(indptr[rows], np.int64)
    data = np.empty(indptr[rows])
    for r in range(rows):
        h, s = r // S, r % S
        i = indptr[r]
        for a in range(A):
            pa = probs[h if nPi > 1 else 0, s, a]
            if pa > 0.0:
                row = ((h if nP > 1 else 0) * S + s) * A + a
                for j in range(P_indptr[row], P_indptr[row + 1]):
                    codes[i] = (np.int64(a) << 32) | np.int64(P_indices[j])
                    data[i] = pa * P_data[j]
                    i += 1
    return indptr, codes, data


@njit(cache=True)
def sample_transitions(
    seed, P_table, S, A, stages, states, actions, R, noise, std, next_out, reward_out
):
    """Next states and rewards for given ``(h, s, a)`` triples, one stream (one trial).

    ``P_table`` has ``nP*S*A`` rows (``nP = 1`` for a stationary P); ``R`` has shape ``(nR, S, A)``.
    """
    state = np.uint64(seed)
    nP = (P_table[0].shape[0] - 1) // (S * A)
    nR = R.shape[0]
    for i in range(states.shape[0]):
        h = stages[i]
        s = states[i]
        a = actions[i]
        hp = h if nP > 1 else 0
        hr = h if nR > 1 else 0
        state, nxt = _alias_draw(state, P_table, (hp * S + s) * A + a)
        next_out[i] = nxt
        state, r = _reward(state, R[hr, s, a], noise, std)
        reward_out[i] = r


# ---------------------------------------------------------------------- trajectories
# The model and policy arguments shared by every trajectory kernel, between ``seed`` and the outputs:
#   init_table, P_table, S, A, pi_table, pi_actions, deterministic, pi_probs, R, noise, std
# The policy has ``nPi`` stages (1 = stationary): deterministic policies use ``pi_actions`` ``(nPi, S)``, stochastic
# ones pass ``pi_actions = None`` and the joint support table ``pi_table`` over ``(a, s')`` (:func:`joint_csr`),
# ``nPi*S`` rows; the form is ``pi_actions``' type, known at compile time (``deterministic`` stays in the argument
# list, matching ``pi_actions``, but the kernels do not read it). ``pi_probs``
# ``(nPi, S, A)`` gives the behaviour probability recorded with each action (unused, may be any array, when nothing
# records it).


@njit(cache=True)
def trajectories_trial(
    seed,
    init_table,
    P_table,
    S,
    A,
    pi_table,
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

    Path layout: ``states_out`` has ``T + 1`` columns. ``bprob_out`` may be None (nothing recorded). A stochastic
    policy's ``pi_table`` is the joint ``(a, s')`` table of :func:`joint_csr` (one draw per step, decoded by a shift
    and a mask; issue 16: the two dependent draws of an action then a next state cost ~2x a deterministic step).
    """
    # pi_actions None (a stochastic policy) or an array: numba compiles a separate loop for each form, with the
    # policy branch resolved at compile time (a run-time branch in the hot loop was measured to cost ~1.7x), and
    # only the form a call passes (issue 16: the first call in a fresh environment compiles one loop, not two).
    _trajectories(
        np.uint64(seed), init_table, P_table, S, A, pi_table, pi_actions, pi_probs,
        R, noise, std, states_out, None, actions_out, rewards_out, bprob_out, None, None,
    )  # fmt: skip


@njit(cache=True)
def transitions_trial(
    seed, init_table, P_table, S, A, pi_table, pi_actions, deterministic, pi_probs, R,
    noise, std, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
):  # fmt: skip
    """The draws of :func:`trajectories_trial` (same seed, same samples) written in the transition layout of a
    dataset: every output is ``(n_episodes, T)`` (``state_out[e, h] = s_h``, ``next_out[e, h] = s_{h+1}``,
    ``step_out[e, h] = h``, ``episode_out[e, h] = e``), so its flat C-order view is the dataset's column with no
    copy."""
    _trajectories(
        np.uint64(seed), init_table, P_table, S, A, pi_table, pi_actions, pi_probs,
        R, noise, std, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
    )  # fmt: skip


@njit(cache=True)
def _trajectories(
    state, init_table, P_table, S, A, pi_table, pi_actions, pi_probs, R, noise, std,
    states_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out,
):  # fmt: skip
    """The one trajectory loop. ``next_out`` None: path layout (``states_out`` ``(n, T+1)``); else the transition
    layout of :func:`transitions_trial`. ``bprob_out``, ``step_out``, ``episode_out`` None: not written. Every
    ``is None`` branch is resolved at compile time.

    Episodes run in groups of ``LANES``, stepped together, draws lane by lane at each step: the CPU overlaps their
    independent chains (state -> table row -> next state), >2x over one episode at a time. Each step reads every
    lane's action and row first, then draws (issue 15: all lanes' loads in flight together, 1.5x at S = 10^6).
    The order of draws is fixed, so the samples depend only on the seed and the arguments (never on the layout).
    """
    n_episodes, T = actions_out.shape
    nP = (P_table[0].shape[0] - 1) // (S * A)
    nR = R.shape[0]
    if pi_actions is None:  # the joint table's stages (those of pi and of P)
        nPi = (pi_table[0].shape[0] - 1) // S
    else:
        nPi = pi_actions.shape[0]
    lanes = np.empty((4, LANES), np.int64)
    cur, act, start, count = lanes[0], lanes[1], lanes[2], lanes[3]
    for e0 in range(0, n_episodes, LANES):
        L = min(LANES, n_episodes - e0)
        for j in range(L):
            state, s = _alias_draw(state, init_table, 0)
            cur[j] = s
            if next_out is None:
                states_out[e0 + j, 0] = s
        for h in range(T):
            hpi = h if nPi > 1 else 0
            hp = h if nP > 1 else 0
            hr = h if nR > 1 else 0
            for j in range(L):  # every lane's table row first: independent loads, so their cache misses overlap
                act[j] = 0 if pi_actions is None else np.int64(pi_actions[hpi, cur[j]])
                row = hpi * S + cur[j] if pi_actions is None else (hp * S + cur[j]) * A + act[j]
                ptr = pi_table[0] if pi_actions is None else P_table[0]
                start[j], count[j] = ptr[row], ptr[row + 1] - ptr[row]
            for j in range(L):  # then the draws, lane by lane: the stream's order, so the same samples
                e = e0 + j
                s = cur[j]
                if pi_actions is None:
                    state, code = _alias_pick(state, pi_table, start[j], count[j])
                    a = code >> 32
                    s2 = code & 0xFFFFFFFF
                else:
                    a = act[j]
                    state, s2 = _alias_pick(state, P_table, start[j], count[j])
                state, r = _reward(state, R[hr, s, a], noise, std)
                actions_out[e, h] = a
                rewards_out[e, h] = r
                if bprob_out is not None:  # pi's own stages (the joint table's may be P's)
                    bprob_out[e, h] = pi_probs[h if pi_probs.shape[0] > 1 else 0, s, a]
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

    ``model`` is ``theory_rl.data.tables.flatten`` of the tuple of :func:`trajectories_trial`'s arguments between
    ``seed`` and the outputs; the outputs have a leading trial axis.
    """
    m = model
    for i in prange(seeds.shape[0]):
        trajectories_trial(
            seeds[i], (m[0], m[1], m[2], m[3]), (m[4], m[5], m[6], m[7]), m[8], m[9], (m[10], m[11], m[12], m[13]),
            m[14], m[15], m[16], m[17], m[18], m[19], states_out[i], actions_out[i], rewards_out[i], bprob_out[i],
        )  # fmt: skip


@njit(cache=True, parallel=True)
def transitions_batch(seeds, model, state_out, next_out, actions_out, rewards_out, bprob_out, step_out, episode_out):
    """:func:`transitions_trial` for each trial ``i`` (``model`` flattened as in :func:`trajectories_batch`;
    outputs with a leading trial axis), ``prange`` over trials."""
    m = model
    for i in prange(seeds.shape[0]):
        transitions_trial(
            seeds[i], (m[0], m[1], m[2], m[3]), (m[4], m[5], m[6], m[7]), m[8], m[9], (m[10], m[11], m[12], m[13]),
            m[14], m[15], m[16], m[17], m[18], m[19], state_out[i], next_out[i], actions_out[i], rewards_out[i],
            bprob_out[i], step_out[i], episode_out[i],
        )  # fmt: skip


# ---------------------------------------------------------------------- i.i.d. (s, a) ~ mu
@njit(cache=True)
def iid_trial(
    seed,
    mu_table,
    mu_flat,
    P_table,
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
    """The LCB data model: at each of the ``nMu`` steps (rows of ``mu_table``), ``n = states_out.shape[0] // nMu``
    tuples ``(s, a) ~ mu_h``, ``r ~ R_h(s, a)``, ``s' ~ P_h(. | s, a)``, one stream. ``mu_flat`` is ``(nMu, S*A)``."""
    state = np.uint64(seed)
    nMu = mu_table[0].shape[0] - 1
    n = states_out.shape[0] // nMu
    nP = (P_table[0].shape[0] - 1) // (S * A)
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
            state, sa = _alias_draw(state, mu_table, h)
            s = dec_s[sa]
            a = dec_a[sa]
            state, r = _reward(state, R[hr, s, a], noise, std)
            state, s2 = _alias_draw(state, P_table, (hp * S + s) * A + a)
            states_out[i] = s
            actions_out[i] = a
            rewards_out[i] = r
            next_out[i] = s2
            stages_out[i] = h
            bprob_out[i] = mu_flat[h, sa]
            i += 1


@njit(cache=True, parallel=True)
def iid_batch(seeds, model, states_out, actions_out, rewards_out, next_out, stages_out, bprob_out):
    """:func:`iid_trial` for each trial (``model``: ``tables.flatten`` of its arguments between ``seed`` and the
    outputs; outputs with a leading trial axis), ``prange`` over trials."""
    m = model
    for i in prange(seeds.shape[0]):
        iid_trial(
            seeds[i], (m[0], m[1], m[2], m[3]), m[4], (m[5], m[6], m[7], m[8]), m[9], m[10], m[11], m[12], m[13],
            states_out[i], actions_out[i], rewards_out[i], next_out[i], stages_out[i], bprob_out[i],
        )  # fmt: skip


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
    rule of the issue-18 digest). O(n) per group after sorting. An empty group gets NaN (its location is undefined;
    RIQL's critics pass one group per pair and read only the seen ones).
    """
    for grp in range(offsets.shape[0] - 1):
        s, e = offsets[grp], offsets[grp + 1]
        if s == e:  # nothing to read: values[s] may lie past the end
            out[grp] = np.nan
            continue
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
