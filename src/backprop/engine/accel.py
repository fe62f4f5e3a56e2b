"""The compiled core, when it was built: ``_core.c`` parses, evaluates and sweeps in C.

The pure-Python modules (parse.py, evaluate.py, modes/reverse.py) are the reference; the
core does the same work on the same ``graph.Node`` tuples and gives the same numbers bit
for bit, about twenty times faster. Each core function returns None for anything it does
not take (a syntax error, a limit, non-float values), and the caller then runs Python.

``CORE`` is None when the extension was not built (no C compiler at install time), when it
was built from an older op table, or when ``BACKPROP_PURE_PYTHON=1`` is set, which
tests/test_core.py uses to compare the two; ``WHY_PURE`` then says which.
"""

from __future__ import annotations

import os

from backprop.engine.ops import OPS


def _load():
    """(the core module, None), or (None, why Python runs instead)."""
    if os.environ.get("BACKPROP_PURE_PYTHON"):
        return None, "BACKPROP_PURE_PYTHON is set"
    try:
        from backprop.engine import _core
    except ImportError:
        return None, "the compiled core was not built"
    # the core numbers the ops in the op table's order; a table it does not know is Python's
    if _core.OP_NAMES != tuple(OPS):
        return None, "the compiled core is older than the op table"
    return _core, None


CORE, WHY_PURE = _load()


def engine() -> str:
    """Which engine runs, as --version prints it."""
    return "compiled core" if CORE is not None else f"pure Python: {WHY_PURE}"
