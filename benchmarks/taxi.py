"""Gymnasium's Taxi through the toy-text importer: theory_rl's planning against QuantEcon's sparse solver, same run.

Taxi-v4 (500 states, 6 actions, 0.2% non-zero; one absorbing state added for termination) is imported with
:func:`theory_rl.interop.from_toy_text`; QuantEcon's ``DiscreteDP`` gets the same model in its sparse state-action
pair form, with the original rewards (-10..20). Both solve at ``gamma`` (0.99 by default) and their values are
checked to agree (ours mapped back through the returned reward map) before anything is timed. Prints the median
wall time of each solver and the ratio QuantEcon / theory_rl (above 1 means theory_rl is faster). Issue 15's target:
theory_rl at least as fast as QuantEcon's sparse solver.

``theory_rl solve`` is whatever :func:`theory_rl.planning.solve` does on this branch (the method it reports is
printed), on both storages of the import (``sparse=False`` and ``sparse=True``, the automatic choice for Taxi).

    python -m benchmarks.taxi [--repeats 5] [--gamma 0.99]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import scipy.sparse

from benchmarks._timing import median_time
from theory_rl import planning
from theory_rl.interop import from_toy_text


def quantecon_problem(imp, gamma: float):
    """QuantEcon's DiscreteDP of the imported MDP: sparse state-action pair form, rewards in the original units."""
    from quantecon.markov import DiscreteDP

    mdp = imp.mdp
    S, A = mdp.S, mdp.A
    kernel = mdp.transitions if getattr(mdp, "is_sparse", False) else np.asarray(mdp.P).reshape(S * A, S)
    Q = scipy.sparse.csr_matrix(kernel)
    R = imp.reward_map.from_unit(np.asarray(mdp.R).reshape(-1))
    s_idx, a_idx = (x.ravel() for x in np.indices((S, A)))
    return DiscreteDP(R, Q, gamma, s_idx, a_idx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args()

    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        env = gym.make("Taxi-v4")
    imports = {flag: from_toy_text(env, gamma=args.gamma, sparse=flag) for flag in (False, True)}
    imp = imports[False]
    ddp = quantecon_problem(imp, args.gamma)
    v_pi = ddp.solve(method="policy_iteration").v
    v_mpi = ddp.solve(method="modified_policy_iteration", epsilon=args.tol).v
    scale = np.abs(v_pi).max()
    assert np.abs(v_mpi - v_pi).max() < args.tol * scale
    for other in imports.values():  # both storages agree with QuantEcon before anything is timed
        V = other.values(planning.solve(other.mdp).V)
        assert np.abs(V - v_pi).max() < 1e-8 * scale, np.abs(V - v_pi).max()
        V_vi = other.values(planning.value_iteration(other.mdp, tol=args.tol).V)
        assert np.abs(V_vi - v_pi).max() < args.tol * other.reward_map.scale  # VI's bound, in Taxi's units

    print(f"Taxi-v4 via from_toy_text: S={imp.mdp.S} A={imp.mdp.A} gamma={args.gamma}, {imp.meta['nonzeros']} "
          f"non-zeros; reward map {imp.reward_map}; median of {args.repeats} runs")  # fmt: skip
    base = {
        "QuantEcon sparse PI": lambda: ddp.solve(method="policy_iteration"),
        "QuantEcon sparse MPI": lambda: ddp.solve(method="modified_policy_iteration", epsilon=args.tol),
    }
    t_base = {name: median_time(fn, args.repeats) for name, fn in base.items()}
    print(f"{'solver':<44} {'time':>10}   ratio QuantEcon / theory_rl (above 1: theory_rl faster)")
    for name, t in t_base.items():
        print(f"{name + (f' eps={args.tol:g}' if 'MPI' in name else ''):<44} {t * 1e3:>8.2f}ms")
    for flag, other in imports.items():
        mdp = other.mdp
        storage = "sparse" if mdp.is_sparse else "dense"
        method = planning.solve(mdp).method
        rows = {f"solve [{method}]": lambda m=mdp: planning.solve(m),
                f"value_iteration tol={args.tol:g}": lambda m=mdp: planning.value_iteration(m, tol=args.tol)}
        for name, fn in rows.items():
            t = median_time(fn, args.repeats)
            ratios = ", ".join(f"{t_base[b] / t:.3f}x vs {b.removeprefix('QuantEcon sparse ')}" for b in t_base)
            print(f"{f'theory_rl {storage} {name}':<44} {t * 1e3:>8.2f}ms   {ratios}")


if __name__ == "__main__":
    main()
