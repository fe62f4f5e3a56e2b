"""The Hessian's independent check, and its formulas as text: all of SymPy's work for
``hessian``, in the side process killed at --check-timeout (check/sympy_side.py).

At a point the reference is SymPy's ``hessian`` of the graph's own expression (each op's
value on the SymPy backend), evaluated in 30 digits; where the graph is too large for
SymPy (the gradient check's rule, ``check.sympy_fits``, per pair of checked variables),
it is central differences in 80-digit arithmetic of the gradient program's outputs
(check/highprec.py), the gradient check's fallback. Without a point, each formula is
compared with SymPy's symbolically, else at random points. The verdict is the gradient
check's (``check.verdict``), on the gradient program: its outputs are df/dx_k, so entry
(k, x_j) reads d(df/dx_k)/dx_j.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from backprop.check import sympy_side
from backprop.check.check import _check_differences, _sample, sympy_fits, timed_out
from backprop.check.highprec import MP_DIGITS
from backprop.check.verdict import CheckResult


def method_for(graph, names: list[str], checked: list[str], point) -> str:
    """The check's method in words, as ``compare_hessian`` chooses it."""
    if point is None:
        method = "sympy.hessian of the graph's expression, compared symbolically"
    elif _sympy_fits(graph, checked):
        method = "sympy.hessian of the graph's expression, evaluated at the point"
    else:
        method = (f"central differences of the gradient in {MP_DIGITS}-digit arithmetic "
                  "(mpmath) with Richardson extrapolation (too large for SymPy)")
    if len(checked) < len(names):
        method += f" (a sample of {len(checked)} of {len(names):,} variables)"
    return method


def _sympy_fits(graph, checked: list[str]) -> bool:
    """The gradient check's size rule (``check.sympy_fits``), for SymPy's work here: a
    second derivative per pair of checked variables, not one per variable."""
    return sympy_fits(graph, len(checked) ** 2)


def check_hessian(graph, program, names, hessian, point, rtol, atol,
                  timeout) -> CheckResult:
    """``compare_hessian`` in the side process, killed after ``timeout`` seconds."""
    checked = _sample(list(names))
    method = method_for(graph, names, checked, point)
    try:
        return sympy_side.run(compare_hessian, graph, program, names, checked, hessian,
                              point, rtol, atol, method, timeout=timeout,
                              fresh=len(program) > 400)
    except sympy_side.TimedOut:
        return timed_out(method, timeout)
    except sympy_side.Died as error:
        return CheckResult("skipped", method, str(error), checked=checked)


def compare_hessian(graph, program, names, checked, hessian, point, rtol, atol,
                    method) -> CheckResult:
    """Our Hessian against a reference that does not use our sweeps (no time limit here)."""
    try:
        if _sympy_fits(graph, checked):
            return _by_sympy(graph, program, names, checked, hessian, point, rtol, atol,
                             method)
        return _check_differences(program, names, checked, hessian, point, rtol, atol,
                                  method)
    except RecursionError:
        return CheckResult("skipped", method, "the expression is too deep for SymPy",
                           checked=checked)
    except (ArithmeticError, ValueError, TypeError, MemoryError) as error:
        why = str(error) or type(error).__name__
        return CheckResult("skipped", method, f"SymPy could not evaluate it ({why})",
                           checked=checked)


def _sympy_hessian(graph, checked: list[str]):
    """SymPy's Hessian of the graph's expression over ``checked``, and the symbols."""
    import sympy

    from backprop.check.symbolic import symbolic_values, symbols_for

    symbols = symbols_for(graph)
    f = symbolic_values(graph)[graph.outputs[0]]
    return sympy.hessian(f, [symbols[n] for n in checked]), symbols


def _by_sympy(graph, program, names, checked, hessian, point, rtol, atol,
              method) -> CheckResult:
    import sympy

    from backprop.check.symbolic import _evalf
    from backprop.check.verdict import verdict
    from backprop.engine.evaluate import evaluate

    reference, symbols = _sympy_hessian(graph, checked)
    subs = {symbols[k]: sympy.Float(v, 30) for k, v in point.items()}
    defined = math.isfinite(evaluate(graph, point)[graph.outputs[0]])
    entries = [(names.index(a), b, float(hessian[names.index(a)][names.index(b)]),
                _evalf(reference[i, j], subs), "SymPy's hessian", defined)
               for i, a in enumerate(checked) for j, b in enumerate(checked)]
    return verdict(program, point, entries, rtol, atol, method, checked)


def formulas_as_text(graph, names, results: dict, value, run_check: bool, timeout: float):
    """(the pairings with their Hessians as text, f as text, the symbolic check), from the
    side process; past the deadline the formulas read unordered and the check is skipped."""
    from backprop.jobs.grad import _unordered

    checked = _sample(list(names))
    method = method_for(graph, names, checked, None)
    hessians = {name: r.hessian for name, r in results.items()}
    try:
        value, texts, check = sympy_side.run(_formulas, graph, names, checked, value,
                                             hessians, run_check, method, timeout,
                                             timeout=timeout)
    except (sympy_side.TimedOut, sympy_side.Died) as error:
        value = _unordered(value)
        texts = {name: [[_unordered(h) for h in row] for row in hessian]
                 for name, hessian in hessians.items()}
        check = (timed_out(method, timeout) if isinstance(error, sympy_side.TimedOut) else
                 CheckResult("skipped", method, str(error), checked=checked)) \
            if run_check else None
    return ({name: replace(r, hessian=texts[name]) for name, r in results.items()}, value,
            check)


def _formulas(graph, names, checked, value, hessians, run_check, method, timeout):
    from backprop.check.deadline import QUICK
    from backprop.jobs.grad import _texts

    seconds = min(QUICK, timeout / 4) if timeout > 0 else QUICK
    texts = {}
    for name, hessian in hessians.items():
        values, texts[name] = _texts([value], hessian, seconds)
    check = _symbolic_check(graph, names, checked, next(iter(hessians.values())), method) \
        if run_check else None
    return values[0], texts, check


def _symbolic_check(graph, names, checked, hessian, method) -> CheckResult:
    """Each formula minus SymPy's simplifies to 0, else agrees at random points."""
    import sympy

    reference, symbols = _sympy_hessian(graph, checked)
    rng = random.Random(0)
    for i, a in enumerate(checked):
        for j, b in enumerate(checked):
            label = f"d2f/d{a}d{b}"
            difference = hessian[names.index(a)][names.index(b)] - reference[i, j]
            if sympy.simplify(difference) == 0:
                continue
            method = method.replace("compared symbolically",
                                    "compared symbolically, else at random points")
            gaps = _sampled_gaps(difference, reference[i, j], symbols, rng)
            if not gaps:
                return CheckResult("skipped", method, f"{label}: simplification did not "
                                   "settle it and no sample point was finite",
                                   checked=checked)
            for gap, scale in gaps:
                if abs(gap) > 1e-12 + 1e-9 * scale:
                    return CheckResult("fail", method, f"{label} differs from SymPy's "
                                       f"{reference[i, j]} by {gap:g} at a sample point",
                                       checked=checked)
    return CheckResult("pass", method, checked=checked)


def _sampled_gaps(difference, reference, symbols, rng) -> list[tuple[float, float]]:
    """(difference, |reference|) at up to 3 random points in (0.1, 0.9) where the
    difference is finite (12 tries)."""
    import sympy

    from backprop.check.symbolic import _evalf

    gaps = []
    for _ in range(12):
        subs = {s: sympy.Float(rng.uniform(0.1, 0.9), 30) for s in symbols.values()}
        gap = _evalf(difference, subs)
        if math.isfinite(gap):
            gaps.append((gap, abs(_evalf(reference, subs))))
            if len(gaps) == 3:
                break
    return gaps
