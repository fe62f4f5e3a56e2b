"""The command line: parse arguments, call the logic, render, map errors to exit codes.

Only this module imports typer. Every command returns data from the library and hands it
to a renderer; ``main`` turns every error into one line on stderr and its exit code, once.
"""

from __future__ import annotations

import difflib
import errno
import os
import sys
from dataclasses import fields
from typing import Annotated, List, Optional

import click  # typer's foundation: its exceptions are click's

# Our help is plain text (rich_markup_mode=None) and main() prints every error itself, so
# typer's rich integration (help panels, pretty tracebacks) goes unused. Blocking the two
# modules it needs keeps typer from loading them (with rich.markdown and markdown_it: 90 ms
# of every start) and from escaping "[default: ...]" as rich markup in plain help.
for _unused in ("typer.rich_utils", "rich.traceback"):
    sys.modules.setdefault(_unused, None)
import typer  # noqa: E402

from backprop import __version__  # noqa: E402
from backprop.errors import (EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_CHECK_FAILED,  # noqa: E402
                     EXIT_INTERRUPTED, BackpropError, InputError, LimitError, NonFiniteError,
                     OutputError)
from backprop.limits import Limits, nonnegative  # noqa: E402

app = typer.Typer(
    name="backprop",
    help="A gradient calculator: forward mode, path enumeration and reverse mode on one "
         "computational graph, checked against SymPy.",
    add_completion=False,
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


def read_expressions(exprs: list[str], extra: list[str], max_bytes: int) -> list[str]:
    """EXPR arguments plus -e/--expr ones; ``-`` reads standard input."""
    texts = []
    for text in list(exprs) + list(extra):
        if text == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise LimitError(f"the expression on stdin is over {max_bytes:,} bytes",
                                 hint="raise the limit with --max-bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"stdin is not UTF-8 text (byte {error.start})") from None
        elif len(text.encode("utf-8", "surrogateescape")) > max_bytes:
            raise LimitError(f"the expression is over {max_bytes:,} bytes",
                             hint="raise the limit with --max-bytes")
        texts.append(text)
    if not texts:
        raise InputError("no expression given", hint='try: backprop grad "sin(2*x+y)"')
    return texts


class WholeNumber(click.ParamType):
    """A limit: a whole number written 1000000 or 1e6 (ASCII digits only)."""

    name = "integer"

    def convert(self, value, param, ctx):
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
        self.fail(f"{value!r} is not a whole number (write 1000000 or 1e6)", param, ctx)


COUNT = WholeNumber()

# The limit options: one alias per Limits field, its default the field's (docs/errors.md).
MaxNodes = Annotated[int, typer.Option("--max-nodes", click_type=COUNT,
                                       help="Refuse graphs with more nodes.")]
MaxDepth = Annotated[int, typer.Option("--max-depth", click_type=COUNT,
                                       help="Refuse deeper graphs.")]
MaxPaths = Annotated[int, typer.Option("--max-paths", click_type=COUNT,
                                       help="Refuse path enumeration over this many paths.")]
MaxBytes = Annotated[int, typer.Option("--max-bytes", click_type=COUNT,
                                       help="Refuse longer input text.")]
CheckTimeout = Annotated[float, typer.Option("--check-timeout",
                                             help="Seconds the SymPy check may take.")]
MaxOps = Annotated[int, typer.Option(
    "--max-ops", click_type=COUNT,
    help="Refuse (compare: estimate, not run) forward mode or path enumeration over this "
         "many partials + multiplications + additions.")]
MaxForwardSweeps = Annotated[int, typer.Option(
    "--max-forward-sweeps", click_type=COUNT,
    help="Estimate, not run, forward mode over this many sweeps (one per input).")]
MaxValues = Annotated[int, typer.Option("--max-values", click_type=COUNT,
                                        help="Refuse networks holding more numbers.")]
MaxUnits = Annotated[int, typer.Option("--max-units", click_type=COUNT,
                                       help="Refuse layers with more units.")]
MaxJvps = Annotated[int, typer.Option(
    "--max-jvps", click_type=COUNT,
    help="Refuse forward mode over this many JVPs (array engine).")]


def read_graph(exprs: list[str] | None, extra: list[str] | None, limits: Limits):
    """The graph of EXPR arguments, -e/--expr ones and stdin, or of one spec, within limits."""
    from backprop.frontends.load import load_graph

    return load_graph(read_expressions(exprs or [], extra or [], limits.max_bytes),
                      max_nodes=limits.max_nodes, max_depth=limits.max_depth)


def make_limits(options: dict) -> Limits:
    """The command's limit options (pass its ``locals()``) as one validated Limits; the
    limits a command has no option for keep their defaults."""
    return Limits(**{item.name: options[item.name] for item in fields(Limits)
                     if item.name in options})


GRAD_EPILOG = """\b
Examples:
  backprop grad "sin(2*x+y)"                       formulas
  backprop grad "sin(2*x+y)" --at x=1,y=2          numbers, checked by SymPy
  backprop grad "a = 2*x + y; z = sin(a)" --json   named intermediates, JSON
  backprop grad "x*y" "x+y" "sin(x)" --at x=1,y=2  a Jacobian
  backprop grad -e "-x^2" --at x=3                 an expression starting with -
  echo "x^3" | backprop grad - --at x=2            read standard input
"""


@app.command(epilog=GRAD_EPILOG)
def grad(
    exprs: Optional[List[str]] = typer.Argument(None, metavar="EXPR...",
                                                help="Expression(s); '-' reads stdin."),
    expr: Optional[List[str]] = typer.Option(None, "-e", "--expr",
                                             help="An expression (may start with '-')."),
    at: Optional[List[str]] = typer.Option(None, "--at", help="Point: x=1,y=2 (repeatable)."),
    wrt: Optional[str] = typer.Option(None, "--wrt", help="Variables to differentiate by: x,y."),
    mode: str = typer.Option("reverse", "--mode", "-m",
                             help="forward | paths | reverse | all."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    out_format: Optional[str] = typer.Option(
        None, "--format", help="text | json | markdown (a CI job summary); --json is json."),
    explain: bool = typer.Option(False, "--explain", help="Write every step: the forward "
                                 "sweep, each local partial, the mode's sweep, the total."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the SymPy check."),
    rtol: float = typer.Option(1e-9, "--rtol", help="Relative tolerance of the check."),
    atol: float = typer.Option(1e-12, "--atol", help="Absolute tolerance of the check."),
    strict: bool = typer.Option(False, "--strict", help="Exit 4 on a non-finite result."),
    max_nodes: MaxNodes = Limits.max_nodes,
    max_depth: MaxDepth = Limits.max_depth,
    max_paths: MaxPaths = Limits.max_paths,
    max_ops: MaxOps = Limits.max_ops,
    max_bytes: MaxBytes = Limits.max_bytes,
    check_timeout: CheckTimeout = Limits.check_timeout,
) -> None:
    """Differentiate EXPR: gradient (or Jacobian), each mode's cost, and a SymPy check."""
    if at and not no_check:  # SymPy loads on the other core meanwhile
        from backprop.check import sympy_side

        sympy_side.start()
    from backprop.jobs.grad import grad as run_grad

    nonnegative("--rtol", rtol)
    nonnegative("--atol", atol)
    limits = make_limits(locals())
    output = (out_format or ("json" if json_out else "text")).strip().lower()
    if output not in ("text", "json", "markdown"):
        raise InputError(f"unknown format {out_format!r}", hint="formats: text, json, markdown")
    if json_out and output != "json":
        raise InputError(f"--json and --format {output} ask for two formats", hint="give one")
    graph = read_graph(exprs, expr, limits)
    if explain:
        from backprop.jobs.explain import check_size

        check_size(graph)  # refuse a huge explanation before any work
    report = run_grad(graph, at=at, wrt=wrt, mode=mode, run_check=not no_check, rtol=rtol,
                      atol=atol, limits=limits, strict=strict, picture=output == "markdown")
    explanation = None
    if explain:
        from backprop.jobs.explain import explain_bounded

        explanation = explain_bounded(report, limits.check_timeout)
    if output == "json":
        from backprop.render.json_doc import grad_document, write

        write(grad_document(report, explanation), sys.stdout)
    elif output == "markdown":
        from backprop.render.markdown import grad_markdown

        print(grad_markdown(report, explanation), end="")
    else:
        from backprop.render.console import make_console, render_grad

        console = make_console()
        render_grad(report, console)
        if explanation is not None:
            from backprop.render.explain_view import render_explanation

            render_explanation(explanation, console)
    _exit_for(report)


def _exit_for(report) -> None:
    """After the whole result is printed: exit 1 if the check disagrees, 4 for --strict."""
    if report.check is not None and report.check.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    if report.strict_error is not None:
        raise NonFiniteError(report.strict_error)


GRAPH_EPILOG = """\b
Examples:
  backprop graph "sin(x^2)+cos(x^2)"                        a jaxpr-like listing
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 --format tree
  backprop graph "sin(2*x+y)" --at x=1,y=2 --format dot     Graphviz source
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 -o g.svg    drawn by Graphviz's dot
  backprop graph "a = 2*x + y; z = sin(a)" --format mermaid for Markdown
"""


@app.command("graph", epilog=GRAPH_EPILOG)
def graph_command(
    exprs: Optional[List[str]] = typer.Argument(None, metavar="EXPR|SPEC...",
                                                help="Expression(s) or a spec; '-' reads stdin."),
    expr: Optional[List[str]] = typer.Option(None, "-e", "--expr",
                                             help="An expression (may start with '-')."),
    at: Optional[List[str]] = typer.Option(None, "--at", help="Point: x=1,y=2 (adds values "
                                                              "and gradients)."),
    out_format: Optional[str] = typer.Option(
        None, "--format", help="text | tree | dot | mermaid | svg | png (default: from the "
                               "-o file's suffix, else text)."),
    output: Optional[str] = typer.Option(None, "-o", "--output",
                                         help="Write to FILE instead of standard output."),
    max_nodes: MaxNodes = Limits.max_nodes,
    max_depth: MaxDepth = Limits.max_depth,
    max_bytes: MaxBytes = Limits.max_bytes,
) -> None:
    """Show the computational graph: a listing, a tree, or a picture (DOT, Mermaid, SVG, PNG).

    Each node shows its op and, with --at, its value and gradient (d output / d node); each
    edge its local partial. svg and png need Graphviz's dot and stop at 5,000 nodes.
    """
    from backprop.jobs import picture
    from backprop.frontends.point import parse_point, point_warnings

    fmt = picture.format_for(out_format, output)
    limits = make_limits(locals())
    if output is not None:
        from backprop.outfile import check_writable

        check_writable(output)  # before any work, and nothing is written anywhere else
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise InputError("png is binary and standard output is a terminal",
                         hint="write it to a file: -o graph.png")
    graph = read_graph(exprs, expr, limits)
    if fmt in ("svg", "png"):
        picture.check_drawable(graph)  # the documented size limit first, then Graphviz
        picture.find_dot()
    rows = picture.tree_rows(graph) if fmt == "tree" else None
    edges_labelled = fmt in ("dot", "mermaid", "svg", "png")  # only pictures need SymPy
    point = parse_point(at, graph)
    for warning in point_warnings(point):
        print(f"warning: {warning}", file=sys.stderr)
    drawing = picture.build(graph, point, formulas=None if edges_labelled else False)
    if fmt == "tree":
        from backprop.render.graph_view import render_tree, tree_text

        if output is None:
            from backprop.render.console import make_console

            render_tree(drawing, rows, make_console())
            return
        data: str | bytes = tree_text(drawing, rows)
    elif fmt == "text":
        data = picture.listing(graph, drawing)
    elif fmt == "dot":
        data = picture.to_dot(drawing)
    elif fmt == "mermaid":
        data = picture.to_mermaid(drawing)
    else:
        data = picture.render_with_dot(picture.to_dot(drawing), fmt)
    if output is not None:
        from backprop.outfile import write

        write(output, data)
    elif isinstance(data, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(data)


NET_EPILOG = """\b
Examples:
  backprop net examples/seed004.yaml                    loss, gradients, cost, SymPy check
  backprop net examples/seed004.yaml --param w5         one weight and its paths to L
  backprop net examples/two_two_two.yaml --mode all     forward, paths and reverse side by side
  backprop net examples/mnist_shaped.yaml               784-128-10: array engine, VJPs
  backprop net examples/xor.yaml --full --json          every entry, as JSON
"""


@app.command("net", epilog=NET_EPILOG)
def net_command(
    spec: str = typer.Argument(..., metavar="SPEC.yaml", help="A network spec (docs/spec.md)."),
    mode: str = typer.Option("reverse", "--mode", "-m", help="forward | paths | reverse | all."),
    param: Optional[str] = typer.Option(None, "--param", help="Show only these parameters: "
                                        "w5, layer1.W, layer1.W[0][1], ..."),
    full: bool = typer.Option(False, "--full", help="Every weight entry, not per-layer "
                                                    "summaries."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    engine: str = typer.Option("auto", "--engine", help="auto | scalar | array."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the check."),
    strict: bool = typer.Option(False, "--strict", help="Exit 4 on a non-finite result."),
    max_values: MaxValues = Limits.max_values,
    max_units: MaxUnits = Limits.max_units,
    max_jvps: MaxJvps = Limits.max_jvps,
    max_nodes: MaxNodes = Limits.max_nodes,
    max_depth: MaxDepth = Limits.max_depth,
    max_paths: MaxPaths = Limits.max_paths,
    max_bytes: MaxBytes = Limits.max_bytes,
    check_timeout: CheckTimeout = Limits.check_timeout,
) -> None:
    """Differentiate a network spec: the loss, every parameter's gradient, each mode's cost,
    and a check (SymPy on small nets, finite differences on large ones)."""
    from backprop.jobs.net import run_net

    limits = make_limits(locals())
    report = run_net(spec, mode=mode, params=param, engine=engine, run_check=not no_check,
                     limits=limits, strict=strict)
    if json_out:
        from backprop.render.json_doc import dumps
        from backprop.render.net_view import net_document

        print(dumps(net_document(report, full)))
    else:
        from backprop.render.console import make_console
        from backprop.render.net_view import render_net

        render_net(report, make_console(), full)
    _exit_for(report)


# -- paths, compare, scale (issue 3) ---------------------------------------------------------

def _one_format(json_out: bool, csv_out: bool) -> str:
    if json_out and csv_out:
        raise InputError("--json and --csv ask for two formats", hint="give one")
    return "json" if json_out else "csv" if csv_out else "text"


def _emit(output: str, result, *, document, view, csv=None) -> None:
    """Print a job's result once: one JSON document, CSV rows, or the terminal view.

    Counts are exact ints however long (2^15000 paths has 4,516 digits): JSON and CSV
    write them whole, past Python's default limit on int-to-text conversion."""
    if output in ("json", "csv"):
        from backprop.render.json_doc import dumps

        digits = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            text = dumps(document(result)) + "\n" if output == "json" else csv(result)
        finally:
            sys.set_int_max_str_digits(digits)
        print(text, end="")
    else:
        from backprop.render.console import make_console

        view(result, make_console())


PATHS_EPILOG = """\b
Examples:
  backprop paths "sin(2*x+y)"                       each path, its partials, the sum
  backprop paths "sin(2*x+y)" --at x=1,y=2          numbers
  backprop paths "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
                                                    seed 003: 32 paths, 32*x**31
  backprop paths "sin(x^2)+cos(x^2)" --at x=1 --limit 1 --json
"""


@app.command("paths", epilog=PATHS_EPILOG)
def paths_command(
    exprs: Optional[List[str]] = typer.Argument(None, metavar="EXPR|SPEC...",
                                                help="Expression(s) or a spec; '-' reads stdin."),
    expr: Optional[List[str]] = typer.Option(None, "-e", "--expr",
                                             help="An expression (may start with '-')."),
    at: Optional[List[str]] = typer.Option(None, "--at", help="Point: x=1,y=2 (else "
                                                              "formulas)."),
    wrt: Optional[str] = typer.Option(None, "--wrt", help="Paths from these inputs only: x,y."),
    limit: int = typer.Option(1_000, "--limit", click_type=COUNT, help="List the first K paths (the sum still "
                                                     "covers every path)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    max_ops: MaxOps = Limits.max_ops,
    max_nodes: MaxNodes = Limits.max_nodes,
    max_depth: MaxDepth = Limits.max_depth,
    max_paths: MaxPaths = Limits.max_paths,
    max_bytes: MaxBytes = Limits.max_bytes,
    check_timeout: CheckTimeout = Limits.check_timeout,
) -> None:
    """List every path from an input to the output: its nodes, its local partials and their
    product; then the sum over the paths, which is the gradient."""
    from backprop.jobs.paths import list_paths

    nonnegative("--limit", limit)
    limits = make_limits(locals())
    graph = read_graph(exprs, expr, limits)
    listing = list_paths(graph, at=at, wrt=wrt, limit=limit, limits=limits)
    from backprop.render import compare_json, compare_view

    _emit("json" if json_out else "text", listing, document=compare_json.paths_document,
          view=compare_view.render_paths)


COMPARE_EPILOG = """\b
Examples:
  backprop compare "sin(2*x+y)" --at x=1,y=2        reverse wins: 1 sweep
  backprop compare "x*y" "x+y" "sin(x)" "x-y"       a 4x2 Jacobian: forward wins
  backprop compare "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
  backprop compare "sin(2*x+y)" --csv               one CSV row per mode
"""


@app.command("compare", epilog=COMPARE_EPILOG)
def compare_command(
    exprs: Optional[List[str]] = typer.Argument(None, metavar="EXPR|SPEC...",
                                                help="Expression(s) or a spec; '-' reads stdin."),
    expr: Optional[List[str]] = typer.Option(None, "-e", "--expr",
                                             help="An expression (may start with '-')."),
    at: Optional[List[str]] = typer.Option(None, "--at", help="Point: x=1,y=2 (else a "
                                                              "seeded random point)."),
    wrt: Optional[str] = typer.Option(None, "--wrt", help="Variables to differentiate by: x,y."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV: one row per mode."),
    repeats: int = typer.Option(5, "--repeats", click_type=COUNT, help="Time each mode this many times "
                                                     "(the median is shown)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random point used without --at."),
    max_forward_sweeps: MaxForwardSweeps = Limits.max_forward_sweeps,
    max_ops: MaxOps = Limits.max_ops,
    max_nodes: MaxNodes = Limits.max_nodes,
    max_depth: MaxDepth = Limits.max_depth,
    max_paths: MaxPaths = Limits.max_paths,
    max_bytes: MaxBytes = Limits.max_bytes,
) -> None:
    """Run every mode on EXPR: its exact counts, its measured time and both relative to one
    function evaluation; then a verdict naming the cheapest mode and why."""
    from backprop.jobs.compare import compare

    output = _one_format(json_out, csv_out)
    limits = make_limits(locals())
    graph = read_graph(exprs, expr, limits)
    comparison = compare(graph, at=at, wrt=wrt, seed=seed, repeats=repeats, limits=limits)
    from backprop.render import compare_json, compare_view

    _emit(output, comparison, document=compare_json.compare_document,
          csv=compare_json.compare_csv, view=compare_view.render_compare)


SCALE_EPILOG = """\b
Families: layered (seed 003, 2^L paths), chain (nested sin), wide (sum of
x_i*y_i), fanout (x^1 + ... + x^n), mlp (3 dense tanh layers of width n).
Examples:
  backprop scale layered --sizes 1:16               paths double per layer
  backprop scale wide --sizes 10:100:10             forward pays a sweep per input
  backprop scale mlp --sizes 1,2,4,8 --csv          CSV: one row per size and mode
"""


@app.command("scale", epilog=SCALE_EPILOG)
def scale_command(
    family: str = typer.Argument(..., metavar="FAMILY",
                                 help="layered | chain | wide | fanout | mlp."),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="A:B, A:B:STEP or 1,2,4 "
                                                              "(default: the family's)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV: one row per size and mode."),
    repeats: int = typer.Option(3, "--repeats", click_type=COUNT, help="Time each mode this many times "
                                                     "(the median is shown)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random point."),
    max_forward_sweeps: MaxForwardSweeps = Limits.max_forward_sweeps,
    max_ops: MaxOps = Limits.max_ops,
    max_nodes: MaxNodes = Limits.max_nodes,
    max_paths: MaxPaths = Limits.max_paths,
) -> None:
    """Build a graph family at several sizes: each mode's counts and time per size, the
    fitted growth (linear, polynomial or exponential) and a chart."""
    from backprop.jobs.scale import scale

    output = _one_format(json_out, csv_out)
    limits = make_limits(locals())
    result = scale(family, sizes, limits=limits, repeats=repeats, seed=seed)
    from backprop.render import compare_json, compare_view

    _emit(output, result, document=compare_json.scale_document, csv=compare_json.scale_csv,
          view=compare_view.render_scale)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and map every outcome to an exit code, once."""
    code = _run(list(sys.argv[1:] if argv is None else argv))
    try:
        sys.stdout.flush()  # what is still buffered fails here, not at interpreter exit
    except OSError as error:
        if not _is_write_error(error):
            raise
        return _output_failed(error)
    return code


def _run(argv: list[str]) -> int:
    debug = "--debug" in argv
    if debug:  # accepted anywhere on the line, as every command's --help says
        argv = ["--debug"] + [a for a in argv if a != "--debug"]
    command = typer.main.get_command(app)
    if argv in ([], ["--debug"]):  # no command: help on stderr, a usage error (clig.dev)
        root = click.Context(command, info_name="backprop", help_option_names=["-h", "--help"])
        print(command.get_help(root), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        _check_point_words(argv)
        # click's own main() would turn a closed stdout into exit 1: invoke it directly.
        with command.make_context("backprop", argv) as ctx:
            command.invoke(ctx)
        return 0
    except SystemExit as done:  # rich's console exits 1 on a broken pipe
        if isinstance(done.__context__, BrokenPipeError):
            return _output_failed(done.__context__)
        raise
    except click.exceptions.Exit as done:  # typer.Exit, --help, --version
        if done.exit_code == EXIT_INTERRUPTED:
            print("backprop: interrupted", file=sys.stderr)
        return done.exit_code
    except click.UsageError as error:  # a bad option, a missing value
        return _fail(InputError(error.format_message(), hint=_usage_hint(error, argv)))
    except click.ClickException as error:
        return _fail(InputError(error.format_message()))
    except (KeyboardInterrupt, click.exceptions.Abort):
        print("backprop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BackpropError as error:
        if debug:
            raise
        return _fail(error)
    except Exception as error:
        if isinstance(error, OSError) and _is_write_error(error):
            return _output_failed(error)
        if debug:  # a bug: still one line, unless --debug
            raise
        print(f"backprop: internal error: {type(error).__name__}: {error} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 70


def _check_point_words(argv: list[str]) -> None:
    """Refuse ``--at x=1 y=2``: a point written with a space reads as a second expression."""
    for k, word in enumerate(argv[:-1]):
        if word != "--at" and not word.startswith("--at="):
            continue
        value, following = (argv[k + 1], argv[k + 2:k + 3]) if word == "--at" \
            else (word[len("--at="):], argv[k + 1:k + 2])
        name, sep, raw = following[0].partition("=") if following else ("", "", "")
        if sep and name.isidentifier():
            from backprop.frontends.parse import point_number

            if point_number(raw.strip()) is not None:
                raise InputError(f"{following[0]!r} after --at {value} reads as an expression",
                                 hint=f"a point is one word, comma-separated: "
                                      f"--at {value},{following[0]}")


_WRITE_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT}


def _is_write_error(error: OSError) -> bool:
    """A failed write to standard output (``-o`` files fail as OutputError in outfile)."""
    return error.errno in _WRITE_ERRNOS and error.filename is None


def _output_failed(error: OSError) -> int:
    """Standard output failed: 141 quietly if the reader has gone, else one line and 74.

    What is still buffered would fail again at interpreter exit, so stdout's descriptor
    is pointed at /dev/null first, as Python's documentation of SIGPIPE recommends.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no descriptor (captured in a test)
        pass
    if error.errno == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    return _fail(OutputError(f"cannot write standard output: {error.strerror}"))


def _usage_hint(error: click.UsageError, argv: list[str]) -> str:
    ctx = getattr(error, "ctx", None)
    command = ctx.command_path if ctx is not None else "backprop"
    if ctx is not None and isinstance(ctx.command, click.Group):  # a misspelt command?
        word = next((a for a in argv if not a.startswith("-")), None)
        if word is not None and word not in ctx.command.commands:
            close = difflib.get_close_matches(word, list(ctx.command.commands), n=1)
            if close:
                return f"did you mean '{close[0]}'?"
    bad = getattr(error, "option_name", "") or ""
    takes_expr = ctx is not None and any("--expr" in p.opts for p in ctx.command.params)
    if "No such option" in error.format_message() and takes_expr and not bad.startswith("--"):
        return f"see '{command} --help'; an expression that starts with '-' goes after -e: " \
               f"{command} -e \"{bad}\""
    return f"see '{command} --help'"


def _fail(error: BackpropError) -> int:
    from backprop.render.console import make_console, render_error

    render_error(make_console(stderr=True), error)
    return error.exit_code


def run() -> None:
    sys.exit(main())
