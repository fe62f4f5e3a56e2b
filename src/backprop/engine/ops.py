"""The one table of primitive operations.

Every op declares, once, its value and its local partial derivatives d(out)/d(arg_i).
Both are written against a small *backend* ``B`` (IEEE floats, SymPy symbols or numpy
arrays), so the same formula serves numeric evaluation, every differentiation mode, the
symbolic gradient and the SymPy cross-check. ``tests/test_ops.py`` proves each entry:
``sympy.diff(value) - partial`` simplifies to 0.

Partials receive ``out`` (the op's own value) so that rules such as exp' = exp or
tanh' = 1 - tanh^2 reuse it instead of recomputing.

Conventions at kinks (same in every mode and in the check): abs'(0) = 0, relu'(0) = 0.
sign, step (relu's partial) and times (a product where a zero first factor is an exact 0:
pow's partials) are what gradient programs (engine/program.py) are made of besides the
rest; their own partials are 0 where defined (sign, step) and (x, z) for times(z, x).

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
    precedence: int = 100  # for printing: 0 (< <= > >=), 1 (+ -), 2 (* /), 3 (unary -), 4 (^), 100 (call)
    # kink(B, out, *args) -> (left, right, place) or None: at a point where the op has no
    # derivative (abs at 0, a tie in max), each argument's one-sided partials from below and
    # from above, and the kink in words; the op's ``partials`` are the convention taken
    # there (docs/expressions.md, engine/kinks.py). where's kink (its condition at equality)
    # needs the comparison's operands: engine/kinks.py finds it.
    kink: Callable[..., Any] | None = None
    # a selecting op (where, max, min): an exact-zero partial is a branch not taken, and
    # every mode makes its contribution an exact zero (engine/modes/__init__.py, "untaken")
    selects: bool = False

    @property
    def is_function(self) -> bool:
        return self.precedence == 100


def _unary(name: str, value, partial, kink=None) -> Op:
    return Op(name, 1, name, lambda B, a: value(B, a), lambda B, out, a: (partial(B, out, a),),
              kink=kink)


def _compare(name: str, symbol: str) -> Op:
    """A comparison: 1 where it holds, 0 where not (nan for nan); only ``where``'s condition.
    Its partials are 0 (its derivative where defined); equality is ``where``'s kink."""
    return Op(name, 2, symbol, lambda B, a, b: getattr(B, name)(a, b),
              lambda B, out, a, b: (0, 0), 0)


def _at(test, left, right, place):
    """A kink rule: the one-sided partials where ``test(*args)`` holds, else None."""
    return lambda B, out, *args: (left, right, place) if test(*args) else None


def _jump(B, out, a):
    """floor and ceil at a whole number: the value jumps, the derivative is 0 either side."""
    return ((0,), (0,), "at a whole number, where the value jumps") if B.floor(a) == a else None


def _softplus(B, a):
    """log(1 + e^a) as max(a, 0) + log1p(e^-|a|): e^-|a| never overflows."""
    return B.relu(a) + B.log1p(B.exp(-B.abs(a)))


def _gelu(B, a):
    """x * Phi(x), Phi the standard normal CDF, in PyTorch's erf form."""
    return 0.5 * a * (1 + B.erf(a * B.div(1, B.sqrt(2))))


def _gelu_partial(B, out, a):
    # Phi(x) + x * phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
    return 0.5 * (1 + B.erf(a * B.div(1, B.sqrt(2)))) \
        + a * B.div(B.exp(-0.5 * (a * a)), B.sqrt(2 * B.pi))


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("add", 2, "+", lambda B, a, b: a + b, lambda B, out, a, b: (1, 1), 1),
        Op("sub", 2, "-", lambda B, a, b: a - b, lambda B, out, a, b: (1, -1), 1),
        Op("mul", 2, "*", lambda B, a, b: a * b, lambda B, out, a, b: (b, a), 2),
        Op("div", 2, "/", lambda B, a, b: B.div(a, b),
           lambda B, out, a, b: (B.div(1, b), -B.div(out, b)), 2),
        Op("neg", 1, "-", lambda B, a: -a, lambda B, out, a: (-1,), 3),
        _compare("lt", "<"),
        _compare("le", "<="),
        _compare("gt", ">"),
        _compare("ge", ">="),
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
        _unary("abs", lambda B, a: B.abs(a), lambda B, out, a: B.sign(a),
               _at(lambda a: a == 0, (-1,), (1,), "at 0")),
        _unary("sigmoid", lambda B, a: B.sigmoid(a), lambda B, out, a: out * (1 - out)),
        _unary("relu", lambda B, a: B.relu(a), lambda B, out, a: B.step(a),
               _at(lambda a: a == 0, (0,), (1,), "at 0")),
        _unary("sign", lambda B, a: B.sign(a), lambda B, out, a: 0,
               _at(lambda a: a == 0, (0,), (0,), "at 0, where the value jumps")),
        _unary("step", lambda B, a: B.step(a), lambda B, out, a: 0),
        Op("times", 2, "times", lambda B, z, x: B.times(z, x), lambda B, out, z, x: (x, z)),
        # piecewise and several arguments (docs/expressions.md: each one's kink convention)
        Op("max", 2, "max", lambda B, a, b: B.max(a, b),
           lambda B, out, a, b: (B.where(B.ge(a, b), 1, 0), B.where(B.ge(a, b), 0, 1)),
           kink=_at(lambda a, b: a == b, (0, 0), (1, 1), "at a tie"), selects=True),
        Op("min", 2, "min", lambda B, a, b: B.min(a, b),
           lambda B, out, a, b: (B.where(B.le(a, b), 1, 0), B.where(B.le(a, b), 0, 1)),
           kink=_at(lambda a, b: a == b, (1, 1), (0, 0), "at a tie"), selects=True),
        Op("where", 3, "where", lambda B, c, a, b: B.where(c, a, b),
           lambda B, out, c, a, b: (0, B.where(c, 1, 0), B.where(c, 0, 1)), selects=True),
        Op("atan2", 2, "atan2", lambda B, y, x: B.atan2(y, x),
           lambda B, out, y, x: (B.div(x, x * x + y * y), B.div(-y, x * x + y * y))),
        Op("hypot", 2, "hypot", lambda B, x, y: B.hypot(x, y),
           lambda B, out, x, y: (B.times(x, B.div(1, out)), B.times(y, B.div(1, out))),
           kink=_at(lambda x, y: x == 0 and y == 0, (-1, -1), (1, 1), "at the origin")),
        _unary("floor", lambda B, a: B.floor(a), lambda B, out, a: 0, _jump),
        _unary("ceil", lambda B, a: B.ceil(a), lambda B, out, a: 0, _jump),
        Op("leaky_relu", 2, "leaky_relu", lambda B, x, s: B.where(B.gt(x, 0), x, s * x),
           lambda B, out, x, s: (B.where(B.gt(x, 0), 1, s), B.where(B.gt(x, 0), 0, x)),
           kink=lambda B, out, x, s: ((s, 0), (1, 0), "at 0") if x == 0 and s != 1 else None),
        _unary("elu", lambda B, a: B.where(B.gt(a, 0), a, B.expm1(a)),
               lambda B, out, a: B.where(B.gt(a, 0), 1, B.exp(a))),
        _unary("gelu", _gelu, _gelu_partial),
        _unary("erf", lambda B, a: B.erf(a),
               lambda B, out, a: B.div(2 * B.exp(-(a * a)), B.sqrt(B.pi))),
        # numerically stable forms (docs/expressions.md: each beside its naive form)
        _unary("log1p", lambda B, a: B.log1p(a), lambda B, out, a: B.div(1, 1 + a)),
        _unary("expm1", lambda B, a: B.expm1(a), lambda B, out, a: B.exp(a)),
        _unary("softplus", _softplus, lambda B, out, a: B.sigmoid(a)),
        _unary("log_sigmoid", lambda B, a: -_softplus(B, -a), lambda B, out, a: B.sigmoid(-a)),
        Op("logsumexp", 2, "logsumexp",
           lambda B, a, b: B.max(a, b) + B.log1p(B.exp(-B.abs(a - b))),
           lambda B, out, a, b: (B.sigmoid(a - b), B.sigmoid(b - a))),
    )
}

FUNCTIONS = tuple(name for name, op in OPS.items() if op.is_function)
COMPARISONS = tuple(name for name, op in OPS.items() if op.precedence == 0)
# calls of any number (2 or more) of arguments: a left fold of the binary op, which
# printer.py writes back as one call (max(a, b, c) is max(max(a, b), c))
VARIADIC = ("max", "min", "logsumexp")
CONSTANTS = ("pi", "e")
LEAVES = ("input", "const")
