"""The compiled core (``_core.c``) against the pure-Python reference it accelerates.

On random texts and at random points, including points outside every op's domain (0, -0,
negatives, inf, nan), the core must give the same graph, the same values bit for bit, the
same gradients and the same counts as parse.py, evaluate.py and modes/reverse.py; and it
must step aside (return None) on every text that Python rejects, so that the error
message is always Python's.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import struct
import sysconfig
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop import __version__
from backprop.engine import evaluate as evaluate_module
from backprop.frontends import parse as parse_module
from backprop.engine.accel import CORE, WHY_PURE
from backprop.errors import BackpropError, LimitError
from backprop.engine.evaluate import evaluate
from backprop.engine.graph import Node
from backprop.engine.modes import reverse as reverse_module
from backprop.engine.modes.reverse import reverse
from backprop.engine.ops import FUNCTIONS, OPS
from backprop.frontends.parse import parse
from conftest import run_cli


def can_build_the_core() -> bool:
    """A C compiler and Python's headers are here: what building ``_core.c`` needs."""
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(compiler) is not None and headers.exists()


def test_the_core_is_built_where_a_compiler_is():
    """Runs without a core too: that is exactly when it must fail, if the core could build."""
    if os.environ.get("BACKPROP_PURE_PYTHON"):
        pytest.skip("BACKPROP_PURE_PYTHON is set")
    if CORE is None and can_build_the_core():
        pytest.fail(f"a C compiler and Python's headers are here but {WHY_PURE}: "
                    "run pip install -e . again")


@pytest.mark.parametrize("pure, engine", [("1", r"pure Python: BACKPROP_PURE_PYTHON is set"),
                                          ("", r"compiled core|pure Python: .+")])
def test_version_names_the_engine_that_runs(pure, engine):
    proc = run_cli("--version", env={"BACKPROP_PURE_PYTHON": pure}, process=True)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"backprop {re.escape(__version__)} \(({engine})\)\n", proc.stdout)
    if not pure and CORE is not None:
        assert "(compiled core)" in proc.stdout


# the differential tests below need the core; without one they skip (the guard above fails)
needs_core = pytest.mark.skipif(CORE is None, reason="the compiled core is not built")


@contextlib.contextmanager
def pure_python():
    """Run the reference: every call site sees no core."""
    modules = (parse_module, evaluate_module, reverse_module)
    saved = [m.CORE for m in modules]
    for m in modules:
        m.CORE = None
    try:
        yield
    finally:
        for m, core in zip(modules, saved):
            m.CORE = core


def both(fn):
    """fn() with the core and in pure Python: each a result or the error it raised."""
    def attempt():
        try:
            return fn()
        except BackpropError as error:
            return error
    compiled = attempt()
    with pure_python():
        reference = attempt()
    return compiled, reference


def same_graph(a, b) -> bool:
    return (a.nodes, a.outputs, a.output_names) == (b.nodes, b.outputs, b.output_names)


def bits(value) -> bytes:
    return struct.pack("<d", value)


def same_number(a, b) -> bool:
    """Equal to the last bit (so -0.0 is not 0.0); every nan is a nan."""
    if isinstance(a, float) and isinstance(b, float):
        return bits(a) == bits(b) or (math.isnan(a) and math.isnan(b))
    return a == b


# -- texts ------------------------------------------------------------------------------

NUMBERS = ["0", "2", "0.5", ".5", "3.", "1e3", "1.5E-2", "2.0", "10", "1e308", "4e-320"]
SPACE = st.sampled_from(["", " ", "  ", "\t"])


def expressions(max_leaves: int = 14):
    """Every construct of the language, with random spacing."""
    leaves = st.one_of(st.sampled_from(["x", "y", "z", "x_1", "pi", "e"]),
                       st.sampled_from(NUMBERS))

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from([f for f in FUNCTIONS if OPS[f].arity == 1]), SPACE, children)
            .map(lambda t: f"{t[0]}{t[1]}({t[2]})"),
            st.tuples(children, SPACE, st.sampled_from(["+", "-", "*", "/", "^", "**"]), SPACE,
                      children).map(lambda t: "".join(t)),
            st.tuples(st.sampled_from(["-", "+", "- -", "-+"]), children)
            .map(lambda t: t[0] + t[1]),
            children.map(lambda c: f"({c})"),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


# Built once: a recursive strategy is costly to build and validate, more than to draw from.
STATEMENT, LAST = expressions(6), expressions(8)


@st.composite
def programs(draw):
    """Statements: a = ...; b = ... (using a); then a bare expression or a named one."""
    lines, names = [], []
    for name in draw(st.lists(st.sampled_from(["a", "b", "c", "u_2"]), unique=True,
                              max_size=3)):
        body = draw(STATEMENT)
        if names and draw(st.booleans()):
            body = f"{body} * {draw(st.sampled_from(names))}"
        lines.append(f"{name} = {body}")
        names.append(name)
    last = draw(LAST)
    if names:
        last = f"{last} + {draw(st.sampled_from(names))}"
    lines.append(last if draw(st.booleans()) else f"out = {last}")
    separator = draw(st.sampled_from(["; ", "\n", " ;\n# a comment\n", ";;"]))
    return separator.join(lines) + draw(st.sampled_from(["", "\n", "  # end"]))


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@needs_core
@SETTINGS
@given(programs())
def test_the_core_parses_every_program_as_python_does(text):
    compiled, reference = both(lambda: parse(text))
    assert not isinstance(reference, BackpropError), reference  # the strategy writes valid text
    assert same_graph(compiled, reference), text
    assert CORE.parse((text,), 10**9, 10**9, Node) is not None, "the core stepped aside"


@needs_core
@SETTINGS
@given(st.lists(expressions(6), min_size=2, max_size=3))
def test_several_expressions_share_one_graph_as_in_python(texts):
    compiled, reference = both(lambda: parse(*texts))
    assert same_graph(compiled, reference)


TOKENS = ["x", "y", "2", ".5", "1e3", "(", ")", "+", "-", "*", "/", "**", "^", ",", "=", ";",
          "\n", " ", "sin", "pi", "e", "a", "__x", "1e999", "#", ".", "é", "\0", "٣"]


@needs_core
@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOKENS), max_size=14)
                 .map("".join)))
def test_the_core_steps_aside_wherever_python_rejects(text):
    """Same graph where Python parses; None (so Python words the error) where it does not."""
    core = CORE.parse((text,), 10**9, 10**9, Node)
    with pure_python():
        try:
            reference = parse(text)
        except BackpropError:
            assert core is None, text
            return
    if text.isascii() and "\0" not in text and not re.search("[<>]", text):
        # the core takes the whole ASCII language but where's comparisons and the calls of
        # several arguments (max, where, ...), which Python parses
        assert core is not None, text
    compiled = parse(text)
    assert same_graph(compiled, reference), text


@needs_core
@pytest.mark.parametrize("text, limit", [
    ("sin(sin(sin(x)))", {"max_depth": 2}),
    ("sin(sin(sin(x)))", {"max_depth": 3}),
    ("x*y + y*x + x*y", {"max_nodes": 4}),
    ("x*y + y*x + x*y", {"max_nodes": 6}),
    ("-(-(-(2)))", {"max_nodes": 2}),
    ("a = x*x; b = a*a; b*b", {"max_depth": 3}),
])
def test_limits_fail_in_the_same_place(text, limit):
    compiled, reference = both(lambda: parse(text, **limit))
    if isinstance(reference, LimitError):
        assert isinstance(compiled, LimitError) and str(compiled) == str(reference)
    else:
        assert same_graph(compiled, reference)


@needs_core
def test_constant_folding_and_labels_match():
    for text in ["-2 + -pi - -(-e)", "a = x; b = a*2; c = b; c + b", "--2*x", "2 + 2.0 + 2.",
                 "y = x*x; -y", "1e308*10 + x", "(((x)))"]:
        compiled, reference = both(lambda: parse(text))
        assert same_graph(compiled, reference), text


# -- values and gradients -----------------------------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 1e-300, 710.0, -710.0, 1e308,
           math.inf, -math.inf, math.nan]
POINT_VALUES = st.one_of(st.sampled_from(SPECIAL),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.floats(-3, 3))


@needs_core
@SETTINGS
@given(st.one_of(programs(), expressions()), st.fixed_dictionaries(
    {name: POINT_VALUES for name in ("x", "y", "z", "x_1")}))
def test_values_gradients_and_counts_match_to_the_last_bit(text, point):
    graph = parse(text)
    at = {name: point[name] for name in graph.input_names}
    values = evaluate(graph, at)
    with pure_python():
        reference_values = evaluate(graph, at)
    assert all(same_number(a, b) for a, b in zip(values, reference_values, strict=True)), text
    for wrt in (graph.inputs, graph.inputs[:1]):
        compiled = reverse(graph, values, wrt)
        with pure_python():
            expected = reverse(graph, reference_values, wrt)
        assert compiled.counts == expected.counts
        for row, expected_row in zip(compiled.jacobian, expected.jacobian, strict=True):
            assert all(same_number(float(a), float(b))
                       for a, b in zip(row, expected_row, strict=True)), (text, at)


@needs_core
def test_every_op_at_its_edges():
    """Each op and its partials where Python's math raises: the IEEE values FLOAT chooses.

    Every entry of the op table is here (its generated C kernel against its Python formula).
    """
    texts = [(f"{op.name}(x)" if op.arity == 1 else f"{op.name}(x, y)") if op.is_function
             and op.arity < 3 else f"where(x {op.symbol} y, x*y, x/y)" if op.precedence == 0
             else "where(x > y, sqrt(x), log(y))" if op.name == "where"
             else f"x {op.symbol} y" if op.arity == 2
             else f"{op.symbol}x" for op in OPS.values()] + ["x**0", "0^y"]
    assert {node.op for text in texts for node in parse(text).nodes} >= set(OPS)
    for text in texts:
        graph = parse(text)
        for x in SPECIAL:
            for y in SPECIAL:
                point = {"x": x, "y": y}
                at = {name: point[name] for name in graph.input_names}
                assert CORE.evaluate(graph.nodes, at) is not None  # the C kernels ran
                values = evaluate(graph, at)
                grad = reverse(graph, values, graph.inputs).jacobian[0]
                with pure_python():
                    ref_values = evaluate(graph, at)
                    ref_grad = reverse(graph, ref_values, graph.inputs).jacobian[0]
                assert all(map(same_number, values, ref_values)), (text, at)
                assert all(same_number(float(a), float(b)) for a, b in zip(grad, ref_grad)), \
                    (text, at)


@needs_core
def test_the_core_steps_aside_for_values_it_does_not_take():
    graph = parse("x*y + 1")
    assert CORE.evaluate(graph.nodes, {"x": 1, "y": 2.0}) is None  # an int: Python's types
    assert CORE.evaluate(graph.nodes, {"x": 1.0}) is None  # a missing name: Python's KeyError
    assert evaluate(graph, {"x": 1, "y": 2}) == [1, 2, 2, 1.0, 3.0]
    with pytest.raises(KeyError):
        evaluate(graph, {"x": 1.0})
    values = evaluate(graph, {"x": 1, "y": 2})
    assert CORE.reverse(graph.nodes, values, graph.inputs, graph.outputs) is None
    assert reverse(graph, values, graph.inputs).jacobian == [[2, 1]]


@needs_core
def test_a_long_sum_and_a_deep_chain():
    """No recursion in C either: a million nested calls and a long sum parse and sweep."""
    chain = "sin(" * 200_000 + "x" + ")" * 200_000
    graph = parse(chain, max_depth=10**6)
    assert len(graph) == 200_001
    grad = reverse(graph, evaluate(graph, {"x": 0.5}), graph.inputs).jacobian[0][0]
    expected, value = 1.0, 0.5
    for _ in range(200_000):
        expected *= math.cos(value)
        value = math.sin(value)
    assert grad == pytest.approx(expected, rel=1e-12)
    text = "+".join(f"sin(x_{i}*x_{i + 1})" for i in range(20_000))
    graph = parse(text)
    point = dict.fromkeys(graph.input_names, 0.5)
    grad = reverse(graph, evaluate(graph, point), graph.inputs).jacobian[0]
    assert grad[0] == pytest.approx(0.5 * math.cos(0.25), rel=1e-15)
    assert grad[1] == pytest.approx(math.cos(0.25), rel=1e-15)

