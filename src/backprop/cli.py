"""The command line: parse arguments, call the job, render, map errors to exit codes.

Only the CLI layer imports typer: this module, cli_options.py (every option, declared
once) and cli_errors.py (how a failure is told). Each command makes one call to its job
(jobs/), which returns immutable data, and one to its renderer (render/); ``main`` turns
every error into one line on stderr and its exit code, once.
"""

from __future__ import annotations

import os
import sys

import typer

from backprop import __version__  # noqa: E402
from backprop.cli_errors import (ClickException, UsageError, check_point_words,  # noqa: E402
                                 fail, is_write_error, output_failed, usage_hint)
from backprop.errors import (EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERRUPTED,  # noqa: E402
                             BackpropError, InputError, NonFiniteError)
from backprop.cli_options import (AtAnnotates, AtOrFormulas, AtOrRandom, AtPoint,  # noqa: E402
                                  CsvModes, CsvSizes, Expr, Exprs, GradExprs, JsonOut,
                                  Mode, ProgramListing, ProgramPicture, Repeats, Strict, Wrt,
                                  WrtPaths, with_limits)
from backprop.cli_options import NoCheck, PairingMode, Vector, format_option  # noqa: E402
from backprop.cli_options import (Atol, Cases, Engine, Explain, Family, Full,  # noqa: E402
                                  HessianExplain, PathLimit, Rtol, Seed, Sizes, SpecPath,
                                  WrtParams)
from backprop.cli_options import DirectionSeed, NetHessian, NetHvp, NetVector  # noqa: E402
from backprop.cli_options import (Checkpoints, Eliminations, Order, OutFile,  # noqa: E402
                                  PlotHere, PlotOrOutFile)
from backprop.cli_help import (CHECK_EPILOG, COMPARE_EPILOG, EXAMPLES_EPILOG,  # noqa: E402
                               GRAD_EPILOG, GRAPH_EPILOG, HESSIAN_EPILOG, NET_EPILOG,
                               PATHS_EPILOG, SCALE_EPILOG)
from backprop.cli_options import CopyTo, ExampleName  # noqa: E402
from backprop.cli_io import (grad_program_output, plot_or_output, resolve_format,  # noqa: E402
                             stdin_spec, writable)
from backprop.frontends.load import STDIN, read_graph  # noqa: E402
from backprop.render.progress import progress_bar  # noqa: E402
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


@app.command(epilog=GRAD_EPILOG)
@with_limits("max_nodes", "max_depth", "max_paths", "max_ops", "max_bytes", "check_timeout")
def grad(
    exprs: GradExprs = None,
    expr: Expr = None,
    at: AtPoint = None,
    wrt: Wrt = None,
    mode: Mode = "reverse",
    json_out: JsonOut = False,
    out_format: format_option("text", "json", "markdown") = None,
    output: OutFile = None,
    explain: Explain = False,
    no_check: NoCheck = False,
    rtol: Rtol = 1e-9,
    atol: Atol = 1e-12,
    strict: Strict = False,
    program: ProgramListing = False,
    repeats: Repeats = 5,
    **limits,
) -> None:
    """Differentiate EXPR: gradient (or Jacobian), each mode's cost, and a SymPy check."""
    writable(output)
    if program:
        return grad_program_output(read_graph(exprs, expr, Limits(**limits)), at, wrt,
                                   mode, json_out, out_format, output, explain)
    if at and not no_check:  # SymPy loads on the other core meanwhile
        from backprop.check import sympy_side

        sympy_side.start()
    from backprop.jobs.grad import grad as run_grad

    nonnegative("--rtol", rtol)
    nonnegative("--atol", atol)
    limits = Limits(**limits)
    fmt = resolve_format(out_format, ("text", "json", "markdown"), json_out)
    report = run_grad(read_graph(exprs, expr, limits), at=at, wrt=wrt, mode=mode,
                      run_check=not no_check, rtol=rtol, atol=atol, limits=limits,
                      strict=strict, picture=fmt == "markdown", explain=explain,
                      repeats=repeats)
    from backprop.render.show import show_grad

    show_grad(report, fmt, output)
    _exit_for(report)


def _exit_for(report) -> None:
    """After the whole result is printed: exit 1 if the check disagrees, 4 for --strict."""
    if report.check is not None and report.check.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    if report.strict_error is not None:
        raise NonFiniteError(report.strict_error)


@app.command("graph", epilog=GRAPH_EPILOG)
@with_limits("max_nodes", "max_depth", "max_bytes")
def graph_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtAnnotates = None,
    out_format: format_option("text", "tree", "dot", "mermaid", "svg", "png", "html",
                              note="default: from the -o file's suffix, else text; html: a "
                                   "step-through page of the sweeps, needs --at") = None,
    output: OutFile = None,
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
    writable(output)
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise InputError("png is binary and standard output is a terminal",
                         hint="write it to a file: -o graph.png")
    drawing = picture.graph_picture(read_graph(exprs, expr, limits), at, fmt, program)
    from backprop.render.picture_text import show_graph

    show_graph(drawing, fmt, output)


@app.command("net", epilog=NET_EPILOG)
@with_limits("max_values", "max_units", "max_jvps", "max_nodes", "max_depth", "max_paths",
             "max_bytes", "check_timeout")
def net_command(
    spec: SpecPath,
    mode: Mode = "reverse",
    param: WrtParams = None,
    full: Full = False,
    json_out: JsonOut = False,
    out_format: format_option("text", "json") = None,
    output: OutFile = None,
    engine: Engine = "auto",
    no_check: NoCheck = False,
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

    fmt = resolve_format(out_format, ("text", "json"), json_out)
    writable(output)
    limits = Limits(**limits)
    from backprop.jobs.net_hvp import request_for

    spec, text = stdin_spec(spec, limits)
    with progress_bar(fmt if output is None else "file", "net") as heard:
        report = run_net(spec, mode=mode, params=param, engine=engine, run_check=not no_check,
                         limits=limits, strict=strict, progress=heard, text=text,
                         hvp=request_for(hvp, hessian, vector, direction_seed))
    from backprop.render.net_view import net_document, render_net
    from backprop.render.show import show

    show(fmt, report, path=output, json=lambda r: net_document(r, full),
         view=lambda r, console: render_net(r, console, full))
    if report.hvp is not None and report.hvp.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    _exit_for(report)


# -- paths, compare, scale (issue 3) ---------------------------------------------------------


@app.command("paths", epilog=PATHS_EPILOG)
@with_limits("max_ops", "max_nodes", "max_depth", "max_paths", "max_bytes", "check_timeout")
def paths_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrFormulas = None,
    wrt: WrtPaths = None,
    limit: PathLimit = 1_000,
    json_out: JsonOut = False,
    out_format: format_option("text", "json") = None,
    output: OutFile = None,
    **limits,
) -> None:
    """List every path from an input to the output: its nodes, its local partials and their
    product; then the sum over the paths, which is the gradient."""
    from backprop.jobs.paths import list_paths

    nonnegative("--limit", limit)
    fmt = resolve_format(out_format, ("text", "json"), json_out)
    writable(output)
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    listing = list_paths(graph, at=at, wrt=wrt, limit=limit, limits=limits)
    from backprop.render import compare_json, compare_view
    from backprop.render.show import show

    show(fmt, listing, path=output, json=compare_json.paths_document,
         view=compare_view.render_paths)


@app.command("compare", epilog=COMPARE_EPILOG)
@with_limits("max_forward_sweeps", "max_ops", "max_nodes", "max_depth", "max_paths",
             "max_bytes", "max_elimination_vertices")
def compare_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrRandom = None,
    wrt: Wrt = None,
    json_out: JsonOut = False,
    csv_out: CsvModes = False,
    out_format: format_option("text", "json", "csv") = None,
    output: PlotOrOutFile = None,
    repeats: Repeats = 5,
    seed: Seed = 0,
    order: Order = 1,
    checkpoints: Checkpoints = None,
    plot_here: PlotHere = False,
    eliminations: Eliminations = False,
    **limits,
) -> None:
    """Run every mode on EXPR: its exact counts, its measured time and both relative to one
    function evaluation; then a verdict naming the cheapest mode and why. --order 2: the
    same for the Hessian's four mode pairings."""
    from backprop.jobs import compare, pairings
    from backprop.render import compare_json as js, compare_view as view
    from backprop.render.show import show

    pairings.check_order(order, "compare")
    fmt = resolve_format(out_format, ("text", "json", "csv"), json_out, csv_out)
    plot_file, output = plot_or_output(output, plot_here, fmt)  # both checked before work
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    job, document, csv, render = (
        (pairings.compare_pairings, js.pairings_document, js.pairings_csv,
         view.render_pairings) if order == 2 else
        (compare.compare, js.compare_document, js.compare_csv, view.render_compare))
    options = {"eliminations": True} if eliminations else {}  # docs/sparsity.md
    if eliminations and order == 2:
        raise InputError("--eliminations is for --order 1 (the Jacobian)", hint="drop one")
    if checkpoints is not None:  # docs/checkpointing.md
        from backprop.jobs.checkpoints import compare_job
        from backprop.render.checkpoint_view import compare_views

        job = compare_job(graph, checkpoints, order, limits, job)
        document, csv, render = compare_views(document, render)
    result = job(graph, at=at, wrt=wrt, seed=seed, repeats=repeats, limits=limits, **options)
    from backprop.render import plot

    render = plot.deliver_plot(result, plot.compare_plot, plot_file, plot_here, render)
    show(fmt, result, path=output, json=document, csv=csv, view=render)


@app.command("scale", epilog=SCALE_EPILOG)
@with_limits("max_forward_sweeps", "max_ops", "max_nodes", "max_paths")
def scale_command(
    family: Family,
    sizes: Sizes = None,
    json_out: JsonOut = False,
    csv_out: CsvSizes = False,
    out_format: format_option("text", "json", "csv") = None,
    output: PlotOrOutFile = None,
    repeats: Repeats = 3,
    seed: Seed = 0,
    order: Order = 1,
    checkpoints: Checkpoints = None,
    **limits,
) -> None:
    """Build a graph family at several sizes: each mode's counts and time per size, the
    fitted growth (linear, polynomial or exponential) and a chart. --order 2: the Hessian's
    four pairings instead, on a family whose inputs grow (wide, mlp, decay)."""
    from backprop.jobs import pairings, scale
    from backprop.render import compare_json as js, compare_view as view
    from backprop.render.show import show

    pairings.check_order(order, "scale")
    fmt = resolve_format(out_format, ("text", "json", "csv"), json_out, csv_out)
    plot_file, output = plot_or_output(output, False, fmt)  # both checked before work
    limits = Limits(**limits)
    job, document, csv, render = (
        (scale.scale_pairings, js.scale_pairings_document, js.scale_pairings_csv,
         view.render_scale_pairings) if order == 2 else
        (scale.scale, js.scale_document, js.scale_csv, view.render_scale))
    if checkpoints is not None:  # the memory-time curve (docs/checkpointing.md)
        from backprop.jobs.checkpoints import curve_job
        from backprop.render import checkpoint_view as ck

        job, document, csv, render = (curve_job(checkpoints, order), ck.curve_document,
                                      ck.curve_csv, ck.render_curve)
        result = job(family, sizes, limits=limits, repeats=repeats, seed=seed)
    else:
        with progress_bar(fmt if output is None else "file", f"scale {family}") as heard:
            result = job(family, sizes, limits=limits, repeats=repeats, seed=seed,
                         progress=heard)
    from backprop.render import plot

    if checkpoints is None:
        render = plot.deliver_plot(result, plot.scale_plot, plot_file, False, render)
    show(fmt, result, path=output, json=document, csv=csv, view=render)


@app.command("hessian", epilog=HESSIAN_EPILOG)
@with_limits("max_nodes", "max_depth", "max_ops", "max_bytes", "check_timeout")
def hessian_command(
    exprs: Exprs = None,
    expr: Expr = None,
    at: AtOrFormulas = None,
    wrt: Wrt = None,
    mode: PairingMode = "fwd-rev",
    vector: Vector = None,
    json_out: JsonOut = False,
    out_format: format_option("text", "json", "markdown") = None,
    output: OutFile = None,
    no_check: NoCheck = False,
    strict: Strict = False,
    explain: HessianExplain = False,
    **limits,
) -> None:
    """The Hessian of a one-output EXPR by composing two sweeps (forward-over-reverse and
    the other three pairings): each pairing's exact cost, symmetry, H v, a SymPy check."""
    fmt = resolve_format(out_format, ("text", "json", "markdown"), json_out)
    writable(output)
    limits = Limits(**limits)
    graph = read_graph(exprs, expr, limits)
    from backprop.jobs.hessian import hessian

    report = hessian(graph, at=at, wrt=wrt, mode=mode, vector=vector,
                     run_check=not no_check, limits=limits, strict=strict, explain=explain)
    from backprop.render.show import show_hessian

    show_hessian(report, fmt, output)
    if report.hvp is not None and report.hvp.status == "fail":
        raise typer.Exit(EXIT_CHECK_FAILED)
    _exit_for(report)


@app.command("check", epilog=CHECK_EPILOG)
@with_limits("max_nodes", "max_depth", "max_bytes", "check_timeout")
def check_command(
    cases: Cases,
    json_out: JsonOut = False,
    out_format: format_option("text", "json", "markdown", "junit") = None,
    output: OutFile = None,
    **limits,
) -> None:
    """Check claimed gradients and derivative formulas (an exercise sheet, a derivation in
    CI): each against backprop's gradient, formulas also symbolically. Exit 1 if one is
    wrong, 2 on a bad file."""
    from backprop.jobs.claims import check_claims
    from backprop.render import claims_view as view
    from backprop.render.show import show

    fmt = resolve_format(out_format, ("text", "json", "markdown", "junit"), json_out)
    writable(output)
    limits = Limits(**limits)
    text = None
    if cases == "-":
        from backprop.frontends.load import read_stdin

        cases, text = STDIN, read_stdin(limits.max_bytes, "the claims")
    report = check_claims(cases, limits=limits, text=text)
    show(fmt, report, path=output, view=view.render_claims, json=view.claims_document,
         markdown=view.claims_markdown, junit=view.claims_junit)
    if report.failed:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("examples", epilog=EXAMPLES_EPILOG)
def examples_command(name: ExampleName = None, copy: CopyTo = None, json_out: JsonOut = False,
                     out_format: format_option("text", "json") = None,
                     output: OutFile = None) -> None:
    """List the runnable examples that the help texts name, print one, or copy them all
    into a folder (they ship inside the package)."""
    from backprop.jobs import examples as job
    from backprop.render.examples_view import examples_document, render_examples
    from backprop.render.show import show

    fmt = resolve_format(out_format, ("text", "json"), json_out)
    writable(output)
    if copy is not None:
        print(f"copied the examples into {job.copy_examples(copy)}")
    elif name is not None:
        show("text" if fmt == "json" else fmt, name, path=output, text=job.read_example)
    else:
        show(fmt, job.catalog(), path=output, view=render_examples, json=examples_document)


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
