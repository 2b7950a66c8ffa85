"""Trajectory-sampling speed: theory_rl's alias/splitmix64 kernels against baselines measured in the same run.

    python benchmarks/simulate.py [--quick] [--episodes N]

Instance: a dense Garnet MDP with S = 50, A = 5, H = 20 (issue 3). Each figure is the best of a few repeats,
single thread unless stated. Baselines:
- a per-step Python loop with ``numpy.random.Generator.choice`` (the plain way to write a simulator);
- a naive numba kernel: inverse CDF by linear search with numba's ``np.random`` (deterministic policy, states only).
Reported: transitions per second (one transition = action, reward, next state and behaviour probability written
out) and the ratios to the baselines.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from theory_rl import _kernels, data
from theory_rl.data.rollouts import transition_outputs
from theory_rl.data.tables import flatten, kernel_args, model_tables, policy_tables
from theory_rl.generators import garnet
from theory_rl.linear import LinearMDP
from theory_rl.planning import solve


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up (compilation, page faults of the outputs)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def frozen_linear_sample_episodes(lmdp, policies, n_episodes: int, seed: int, weights):
    """The vectorised numpy sampler that ``theory_rl.linear.sample_episodes`` was before issue 12 (a frozen copy:
    that name is now a deprecated alias of ``data.sample_rollouts``), the baseline of the rollout comparison.
    Its reward draw is inlined (Bernoulli: ``rng.random(n) < R``), without the old function's argument checks."""
    rng = np.random.default_rng(seed)
    pols, n = np.asarray(policies), n_episodes
    H, S = lmdp.H, lmdp.S
    idx = rng.choice(pols.shape[0], size=n, p=np.asarray(weights) / np.sum(weights))
    states = np.empty((n, H + 1), dtype=np.int64)
    actions = np.empty((n, H), dtype=np.int64)
    rewards = np.empty((n, H))
    cinit = np.cumsum(lmdp.init)
    states[:, 0] = np.minimum(np.searchsorted(cinit, rng.random(n) * cinit[-1], side="right"), S - 1)
    cP = np.cumsum(lmdp.P, axis=-1)
    for h in range(H):
        s = states[:, h]
        a = pols[idx, h, s]
        actions[:, h] = a
        rewards[:, h] = (rng.random(n) < lmdp.R[h, s, a]).astype(np.float64)
        rows = cP[h, s, a]
        u = rng.random(n)[:, None] * rows[:, -1:]
        states[:, h + 1] = np.minimum((u >= rows).sum(axis=1), S - 1)
    return states, actions, rewards


@numba.njit(cache=True)
def naive_trajectories(seed, cdf, init_cdf, actions, T, n_episodes, states_out):
    """The naive baseline of ``benchmarks/simulate.py``: inverse CDF by linear search with numba's np.random.

    ``cdf`` is ``(S, A, S)`` cumulative rows, ``actions`` a deterministic stationary policy. (Moved here from
    theory_rl._kernels in issue 16: the library never used it.)
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


def python_loop(mdp, actions, n_episodes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    S, H = mdp.S, mdp.horizon
    for _ in range(n_episodes):
        s = rng.choice(S, p=mdp.init)
        for _h in range(H):
            a = actions[s]
            _r = float(rng.random() < mdp.R[s, a])
            s = rng.choice(S, p=mdp.P[s, a])


class PerStepSampler:
    """Baseline: the per-step numpy sampler that GLOW / H2O used before the shared rollout sampler (inverse CDF
    by ``searchsorted`` on cumulative stage arrays, Bernoulli rewards, one Generator draw per step)."""

    def __init__(self, mdp) -> None:
        self.H, self.S = mdp.horizon, mdp.S
        self.cum_P = np.cumsum(mdp.stage_P, axis=-1)
        self.R = np.asarray(mdp.stage_R)
        self.cum_init = np.cumsum(mdp.init)

    def episode(self, rng, actions):
        states = [min(int(np.searchsorted(self.cum_init, rng.random(), side="right")), self.S - 1)]
        acts, rewards = [], []
        for h in range(self.H):
            x = states[-1]
            a = int(actions[h, x])
            acts.append(a)
            rewards.append(float(rng.random() < self.R[h, x, a]))
            states.append(min(int(np.searchsorted(self.cum_P[h, x, a], rng.random(), side="right")), self.S - 1))
        return states, acts, rewards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per kernel call")
    args = parser.parse_args()
    S, A, H = 50, 5, 20
    n_ep = args.episodes or (20_000 if args.quick else 500_000)
    n_py = 200 if args.quick else 2_000
    repeats = 2 if args.quick else 5

    mdp = garnet(S, A, S, seed=0, horizon=H)
    pi_det = solve(mdp).policy[0]
    pi_sto = np.full((S, A), 1.0 / A)
    tables = model_tables(mdp)
    results = {}

    def traj_outputs(shape):
        return (np.empty(shape + (H + 1,), np.int32), np.empty(shape + (H,), np.int32),
                np.empty(shape + (H,), np.float64), np.empty(shape + (H,), np.float64))  # fmt: skip

    def kernel_run(policy):
        out = traj_outputs((n_ep,))
        args_ = kernel_args(mdp, tables, policy_tables(mdp, policy))
        return lambda: _kernels.trajectories_trial(np.uint64(1), *args_, *out)

    numba.set_num_threads(1)
    results["kernel, deterministic pi"] = n_ep * H / best_time(kernel_run(pi_det), repeats)
    results["kernel, stochastic pi"] = n_ep * H / best_time(kernel_run(pi_sto), repeats)
    # The dataset-layout kernel of sample_trajectories, writing into freshly allocated arrays as the sampler does:
    # it separates the cost of first-touching ~40 bytes of new memory per transition from the sampler's own work.
    layout_args = kernel_args(mdp, tables, policy_tables(mdp, pi_det))
    results["kernel, dataset layout, fresh output arrays"] = n_ep * H / best_time(
        lambda: _kernels.transitions_trial(np.uint64(1), *layout_args, *transition_outputs((n_ep, H))), repeats
    )
    results["sample_trajectories (end to end), det. pi"] = (
        n_ep
        * H
        / best_time(lambda: data.sample_trajectories(mdp, pi_det, n_ep, seed=1), max(1, repeats // 2))
    )

    mu = np.full((H, S, A), 1.0 / (S * A))
    results["sample_iid (end to end), n per step"] = (
        n_ep * H / best_time(lambda: data.sample_iid(mdp, mu, n_ep, seed=1), max(1, repeats // 2))
    )

    cdf = np.cumsum(mdp.P, axis=-1)
    init_cdf = np.cumsum(mdp.init)
    states = np.empty((n_ep, H + 1), np.int64)
    acts = pi_det.astype(np.int64)
    results["naive numba (inverse CDF, np.random)"] = (
        n_ep
        * H
        / best_time(lambda: naive_trajectories(1, cdf, init_cdf, acts, H, n_ep, states), repeats)
    )
    results["Python loop (rng.choice per step)"] = (
        n_py * H / best_time(lambda: python_loop(mdp, pi_det, n_py, 0), 1)
    )

    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(threads)
    n_trials = threads
    out = traj_outputs((n_trials, n_ep // n_trials))
    seeds = data.trial_seeds(0, n_trials)
    batch_args = kernel_args(mdp, tables, policy_tables(mdp, pi_det))
    results[f"batched kernel, {n_trials} trials on {threads} threads"] = (
        n_trials * (n_ep // n_trials) * H
    ) / best_time(lambda: _kernels.trajectories_batch(seeds, flatten(batch_args), *out), repeats)

    numba.set_num_threads(1)
    rollout = rollout_comparison(mdp, pi_det, 200 if args.quick else 2_000, repeats)

    python_rate = results["Python loop (rng.choice per step)"]
    naive_rate = results["naive numba (inverse CDF, np.random)"]
    print(
        f"Trajectories on a dense Garnet MDP, S={S}, A={A}, H={H}, Bernoulli rewards; {n_ep} episodes per call"
    )
    print(f"{'method':48s} {'transitions/s':>14s} {'vs Python':>10s} {'vs naive numba':>15s}")
    for name, rate in results.items():
        print(f"{name:48s} {rate / 1e6:12.1f} M {rate / python_rate:9.0f}x {rate / naive_rate:14.2f}x")
    kernel = results["kernel, deterministic pi"]
    e2e = results["sample_trajectories (end to end), det. pi"]
    fresh = results["kernel, dataset layout, fresh output arrays"]
    print(f"sample_trajectories end to end / its kernel: {kernel / e2e:.2f}x slower (goal <= 1.5x, >= 50 M/s); "
          f"of which first-touch of the new output memory {kernel / fresh:.2f}x, the rest {fresh / e2e:.2f}x")
    iid = results["sample_iid (end to end), n per step"]
    print(f"sample_iid end to end / naive numba loop: {iid / naive_rate:.2f}x")
    print()
    print("The one rollout sampler against the per-module samplers it replaces (episodes/s, one thread):")
    print(f"{'method':58s} {'episodes/s':>12s} {'ratio':>8s}")
    for name, (rate, base) in rollout.items():
        print(f"{name:58s} {rate:12.0f} {rate / base:7.1f}x")


def rollout_comparison(mdp, pi_det, n_rounds: int, repeats: int) -> dict:
    """Episodes per second: RolloutSampler.episode (one per call, a Generator) against the former per-step sampler
    of GLOW (:class:`PerStepSampler`), and sample_rollouts (n at once, a mixture of 2 policies) against
    linear.sample_episodes, on the same MDP."""
    H = mdp.horizon
    actions = np.broadcast_to(pi_det, (H, mdp.S)).copy()
    glow, ours = PerStepSampler(mdp), data.RolloutSampler(mdp)

    def per_round(sampler_episode):
        def run():
            rng = np.random.default_rng(0)
            for _ in range(n_rounds):
                sampler_episode(rng)
        return run

    t_glow = best_time(per_round(lambda rng: glow.episode(rng, actions)), max(1, repeats // 2))
    t_ours = best_time(per_round(lambda rng: ours.episode(actions, rng)), max(1, repeats // 2))
    lin = LinearMDP.from_tabular(mdp)
    pols = np.stack([actions, np.roll(actions, 1, axis=1)])
    n = 20 * n_rounds
    t_lin = best_time(lambda: frozen_linear_sample_episodes(lin, pols, n, 0, [0.3, 0.7]), repeats)  # the old one
    t_mix = best_time(lambda: data.sample_rollouts(lin, list(pols), n, 0, weights=[0.3, 0.7]), repeats)
    return {
        "RolloutSampler.episode vs former glow sampler (1/call)": (n_rounds / t_ours, n_rounds / t_glow),
        "sample_rollouts vs linear.sample_episodes (mixture, n)": (n / t_mix, n / t_lin),
    }


if __name__ == "__main__":
    main()
