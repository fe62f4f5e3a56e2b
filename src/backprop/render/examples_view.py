"""``backprop examples``: the list as a table or JSON. Formatting only."""

from __future__ import annotations


def render_examples(examples, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False, box=None, pad_edge=False)
    table.add_column("example", no_wrap=True)
    table.add_column("what it shows")
    for example in examples:
        table.add_row(escape(example.name), escape(example.about))
    console.print(table)
    console.print("\nbackprop examples NAME prints one (to run a spec: | backprop net -)\n"
                  "backprop examples --copy DIR copies them all into DIR/examples")


def examples_document(examples) -> dict:
    return {"version": 1, "command": "examples",
            "examples": [{"name": e.name, "about": e.about} for e in examples]}
