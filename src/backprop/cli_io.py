"""What a command prints and where, decided once for every command: the one format of
``--format`` and its shorthands, the ``-o`` file (checked before any work; for compare and
scale a picture's suffix is the plot), and a spec read from standard input. Part of the CLI
layer, with cli.py."""

from __future__ import annotations

from backprop.errors import InputError
from backprop.frontends.load import STDIN
from backprop.limits import Limits


def resolve_format(out_format: str | None, formats: tuple[str, ...], json_out: bool = False,
                   csv_out: bool = False) -> str:
    """The one format a command prints: --format (one of ``formats``, the first the
    default), or its shorthand --json / --csv; two different ones are an error."""
    shorthands = [name for name, on in (("json", json_out), ("csv", csv_out)) if on]
    fmt = (out_format or (shorthands[0] if shorthands else formats[0])).strip().lower()
    if fmt not in formats:
        raise InputError(f"unknown format {out_format!r}", hint="formats: " + ", ".join(formats))
    clash = [f"--{name}" for name in shorthands if name != fmt]
    if clash:
        raise InputError(f"{' and '.join(clash)} and --format {fmt} ask for two formats"
                         if out_format else "--json and --csv ask for two formats",
                         hint="give one")
    return fmt


def writable(output: str | None) -> None:
    """An -o FILE is checked before any work (and nothing is written anywhere else)."""
    if output is not None:
        from backprop.outfile import check_writable

        check_writable(output)


def plot_or_output(output: str | None, here: bool, fmt: str) \
        -> tuple[str | None, str | None]:
    """compare and scale: ``-o FILE.svg|png`` is the plot, drawn as well as the output
    (docs/plots.md); any other FILE takes the output instead of standard output."""
    from backprop.render import plot

    plot_file = output if output is not None and plot.is_plot_path(output) else None
    output = None if plot_file is not None else output
    plot.check_plot_request(plot_file, here, fmt)
    writable(output)
    return plot_file, output


def stdin_spec(spec: str, limits: Limits) -> tuple[str, str | None]:
    """``net -``: the spec's YAML from standard input, named <stdin> in messages."""
    if spec != "-":
        return spec, None
    from backprop.frontends.load import read_stdin

    return STDIN, read_stdin(limits.max_bytes, "the spec")


def grad_program_output(graph, at, wrt, mode, json_out, out_format, output, explain) -> None:
    """``grad --program``: the gradient program, listed or as JSON."""
    fmt = resolve_format(out_format, ("text", "json"), json_out)
    if at or explain:
        raise InputError(f"--program prints the program, not {'--at' if at else '--explain'}",
                         hint="its values at a point: backprop graph EXPR --program --at ...")
    from backprop.jobs.grad import grad_program
    from backprop.render.program_view import show_program

    show_program(grad_program(graph, wrt=wrt, mode=mode), fmt, output)
