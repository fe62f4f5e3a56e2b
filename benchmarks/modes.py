"""Per-mode figures: time per edge per sweep (forward, reverse) and time per path (paths).

Each figure is a measured time (the median of a few runs, ``time.perf_counter``) divided by
an exact count from the same run: forward and reverse visit ``partial_evals`` edges over
``sweeps`` sweeps; path enumeration walks ``paths`` paths whose lengths add up to the
"edge visits" column (``plan().edge_visits``).

    python benchmarks/modes.py            # a few sizes per family, well under a minute
    python benchmarks/modes.py --quick    # tiny sizes (the smoke test)
"""

from __future__ import annotations

import argparse
import gc

from backprop.jobs.compare import median_time, random_point
from backprop.engine.evaluate import evaluate
from backprop.frontends.families import FAMILIES
from backprop.engine.modes import run_mode
from backprop.engine.modes.paths import plan
from backprop.frontends.parse import parse

HEADER = ("graph", "nodes", "mode", "sweeps", "paths", "edge visits", "ms", "ns/edge/sweep",
          "µs/sweep", "µs/path")


def sum_of_sines(n: int):
    return parse("+".join(f"sin(x_{i}*x_{i + 1})" for i in range(n)), max_nodes=10**8)


def cases(quick: bool):
    """(label, graph, modes): forward and reverse where both are affordable, paths on layered."""
    if quick:
        yield "sum of sines, n=10", sum_of_sines(10), ("forward", "reverse", "paths")
        yield "chain, depth 100", FAMILIES["chain"].build(100), ("forward", "reverse", "paths")
        yield "layered, L=6", FAMILIES["layered"].build(6), ("forward", "reverse", "paths")
        return
    for n in (100, 1000):
        yield f"sum of sines, n={n}", sum_of_sines(n), ("forward", "reverse", "paths")
    yield "sum of sines, n=100000", sum_of_sines(100_000), ("reverse",)
    for depth in (1_000, 100_000):
        yield f"chain, depth {depth}", FAMILIES["chain"].build(depth), \
            ("forward", "reverse", "paths")
    yield "mlp, width 16", FAMILIES["mlp"].build(16), ("forward", "reverse")
    for layers in (10, 14, 17):
        yield f"layered, L={layers}", FAMILIES["layered"].build(layers), \
            ("forward", "reverse", "paths")


def measure(graph, modes, repeats: int):
    values = evaluate(graph, random_point(graph, 0))
    wrt = list(graph.inputs)
    for mode in modes:
        gc.collect()
        options = {"max_paths": 10**8} if mode == "paths" else {}
        result, timing = median_time(lambda: run_mode(mode, graph, values, wrt, **options),
                                     repeats, budget=2.0)
        counts = result.counts
        seconds = timing.seconds
        row = {"mode": mode, "sweeps": counts.sweeps, "paths": counts.paths,
               "visits": counts.partial_evals, "ms": seconds * 1e3}
        if mode == "paths":  # every path visits its edges; partials are cached per edge
            row["visits"] = plan(graph, wrt).edge_visits
            row["per_path_us"] = seconds / counts.paths * 1e6 if counts.paths else None
        else:
            row["per_edge_ns"] = seconds / max(counts.partial_evals, 1) * 1e9
            row["per_sweep_us"] = seconds / max(counts.sweeps, 1) * 1e6
        yield row


def _cell(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    widths = (24, 9, 8, 7, 9, 13, 10, 15, 12, 10)
    print("time per edge per sweep (forward, reverse) and per path (paths); medians of "
          f"up to {args.repeats} runs")
    print("".join(f"{h:>{w}}" if k else f"{h:<{w}}" for k, (h, w) in
                  enumerate(zip(HEADER, widths))))
    for label, graph, modes in cases(args.quick):
        for row in measure(graph, modes, args.repeats):
            cells = [label, _cell(len(graph)), row["mode"], _cell(row["sweeps"]),
                     _cell(row["paths"]), _cell(row["visits"]), _cell(row["ms"], 2),
                     _cell(row.get("per_edge_ns")), _cell(row.get("per_sweep_us")),
                     _cell(row.get("per_path_us"), 3)]
            print("".join(f"{c:>{w}}" if k else f"{c:<{w}}" for k, (c, w) in
                          enumerate(zip(cells, widths))), flush=True)


if __name__ == "__main__":
    main()
