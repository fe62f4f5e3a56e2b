"""The Python API (docs/api.md): the same jobs as the commands, typed immutable results,
the commands' JSON from .to_dict(), and the commands' errors as exceptions."""

from __future__ import annotations

import dataclasses
import doctest
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import backprop
from backprop import api
from backprop.errors import BackpropError, InputError, LimitError, NonFiniteError
from backprop.limits import Limits
from conftest import ROOT, run_cli

SECONDS = ("seconds", "median_seconds", "min_seconds", "time", "spread")


def test_docs_examples_run_as_written():
    """Every example in docs/api.md, output included (run from the repo root: the examples
    name examples/*.yaml)."""
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False,
                                  optionflags=doctest.ELLIPSIS)
    finally:
        os.chdir(cwd)
    assert result.attempted > 20 and result.failed == 0


@pytest.mark.parametrize("module", [backprop, api])
def test_module_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted >= 1 and result.failed == 0


def test_the_issue_one_liner_prints_the_gradient():
    code = ("import backprop; r = backprop.grad('sin(2*x+y)', at={'x': 1, 'y': 2}); "
            "print(r.gradient['x'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "-1.3072872417272239\n"


def test_import_stays_light():
    """``import backprop`` loads no job: the API loads on first use (CLI start-up)."""
    code = "import backprop, sys; print(sorted(m for m in sys.modules if m.startswith('backprop')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert json.loads(out.stdout.replace("'", '"')) == ["backprop"]
    assert set(backprop.__all__) <= set(dir(backprop))
    with pytest.raises(AttributeError):
        backprop.no_such_function


def _masked(document):
    """A JSON document with measured times taken out (they differ between two runs)."""
    if isinstance(document, dict):
        return {k: _masked(v) for k, v in document.items()
                if not any(word in k for word in SECONDS)}
    if isinstance(document, list):
        return [_masked(v) for v in document]
    return document


@pytest.mark.parametrize("args, call", [
    (["grad", "sin(2*x+y)", "--at", "x=1,y=2"],
     lambda: backprop.grad("sin(2*x+y)", at={"x": 1, "y": 2})),
    (["grad", "x*y", "x+y", "--at", "x=0.5,y=3", "--mode", "all", "--wrt", "y"],
     lambda: backprop.grad(["x*y", "x+y"], at="x=0.5,y=3", mode="all", wrt=["y"])),
    (["grad", "x^2*y + exp(x)"], lambda: backprop.grad("x^2*y + exp(x)")),
    (["grad", "log(x)", "--at", "x=-1", "--no-check"],
     lambda: backprop.grad("log(x)", at={"x": -1}, check=False)),
    (["paths", "x*y + sin(x)", "--at", "x=1,y=2"],
     lambda: backprop.paths("x*y + sin(x)", at={"x": 1, "y": 2})),
    (["hessian", "x^2*y + sin(y)", "--at", "x=1,y=2", "--mode", "all", "--vector", "x=1,y=0"],
     lambda: backprop.hessian("x^2*y + sin(y)", at={"x": 1, "y": 2}, mode="all",
                              vector={"x": 1, "y": 0})),
    (["net", "examples/xor.yaml"], lambda: backprop.net("examples/xor.yaml")),
    (["net", "examples/seed004.yaml", "--param", "w5"],
     lambda: backprop.net("examples/seed004.yaml", wrt=["w5"])),
    (["compare", "sin(2*x+y)", "--at", "x=1,y=2"],
     lambda: backprop.compare("sin(2*x+y)", at={"x": 1, "y": 2})),
])
def test_to_dict_is_the_commands_json(args, call, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = run_cli(*args, "--json")
    assert out.returncode == 0, out.stderr
    assert _masked(json.loads(out.stdout)) == _masked(json.loads(call().to_json()))


def test_results_are_typed_and_immutable():
    r = backprop.grad("x*y*z", at={"x": 1, "y": 2, "z": 3}, mode="all")
    assert isinstance(r, api.GradResult)
    assert r.wrt == ("x", "y", "z") and r.jacobian == ((6.0, 3.0, 2.0),)
    assert r.value == 6.0 and dict(r.gradient) == {"x": 6.0, "y": 3.0, "z": 2.0}
    assert r.counts["forward"].sweeps == 3 and r.counts["reverse"].sweeps == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.wrt = ("x",)
    with pytest.raises(TypeError):
        r.gradient["x"] = 0.0
    with pytest.raises(TypeError):
        r.at["x"] = 0.0


def test_several_outputs_have_a_jacobian_not_a_gradient():
    r = backprop.grad(["x*y", "x+y", "x-y"], at={"x": 2, "y": 3})
    assert r.jacobian == ((3.0, 2.0), (1.0, 1.0), (1.0, -1.0)) and r.values == (6.0, 5.0, -1.0)
    with pytest.raises(ValueError, match="3 outputs"):
        r.gradient
    with pytest.raises(ValueError):
        r.value


def test_gradient_against_the_definition():
    """An independent oracle: central differences of the function the API evaluates."""
    f = lambda x, y: math.sin(x * y) / (1 + x * x) + math.exp(-y)  # noqa: E731
    r = backprop.grad("sin(x*y)/(1+x^2) + exp(-y)", at={"x": 0.3, "y": 1.7})
    h = 1e-6
    assert r.value == pytest.approx(f(0.3, 1.7), rel=1e-15)
    assert r.gradient["x"] == pytest.approx((f(0.3 + h, 1.7) - f(0.3 - h, 1.7)) / (2 * h),
                                            rel=1e-7)
    assert r.gradient["y"] == pytest.approx((f(0.3, 1.7 + h) - f(0.3, 1.7 - h)) / (2 * h),
                                            rel=1e-7)


def test_points_take_numbers_of_any_kind_exactly():
    np = pytest.importorskip("numpy")
    x = 0.1 + 0.2  # not a short decimal: the point must not be rounded on the way
    r = backprop.grad("x*x", at={"x": np.float64(x)})
    assert r.at["x"] == x and r.gradient["x"] == 2 * x
    assert backprop.grad("x*y", at={"x": 3, "y": True.__int__()}).gradient["x"] == 1.0


@pytest.mark.parametrize("at", [{"x": "one"}, {"x": True}, {"x": None}, [("x", 1)], 3])
def test_bad_points_are_input_errors(at):
    with pytest.raises(InputError) as caught:
        backprop.grad("x*x", at=at)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("expr", [42, [], ["x", 3], None])
def test_bad_expressions_are_input_errors(expr):
    with pytest.raises(InputError):
        backprop.grad(expr)


def test_errors_carry_the_exit_code_caret_and_hint():
    with pytest.raises(InputError) as caught:
        backprop.grad("sin(2*x+", at={"x": 1})
    error = caught.value
    assert error.exit_code == 2
    source, caret = error.__notes__[0], error.__notes__[1]
    assert source.strip() == "sin(2*x+" and caret.index("^") == len(source)
    assert any(note.strip().startswith("hint:") for note in error.__notes__)


def test_the_cli_prints_the_same_detail_lines():
    """One rule for an error's caret and hint: the CLI's stderr shows the API's notes."""
    with pytest.raises(BackpropError) as caught:
        backprop.grad("x*(y+", at={"x": 1, "y": 2})
    out = run_cli("grad", "x*(y+", "--at", "x=1,y=2")
    assert out.returncode == caught.value.exit_code == 2
    assert out.stderr.splitlines()[1:] == caught.value.__notes__


def test_limits_and_strict_raise_with_their_exit_codes():
    with pytest.raises(LimitError) as caught:
        backprop.grad(" + ".join(f"x{i}" for i in range(50)), limits=Limits(max_nodes=10))
    assert caught.value.exit_code == 3
    with pytest.raises(NonFiniteError) as caught:
        backprop.grad("log(x)", at={"x": 0}, strict=True, check=False)
    assert caught.value.exit_code == 4
    assert backprop.grad("log(x)", at={"x": 0}, check=False).warnings  # not strict: a warning


def test_net_takes_a_dict_like_its_file(tmp_path):
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load((ROOT / "examples" / "seed004.yaml").read_text())
    from_dict = backprop.net(spec, check=False)
    from_file = backprop.net(str(ROOT / "examples" / "seed004.yaml"), check=False)
    assert from_dict.loss == from_file.loss
    assert dict(from_dict.gradients) == dict(from_file.gradients)
    assert from_dict.gradients["w5"] == pytest.approx(-0.025, abs=5e-5)  # seed 004's number


def test_net_dict_errors_name_the_dict_not_a_file():
    with pytest.raises(InputError) as caught:
        backprop.net({"version": 1, "inputs": [1, 2]})
    assert str(caught.value).startswith("spec:")
    assert caught.value.exit_code == 2


def test_notebook_views():
    r = backprop.grad("sin(2*x+y)", at={"x": 1, "y": 2})
    markdown = r._repr_markdown_()
    assert "-1.3072872417272239" in markdown and "|" in markdown
    for result in (backprop.compare("x*y", at={"x": 1, "y": 2}),
                   backprop.paths("x*y", at={"x": 1, "y": 2}),
                   backprop.net("examples/xor.yaml" if Path("examples").exists()
                                else str(ROOT / "examples" / "xor.yaml"), check=False),
                   backprop.hessian("x*y", at={"x": 1, "y": 2}, check=False)):
        assert result._repr_markdown_().strip()
    g = backprop.graph("sin(2*x+y)", at={"x": 1, "y": 2})
    assert str(g).splitlines()[-1] == "out: v3"
    assert g.mermaid().startswith("flowchart") or "graph" in g.mermaid().splitlines()[0]
    assert g.dot().startswith("digraph")
    assert g._repr_markdown_().startswith("```mermaid")
    svg = g._repr_svg_()
    if svg is not None:  # Graphviz installed: a real SVG with every node
        import xml.etree.ElementTree as ET

        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert svg.count("class=\"node\"") == len(g.report.graph)  # x, 2, mul, y, add, sin


def test_readme_python_block_runs_and_its_comments_hold():
    """README's Python block runs as written; each ``expr  # value`` comment is its value."""
    import re

    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    claims = re.findall(r"^(\S.*?)\s+#\s+(-?[\d.]+)$", block, re.M)
    assert claims
    for expr, value in claims:
        assert repr(eval(expr, namespace)) == value
