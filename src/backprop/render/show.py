"""Printing a job's result once, in the format asked for, to standard output or to the
``-o`` file: the one dispatch between the renderers (terminal, JSON, CSV, Markdown, JUnit)
that every command shares. Formatting only."""

from __future__ import annotations

import io
import sys
from typing import Callable


def show(fmt: str, result, *, view: Callable | None = None, path: str | None = None,
         **writers: Callable) -> None:
    """``result`` as ``fmt``: ``text`` is ``view(result, console)`` (or a ``text`` writer);
    ``json`` is ``writers["json"](result)`` (the document) as one JSON text; any other
    format is ``writers[fmt](result)``, a string. Written to ``path`` if given, else printed.

    Counts are exact ints however long (2^15000 paths has 4,516 digits): JSON and CSV
    write them whole, past Python's default limit on int-to-text conversion."""
    from backprop.render.console import make_console

    if fmt == "text" and view is not None and path is None:
        view(result, make_console())
        return
    if fmt == "text" and view is not None:
        buffer = io.StringIO()
        view(result, make_console(stream=buffer))
        data = buffer.getvalue()
    else:
        digits = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            data = _json(writers["json"](result)) if fmt == "json" else writers[fmt](result)
        finally:
            sys.set_int_max_str_digits(digits)
    from backprop.outfile import deliver

    deliver(data, path)


def _json(document: dict) -> str:
    from backprop.render.json_doc import dumps

    return dumps(document) + "\n"


def show_grad(report, fmt: str, path: str | None = None) -> None:
    """The ``grad`` report: the terminal view then its explanation (if the job made one),
    one JSON document, or a Markdown report."""
    from backprop.render.json_doc import grad_document
    from backprop.render.markdown import grad_markdown

    def view(report, console) -> None:
        from backprop.render.console import render_grad

        render_grad(report, console)
        if report.explanation is not None:
            from backprop.render.explain_view import render_explanation

            render_explanation(report.explanation, console)

    show(fmt, report, view=view, path=path, json=grad_document, markdown=grad_markdown)


def show_hessian(report, fmt: str, path: str | None = None) -> None:
    """The ``hessian`` report as the terminal view, one JSON document or Markdown."""
    from backprop.render.hessian_view import render_hessian
    from backprop.render.json_doc import hessian_document
    from backprop.render.markdown import hessian_markdown

    show(fmt, report, view=render_hessian, path=path, json=hessian_document,
         markdown=hessian_markdown)
