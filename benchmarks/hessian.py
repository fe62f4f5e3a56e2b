"""The four pairings' exact counts for f: R^n -> R at n = 10, 100, 1000 (a benchmark of
counts, not of time: every figure is exact and the same on every machine).

    python benchmarks/hessian.py [--sizes 10,100,1000]

f(x) = (sin x_1 + ... + sin x_n)^3, a dense Hessian. Per pairing: the gradient program's
nodes, the second mode's sweeps, and the total work (the program's ops once at the point,
then the second sweep's partials, multiplications and additions; docs/counting.md,
"Hessians"). Forward-over-reverse takes n sweeps over a program about as large as f;
forward-over-forward's work grows as n^2 (10 times the inputs, about 100 times the work).
"""

from __future__ import annotations

import argparse
import time

from backprop.frontends.load import load_graph
from backprop.jobs.hessian import PAIRINGS, hessian
from backprop.limits import Limits

UNLIMITED = Limits(max_ops=10**15, max_nodes=10**12, max_depth=10**12)


def family(n: int) -> str:
    return "s = " + " + ".join(f"sin(x{i})" for i in range(1, n + 1)) + "; f = s*s*s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    sizes = [int(n) for n in parser.parse_args().sizes.split(",")]
    print(f"{'n':>6} {'f nodes':>8} {'pairing':>8} {'program':>9} {'sweeps':>7} "
          f"{'total ops':>12} {'ops/n^2':>8} {'seconds':>8}")
    for n in sizes:
        graph = load_graph([family(n)], max_nodes=10**9, max_depth=10**9)
        for pairing in PAIRINGS:
            start = time.perf_counter()
            report = hessian(graph, at="*=0.5", mode=pairing, run_check=False,
                             limits=UNLIMITED)
            seconds = time.perf_counter() - start
            p = report.pairings[pairing]
            print(f"{n:>6} {len(graph):>8,} {pairing:>8} {p.program_nodes:>9,} "
                  f"{p.counts.sweeps:>7,} {p.total_ops:>12,} {p.total_ops / n**2:>8.2f} "
                  f"{seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
