"""Long fuzz run of the expression parser and the spec loader.

    python tests/fuzz.py --minutes 10 [--target expr|spec|both|core]

Feeds random bytes, random token soup and mutations of valid expressions to ``parse`` and,
for the ones that parse, runs the whole ``grad`` job at a random point without the check;
feeds random bytes and mutations of the example specs (examples/*.yaml) to the spec loader
and, for the ones that load, builds their graph.
The only allowed outcomes are a result or a ``BackpropError`` (a clean, one-line error);
anything else is printed with its input and counted as a crash. ``--target core`` feeds
the same expressions to the compiled core and to the pure-Python engine: any difference
in the graph, in a value or in a gradient bit counts as a crash too. The fast part of this
runs in the suite as tests/test_properties.py and tests/test_core.py.
"""

from __future__ import annotations

import argparse
import math
import random
import struct
import sys
import time
import traceback
from pathlib import Path

from backprop.engine import evaluate as evaluate_module
from backprop.frontends import parse as parse_module
from backprop.engine.accel import CORE
from backprop.errors import BackpropError
from backprop.engine.evaluate import evaluate
from backprop.limits import Limits
from backprop.engine.modes import reverse as reverse_module
from backprop.engine.modes.reverse import reverse
from backprop.frontends.parse import parse
from backprop.jobs.grad import grad

TOKENS = ["x", "y", "w5", "2", ".5", "1e3", "1e-3", "9", "(", ")", "+", "-", "*", "/", "**",
          "^", "sin", "cos", "log", "sqrt", "abs", "relu", "sigmoid", "exp", "tanh", "asin",
          "=", ";", "\n", " ", "a", "b", ",", "e", "pi", "#", "h1", "0", "1e308", "1e999", "__",
          ".", "'", "[", "]", "{", "lambda", ":", "<", "!", "\x00", "é", "\t"]
SEEDS = ["sin(2*x+y)", "cos(x^2)", "sin(x^2)+cos(x^2)", "a = 2*x + y; z = sin(a)",
         "h1 = x*x; h2 = h1*h1; h3 = h2*h2", "-x**2", "2**-x", "log(abs(x)) / sqrt(y)"]


def random_input(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(40))).decode("latin-1")
    if kind < 0.6:
        return "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 40)))
    text = list(rng.choice(SEEDS))
    for _ in range(rng.randrange(1, 6)):
        op = rng.random()
        position = rng.randrange(len(text) + 1)
        if op < 0.4:
            text.insert(position, rng.choice(TOKENS))
        elif op < 0.7 and text:
            del text[min(position, len(text) - 1)]
        elif text:
            text[min(position, len(text) - 1)] = rng.choice(TOKENS)
    return "".join(text)


def one(text: str, rng: random.Random) -> str:
    try:
        graph = parse(text, max_nodes=10_000, max_depth=10_000)
    except BackpropError:
        return "error"
    point = ",".join(f"{n}={rng.uniform(-3, 3)!r}" for n in graph.input_names)
    try:
        grad(graph, at=point or None, mode="all", run_check=False,
             limits=Limits(max_paths=10_000))
    except BackpropError:
        return "error"
    return "ok"


POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e-300, 800.0, math.inf, -math.inf, math.nan]


def _engines(fn, pure: bool):
    """fn() on the compiled core, or with every call site seeing no core."""
    modules = (parse_module, evaluate_module, reverse_module)
    saved = [m.CORE for m in modules]
    if pure:
        for m in modules:
            m.CORE = None
    try:
        return fn()
    except BackpropError as error:
        return type(error), str(error)
    finally:
        for m, core in zip(modules, saved):
            m.CORE = core


def _bits(values) -> list:
    return [struct.pack("<d", float(v)) if not math.isnan(v) else "nan" for v in values]


def one_core(text: str, rng: random.Random) -> str:
    """The core and pure Python on one text: same graph, same values, same gradient bits."""
    def job():
        graph = parse(text, max_nodes=10_000, max_depth=10_000)
        point = {n: rng.choice(POINTS) if rng.random() < 0.5 else rng.uniform(-3, 3)
                 for n in graph.input_names}
        values = evaluate(graph, point)
        result = reverse(graph, values, graph.inputs)
        return (graph.nodes, graph.outputs, graph.output_names, _bits(values),
                [_bits(row) for row in result.jacobian], result.counts)

    state = rng.getstate()
    compiled = _engines(job, pure=False)
    rng.setstate(state)  # the same random point for both
    reference = _engines(job, pure=True)
    if compiled != reference:
        raise AssertionError(f"the core and Python differ:\n{compiled!r}\n{reference!r}")
    return "error" if len(reference) == 2 else "ok"


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEC_TOKENS = [" ", "\n", "  ", "- ", ": ", "[", "]", "{", "}", ",", "&a", "*a", "!!python/object",
               "---", "1e-3", ".nan", ".inf", "-1", "0", "999999999", "tanh", "softplusx",
               "weights", "bias", "units", "layers", "params", "w1", "\x00", "'", '"', "#",
               "version: 2", "loss: mse", "init: {scheme: he, seed: 1}", "~", "yes", "é"]


def spec_seeds() -> list[str]:
    return [p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))
            if p.stat().st_size < 20_000]


def random_spec(rng: random.Random, seeds: list[str]) -> str:
    if rng.random() < 0.15:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(60))).decode("latin-1")
    lines = rng.choice(seeds).splitlines(keepends=True)
    for _ in range(rng.randrange(1, 5)):
        k = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.35:
            lines[k] = lines[k][: rng.randrange(len(lines[k]) + 1)] + rng.choice(SPEC_TOKENS) \
                + lines[k][rng.randrange(len(lines[k]) + 1):]
        elif op < 0.6:
            del lines[k]
            if not lines:
                lines = ["a: 1\n"]
        elif op < 0.8:
            lines.insert(k, rng.choice(lines))
        else:
            lines[k] = lines[k].replace(rng.choice("0123456789"), rng.choice("0123456789-.e"))
    return "".join(lines)


def one_spec(text: str) -> str:
    from backprop.frontends.spec import build_scalar_graph, check_size, parse_yaml, resolve, \
        scalar_size, validate

    try:
        spec = validate(parse_yaml(text, "fuzz.yaml"), "fuzz.yaml")
        check_size(spec, 200_000, 10_000)
        if scalar_size(spec) <= 5_000:
            build_scalar_graph(resolve(spec))
    except BackpropError:
        return "error"
    return "ok"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=("expr", "spec", "both", "core"), default="both")
    args = parser.parse_args()
    if args.target == "core" and CORE is None:
        parser.error("the compiled core is not built (or BACKPROP_PURE_PYTHON is set)")
    check_one = one_core if args.target == "core" else one
    rng = random.Random(args.seed)
    seeds = spec_seeds()
    deadline = time.monotonic() + args.minutes * 60
    tally = {"ok": 0, "error": 0, "crash": 0}
    while time.monotonic() < deadline:
        for k in range(200):
            spec = args.target == "spec" or (args.target == "both" and k % 2)
            text = random_spec(rng, seeds) if spec else random_input(rng)
            try:
                tally[one_spec(text) if spec else check_one(text, rng)] += 1
            except Exception:  # anything but a clean error is a bug
                tally["crash"] += 1
                print(f"CRASH on {text!r}", file=sys.stderr)
                traceback.print_exc()
    total = sum(tally.values())
    print(f"fuzz ({args.target}): {total:,} inputs in {args.minutes:g} min: {tally['ok']:,} "
          f"differentiated or loaded, {tally['error']:,} clean errors, "
          f"{tally['crash']:,} crashes")
    return 1 if tally["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
