"""The compiled core, when it was built: ``_core.c`` parses, evaluates and sweeps in C.

The pure-Python modules (parse.py, evaluate.py, modes/reverse.py) are the reference; the
core does the same work on the same ``graph.Node`` tuples and gives the same numbers bit
for bit, about twenty times faster. Each core function returns None for anything it does
not take (a syntax error, a limit, non-float values), and the caller then runs Python.

``CORE`` is None when the extension was not built (no C compiler at install time) or when
``BACKPROP_PURE_PYTHON=1`` is set, which tests/test_core.py uses to compare the two.
"""

from __future__ import annotations

import os

from .ops import OPS


def _load():
    if os.environ.get("BACKPROP_PURE_PYTHON"):
        return None
    try:
        from . import _core
    except ImportError:
        return None
    # the core numbers the ops in the op table's order; a table it does not know is Python's
    return _core if _core.OP_NAMES == tuple(OPS) else None


CORE = _load()
