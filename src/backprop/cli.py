"""The command line: parse arguments, call the job, render, map errors to exit codes.

Only the CLI layer imports typer: this module, cli_options.py (every option, declared
once) and cli_errors.py (how a failure is told). Each command makes one call to its job
(jobs/), which returns immutable data, and one to its renderer (render/); ``main`` turns
every error into one line on stderr and its exit code, once.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from backprop import __version__  # noqa: E402
from backprop.cli_errors import (ClickException, UsageError, check_point_words,  # noqa: E402
                                 fail, is_write_error, output_failed, usage_hint)
from backprop.errors import (EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERRUPTED,  # noqa: E402
                             BackpropError, InputError, NonFiniteError)
from backprop.cli_options import (AtAnnotates, AtOrFormulas, AtOrRandom, AtPoint,  # noqa: E402
                                  COUNT, CsvModes, CsvSizes, Expr, Exprs, GradExprs, JsonOut,
                                  Mode, ProgramListing, ProgramPicture, Repeats, Strict, Wrt,
                                  WrtPaths, with_limits)
from backprop.cli_options import Format, NoCheck, PairingMode, Vector  # noqa: E402
from backprop.cli_options import DirectionSeed, NetHessian, NetHvp, NetVector  # noqa: E402
from backprop.cli_options import Order  # noqa: E402
from backprop.frontends.load import read_graph  # noqa: E402
from backprop.limits import Limits, nonnegative  # noqa: E402

app = typer.Typer(
    name="backprop",
    help="A gradient calculator: forward mode, path enumeration and reverse mode on one "
         "computational graph, checked against SymPy.",
    add_completion=True,  # --install-completion, --show-completion (typer's)
    suggest_commands=False,  # usage_hint suggests a misspelt command's name, once
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    """Print the version and the engine that runs: the compiled core or pure Python."""
    if value:
        from backprop.engine.accel import engine
        print(f"backprop {__version__} ({engine()})")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """backprop: see, check and teach derivatives."""


GRAD_EPILOG = """\b
Examples:
  backprop grad "sin(2*x+y)"                       # formulas
  backprop grad "sin(2*x+y)" --at x=1,y=2          # numbers, checked by SymPy
  backprop grad "a = 2*x + y; z = sin(a)" --json   # named intermediates, JSON
  backprop grad "x*y" "x+y" "sin(x)" --at x=1,y=2  # a Jacobian
  backprop grad -e "-x^2" --at x=3                 # an expression starting with -
  echo "x^3" | backprop grad - --at x=2            # read standard input
"""


@app.command(epilog=GRAD_EPILOG)
@with_limits("max_nodes", "max_depth", "max_paths", "max_ops", "max_bytes", "check_timeout")
def grad(
    exprs: GradExprs = None,
    expr: Expr = None,
    at: AtPoint = None,
    wrt: Wrt = None,
    mode: Mode = "reverse",
    json_out: JsonOut = False,
    out_format: Optional[str] = typer.Option(
        None, "--format", help="text | json | markdown (a CI job summary); --json is json."),
    explain: bool = typer.Option(False, "--explain", help="Write every step: the forward "
                                 "sweep, each local partial, the mode's sweep, the total."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the SymPy check."),
    rtol: float = typer.Option(1e-9, "--rtol", help="Relative tolerance of the check."),
    atol: float = typer.Option(1e-12, "--atol", help="Absolute tolerance of the check."),
    strict: Strict = False,
    program: ProgramListing = False,
    **limits,
) -> None:
    """Differentiate EXPR: gradient (or Jacobian), each mode's cost, and a SymPy check."""
    if program:
        return _grad_program(exprs, expr, at, wrt, mode, json_out, out_format, explain,
                             Limits(**limits))
    if at and not no_check:  # SymPy loads on the other core meanwhile
        from backprop.check import sympy_side

        sympy_side.start()
    from backprop.jobs.grad import grad as run_grad

    nonnegative("--rtol", rtol)
    nonnegative("--atol", atol)
    limits = Limits(**limits)
    output = _text_json_markdown(out_format, json_out)
    report = run_grad(read_graph(exprs, expr, limits), at=at, wrt=wrt, mode=mode,
                      run_check=not no_check, rtol=rtol, atol=atol, limits=limits,
                      strict=strict, picture=output == "markdown", explain=explain)
    from backprop.render.show import show_grad

    show_grad(report, output)
    _exit_for(report)


def _text_json_markdown(out_format: str | None, json_out: bool) -> str:
    """The format of a report that reads as text, JSON or Markdown (--format, --json)."""
    output = (out_format or ("json" if json_out else "text")).strip().lower()
    if output not in ("text", "json", "markdown"):
        raise InputError(f"unknown format {out_format!r}", hint="formats: text, json, markdown")
    if json_out and output != "json":
        raise InputError(f"--json and --format {output} ask for two formats", hint="give one")
    return output


def _grad_program(exprs, expr, at, wrt, mode, json_out, out_format, explain, limits) -> None:
    """``grad --program``: the gradient program, listed or as JSON."""
    output = (out_format or ("json" if json_out else "text")).strip().lower()
    if output not in ("text", "json"):
        raise InputError(f"--program prints text or json, not {output!r}", hint="--json")
    if at or explain:
        raise InputError(f"--program prints the program, not {'--at' if at else '--explain'}",
                         hint="its values at a point: backprop graph EXPR --program --at ...")
    from backprop.jobs.grad import grad_program
    from backprop.render.program_view import show_program

    show_program(grad_program(read_graph(exprs, expr, limits), wrt=wrt, mode=mode), output)


def _exit_for(report) -> None:
    """After the whole result is printed: exit 1 if the check disagrees, 4 for --strict."""
    if report.check is not None and report.check.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    if report.strict_error is not None:
        raise NonFiniteError(report.strict_error)


GRAPH_EPILOG = """\b
Examples:
  backprop graph "sin(x^2)+cos(x^2)"                           # a jaxpr-like listing
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 --format tree  # values and gradients
  backprop graph "sin(2*x+y)" --at x=1,y=2 --format dot        # Graphviz source
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 -o g.svg       # drawn by Graphviz's dot
  backprop graph "a = 2*x + y; z = sin(a)" --format mermaid    # for Markdown
"""


@app.command("graph", epilog=GRAPH_EPILOG)
@with_limits("max_nodes", "max_depth", "max_bytes")
def graph_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtAnnotates = None,
    out_format: Optional[str] = typer.Option(
        None, "--format", help="text | tree | dot | mermaid | svg | png (default: from the "
                               "-o file's suffix, else text)."),
    output: Optional[str] = typer.Option(None, "-o", "--output",
                                         help="Write to FILE instead of standard output."),
    program: ProgramPicture = False,
    **limits,
) -> None:
    """Show the computational graph: a listing, a tree, or a picture (DOT, Mermaid, SVG, PNG).

    Each node shows its op and, with --at, its value and gradient (d output / d node); each
    edge its local partial. svg and png need Graphviz's dot and stop at 5,000 nodes.
    """
    from backprop.jobs import picture

    fmt = picture.format_for(out_format, output)
    limits = Limits(**limits)
    if output is not None:
        from backprop.outfile import check_writable

        check_writable(output)  # before any work, and nothing is written anywhere else
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise InputError("png is binary and standard output is a terminal",
                         hint="write it to a file: -o graph.png")
    drawing = picture.graph_picture(read_graph(exprs, expr, limits), at, fmt, program)
    from backprop.render.picture_text import show_graph

    show_graph(drawing, fmt, output)


NET_EPILOG = """\b
Examples:
  backprop net examples/seed004.yaml                 # loss, gradients, cost, SymPy check
  backprop net examples/seed004.yaml --param w5      # one weight and its paths to L
  backprop net examples/two_two_two.yaml --mode all  # forward, paths and reverse side by side
  backprop net examples/mnist_shaped.yaml            # 784-128-10: array engine, VJPs
  backprop net examples/xor.yaml --full --json       # every entry, as JSON
  backprop net examples/xor.yaml --hvp               # H v along a seeded random direction
  backprop net examples/seed004.yaml --hessian       # the full Hessian over the parameters
"""


@app.command("net", epilog=NET_EPILOG)
@with_limits("max_values", "max_units", "max_jvps", "max_nodes", "max_depth", "max_paths",
             "max_bytes", "check_timeout")
def net_command(
    spec: str = typer.Argument(..., metavar="SPEC.yaml", help="A network spec (docs/spec.md)."),
    mode: Mode = "reverse",
    param: Optional[str] = typer.Option(None, "--param", help="Show only these parameters: "
                                        "w5, layer1.W, layer1.W[0][1], ..."),
    full: bool = typer.Option(False, "--full", help="Every weight entry, not per-layer "
                                                    "summaries."),
    json_out: JsonOut = False,
    engine: str = typer.Option("auto", "--engine", help="auto | scalar | array."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the check."),
    strict: Strict = False,
    hvp: NetHvp = False,
    hessian: NetHessian = False,
    vector: NetVector = None,
    direction_seed: DirectionSeed = None,
    **limits,
) -> None:
    """Differentiate a network spec: the loss, every parameter's gradient, each mode's cost,
    and a check (SymPy on small nets, finite differences on large ones); with --hvp, the
    loss's Hessian times a direction (--hessian: the whole Hessian, small nets)."""
    from backprop.jobs.net import run_net

    limits = Limits(**limits)
    from backprop.jobs.net_hvp import request_for

    report = run_net(spec, mode=mode, params=param, engine=engine, run_check=not no_check,
                     limits=limits, strict=strict,
                     hvp=request_for(hvp, hessian, vector, direction_seed))
    from backprop.render.net_view import net_document, render_net
    from backprop.render.show import show

    show("json" if json_out else "text", report, document=lambda r: net_document(r, full),
         view=lambda r, console: render_net(r, console, full))
    if report.hvp is not None and report.hvp.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    _exit_for(report)


# -- paths, compare, scale (issue 3) ---------------------------------------------------------

def _one_format(json_out: bool, csv_out: bool) -> str:
    if json_out and csv_out:
        raise InputError("--json and --csv ask for two formats", hint="give one")
    return "json" if json_out else "csv" if csv_out else "text"


PATHS_EPILOG = """\b
Examples:
  backprop paths "sin(2*x+y)"                                   # each path, its partials, the sum
  backprop paths "sin(2*x+y)" --at x=1,y=2                      # numbers
  # seed 003: 32 paths, 32*x**31
  backprop paths "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
  backprop paths "sin(x^2)+cos(x^2)" --at x=1 --limit 1 --json  # the first path, JSON
"""


@app.command("paths", epilog=PATHS_EPILOG)
@with_limits("max_ops", "max_nodes", "max_depth", "max_paths", "max_bytes", "check_timeout")
def paths_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrFormulas = None,
    wrt: WrtPaths = None,
    limit: int = typer.Option(1_000, "--limit", **COUNT,
                              help="List the first K paths (the sum still covers every path)."),
    json_out: JsonOut = False,
    **limits,
) -> None:
    """List every path from an input to the output: its nodes, its local partials and their
    product; then the sum over the paths, which is the gradient."""
    from backprop.jobs.paths import list_paths

    nonnegative("--limit", limit)
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    listing = list_paths(graph, at=at, wrt=wrt, limit=limit, limits=limits)
    from backprop.render import compare_json, compare_view
    from backprop.render.show import show

    show("json" if json_out else "text", listing, document=compare_json.paths_document,
          view=compare_view.render_paths)


COMPARE_EPILOG = """\b
Examples:
  backprop compare "sin(2*x+y)" --at x=1,y=2   # reverse wins: 1 sweep
  backprop compare "x*y" "x+y" "sin(x)" "x-y"  # a 4x2 Jacobian: forward wins
  # seed 003: 32 paths; forward and reverse tie at 1 sweep
  backprop compare "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
  backprop compare "sin(2*x+y)" --csv          # one CSV row per mode
"""


@app.command("compare", epilog=COMPARE_EPILOG)
@with_limits("max_forward_sweeps", "max_ops", "max_nodes", "max_depth", "max_paths",
             "max_bytes")
def compare_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrRandom = None,
    wrt: Wrt = None,
    json_out: JsonOut = False,
    csv_out: CsvModes = False,
    repeats: Repeats = 5,
    seed: int = typer.Option(0, "--seed", help="Seed of the random point used without --at."),
    order: Order = 1,
    **limits,
) -> None:
    """Run every mode on EXPR: its exact counts, its measured time and both relative to one
    function evaluation; then a verdict naming the cheapest mode and why. --order 2: the
    same for the Hessian's four mode pairings."""
    from backprop.jobs import compare, pairings
    from backprop.render import compare_json as js, compare_view as view
    from backprop.render.show import show

    pairings.check_order(order, "compare")
    output = _one_format(json_out, csv_out)
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    job, document, csv, render = (
        (pairings.compare_pairings, js.pairings_document, js.pairings_csv,
         view.render_pairings) if order == 2 else
        (compare.compare, js.compare_document, js.compare_csv, view.render_compare))
    result = job(graph, at=at, wrt=wrt, seed=seed, repeats=repeats, limits=limits)
    show(output, result, document=document, csv=csv, view=render)


SCALE_EPILOG = """\b
Families: layered (seed 003, 2^L paths), chain (nested sin), wide (sum of
x_i*y_i), fanout (x^1 + ... + x^n), mlp (3 dense tanh layers of width n),
decay (s_k = 0.5*s_(k-1) + x_k*x_(k+1), n inputs).
Examples:
  backprop scale layered --sizes 1:16           # paths double per layer
  backprop scale wide --sizes 10:100:10         # forward pays a sweep per input
  backprop scale mlp --sizes 1,2,4,8 --csv      # CSV: one row per size and mode
  backprop scale decay --order 2 --max-ops 1e9  # the Hessian's pairings as n grows
"""


@app.command("scale", epilog=SCALE_EPILOG)
@with_limits("max_forward_sweeps", "max_ops", "max_nodes", "max_paths")
def scale_command(
    family: str = typer.Argument(..., metavar="FAMILY",
                                 help="layered | chain | wide | fanout | mlp | decay."),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="A:B, A:B:STEP or 1,2,4 "
                                                              "(default: the family's)."),
    json_out: JsonOut = False,
    csv_out: CsvSizes = False,
    repeats: Repeats = 3,
    seed: int = typer.Option(0, "--seed", help="Seed of the random point."),
    order: Order = 1,
    **limits,
) -> None:
    """Build a graph family at several sizes: each mode's counts and time per size, the
    fitted growth (linear, polynomial or exponential) and a chart. --order 2: the Hessian's
    four pairings instead, on a family whose inputs grow (wide, mlp, decay)."""
    from backprop.jobs import pairings, scale
    from backprop.render import compare_json as js, compare_view as view
    from backprop.render.show import show

    pairings.check_order(order, "scale")
    output = _one_format(json_out, csv_out)
    limits = Limits(**limits)
    job, document, csv, render = (
        (scale.scale_pairings, js.scale_pairings_document, js.scale_pairings_csv,
         view.render_scale_pairings) if order == 2 else
        (scale.scale, js.scale_document, js.scale_csv, view.render_scale))
    result = job(family, sizes, limits=limits, repeats=repeats, seed=seed)
    show(output, result, document=document, csv=csv, view=render)


HESSIAN_EPILOG = """\b
Examples:
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2                   # forward-over-reverse
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2 --mode all        # the four pairings' costs
  backprop hessian "x^2*y + sin(y)"                                # formulas
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2 --vector x=1,y=0  # H v in one sweep
"""


@app.command("hessian", epilog=HESSIAN_EPILOG)
@with_limits("max_nodes", "max_depth", "max_ops", "max_bytes", "check_timeout")
def hessian_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrFormulas = None,
    mode: PairingMode = "fwd-rev",
    vector: Vector = None,
    json_out: JsonOut = False,
    out_format: Format = None,
    no_check: NoCheck = False,
    strict: Strict = False,
    explain: bool = typer.Option(False, "--explain", help="Write every step of the first "
                                 "pairing's second sweep over the gradient program."),
    **limits,
) -> None:
    """The Hessian of a one-output EXPR by composing two sweeps (forward-over-reverse and
    the other three pairings): each pairing's exact cost, symmetry, H v, a SymPy check."""
    output = _text_json_markdown(out_format, json_out)
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    from backprop.jobs.hessian import hessian

    report = hessian(graph, at=at, mode=mode, vector=vector, run_check=not no_check,
                     limits=limits, strict=strict, explain=explain)
    from backprop.render.show import show_hessian

    show_hessian(report, output)
    if report.hvp is not None and report.hvp.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    _exit_for(report)


COMPLETE_VAR = "_BACKPROP_COMPLETE"  # set by the script --install-completion installs


def root_command():
    """The click command of the app; each command's summary in ``backprop --help`` is its
    docstring's first sentence, whole (click would cut it with '...' to fit one line)."""
    for info in app.registered_commands:
        if info.short_help is None and info.callback.__doc__:
            first = info.callback.__doc__.strip().split("\n\n")[0]
            info.short_help = " ".join(first.split(". ")[0].split()).rstrip(".") + "."
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map every outcome to an exit code, once."""
    code = _run(list(sys.argv[1:] if argv is None else argv))
    try:
        sys.stdout.flush()  # what is still buffered fails here, not at interpreter exit
    except OSError as error:
        if not is_write_error(error):
            raise
        return output_failed(error)
    return code


def _run(argv: list[str]) -> int:
    debug = "--debug" in argv
    if debug:  # accepted anywhere on the line, as every command's --help says
        argv = ["--debug"] + [a for a in argv if a != "--debug"]
    command = root_command()
    if os.environ.get(COMPLETE_VAR):  # the shell asks for completions (typer's protocol)
        try:
            command.main(argv, prog_name="backprop", complete_var=COMPLETE_VAR)
        except SystemExit as done:
            return done.code or 0
    if argv in ([], ["--debug"]):  # no command: help on stderr, a usage error (clig.dev)
        root = command.context_class(command, info_name="backprop",
                                     help_option_names=["-h", "--help"])
        print(command.get_help(root), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        check_point_words(argv)
        # click's own main() would turn a closed stdout into exit 1: invoke it directly.
        with command.make_context("backprop", argv) as ctx:
            command.invoke(ctx)
        return 0
    except SystemExit as done:  # rich's console exits 1 on a broken pipe
        if isinstance(done.__context__, BrokenPipeError):
            return output_failed(done.__context__)
        raise
    except typer.Exit as done:  # typer.Exit, --help, --version
        if done.exit_code == EXIT_INTERRUPTED:
            print("backprop: interrupted", file=sys.stderr)
        return done.exit_code
    except UsageError as error:  # a bad option, a missing value
        return fail(InputError(error.format_message(), hint=usage_hint(error, argv)))
    except ClickException as error:
        return fail(InputError(error.format_message()))
    except (KeyboardInterrupt, typer.Abort):
        print("backprop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BackpropError as error:
        if debug:
            raise
        return fail(error)
    except Exception as error:
        if isinstance(error, OSError) and is_write_error(error):
            return output_failed(error)
        if debug:  # a bug: still one line, unless --debug
            raise
        print(f"backprop: internal error: {type(error).__name__}: {error} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 70


def run() -> None:
    sys.exit(main())
