"""Large expressions: time per node to tokenize, to parse and build, and to sweep.

For the sum of N terms sin(x_i*x_{i+1}), prints per-node times of each stage and the
reverse sweep's time as a ratio to one function evaluation on the same graph (the
cheap-gradient principle says a small constant).

    python benchmarks/expressions.py                 # N = 1e3, 1e4, 1e5, 1e6
    python benchmarks/expressions.py --sizes 1000    # a quick run
"""

from __future__ import annotations

import argparse
import gc
import time

from backprop.evaluate import evaluate
from backprop.modes.reverse import reverse
from backprop.parse import parse, tokenize


def sum_of_sines(n: int) -> str:
    return "+".join(f"sin(x_{i}*x_{i+1})" for i in range(n))


def measure(n: int) -> dict:
    text = sum_of_sines(n)
    gc.collect()
    start = time.perf_counter()
    tokenize(text)
    tokenized = time.perf_counter()
    graph = parse(text, max_nodes=10**8, max_depth=10**8)
    parsed = time.perf_counter()
    point = {name: 0.5 for name in graph.input_names}
    values = evaluate(graph, point)
    evaluated = time.perf_counter()
    reverse(graph, values, graph.inputs)
    swept = time.perf_counter()
    nodes = len(graph)
    return {
        "terms": n, "nodes": nodes,
        "tokenize_us_per_node": (tokenized - start) / nodes * 1e6,
        # parse() tokenizes again, so that share is taken out of parse+build
        "parse_build_us_per_node": ((parsed - tokenized) - (tokenized - start)) / nodes * 1e6,
        "evaluate_us_per_node": (evaluated - parsed) / nodes * 1e6,
        "reverse_us_per_node": (swept - evaluated) / nodes * 1e6,
        "sweep_over_evaluation": (swept - evaluated) / (evaluated - parsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    args = parser.parse_args()
    header = ("terms", "nodes", "tokenize", "parse+build", "evaluate", "reverse",
              "reverse/eval")
    print("per node, in microseconds (sum of N terms sin(x_i*x_{i+1}))")
    print("".join(f"{h:>14}" for h in header))
    for n in (int(float(s)) for s in args.sizes.split(",")):
        row = measure(n)
        print(f"{row['terms']:>14,}{row['nodes']:>14,}{row['tokenize_us_per_node']:>14.2f}"
              f"{row['parse_build_us_per_node']:>14.2f}{row['evaluate_us_per_node']:>14.2f}"
              f"{row['reverse_us_per_node']:>14.2f}{row['sweep_over_evaluation']:>14.2f}",
              flush=True)


if __name__ == "__main__":
    main()
