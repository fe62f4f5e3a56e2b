"""User-defined functions: ``def softplus2(u) = log(1 + exp(u)); softplus2(x*y)``.

The one place definitions live (docs/functions.md). A definition is parsed once, by the
expression parser itself, into a small graph of its own whose inputs are the parameters
(the *template*); a call expands that template into the caller's graph, node by node in
index order (no recursion), with the arguments in place of the parameters. So the graph
that every mode, the check, gradient programs and Hessians see is the expanded one, made
of op-table primitives only, and identical nodes still merge across calls.

Rules, each an error with a caret (exit 2): a definition has a name that is not a
primitive, a constant, an earlier definition or a name already used; one or more distinct
parameters; a body that is one expression over its parameters only (a body sees no
variables and no statement names: pass them as arguments), calling primitives and
*earlier* definitions only (so recursion is impossible); a call gives as many arguments as
the definition has parameters; the text does not end with a definition.

Calls are labelled by their call site: the result of the k-th call of ``f`` in a text is
the node ``f_k`` (``f_1``, ``f_2``, ...; a number is skipped when the name appears in the
text), unless a statement names it. Labels are names, so the printer's text still parses
to the same graph, and every view takes them from the one naming table.
"""

from __future__ import annotations

import re
import weakref
from array import array
from dataclasses import dataclass
from typing import Callable

from backprop.engine.graph import Graph, GraphBuilder
from backprop.engine.ops import CONSTANTS, FUNCTIONS, OPS


@dataclass(frozen=True, eq=False)
class Function:
    """A definition: its parameters and its body as a graph whose inputs are them."""

    name: str
    params: tuple[str, ...]
    graph: Graph  # inputs: every parameter (in order), output: the body
    calls: tuple[tuple[int, str], ...] = ()  # body nodes that are calls of earlier defs

    @property
    def arity(self) -> int:
        return len(self.params)

    @property
    def ops(self) -> int:
        """Op nodes in the body: what one call adds to a graph (before merging)."""
        return sum(1 for node in self.graph.nodes if node.args)

    def depends_on_params(self) -> bool:
        return self.graph.active[self.graph.outputs[0]]

    def folded(self) -> "Function":
        """The function with each op node that depends on no parameter (``exp(1)``) replaced
        by its value: a network's activation, whose scalar graph would merge such a node
        across units while the array engine's counts see it per unit."""
        from backprop.engine.evaluate import evaluate

        graph, active = self.graph, self.graph.active
        if all(active[i] or not node.args for i, node in enumerate(graph.nodes)):
            return self
        values = evaluate(graph, {name: 0.0 for name in graph.input_names})
        builder, ids = GraphBuilder(), []
        for i, node in enumerate(graph.nodes):
            if node.op == "input":
                ids.append(builder.input(node.label))
            elif not active[i]:
                ids.append(builder.const(values[i], node.label if node.op == "const" else None))
            else:
                ids.append(builder.apply(node.op, *(ids[a] for a in node.args)))
        return Function(self.name, self.params, builder.build([ids[graph.outputs[0]]],
                                                              [self.name]))


def expand(function: Function, args, apply: Callable[..., int],
           const: Callable[[float, str], int]) -> tuple[int, list[tuple[int, str]]]:
    """The body with ``args`` in place of the parameters, built with ``apply(op, *ids)``
    and ``const(value, text)``: the output's id and the (id, name) of the calls inside."""
    nodes = function.graph.nodes
    ids = [0] * len(nodes)
    place = dict(zip(function.graph.inputs, args))
    for i, node in enumerate(nodes):
        if node.op == "input":
            ids[i] = place[i]
        elif node.op == "const":
            ids[i] = const(node.const, node.label)
        else:
            ids[i] = apply(node.op, *(ids[a] for a in node.args))
    return ids[function.graph.outputs[0]], [(ids[t], name) for t, name in function.calls]


def expand_into(builder: GraphBuilder, function: Function, args) -> int:
    """A call built straight into ``builder`` (a network's activation): its output."""
    return expand(function, args, builder.apply, builder.const)[0]


# Labels given per builder (several texts of a Jacobian share one), so none is given twice.
_USED: "weakref.WeakKeyDictionary[GraphBuilder, set[str]]" = weakref.WeakKeyDictionary()


class Definitions:
    """The definitions of one text, and the parser's hooks (frontends/parse.py)."""

    def __init__(self, known: dict[str, Function] | None = None) -> None:
        self.functions: dict[str, Function] = dict(known or {})
        self.pending: list[tuple[int, str]] = []  # call results to label, in order
        self.current: str | None = None  # the name being defined (its body is parsed)
        self.params: tuple[str, ...] = ()
        self.last = None  # the token of the last statement when it is a definition

    def __contains__(self, name: str) -> bool:
        return name in self.functions

    def arity(self, name: str) -> int:
        return self.functions[name].arity

    # -- definitions ------------------------------------------------------------------------

    def define(self, parser) -> Function:
        """Parse ``def NAME(p, q) = body`` from the parser's cursor (at ``def``)."""
        self.last = parser.tok
        parser.advance()
        tok = parser.tok
        name = self._check_name(parser, tok)
        parser.advance()
        if parser.tok.text != "(":
            raise parser.fail(parser.tok, f"expected '(' after def {name}",
                              f"write: def {name}(u) = ...")
        parser.advance()
        params = self._params(parser, name)
        if parser.tok.text != "=":
            raise parser.fail(parser.tok, f"expected '=' after def {name}({', '.join(params)})",
                              f"write: def {name}({', '.join(params)}) = ...")
        parser.advance()
        if parser.tok.kind == "end" or parser.tok.text in (";", "\n"):
            raise parser.fail(parser.tok, f"def {name} has no body",
                              f"write: def {name}({', '.join(params)}) = an expression")
        function = self._body(parser, name, params)  # it stops at ; newline or the end
        self.functions[name] = function
        return function

    def _check_name(self, parser, tok) -> str:
        name = tok.text
        if tok.kind != "name":
            raise parser.fail(tok, "expected a function name after def",
                              "write: def f(u) = u*u")
        if name in FUNCTIONS:
            raise parser.fail(tok, f"cannot define {name!r}: it is a built-in function",
                              f"give it another name, such as my_{name}")
        if name in CONSTANTS:
            raise parser.fail(tok, f"cannot define {name!r}: it is a built-in constant")
        if name in self.functions:
            raise parser.fail(tok, f"{name!r} is already defined",
                              "each function is defined once; give this one another name")
        if name in parser.bound or parser.builder.has_input(name):
            raise parser.fail(tok, f"{name!r} is already used as a variable name",
                              "give the function another name")
        if name.startswith("__"):
            raise parser.fail(tok, f"names may not start with '__': {name!r}")
        return name

    def _params(self, parser, name: str) -> tuple[str, ...]:
        params: list[str] = []
        while True:
            tok = parser.tok
            if tok.text == ")" and not params:
                raise parser.fail(tok, f"def {name} needs at least one parameter",
                                  f"write: def {name}(u) = ...")
            if tok.kind != "name":
                raise parser.fail(tok, "expected a parameter name",
                                  f"write: def {name}(u, v) = ...")
            p = tok.text
            if p in params:
                raise parser.fail(tok, f"parameter {p!r} is given twice",
                                  "each parameter has its own name")
            if p in FUNCTIONS or p in CONSTANTS or p in self.functions or p == name:
                raise parser.fail(tok, f"a parameter cannot be called {p!r}: it names "
                                       "a function or a constant", "call it u, v, ...")
            if p.startswith("__"):
                raise parser.fail(tok, f"names may not start with '__': {p!r}")
            params.append(p)
            parser.advance()
            if parser.tok.text == ")":
                parser.advance()
                return tuple(params)
            if parser.tok.text != ",":
                raise parser.fail(parser.tok, "expected ',' or ')' in the parameter list")
            parser.advance()

    def _body(self, parser, name: str, params: tuple[str, ...]) -> Function:
        """The body parsed by the parser itself into a template builder of its own."""
        template = GraphBuilder()
        saved = (parser.builder, parser.bound, parser.depth, parser.defining, self.pending)
        parser.builder, parser.depth, parser.defining, self.pending = \
            template, array("q"), None, []
        parser.bound = {p: template.input(p) for p in params}
        self.current, self.params = name, params
        try:
            out = parser.expression()
            calls = tuple(self.pending)
        finally:
            parser.builder, parser.bound, parser.depth, parser.defining, self.pending = saved
            self.current, self.params = None, ()
        return Function(name, params, template.build([out], [name]), calls)

    # -- the parser's hooks -------------------------------------------------------------------

    def statement(self, parser) -> bool:
        """At a statement's start: parse a definition if there is one (True)."""
        if parser.tok.text == "def" and parser.ahead.kind in ("name", "num"):
            self.define(parser)
            return True
        self.last = None
        return False

    def call(self, parser, tok) -> bool:
        """A name in operand position: True when it opens a call of a definition."""
        text = tok.text
        if text == self.current and parser.ahead.text == "(":
            raise parser.fail(tok, f"{text} calls itself: recursion is not part of the "
                                   "language", "a def may call only functions defined before it")
        if text not in self.functions:
            if self.functions and parser.ahead.text == "(" and parser.ahead.adjacent:
                raise parser.fail(tok, f"unknown function {text!r}",
                                  f"defined so far: {', '.join(self.functions)} (a def may "
                                  "call only functions defined before it); primitives: "
                                  + ", ".join(FUNCTIONS))
            return False
        if parser.ahead.text != "(":
            raise parser.fail(tok, f"{text} is a function", f"write {text}(...)")
        return True

    def free_name(self, parser, tok) -> None:
        """A name in a body that is not a parameter: an error (a body sees its parameters only)."""
        if self.current is None:
            return
        ps = ", ".join(self.params)
        raise parser.fail(tok, f"{tok.text!r} is not a parameter of {self.current}",
                          f"a def body sees only its parameters ({ps}): pass {tok.text} "
                          "as an argument")

    def apply(self, parser, name: str, given: int, operands: list[int], open_tok, tok) -> int:
        """Close a call ``name(a, b)``: check the count, expand the body, remember the label."""
        function = self.functions[name]
        if given != function.arity:
            raise parser.fail(tok, f"{name} takes {function.arity} argument"
                                   f"{'s' if function.arity > 1 else ''}, got {given}",
                              f"def {name}({', '.join(function.params)})")
        args = operands[-given:]
        del operands[-given:]
        out, inner = expand(function, args, lambda op, *a: parser.node(open_tok, op, *a),
                            parser.builder.const)
        self.pending.append((out, name))
        self.pending.extend(inner)
        return out

    def finish(self, parser) -> None:
        """After the last statement: no definition may end the text; label the calls."""
        if self.last is not None:
            raise parser.fail(self.last, "the text ends with a definition",
                              "end with the expression to differentiate, e.g. "
                              f"def f(u) = u*u; f(x)")
        builder = parser.builder
        used = _USED.setdefault(builder, set())
        used.update(parser.bound)  # statement names: a later text's calls must not reuse them
        if not self.pending:
            return
        named = set(parser.bound.values())
        counters: dict[str, int] = {}
        for node, name in self.pending:
            if node in named or not builder.node(node).args:
                continue
            named.add(node)
            k = counters.get(name, 0)
            while True:
                k += 1
                label = f"{name}_{k}"
                if label not in used and not builder.has_input(label) and not re.search(
                        rf"(?<![A-Za-z0-9_]){label}(?![A-Za-z0-9_])", parser.text):
                    break
            counters[name] = k
            used.add(label)
            builder.label(node, label)


def arity(defs: Definitions | None, name: str) -> int:
    """A call's number of arguments: a definition's, else the op table's."""
    return defs.arity(name) if defs and name in defs else OPS[name].arity


def parse_definition(name: str, params: tuple[str, ...], body: str,
                     known: dict[str, Function], max_nodes: int = 100_000) -> Function:
    """One definition given apart from an expression (a spec's ``functions:``), checked by
    the parser as ``def name(params) = body``, seeing the ``known`` ones before it. An
    InputError's column counts in ``body`` (negative: in the header)."""
    from backprop.errors import InputError
    from backprop.frontends.parse import _Parser

    head = f"def {name}({', '.join(params)}) = "
    parser = _Parser(head + body, GraphBuilder(), max_nodes, max_nodes)
    parser.defs = defs = Definitions(known)
    try:
        if not defs.statement(parser):
            raise parser.fail(parser.tok, "expected a function name")
        if parser.tok.kind != "end":
            raise parser.fail(parser.tok, "a function's text is one expression",
                              "write the body only: u * sigmoid(u)")
    except InputError as error:
        error.column = (error.column or 0) - len(head)
        raise
    return defs.functions[name]
