"""The independent check: a reference derivative that never uses our chain rule.

On a small graph SymPy differentiates the graph's own expression (each op's ``value`` on
the SymPy backend, never the user's text). On a large one, where that expression would
swell, central differences in high precision (mpmath) with Richardson extrapolation
evaluate the op table's values only. Either way a wrong partial in the op table or a bug
in a sweep shows up as a disagreement. ``check`` runs in a side process killed at its
deadline, samples variables on large graphs, and its verdict is pass, fail or skipped
with the reason; where IEEE arithmetic made our result nan or inf but the derivative
exists, a note says at which node and what the true value is.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from backprop.check import sympy_side
from backprop.check.deadline import QUICK, CheckTimeout, time_limit
from backprop.check.highprec import MP_DIGITS, differences
from backprop.check.symbolic import (FORMULA_MAX_DEPTH, check_formula_depth, check_numeric,
                                     check_symbolic, symbolic_values, symbols_for, sympy_constant)
from backprop.check.verdict import CheckResult, close, verdict
from backprop.engine.graph import Graph
from backprop.limits import Limits

# The check's API: ``check`` (bounded) and ``compare`` (its work), their verdict, and what
# the jobs share with it: the deadline, SymPy's view of a graph and the formula depth limit.
__all__ = ["CheckResult", "CheckTimeout", "FORMULA_MAX_DEPTH", "QUICK", "check",
           "check_formula_depth", "close", "compare", "method_for", "symbolic_values",
           "symbols_for", "sympy_constant", "time_limit", "unfinished"]

DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12
MAX_CHECKED_VARIABLES = 20
SYMPY_MAX_NODES = 400  # beyond this (or FORMULA_MAX_DEPTH, or SYMPY_MAX_TREE), differences
# nodes of the expression written out as a tree (shared nodes again) times the variables
# checked: SymPy takes about a second per 1,000 (a 3-layer net of 8 parameters: 1,064)
SYMPY_MAX_TREE = 1_000


def sample_names(names: list[str], seed: int = 0) -> list[str]:
    if len(names) <= MAX_CHECKED_VARIABLES:
        return names
    return sorted(random.Random(seed).sample(names, MAX_CHECKED_VARIABLES), key=names.index)


def sympy_fits(graph: Graph, checked: int = 1) -> bool:
    """SymPy's diff is the reference where the expression is small (see ``_too_large``)."""
    return not _too_large(graph, checked)


def _too_large(graph: Graph, checked: int) -> str:
    """Why the expression is too large for SymPy ("" if it is not): many nodes, deep, or a
    tree form (every shared node written out again) that swells, times the number of
    ``checked`` variables (SymPy differentiates and evaluates it once for each)."""
    if len(graph) > SYMPY_MAX_NODES:
        return f"{len(graph):,} nodes"
    if graph.depth > FORMULA_MAX_DEPTH:
        return f"{graph.depth:,} operations deep"
    tree = max(sum(graph.paths_to(out)) for out in graph.outputs)
    if tree * checked > SYMPY_MAX_TREE:
        return f"{tree:,} nodes as a tree, for {checked} variable(s)"
    return ""


def check(graph: Graph, wrt: list[str], jacobian: list[list], point: dict | None, *,
          rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
          timeout: float = Limits.check_timeout) -> CheckResult:
    """``compare``, in a side process killed after ``timeout`` seconds."""
    try:
        return sympy_side.run(compare, graph, wrt, jacobian, point, rtol, atol,
                              timeout=timeout)
    except (sympy_side.TimedOut, sympy_side.Died) as error:
        return unfinished(error, graph, wrt, point, timeout)


def unfinished(error, graph: Graph, wrt: list[str], point: dict | None,
               timeout: float) -> CheckResult:
    """The verdict when the side process timed out or died: the gradient stands, unchecked."""
    if isinstance(error, sympy_side.TimedOut):
        return timed_out(method_for(graph, wrt, point), timeout)
    return CheckResult("skipped", method_for(graph, wrt, point), str(error))


def timed_out(method: str, timeout: float) -> CheckResult:
    """The verdict when the check's deadline passed: the gradient stands, unchecked."""
    more = max(60, 6 * math.ceil(timeout))
    return CheckResult("skipped", method, f"the check did not finish within {timeout:g} s, "
                                          "so this gradient is not checked; give it more time "
                                          f"with --check-timeout {more}")


def method_for(graph: Graph, wrt: list[str], point: dict | None) -> str:
    """The check's method, in words, as ``compare`` will choose it."""
    checked = sample_names(list(wrt))
    if point is None:
        method = "sympy.diff of the graph's expression, compared symbolically"
    elif not (why := _too_large(graph, len(checked))):
        method = "sympy.diff of the graph's expression, evaluated at the point"
    else:
        method = (f"central differences in {MP_DIGITS}-digit arithmetic (mpmath) with "
                  f"Richardson extrapolation (too large for SymPy: {why})")
    if len(checked) < len(wrt):
        method += f" (a sample of {len(checked)} of {len(wrt):,} variables)"
    return method


def compare(graph: Graph, wrt: list[str], jacobian: list[list], point: dict | None,
            rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> CheckResult:
    """Compare our Jacobian (floats at ``point``, or SymPy formulas) with a reference that
    does not use our chain rule: SymPy's diff on small graphs, high-precision differences
    on large ones. No time limit here: ``check`` runs this under one."""
    checked = sample_names(list(wrt))
    method = method_for(graph, wrt, point)
    try:
        if point is None:
            return check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method)
        if sympy_fits(graph, len(checked)):
            return check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method)
        return check_differences(graph, wrt, checked, jacobian, point, rtol, atol, method)
    except RecursionError:
        return CheckResult("skipped", method, "the expression is too deep for SymPy",
                           checked=checked)
    except MemoryError:
        return CheckResult("skipped", method, "the reference value is too large to compute "
                           "(a number such as e^(e^(5e11)) on the way)", checked=checked)
    except (ArithmeticError, ValueError, TypeError) as error:
        why = str(error) or type(error).__name__
        return CheckResult("skipped", method, f"SymPy could not evaluate it ({why})",
                           checked=checked)


def check_differences(graph, wrt, checked, jacobian, point, rtol, atol,
                       method) -> CheckResult:
    found = differences(graph, checked, point)
    entries, kinks = [], 0
    for (o, name), (estimate, defined, kinked, _) in found.items():
        if kinked:  # abs or relu exactly at 0 on the way: the convention, not a limit
            kinks += 1
            continue
        entries.append((o, name, float(jacobian[o][wrt.index(name)]), estimate,
                        "high-precision differences", defined))
    result = verdict(graph, point, entries, rtol, atol, method, checked)
    if kinks and result.status == "pass":
        return replace(result, status="skipped", reason=(
            f"{kinks} partial(s) pass through abs or relu exactly at 0, where the derivative "
            "is a convention (0), so differences cannot check them"))
    return result
