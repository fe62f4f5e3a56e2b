"""The stable primitives (log1p, expm1, softplus, log_sigmoid, logsumexp) against 50-digit
mpmath across x in [-1e4, 1e4]: values and gradients finite and within a few ulps, where
the naive forms overflow to inf or lose every digit."""

from __future__ import annotations

import json
import math
import random

import mpmath
import pytest

from backprop.engine.backends import FLOAT
from backprop.engine.evaluate import evaluate
from backprop.engine.modes.reverse import reverse
from backprop.engine.ops import OPS
from backprop.frontends.parse import parse
from conftest import run_cli

mp = mpmath.mp
TINY = 2.2250738585072014e-308  # below the smallest normal double, only an absolute error


def _points() -> list[float]:
    """x across [-1e4, 1e4]: log-spaced magnitudes of both signs, uniform draws, the edges."""
    rng = random.Random(7)
    points = [0.0, 1e-300, -1e-300, 1e4, -1e4, 709.0, 710.0, -745.0, 36.0, -36.0]
    points += [s * 10 ** rng.uniform(-12, 4) for s in (1, -1) for _ in range(150)]
    points += [rng.uniform(-1e4, 1e4) for _ in range(100)]
    return points


POINTS = _points()


def _close(ours: float, exact, ulps: float = 4, scale: float = 0.0) -> bool:
    """Within a few ulps of the exact value, or of ``scale`` where the inputs are larger
    than the result (x + log 2 near 0 keeps x's absolute error); absolutely below the normal
    range; an exact value past the largest double must come out as inf with its sign."""
    if abs(exact) > mpmath.mpf(1.7976931348623157e308):
        return ours == math.copysign(math.inf, exact)
    error = abs(mpmath.mpf(ours) - exact)
    return error <= max(ulps * 2.0 ** -52 * max(abs(exact), scale), TINY)


# name -> (value, derivative) in mpmath, and the domain the points are drawn from
EXACT = {
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)), lambda x: 1 / (1 + mpmath.exp(-x))),
    "log_sigmoid": (lambda x: -mpmath.log1p(mpmath.exp(-x)), lambda x: 1 / (1 + mpmath.exp(x))),
    "log1p": (mpmath.log1p, lambda x: 1 / (1 + x)),
    "expm1": (mpmath.expm1, mpmath.exp),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_value_and_gradient_match_50_digit_mpmath(name):
    value, derivative = EXACT[name]
    op = OPS[name]
    points = [x for x in POINTS if x > -1] if name == "log1p" else POINTS
    with mpmath.workdps(50):
        for x in points:
            ours = op.value(FLOAT, x)
            partial = float(op.partials(FLOAT, ours, x)[0])
            exact = value(mpmath.mpf(x))
            assert _close(ours, exact), (name, x, ours, exact)
            exact_partial = derivative(mpmath.mpf(x))
            if name == "expm1" or abs(exact_partial) < 1e308:
                assert _close(partial, exact_partial), (name, x, partial, exact_partial)
            if name != "expm1" or x < 709:
                assert math.isfinite(ours) and math.isfinite(partial), (name, x)


def test_logsumexp_matches_50_digit_mpmath_over_pairs():
    op = OPS["logsumexp"]
    rng = random.Random(11)
    pairs = [(a, b) for a in POINTS[:60] for b in POINTS[-40:]]
    pairs += [(x, x) for x in POINTS] + [(x, -x) for x in POINTS[:50]]
    pairs += [(rng.uniform(-1e4, 1e4), rng.uniform(-1e4, 1e4)) for _ in range(200)]
    with mpmath.workdps(50):
        for a, b in pairs:
            ours = op.value(FLOAT, a, b)
            pa, pb = op.partials(FLOAT, ours, a, b)
            A, B = mpmath.mpf(a), mpmath.mpf(b)
            # log(e^A + e^B), written so that 50 digits hold it when e^B/e^A is tiny
            exact = max(A, B) + mpmath.log1p(mpmath.exp(-abs(A - B)))
            assert _close(ours, exact, 6, max(abs(a), abs(b))), (a, b, ours, exact)
            # the partials are e^(a - out): a - b is rounded once, so their condition number
            # is |a - b| (its rounding moves them by |a - b| ulps), the tolerance scales so
            spread = 4 * max(1.0, abs(a - b))
            assert _close(pa, mpmath.exp(A - exact), spread) and \
                _close(pb, mpmath.exp(B - exact), spread), (a, b, pa, pb)
            assert math.isfinite(ours)


@pytest.mark.parametrize("stable, naive, x", [
    ("softplus(x)", "log(1 + exp(x))", 1000.0),
    ("log_sigmoid(x)", "-log(1 + exp(-x))", -1000.0),
    ("logsumexp(x, x)", "log(exp(x) + exp(x))", 1000.0),
    ("log1p(x)", "log(1 + x)", 1e-20),
    ("expm1(x)", "exp(x) - 1", 1e-20),
])
def test_where_the_naive_form_fails_the_stable_one_does_not(stable, naive, x):
    """The naive form overflows (inf) or loses every digit (0 for 1e-20); the stable one
    is right to the ulp."""
    def run(text):
        graph = parse(text)
        values = evaluate(graph, {"x": x})
        return values[graph.outputs[0]], reverse(graph, values, graph.inputs).jacobian[0][0]

    value, gradient = run(stable)
    naive_value, naive_gradient = run(naive)
    assert math.isfinite(value) and math.isfinite(gradient)
    assert not math.isfinite(naive_value) or not math.isfinite(naive_gradient) \
        or naive_value == 0.0
    assert value != naive_value


def test_the_issues_numbers():
    result = run_cli("grad", "logsumexp(x, y)", "--at", "x=1000,y=1000", "--json", "--strict")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert document["outputs"][0]["value"] == 1000 + math.log(2)
    assert [entry["value"] for entry in document["gradient"].values()] == [0.5, 0.5]
    for x, value, slope in (("1000", 1000.0, 1.0), ("-1000", 0.0, 0.0)):
        result = run_cli("grad", "softplus(x)", "--at", f"x={x}", "--json", "--strict")
        document = json.loads(result.stdout)
        assert result.returncode == 0, result.stderr
        assert document["outputs"][0]["value"] == value
        assert [entry["value"] for entry in document["gradient"].values()] == [slope]
