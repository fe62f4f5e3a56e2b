"""One benchmark run: backprop side by side with what people would use instead.

    python benchmarks/run.py             # the full run (under 10 minutes on 2 cores)
    python benchmarks/run.py --quick     # tiny sizes, for the test suite's smoke run

Prints one table per section, each figure next to its reference and the target ratio, and
writes every figure to benchmarks/results.json (``--out``). Peers (micrograd, PyTorch, JAX) come
from the optional ``bench`` extra (``pip install -e ".[bench]"``); a missing peer is
skipped with a note. docs/performance.md explains the sections and shows a real run.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from backprop.engine.accel import CORE  # noqa: E402
from backprop.engine.evaluate import evaluate  # noqa: E402
from backprop.engine.modes.forward import forward  # noqa: E402
from backprop.engine.modes import reverse as reverse_module  # noqa: E402
from backprop.engine.modes.reverse import reverse  # noqa: E402
from backprop.frontends.parse import parse  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS: dict[str, list[dict]] = {}


def timed(fn, repeat: int = 1):
    """Median wall time of ``fn()`` over ``repeat`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def table(section: str, header: list[str], rows: list[list]) -> None:
    """Print a section as aligned columns and keep its rows for the JSON file."""
    RESULTS[section] = [dict(zip(header, row)) for row in rows]
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]
    print(f"\n== {section}")
    for r, row in enumerate(cells):
        print("  ".join(v.rjust(w) if r and isinstance(raw, (int, float)) else v.ljust(w)
                        for v, w, raw in zip(row, widths, ([None] * len(row) if not r
                                                             else rows[r - 1]))))
        if r == 0:
            print("  ".join("-" * w for w in widths))


def _cell(value) -> str:
    if isinstance(value, float):
        if value == 0 or math.isnan(value):
            return f"{value:g}"
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(ratio: float, target: float, lower_is_better: bool = True) -> str:
    ok = ratio <= target if lower_is_better else ratio >= target
    return ("meets" if ok else "MISSES") + f" {'<=' if lower_is_better else '>='} {target:g}"


# -- start-up -------------------------------------------------------------------------------

def process_time(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


SYMPY_SCRIPT = ("import sympy; x, y = sympy.symbols('x y'); f = sympy.sin(2*x + y); "
                "print([sympy.diff(f, v).evalf(subs={x: 1, y: 2}) for v in (x, y)])")

# The floor of any typer CLI: a one-command typer app that parses the same command line and
# prints with rich. Importing typer is no longer that floor: typer 0.29 and later build a
# pydantic validator for every parameter they parse, so pydantic loads on the first option.
TYPER_FLOOR = """import typer, rich.console


def grad(expr: str, at: str = typer.Option(None, "--at"), no_check: bool = False):
    {body}


typer.run(grad)
"""
ARGS = ["sin(2*x+y)", "--at", "x=1,y=2"]


def startup(repeat: int) -> None:
    ours = [str(BIN / "backprop"), "grad", *ARGS]
    floor = [sys.executable, "-c", TYPER_FLOOR.format(body="rich.console.Console().print(expr)")]
    with_sympy = [sys.executable, "-c", TYPER_FLOOR.format(body=SYMPY_SCRIPT)]
    rows = []
    for name, argv, reference_name, reference, target in [
        ("grad --no-check", ours + ["--no-check"], "a one-command typer app",
         floor + ARGS + ["--no-check"], 1.5),
        ("grad (with the SymPy check)", ours, "plain SymPy diff script",
         [sys.executable, "-c", SYMPY_SCRIPT], 1.2),
        # the floor of any CLI: the same script run as a one-command typer app
        ("grad (with the SymPy check)", ours, "SymPy script as a typer app",
         with_sympy + ARGS, 1.2),
    ]:
        mine, theirs = process_time(argv, repeat), process_time(reference, repeat)
        rows.append([name, mine, reference_name, theirs, mine / theirs,
                     verdict(mine / theirs, target)])
    table("start-up (whole process, median seconds)",
          ["command", "seconds", "reference", "ref seconds", "ratio", "target"], rows)


# -- large expressions ----------------------------------------------------------------------

def sum_of_sines(n: int) -> str:
    return "+".join(f"sin(x_{i}*x_{i+1})" for i in range(n))


def chain(n: int) -> str:
    return "sin(" * n + "x" + ")" * n


# A child process measures its own high-water mark (VmHWM: ru_maxrss would carry over the
# parent's peak across fork and exec), before and after parse + evaluate + reverse.
MEMORY_PROBE = """
import sys
sys.path.insert(0, {here!r})
from run import sum_of_sines, chain
from backprop.engine.evaluate import evaluate
from backprop.engine.modes.reverse import reverse
from backprop.frontends.parse import parse

def high_water_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

text = {family}({n})
base = high_water_kb()
graph = parse(text, max_nodes=10**9, max_depth=10**9)
del text
values = evaluate(graph, dict.fromkeys(graph.input_names, 0.5))
reverse(graph, values, graph.inputs)
print((high_water_kb() - base) * 1024 / len(graph))
"""


def bytes_per_node(family: str, n: int) -> float:
    code = MEMORY_PROBE.format(here=str(HERE), family=family, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return float(out.strip().splitlines()[-1])


def expressions(sizes: list[int]) -> None:
    rows = []
    for family, build in (("sum", sum_of_sines), ("chain", chain)):
        for n in sizes:
            text = build(n)
            parse_s, graph = timed(lambda: parse(text, max_nodes=10**9, max_depth=10**9))
            point = dict.fromkeys(graph.input_names, 0.5)
            eval_s, values = timed(lambda: evaluate(graph, point), 3 if n < 10**6 else 1)
            sweep_s, _ = timed(lambda: reverse(graph, values, graph.inputs),
                               3 if n < 10**6 else 1)
            nodes = len(graph)
            end_to_end = (parse_s + sweep_s) / nodes * 1e6
            memory = bytes_per_node(build.__name__, n)
            rows.append([family, n, nodes, parse_s / nodes * 1e6, sweep_s / nodes * 1e6,
                         end_to_end, sweep_s / eval_s, memory,
                         "; ".join((verdict(end_to_end, 1.0), verdict(sweep_s / eval_s, 3.0),
                                    verdict(memory, 300))) if n >= 10**6 else ""])
            del graph, values, text
    table("large expressions (per node; sum = sin(x_i*x_{i+1}) terms, chain = nested sin)",
          ["graph", "N", "nodes", "parse+build us", "reverse us", "end-to-end us",
           "sweep/eval", "peak bytes", "targets at 1e6: 1 us, 3x eval, 300 bytes"], rows)


# -- peers on the same graph ----------------------------------------------------------------

def python_reference(n: int) -> float:
    """A plain-Python evaluation of the sum: the cost of one function evaluation."""
    xs = [0.5] * (n + 1)
    seconds, _ = timed(lambda: sum(math.sin(xs[i] * xs[i + 1]) for i in range(n)), 3)
    return seconds


def ours_end_to_end(text: str) -> float:
    def job():
        graph = parse(text, max_nodes=10**9, max_depth=10**9)
        values = evaluate(graph, dict.fromkeys(graph.input_names, 0.5))
        return reverse(graph, values, graph.inputs)

    return timed(job)[0]


def micrograd_relu_sum(n: int) -> float | None:
    """micrograd 0.1.0 has no sin: the peer graph is the sum of relu(x_i*x_{i+1})."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return None
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))

    def job():
        xs = [Value(0.5) for _ in range(n + 1)]
        total = (xs[0] * xs[1]).relu()
        for i in range(1, n):
            total = total + (xs[i] * xs[i + 1]).relu()
        total.backward()
        return xs[0].grad

    return timed(job)[0]


def torch_scalar_sum(n: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None

    def job():
        xs = [torch.tensor(0.5, dtype=torch.float64, requires_grad=True) for _ in range(n + 1)]
        total = torch.sin(xs[0] * xs[1])
        for i in range(1, n):
            total = total + torch.sin(xs[i] * xs[i + 1])
        total.backward()
        return xs[0].grad

    return timed(job)[0]


def sympy_every_variable(n: int, sample: int) -> tuple[float, int]:
    """SymPy's diff for every variable + lambdify, timed on a sample and scaled to all."""
    import sympy

    xs = sympy.symbols(f"x_0:{n + 1}", real=True)
    f = sympy.Add(*(sympy.sin(xs[i] * xs[i + 1]) for i in range(n)))
    chosen = xs[:: max(1, len(xs) // sample)][:sample]

    def job():
        return [sympy.lambdify(xs, sympy.diff(f, v)) for v in chosen]

    seconds, _ = timed(job)
    return seconds * len(xs) / len(chosen), len(chosen)


def peers(sizes: list[int], sympy_sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        reference = python_reference(n)
        sine = ours_end_to_end(sum_of_sines(n))
        relu = ours_end_to_end("+".join(f"relu(x_{i}*x_{i+1})" for i in range(n)))
        mg = micrograd_relu_sum(n)
        th = torch_scalar_sum(n)
        rows.append([n, "plain Python f(x)", reference, "", ""])
        rows.append([n, "backprop sin-sum", sine, "", f"{sine / reference:.0f}x f(x)"])
        if th is None:
            rows.append([n, "PyTorch scalar ops", "skipped", "", "pip install torch==2.13.0"])
        else:
            rows.append([n, "PyTorch scalar ops", th, th / sine, ""])
        rows.append([n, "backprop relu-sum", relu, "", ""])
        if mg is None:
            rows.append([n, "micrograd relu-sum", "skipped", "", "pip install micrograd"])
        else:
            rows.append([n, "micrograd relu-sum", mg, mg / relu,
                         verdict(mg / relu, 10, lower_is_better=False) if n >= 10**5 else ""])
    for n in sympy_sizes:
        ours = ours_end_to_end(sum_of_sines(n))
        theirs, sampled = sympy_every_variable(n, sample=20)
        rows.append([n, f"SymPy diff+lambdify, all vars (from {sampled})", theirs,
                     theirs / ours, verdict(theirs / ours, 1000, lower_is_better=False)])
    table("peers: full gradient of the same sum (seconds; 'x ours' = their time / ours)",
          ["N", "tool", "seconds", "x ours", "note"], rows)


# -- the whole command ----------------------------------------------------------------------

def command_run(argv: list[str], stdin: Path, stdout: Path) -> float:
    """Wall time of one run of ``argv`` reading ``stdin`` and writing ``stdout`` (files)."""
    with stdin.open("rb") as source, stdout.open("wb") as sink:
        start = time.perf_counter()
        subprocess.run(argv, stdin=source, stdout=sink, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def peak_mb(argv: list[str], stdin: Path) -> float | None:
    """The command's peak resident memory in MB, from /usr/bin/time (a small parent: a child
    of this big process would inherit its high-water mark); None without it."""
    if not Path("/usr/bin/time").exists():
        return None
    with stdin.open("rb") as source:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdin=source,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = proc.stderr.strip().splitlines()
    return int(lines[-1]) / 1024 if proc.returncode == 0 and lines else None


def peer_available(module: str) -> bool:
    """Whether ``module`` imports in this interpreter (without importing it here)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def whole_command(n: int, repeat: int, work: Path) -> None:
    """``backprop grad -`` on the sum of n terms (stdin, --no-check, at a point), as JSON and
    as text, against parse + evaluate + reverse in this process, and against PyTorch and JAX
    whole processes that compute the same gradient (vectorized) and write it as JSON; runs
    interleaved."""
    text = sum_of_sines(n)
    source, sink = work / "sum.txt", work / "out"
    source.write_text(text + "\n")
    ours = [str(BIN / "backprop"), "grad", "-", "--at", "*=0.5", "--no-check"]
    views = {"backprop grad - --json": ours + ["--json"], "backprop grad - (text)": ours}
    for name, module in (("PyTorch", "torch"), ("JAX", "jax")):
        script = HERE / "peers" / f"sum_{module}.py"
        if peer_available(module):
            views[f"{name} (vectorized, JSON out)"] = [sys.executable, str(script), str(n)]
    times: dict[str, list[float]] = {"engine": [], **{view: [] for view in views}}
    for _ in range(repeat):
        times["engine"].append(ours_end_to_end(text))
        for view, argv in views.items():
            times[view].append(command_run(argv, source, sink))
    engine = statistics.median(times["engine"])
    ours_json = statistics.median(times["backprop grad - --json"])
    rows = [["parse + evaluate + reverse, in process", engine, "", 1.0, "", ""]]
    for view, argv in views.items():
        seconds = statistics.median(times[view])
        memory = peak_mb(argv, source)
        mine = view.startswith("backprop")
        rows.append([view + " (whole process)", seconds, "-" if memory is None else memory,
                     seconds / engine, ours_json / seconds if not mine else "",
                     verdict(seconds / engine, 1.5) if mine else ""])
    for name, module in (("PyTorch", "torch"), ("JAX", "jax")):
        if not peer_available(module):
            rows.append([f"{name}: skipped", "", "", "", "", "pip install -e \".[bench]\""])
    table(f"whole command vs in-process engine and peers (sum of {n:,} terms from stdin, "
          f"--no-check; median of {repeat}, interleaved)",
          ["what", "seconds", "peak MB", "x engine", "ours (json) / peer", "target"], rows)


# -- modes ----------------------------------------------------------------------------------

def python_reverse(graph, values):
    """The pure-Python reverse sweep (forward mode has no compiled version to compare)."""
    saved, reverse_module.CORE = reverse_module.CORE, None
    try:
        return reverse(graph, values, graph.inputs)
    finally:
        reverse_module.CORE = saved


def modes(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        graph = parse(sum_of_sines(n))
        values = evaluate(graph, dict.fromkeys(graph.input_names, 0.5))
        f_s, fwd = timed(lambda: forward(graph, values, graph.inputs))
        r_s, rev = timed(lambda: python_reverse(graph, values), 3)
        c_s, _ = timed(lambda: reverse(graph, values, graph.inputs), 3)
        rows.append([len(graph.inputs), fwd.counts.sweeps, rev.counts.sweeps,
                     fwd.counts.partial_evals, rev.counts.partial_evals, f_s, r_s, f_s / r_s,
                     c_s, fwd.counts.partial_evals / graph.edge_count,
                     rev.counts.partial_evals / graph.edge_count])
    table("modes on f: R^n -> R (sum of sin(x_i*x_{i+1}); forward pays a sweep per input; "
          "times in pure Python, the compiled reverse sweep beside them)",
          ["inputs", "fwd sweeps", "rev sweeps", "fwd partials", "rev partials", "fwd s",
           "rev s", "fwd/rev time", "rev s compiled", "fwd partials/edge",
           "rev partials/edge"], rows)


def network(quick: bool) -> None:
    try:
        import network as network_bench  # benchmarks/network.py
    except ImportError:
        print("\n== networks: skipped (benchmarks/network.py not found)")
        return
    rows = network_bench.rows(quick=quick)
    table("networks: full reverse gradient vs hand-written numpy backprop",
          list(rows[0].keys()), [list(r.values()) for r in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description="backprop benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()
    quick = args.quick
    print(f"backprop benchmarks on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, engine: "
          + ("compiled core" if CORE is not None else "pure Python"))
    started = time.perf_counter()
    startup(repeat=3 if quick else 15)
    expressions([100, 1000] if quick else [10**3, 10**4, 10**5, 10**6])
    peers([100] if quick else [10**3, 10**4, 10**5], [20] if quick else [10**3, 10**4])
    network(quick)
    with tempfile.TemporaryDirectory() as work:
        whole_command(100 if quick else 10**5, 1 if quick else 5, Path(work))
    modes([10, 100] if quick else [10, 100, 1000])
    RESULTS["seconds"] = [{"total": time.perf_counter() - started}]
    Path(args.out).write_text(json.dumps(RESULTS, indent=2, default=str))
    print(f"\nfigures written to {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
