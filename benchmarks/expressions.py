"""Large expressions: time per node to parse and build, to evaluate, and to sweep.

For the sum of N terms sin(x_i*x_{i+1}), prints per-node times of each stage, the end to
end time (parse + build + reverse sweep, the figure issue 7 targets at 1 µs) and the
reverse sweep's time as a ratio to one function evaluation on the same graph (the
cheap-gradient principle says a small constant). ``BACKPROP_PURE_PYTHON=1`` measures the
pure-Python engine instead of the compiled core.

    python benchmarks/expressions.py                 # N = 1e3, 1e4, 1e5, 1e6
    python benchmarks/expressions.py --sizes 1000    # a quick run
"""

from __future__ import annotations

import argparse
import gc
import time

from backprop.engine.accel import CORE
from backprop.engine.evaluate import evaluate
from backprop.engine.modes.reverse import reverse
from backprop.frontends.parse import parse


def sum_of_sines(n: int) -> str:
    return "+".join(f"sin(x_{i}*x_{i+1})" for i in range(n))


def measure(n: int) -> dict:
    text = sum_of_sines(n)
    gc.collect()
    start = time.perf_counter()
    graph = parse(text, max_nodes=10**9, max_depth=10**9)
    parsed = time.perf_counter()
    point = dict.fromkeys(graph.input_names, 0.5)
    named = time.perf_counter()
    values = evaluate(graph, point)
    evaluated = time.perf_counter()
    reverse(graph, values, graph.inputs)
    swept = time.perf_counter()
    nodes = len(graph)
    return {
        "terms": n, "nodes": nodes,
        "parse_build_us_per_node": (parsed - start) / nodes * 1e6,
        "evaluate_us_per_node": (evaluated - named) / nodes * 1e6,
        "reverse_us_per_node": (swept - evaluated) / nodes * 1e6,
        "end_to_end_us_per_node": ((parsed - start) + (swept - evaluated)) / nodes * 1e6,
        "sweep_over_evaluation": (swept - evaluated) / (evaluated - named),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    args = parser.parse_args()
    header = ("terms", "nodes", "parse+build", "evaluate", "reverse", "end to end",
              "reverse/eval")
    engine = "compiled core" if CORE is not None else "pure Python"
    print(f"per node, in microseconds (sum of N terms sin(x_i*x_{{i+1}}); {engine})")
    print("".join(f"{h:>14}" for h in header))
    for n in (int(float(s)) for s in args.sizes.split(",")):
        row = measure(n)
        print(f"{row['terms']:>14,}{row['nodes']:>14,}{row['parse_build_us_per_node']:>14.3f}"
              f"{row['evaluate_us_per_node']:>14.3f}{row['reverse_us_per_node']:>14.3f}"
              f"{row['end_to_end_us_per_node']:>14.3f}{row['sweep_over_evaluation']:>14.2f}",
              flush=True)


if __name__ == "__main__":
    main()
