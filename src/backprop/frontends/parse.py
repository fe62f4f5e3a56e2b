"""The expression language: our own tokenizer and an iterative precedence parser.

Nothing here calls eval, exec, compile, ast, sympify or parse_expr, and nothing recurses:
operators and operands live on two explicit stacks (shunting-yard), so a sum of a million
terms parses in linear time and a hundred thousand nested parentheses cost only memory.

Grammar (docs/expressions.md): statements separated by ``;`` or newlines, each either
``name = expr`` or a bare ``expr``; the last one is the output; ``#`` starts a comment. Precedence, loosest first:
``< <= > >=`` (only as ``where``'s condition), ``+ -``, ``* /``, unary ``- +``, ``** ^``
(right-associative, so ``-x**2`` is ``-(x**2)`` and ``2**-x`` is ``2**(-x)``).

A call is resolved by ``call_signature`` (how many arguments a name takes) and
``_Parser.build_call`` (its nodes): an op of the table, a variadic op folded left
(``max(a, b, c)`` is ``max(max(a, b), c)``), or ``clip(x, lo, hi)``, which is
``min(max(x, lo), hi)``.
"""

from __future__ import annotations

import keyword
from array import array
import math
import re
from typing import Iterator, NamedTuple

from backprop.engine.accel import CORE
from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph, GraphBuilder, Node
from backprop.limits import Limits
from backprop.engine.ops import COMPARISONS, CONSTANTS, FUNCTIONS, OPS, VARIADIC
from backprop.frontends.functions import Definitions, arity as arity_of


_TOKEN = re.compile(
    r"(?P<ws>[ \t\r]+|#[^\n]*)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/^(),;=<>\n])"
    r"|(?P<bad>.)",
    re.S,
)

# A number in --at: the language's numbers with an optional sign, inf, nan, pi or e (ASCII).
_POINT_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|nan)|pi|e)",
                          re.ASCII)

_BINARY = {"+": ("add", 1), "-": ("sub", 1), "*": ("mul", 2), "/": ("div", 2),
           "**": ("pow", 4), "^": ("pow", 4)}
_COMPARE = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}  # precedence 0, where's condition only
_UNARY_PRECEDENCE = 3
_CONSTANT_VALUES = {"pi": math.pi, "e": math.e}

_BAD_CHAR_HINTS = {
    ".": "attribute access is not part of the language; numbers are written 0.5 or .5",
    "'": "strings are not part of the language",
    '"': "strings are not part of the language",
    "[": "subscripts are not part of the language; name each variable (x_1, x_2)",
    "{": "use parentheses for grouping",
    ":": "lambdas, slices and annotations are not part of the language",
    "!": "the comparisons are < <= > >=, inside where(...) only",
    "%": "the operators are + - * / ** ^",
    "&": "boolean operators are not part of the language",
    "|": "boolean operators are not part of the language",
}


class Call(NamedTuple):
    """What a call name takes: at least ``least`` arguments, at most ``most`` (None: any)."""

    least: int
    most: int | None
    usage: str  # how to write it, for the hint of an error


_SUGAR = {"clip": Call(3, 3, "clip(x, lo, hi)")}  # calls that are not one op
CALL_NAMES = FUNCTIONS + tuple(_SUGAR)


def call_signature(name: str) -> Call | None:
    """The arguments the call ``name`` takes, or None when it is not a function."""
    if name in _SUGAR:
        return _SUGAR[name]
    op = OPS.get(name)
    if op is None or not op.is_function:
        return None
    if name in VARIADIC:
        return Call(2, None, f"{name}(a, b, ...)")
    if name == "where":
        return Call(3, 3, "where(x > 0, a, b)")
    names = ", ".join("xyz"[:op.arity]) if name != "leaky_relu" else "x, 0.01"
    return Call(op.arity, op.arity, f"{name}({names})")


class Token(NamedTuple):
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int  # offset in the text (line and column are worked out only for an error)
    adjacent: bool  # no whitespace between this token and the previous one


_KINDS = {_TOKEN.groupindex[name]: name for name in ("ws", "num", "name", "op", "bad")}


def iter_tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text``, rejecting any character outside the language."""
    kinds, prev_end = _KINDS, -1
    for m in _TOKEN.finditer(text):
        kind = kinds[m.lastindex]
        if kind == "ws":
            continue
        start = m.start()
        if kind == "bad":
            ch = m.group()
            hint = _BAD_CHAR_HINTS.get(ch, "names are ASCII letters, digits and _" if ch.isalpha()
                                       else "the language has numbers, names, + - * / ** ^, "
                                           "parentheses, function calls, = and ;")
            raise _error(text, start, f"unexpected character {ch!r}", hint)
        yield Token(kind, m.group(), start, start == prev_end)
        prev_end = m.end()
    yield Token("end", "", len(text), False)


def tokenize(text: str) -> list[Token]:
    return list(iter_tokens(text))


def _error(text: str, pos: int, message: str, hint=None, cls=InputError):
    """An error pointing at offset ``pos``: its line (when there are several) and column."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    source = text[line_start:] if line_end < 0 else text[line_start:line_end]
    line = text.count("\n", 0, line_start) + 1 if "\n" in text else None
    return cls(message, hint=hint, source=source[:max(400, pos - line_start + 80)],
               column=pos - line_start, line=line)


class _Parser:
    """One pass over the tokens with an operand stack and an operator stack."""

    def __init__(self, text: str, builder: GraphBuilder, max_nodes: int, max_depth: int):
        self.text = text
        self.builder = builder
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.stream = iter_tokens(text)
        # a cursor of three tokens: the parser looks one back (hints) and one ahead (calls)
        self.prev = self.tok = None
        self.ahead = next(self.stream)
        self.advance()
        self.bound: dict[str, int] = {}  # statement names
        self.defining: str | None = None  # the name the current statement assigns
        self.depth = array("q")  # graph depth of each node of the builder, 8 bytes each
        # def statements (frontends/functions.py); None, and no hook runs, in a text without
        self.defs = Definitions() if "def" in text else None

    def fail(self, tok: Token, message: str, hint: str | None = None, cls=InputError):
        return _error(self.text, tok.pos, message, hint, cls)

    def advance(self) -> None:
        """Move the cursor one token on (the stream ends with an "end" token, repeated)."""
        self.prev, self.tok = self.tok, self.ahead
        if self.ahead.kind != "end":
            self.ahead = next(self.stream)

    def parse(self) -> tuple[int, str]:
        """Parse every statement; return the output node and its name."""
        output = name = None
        bare = False  # the previous statement was a bare expression
        while self.tok.kind != "end":
            tok = self.tok
            if tok.text in (";", "\n"):
                self.advance()
                continue
            if bare:
                raise self.fail(tok, "only the last statement may be a bare expression",
                                "name it: a = ...")
            if self.defs and self.defs.statement(self):
                continue
            target = None
            if tok.kind == "name" and self.ahead.text == "=":
                target = self.check_target(tok)
                self.advance()
                self.advance()
            start = self.tok
            self.defining = target
            output = self.expression()
            self.defining = None
            if target is not None:
                self.bound[target] = output
                self.builder.label(output, target)
            name, bare = target, target is None
            if bare:
                name = output_name(self.text, start.pos, self.tok.pos)
        if self.defs:
            self.defs.finish(self)
        if output is None:
            raise self.fail(self.tok, "empty expression", "try: backprop grad \"sin(2*x+y)\"")
        return output, name

    def check_target(self, tok: Token) -> str:
        name = tok.text
        if name in CALL_NAMES or name in CONSTANTS:
            raise self.fail(tok, f"cannot assign to {name!r}: it is a built-in name")
        if name in self.bound or (self.defs and name in self.defs):
            raise self.fail(tok, f"{name!r} is already defined", "each name is assigned once")
        if self.builder.has_input(name):
            raise self.fail(tok, f"{name!r} is used as an input before this definition",
                            "define a name before using it")
        return name

    def node(self, tok: Token, op: str, *args: int) -> int:
        node_id = self.builder.apply(op, *args)
        depths = self.depth
        while len(depths) < len(self.builder):  # leaves added meanwhile have depth 0
            depths.append(0)
        depth = 1 + (depths[args[0]] if len(args) == 1 else max(depths[a] for a in args))
        if depth > self.max_depth:
            raise self.fail(tok, f"the expression is {depth:,} operations deep, over the "
                                 f"limit of {self.max_depth:,}", "raise it with --max-depth",
                            LimitError)
        depths[node_id] = depth
        if len(self.builder) > self.max_nodes:
            raise self.fail(tok, f"the graph has over {self.max_nodes:,} nodes",
                            "raise the limit with --max-nodes", LimitError)
        return node_id

    def expression(self) -> int:
        """Parse one expression from the cursor on; stop at ; newline or end."""
        operands: list[int] = []
        operators: list[tuple] = []  # (kind, payload, precedence, token)
        self._operators = operators  # reduce() checks a comparison's context on it
        expect_operand = True
        advance = self.advance
        while True:
            tok = self.tok
            text = tok.text
            if expect_operand:
                if tok.kind == "num":
                    operands.append(self.number(tok))
                    expect_operand = False
                elif tok.kind == "name":
                    following = self.ahead
                    if call_signature(text) is not None:
                        if following.text != "(":
                            raise self.fail(tok, f"{text} is a function", f"write {text}(...)")
                        operators.append(("call", text, 0, tok))
                        advance()
                    elif self.defs and self.defs.call(self, tok):
                        operators.append(("call", text, 0, tok))
                        advance()
                    elif following.text == "(" and following.adjacent:
                        raise self.fail(tok, f"unknown function {text!r}",
                                        "functions: " + ", ".join(CALL_NAMES))
                    else:
                        operands.append(self.name(tok))
                        expect_operand = False
                elif text == "(":
                    operators.append(("paren", None, 0, tok))
                elif text in ("-", "+"):
                    operators.append(("unary", text, _UNARY_PRECEDENCE, tok))
                elif text == ")" and operators and operators[-1][0] == "call" \
                        and self.prev.text == "(":
                    fn = operators[-1][1]
                    signature = call_signature(fn)
                    if signature is None:  # a def's call (functions.py)
                        arity = arity_of(self.defs, fn)
                        signature = Call(arity, arity, f"{fn}(...)")
                    needs = "an argument" if signature.least == 1 else _arguments(signature)
                    raise self.fail(tok, f"{fn}() needs {needs}",
                                    f"write {signature.usage}")
                elif tok.kind == "end" or text in (";", "\n"):
                    raise self.fail(tok, "the expression ends too early",
                                    "finish it with a number, a name or (...)")
                else:
                    raise self.fail(tok, f"expected a number, a name or '(', found {text!r}")
            else:
                if text in _BINARY or text in _COMPARE:
                    op, prec = _BINARY[text] if text in _BINARY else (_COMPARE[text], 0)
                    right_assoc = prec == 4
                    while operators and operators[-1][0] in ("binary", "unary") and (
                        operators[-1][2] > prec or (operators[-1][2] == prec and not right_assoc)
                    ):
                        self.reduce(operators.pop(), operands)
                    operators.append(("binary", op, prec, tok))
                    expect_operand = True
                elif text == ")":
                    while operators and operators[-1][0] in ("binary", "unary"):
                        self.reduce(operators.pop(), operands)
                    if not operators:
                        raise self.fail(tok, "unmatched ')'")
                    kind, fn, given, open_tok = operators.pop()
                    if kind == "call" and self.defs and fn in self.defs:
                        operands.append(self.defs.apply(self, fn, given + 1, operands,
                                                        open_tok, tok))
                    elif kind == "call":
                        signature = call_signature(fn)
                        if given + 1 < signature.least:
                            raise self.fail(tok, f"{fn} takes {_arguments(signature)}, "
                                                 f"got {given + 1}",
                                            f"write {signature.usage}")
                        count = _on_stack(fn, given + 1)
                        args = operands[-count:]
                        del operands[-count:]
                        operands.append(self.build_call(open_tok, fn, args))
                elif text == ",":
                    self.comma(tok, operators, operands)
                    expect_operand = True
                elif tok.kind == "end" or text in (";", "\n"):
                    while operators:
                        entry = operators.pop()
                        if entry[0] in ("paren", "call"):
                            raise self.fail(entry[3], "'(' is never closed", "add a ')'")
                        self.reduce(entry, operands)
                    return operands[-1]
                elif text == "=":
                    following = self.ahead
                    raise self.fail(tok, "unexpected '='",
                                    f"did you mean {following.text}=?" if following.text in
                                    ("<", ">") and following.adjacent else
                                    "assignments look like: name = expression")
                elif text in ("==", "!="):
                    raise self.fail(tok, f"{text!r} is not a comparison of the language",
                                    "where(...) takes < <= > >= (equality is a kink: "
                                    "docs/expressions.md)")
                else:
                    prev = self.prev
                    hint = "put an operator between them, for example *"
                    if tok.adjacent and prev.kind == "num":
                        hint = f"write {prev.text}*{text}"
                    elif keyword.iskeyword(text):
                        hint = f"{text!r} is Python; the language has only arithmetic and calls"
                    raise self.fail(tok, f"missing operator before {text!r}", hint)
            advance()

    def comma(self, tok: Token, operators: list[tuple], operands: list[int]) -> None:
        """A ',' between the arguments of a two-argument call (``times(z, x)``): the first
        argument is finished; the call entry counts the arguments given (its third field)."""
        at = next((k for k in range(len(operators) - 1, -1, -1)
                   if operators[k][0] in ("call", "paren")), None)
        if at is None or operators[at][0] == "paren":
            raise self.fail(tok, "unexpected ','", "arguments are separated by ',' only "
                                                   "inside a call")
        _, fn, given, open_tok = operators[at]
        user = self.defs is not None and fn in self.defs  # a def's call (functions.py)
        if user:
            arity = arity_of(self.defs, fn)
            if given + 1 >= arity:
                raise self.fail(tok, f"{fn} takes {arity} argument{'s' if arity > 1 else ''}")
        else:
            signature = call_signature(fn)
            if signature.most is not None and given + 1 >= signature.most:
                raise self.fail(tok, f"{fn} takes {_arguments(signature)}",
                                f"write {signature.usage}")
        while len(operators) > at + 1:
            self.reduce(operators.pop(), operands)
        if not user and _on_stack(fn, given + 2) < given + 2:  # fold as the arguments
            right = operands.pop()  # come, so that max(a, b, c) is max(max(a, b), c)
            operands.append(self.node(open_tok, "max" if fn == "clip" else fn,
                                      operands.pop(), right))
        operators[at] = ("call", fn, given + 1, open_tok)

    def build_call(self, tok: Token, name: str, args: list[int]) -> int:
        """The node of the call ``name(args)`` (its count already checked against
        ``call_signature``): one op, a left fold of a variadic op, or clip's two."""
        if name == "clip":  # max(x, lo) was built at the second comma
            return self.node(tok, "min", *args)
        if name == "where" and self.builder.node(args[0]).op not in COMPARISONS:
            raise self.fail(tok, "where's condition must be a comparison",
                            "write where(x > 0, a, b) with one of < <= > >=")
        return self.node(tok, name, *args)

    def compare(self, tok: Token, operators: list[tuple], operands: list[int]) -> None:
        """Check that the comparison at ``tok`` is where's condition: the first argument
        of a where call, outside any parentheses, comparing two numbers (no chain)."""
        at = next((k for k in range(len(operators) - 1, -1, -1)
                   if operators[k][0] in ("call", "paren")), None)
        context = operators[at] if at is not None else None
        if context is None or context[0] != "call" or context[1] != "where" or context[2]:
            raise self.fail(tok, f"a comparison ({tok.text}) is allowed only as the "
                                 "condition of where", "write where(x > 0, a, b)")
        if any(self.builder.node(o).op in COMPARISONS for o in operands[-2:]):
            raise self.fail(tok, "comparisons do not chain",
                            "compare two numbers: where(x > 0, a, b)")

    def reduce(self, entry: tuple, operands: list[int]) -> None:
        kind, op, _, tok = entry
        if kind == "unary":
            if op == "-":
                operand = operands.pop()
                node = self.builder.node(operand)
                if node.op == "const" and not node.label.startswith("-"):
                    operands.append(self.builder.const(-node.const, "-" + node.label))
                else:
                    operands.append(self.node(tok, "neg", operand))
            return
        if op in COMPARISONS:
            self.compare(tok, self._operators, operands)
        right = operands.pop()
        left = operands.pop()
        operands.append(self.node(tok, op, left, right))

    def number(self, tok: Token) -> int:
        value = float(tok.text)
        if math.isinf(value):
            raise self.fail(tok, f"the number {tok.text[:20]}{'...' if len(tok.text) > 20 else ''} "
                                 "is too large for a double (over 1.8e308)")
        return self.builder.const(value, tok.text)

    def name(self, tok: Token) -> int:
        text = tok.text
        if text in self.bound:
            return self.bound[text]
        if text in _CONSTANT_VALUES:
            return self.builder.const(_CONSTANT_VALUES[text], text)
        if text.startswith("__"):
            raise self.fail(tok, f"names may not start with '__': {text!r}")
        if self.defs:
            self.defs.free_name(self, tok)
        if text == self.defining:
            raise self.fail(tok, f"{text!r} is used in its own definition",
                            "a name cannot refer to itself; give the new value a new name")
        return self.builder.input(text)


def _on_stack(name: str, given: int) -> int:
    """How many of a call's ``given`` arguments are still separate operands: a variadic
    call folds each one after the second as it comes, clip folds max(x, lo) at once."""
    if name in VARIADIC:
        return min(given, 2)
    if name == "clip":
        return given if given < 3 else 2
    return given


def _arguments(signature: Call) -> str:
    """'3 arguments', '2 or more arguments', '1 argument'."""
    if signature.most is None:
        return f"{signature.least} or more arguments"
    return f"{signature.least} argument{'s' if signature.least > 1 else ''}"


def point_number(text: str) -> float | None:
    """The value of a number as --at takes it (docs/expressions.md), or None if it is not one."""
    if not _POINT_NUMBER.fullmatch(text):
        return None
    sign, body = (-1.0, text[1:]) if text[0] == "-" else (1.0, text.lstrip("+"))
    return sign * _CONSTANT_VALUES[body] if body in _CONSTANT_VALUES else float(text)


def output_name(text: str, start: int, stop: int) -> str:
    """The name of a bare expression's output: its text, shortened when long."""
    name = text[start:min(stop, start + 200)].strip()
    return name[:60] + " ..." if stop - start > 200 else name


def parse_into(builder: GraphBuilder, text: str, *, max_nodes: int = Limits.max_nodes,
               max_depth: int = Limits.max_depth) -> tuple[int, str]:
    """Parse ``text`` into ``builder``; return (output node id, output name)."""
    return _Parser(text, builder, max_nodes, max_depth).parse()


def parse(*texts: str, max_nodes: int = Limits.max_nodes,
          max_depth: int = Limits.max_depth) -> Graph:
    """Parse one or more expressions into one graph (several outputs make a Jacobian)."""
    if CORE is not None:  # the compiled parser; None means "let Python parse (or word the error)"
        parsed = CORE.parse(texts, max_nodes, max_depth, Node)
        if parsed is not None:
            nodes, inputs, outputs, spans = parsed
            names = [text[start:stop] if is_target else output_name(text, start, stop)
                     for text, (start, stop, is_target) in zip(texts, spans)]
            return Graph(nodes, tuple(outputs), tuple(names), inputs=tuple(inputs))
    builder = GraphBuilder()
    outputs, names = [], []
    for text in texts:
        out, name = parse_into(builder, text, max_nodes=max_nodes, max_depth=max_depth)
        outputs.append(out)
        names.append(name)
    return builder.build(outputs, names)
