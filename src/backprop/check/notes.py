"""Notes on a partial that is not finite by IEEE arithmetic: where the chain rule met the
nan or inf (0·inf, 0/0, inf−inf, an infinite partial), and whether a derivative exists
there (a kink has none: the one-sided derivatives differ)."""

from __future__ import annotations

import math

from backprop.engine.graph import Graph


def note(graph, values, o, name, label, ours, expected, by, sides) -> dict:
    """What the chain rule met on the way to a non-finite ``label``, and what is true there.

    The reference (SymPy's diff or limit) is stated as the true derivative only where the
    one-sided difference quotients confirm it (one side may lie outside the domain); where
    both sides are finite and differ there is no derivative (a kink, |x| at 0); otherwise
    nothing is claimed (SymPy's number is shown, unconfirmed).
    """
    from backprop.engine.modes import relative_difference

    wrt = graph.inputs[graph.input_names.index(name)]
    met, node = chain_rule_trouble(graph, values, graph.outputs[o], wrt, ours)
    where = ""
    if node is not None:
        from backprop.engine.printer import name_table

        table = name_table(graph)
        text, name = table.texts(60)[node], table.ids[node]
        where = name + (f" = {text}" if text and text != name else "")
    finite = [side for side in sides if math.isfinite(side)]
    if len(finite) == 2 and relative_difference(*finite) > 1e-9:
        kind = "kink"
    elif finite and all(relative_difference(side, expected) <= 1e-6 for side in finite):
        kind = "exists"
    else:
        kind = "unconfirmed"
    text = f"{label}: the chain rule met {met}" + (f" at {where}" if where else "") \
        + f", so it gives {ours!r}; "
    left, right = (f"{side:.6g}" for side in sides)
    text += {
        "exists": f"the true derivative ({by}) is {expected!r}",
        "kink": f"no derivative exists here: from the left it is {left}, from the right "
                f"{right} ({by} gives {expected!r})",
        "unconfirmed": f"{by} gives {expected!r}, but high-precision differences do not "
                       f"confirm a finite derivative here (from the left {left}, from the "
                       f"right {right})",
    }[kind]
    return {"entry": label, "ours": ours, "met": met, "node": where, "kind": kind,
            "true": expected if kind == "exists" else None, "by": by,
            "one_sided": list(sides), "text": text}


def chain_rule_trouble(graph: Graph, values: list, output: int, wrt: int,
                       ours: float) -> tuple[str, int | None]:
    """Where IEEE arithmetic in the reverse sweep first made a ``nan`` (``ours`` nan) or an
    infinity (``ours`` inf) on the way from ``output`` to input ``wrt``: what, and the node.

    This re-runs our own sweep to explain a result, never to check one."""
    from backprop.engine.evaluate import local_partials

    active = graph.depends_on([wrt])
    adjoint: dict[int, float] = {output: 1.0}
    first_inf = None
    for i in range(output, -1, -1):
        a = adjoint.get(i)
        node = graph.nodes[i]
        if a is None or not node.args:
            continue
        for arg, p in zip(node.args, local_partials(graph, values, i)):
            if not active[arg]:
                continue
            p = float(p)
            term = p * a
            if term != term and a == a:
                if p != p:
                    kind = "inf/inf" if math.isinf(values[i] or 0.0) else "0/0"
                    return f"nan (a {kind} in the value or partial)", i
                return "0·inf", i
            if math.isinf(term) and first_inf is None:
                first_inf = ("an infinite partial", i)
            old = adjoint.get(arg)
            new = term if old is None else old + term
            if new != new and old == old and term == term:
                return "inf−inf", arg
            adjoint[arg] = new
    if ours != ours or first_inf is None:
        return "nan", None
    return first_inf
