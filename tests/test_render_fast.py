"""The fast output paths give what the plain ones give: json_doc.dumps the very bytes of
json.dumps(indent=2), printer.to_text the same text or None whatever its length limit."""

import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop.frontends.parse import parse
from backprop.engine.printer import node_texts, to_text
from backprop.render.json_doc import dumps, grad_document, write
from backprop.jobs.grad import grad

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5) \
    | st.floats(allow_nan=False, allow_infinity=False)
KEYS = st.sampled_from(["value", "formula", "%s", "é", "a\nb", ""])
RECORDS = st.lists(st.fixed_dictionaries({"value": SCALARS, "formula": SCALARS}), max_size=4) \
    | st.lists(st.fixed_dictionaries({"%s": SCALARS, "é\n": SCALARS}), max_size=4)
DOCUMENTS = st.recursive(
    SCALARS | RECORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4)
    | st.tuples(inner, inner), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, DOCUMENTS)
def test_dumps_gives_the_bytes_of_json_dumps_with_indent(document, shared):
    document = {"doc": document, "shared": shared, "again": [shared, {"deeper": shared}]}
    assert dumps(document) == json.dumps(document, indent=2, allow_nan=False)


@pytest.mark.parametrize("bad", [{"a": [1.0, math.inf]}, {"a": math.nan}, {"a": object()}])
def test_dumps_refuses_what_json_refuses(bad):
    with pytest.raises((ValueError, TypeError)) as ours:
        dumps(bad)
    with pytest.raises((ValueError, TypeError)) as theirs:
        json.dumps(bad, indent=2, allow_nan=False)
    assert type(ours.value) is type(theirs.value)


def test_dumps_gives_non_string_keys_as_json_does():
    document = {"a": {1: 2.5, None: [True]}, "b": [{2: "x"}]}
    assert dumps(document) == json.dumps(document, indent=2)


def test_a_large_grad_document_is_the_same_text():
    graph = parse("+".join(f"sin(x{i}*x{i + 1})" for i in range(3000)))
    document = grad_document(grad(graph, at="*=0.5", run_check=False))
    assert dumps(document) == json.dumps(document, indent=2, allow_nan=False)
    assert document["gradient"] is document["outputs"][0]["gradient"]
    stream = io.StringIO()
    write(document, stream)
    assert stream.getvalue() == dumps(document) + "\n"


EXPRESSIONS = ["sin(2*x+y)", "a = 2*x + y; z = sin(a)", "sin(x^2)+cos(x^2)", "-x^-2 - -y",
               "h1 = x*x; h2 = h1*h1; h3 = h2*h2", "(x-y)-(x/y)/(-z)^2^w",
               "+".join(f"sin(x{i}*x{i + 1})" for i in range(300)),
               "a = " + "+".join(f"x{i}" for i in range(200)) + "; b = a*a; b"]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_to_text_is_the_same_text_or_none_at_every_limit(text):
    graph = parse(text)
    whole = to_text(graph, 10**9)
    assert parse(whole).nodes == graph.nodes
    for limit in (1, 5, 20, 80, len(whole) - 1, len(whole), 2000):
        assert to_text(graph, limit) == (whole if len(whole) <= limit else None)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_node_texts_print_each_node_as_to_text_does(text):
    graph = parse(text)
    texts = node_texts(graph, 10**9)
    if not graph.nodes[graph.outputs[0]].label:
        assert to_text(graph, 10**9).endswith(texts[graph.outputs[0]])
    short = node_texts(graph, 20)
    assert all(s is None or (s == t and len(s) <= 20) for s, t in zip(short, texts))


def test_render_imports_no_evaluation_modes_or_check():
    """render/ formats what the jobs computed: no module of it imports the engine's
    evaluation or modes, the check, or a frontend (issue 12)."""
    import ast
    from pathlib import Path

    import backprop.render

    forbidden = ("backprop.engine.evaluate", "backprop.engine.modes", "backprop.check",
                 "backprop.frontends")
    for path in Path(backprop.render.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(forbidden), (path.name, node.module)


def test_reports_are_built_once_and_frozen():
    """A job's report is immutable: what the renderers read is what the job found,
    agreement of the modes included."""
    from dataclasses import FrozenInstanceError

    from backprop.jobs.compare import compare

    report = grad(parse("sin(x*y)"), at="x=0.5,y=2", mode="all", run_check=False)
    assert report.agreement() == report.mode_difference is not None
    comparison = compare(parse("sin(x*y)"), at="x=0.5,y=2", repeats=1)
    assert comparison.mode_difference is not None
    for result in (report, comparison, comparison.costs["reverse"]):
        with pytest.raises(FrozenInstanceError):
            result.warnings = []  # type: ignore[misc]
