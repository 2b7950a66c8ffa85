"""GLOW / H2O on finite classes (Amortila et al. 2024): vectorised criteria against a plain enumeration, the good
event, the potential lemma, H2O's data split, the plug-ins and the instance generators."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl.algorithms.glow import (
    SufficientStatistics,
    confidence_set,
    decoy_classes,
    finite_classes,
    fqi,
    glow,
    glow_violations,
    h2o,
    mabo_cr_objective,
    model_based_classes,
    model_mle,
    offline_only,
    optimal_q,
    potential,
    ratio_class,
    weighted_moments,
)
from theory_rl.coverage import coverability
from theory_rl.data import CountDataset, CountsBuilder, RolloutSampler, sample_iid
from theory_rl.generators.coverability import block_mdp, coverability_family
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, solve

FAST = settings(max_examples=25, deadline=None)
FIXED = settings(max_examples=15, deadline=None, derandomize=True)  # statistical properties: fixed examples


def _normalised(mdp: TabularMDP) -> TabularMDP:
    """Rewards divided by H so that returns lie in [0, 1] (the paper's normalisation)."""
    return TabularMDP(mdp.stage_P, mdp.stage_R / mdp.horizon, mdp.init, horizon=mdp.horizon)


def _samples(mdp, n_episodes, seed):
    """Raw transitions (h, x, a, r, x') of episodes of uniformly random deterministic policies, and the matching
    counts record (built with the shared CountsBuilder, read as a CountDataset)."""
    rng = np.random.default_rng(seed)
    sampler = RolloutSampler(mdp)
    builder = CountsBuilder(mdp.S, mdp.A, horizon=mdp.horizon)
    raw = []
    for _ in range(n_episodes):
        actions = rng.integers(0, mdp.A, size=(mdp.horizon, mdp.S))
        xs, acts, rs = sampler.episode(actions, rng)
        builder.add_episode(xs, acts, rs)
        raw += [(h, xs[h], acts[h], rs[h], xs[h + 1]) for h in range(mdp.horizon)]
    return raw, builder.to_counts()


# ---------------------------------------------------------------------- the oracle: plain enumeration
def _enumerate(F, W, raw, clip, alpha):
    """sup_w E_hat[Delta_h f clip(w) - alpha clip(w)^2] per (f, h), and the MABO.CR loss, by loops over samples."""
    nF, H = F.shape[0], F.shape[1]
    per_h = {h: [s for s in raw if s[0] == h] for h in range(H)}
    sup = np.full((nF, H), -np.inf)
    mabo = np.full(nF, -np.inf)
    for i in range(nF):
        for w in W:
            total = 0.0
            for h in range(H):
                data = per_h[h]
                if data:
                    e1 = e2 = 0.0
                    for _, x, a, r, x2 in data:
                        wc = min(w[h, x, a], clip)
                        nxt = F[i, h + 1, x2].max() if h + 1 < H else 0.0
                        e1 += (F[i, h, x, a] - r - nxt) * wc
                        e2 += wc * wc
                    e1, e2 = e1 / len(data), e2 / len(data)
                else:
                    e1 = e2 = 0.0
                sup[i, h] = max(sup[i, h], e1 - alpha * e2)
                term = abs(e1) - alpha * e2
                total += term
                mabo[i] = max(mabo[i], term)
            mabo[i] = max(mabo[i], total)
    return sup, mabo


@FAST
@given(tabular_mdps(episodic=True, max_S=3, max_A=3, max_H=3), st.integers(0, 2**32 - 1), st.integers(0, 6),
       st.sampled_from([0.5, 2.0, 50.0]))
def test_vectorised_criteria_match_enumeration(mdp, seed, n_episodes, clip):
    rng = np.random.default_rng(seed)
    shape = (mdp.horizon, mdp.S, mdp.A)
    F = rng.random((4,) + shape)
    W = rng.exponential(2.0, size=(3,) + shape)
    W[0] = 0.0
    raw, stats = _samples(mdp, n_episodes, seed)
    classes = finite_classes(F, W)
    alpha = 8.0 / clip
    sup, mabo = _enumerate(F, W, raw, clip, alpha)
    np.testing.assert_allclose(glow_violations(F, W, stats, clip, alpha), sup, atol=1e-10)
    np.testing.assert_allclose(mabo_cr_objective(classes, stats, clip), mabo, atol=1e-10)
    beta = float(np.median(sup.max(axis=1)))
    np.testing.assert_array_equal(confidence_set(F, W, stats, clip, alpha, beta), np.all(sup <= beta, axis=1))


# ---------------------------------------------------------------------- the good event
def _perturbed_models(mdp, seed, count=3):
    rng = np.random.default_rng(seed)
    models = [mdp]
    for _ in range(count):
        P = 0.5 * mdp.stage_P + 0.5 * rng.dirichlet(np.ones(mdp.S), size=mdp.stage_P.shape[:-1])
        R = np.clip(mdp.stage_R + rng.uniform(-0.3, 0.3, size=mdp.stage_R.shape) / mdp.horizon, 0, 1 / mdp.horizon)
        models.append(TabularMDP(P, R, mdp.init, horizon=mdp.horizon))
    return models


def _replay(mdp, classes, res, seed, K=1):
    """The raw transitions GLOW collected in each round, re-drawn from its seed and its chosen members (GLOW draws
    round ``t``'s ``K`` episodes in one rollout-sampler call from the ``t``-th SeedSequence child), and the play
    counts before each round."""
    sampler = RolloutSampler(mdp)
    rounds, plays, counts = [], [], np.zeros(classes.F.shape[0])
    for idx, child in zip(res.chosen, np.random.SeedSequence(seed).spawn(len(res.chosen)), strict=True):
        raw = []
        for xs, acts, rs in zip(*sampler.sample(classes.policies[idx], K, child), strict=True):
            raw += [(h, xs[h], acts[h], rs[h], xs[h + 1]) for h in range(mdp.horizon)]
        rounds.append(raw)
        plays.append(counts.copy())
        counts[idx] += K
    return rounds, plays


def _sup_over_samples(f, W, raw, clip, alpha):
    """``max_h sup_{w in W} E_hat[Delta_h f clip(w) - alpha clip(w)^2]`` for one ``f``, straight from the raw
    samples (numpy over the samples, as :func:`_enumerate` does with loops; never through the counts)."""
    h, x, a, r, x2 = (np.array(c) for c in zip(*raw, strict=True))
    H = f.shape[0]
    nxt = np.where(h + 1 < H, f[np.minimum(h + 1, H - 1), x2].max(axis=-1), 0.0)
    delta = f[h, x, a] - r - nxt
    wc = np.minimum(W[:, h, x, a], clip)  # (|W|, n)
    sup = -np.inf
    for layer in range(H):
        m = h == layer
        e1 = (wc[:, m] * delta[m]).mean(axis=1) if m.any() else np.zeros(len(W))
        e2 = (wc[:, m] ** 2).mean(axis=1) if m.any() else np.zeros(len(W))
        sup = max(sup, float((e1 - alpha * e2).max()))
    return sup


def _q_star_violations(mdp, classes, res, seed):
    """Q*'s violation ``max_h sup_{w in W_t} E_hat[Delta_h Q* clip(w) - alpha_t clip(w)^2]`` at every round
    ``t >= 2``, from the replayed raw samples (:func:`_sup_over_samples`; ``W_t`` = ``W`` plus the mixture ratios
    of the plays so far)."""
    from theory_rl.algorithms.glow.classes import MixtureRatios

    q_star = classes.F[np.flatnonzero(classes.truth_mask(mdp))[0]]
    mix = MixtureRatios(classes)
    rounds, plays = _replay(mdp, classes, res, seed)
    out = np.full(len(rounds), -np.inf)
    for t in range(2, len(rounds) + 1):
        W_t = np.concatenate([classes.W, mix.weights(plays[t - 1])])
        raw = [s for r in rounds[: t - 1] for s in r]
        out[t - 1] = _sup_over_samples(q_star, W_t, raw, res.clip[t - 1], res.alpha[t - 1])
    return out


def test_sample_oracle_matches_the_enumeration():
    inst = coverability_family(2, 2, 0.5, gap=0.3)
    classes = decoy_classes(inst.mdp, inst.targets, 0.6)
    raw, _ = _samples(inst.mdp, 7, 2)
    for i in range(classes.F.shape[0]):
        sup, _ = _enumerate(classes.F[i : i + 1], classes.W, raw, 1.5, 8 / 1.5)
        assert _sup_over_samples(classes.F[i], classes.W, raw, 1.5, 8 / 1.5) == pytest.approx(sup.max(), abs=1e-12)


# Theorem: with the theory constants, Q*'s violation is <= beta_t at every round with probability >= 1 - delta = 0.9
# per run. The Freedman bound behind beta_t is loose by orders of magnitude here (beta_t >= 33, violations < 4), so
# this check alone is weak; the radius itself is checked against its formula in test_glow_schedules_match_formulas
# and the elimination in test_scaled_beta_eliminates_decoys_and_keeps_q_star. Derandomized examples: a false
# failure (probability <= 0.1 per example by the theorem, far less in practice) would be reproducible, not flaky.
@FIXED
@given(tabular_mdps(episodic=True, max_S=4, max_A=3, max_H=3), st.integers(0, 2**32 - 1))
def test_q_star_violation_within_beta_with_theory_constants(mdp, seed):
    mdp = _normalised(mdp)
    classes = model_based_classes(_perturbed_models(mdp, seed))
    T = 20
    res = glow(mdp, classes, T, seed=seed, diagnostics=False)
    viol = _q_star_violations(mdp, classes, res, seed)
    assert np.all(viol[1:] <= res.beta[1:])
    assert res.q_star_in.all() and res.empty_rounds == 0


# Regression test on fixed seeds, not a theorem: at beta_scale = 1e-4 the radius is far below the theory's, and
# Thm 3.1 guarantees nothing about keeping Q* or refuting anything. On these decoy classes (Bellman error `bonus` on
# the decoy's target), measured over seeds 0-99 with the shared rollout sampler: every run ended with Q* alone in
# F_T and Q* never left F_t, after T = 150 rounds on (k, A) = (2, 2) and T = 400 on (3, 3) (100/100 each). At
# T = 150 on (3, 3) only 65/100 runs had refuted every decoy (the former per-step sampler: 81/120 on seeds
# 100-219, the same law), so T = 150 there held for seeds 0-2 by luck; hence T = 400. Q*'s violation (from the
# raw samples) must stay <= beta_t at every round. (On random MDPs with perturbed-model classes no beta_scale
# separated the two: 1e-4 refuted nothing in 200 rounds, 1e-5 refuted Q*.) It catches a residual with the wrong
# sign (the decoys' violations drop to <= 0, nothing is refuted) and a radius too small or too large by a constant
# factor (Q* refuted, or decoys kept).
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("k", "A", "gap", "bonus", "T"), [(2, 2, 0.3, 0.6, 150), (3, 3, 0.4, 0.8, 400)])
def test_scaled_beta_eliminates_decoys_and_keeps_q_star(k, A, gap, bonus, T, seed):
    inst = coverability_family(k, A, 0.5, gap=gap)
    classes = decoy_classes(inst.mdp, inst.targets, bonus)
    res = glow(inst.mdp, classes, T, seed=seed, beta_scale=1e-4, diagnostics=False)
    assert res.set_size[-1] == 1  # every decoy refuted
    assert res.q_star_in.all() and res.empty_rounds == 0
    assert np.all(_q_star_violations(inst.mdp, classes, res, seed)[1:] <= res.beta[1:])


def test_decoys_eliminated_with_scaled_beta():
    # Fixed seed. At beta_scale = 1e-4 decoys are refuted within 2000 rounds: in 10 seeds (0-9) every run ended
    # with Q* alone (1 of the 7 members) and an output sub-optimality of 0.018-0.028 (measured with the shared
    # rollout sampler; the former per-step sampler gave the same on seeds 0-5, 0.019-0.022), far below the
    # decoys' common 0.267 (every decoy ties at round 100). With the theory constants nothing is refuted in 2000
    # rounds.
    inst = coverability_family(3, 3, 0.5, gap=0.4)
    classes = decoy_classes(inst.mdp, inst.targets, 0.8)
    res = glow(inst.mdp, classes, 2000, seed=3, beta_scale=1e-4)
    assert res.set_size[-1] == 1
    assert res.average_suboptimality[99] == pytest.approx(0.4 * (0.5 + 0.5 / 3))
    assert res.average_suboptimality[-1] < 0.05
    theory = glow(inst.mdp, classes, 2000, seed=3, diagnostics=False)
    assert theory.set_size[-1] == 7 and theory.q_star_in.all()


# ---------------------------------------------------------------------- the potential lemma
@FAST
@given(tabular_mdps(episodic=True, max_S=4, max_A=3, max_H=4), st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_potential_lemma_on_random_policy_sequences(mdp, seed, T):
    rng = np.random.default_rng(seed)
    deterministic = rng.random() < 0.5
    occ = []
    for _ in range(T):
        if deterministic:
            pi = rng.integers(0, mdp.A, size=(mdp.horizon, mdp.S))
        else:
            pi = rng.dirichlet(np.ones(mdp.A) * 0.3, size=(mdp.horizon, mdp.S))
        occ.append(occupancy(mdp, pi))
    pot = potential(np.stack(occ))
    c_cov = coverability(mdp).value
    bound = 5.0 * c_cov * np.log1p(np.arange(1, T + 1))
    assert np.all(pot.max(axis=1) <= bound + 1e-9)


def test_potential_first_round_is_one_per_layer():
    mdp = coverability_family(2, 2, 0.3).mdp
    occ = occupancy(mdp, np.zeros((3, 2), dtype=int))[None]
    np.testing.assert_allclose(potential(occ), 1.0)


def test_glow_diagnostics_are_consistent():
    inst = coverability_family(2, 2, 0.5, gap=0.3)
    classes = decoy_classes(inst.mdp, inst.targets, 0.6)
    res = glow(inst.mdp, classes, 60, seed=1)
    assert np.all(res.potential.max(axis=1) <= res.potential_bound)
    assert np.all(np.diff(res.regret) >= -1e-12) and np.all((res.clipping_loss >= 0) & (res.clipping_loss <= 1))
    log_w = res.constants["log_n_W"]  # the static ratios plus every mixture ratio that 60 rounds can produce
    assert log_w > math.log(classes.W.shape[0])
    assert res.constants["L"] == pytest.approx(math.log(6 * classes.F.shape[0] * 60 * 3 / 0.1) + log_w)
    gamma = math.sqrt(_class_c_cov(inst.mdp, classes) / (60 * res.constants["L"]))  # Thm 3.1's default
    assert np.isinf(res.beta[0]) and res.beta[1] == pytest.approx(36 * 2 * gamma * res.constants["L"])


def _class_c_cov(mdp, classes):
    """Coverability of the class's distinct greedy policies (the default C_cov of glow and h2o)."""
    return coverability(mdp, list(np.unique(classes.policies, axis=0))).value


def test_glow_schedules_match_formulas():
    # Module docstring: L = log(6 |F| |W| T H / delta), gamma = sqrt(C_cov / (T L)), g_t = gamma t,
    # alpha_t = 8 / g_t, beta_t = 36 g_t L / (K (t - 1)); all computed here from the formulas, not from the run.
    inst = coverability_family(2, 2, 0.5, gap=0.3)
    classes = decoy_classes(inst.mdp, inst.targets, 0.6)
    T, K, delta = 12, 3, 0.05
    res = glow(inst.mdp, classes, T, seed=4, K=K, delta=delta, mixture_ratios=False, diagnostics=False)
    L = math.log(6 * classes.F.shape[0] * classes.W.shape[0] * T * 3 / delta)
    gamma = math.sqrt(_class_c_cov(inst.mdp, classes) / (T * L))
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(res.clip, gamma * t, rtol=1e-12)
    np.testing.assert_allclose(res.alpha, 8 / (gamma * t), rtol=1e-12)
    assert np.isinf(res.beta[0])
    np.testing.assert_allclose(res.beta[1:], 36 * gamma * t[1:] * L / (K * (t[1:] - 1)), rtol=1e-12)
    scaled = glow(inst.mdp, classes, T, seed=4, K=K, delta=delta, mixture_ratios=False, diagnostics=False,
                  beta_scale=0.01)
    gamma_s = math.sqrt(_class_c_cov(inst.mdp, classes) / (T * L * 0.01))
    np.testing.assert_allclose(scaled.clip, gamma_s * t, rtol=1e-12)
    np.testing.assert_allclose(scaled.beta[1:], 0.01 * 36 * gamma_s * t[1:] * L / (K * (t[1:] - 1)), rtol=1e-12)


def test_h2o_schedules_match_formulas(monkeypatch):
    # Module docstring of hybrid: MABO.CR's clip at round t is gamma t with gamma = sqrt((C_star + C_cov) / (T L)),
    # L = log(6 |F| T H / delta) + log |W| with |W| counting the mixture ratios (n_static + n_dyn |F|
    # binom(T + m - 1, m - 1)), and at round t >= 2 the weight class holds d^{pi_f} / mu_t with
    # mu_t = w nu + (1 - w) d_bar_t, w = t / (2t - 1) (t offline samples and t - 1 trajectories per layer).
    from theory_rl.algorithms.glow import hybrid
    from theory_rl.coverage import concentrability

    calls = []
    real = hybrid.trusted_mabo_cr  # the rounds' unchecked MABO.CR objective (checked once at h2o's boundary)

    def spy(classes, stats, clip, alpha=None, W=None):
        calls.append((clip, W))
        return real(classes, stats, clip, alpha, W)

    monkeypatch.setattr(hybrid, "trusted_mabo_cr", spy)
    inst = coverability_family(2, 3, 0.5, gap=0.3)
    classes = decoy_classes(inst.mdp, inst.targets, 0.6)
    H, S, A = 3, 2, 3
    rng = np.random.default_rng(0)
    nu = rng.dirichlet(np.ones(S * A), size=H).reshape(H, S, A)
    T, delta = 8, 0.2
    res = h2o(inst.mdp, classes, nu, T, seed=2, delta=delta)
    assert len(calls) == T
    nF, nW = classes.F.shape[0], classes.W.shape[0]
    m = len(np.unique(classes.policies, axis=0))
    L = math.log(6 * nF * T * H / delta) + math.log(nW + nF * math.comb(T + m - 1, m - 1))  # one dynamics
    c = _class_c_cov(inst.mdp, classes) + concentrability(inst.mdp, solve(inst.mdp).policy, nu)
    gamma = math.sqrt(c / (T * L))
    np.testing.assert_allclose([clip for clip, _ in calls], gamma * np.arange(1, T + 1), rtol=1e-12)
    assert calls[0][1] is None
    occ = np.stack([occupancy(inst.mdp, pi) for pi in classes.policies])
    for t in range(2, T + 1):
        d_bar = occ[res.chosen[: t - 1]].mean(axis=0)
        w = t / (2 * t - 1)
        W = calls[t - 1][1]
        np.testing.assert_array_equal(W[:nW], classes.W)
        np.testing.assert_allclose(W[nW:], occ / (w * nu + (1 - w) * d_bar)[None], rtol=1e-10)
    # offline_only: clip gamma n with gamma = sqrt((C_star + C_cov) / (n L)), L = log(6 |F| |W| n H / delta)
    calls.clear()
    offline_only(inst.mdp, classes, nu, 30, seed=1, delta=delta)
    L_off = math.log(6 * nF * nW * 30 * H / delta)
    assert calls[0][0] == pytest.approx(math.sqrt(c / (30 * L_off)) * 30, rel=1e-12)


# ---------------------------------------------------------------------- H2O and the plug-ins
@pytest.mark.parametrize("plugin", ["mabo_cr", "fqi", "mle"])
def test_h2o_data_is_half_offline_half_online(plugin):
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((3, 2, 2), 0.25)
    res = h2o(inst.mdp, classes, nu, 25, seed=0, plugin=plugin)
    assert isinstance(res.offline, CountDataset) and isinstance(res.online, CountDataset)
    np.testing.assert_array_equal(res.offline.counts.sum(axis=(1, 2)), 25)
    np.testing.assert_array_equal(res.online.counts.sum(axis=(1, 2)), 25)
    assert res.offline.horizon == res.online.horizon == 3
    assert res.gaps.shape == (25,) and 0 <= res.risk <= 1


def test_plugins_recover_q_star_from_rich_data():
    # Uniform i.i.d. data, 4000 samples per layer on 4 x 3 pairs: each decoy's Bellman error 0.4 is ~ 10 standard
    # errors away; the chance that a plug-in prefers a decoy is below 1e-6 (fixed seed).
    inst = coverability_family(2, 3, 0.5, gap=0.2)
    classes = decoy_classes(inst.mdp, inst.targets, 0.4)
    truth = int(np.flatnonzero(classes.truth_mask(inst.mdp))[0])
    nu = np.full((3, 2, 3), 1 / 6)
    for plugin in ("mabo_cr", "fqi", "mle"):
        res = offline_only(inst.mdp, classes, nu, 4000, seed=5, plugin=plugin)
        assert res.risk == res.gap == pytest.approx(0.0, abs=1e-12)
        assert res.method == f"offline_{plugin}" and res.data.counts.sum() == 4000 * inst.mdp.horizon
    rng = np.random.default_rng(0)
    sampler = RolloutSampler(inst.mdp)
    builder = CountsBuilder(2, 3, horizon=3)
    for _ in range(3000):
        builder.add_episode(*sampler.episode(rng.integers(0, 3, size=(3, 2)), rng))
    stats = builder.to_counts()
    assert model_mle(classes, stats) == truth
    np.testing.assert_allclose(fqi(classes, stats).Q, classes.F[truth])


def test_fqi_on_a_complete_class_is_exact_on_its_data():
    # A class closed under the empirical Bellman operator of noiseless data: FQI returns the empirical Q*.
    mdp = coverability_family(2, 2, 1.0, gap=0.25).mdp
    mdp = TabularMDP(mdp.stage_P, mdp.stage_R, mdp.init, horizon=3, reward_noise="deterministic")
    classes = decoy_classes(mdp, coverability_family(2, 2, 1.0).targets, 0.5)
    builder = CountsBuilder(2, 2, horizon=3)
    sampler = RolloutSampler(mdp)
    rng = np.random.default_rng(1)
    for _ in range(200):
        builder.add_episode(*sampler.episode(rng.integers(0, 2, size=(3, 2)), rng))
    np.testing.assert_allclose(fqi(classes, builder.to_counts()).Q, solve(mdp).Q)


# ---------------------------------------------------------------------- classes and generators
def test_decoys_have_bellman_error_bonus_on_their_target_only():
    inst = coverability_family(3, 3, 0.5, gap=0.1)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    P, R = inst.mdp.stage_P, inst.mdp.stage_R
    for f, target in zip(classes.F[:-1], inst.targets, strict=True):
        V = np.zeros((4, 3))
        V[:3] = f.max(axis=-1)
        V[3] = 0
        bellman = np.stack([R[h] + P[h] @ V[h + 1] for h in range(3)])
        np.testing.assert_allclose(f - bellman, 0.2 * target, atol=1e-12)
    assert classes.truth_mask(inst.mdp).tolist() == [False] * 6 + [True]
    np.testing.assert_allclose(classes.F[-1], solve(inst.mdp).Q)


def test_ratio_class_realizes_the_density_ratios():
    inst = coverability_family(2, 3, 0.4)
    pis = [np.zeros((3, 2), dtype=int), np.ones((3, 2), dtype=int), np.full((3, 2), 2)]
    W = ratio_class(inst.mdp, pis)
    d0, d1 = occupancy(inst.mdp, pis[0]), occupancy(inst.mdp, pis[1])
    target = np.where(d1 > 0, d0 / np.where(d1 > 0, d1, 1), np.where(d0 > 0, 1e6, 0))
    assert np.any(np.all(np.isclose(W, target[None]), axis=(1, 2, 3)))
    W_mix = ratio_class(inst.mdp, pis, mixtures=2)
    assert W_mix.shape[0] > W.shape[0]


@pytest.mark.parametrize(("k", "A", "p"), [(2, 2, 0.0), (3, 3, 0.5), (3, 4, 1.0), (4, 4, 0.25)])
def test_coverability_family_closed_form(k, A, p):
    inst = coverability_family(k, A, p)
    assert coverability(inst.mdp).value == pytest.approx(A * (1 + (k - 1) * p))
    assert inst.c_cov == pytest.approx(A * (1 + (k - 1) * p))


@pytest.mark.parametrize("m", [1, 2, 5])
def test_block_mdp_coverability_is_independent_of_observations(m):
    inst = block_mdp(3, 3, 0.5, m)
    assert inst.mdp.S == 3 * m
    assert coverability(inst.mdp).value == pytest.approx(inst.c_cov)
    assert inst.targets.shape == (6, 3, 3 * m, 3)
    np.testing.assert_allclose(solve(inst.mdp).V[0], 0.6)


def test_model_based_classes_contain_the_truth():
    inst = coverability_family(2, 2, 0.5)
    other = TabularMDP(inst.mdp.stage_P, inst.mdp.stage_R * 0.5, inst.mdp.init, horizon=3)
    classes = model_based_classes([other, inst.mdp])
    assert classes.truth_mask(inst.mdp).tolist() == [False, True]
    np.testing.assert_allclose(classes.F[1], optimal_q(inst.mdp.stage_P, inst.mdp.stage_R))


def test_invalid_inputs_raise():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    with pytest.raises(ValueError, match=r"W\[0, 0, 0, 0\]"):
        finite_classes(np.zeros((1, 3, 2, 2)), -np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        finite_classes(np.zeros((1, 3, 2, 2)), np.ones((1, 2, 2, 2)))
    with pytest.raises(ValueError, match="T is"):
        glow(inst.mdp, classes, 0, seed=0)
    with pytest.raises(ValueError, match="beta_scale"):
        glow(inst.mdp, classes, 5, seed=0, beta_scale=0.0)
    with pytest.raises(ValueError, match="delta"):
        glow(inst.mdp, classes, 5, seed=0, delta=1.5)
    with pytest.raises(ValueError, match="seed"):
        glow(inst.mdp, classes, 5, seed=None)
    with pytest.raises(ValueError, match="plugin"):
        h2o(inst.mdp, classes, np.full((2, 2), 0.25), 5, seed=0, plugin="dqn")
    with pytest.raises(ValueError, match="nu"):
        h2o(inst.mdp, classes, np.full((2, 2), 0.3), 5, seed=0)
    with pytest.raises(ValueError, match="classes have shape"):
        glow(coverability_family(3, 3, 0.5).mdp, classes, 5, seed=0)
    with pytest.raises(ValueError, match="A is"):
        coverability_family(3, 2, 0.5)
    with pytest.raises(ValueError, match="p is"):
        block_mdp(2, 2, 1.5, 2)
    with pytest.raises(ValueError, match="bonus"):
        decoy_classes(inst.mdp, inst.targets, -1.0)


def test_mixture_ratios_are_ratios_to_the_played_mixture():
    from theory_rl.algorithms.glow.classes import MixtureRatios

    inst = coverability_family(2, 3, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    mix = MixtureRatios(classes)
    counts = np.array([3.0, 0, 1, 0, 0])
    occ = np.stack([occupancy(inst.mdp, pi) for pi in classes.policies])
    d_bar = (3 * occ[0] + occ[2]) / 4
    W = mix.weights(counts)
    assert W.shape == (5,) + occ.shape[1:]  # one dynamics (decoys share the truth's), one ratio per member
    pos = d_bar > 0
    np.testing.assert_allclose(W[1][pos], occ[1][pos] / d_bar[pos])
    nu = np.full(occ.shape[1:], 1 / 6)
    np.testing.assert_allclose(mix.weights(counts, nu, 0.5)[4], occ[4] / (0.5 * nu + 0.5 * d_bar))
    # log |W|: mixtures are indexed by play counts, binom(t + m - 1, m - 1) of them (m = 5 policies here)
    assert mix.log_size(0, 10) == pytest.approx(math.log(5 * math.comb(14, 4)))
    without = glow(inst.mdp, classes, 30, seed=0, mixture_ratios=False)
    assert without.constants["log_n_W"] == pytest.approx(math.log(classes.W.shape[0]))


def test_fqi_fails_on_the_incomplete_class_and_hyglow_does_not():
    # Fixed seeds. Hy-Q's failure is deterministic here (ties at layer 2, then an exact least-squares comparison
    # 0.5 n_sB * 0.25 vs n_sA1 * 0.26^2 that no reward noise enters); HyGLOW refutes f_bad from its Bellman error
    # 0.26 on (sA, 1), seen with probability 1 after round 1. Its risk at T = 300 varies with the seed (seeds 0-11:
    # 0.008-0.45, mean 0.10, with the support-row samplers of issue 16; 0.008-0.42, mean 0.12, with the former
    # full-row tables: the same law), so the claim is tested on the median of seeds 0-4 (0.062; Hy-Q: 0.5).
    from theory_rl.algorithms.glow import greedy_actions, hybrid_ratio_class
    from theory_rl.generators.coverability import incomplete_fqi_instance

    inst = incomplete_fqi_instance()
    np.testing.assert_allclose(inst.F[1], solve(inst.mdp).Q)
    classes = finite_classes(inst.F, hybrid_ratio_class(inst.mdp, greedy_actions(inst.F), inst.nu))
    hyq = h2o(inst.mdp, classes, inst.nu, 300, seed=0, plugin="fqi")
    hyglow = [h2o(inst.mdp, classes, inst.nu, 300, seed=s).risk for s in range(5)]
    assert hyq.risk == pytest.approx(0.5)
    assert np.median(hyglow) < 0.1
    # Not complete: the Bellman backup of f_bad's last layer is not in F_1 (layer 0 of the class).
    V = inst.F[0, 1].max(axis=1)
    t_f = (inst.mdp.stage_P[0].reshape(10, 5) @ V).reshape(5, 2) + inst.mdp.stage_R[0]
    assert not any(np.allclose(t_f, inst.F[i, 0]) for i in range(2))
    with pytest.raises(ValueError, match="rho"):
        incomplete_fqi_instance(rho=0.0)


def test_criteria_refuse_bad_clip_alpha_and_shapes():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    F, W = classes.F, classes.W
    _, stats = _samples(inst.mdp, 3, 0)
    for clip in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="clip is"):
            weighted_moments(F, W, stats, clip)
        with pytest.raises(ValueError, match="clip is"):
            glow_violations(F, W, stats, clip, 1.0)
        with pytest.raises(ValueError, match="clip is"):
            confidence_set(F, W, stats, clip, 1.0, 1.0)
        with pytest.raises(ValueError, match="clip is"):
            mabo_cr_objective(classes, stats, clip)
    for alpha in (-0.5, np.inf, np.nan):
        with pytest.raises(ValueError, match="alpha is"):
            glow_violations(F, W, stats, 2.0, alpha)
        with pytest.raises(ValueError, match="alpha is"):
            confidence_set(F, W, stats, 2.0, alpha, 1.0)
        with pytest.raises(ValueError, match="alpha is"):
            mabo_cr_objective(classes, stats, 2.0, alpha)
    other = CountsBuilder(2, 3, horizon=3).to_counts()
    with pytest.raises(ValueError, match=r"F has shape"):
        weighted_moments(F, W, other, 2.0)
    with pytest.raises(ValueError, match=r"F has shape"):
        mabo_cr_objective(classes, other, 2.0)
    with pytest.raises(ValueError, match=r"W has shape"):
        glow_violations(F, W[:, :2], stats, 2.0, 1.0)
    with pytest.raises(ValueError, match=r"W has shape"):
        mabo_cr_objective(classes, stats, 2.0, W=W[0])
    # alpha = 0 (no penalty) is allowed
    assert glow_violations(F, W, stats, 2.0, 0.0).shape == (F.shape[0], 3)


def test_hybrid_inputs_are_checked():
    from theory_rl.algorithms.glow import hybrid_ratio_class

    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((2, 2), 0.25)
    for delta in (1.0, 1e9, 0.0, -0.1):
        with pytest.raises(ValueError, match="delta is"):
            h2o(inst.mdp, classes, nu, 5, seed=0, delta=delta)
        with pytest.raises(ValueError, match="delta is"):
            offline_only(inst.mdp, classes, nu, 5, seed=0, delta=delta)
    pis = [np.zeros((3, 2), dtype=int), np.ones((3, 2), dtype=int)]
    bad = np.array([[0.75, 0.5], [0.0, -0.25]])  # sums to one, one negative entry
    with pytest.raises(ValueError, match="nu"):
        hybrid_ratio_class(inst.mdp, pis, bad)
    with pytest.raises(ValueError, match="nu"):
        hybrid_ratio_class(inst.mdp, pis, np.full((2, 2), 0.3))
    with pytest.raises(ValueError, match="nu"):
        hybrid_ratio_class(inst.mdp, pis, np.full((3, 2), 1 / 6))
    assert hybrid_ratio_class(inst.mdp, pis, nu).shape[1:] == (3, 2, 2)


# ---------------------------------------------------------------------------------------------- issue 12
BAD_CONSTANTS = (np.nan, np.inf, -np.inf, 1 + 1j, complex(2.0, 0.0), "1")


@pytest.mark.parametrize("bad", BAD_CONSTANTS, ids=repr)
def test_glow_and_h2o_refuse_non_finite_or_complex_constants(bad):
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((2, 2), 0.25)
    for name in ("delta", "gamma", "c_cov", "beta_scale"):
        with pytest.raises(ValueError, match=f"{name} is"):
            glow(inst.mdp, classes, 5, seed=0, **{name: bad})
    for name in ("delta", "gamma", "gamma_scale"):
        with pytest.raises(ValueError, match=f"{name} is"):
            h2o(inst.mdp, classes, nu, 5, seed=0, **{name: bad})
        with pytest.raises(ValueError, match=f"{name} is"):
            offline_only(inst.mdp, classes, nu, 5, seed=0, **{name: bad})
    _, stats = _samples(inst.mdp, 3, 0)
    F, W = classes.F, classes.W
    with pytest.raises(ValueError, match="clip is"):
        weighted_moments(F, W, stats, bad)
    with pytest.raises(ValueError, match="alpha is"):
        glow_violations(F, W, stats, 2.0, bad)
    with pytest.raises(ValueError, match="beta is"):  # NaN would silently give an empty set
        confidence_set(F, W, stats, 2.0, 1.0, bad)
    with pytest.raises(ValueError, match="alpha is"):
        mabo_cr_objective(classes, stats, 2.0, bad)
    with pytest.raises(ValueError, match="bonus is"):
        decoy_classes(inst.mdp, inst.targets, bad)
    with pytest.raises(ValueError, match="p is"):
        coverability_family(2, 2, bad)


def test_glow_counts_are_integers_not_floats():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    for kw in (dict(T=5.0), dict(T=True), dict(T=5, K=1.5)):
        T = kw.pop("T")
        with pytest.raises(ValueError, match="T is|K is"):
            glow(inst.mdp, classes, T, seed=0, **kw)
    with pytest.raises(ValueError, match="mixtures is"):
        decoy_classes(inst.mdp, inst.targets, 0.2, mixtures=1.7)
    with pytest.raises(ValueError, match="mdp is"):
        glow(solve(inst.mdp), classes, 5, seed=0)


def test_results_speak_the_shared_vocabulary():
    from theory_rl.results import IterativeResult, Result

    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    res = glow(inst.mdp, classes, 10, seed=0)
    assert isinstance(res, Result) and not isinstance(res, IterativeResult) and res.method == "glow"
    last = res.chosen[-1]
    np.testing.assert_array_equal(res.policy, classes.policies[last])
    np.testing.assert_array_equal(res.Q, classes.F[last])
    np.testing.assert_array_equal(res.V, classes.F[last].max(axis=-1))
    assert "glow:" in repr(res)
    nu = np.full((2, 2), 0.25)
    for plugin in ("mabo_cr", "fqi", "mle"):
        hr = h2o(inst.mdp, classes, nu, 6, seed=0, plugin=plugin)
        assert isinstance(hr, Result) and hr.method == f"h2o_{plugin}"
        assert hr.policy.shape == (3, 2) and hr.Q.shape == (3, 2, 2)
        np.testing.assert_array_equal(hr.policy, np.argmax(hr.Q >= hr.Q.max(-1, keepdims=True) - 1e-10, -1))
        if plugin != "fqi":
            np.testing.assert_array_equal(hr.Q, classes.F[hr.chosen[-1]])
    fr = fqi(classes, hr.offline + hr.online)
    assert isinstance(fr, Result) and fr.method == "fqi" and fr.layers.shape == (3,)
    np.testing.assert_array_equal(fr.V, fr.Q.max(axis=-1))
    with pytest.raises(TypeError):  # kw_only records
        type(fr)(fr.policy, fr.V, fr.Q)


def test_seed_sequence_is_not_mutated_and_matches_its_int():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    ss = np.random.SeedSequence(7)
    a = glow(inst.mdp, classes, 8, seed=ss, diagnostics=False)
    b = glow(inst.mdp, classes, 8, seed=ss, diagnostics=False)
    c = glow(inst.mdp, classes, 8, seed=7, diagnostics=False)
    assert ss.n_children_spawned == 0
    np.testing.assert_array_equal(a.chosen, b.chosen)
    np.testing.assert_array_equal(a.chosen, c.chosen)
    nu = np.full((2, 2), 0.25)
    h1, h2 = h2o(inst.mdp, classes, nu, 6, seed=ss), h2o(inst.mdp, classes, nu, 6, seed=7)
    np.testing.assert_array_equal(h1.offline.transition_counts, h2.offline.transition_counts)
    assert ss.n_children_spawned == 0


def test_generators_glow_is_a_deprecated_alias_of_coverability():
    import importlib

    import theory_rl.generators.coverability as cov

    with pytest.warns(DeprecationWarning, match="generators.coverability"):
        old = importlib.import_module("theory_rl.generators.glow")
        old = importlib.reload(old)
    assert old.coverability_family is cov.coverability_family
    assert old.block_mdp is cov.block_mdp and old.incomplete_fqi_instance is cov.incomplete_fqi_instance
    assert set(old.__all__) == set(cov.__all__)


def test_h2o_docstring_names_its_paper_not_niu_et_al():
    from theory_rl.algorithms.glow import hybrid

    assert "Amortila" in hybrid.__doc__ and "NOT Niu et al. (2022)" in hybrid.__doc__


def test_no_private_name_is_imported_across_modules():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "theory_rl" / "algorithms"
    for path in list((root / "glow").glob("*.py")) + list((root / "edge_of_reach").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"


# ---------------------------------------------------------------------- the shared data layer (issue 12)
def test_sufficient_statistics_is_a_deprecated_alias_of_the_counts_builder():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    raw, record = _samples(inst.mdp, 5, 3)
    with pytest.warns(DeprecationWarning, match="CountsBuilder"):
        old = SufficientStatistics(3, 2, 2)
    assert isinstance(old, CountsBuilder)
    for h, x, a, r, x2 in raw:
        old.add_transition(h, x, a, r, x2)
    np.testing.assert_array_equal(old.n, record.counts)
    np.testing.assert_array_equal(old.C, record.transition_counts)
    np.testing.assert_array_equal(old.r, record.reward_sums)
    np.testing.assert_array_equal(old.per_layer, 5)
    assert old.shape == (3, 2, 2)
    F, W = classes.F, classes.W
    np.testing.assert_array_equal(glow_violations(F, W, old, 2.0, 1.0), glow_violations(F, W, record, 2.0, 1.0))
    pooled = old + record
    assert isinstance(pooled, CountDataset)
    np.testing.assert_array_equal(pooled.counts, 2 * record.counts)
    np.testing.assert_array_equal(fqi(classes, pooled).Q, fqi(classes, record + record).Q)


def test_criteria_refuse_a_discounted_record_or_another_type():
    from theory_rl.algorithms.glow.statistics import as_counts

    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    discounted = CountsBuilder(2, 2).to_counts()
    with pytest.raises(ValueError, match="stats is a discounted record"):
        weighted_moments(classes.F, classes.W, discounted, 2.0)
    with pytest.raises(ValueError, match="stats is a dict"):
        as_counts({"counts": np.zeros((3, 2, 2))})
    with pytest.raises(ValueError, match="stats has counts of shape"):
        fqi(classes, CountsBuilder(2, 3, horizon=3).to_counts())


def test_h2o_offline_data_is_one_sample_iid_call_and_online_the_rollout_sampler():
    # Seeds (hybrid docstring): child 0 of seed_sequence(seed) draws the T offline samples per layer in one
    # sample_iid call; child 1 seeds the Generator whose raw outputs seed one online episode per round.
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    nu = np.full((3, 2, 2), 0.25)
    T = 12
    res = h2o(inst.mdp, classes, nu, T, seed=4)
    off_seed, on_seed = np.random.SeedSequence(4).spawn(2)
    expected = sample_iid(inst.mdp, nu, T, off_seed).to_counts()
    np.testing.assert_array_equal(res.offline.counts, expected.counts)
    np.testing.assert_array_equal(res.offline.transition_counts, expected.transition_counts)
    np.testing.assert_array_equal(res.offline.reward_sums, expected.reward_sums)
    # the online episodes: round t plays pi_t = policies[chosen[t - 1]] from one Generator
    rng, sampler = np.random.default_rng(on_seed), RolloutSampler(inst.mdp)
    builder = CountsBuilder(2, 2, horizon=3)
    for idx in res.chosen:
        builder.add_episode(*sampler.episode(classes.policies[idx], rng))
    replay = builder.to_counts()
    np.testing.assert_array_equal(res.online.transition_counts, replay.transition_counts)
    np.testing.assert_array_equal(res.online.reward_sums, replay.reward_sums)
    assert res.online.n == res.offline.n == T * 3


# ---------------------------------------------------------------------- issue 12: checks at the public boundary
def test_classes_and_criteria_check_their_arrays_by_name():
    from theory_rl.algorithms.glow import FiniteClasses, greedy_actions
    from theory_rl.algorithms.glow.classes import MixtureRatios

    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    F, W = classes.F, classes.W
    # a direct construction is validated like finite_classes, and is read-only
    with pytest.raises(ValueError, match="policies are not the greedy actions of F"):
        FiniteClasses(F, W, 1 - classes.policies)
    with pytest.raises(ValueError, match=r"F\[0, 0, 0, 0\] is nan"):
        FiniteClasses(np.where(np.arange(F.size).reshape(F.shape) == 0, np.nan, F), W, classes.policies)
    with pytest.raises(ValueError, match=r"models\[0\]\.P"):
        FiniteClasses(F, W, classes.policies, [(np.zeros_like(m[0]), m[1], m[2]) for m in classes.models])
    with pytest.raises(ValueError, match="models has 1 entries"):
        finite_classes(F, W, models=classes.models[:1])
    same = FiniteClasses(F, W, classes.policies, classes.models)
    assert not same.F.flags.writeable and np.array_equal(same.policies, classes.policies)
    with pytest.raises(ValueError, match="classes is a"):
        MixtureRatios(object())
    with pytest.raises(ValueError, match="classes is a"):
        fqi("bogus", CountsBuilder(2, 2, horizon=3).to_counts())
    with pytest.raises(ValueError, match=r"F\[\] is nan"):
        greedy_actions(np.nan)
    with pytest.raises(ValueError, match="tol is"):
        greedy_actions(F, tol=np.nan)
    with pytest.raises(ValueError, match=r"P\[0, 0, 0\] sums to"):
        optimal_q(np.zeros((3, 2, 2, 2)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"policies\[0\] has dtype"):
        ratio_class(inst.mdp, ["ab"])
    with pytest.raises(ValueError, match="occupancies must have 4 dimensions"):
        potential(np.ones(3))


def test_glow_refuses_absurd_sizes_and_non_bool_flags_at_once():
    inst = coverability_family(2, 2, 0.5)
    classes = decoy_classes(inst.mdp, inst.targets, 0.2)
    with pytest.raises(ValueError, match=r"\(T, H, S, A\)"):
        glow(inst.mdp, classes, 10**12, seed=0)
    with pytest.raises(ValueError, match=r"\(K, H \+ 1\)"):
        glow(inst.mdp, classes, 2, K=10**12, seed=0)
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        h2o(inst.mdp, classes, np.full((2, 2), 0.25), 10**12, seed=0)
    for flag in ("mixture_ratios", "diagnostics"):
        with pytest.raises(ValueError, match=f"{flag} is"):
            glow(inst.mdp, classes, 2, seed=0, **{flag: 1})


# ---------------------------------------------------------------------- issue 14: the clip where it binds
@FIXED
@given(tabular_mdps(episodic=True, max_S=3, max_A=3, max_H=3), st.integers(0, 2**32 - 1), st.integers(3, 6))
def test_criteria_where_the_clip_binds(mdp, seed, n_episodes):
    """Weights well above the clip (uniform on [3, 6], clip 1) and a small alpha (0.05), with Bellman errors of
    either sign, so the supremum is attained at a clipped weight, not at w = 0: the clipped criteria must match the
    enumeration and differ from the unclipped ones (the clip changes the answer)."""
    rng = np.random.default_rng(seed)
    shape = (mdp.horizon, mdp.S, mdp.A)
    F = rng.uniform(-1.0, 2.0, size=(4,) + shape)  # Delta f = f - r - max f' of either sign, typically |.| ~ 1
    W = rng.uniform(3.0, 6.0, size=(3,) + shape)
    raw, stats = _samples(mdp, n_episodes, seed)
    classes = finite_classes(F, W)
    clip, alpha = 1.0, 0.05
    sup, _ = _enumerate(F, W, raw, clip, alpha)
    got = glow_violations(F, W, stats, clip, alpha)
    np.testing.assert_allclose(got, sup, atol=1e-10)
    # MABO.CR uses alpha = 8 / clip (as in test_vectorised_criteria_match_enumeration)
    _, mabo = _enumerate(F, W, raw, clip, 8.0 / clip)
    np.testing.assert_allclose(mabo_cr_objective(classes, stats, clip), mabo, atol=1e-10)
    unclipped, _ = _enumerate(F, W, raw, np.inf, alpha)
    assert np.abs(got - unclipped).max() > 1e-3  # the clip binds on these instances
    # at least one class member's supremum sits at a clipped weight (every weight exceeds the clip here, so the
    # clipped criterion is E_hat[Delta f] - alpha at every layer with data)
    with_data = sorted({s[0] for s in raw})
    for h in with_data:
        delta = np.array([[F[i, s[0], s[1], s[2]] - s[3] - (F[i, h + 1, s[4]].max() if h + 1 < mdp.horizon else 0.0)
                           for s in raw if s[0] == h] for i in range(F.shape[0])])
        np.testing.assert_allclose(got[:, h], delta.mean(axis=1) - alpha, atol=1e-10)
