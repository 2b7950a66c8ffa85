"""Sparse construction of the structured generators: time against the non-zeros, and against the dense form.

RiverSwim, the gridworld and the combination lock with ``sparse=True`` (issue 15, item 6) are built in time linear
in the non-zeros: the nanoseconds per non-zero should stay flat as S grows 100-fold. At the smallest size the dense
construction is timed in the same run and the ratio dense / sparse printed (above 1: sparse faster). Build times
include the MDP's own validation (canonical CSR, row sums).

    python -m benchmarks.sparse_generators [--repeats 3] [--max-states 1000000]
"""

from __future__ import annotations

import argparse

from benchmarks._timing import median_time
from theory_rl import generators


def cases(max_states: int):
    """(name, size label, sparse builder, dense builder or None) at sizes up to ``max_states`` states."""
    sides = [s for s in (32, 100, 316, 1000) if s * s <= max_states]
    lengths = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= max_states]
    for n in lengths:
        yield ("river_swim", f"S={n:,}", lambda n=n: generators.river_swim(n, sparse=True),
               (lambda n=n: generators.river_swim(n, sparse=False)) if n == lengths[0] else None)  # fmt: skip
    for s in sides:
        yield ("gridworld", f"{s}x{s} (S={s * s:,})", lambda s=s: generators.gridworld(s, s, sparse=True),
               (lambda s=s: generators.gridworld(s, s, sparse=False)) if s == sides[0] else None)  # fmt: skip
    for h in (100, 10_000, 1_000_000):
        if 2 * h <= max_states:
            yield ("combination_lock", f"H={h:,}, A=10",
                   lambda h=h: generators.combination_lock(h, 10, seed=0, sparse=True),
                   (lambda h=h: generators.combination_lock(h, 10, seed=0, sparse=False)) if h == 100 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-states", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"sparse generators; median of {args.repeats} runs")
    print(f"{'generator':<18} {'size':<22} {'non-zeros':>12} {'sparse':>10} {'ns/nnz':>8}   dense / sparse")
    for name, size, sparse, dense in cases(args.max_states):
        nnz = sparse().transitions.nnz
        t = median_time(sparse, args.repeats)
        ratio = ""
        if dense is not None:
            d = dense()
            assert (d.P == sparse().P.reshape(d.P.shape)).all()  # the same MDP, bit for bit
            ratio = f"{median_time(dense, args.repeats) / t:.2f}x"
        print(f"{name:<18} {size:<22} {nnz:>12,} {t * 1e3:>8.1f}ms {t / nnz * 1e9:>8.1f}   {ratio}")


if __name__ == "__main__":
    main()
