"""Every command-line option, declared once: shared ``Annotated`` aliases for the options
several commands take, and one alias per ``Limits`` field, added to a command by
``with_limits``. Part of the CLI layer (with cli.py, the only modules that import typer).

An option whose help says what it means for one command (``--at``: formulas, or a random
point) has one alias per meaning; its flags and type are still written here only.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Callable, List, Optional

import typer

from backprop.limits import Limits


def whole_number(value) -> int:
    """A limit: a whole number written 1000000 or 1e6 (ASCII digits only)."""
    import re
    from decimal import Decimal

    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[+-]?[0-9]+(\.[0-9]*)?([eE]\+?[0-9]{1,3})?", text):
        number = Decimal(text)
        if number == number.to_integral_value():
            return int(number)
    raise typer.BadParameter(f"{value!r} is not a whole number (write 1000000 or 1e6)")


# How an option takes a whole number: typer.Option(flag, **COUNT, help=...).
COUNT = {"parser": whole_number, "metavar": "INTEGER"}


def _count(flag: str, help: str):
    return Annotated[int, typer.Option(flag, **COUNT, help=help)]


# -- the limits: one alias per Limits field, its default the field's (docs/errors.md) ----

LIMIT_OPTIONS = {
    "max_nodes": _count("--max-nodes", "Refuse graphs with more nodes."),
    "max_depth": _count("--max-depth", "Refuse deeper graphs."),
    "max_paths": _count("--max-paths", "Refuse path enumeration over this many paths."),
    "max_ops": _count("--max-ops", "Refuse (compare: estimate, not run) forward mode or path "
                      "enumeration over this many partials + multiplications + additions."),
    "max_forward_sweeps": _count("--max-forward-sweeps", "Estimate, not run, forward mode "
                                 "over this many sweeps (one per input)."),
    "max_elimination_vertices": _count("--max-elimination-vertices", "Refuse compare "
                                       "--eliminations over this many intermediate vertices "
                                       "(the exact search tries 2^k sets)."),
    "max_values": _count("--max-values", "Refuse networks holding more numbers."),
    "max_units": _count("--max-units", "Refuse layers with more units."),
    "max_jvps": _count("--max-jvps", "Refuse forward mode over this many JVPs (array engine)."),
    "max_bytes": _count("--max-bytes", "Refuse longer input text."),
    "check_timeout": Annotated[float, typer.Option("--check-timeout",
                                                   help="Seconds the SymPy check may take.")],
}


def with_limits(*names: str) -> Callable:
    """Give a command the limit options ``names`` (in that order, after its own), each
    declared once in LIMIT_OPTIONS with the Limits field's default. The command takes them
    as ``**limits``: ``Limits(**limits)`` is the one validated record its job needs."""
    def add(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                   default=getattr(Limits, name),
                                   annotation=LIMIT_OPTIONS[name]) for name in names]
        command.__signature__ = signature.replace(parameters=own + extra)
        return command
    return add


# -- what the graph commands read --------------------------------------------------------

GradExprs = Annotated[Optional[List[str]], typer.Argument(
    metavar="EXPR...", help="Expression(s); '-' reads stdin.")]
Exprs = Annotated[Optional[List[str]], typer.Argument(
    metavar="EXPR|SPEC...", help="Expression(s) or a spec; '-' reads stdin.")]
Expr = Annotated[Optional[List[str]], typer.Option(
    "-e", "--expr", help="An expression (may start with '-').")]


def _at(help: str):
    return Annotated[Optional[List[str]], typer.Option("--at", help=help)]


AtPoint = _at("Point: x=1,y=2 (repeatable).")
AtAnnotates = _at("Point: x=1,y=2 (adds values and gradients).")
AtOrFormulas = _at("Point: x=1,y=2 (else formulas).")
AtOrRandom = _at("Point: x=1,y=2 (else a seeded random point).")


def _wrt(help: str, *aliases: str):
    return Annotated[Optional[str], typer.Option("--wrt", *aliases, help=help)]


Wrt = _wrt("Variables to differentiate by: x,y.")
WrtPaths = _wrt("Paths from these inputs only: x,y.")
WrtParams = _wrt("Show only these parameters: w5, layer1.W, layer1.W[0][1], ... (--param is "
                 "the same).", "--param")

# -- what the other commands read --------------------------------------------------------

SpecPath = Annotated[str, typer.Argument(
    metavar="SPEC.yaml", help="A network spec (docs/spec.md); '-' reads stdin.")]
Family = Annotated[str, typer.Argument(
    metavar="FAMILY", help="layered | chain | wide | fanout | mlp | decay | tridiag.")]
Sizes = Annotated[Optional[str], typer.Option(
    "--sizes", help="A:B, A:B:STEP or 1,2,4 (default: the family's).")]
Cases = Annotated[str, typer.Argument(
    metavar="CASES", help="A YAML or CSV file of claims (docs/check.md); '-' reads YAML from "
                          "stdin.")]
PathLimit = Annotated[int, typer.Option(
    "--limit", **COUNT, help="List the first K paths (the sum still covers every "
                                      "path).")]
Full = Annotated[bool, typer.Option("--full", help="Every weight entry, not per-layer "
                                                   "summaries.")]
Engine = Annotated[str, typer.Option("--engine", help="auto | scalar | array.")]

# -- how a job runs and what it prints ---------------------------------------------------

Mode = Annotated[str, typer.Option("--mode", "-m", help="forward | paths | reverse | all.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 4 on a non-finite result.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
CsvModes = Annotated[bool, typer.Option("--csv", help="Print CSV: one row per mode.")]
CsvSizes = Annotated[bool, typer.Option("--csv", help="Print CSV: one row per size and mode.")]
HessianExplain = Annotated[bool, typer.Option(
    "--explain", help="Write every step of the first pairing's second sweep over the gradient "
                      "program.")]
Explain = Annotated[bool, typer.Option(
    "--explain", help="Write every step: the forward sweep, each local partial, the mode's "
                      "sweep, the total.")]
Rtol = Annotated[float, typer.Option("--rtol", help="Relative tolerance of the check.")]
Atol = Annotated[float, typer.Option("--atol", help="Absolute tolerance of the check.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random point.")]
Repeats = Annotated[int, typer.Option(
    "--repeat", "--repeats", **COUNT,
    help="Time each mode in this many runs after a warm-up (median, best and spread shown; "
         "docs/performance.md).")]

Eliminations = Annotated[bool, typer.Option(
    "--eliminations", help="Also accumulate the Jacobian by vertex elimination: forward, "
                           "reverse, Markowitz and an optimal order (docs/sparsity.md).")]

# -- the gradient as a graph (docs/second-order.md) --------------------------------------

ProgramListing = Annotated[bool, typer.Option(
    "--program", help="Print the gradient program (the sweep as a graph) and its cost.")]
ProgramPicture = Annotated[bool, typer.Option(
    "--program", help="Show the gradient program (the reverse sweep as a graph) instead.")]

# -- hessian (issue 13) -------------------------------------------------------------------

PairingMode = Annotated[str, typer.Option(
    "--mode", "-m", help="fwd-rev | rev-rev | rev-fwd | fwd-fwd | all (second over first).")]
Vector = Annotated[Optional[List[str]], typer.Option(
    "--vector", help="Also H v in one forward-over-reverse sweep: x=1,y=0 (needs --at).")]
NoCheck = Annotated[bool, typer.Option("--no-check", help="Skip the check.")]

# -- what a command prints, and where (every command: --format, -o) ------------------------

FORMAT_NOTES = {"markdown": "markdown (a CI job summary)", "junit": "junit (a CI test report)"}


def format_option(*formats: str, note: str = ""):
    """``--format`` with the formats one command can print (the first is the default);
    ``--json`` and ``--csv`` stay as shorthands where the command has them."""
    shorthands = [f"--{f} is {f}" for f in ("json", "csv") if f in formats and not note]
    return Annotated[Optional[str], typer.Option(
        "--format", help=" | ".join(FORMAT_NOTES.get(f, f) for f in formats)
                         + (f" ({note})" if note else "") + "."
                         + (" " + ", ".join(shorthands) + "." if shorthands else ""))]


OutFile = Annotated[Optional[str], typer.Option(
    "-o", "--output", help="Write to FILE instead of standard output.")]

# -- net --hvp / --hessian (issue 13, item 4) ----------------------------------------------

NetHvp = Annotated[bool, typer.Option(
    "--hvp", help="Also H v: the loss's Hessian over the parameters times a direction v.")]
NetHessian = Annotated[bool, typer.Option(
    "--hessian", help="Also the full Hessian over the parameters (small nets), and H v.")]
NetVector = Annotated[Optional[List[str]], typer.Option(
    "--vector", help="H v's direction: w1=1,out.b[0]=0.5,*=0 (implies --hvp).")]
DirectionSeed = Annotated[Optional[int], typer.Option(
    "--direction-seed", **COUNT,
    help="H v along a seeded random unit direction (default 0; implies --hvp).")]
Order = Annotated[int, typer.Option(
    "--order", **COUNT,
    help="1: the three modes; 2: the Hessian's four pairings (fwd-rev, rev-rev, rev-fwd, "
         "fwd-fwd).")]

# -- checkpointing reverse mode (issue 14, item 4; docs/checkpointing.md) ------------------

Checkpoints = Annotated[Optional[int], typer.Option(
    "--checkpoints", **COUNT,
    help="Checkpoint reverse mode with C stored states (the inputs' included): "
         "store-all, recompute-all, every-√n and binomial, each run (compare: a table "
         "more; scale: instead, the memory-time curve for 1..C states).")]

# -- plots (issue 14, item 7; docs/plots.md) ------------------------------------------------

PlotOrOutFile = Annotated[Optional[str], typer.Option(
    "-o", "--output", metavar="FILE",
    help="Write to FILE instead of standard output; FILE.svg or FILE.png is the plot, drawn "
         "as well (png needs backprop[plot]).")]
PlotHere = Annotated[bool, typer.Option(
    "--plot", help="Also draw each mode's operations as bars in the terminal view.")]

# -- examples ---------------------------------------------------------------------------------

ExampleName = Annotated[Optional[str], typer.Argument(
    metavar="[NAME]", help="Print this example (seed004.yaml, check/exercises.yaml, ...).")]
CopyTo = Annotated[Optional[str], typer.Option(
    "--copy", metavar="DIR", help="Copy every example into DIR/examples.")]
