"""The one table of primitive operations.

Every op declares, once, its value and its local partial derivatives d(out)/d(arg_i).
Both are written against a small *backend* ``B`` (IEEE floats, SymPy symbols or numpy
arrays), so the same formula serves numeric evaluation, every differentiation mode, the
symbolic gradient and the SymPy cross-check. ``tests/test_ops.py`` proves each entry:
``sympy.diff(value) - partial`` simplifies to 0.

Partials receive ``out`` (the op's own value) so that rules such as exp' = exp or
tanh' = 1 - tanh^2 reuse it instead of recomputing.

Conventions at kinks (same in every mode and in the check): abs'(0) = 0, relu'(0) = 0.

``sign``, ``step`` and ``times`` are what abs', relu' and pow's partials are made of, so a
gradient program (engine/program.py) is built of op-table primitives only. sign and step
have the partial 0: their derivative where it is defined (everywhere but 0, where it is
taken as 0 too, as at every kink). ``times(z, x)`` is z*x with a zero factor ``z`` giving
an exact 0 (0*inf is 0): its partials are x and z.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Op:
    """A primitive: its arity, how it prints, its value and its local partials."""

    name: str
    arity: int
    symbol: str  # infix symbol ("+", "*", "^"), "-" for negation, else the function name
    value: Callable[..., Any]  # value(B, *args)
    partials: Callable[..., tuple]  # partials(B, out, *args) -> one partial per argument
    precedence: int = 100  # for printing: 1 (+ -), 2 (* /), 3 (unary -), 4 (^), 100 (call)

    @property
    def is_function(self) -> bool:
        return self.precedence == 100


def _unary(name: str, value, partial) -> Op:
    return Op(name, 1, name, lambda B, a: value(B, a), lambda B, out, a: (partial(B, out, a),))


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("add", 2, "+", lambda B, a, b: a + b, lambda B, out, a, b: (1, 1), 1),
        Op("sub", 2, "-", lambda B, a, b: a - b, lambda B, out, a, b: (1, -1), 1),
        Op("mul", 2, "*", lambda B, a, b: a * b, lambda B, out, a, b: (b, a), 2),
        Op("div", 2, "/", lambda B, a, b: B.div(a, b),
           lambda B, out, a, b: (B.div(1, b), -B.div(out, b)), 2),
        Op("neg", 1, "-", lambda B, a: -a, lambda B, out, a: (-1,), 3),
        # B.times: a zero factor is an exact zero, so d(x^0)/dx and d(0^y)/dy are 0, not 0*inf
        Op("pow", 2, "^", lambda B, a, b: B.pow(a, b),
           lambda B, out, a, b: (B.times(b, B.pow(a, b - 1)), B.times(out, B.log(a))), 4),
        _unary("sin", lambda B, a: B.sin(a), lambda B, out, a: B.cos(a)),
        _unary("cos", lambda B, a: B.cos(a), lambda B, out, a: -B.sin(a)),
        _unary("tan", lambda B, a: B.tan(a), lambda B, out, a: 1 + out * out),
        _unary("asin", lambda B, a: B.asin(a), lambda B, out, a: B.div(1, B.sqrt(1 - a * a))),
        _unary("acos", lambda B, a: B.acos(a), lambda B, out, a: -B.div(1, B.sqrt(1 - a * a))),
        _unary("atan", lambda B, a: B.atan(a), lambda B, out, a: B.div(1, 1 + a * a)),
        _unary("sinh", lambda B, a: B.sinh(a), lambda B, out, a: B.cosh(a)),
        _unary("cosh", lambda B, a: B.cosh(a), lambda B, out, a: B.sinh(a)),
        _unary("tanh", lambda B, a: B.tanh(a), lambda B, out, a: 1 - out * out),
        _unary("exp", lambda B, a: B.exp(a), lambda B, out, a: out),
        _unary("log", lambda B, a: B.log(a), lambda B, out, a: B.div(1, a)),
        _unary("sqrt", lambda B, a: B.sqrt(a), lambda B, out, a: B.div(1, 2 * out)),
        _unary("abs", lambda B, a: B.abs(a), lambda B, out, a: B.sign(a)),
        _unary("sigmoid", lambda B, a: B.sigmoid(a), lambda B, out, a: out * (1 - out)),
        _unary("relu", lambda B, a: B.relu(a), lambda B, out, a: B.step(a)),
        _unary("sign", lambda B, a: B.sign(a), lambda B, out, a: 0),
        _unary("step", lambda B, a: B.step(a), lambda B, out, a: 0),
        Op("times", 2, "times", lambda B, z, x: B.times(z, x), lambda B, out, z, x: (x, z)),
    )
}

FUNCTIONS = tuple(name for name, op in OPS.items() if op.is_function)
# the primitives gradient programs need beyond the language's own functions: they parse
# (a printed program reads back) but hints do not offer them
PROGRAM_PRIMITIVES = ("sign", "step", "times")
CONSTANTS = ("pi", "e")
LEAVES = ("input", "const")
