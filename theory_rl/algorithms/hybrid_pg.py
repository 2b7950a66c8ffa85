"""Hybrid actor-critic (HAC / HNPG) of Zhou, Sekhari, Song & Sun (2023), tabular and finite-horizon.

Zhou, Sekhari, Song & Sun, "Offline Data Enhanced On-Policy Policy Gradient with Provable Guarantees" (ICLR 2024,
arXiv 2311.08384). HAC (their Alg. 1): ``pi_1`` uniform; for ``t = 1..T``: ``f_t = HPE(pi_t)``, then the softmax
NPG step ``pi_{t+1}(a|s) ∝ pi_t(a|s) exp(eta f_t(s, a))``. HPE (Alg. 2, Eq. 1) fits the critic to two losses,

    Ehat_off (f(s, a) - r - f(s', pi))^2  +  lambda Ehat_on (f(s, a) - y)^2,

the offline TD loss on the fixed dataset and the on-policy regression on Monte-Carlo returns ``y`` of the current
policy (here the finite-horizon reward-to-go, the code's ``gamma = 1`` with one critic per step). With the tabular
class both are means over their own samples (the code sums the two mean losses, ``lambda = 1``), so per step ``h``
and pair ``(s, a)`` the minimiser is, backward in ``h``,

    f_h = [w_off N_off (r_hat + P_hat f_{h+1}(., pi)) + w_on Y] / (w_off N_off + w_on N_on)

with ``w_off = 1 / n_off,h``, ``w_on = lambda / n_on,h``, ``Y`` the sum of the returns observed at the pair; a pair
seen by neither source gets 0. No offline data is pure on-policy NPG with Monte-Carlo Q, ``lambda = 0`` offline
FQE. In population (``N_off / n_off = nu_h``, ``N_on / n_on = d^pi_h``, ``Y / n_on = d^pi_h Q^pi_h``) the critic
is exactly ``Q^pi`` whatever ``nu``: the on-policy term anchors it (the paper's Sec. 4 argument).

Step size: the paper's ``eta = (1 - gamma) sqrt(log A / T)`` (Thm 1) with the effective horizon ``1/(1 - gamma)``
replaced by ``H`` (ours, for the finite-horizon lock): ``eta = sqrt(log A / T) / H``.

HNPG (Alg. 3), :func:`hnpg`: the actor is the log-linear class ``pi_theta(a|s) ∝ exp(theta_h . phi(s, a))``
(:func:`loglinear_policy`) and the NPG step goes through the compatible-feature least-squares fit of the hybrid
critic on both data sources, ``w = argmin Ehat_off (w . grad log pi - fbar)^2 + lambda Ehat_on (...)^2``,
``theta <- theta + eta w`` (:func:`hnpg_direction`). With one-hot features it is HAC's tabular step exactly.

Also :func:`hy_q`: Hy-Q (Song et al. 2023) with the tabular class, i.e. FQI on the pooled offline and online counts
(:func:`theory_rl.algorithms.lcb.empirical_vi`), or a linear class (:func:`count_fqi`), greedy, ``m`` fresh episodes
per round. (The finite-class Hy-Q of :mod:`theory_rl.algorithms.glow` needs an enumerated class.) Critics with a
linear class (``features``) serve the misspecification experiment: there Bellman completeness can fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory_rl import planning
from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_instance,
    check_table,
    validate_params,
)
from theory_rl.algorithms.lcb import empirical_vi
from theory_rl.data import CountDataset, CountsBuilder, Rollouts, RolloutSampler
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.policies import as_probabilities, uniform_policy
from theory_rl.results import Result
from theory_rl.scales import require_unit_scale

__all__ = ["HACResult", "hac_step_size", "softmax_npg_update", "mc_statistics", "hpe", "hac", "count_fqi", "hy_q",
           "loglinear_policy", "hnpg_direction", "hnpg"]


@dataclass(frozen=True, kw_only=True, repr=False)
class HACResult(Result):
    """A run of HAC / NPG / Hy-Q on a finite-horizon MDP.

    Attributes
    ----------
    policy : (H, S, A) probabilities (HAC, NPG) or (H, S) actions (Hy-Q), the last iterate
    Q : the last critic; V : the last policy's exact values ``(H, S)``
    values : (T,) the exact return ``J(pi_t)`` of each iterate
    episodes : (T,) the online episodes used up to and including iteration ``t``
    episodes_to_success : int, the episodes when ``J(pi_t) >= target`` first held, or -1 (never within ``T``)
    """

    values: np.ndarray
    episodes: np.ndarray
    episodes_to_success: int


@validate_params(T=Integer(1), A=Integer(2), horizon=Integer(1))
def hac_step_size(T: int, A: int, horizon: int) -> float:
    """``eta = sqrt(log A / T) / H``: Thm 1's ``(1 - gamma) sqrt(log A / T)`` with ``1 / (1 - gamma) -> H``."""
    return math.sqrt(math.log(A) / T) / horizon


@validate_params(eta=Real(0.0, None))
def softmax_npg_update(policy, f, eta: float) -> np.ndarray:
    """The softmax NPG step ``pi'(a|s) ∝ pi(a|s) exp(eta f(s, a))`` (Agarwal et al. 2021; HAC's actor), per row.

    ``policy`` and ``f`` have the same shape ``(..., A)``; ``policy`` holds probabilities. Computed in the log
    domain, so zero-probability actions stay at zero and large ``eta f`` does not overflow.
    """
    pi = as_float_array(policy, "policy")
    f = as_float_array(f, "f", shape=pi.shape)
    if pi.ndim < 2 or np.any(pi < 0) or np.any(np.abs(pi.sum(axis=-1) - 1.0) > 1e-9):
        raise ValueError("policy must hold probability rows (..., A) summing to 1")
    with np.errstate(divide="ignore"):
        logits = np.log(pi) + eta * f
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


@validate_params(S=Integer(1), A=Integer(1))
def mc_statistics(rollouts: Rollouts, S: int, A: int) -> tuple[np.ndarray, np.ndarray]:
    """On-policy statistics of finite-horizon episodes: visit counts ``N_on`` ``(H, S, A)`` and sums of the
    reward-to-go ``Y`` ``(H, S, A)``, the Monte-Carlo targets of HPE's on-policy loss."""
    if not isinstance(rollouts, Rollouts):
        raise ValueError(f"rollouts is {type(rollouts).__name__}, expected a theory_rl.data.Rollouts record")
    s, a, r = np.asarray(rollouts.states), np.asarray(rollouts.actions), np.asarray(rollouts.rewards)
    n, H = a.shape
    check_table("the statistics", (H, S, A), ("H", "S", "A"))
    if s.size and (s.max() >= S or a.max() >= A):
        raise ValueError(f"rollouts hold states up to {s.max()} and actions up to {a.max()}; expected < S={S}, A={A}")
    togo = np.cumsum(r[:, ::-1], axis=1)[:, ::-1]
    h = np.broadcast_to(np.arange(H), (n, H))
    N = np.zeros((H, S, A))
    Y = np.zeros((H, S, A))
    np.add.at(N, (h, s[:, :H], a), 1.0)
    np.add.at(Y, (h, s[:, :H], a), togo)
    return N, Y


def _features(features, S: int, A: int, name: str = "features"):
    """None (the tabular class) or a float array ``(S, A, d)``."""
    if features is None:
        return None
    phi = as_float_array(features, name, ndim=3)
    if phi.shape[:2] != (S, A):
        raise ValueError(f"{name} has shape {phi.shape}, expected (S, A, d) = ({S}, {A}, d)")
    return phi


def _fit(phi, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The weighted least-squares fit over pairs: the tabular class (``phi`` None) returns the targets where the
    weight is positive and 0 elsewhere; a linear class returns ``phi theta`` with ``theta`` the minimum-norm solution
    of the normal equations (unseen directions at 0, as the tabular convention)."""
    if phi is None:
        return np.where(weights > 0, targets, 0.0)
    S, A, d = phi.shape
    X = phi.reshape(S * A, d)
    w = weights.reshape(-1)
    G = X.T @ (w[:, None] * X)
    b = X.T @ (w * np.where(weights > 0, targets, 0.0).reshape(-1))
    return (X @ (np.linalg.pinv(G, rcond=1e-12, hermitian=True) @ b)).reshape(S, A)


@validate_params(offline=Instance(CountDataset, optional=True), lam=Real(0.0, None))
def hpe(policy, offline: CountDataset | None, on_counts, on_returns, *, lam: float = 1.0,
        features=None) -> np.ndarray:  # fmt: skip
    """HPE (Zhou et al. 2023, Alg. 2) with the tabular class: the exact minimiser, backward in ``h``.

    Parameters
    ----------
    policy : (H, S, A) probabilities
        The evaluated policy (it sets ``f_{h+1}(s', pi)``).
    offline : CountDataset (finite horizon) or None
        The offline data; None gives the on-policy critic only (NPG's Monte-Carlo Q).
    on_counts, on_returns : (H, S, A)
        ``N_on`` and the sums of the Monte-Carlo returns ``Y`` (:func:`mc_statistics`), or their population values
        ``d^pi_h`` and ``d^pi_h Q^pi_h``.
    lam : float >= 0
        Weight of the on-policy loss (each loss a mean over its own samples; 1 in the paper's code).
    features : (S, A, d), optional
        A linear class ``f_h = phi theta_h`` (the same weighted least squares over pairs, minimum-norm solution);
        None is the tabular class, whose solution is the closed form above.
    """
    N_on = as_float_array(on_counts, "on_counts", ndim=3)
    H, S, A = N_on.shape
    Y = as_float_array(on_returns, "on_returns", shape=(H, S, A))
    if np.any(N_on < 0):
        raise ValueError("on_counts must be >= 0")
    pi = as_probabilities(policy, S, A, H, name="policy")
    phi = _features(features, S, A)
    if offline is not None and (offline.horizon != H or (offline.S, offline.A) != (S, A)):
        raise ValueError(f"offline has horizon={offline.horizon}, S={offline.S}, A={offline.A}; expected {H}, {S}, {A}")
    use_off = offline is not None and offline.n > 0
    if use_off:
        model = offline.empirical_model(unseen="uniform", unseen_reward=0.0)
        N_off = np.asarray(offline.counts, dtype=np.float64)
        n_off = N_off.sum(axis=(1, 2), keepdims=True)
        w_off = np.where(n_off > 0, N_off / np.where(n_off > 0, n_off, 1.0), 0.0)
    n_on = N_on.sum(axis=(1, 2), keepdims=True)
    w_on = np.where(n_on > 0, (lam if use_off else 1.0) / np.where(n_on > 0, n_on, 1.0), 0.0)
    f = np.zeros((H + 1, S, A))
    for h in range(H - 1, -1, -1):
        num, den = w_on[h] * Y[h], w_on[h] * N_on[h]
        if use_off:
            v_next = (pi[h + 1] * f[h + 1]).sum(axis=1) if h + 1 < H else np.zeros(S)
            num = num + w_off[h] * (model.R[h] + model.P[h] @ v_next)
            den = den + w_off[h]
        f[h] = _fit(phi, den, np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0))
    return f[:H]


@validate_params(data=Instance(CountDataset))
def count_fqi(data: CountDataset, features=None) -> np.ndarray:
    """Finite-horizon FQI on counts: ``f_h = argmin sum N_h (f(s, a) - r_hat - max_a' f_{h+1}(s', a'))^2`` over the
    class (tabular when ``features`` is None, else ``phi theta``), backward in ``h``. Returns ``f`` ``(H, S, A)``."""
    if data.horizon is None:
        raise ValueError("data must be finite-horizon")
    require_unit_scale(data, "count_fqi")  # issue 15: an undiscounted horizon
    H, S, A = data.horizon, data.S, data.A
    phi = _features(features, S, A)
    model = data.empirical_model(unseen="uniform", unseen_reward=0.0)
    N = np.asarray(data.counts, dtype=np.float64)
    f = np.zeros((H + 1, S, A))
    for h in range(H - 1, -1, -1):
        f[h] = _fit(phi, N[h], model.R[h] + model.P[h] @ f[h + 1].max(axis=1))
    return f[:H]


def _check_lock(mdp, offline, T, m):
    check_instance(mdp, "mdp", TabularMDP, episodic=True)
    refuse_masked(mdp, "hac / hy_q / hnpg")  # issue 15: softmax and greedy steps over all actions
    require_unit_scale(mdp, "hac / hy_q / hnpg")  # issue 15: eta and f in [0, H] assume [0, 1], no discount
    check_table("the values per iteration", (T,), ("T",))
    check_table("the rollouts per iteration", (m, mdp.horizon + 1), ("m", "horizon + 1"), itemsize=24)
    if offline is not None:
        check_instance(offline, "offline", CountDataset)
        if offline.horizon != mdp.horizon or (offline.S, offline.A) != (mdp.S, mdp.A):
            raise ValueError("offline does not match mdp (horizon, S, A)")


@validate_params(mdp=Instance(TabularMDP), offline=Instance(CountDataset, optional=True), lam=Real(0.0, None),
                 T=Integer(1), m=Integer(1), eta=Real(0.0, None, closed="neither", optional=True),
                 target=Real(0.0, None))  # fmt: skip
def hac(mdp: TabularMDP, offline: CountDataset | None, T: int, *, seed: SeedLike, lam: float = 1.0, m: int = 10,
        eta: float | None = None, target: float = 0.9, features=None) -> HACResult:  # fmt: skip
    """HAC (Zhou et al. 2023, Alg. 1): ``T`` iterations of ``m`` on-policy episodes, HPE, softmax NPG step.

    ``offline=None`` is on-policy NPG with Monte-Carlo Q. ``eta`` defaults to :func:`hac_step_size`;
    ``features`` ``(S, A, d)`` gives the critic a linear class (the softmax policy stays tabular: the HAC actor of
    Alg. 1; HNPG's parameterised Alg. 3 is :func:`hnpg`). ``values[t]`` is the exact return of ``pi_t`` (the
    iterate that collected round ``t``'s episodes); the paper outputs ``Unif(pi_1..pi_T)``, here the last iterate
    is returned and every iterate's value recorded.
    """
    _check_lock(mdp, offline, T, m)
    H, S, A = mdp.horizon, mdp.S, mdp.A
    eta = hac_step_size(T, A, H) if eta is None else eta
    rng = as_generator(seed)
    sampler = RolloutSampler(mdp)
    pi = uniform_policy(S, A, H)
    values, f = np.empty(T), np.zeros((H, S, A))
    success = -1
    for t in range(T):
        values[t] = planning.expected_return(mdp, pi)
        if success < 0 and values[t] >= target:
            success = t * m  # pi_t reached the target after the episodes of the previous t rounds
        N_on, Y = mc_statistics(sampler.sample(pi, m, rng), S, A)
        f = hpe(pi, offline, N_on, Y, lam=lam, features=features)
        pi = softmax_npg_update(pi, f, eta)
    method = "npg" if offline is None else "hac"
    return HACResult(policy=pi, V=planning.evaluate(mdp, pi), Q=f, method=method,
                     constants={"lam": lam, "eta": eta, "m": m, "T": T, "target": target},
                     values=values, episodes=m * np.arange(1, T + 1), episodes_to_success=success)  # fmt: skip


@validate_params(mdp=Instance(TabularMDP), offline=Instance(CountDataset), T=Integer(1), m=Integer(1),
                 target=Real(0.0, None))  # fmt: skip
def hy_q(mdp: TabularMDP, offline: CountDataset, T: int, *, seed: SeedLike, m: int = 10, target: float = 0.9,
         features=None) -> HACResult:  # fmt: skip
    """Hy-Q (Song et al. 2023): FQI on offline + online counts, greedy, ``m`` episodes of the greedy policy per
    round (the first round's policy uses the offline data alone). The tabular class (``features`` None) solves the
    empirical model exactly (:func:`theory_rl.algorithms.lcb.empirical_vi`); a linear class runs
    :func:`count_fqi`."""
    _check_lock(mdp, offline, T, m)
    rng = as_generator(seed)
    sampler = RolloutSampler(mdp)
    online = CountsBuilder(mdp.S, mdp.A, horizon=mdp.horizon)
    values = np.empty(T)
    success, res = -1, None
    for t in range(T):
        pooled = offline + online.to_counts() if online.n else offline
        if features is None:
            res = empirical_vi(pooled)
        else:
            Q = count_fqi(pooled, features)
            res = Result(policy=np.argmax(Q, axis=-1), Q=Q, method="fqi")
        values[t] = planning.expected_return(mdp, res.policy)
        if success < 0 and values[t] >= target:
            success = t * m
        online.add_rollouts(sampler.sample(res.policy, m, rng))
    return HACResult(policy=res.policy, V=planning.evaluate(mdp, res.policy), Q=res.Q, method="hy_q",
                     constants={"m": m, "T": T, "target": target}, values=values,
                     episodes=m * np.arange(1, T + 1), episodes_to_success=success)  # fmt: skip


def _actor_features(features) -> np.ndarray:
    phi = as_float_array(features, "features", ndim=3)
    if 0 in phi.shape:
        raise ValueError(f"features has shape {phi.shape}, expected (S, A, d) with S, A, d >= 1")
    return phi


def loglinear_policy(theta, features) -> np.ndarray:
    """The log-linear policy ``pi_h(a|s) ∝ exp(theta_h^T phi(s, a))`` (Zhou et al. 2023, Sec. 5; Agarwal et al.
    2021, Sec. 6). ``theta`` ``(H, d)``, ``features`` ``(S, A, d)``; returns ``(H, S, A)`` probabilities."""
    phi = _actor_features(features)
    th = as_float_array(theta, "theta", ndim=2)
    if th.shape[1] != phi.shape[2]:
        raise ValueError(f"theta has shape {th.shape}, expected (H, d) with d = {phi.shape[2]} (the features)")
    check_table("the policy", (th.shape[0],) + phi.shape[:2], ("H", "S", "A"))
    logits = np.einsum("sad,hd->hsa", phi, th)
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


@validate_params(lam=Real(0.0, None), actions=Options(("data", "policy")))
def hnpg_direction(policy, f, features, off_counts, on_counts, *, lam: float = 1.0,
                   actions: str = "data") -> np.ndarray:  # fmt: skip
    """HNPG's natural-gradient direction (Zhou et al. 2023, Alg. 3): the compatible-feature least-squares fit

        w_h = argmin_w  Ehat_off (w . phibar_h - fbar_h)^2  +  lambda Ehat_on (w . phibar_h - fbar_h)^2,

    with ``phibar_h(s, a) = grad_theta_h log pi_h(a|s) = phi(s, a) - E_{b~pi_h} phi(s, b)`` (the log-linear
    score) and ``fbar_h = f_h - E_{pi_h} f_h`` (the critic's advantage). Solved in closed form: with pair weights
    ``rho_h = N_off,h / n_off,h + lambda N_on,h / n_on,h`` (each loss a mean over its own samples, as in
    :func:`hpe`), ``w_h = F_h^+ g_h``, ``F_h = sum rho phibar phibar^T`` (the hybrid Fisher matrix, offline and
    online states) and ``g_h = sum rho phibar fbar`` (the plain policy-gradient direction); ``^+`` is the
    pseudo-inverse (the minimum-norm minimiser).

    Parameters
    ----------
    policy : (H, S, A) probabilities, the current ``pi_theta``
    f : (H, S, A), the critic (:func:`hpe`)
    features : (S, A, d), the actor's features
    off_counts : (H, S, A) or None
        Offline visit counts (``nu`` up to scale); None is on-policy NPG (``lambda`` then ignored).
    on_counts : (H, S, A), on-policy visit counts (``d^pi`` up to scale)
    lam : float >= 0, the on-policy weight (1 in the paper's code)
    actions : {"data", "policy"}
        "data": the pairs as sampled (the paper's ``Ehat``); "policy": the state weights of the data with the
        action drawn from ``pi_h`` in expectation (``rho_h(s) pi_h(a|s)``, the Fisher matrix of Kakade 2001 at the
        data's states; ours, a variance reduction the paper leaves open). With one-hot features, "policy" (or
        "data" when every action of each weighted state has weight) gives ``w_h(s, .) = f_h(s, .) + c_s``: the
        tabular softmax NPG step of :func:`softmax_npg_update`.
    """
    phi = _actor_features(features)
    S, A, d = phi.shape
    pi = as_probabilities(policy, S, A, np.shape(policy)[0] if np.ndim(policy) == 3 else None, name="policy")
    if pi.ndim != 3:
        raise ValueError("policy must be (H, S, A) probabilities")
    H = pi.shape[0]
    f = as_float_array(f, "f", shape=(H, S, A))
    N_on = as_float_array(on_counts, "on_counts", shape=(H, S, A))
    N_off = None if off_counts is None else as_float_array(off_counts, "off_counts", shape=(H, S, A))
    if np.any(N_on < 0) or (N_off is not None and np.any(N_off < 0)):
        raise ValueError("on_counts and off_counts must be >= 0")

    def per_step_mean(N):
        n = N.sum(axis=(1, 2), keepdims=True)
        return np.where(n > 0, N / np.where(n > 0, n, 1.0), 0.0)

    use_off = N_off is not None and N_off.sum() > 0
    rho = (lam if use_off else 1.0) * per_step_mean(N_on)
    if use_off:
        rho = rho + per_step_mean(N_off)
    if actions == "policy":
        rho = rho.sum(axis=2, keepdims=True) * pi
    w = np.zeros((H, d))
    for h in range(H):
        phibar = phi - np.einsum("sa,sad->sd", pi[h], phi)[:, None, :]
        fbar = f[h] - (pi[h] * f[h]).sum(axis=1, keepdims=True)
        X, r = phibar.reshape(S * A, d), rho[h].reshape(-1)
        F = X.T @ (r[:, None] * X)
        g = X.T @ (r * fbar.reshape(-1))
        w[h] = np.linalg.pinv(F, rcond=1e-12, hermitian=True) @ g
    return w


@validate_params(mdp=Instance(TabularMDP), offline=Instance(CountDataset, optional=True), lam=Real(0.0, None),
                 T=Integer(1), m=Integer(1), eta=Real(0.0, None, closed="neither", optional=True),
                 target=Real(0.0, None), actions=Options(("data", "policy")))  # fmt: skip
def hnpg(mdp: TabularMDP, offline: CountDataset | None, T: int, *, features, seed: SeedLike, lam: float = 1.0,
         m: int = 10, eta: float | None = None, target: float = 0.9, critic_features=None,
         actions: str = "data") -> HACResult:  # fmt: skip
    """HNPG (Zhou et al. 2023, Alg. 3) with the log-linear actor ``pi_theta`` of :func:`loglinear_policy`.

    ``theta_1 = 0`` (uniform); each iteration: ``m`` on-policy episodes of ``pi_theta``, the hybrid critic
    :func:`hpe` (class ``critic_features``, None = tabular), the direction :func:`hnpg_direction`, and
    ``theta <- theta + eta w``. ``offline=None`` is on-policy NPG with the same actor. ``eta`` defaults to
    :func:`hac_step_size`. The iterates' exact returns are recorded in ``values``; ``constants["theta"]`` holds
    the last parameters (a tuple of rows).
    """
    phi = _actor_features(features)
    if phi.shape[:2] != (mdp.S, mdp.A):
        raise ValueError(f"features has shape {phi.shape}, expected (S, A, d) = ({mdp.S}, {mdp.A}, d)")
    critic_features = _features(critic_features, mdp.S, mdp.A, "critic_features")
    _check_lock(mdp, offline, T, m)
    H, S, A = mdp.horizon, mdp.S, mdp.A
    eta = hac_step_size(T, A, H) if eta is None else eta
    rng = as_generator(seed)
    sampler = RolloutSampler(mdp)
    theta = np.zeros((H, phi.shape[2]))
    off_counts = None if offline is None else np.asarray(offline.counts, dtype=np.float64)
    values, f, pi = np.empty(T), np.zeros((H, S, A)), loglinear_policy(theta, phi)
    success = -1
    for t in range(T):
        values[t] = planning.expected_return(mdp, pi)
        if success < 0 and values[t] >= target:
            success = t * m
        N_on, Y = mc_statistics(sampler.sample(pi, m, rng), S, A)
        f = hpe(pi, offline, N_on, Y, lam=lam, features=critic_features)
        theta = theta + eta * hnpg_direction(pi, f, phi, off_counts, N_on, lam=lam, actions=actions)
        pi = loglinear_policy(theta, phi)
    method = "npg_loglinear" if offline is None else "hnpg"
    return HACResult(policy=pi, V=planning.evaluate(mdp, pi), Q=f, method=method,
                     constants={"lam": lam, "eta": eta, "m": m, "T": T, "target": target, "actions": actions,
                                "theta": tuple(map(tuple, theta.tolist()))},
                     values=values, episodes=m * np.arange(1, T + 1), episodes_to_success=success)  # fmt: skip
