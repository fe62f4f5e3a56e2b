"""Network specs: the safe YAML loader, validation for people, and the scalar graph."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from backprop.errors import InputError, LimitError
from backprop.engine.evaluate import evaluate
from backprop.frontends.load import load_graph
from backprop.engine.modes import run_mode
from backprop.frontends.point import parse_point
from backprop.jobs.grad import grad
from backprop.frontends.spec import (build_scalar_graph, load_spec, load_spec_graph, parse_yaml,
                                     resolve, validate)
from backprop.frontends.spec_fields import SpecError
from backprop.frontends.spec_yaml import MAX_NESTING, YAML_LOADER_ENV, yaml_loader

from conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples"
SMALL = ["seed004.yaml", "two_two_two.yaml", "xor.yaml"]

MINIMAL = """\
version: 1
inputs: [1, 2]
targets: [1]
loss: half_sse
params: {w1: 0.5, w2: -0.25, b: 0.1}
layers:
  - activation: sigmoid
    weights: [[w1, w2]]
    bias: [b]
"""


@pytest.fixture(autouse=True, params=["c", "python"])
def yaml_backend(request, monkeypatch):
    """Every test here runs under libyaml's C parser and under PyYAML's pure-Python one
    (the CLI in a subprocess inherits the choice through the environment)."""
    import yaml

    monkeypatch.setenv(YAML_LOADER_ENV, request.param)
    expected = yaml.SafeLoader if request.param == "python" else (
        getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)
    assert yaml_loader(yaml) is expected
    return request.param


def write(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def spec_from(text: str, source: str = "spec.yaml"):
    return validate(parse_yaml(text, source), source)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        spec_from(text)
    return caught.value.problems


# --------------------------------------------------------------------------- YAML rules


def test_numbers_are_resolved_by_us_not_by_yaml_1_1():
    spec = spec_from(MINIMAL.replace("w1: 0.5", "w1: 1e-3").replace("[1, 2]", "[.5, -2E1]"))
    assert spec.params["w1"] == 0.001
    assert spec.inputs == [[0.5, -20.0]]


@pytest.mark.parametrize("text, expected", [
    ("a: &x 1\nb: *x\n", "anchors (&x) are not allowed"),
    ("a: 1\nb: *x\n", "not allowed"),
    ("a: !!python/object:os.system ls\n", "tags"),
    ("a: !foo 1\n", "tags (!foo)"),
    ("a: 1\na: 2\n", "duplicate key 'a' (first given on line 1)"),
    ("a: 1\n---\nb: 2\n", "a second YAML document"),
    ("a: [1, 2\nb: 3\n", "YAML syntax"),
    ("? [1, 2]\n: 3\n", "a mapping key must be plain text"),
    ("x: " + "[" * 100 + "]" * 100 + "\n", "nesting deeper than 64 levels"),
])
def test_the_loader_refuses_what_a_spec_never_needs(text, expected):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "s.yaml")
    assert expected in caught.value.message


def test_lines_are_kept_for_every_node():
    root = parse_yaml("a: 1\nb:\n  - 2\n  - [3, 4]\n", "s.yaml")
    assert root.value["b"].line == 3
    assert root.value["b"].value[1].line == 4
    assert root.value["b"].value[1].value[0].value == "3"


def test_booleans_only_where_a_field_wants_one():
    text = MINIMAL.replace("inputs: [1, 2]", "inputs: [yes, 2]")
    assert any("expected a number, got the text 'yes'" in p for p in problems(text))
    text = MINIMAL.replace("targets: [1]", "targets: {random: {shape: [1, 1], one_hot: yes}}")
    assert any("expected true or false" in p for p in problems(text))


def test_quoted_numbers_are_text_and_the_error_says_so():
    found = problems(MINIMAL.replace("[[w1, w2]]", "[[w1, '0.5']]"))
    assert found == ["spec.yaml:8: layers[0].weights[0][1]: expected a number, got the quoted "
                     "text '0.5': quoted text is never a number (write 0.5 without quotes)"]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN", "nan", "inf"])
def test_non_finite_numbers_are_an_error(value):
    found = problems(MINIMAL.replace("w1: 0.5", f"w1: {value}"))
    assert found == [f"spec.yaml:5: params.w1: {value} is not a finite number; a spec's "
                     "numbers must be finite (nan and inf are refused)"]


# --------------------------------------------------------------------------- validation


def test_every_problem_is_reported_with_its_line_and_field():
    text = """\
version: 2
inputs: [1, 2]
targets: [1, 2, 3]
loss: half_sse
params: {w1: abc}
layers:
  - activation: softplusx
    weights: [[w1, w2]]
  - units: 0
    activation: relu
"""
    found = problems(text)
    assert found[0] == "spec.yaml:1: version: this backprop reads version 1, the spec says 2"
    assert "spec.yaml:5: params.w1: expected a number, got the text 'abc'" in found
    assert any(p.startswith("spec.yaml:7: layers[0].activation: unknown activation "
                            "'softplusx'") and "sigmoid, tanh, relu, linear, softmax" in p
               for p in found)
    assert any(p.startswith("spec.yaml:8: layers[0].weights[0][1]: undefined parameter 'w2'")
               for p in found)
    assert any(p.startswith("spec.yaml:9: layers[1].units: expected a number of units of at "
                            "least 1") for p in found)
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


def test_unknown_loss_lists_the_choices():
    found = problems(MINIMAL.replace("half_sse", "hinge"))
    assert found == ["spec.yaml:4: loss: unknown loss 'hinge'; choose one of: half_sse, mse, "
                     "cross_entropy"]


def test_shape_mismatch_names_the_layer_and_both_shapes():
    text = MINIMAL + """\
  - name: out
    activation: linear
    weights: [[1.0, 2.0]]
"""
    assert problems(text) == [
        "spec.yaml:12: layers[1].weights: shape mismatch in layers[1] (out): weights are 1×2 "
        "(units × inputs), but the layer gets 1 inputs from layer1: expected 1×1"]


def test_targets_must_match_the_outputs():
    found = problems(MINIMAL.replace("targets: [1]", "targets: [[1, 2]]"))
    assert found == ["spec.yaml:3: targets: shape mismatch: targets are 1×2 (expected 1×1: 1 "
                     "example(s) × 1 output(s))"]


def test_cross_entropy_needs_softmax_and_probabilities():
    found = problems(MINIMAL.replace("half_sse", "cross_entropy"))
    assert any("cross_entropy needs a softmax output layer" in p for p in found)
    text = MINIMAL.replace("half_sse", "cross_entropy").replace("sigmoid", "softmax")
    text = text.replace("targets: [1]", "targets: [0.5]")
    assert any("each row must be >= 0 and sum to 1" in p for p in problems(text))


def test_unused_parameters_warn_and_have_gradient_zero():
    spec = spec_from(MINIMAL.replace("b: 0.1}", "b: 0.1, w9: 3}"))
    assert spec.warnings == ["spec.yaml:5: params.w9: defined but used by no layer (its "
                             "gradient is 0)"]
    graph = build_scalar_graph(resolve(spec))
    assert "w9" in graph.input_names
    report = grad(graph, wrt="w9", run_check=False)
    assert report.jacobian == [[0.0]]


def test_a_huge_layer_is_refused_before_anything_is_allocated(tmp_path):
    text = MINIMAL.replace("  - activation: sigmoid\n    weights: [[w1, w2]]\n    bias: [b]\n",
                           "  - units: 1000000\n    activation: relu\n"
                           "  - units: 1\n    activation: sigmoid\n")
    with pytest.raises(LimitError) as caught:
        load_spec(write(tmp_path, text))
    assert "has 1,000,000 units, over --max-units 100,000" in caught.value.message
    assert "4,000,001 parameters" in caught.value.message
    big = text.replace("[1, 2]", "{random: {shape: [1, 784]}}")
    with pytest.raises(LimitError) as caught:
        load_spec(write(tmp_path, big), max_units=10**7)
    assert "785,000,000 parameters" in caught.value.message
    assert "6.3 GB" in caught.value.message


def _nested(kind: str, depth: int) -> tuple[str, int]:
    """A document nested ``depth`` levels below its top mapping, and the line where nesting
    first passes MAX_NESTING."""
    if kind == "block":
        return "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "1\n", \
            MAX_NESTING + 1
    if kind == "flow-list":
        return "x: " + "[" * depth + "]" * depth + "\n", 1
    if kind == "flow-map":
        return "x: " + "{a: " * depth + "1" + "}" * depth + "\n", 1
    # lists split over lines, with a comment and a quoted bracket that do not count
    lines = ["x: # [[[[ not nesting", *["  " + "[ '[' ," for _ in range(depth)], "  1",
             *["  ]" for _ in range(depth)]]
    return "\n".join(lines) + "\n", MAX_NESTING + 1


@pytest.mark.parametrize("kind, depth", [
    (kind, depth) for kind in ("block", "flow-list", "flow-map", "flow-lines")
    for depth in (MAX_NESTING + 1, 999, 1_000, 1_001, 20_000)
    if kind != "block" or depth < 20_000])  # 20,000 block levels are 400 MB of indentation
def test_the_nesting_guard_holds_under_every_parser_at_every_depth(kind, depth):
    """The guard's message and line, not a parser's own limit (libyaml refuses 1,000 flow
    levels by itself, with its own wording), whatever parser and version is installed."""
    text, line = _nested(kind, depth)
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "s.yaml")
    assert caught.value.message == f"s.yaml:{line}: nesting deeper than {MAX_NESTING} levels"


@pytest.mark.parametrize("kind", ["block", "flow-list", "flow-map", "flow-lines"])
def test_nesting_up_to_the_guard_is_accepted(kind):
    text, _ = _nested(kind, MAX_NESTING - 1)
    assert parse_yaml(text, "s.yaml").kind == "map"


# --------------------------------------------------------------------------- the CLI on bad input

BAD = {
    "missing": None,
    "directory": "DIR",
    "empty": "",
    "binary": bytes(range(256)) * 8,
    "not_utf8": b"version: 1\nname: caf\xe9\n",
    "two_documents": "version: 1\n---\nversion: 1\n",
    "alias_bomb": "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8)),
    "deep_flow": "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep_block": "".join("  " * i + "k:\n" for i in range(1_000)),  # 1 MB of indentation
    "duplicate_key": MINIMAL.replace("loss: half_sse", "loss: half_sse\nloss: mse"),
    "softplusx": MINIMAL.replace("activation: sigmoid", "activation: softplusx"),
    "wrong_shape": MINIMAL.replace("[[w1, w2]]", "[[w1, w2, 0.5]]"),
    "undefined_param": MINIMAL.replace("[[w1, w2]]", "[[w1, w7]]"),
    "string_for_number": MINIMAL.replace("inputs: [1, 2]", "inputs: [1, two]"),
    "nan_weight": MINIMAL.replace("[[w1, w2]]", "[[.nan, w2]]"),
    "inf_param": MINIMAL.replace("w1: 0.5", "w1: .inf"),
    "tag": MINIMAL.replace("w1: 0.5", "w1: !!float 0.5"),
    "scalar_document": "just text\n",
}

EXPECTED = {
    "missing": "spec file not found",
    "directory": "is a directory, not a spec file",
    "empty": "the file is empty",
    "binary": "this is a binary file",
    "not_utf8": ":2: the file is not UTF-8 text",
    "two_documents": ":2: a second YAML document starts here",
    "alias_bomb": ":1: anchors (&a) are not allowed",
    "deep_flow": ":1: nesting deeper than 64 levels",
    "deep_block": ":65: nesting deeper than 64 levels",
    "duplicate_key": ":5: duplicate key 'loss' (first given on line 4)",
    "softplusx": "unknown activation 'softplusx'",
    "wrong_shape": "weights are 1×3 (units × inputs), but the layer gets 2 inputs",
    "undefined_param": "undefined parameter 'w7'",
    "string_for_number": "inputs[1]: expected a number, got the text 'two'",
    "nan_weight": ".nan is not a finite number",
    "inf_param": ".inf is not a finite number",
    "tag": "tags (tag:yaml.org,2002:float) are not allowed",
    "scalar_document": "the spec must be a mapping of fields",
}


@pytest.mark.parametrize("command", ["net", "grad"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, case, command):
    content = BAD[case]
    if content is None:
        path = str(tmp_path / "missing.yaml")
    elif content == "DIR":
        (tmp_path / "dir.yaml").mkdir()
        path = str(tmp_path / "dir.yaml")
    else:
        path = write(tmp_path, content)
    proc = run_cli(command, path, timeout=30)  # a hang guard; benchmarks/bad_inputs.py times it
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("backprop: error: ")
    assert EXPECTED[case] in lines[0]
    assert all(line.startswith(("backprop: error: ", "  hint: ")) for line in lines)


def test_a_huge_layer_exits_3_with_the_size(tmp_path):
    text = MINIMAL.replace("  - activation: sigmoid\n    weights: [[w1, w2]]\n    bias: [b]\n",
                           "  - units: 1000000\n    activation: relu\n"
                           "  - units: 1\n    activation: sigmoid\n")
    path = write(tmp_path, text)
    for command in ("net", "grad"):
        proc = run_cli(command, path, timeout=30)
        assert proc.returncode == 3, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "1,000,000 units, over --max-units 100,000" in proc.stderr
        assert "4,000,001 parameters" in proc.stderr


def test_every_problem_prints_on_its_own_line(tmp_path):
    text = MINIMAL.replace("activation: sigmoid", "activation: softplusx").replace(
        "[[w1, w2]]", "[[w1, w7]]").replace("inputs: [1, 2]", "inputs: [1, two]")
    proc = run_cli("net", write(tmp_path, text))
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("backprop: error:")]
    assert len(errors) == 3
    assert "3 problems in this spec" in proc.stderr


# --------------------------------------------------------------------------- the scalar graph


def test_seed004_gives_minus_0_025_for_w5():
    graph = load_spec_graph(str(EXAMPLES / "seed004.yaml"), max_nodes=10_000)
    report = grad(graph, wrt="w5", run_check=False)
    dw5 = report.jacobian[0][0]
    assert round(dw5, 3) == -0.025
    # The seed's product of local partials, with its printed (rounded) values.
    assert dw5 == pytest.approx((0.5268 - 1) * 0.5268 * (1 - 0.5268) * 3 * (1 - 0.964**2), 1e-3)
    values = evaluate(graph, graph.defaults)
    labels = {node.label: values[i] for i, node in enumerate(graph.nodes) if node.label}
    assert labels["hidden.z[0]"] == -2 and labels["hidden.z[1]"] == 4
    assert round(labels["hidden.a[0]"], 3) == -0.964
    assert round(labels["hidden.a[1]"], 4) == 0.9993
    assert round(labels["out.a[0]"], 4) == 0.5268


def test_seed004_has_one_path_from_l_to_w5():
    from backprop.engine.modes.paths import plan

    graph = load_spec_graph(str(EXAMPLES / "seed004.yaml"), max_nodes=10_000)
    assert plan(graph, [graph.inputs[graph.input_names.index("w5")]]).paths == 1


def test_mazur_example_reproduces_the_published_numbers():
    graph = load_spec_graph(str(EXAMPLES / "two_two_two.yaml"), max_nodes=10_000)
    report = grad(graph, run_check=False)
    gradient = dict(zip(report.wrt, report.jacobian[0]))
    assert report.output_values[0] == pytest.approx(0.298371109, abs=1e-9)
    assert gradient["w5"] == pytest.approx(0.082167041, abs=1e-9)
    assert gradient["w1"] == pytest.approx(0.000438568, abs=1e-9)


def test_tied_parameters_sum_their_gradients(tmp_path):
    """b1 used by both hidden units = the sum of two untied biases' gradients."""
    tied = (EXAMPLES / "two_two_two.yaml").read_text()
    untied = tied.replace("b1: 0.35", "b1: 0.35\n  c1: 0.35").replace("[b1, b1]", "[b1, c1]")
    g_tied = load_spec_graph(write(tmp_path, tied, "tied.yaml"), max_nodes=10_000)
    g_untied = load_spec_graph(write(tmp_path, untied, "untied.yaml"), max_nodes=10_000)
    tied_row = dict(zip(g_tied.input_names, grad(g_tied, run_check=False).jacobian[0]))
    untied_row = dict(zip(g_untied.input_names, grad(g_untied, run_check=False).jacobian[0]))
    assert tied_row["b1"] == pytest.approx(untied_row["b1"] + untied_row["c1"], rel=1e-15)
    assert untied_row["b1"] != pytest.approx(untied_row["c1"])


def test_graph_defaults_feed_parse_point_and_at_overrides_them():
    graph = load_spec_graph(str(EXAMPLES / "seed004.yaml"), max_nodes=10_000)
    assert parse_point(None, graph) == graph.defaults
    point = parse_point("w5=0.25", graph)
    assert point["w5"] == 0.25 and point["w7"] == 3.0
    with pytest.raises(InputError):
        parse_point("w99=1", graph)


def test_expressions_have_no_defaults():
    graph = load_graph(["x*y"], max_nodes=100, max_depth=100)
    assert graph.defaults is None
    assert parse_point(None, graph) is None


def test_unnamed_entries_are_named_by_place():
    graph = load_spec_graph(str(EXAMPLES / "xor.yaml"), max_nodes=10_000)
    assert graph.input_names == ("hidden.W[0][0]", "hidden.W[0][1]", "hidden.W[1][0]",
                                 "hidden.W[1][1]", "hidden.b[0]", "hidden.b[1]",
                                 "out.W[0][0]", "out.W[0][1]", "out.b[0]")


def central_difference(graph, point, name, h=1e-6):
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    out = graph.outputs[0]
    return (evaluate(graph, up)[out] - evaluate(graph, down)[out]) / (2 * h)


@pytest.mark.parametrize("example", SMALL)
def test_small_examples_agree_with_finite_differences_and_sympy(example):
    graph = load_spec_graph(str(EXAMPLES / example), max_nodes=10_000)
    report = grad(graph, mode="all")  # SymPy check included
    assert report.check.status == "pass", report.check.reason
    for name, value in zip(report.wrt, report.jacobian[0]):
        estimate = central_difference(graph, graph.defaults, name)
        assert value == pytest.approx(estimate, rel=1e-6, abs=1e-9), name
    assert report.agreement() < 1e-12


@pytest.mark.parametrize("loss, act", [("mse", "softmax"), ("cross_entropy", "softmax"),
                                       ("half_sse", "linear"), ("half_sse", "relu")])
def test_every_loss_and_activation_agrees_with_sympy(tmp_path, loss, act):
    text = f"""\
version: 1
inputs: [[0.3, -0.7], [0.9, 0.2]]
targets: {{classes: [1, 0]}}
loss: {loss}
layers:
  - {{units: 3, activation: tanh, init: {{scheme: uniform, seed: 3}}}}
  - {{units: 2, activation: {act}, init: {{scheme: xavier, seed: 4}}}}
"""
    from backprop.check.check import check

    graph = load_spec_graph(write(tmp_path, text), max_nodes=10_000)
    report = grad(graph, run_check=False)
    for name, value in zip(report.wrt, report.jacobian[0]):
        estimate = central_difference(graph, graph.defaults, name)
        assert value == pytest.approx(estimate, rel=1e-6, abs=1e-9), name
    picked = ["layer1.W[2][1]", "layer2.b[0]"]  # SymPy: ~0.5 s per parameter on softmax
    row = [[report.jacobian[0][report.wrt.index(n)] for n in picked]]
    result = check(graph, picked, row, graph.defaults)
    assert result.status == "pass", result.reason


def test_generated_numbers_are_seeded_and_per_layer(tmp_path):
    text = """\
version: 1
inputs: {random: {shape: [2, 3], seed: 5, low: -1, high: 1}}
targets: {random: {shape: [2, 2], seed: 6, one_hot: true}}
loss: cross_entropy
layers:
  - {units: 2, activation: relu, init: {scheme: he, seed: 0}}
  - {units: 2, activation: softmax, init: {scheme: he, seed: 0}}
"""
    a = resolve(spec_from(text))
    b = resolve(spec_from(text))
    assert a.X == b.X and a.W == b.W
    assert all(-1 <= x < 1 for row in a.X for x in row)
    assert all(sorted(row) == [0.0, 1.0] for row in a.T)
    assert a.W[0][0][:2] != a.W[1][0][:2]  # same seed, different layers: different draws
    assert a.b[0] == [0.0, 0.0]


def test_grad_on_a_big_spec_points_to_net(tmp_path):
    proc = run_cli("grad", str(EXAMPLES / "mnist_shaped.yaml"))
    assert proc.returncode == 3
    assert "backprop net" in proc.stderr and "Traceback" not in proc.stderr


def test_grad_on_a_spec_from_the_cli():
    proc = run_cli("grad", "examples/seed004.yaml", "--wrt", "w5", "--json")
    assert proc.returncode == 0, proc.stderr
    import json

    document = json.loads(proc.stdout)
    assert round(document["gradient"]["w5"]["value"], 3) == -0.025
    assert document["check"]["status"] == "pass"


def test_paths_rebuild_the_seed_worked_example():
    graph = load_spec_graph(str(EXAMPLES / "seed004.yaml"), max_nodes=10_000)
    w5 = graph.inputs[graph.input_names.index("w5")]
    values = evaluate(graph, graph.defaults)
    result = run_mode("paths", graph, values, [w5])
    assert result.counts.paths == 1
    assert math.isclose(result.jacobian[0][0], -0.025002757849888355, rel_tol=1e-12)
