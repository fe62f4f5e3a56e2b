"""``grad --program``: the gradient program as a listing in ``backprop graph``'s text style,
its outputs by name, and its cost beside the function's (docs/second-order.md). Text and
JSON; formatting only (the job counted and divided)."""

from __future__ import annotations

from backprop.render.picture_text import listing

BOUND = ("Baur and Strassen (1983): all partials cost at most 3 times the function's "
         "nonscalar operations.")


def program_text(report) -> str:
    """The program listing, what each output is, and the cost table."""
    program, graph = report.program, report.graph
    inputs = ", ".join(graph.input_names)
    f = f"{report.name}({inputs})"
    what = (f"{f} = {report.text}" if report.text and "=" not in report.text
            else f"{f}: {report.text}" if report.text else f)
    lines = [f"gradient program of {what}",
             f"{report.mode} mode, {len(program):,} nodes (the function: {len(graph):,})", ""]
    lines += listing(program, report.picture).splitlines()
    names = program.names
    lines += [f"  {name} = {names[o]}" for name, o in zip(program.output_names, program.outputs)]
    rows = [("nodes", report.function_cost.nodes, report.program_cost.nodes, None),
            ("ops", report.function_cost.ops, report.program_cost.ops, report.ops_ratio),
            ("nonscalar operations", report.function_cost.nonscalar,
             report.program_cost.nonscalar, report.nonscalar_ratio)]
    lines += ["", f"{'':<22}{'function':>10}{'program':>10}{'ratio':>8}"]
    for label, function, prog, ratio in rows:
        ratio_text = "" if label == "nodes" else "-" if ratio is None else f"{ratio:.2f}"
        lines.append(f"{label:<22}{function:>10,}{prog:>10,}{ratio_text:>8}".rstrip())
    lines += ["", BOUND]
    return "\n".join(lines) + "\n"


def program_document(report) -> dict:
    """The same as one JSON document: the program's nodes, outputs and both costs."""
    program = report.program
    names = program.names
    nodes = [{"name": names[i], "op": node.op, "args": [names[a] for a in node.args],
              **({"value": node.const} if node.op == "const" else {})}
             for i, node in enumerate(program.nodes)]

    def cost(c) -> dict:
        return {"nodes": c.nodes, "ops": c.ops, "nonscalar": c.nonscalar}

    return {
        "version": 1,
        "command": "grad --program",
        "function": {"text": report.text, "inputs": list(report.graph.input_names),
                     "cost": cost(report.function_cost)},
        "mode": report.mode,
        "wrt": list(report.wrt),
        "program": {"nodes": nodes,
                    "outputs": [{"name": n, "node": names[o]}
                                for n, o in zip(program.output_names, program.outputs)],
                    "cost": cost(report.program_cost)},
        "ratio": {"ops": report.ops_ratio, "nonscalar": report.nonscalar_ratio},
    }


def show_program(report, fmt: str, path: str | None = None) -> None:
    """``grad --program``: the listing, or one JSON document."""
    from backprop.render.show import show

    show(fmt, report, path=path, text=program_text, json=program_document)
