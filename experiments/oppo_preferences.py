"""Preferences instead of rewards (OPPO, Kang et al. 2023): Bradley-Terry reward + planning against
preference-conditioned imitation, tabular.

Instance: a garnet MDP (S = 8, A = 3, branching 3, gamma = 0.9, instance seed 0). Data: 100 trajectories of 20
steps, trajectory i from the mixture ``q_i pi* + (1 - q_i) pi_worst`` (``pi_worst = argmin_a Q*``) with
``q_i = U_i^2``, mostly poor trajectories, so that imitation of all the data follows the majority; m comparisons
of random pairs with Bradley-Terry labels ``P(i > j) = sigma(R_i - R_j)`` on the true discounted returns.
Methods: behaviour cloning of all the data; OPPO-lite
(:func:`theory_rl.algorithms.preference.preference_conditioned_imitation`, bandwidth 0.5); two-step: the BT reward
(:func:`~theory_rl.algorithms.preference.bradley_terry_reward`, features ``sum_t gamma^t e_{s_t a_t}``, l2 0.01),
scaled affinely to [0, 1] (which leaves the optimal policies unchanged), then empirical VI on the data's model.
Score ``(J - J_unif) / (J* - J_unif)``, exact; 95% CIs over the seeds. Only Bradley-Terry preferences are built:
the digest's non-Markov preference arm is not.

    python -m experiments.oppo_preferences [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment

NAME = "oppo_preferences"
METHODS = ("bc", "oppo_lite", "bt_two_step")
N_TRAJ, T = 100, 20
COMPARISONS = (25, 100, 400, 1600)
QUICK_COMPARISONS = (25, 400)


def configs(quick: bool) -> list[dict]:
    return [{"m": m} for m in (QUICK_COMPARISONS if quick else COMPARISONS)]


def cell(config: dict, seed: int) -> dict:
    from theory_rl import data, generators, planning
    from theory_rl.algorithms import lcb
    from theory_rl.algorithms import preference as pf

    mdp = generators.garnet(S=8, A=3, branching=3, gamma=0.9, seed=0)
    opt = planning.solve(mdp)
    rng = np.random.default_rng(seed)
    quality = rng.random(N_TRAJ) ** 2  # mostly poor trajectories: behaviour cloning follows the majority
    star, worst = np.eye(mdp.A)[opt.policy], np.eye(mdp.A)[np.argmin(opt.Q, axis=1)]
    pols = [q * star + (1 - q) * worst for q in quality]
    roll = data.sample_rollouts(mdp, np.stack(pols), N_TRAJ, rng, n_steps=T, weights=np.full(N_TRAJ, 1 / N_TRAJ))
    s, a = roll.states[:, :-1], roll.actions
    returns = (mdp.R[s, a] * mdp.gamma ** np.arange(T)).sum(axis=1)
    pairs = rng.integers(0, N_TRAJ, size=(config["m"], 2))
    y = (rng.random(config["m"]) < 1 / (1 + np.exp(-(returns[pairs[:, 0]] - returns[pairs[:, 1]])))).astype(float)
    n = s.size
    d = data.OfflineDataset(state=s.ravel(), action=a.ravel(), reward=np.zeros(n),
                            next_state=roll.states[:, 1:].ravel(), step=np.zeros(n, np.int64),
                            episode=np.repeat(np.arange(N_TRAJ), T), behaviour_prob=np.full(n, 1 / mdp.A),
                            S=mdp.S, A=mdp.A, gamma=mdp.gamma)
    phi = pf.trajectory_features(s, a, mdp.S, mdp.A, gamma=mdp.gamma)
    r_hat = pf.bradley_terry_reward(phi, pairs, y).reshape(mdp.S, mdp.A)
    r01 = (r_hat - r_hat.min()) / max(np.ptp(r_hat), 1e-12)
    policies = {"bc": lcb.most_played(d).policy,
                "oppo_lite": pf.preference_conditioned_imitation(s, a, mdp.S, mdp.A, pairs, y)[0],
                "bt_two_step": lcb.empirical_vi(d, known_rewards=r01).policy}
    J_star, J_unif = planning.optimal_return(mdp), planning.expected_return(mdp, np.full((mdp.S, mdp.A), 1 / mdp.A))
    return {k: (planning.expected_return(mdp, pi) - J_unif) / (J_star - J_unif) for k, pi in policies.items()}


def summarize(records: list[dict]) -> dict:
    f: dict = {}
    rows = []
    for m in sorted({r["config"]["m"] for r in records}):
        row = {"m": m}
        for k in METHODS:
            v = np.array([r["metrics"][k] for r in records if r["config"]["m"] == m])
            half = float(1.96 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
            row[k] = [float(v.mean()), half]
            f[f"m={m} {k}"] = f"{v.mean():.3f} +- {half:.3f}"
        rows.append(row)
    f["rows"] = rows
    return f


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    fig, ax = new_figure(1, 1, width=5.5, height=4.0)
    ms = [r["m"] for r in fitted["rows"]]
    for k in METHODS:
        m_, h_ = zip(*[r[k] for r in fitted["rows"]], strict=True)
        ax.errorbar(ms, m_, yerr=np.nan_to_num(h_), fmt="o-", ms=3, label=k)
    ax.set_xscale("log")
    ax.set_xlabel("number of preference comparisons")
    ax.set_ylabel("normalised return")
    ax.legend(fontsize=8)
    return {"oppo_preferences": fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=10, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())
