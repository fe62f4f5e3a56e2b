"""The compiled core's op kernels, generated from the op table.

Each entry of ``ops.OPS`` is run on ``C``, a backend whose numbers are C expressions:
arithmetic builds expression text, and each primitive of ``backends.FLOAT`` becomes a call
to the C helper ``f_<name>`` (hand-written in ``_core.c``, with FLOAT's IEEE rules). The
result is ``_core_ops.h``: the op codes, their names and arities, ``op_value`` and
``op_partials``. So no derivative is written in C by hand.

``python -m backprop.engine.cgen`` rewrites the header; tests/test_cgen.py fails when it is stale.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

from backprop.engine.backends import FLOAT
from backprop.engine.ops import FUNCTIONS, LEAVES, OPS

HEADER = Path(__file__).with_name("_core_ops.h")

# C precedence levels that matter here (higher binds tighter)
_ADD, _MUL, _UNARY, _PRIMARY = 1, 2, 3, 4


def _infix(symbol: str, precedence: int, reflected: bool = False):
    """The method for one C infix operator (reflected: Python number on the left)."""

    def method(self, other):
        left, right = (lift(other), self) if reflected else (self, lift(other))
        # parentheses keep Python's grouping: floating-point operations do not reassociate
        lt = left.text if left.precedence >= precedence else f"({left.text})"
        rt = right.text if right.precedence > precedence else f"({right.text})"
        return CExpr(f"{lt} {symbol} {rt}", precedence)

    return method


class CExpr:
    """A C expression of type double, with the precedence of its outermost operator."""

    def __init__(self, text: str, precedence: int = _PRIMARY):
        self.text = text
        self.precedence = precedence

    __add__, __radd__ = _infix("+", _ADD), _infix("+", _ADD, reflected=True)
    __sub__, __rsub__ = _infix("-", _ADD), _infix("-", _ADD, reflected=True)
    __mul__, __rmul__ = _infix("*", _MUL), _infix("*", _MUL, reflected=True)

    def __neg__(self):
        text = self.text if self.precedence > _UNARY else f"({self.text})"
        return CExpr(f"-{text}", _UNARY)


def lift(x) -> CExpr:
    """A Python number as a C double literal; a CExpr as itself."""
    if isinstance(x, CExpr):
        return x
    value = float(x)
    if value != x or value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"no exact C double literal for {x!r}")
    text = repr(value)
    return CExpr(text, _UNARY if text.startswith("-") else _PRIMARY)


def _helper(name: str):
    def call(*args):
        return CExpr(f"f_{name}({', '.join(lift(a).text for a in args)})")

    call.__name__ = name
    return call


# the C backend: the same primitives as FLOAT, each a call to its C helper
C = SimpleNamespace(
    name="c", one=lift(FLOAT.one), pi=lift(FLOAT.pi),
    **{name: _helper(name) for name, fn in vars(FLOAT).items() if callable(fn)},
)


def _kernels() -> tuple[list[str], list[str]]:
    """The cases of op_value and op_partials, one line per op."""
    values, partials = [], []
    operands = (CExpr("a"), CExpr("b"), CExpr("c"))
    for name, op in OPS.items():
        args = operands[: op.arity]
        values.append(f"    case {name.upper()}: return {lift(op.value(C, *args)).text};")
        results = op.partials(C, CExpr("out"), *args)
        targets = ("pa", "pb", "pc")[: op.arity]
        assigns = " ".join(f"*{t} = {lift(p).text};" for t, p in zip(targets, results, strict=True))
        partials.append(f"    case {name.upper()}: {assigns} return;")
    return values, partials


def _wrapped(head: str, items: list[str], tail: str) -> list[str]:
    """A C initializer list, one short line per few items."""
    lines = textwrap.wrap(", ".join(items), 84, break_on_hyphens=False)
    return [head, *(f"    {line}" for line in lines), tail]


def generate() -> str:
    """The text of _core_ops.h for the current op table."""
    codes = [*OPS, *LEAVES]
    first = codes.index(FUNCTIONS[0])
    if tuple(codes[first : first + len(FUNCTIONS)]) != FUNCTIONS:
        raise ValueError("the C parser needs the function ops next to each other in ops.OPS")
    values, partials = _kernels()
    arities = [str(OPS[c].arity) if c in OPS else "0" for c in codes]
    selects = ["1" if c in OPS and OPS[c].selects else "0" for c in codes]
    if max(op.arity for op in OPS.values()) > 3:
        raise ValueError("the compiled core takes ops of up to three arguments")
    return "\n".join([
        "/* Generated from ops.py by `python -m backprop.engine.cgen`: do not edit.",
        " * Each op's value and partials are ops.OPS run on backprop.engine.cgen.C; the f_* helpers",
        " * are backends.FLOAT's primitives, written in _core.c. */",
        "",
        "/* the op codes: ops.OPS in order, then ops.LEAVES (accel.py checks the names) */",
        *_wrapped("enum {", [c.upper() for c in codes] + ["N_CODES"], "};"),
        f"#define N_OPS {len(OPS)}",
        f"#define FIRST_FUNCTION {FUNCTIONS[0].upper()}",
        f"#define LAST_FUNCTION {FUNCTIONS[-1].upper()}",
        "",
        *_wrapped("static const char *CODE_NAMES[N_CODES] = {", [f'"{c}"' for c in codes], "};"),
        *_wrapped("static const unsigned char ARITY[N_CODES] = {", arities, "};"),
        "#define MAX_ARITY 3",
        "/* ops whose exact-zero partial is a branch not taken (ops.Op.selects, evaluate.py) */",
        *_wrapped("static const unsigned char SELECTS[N_CODES] = {", selects, "};"),
        "",
        "/* the value of an op node (OPS[op].value) */",
        "static double op_value(int code, double a, double b, double c)",
        "{",
        "    switch (code) {",
        *values,
        "    }",
        "    return Py_NAN;",
        "}",
        "",
        "/* d(out)/d(a), d(out)/d(b) and d(out)/d(c) (OPS[op].partials) */",
        "static void op_partials(int code, double out, double a, double b, double c,",
        "                        double *pa, double *pb, double *pc)",
        "{",
        "    switch (code) {",
        *partials,
        "    }",
        "}",
        "",
    ])


def main() -> None:
    HEADER.write_text(generate(), encoding="utf-8")
    print(f"wrote {HEADER}")


if __name__ == "__main__":
    main()
