"""A short demo: generate an MDP, solve it three independent ways, print the certificates.

    python -m theory_rl [--S 200] [--A 5] [--gamma 0.95] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from theory_rl import generators, planning


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m theory_rl", description=__doc__.splitlines()[0])
    parser.add_argument("--S", type=int, default=200, help="number of states (default 200)")
    parser.add_argument("--A", type=int, default=5, help="number of actions (default 5)")
    parser.add_argument("--branching", type=int, default=10, help="next states per (s, a) (default 10)")
    parser.add_argument("--gamma", type=float, default=0.95, help="discount factor (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    args = parser.parse_args(argv)

    mdp = generators.garnet(args.S, args.A, args.branching, gamma=args.gamma, seed=args.seed)
    print(f"{mdp}: a Garnet MDP with branching factor {args.branching}, seed {args.seed}\n")
    results = []
    for solver in (planning.value_iteration, planning.policy_iteration, planning.optimal_values_lp):
        t0 = time.perf_counter()
        res = solver(mdp)
        results.append(res)
        print(f"  {res.certificate()}  [{(time.perf_counter() - t0) * 1e3:.1f} ms]")
    vi, pi, lp = results
    gaps = np.abs(vi.V - pi.V).max(), np.abs(lp.V - pi.V).max()
    print(f"\nmax |V_vi - V_pi| = {gaps[0]:.2e}   max |V_lp - V_pi| = {gaps[1]:.2e}")
    J_star, J_vi = planning.expected_return(mdp, pi.policy), planning.expected_return(mdp, vi.policy)
    print(f"J(pi*) = {J_star:.10f}; value iteration's greedy policy loses {J_star - J_vi:.2e} (tol 1e-8)")


if __name__ == "__main__":
    main()
