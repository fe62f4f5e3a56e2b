"""Printing a job's result once, in the format asked for: the dispatch between the
renderers (terminal, JSON, CSV, Markdown) that every command shares. Formatting only."""

from __future__ import annotations

import sys


def show_grad(report, output: str) -> None:
    """The ``grad`` report as one JSON document, a Markdown report, or the terminal view
    (then its explanation, if the job made one)."""
    if output == "json":
        from backprop.render.json_doc import grad_document, write

        write(grad_document(report), sys.stdout)
    elif output == "markdown":
        from backprop.render.markdown import grad_markdown

        print(grad_markdown(report), end="")
    else:
        from backprop.render.console import make_console, render_grad

        console = make_console()
        render_grad(report, console)
        if report.explanation is not None:
            from backprop.render.explain_view import render_explanation

            render_explanation(report.explanation, console)


def show(output: str, result, *, document, view, csv=None) -> None:
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


def show_hessian(report, output: str) -> None:
    """The ``hessian`` report as one JSON document, a Markdown report, or the terminal view."""
    if output == "json":
        from backprop.render.json_doc import hessian_document

        show("json", report, document=hessian_document, view=None)
    elif output == "markdown":
        from backprop.render.markdown import hessian_markdown

        print(hessian_markdown(report), end="")
    else:
        from backprop.render.hessian_view import render_hessian

        show("text", report, document=None, view=render_hessian)
