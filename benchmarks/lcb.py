"""LCB experiment cells against a plain numpy/Python VI-LCB, measured in the same run.

The cell is the MDP cell of experiments.lcb_rates: draw N i.i.d. samples from mu on an under-covered MDP, run
VI-LCB (no split), evaluate the policy exactly. The baseline does the same the way one writes it without the toolkit:
each sample drawn with ``rng.choice`` (pair, then next state, then reward), counts accumulated sample by sample, and
VI-LCB as a plain numpy loop. Both are checked to return the same policy from the same counts.

    python -m benchmarks.lcb [--repeats 5]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from benchmarks._timing import median_time
from theory_rl import planning
from theory_rl.algorithms import lcb
from theory_rl.data import CountDataset, sample_iid_counts
from theory_rl.generators import concentrability as instances

GAMMA, CONSTANT, SCALE = 0.9, 0.5, 0.1


def plain_counts(mdp, mu, n, rng):
    """Counts, transition counts and reward sums from n samples drawn one at a time."""
    S, A = mdp.S, mdp.A
    N, C, Rsum = np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A))
    flat = mu.reshape(-1)
    for _ in range(n):
        pair = rng.choice(S * A, p=flat)
        s, a = divmod(int(pair), A)
        s_next = rng.choice(S, p=mdp.P[s, a])
        N[s, a] += 1
        C[s, a, s_next] += 1
        Rsum[s, a] += float(rng.random() < mdp.R[s, a])
    return N, C, Rsum


def plain_vi_lcb(N, C, Rsum, gamma, n):
    """VI-LCB without splitting (Rashidinejad et al. Alg. 3's loop) in plain numpy, same conventions as ours."""
    S, A = N.shape
    seen = N > 0
    P = np.where(seen[..., None], C / np.maximum(N, 1)[..., None], 1.0 / S)
    r = np.where(seen, Rsum / np.maximum(N, 1), 0.0)
    L = CONSTANT * math.log(2 * S * A * n)  # delta = 1/n
    b = SCALE / (1 - gamma) * np.sqrt(L / np.maximum(N, 1))
    T = max(1, math.ceil(math.log(max(n, 2)) / (1 - gamma)))
    V, pi = np.zeros(S), N.argmax(axis=1)
    for _ in range(T):
        Q = r - b + gamma * P @ V
        Q = np.where(seen, Q, np.minimum(Q, 0.0))
        better = Q.max(axis=1) > V
        V = np.where(better, Q.max(axis=1), V)
        pi = np.where(better, Q.argmax(axis=1), pi)
    return pi


def ours(mdp, mu, n, seed):
    data = sample_iid_counts(mdp, mu, n, seed)
    pi = lcb.vi_lcb(data, split=False, constant=CONSTANT, penalty_scale=SCALE).policy
    return planning.expected_return(mdp, pi)


def baseline(mdp, mu, n, seed):
    rng = np.random.default_rng(seed)
    pi = plain_vi_lcb(*plain_counts(mdp, mu, n, rng), GAMMA, n)
    return planning.expected_return(mdp, pi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    mdp, mu = instances.undercovered_mdp(5, 2.0, 0.1, gamma=GAMMA, seed=0)

    # Same counts in, same policy out: the two VI-LCB implementations agree.
    data = sample_iid_counts(mdp, mu, 3000, 1)
    same = CountDataset(data.counts, data.transition_counts, data.reward_sums, mdp.S, mdp.A, gamma=GAMMA)
    ref = lcb.vi_lcb(same, split=False, constant=CONSTANT, penalty_scale=SCALE).policy
    assert np.array_equal(ref, plain_vi_lcb(data.counts, data.transition_counts, data.reward_sums, GAMMA, 3000))

    print(f"VI-LCB cell (sample N, plan, evaluate) on a 5-state MDP; median of {args.repeats} runs")
    print(f"{'N':>6} {'theory_rl':>12} {'plain':>12} {'ratio':>8}")
    for n in (200, 1600, 6400):
        t_ours = median_time(lambda n=n: ours(mdp, mu, n, 7), args.repeats)
        t_base = median_time(lambda n=n: baseline(mdp, mu, n, 7), args.repeats)
        print(f"{n:>6} {t_ours * 1e3:>10.2f}ms {t_base * 1e3:>10.2f}ms {t_base / t_ours:>7.1f}x")


if __name__ == "__main__":
    main()
