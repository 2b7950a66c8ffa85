"""Exact planning speed against plain numpy baselines measured in the same run.

Instance: a dense random MDP with S=500, A=10, gamma=0.99 (issue 2). Prints the median wall time of each solver
and the ratio baseline / theory_rl (above 1 means theory_rl is faster).

    python -m benchmarks.planning [--repeats 15]
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks._timing import median_time
from theory_rl import generators, planning


def plain_policy_iteration(P: np.ndarray, R: np.ndarray, gamma: float) -> np.ndarray:
    """Textbook Howard policy iteration in plain numpy, starting from the greedy policy of R."""
    S, A = R.shape
    P2, rows = P.reshape(S * A, S), np.arange(S)
    actions = R.argmax(axis=1)
    while True:
        V = np.linalg.solve(np.eye(S) - gamma * P[rows, actions], R[rows, actions])
        Q = R + gamma * (P2 @ V).reshape(S, A)
        new = Q.argmax(axis=1)
        if np.all(Q[rows, new] <= Q[rows, actions] + 1e-12 * (1 + np.abs(V).max())):
            return V
        actions = new


def plain_value_iteration(P: np.ndarray, R: np.ndarray, gamma: float, tol: float) -> np.ndarray:
    """Textbook value iteration in plain numpy with the stopping rule tol (1 - gamma) / (2 gamma)."""
    S, A = R.shape
    P2 = P.reshape(S * A, S)
    V = np.zeros(S)
    threshold = tol * (1 - gamma) / (2 * gamma)
    while True:
        V_new = (R + gamma * (P2 @ V).reshape(S, A)).max(axis=1)
        if np.abs(V_new - V).max() < threshold:
            return V_new
        V = V_new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--S", type=int, default=500)
    parser.add_argument("--A", type=int, default=10)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args()

    mdp = generators.garnet(args.S, args.A, args.S, gamma=args.gamma, seed=0)
    P, R = np.array(mdp.P), np.array(mdp.R)
    exact = planning.policy_iteration(mdp).V
    assert np.abs(plain_policy_iteration(P, R, args.gamma) - exact).max() < 1e-8
    assert np.abs(plain_value_iteration(P, R, args.gamma, args.tol) - exact).max() < args.tol

    rows = [
        ("policy_iteration", lambda: planning.policy_iteration(mdp), lambda: plain_policy_iteration(P, R, args.gamma)),
        (
            "value_iteration",
            lambda: planning.value_iteration(mdp, tol=args.tol),
            lambda: plain_value_iteration(P, R, args.gamma, args.tol),
        ),
    ]
    print(f"dense random MDP S={args.S} A={args.A} gamma={args.gamma}; median of {args.repeats} runs")
    print(f"{'solver':<18} {'theory_rl':>12} {'plain numpy':>12} {'ratio':>8}")
    for name, ours, baseline in rows:
        t_ours, t_base = median_time(ours, args.repeats), median_time(baseline, args.repeats)
        print(f"{name:<18} {t_ours * 1e3:>10.2f}ms {t_base * 1e3:>10.2f}ms {t_base / t_ours:>7.2f}x")


if __name__ == "__main__":
    main()
