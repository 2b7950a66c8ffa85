"""Issue 14, item 3 (third pass): tests written against the mutants of ``theory_rl/algorithms/glow/`` that a complete
run of ``python -m benchmarks.mutation --module glow`` left alive after ``test_glow_mutation.py`` and
``test_glow_mutation2.py``: defaults passed through, the clipping loss's edges, the plug-ins' arguments, and GLOW's /
H2O's rounds replayed against an independent recomputation."""

import re

import numpy as np
import pytest

from theory_rl.algorithms.glow import classes, offline, online
from theory_rl.mdp import TabularMDP


def _mdp(H=2, S=3, A=2, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    return TabularMDP(P, rng.random((H, S, A)) / H, np.full(S, 1 / S), horizon=H)


# ---------------------------------------------------------------------------------------------- classes
def test_model_based_classes_default_is_pairwise_ratios():
    """The default ``mixtures = 1``: W is the pairwise ratios of the greedy policies in every model, not the
    mixtures of two (which add members here)."""
    models = [_mdp(seed=s) for s in (0, 1, 2)]
    c = classes.model_based_classes(models)
    plain = np.unique(np.concatenate([classes.ratio_class(m, c.policies) for m in models]), axis=0)
    np.testing.assert_array_equal(c.W, plain)
    mixed = classes.model_based_classes(models, mixtures=2)
    assert mixed.W.shape[0] > c.W.shape[0]


# ---------------------------------------------------------------------------------------------- clipping loss
def test_clipping_loss_two_rounds_and_the_strict_threshold():
    """T = 2, one layer, one state, two actions: d_1 = (1/2, 1/2), d_2 = (1, 0), so d_2 / d_bar_2 = (2, 0). With
    g_2 = 2 the ratio equals the clip: not beyond it (the loss counts mass where d_t / d_bar_t > g_t), loss 0; with
    g_2 = 1.5 the mass 1 of action 0 is beyond: loss 1."""
    d = np.zeros((2, 1, 1, 2))
    d[0, 0, 0] = [0.5, 0.5]
    d[1, 0, 0] = [1.0, 0.0]
    np.testing.assert_array_equal(online.clipping_loss(d, np.array([1.0, 2.0])), [0.0, 0.0])
    np.testing.assert_array_equal(online.clipping_loss(d, np.array([1.0, 1.5])), [0.0, 1.0])


def test_clipping_loss_of_one_round_is_zero_even_without_layers():
    """Round 1 has no data: its loss is 0 without looking at the layers (an occupancy with no layer included)."""
    np.testing.assert_array_equal(online.clipping_loss(np.zeros((1, 0, 2, 2)), np.array([1.0])), [0.0])


# ---------------------------------------------------------------------------------------------- plug-ins
def _decoys(bonus=0.6):
    from theory_rl.algorithms.glow import decoy_classes
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5, gap=0.3)
    return inst, decoy_classes(inst.mdp, inst.targets, bonus)


def test_mabo_cr_uses_the_alpha_passed():
    """``mabo_cr`` is the argmin of ``mabo_cr_objective`` at the same ``alpha``; on these data the choice at alpha = 0
    differs from the choice at the default 8 / clip, so a dropped alpha shows."""
    from theory_rl.data import sample_iid

    inst, fc = _decoys()
    stats = sample_iid(inst.mdp, np.full((3, 2, 2), 0.25), 6, 0).to_counts()
    clip = 0.5
    choices = {}
    for alpha in (None, 0.0, 1.0, 100.0):
        want = int(np.argmin(offline.mabo_cr_objective(fc, stats, clip, alpha)))
        assert offline.mabo_cr(fc, stats, clip, alpha) == want
        choices[alpha] = want
    assert len(set(choices.values())) > 1


def test_potential_of_unvisited_pairs_is_zero_without_a_division_warning():
    """Pairs never visited so far (cumulative occupancy 0) contribute 0, set rather than computed as 0 / 0: no
    RuntimeWarning (warnings as errors). One layer, two actions: d_1 = (1, 0), d_2 = (1/2, 1/2): potential 1, then
    1 + (1/4) / (3/2) + (1/4) / (1/2) = 1 + 1/6 + 1/2."""
    import warnings

    d = np.zeros((2, 1, 1, 2))
    d[0, 0, 0] = [1.0, 0.0]
    d[1, 0, 0] = [0.5, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pot = online.potential(d)
    np.testing.assert_allclose(pot, [[1.0], [1 + 1 / 6 + 1 / 2]], rtol=1e-14)


# ---------------------------------------------------------------------------------------------- GLOW replayed
def _violation(f, W, raw, clip, alpha):
    """``max_h sup_{w in W} E_hat_{D_h}[Delta_h f clip(w) - alpha clip(w)^2]`` straight from the raw samples."""
    h, x, a, r, x2 = (np.array(c) for c in zip(*raw, strict=True))
    H = f.shape[0]
    nxt = np.where(h + 1 < H, f[np.minimum(h + 1, H - 1), x2].max(axis=-1), 0.0)
    delta = f[h, x, a] - r - nxt
    wc = np.minimum(W[:, h, x, a], clip)
    sup = -np.inf
    for layer in range(H):
        m = h == layer
        if m.any():
            sup = max(sup, float(((wc[:, m] * delta[m]).mean(axis=1) - alpha * (wc[:, m] ** 2).mean(axis=1)).max()))
        else:
            sup = max(sup, 0.0)
    return sup


def _replay_glow(mdp, fc, res, seed, K, mixture):
    """GLOW's rounds recomputed from the paper's rule, on the raw samples re-drawn from the seed: round 1 plays
    member 0; round t >= 2 keeps F_t = {f : violation <= beta_t} (W plus, with mixture ratios, d^{pi_f} over the
    mean occupancy of the members played so far, each play counted K times), plays the member of F_t with the
    largest mean of max_a f_1(x_1, a) over the layer-1 states seen (lowest index on ties), or, F_t empty, the member
    of smallest violation. Returns chosen, |F_t|, Q* in F_t, the number of empty rounds and the exact gaps."""
    from theory_rl.data import RolloutSampler
    from theory_rl.planning import expected_return, occupancy, solve

    T = len(res.chosen)
    sampler = RolloutSampler(mdp)
    occ = np.stack([occupancy(mdp, pi) for pi in fc.policies])
    truth = fc.truth_mask(mdp)
    j_star = expected_return(mdp, solve(mdp).policy)
    raw, firsts, played = [], [], []
    chosen, size, q_in, gaps, empty = [], [], [], [], 0
    for t, child in enumerate(np.random.SeedSequence(seed).spawn(T), start=1):
        if t == 1:
            idx, in_set = 0, np.ones(fc.F.shape[0], bool)
        else:
            W_t = fc.W
            if mixture:
                d_bar = occ[played].mean(axis=0)
                ratio = np.where(d_bar > 0, np.minimum(occ / np.where(d_bar > 0, d_bar, 1.0), 1e6),
                                 np.where(occ > 0, 1e6, 0.0))
                W_t = np.concatenate([fc.W, ratio])
            viol = np.array([_violation(f, W_t, raw, res.clip[t - 1], res.alpha[t - 1]) for f in fc.F])
            in_set = viol <= res.beta[t - 1]
            values = np.array([np.mean(f[0][firsts].max(axis=-1)) for f in fc.F])
            if in_set.any():
                idx = int(np.flatnonzero(in_set)[np.argmax(values[in_set])])
            else:
                empty += 1
                idx = int(np.argmin(viol))
        xs, acts, rs = sampler.sample(fc.policies[idx], K, child)
        for e in range(K):
            raw += [(h, xs[e][h], acts[e][h], rs[e][h], xs[e][h + 1]) for h in range(mdp.horizon)]
            firsts.append(xs[e][0])
        played += [idx] * K
        chosen.append(idx)
        size.append(int(in_set.sum()))
        q_in.append(bool((in_set & truth).any()))
        gaps.append(max(j_star - expected_return(mdp, fc.policies[idx]), 0.0))
    return np.array(chosen), np.array(size), np.array(q_in), empty, np.array(gaps)


# Measured on these seeds (T = 25): |F_t| runs 3 -> 2 -> 1 with the chosen member changing (the first two), members
# refuted and readmitted (the third), 2 and 20 rounds with an empty confidence set (the last two).
@pytest.mark.parametrize(("bonus", "beta_scale", "K", "mixture"), [(0.6, 1e-4, 3, True), (0.6, 1e-4, 3, False),
                                                                   (0.9, 1e-6, 1, False), (0.9, 1e-6, 1, True)])
def test_glow_rounds_match_a_replay_of_the_paper_rule(bonus, beta_scale, K, mixture):
    """Every round of GLOW (chosen member, |F_t|, whether Q* is in F_t, empty rounds, exact gaps) equals the replay
    above, which shares with :func:`glow` only the sampler and the schedules clip / alpha / beta (those are pinned to
    their formulas in ``test_glow.py``)."""
    from theory_rl.algorithms.glow import glow

    inst, fc = _decoys(bonus)
    res = glow(inst.mdp, fc, 25, seed=1, K=K, beta_scale=beta_scale, mixture_ratios=mixture, diagnostics=False)
    chosen, size, q_in, empty, gaps = _replay_glow(inst.mdp, fc, res, 1, K, mixture)
    np.testing.assert_array_equal(res.chosen, chosen)
    np.testing.assert_array_equal(res.set_size, size)
    np.testing.assert_array_equal(res.q_star_in, q_in)
    assert res.empty_rounds == empty
    np.testing.assert_allclose(res.gaps, gaps, rtol=0, atol=1e-12)
    assert len(set(size)) > 1 and len(set(chosen)) > 1  # the sets move: the replay has something to check


# ---------------------------------------------------------------------------------------------- H2O replayed
def _pick_mabo(F, W, raw, clip, alpha):
    """MABO.CR by enumeration over the raw samples: per f, max(max_w sum_h terms, max_{w,h} terms) with
    terms = |E_hat_h[w~ Delta_h f]| - alpha E_hat_h[w~^2] (layers without data: 0); the argmin, lowest on ties."""
    h, x, a, r, x2 = (np.array(c) for c in zip(*raw, strict=True))
    H = F.shape[1]
    wc = np.minimum(W[:, h, x, a], clip)
    loss = []
    for f in F:
        nxt = np.where(h + 1 < H, f[np.minimum(h + 1, H - 1), x2].max(axis=-1), 0.0)
        delta = f[h, x, a] - r - nxt
        terms = np.zeros((W.shape[0], H))
        for layer in range(H):
            m = h == layer
            if m.any():
                terms[:, layer] = np.abs((wc[:, m] * delta[m]).mean(axis=1)) - alpha * (wc[:, m] ** 2).mean(axis=1)
        loss.append(max(terms.sum(axis=1).max(), terms.max()))
    return int(np.argmin(loss))


def _fqi_by_samples(F, raw):
    """FQI on the raw samples: layer by layer from the last, the member whose f_h has the least squared error to
    r + max_a' Q_{h+1}(x', a') (lowest index on ties). Returns the composite Q (H, S, A)."""
    h, x, a, r, x2 = (np.array(c) for c in zip(*raw, strict=True))
    H = F.shape[1]
    Q = np.zeros(F.shape[1:])
    V = np.zeros(F.shape[2])
    for layer in range(H - 1, -1, -1):
        m = h == layer
        target = r[m] + V[x2[m]]
        loss = [float(((f[layer, x[m], a[m]] - target) ** 2).sum()) for f in F]
        Q[layer] = F[int(np.argmin(loss)), layer]
        V = Q[layer].max(axis=1)
    return Q


def _mle_by_samples(fc, raw, eps=1e-12):
    """The model of largest log-likelihood of the raw samples (transitions, and Bernoulli rewards of mean R clipped
    to [eps, 1 - eps])."""
    h, x, a, r, x2 = (np.array(c) for c in zip(*raw, strict=True))
    ll = []
    for P, R, _ in fc.models:
        rbar = np.clip(R[h, x, a], eps, 1 - eps)
        ll.append(np.log(np.maximum(P[h, x, a, x2], 1e-300)).sum()
                  + (r * np.log(rbar) + (1 - r) * np.log1p(-rbar)).sum())
    return int(np.argmax(ll))


def _replay_h2o(mdp, fc, nu, res, seed, plugin):
    """H2O's rounds recomputed: at round t, layer h's t-th offline sample (read from the pool by its step, in
    order) joins the data, the plug-in runs on the offline samples 1..t and the online episodes 1..t-1 (MABO.CR:
    clip gamma t, alpha 8 / (gamma t), W plus, from round 2, d^{pi_f} / (w nu + (1 - w) d_bar_t) with
    w = t / (2t - 1) and d_bar_t the mean occupancy of the members played so far), then one episode of the plug-in's
    greedy policy. Returns the chosen members (-1 for FQI) and the exact gaps."""
    from theory_rl._random import seed_sequence, spawn
    from theory_rl.algorithms.glow.classes import greedy_actions
    from theory_rl.data import RolloutSampler, sample_iid
    from theory_rl.planning import expected_return, occupancy, solve

    T, H = len(res.chosen), mdp.horizon
    off_seed, on_seed = spawn(seed_sequence(seed), 2)
    pool = sample_iid(mdp, nu, T, off_seed)
    rows = [np.flatnonzero(pool.step == layer) for layer in range(H)]
    sampler, rng = RolloutSampler(mdp), np.random.default_rng(on_seed)
    occ = np.stack([occupancy(mdp, pi) for pi in fc.policies])
    j_star = expected_return(mdp, solve(mdp).policy)
    gamma = res.constants["gamma"]
    off, on, played, chosen, gaps = [], [], [], [], []
    for t in range(1, T + 1):
        off += [(layer, pool.state[i], pool.action[i], pool.reward[i], pool.next_state[i])
                for layer, i in ((layer, rows[layer][t - 1]) for layer in range(H))]
        raw = off + on
        if plugin == "fqi":
            idx, actions = -1, greedy_actions(_fqi_by_samples(fc.F, raw))
        else:
            if plugin == "mle":
                idx = _mle_by_samples(fc, raw)
            else:
                W = fc.W
                if t > 1:
                    w = t / (2 * t - 1)
                    mu = w * nu + (1 - w) * occ[played].mean(axis=0)
                    W = np.concatenate([W, np.where(mu > 0, np.minimum(occ / np.where(mu > 0, mu, 1.0), 1e6),
                                                    np.where(occ > 0, 1e6, 0.0))])
                idx = _pick_mabo(fc.F, W, raw, gamma * t, 8.0 / (gamma * t))
            played.append(idx)
            actions = fc.policies[idx]
        xs, acts, rs = sampler.episode(actions, rng)
        on += [(layer, xs[layer], acts[layer], rs[layer], xs[layer + 1]) for layer in range(H)]
        chosen.append(idx)
        gaps.append(max(j_star - expected_return(mdp, actions), 0.0))
    return np.array(chosen), np.array(gaps), actions


# Measured on these seeds (T = 12): MABO.CR plays members 0 and 1 in turn (uniform nu) or 0 then 2 (the other nu),
# FQI's policy is optimal in some rounds only, the MLE moves between the three models.
@pytest.mark.parametrize(("plugin", "uniform", "seed"), [("mabo_cr", True, 4), ("mabo_cr", False, 0),
                                                         ("fqi", True, 0), ("mle", False, 4)])
def test_h2o_rounds_match_a_replay_of_the_reduction(plugin, uniform, seed):
    """Every round of H2O (chosen member, exact gap) and its final policy equal the replay above, which shares with
    :func:`h2o` only the samplers and the default gamma (pinned to its formula in ``test_glow.py``)."""
    from theory_rl.algorithms.glow import decoy_classes, h2o
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = (np.full((3, 2, 2), 0.25) if uniform
          else np.random.default_rng(5).dirichlet(np.ones(4), size=3).reshape(3, 2, 2))
    res = h2o(inst.mdp, fc, nu, 12, seed=seed, plugin=plugin)
    chosen, gaps, actions = _replay_h2o(inst.mdp, fc, nu, res, seed, plugin)
    np.testing.assert_array_equal(res.chosen, chosen)
    np.testing.assert_allclose(res.gaps, gaps, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.policy, actions)
    assert len(set(chosen)) > 1 or len(set(gaps)) > 1  # the rounds differ: the replay has something to check


@pytest.mark.parametrize("plugin", ["mabo_cr", "fqi", "mle"])
def test_offline_only_matches_the_plugin_on_its_samples(plugin):
    """offline_only = the plug-in (recomputed on the raw samples, above) on n i.i.d. samples per layer drawn by one
    sample_iid call from the seed, MABO.CR at clip gamma n; its gap is the exact sub-optimality of its policy."""
    from theory_rl.algorithms.glow import decoy_classes, offline_only
    from theory_rl.algorithms.glow.classes import greedy_actions
    from theory_rl.data import sample_iid
    from theory_rl.generators.coverability import coverability_family
    from theory_rl.planning import expected_return, solve

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.random.default_rng(5).dirichlet(np.ones(4), size=3).reshape(3, 2, 2)
    n = 9
    res = offline_only(inst.mdp, fc, nu, n, seed=3, plugin=plugin)
    data = sample_iid(inst.mdp, nu, n, 3)
    raw = list(zip(data.step, data.state, data.action, data.reward, data.next_state, strict=True))
    if plugin == "fqi":
        assert res.chosen == -1
        np.testing.assert_array_equal(res.policy, greedy_actions(_fqi_by_samples(fc.F, raw)))
    else:
        g = res.constants["gamma"] * n
        want = _pick_mabo(fc.F, fc.W, raw, g, 8.0 / g) if plugin == "mabo_cr" else _mle_by_samples(fc, raw)
        assert res.chosen == want
        np.testing.assert_array_equal(res.policy, fc.policies[want])
    j_star = expected_return(inst.mdp, solve(inst.mdp).policy)
    assert res.gap == pytest.approx(max(j_star - expected_return(inst.mdp, res.policy), 0.0), abs=1e-12)


def test_h2o_refuses_the_mle_plugin_without_models():
    from theory_rl.algorithms.glow import decoy_classes, finite_classes, h2o
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(2, 2, 0.5)
    fc = decoy_classes(inst.mdp, inst.targets, 0.2)
    with pytest.raises(ValueError, match=r"^plugin 'mle' needs model-based classes \(classes.models is None\)$"):
        h2o(inst.mdp, finite_classes(fc.F, fc.W), np.full((3, 2, 2), 0.25), 5, seed=0, plugin="mle")


# ---------------------------------------------------------------------------------------------- glow's boundary
def _too_big(what, names, dims, itemsize=8):
    from theory_rl._validation import MEMORY_BYTES

    n = int(np.prod([float(v) for v in dims]))
    return ("^" + re.escape(f"{what} of shape ({', '.join(names)}) = ({', '.join(str(v) for v in dims)}) needs "
                            f"{n:.3g} entries ({n * itemsize:.3g} bytes), more than this machine's "
                            f"{MEMORY_BYTES:.3g} bytes of memory") + "$")


def test_glow_memory_refusals_in_full():
    """Each table GLOW would allocate is refused at once, its message naming the table, its dimensions and sizes:
    the occupancies (T, H, S, A) with diagnostics, the per-round records (T, H) without, one round's episodes
    (K, H + 1) at 24 bytes per step."""
    from theory_rl.algorithms.glow import glow

    inst, fc = _decoys()
    T = 10**15
    with pytest.raises(ValueError, match=_too_big("the played policies' occupancies", ("T", "H", "S", "A"),
                                                  (T, 3, 2, 2))):
        glow(inst.mdp, fc, T, seed=0)
    with pytest.raises(ValueError, match=_too_big("the per-round records", ("T", "H"), (T, 3))):
        glow(inst.mdp, fc, T, seed=0, diagnostics=False)
    with pytest.raises(ValueError, match=_too_big("one round's episodes", ("K", "H + 1"), (T, 4), itemsize=24)):
        glow(inst.mdp, fc, 2, K=T, seed=0)


def test_glow_uses_the_c_cov_and_mixture_flag_passed_and_counts_the_mixtures_in_l():
    """An explicit c_cov is used (default gamma sqrt(c_cov / (T L)), potential bound 5 c_cov log(1 + t)); an explicit
    mixture_ratios=True is kept, and L = log(6 |F| T H / delta) + log(|W| + |F| binom(T + m - 1, m - 1)) (one
    dynamics, m distinct greedy policies), as in the module docstring of hybrid for H2O."""
    import math

    from theory_rl.algorithms.glow import glow

    inst, fc = _decoys()
    T, delta = 6, 0.1
    res = glow(inst.mdp, fc, T, seed=0, c_cov=2.5, mixture_ratios=True, diagnostics=False)
    nF, nW, m = fc.F.shape[0], fc.W.shape[0], len(np.unique(fc.policies, axis=0))
    assert nW != fc.F.shape[1]  # |W| differs from H: a size read off the wrong axis shows
    log_w = math.log(nW + nF * math.comb(T + m - 1, m - 1))
    L = math.log(6 * nF * T * 3 / delta) + log_w
    assert res.constants["c_cov"] == 2.5 and res.constants["mixture_ratios"] is True
    assert res.constants["log_n_W"] == pytest.approx(log_w, rel=1e-12)
    assert res.constants["L"] == pytest.approx(L, rel=1e-12)
    assert res.constants["gamma"] == pytest.approx(math.sqrt(2.5 / (T * L)), rel=1e-12)
    np.testing.assert_allclose(res.potential_bound, 5 * 2.5 * np.log1p(np.arange(1, T + 1)), rtol=1e-12)


def test_glow_records_its_constants_and_types_in_full():
    """The constants dict, key by key (names as documented), and the record types of GlowResult: set_size int,
    q_star_in bool, chosen int."""
    import math

    from theory_rl.algorithms.glow import glow

    inst, fc = _decoys()
    fc = classes.finite_classes(fc.F[[0, 2]], fc.W)  # |F| = 2, H = 3, |W| = 6: sizes read off a wrong axis show
    res = glow(inst.mdp, fc, 4, seed=0, K=2, delta=0.2, gamma=0.3, c_cov=1.5, beta_scale=0.5, mixture_ratios=False,
               diagnostics=False)
    nF, nW = fc.F.shape[0], fc.W.shape[0]
    assert len({nF, nW, 3}) == 3
    L = math.log(6 * nF * nW * 4 * 3 / 0.2)
    assert res.constants.keys() == {"L", "gamma", "c_cov", "delta", "K", "beta_scale", "n_F", "n_W", "mixture_ratios",
                                    "log_n_W"}
    assert res.constants["L"] == pytest.approx(L, rel=1e-12)
    assert {k: res.constants[k] for k in ("gamma", "c_cov", "delta", "K", "beta_scale", "n_F", "n_W",
                                          "mixture_ratios")} == {
        "gamma": 0.3, "c_cov": 1.5, "delta": 0.2, "K": 2, "beta_scale": 0.5, "n_F": nF, "n_W": nW,
        "mixture_ratios": False}
    assert res.constants["log_n_W"] == pytest.approx(math.log(nW), rel=1e-12)
    assert res.set_size.dtype.kind == "i" and res.chosen.dtype.kind == "i" and res.q_star_in.dtype == bool


def test_truth_mask_tolerance_is_inclusive():
    """A member within atol of Q* entrywise counts as Q*, the bound included (a difference of exactly atol)."""
    inst, fc = _decoys()
    q_star = fc.F[np.flatnonzero(fc.truth_mask(inst.mdp))[0]]
    off = q_star.copy()
    off[0, 0, 0] += 0.25  # exact in binary: the difference is 0.25
    assert float(abs(off[0, 0, 0] - q_star[0, 0, 0])) == 0.25
    mask = classes.finite_classes(np.stack([off, q_star]), fc.W).truth_mask(inst.mdp, atol=0.25)
    np.testing.assert_array_equal(mask, [True, True])
    mask = classes.finite_classes(np.stack([off, q_star]), fc.W).truth_mask(inst.mdp, atol=0.2)
    np.testing.assert_array_equal(mask, [False, True])


def test_mabo_cr_objective_uses_the_alpha_and_the_weights_passed():
    """``alpha`` and ``W`` given to mabo_cr_objective are used: the objective with W = W2 is the objective of the
    classes whose weight class is W2, and alpha = 0 gives another objective than the default 8 / clip."""
    from theory_rl.data import sample_iid

    inst, fc = _decoys()
    stats = sample_iid(inst.mdp, np.full((3, 2, 2), 0.25), 6, 0).to_counts()
    W2 = fc.W[:2] * 0.5
    got = offline.mabo_cr_objective(fc, stats, 0.5, W=W2)
    np.testing.assert_array_equal(got, offline.mabo_cr_objective(classes.finite_classes(fc.F, W2), stats, 0.5))
    assert not np.array_equal(got, offline.mabo_cr_objective(fc, stats, 0.5))
    assert not np.array_equal(offline.mabo_cr_objective(fc, stats, 0.5, alpha=0.0),
                              offline.mabo_cr_objective(fc, stats, 0.5))


def test_mixture_ratios_default_offline_weight_is_zero():
    """weights(counts, nu) with the default offline_weight = 0 is the ratio to the played mixture alone (nu has
    weight 0), the same as without nu; offline_weight = 1 gives the ratios to nu instead."""
    from theory_rl.planning import occupancy

    inst, fc = _decoys()
    mix = classes.MixtureRatios(fc)
    counts = np.array([2.0, 0.0, 1.0])
    nu = np.full((3, 2, 2), 0.25)
    np.testing.assert_array_equal(mix.weights(counts, nu), mix.weights(counts))
    occ = np.stack([occupancy(inst.mdp, pi) for pi in fc.policies])
    np.testing.assert_allclose(mix.weights(counts, nu, 1.0), np.minimum(occ / 0.25, 1e6), rtol=1e-12)
    assert not np.allclose(mix.weights(counts), mix.weights(counts, nu, 1.0))


def test_glow_result_is_the_last_round_and_nan_diagnostics_when_off():
    """policy, Q and V are those of the last round's member f_T = F[chosen[-1]] (here the last two rounds and the
    second round play different members); without diagnostics the potential (T, H) and clipping loss (T,) are float
    arrays of NaN."""
    from theory_rl.algorithms.glow import glow

    inst, fc = _decoys(0.9)
    res = glow(inst.mdp, fc, 15, seed=1, K=1, beta_scale=1e-6, mixture_ratios=False, diagnostics=False)
    last = res.chosen[-1]
    assert last != res.chosen[-2] and last != res.chosen[1]
    np.testing.assert_array_equal(res.Q, fc.F[last])
    np.testing.assert_array_equal(res.policy, fc.policies[last])
    np.testing.assert_array_equal(res.V, fc.F[last].max(axis=-1))
    assert res.potential.shape == (15, 3) and res.clipping_loss.shape == (15,)
    assert res.potential.dtype == np.float64 and res.clipping_loss.dtype == np.float64
    assert np.isnan(res.potential).all() and np.isnan(res.clipping_loss).all()


def test_class_evaluator_coverability_is_that_of_the_distinct_policies():
    """ClassEvaluator.c_cov is the coverability (Xie et al. 2023) of the class's distinct greedy policies, each
    policy whole (its layers in order): members 0 and 2 share a policy, and the layers of the policies are not in
    sorted order."""
    from theory_rl.algorithms.glow.online import ClassEvaluator
    from theory_rl.coverage import coverability

    mdp = _mdp(H=2, S=2, A=2, seed=4)
    pols = np.array([[[1, 1], [0, 0]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]])
    F = (np.arange(2)[None, None, None, :] == pols[..., None]).astype(float)
    fc = classes.finite_classes(F, np.ones((1, 2, 2, 2)))
    np.testing.assert_array_equal(fc.policies, pols)
    want = coverability(mdp, [pols[0], pols[1]]).value
    assert ClassEvaluator(mdp, fc).c_cov() == pytest.approx(want, rel=1e-14)
    swapped = coverability(mdp, [p[::-1] for p in pols[:2]]).value
    assert swapped != pytest.approx(want, rel=1e-6)


def test_check_problem_refuses_a_discounted_mdp_by_name():
    """check_problem (public; ClassEvaluator's first step) asks for a finite horizon, naming ``mdp``."""
    from theory_rl.algorithms.glow.online import ClassEvaluator, check_problem

    disc = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5)
    fc = classes.finite_classes(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
    msg = "mdp must be finite-horizon; got TabularMDP(S=2, A=2, gamma=0.5, rewards=bernoulli)"
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        check_problem(disc, fc)
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        ClassEvaluator(disc, fc)


def test_ratio_class_takes_stochastic_policies_of_any_float_type():
    """Action probabilities (H, S, A) in float32 are a policy as much as in float64: the same ratios."""
    mdp = _mdp()
    pi = np.full((2, 3, 2), 0.5)
    pi[0, :, 0] = 0.25
    pi[0, :, 1] = 0.75
    want = classes.ratio_class(mdp, [pi, np.zeros((2, 3), int)])
    got = classes.ratio_class(mdp, [pi.astype(np.float32), np.zeros((2, 3), int)])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_glow_confidence_set_includes_a_violation_equal_to_beta():
    """F_t = {f : violation <= beta_t}, the bound included. Two rounds, gamma = 50, K = 20: after round 1 (member 0's
    20 episodes, re-drawn from the seed's first child) member 0's violation is 0.49 and the others' 0; beta_scale is
    set (by stepping through floats) so that beta_2 = 36 s g_2 L / K equals 0.49 exactly, and member 0 stays in F_2."""
    import math

    from theory_rl._random import seed_sequence, spawn
    from theory_rl.algorithms.glow import glow, glow_violations
    from theory_rl.algorithms.glow.online import glow_constants
    from theory_rl.data import CountsBuilder, RolloutSampler

    inst, fc = _decoys()
    K, gamma, seed = 20, 50.0, 7
    builder = CountsBuilder(2, 2, horizon=3)
    builder.add_rollouts(RolloutSampler(inst.mdp).sample(fc.policies[0], K, spawn(seed_sequence(seed), 2)[0]))
    g = 2 * gamma
    viol = glow_violations(fc.F, fc.W, builder.to_counts(), g, 8.0 / g).max(axis=1)
    assert viol[0] > 0 and np.all(viol[1:] < viol[0])
    L = glow_constants(fc.F.shape[0], fc.W.shape[0], 2, 3, 0.1, 1.0)["L"]
    s = viol[0] / (36.0 * g * L / K)
    for _ in range(200):  # the float s with s * 36 * g * L / K == viol[0] in glow's order of operations
        beta = s * 36.0 * g * L / (K * 1)
        if beta == viol[0]:
            break
        s = np.nextafter(s, math.inf if beta < viol[0] else 0.0)
    res = glow(inst.mdp, fc, 2, seed=seed, K=K, gamma=gamma, c_cov=1.0, beta_scale=float(s), mixture_ratios=False,
               diagnostics=False)
    assert res.beta[1] == viol[0]
    assert res.set_size[1] == 3
