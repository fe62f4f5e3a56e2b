"""The terminal view of an explanation (``--explain``): section titles and numbered steps."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

_STYLE = {"note": "dim", "seed": "cyan", "result": "bold", "sum": "bold"}


def render_explanation(explanation, console: Console) -> None:
    """Print every section of an ``explain.Explanation`` (plain data) in order."""
    console.print()
    console.rule("[bold]Step by step[/bold]" + (" (symbolic)" if explanation.symbolic else ""),
                 align="left")
    for title, steps in explanation.sections():
        if steps and steps[0].kind == "total":
            console.print()
            for step in steps:
                colour = "green" if explanation.agrees else \
                    "red" if explanation.agrees is False else "bold"
                console.print(f"[{colour}]{escape(step.text)}[/{colour}]", soft_wrap=True)
            continue
        console.print()
        console.print(f"[bold]{escape(title)}[/bold]")
        for step in steps:
            style = _STYLE.get(step.kind)
            text = escape(step.text)
            console.print("  " + (f"[{style}]{text}[/{style}]" if style else text),
                          soft_wrap=True)
