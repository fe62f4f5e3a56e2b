"""`backprop graph`: listings, trees, DOT, Mermaid, and pictures drawn by Graphviz."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backprop.engine.graph import GraphBuilder
from backprop.frontends.parse import parse
from backprop.jobs.picture import DRAW_MAX_NODES, build, tree_rows
from backprop.render.picture_text import listing, mermaid_escape, to_dot, to_mermaid
from conftest import ROOT, run_cli

SHARED = "sin(x^2)+cos(x^2)"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def svg_root(data: bytes | str) -> ET.Element:
    root = ET.fromstring(data.encode() if isinstance(data, str) else data)
    assert root.tag.rsplit("}", 1)[-1] == "svg"
    return root


def svg_text(root: ET.Element) -> str:
    return " ".join(t for el in root.iter() if el.tag.endswith("text") for t in el.itertext())


def dot_nodes_and_edges(source: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    labels = dict(re.findall(r'^\s+(n\d+) \[label="([^"]*(?:\\"[^"]*)*)"', source, re.M))
    edges = re.findall(r"^\s+(n\d+) -> (n\d+)", source, re.M)
    return labels, edges


def assert_mermaid_escaped(text: str) -> None:
    """Every quote in a Mermaid line is a label delimiter; labels hold no raw syntax."""
    for line in text.splitlines()[1:]:
        if '"' in line:
            inner = re.findall(r'"([^"]*)"', line)
            assert inner, line
            for label in inner:
                assert not set('"<>[]{}|').intersection(label.replace("<br/>", "")), line


def odd_graph():
    """A graph whose labels hold quotes, brackets, braces, pipes, backslashes and < >."""
    builder = GraphBuilder()
    x = builder.input('w["a"]<1>')
    y = builder.input("b{0}|c\\d")
    out = builder.apply("mul", builder.apply("tanh", x), y)
    builder.label(out, 'loss <"L"> [#1]; & more')
    return builder.build([out])


def test_shared_square_has_one_square_node_with_two_users():
    proc = run_cli("graph", SHARED, "--at", "x=0.5", "--format", "dot")
    assert proc.returncode == 0, proc.stderr
    labels, edges = dot_nodes_and_edges(proc.stdout)
    squares = [n for n, label in labels.items() if label.split("\\n")[0] == "x^2"]
    assert len(squares) == 1
    users = [target for source, target in edges if source == squares[0]]
    assert len(users) == 2
    assert {labels[u].split("\\n")[0] for u in users} == {"sin(x^2)", "cos(x^2)"}
    assert 'label="cos(x^2) = 0.9689"' in proc.stdout  # the edge's local partial
    assert "grad 0.7215" in labels[squares[0]]  # d f / d (x^2)
    assert "doubleoctagon" in proc.stdout and "#dbeafe" in proc.stdout  # output, inputs apart


def test_text_listing_and_tree():
    proc = run_cli("graph", SHARED, "--at", "x=0.5")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("x = input") and lines[-1] == "out: v4"
    assert re.match(r"v1 = pow x 2 +# x\^2 = 0\.25, grad 0\.7215$", lines[1])
    tree = run_cli("graph", SHARED, "--at", "x=0.5", "--format", "tree").stdout
    assert tree.count("x^2  pow") == 1 and "x^2  (shared, shown above)" in tree
    assert tree.count("x  input") == 1


def test_tree_rows_are_built_without_recursion_and_limited():
    graph = parse("sin(" * 150 + "x" + ")" * 150)
    with pytest.raises(Exception, match="tree limit"):
        tree_rows(graph)
    rows = tree_rows(parse("a = x*y; b = a + a; b*a"))
    assert [r.repeated for r in rows].count(True) == 2  # a, shown once then referenced


def test_a_long_chain_lists_without_recursion():
    graph = parse("sin(" * 20_000 + "x" + ")" * 20_000)
    text = listing(graph, build(graph, {"x": 0.5}, formulas=False))
    assert text.count("\n") == 20_002


def test_mermaid_output_for_markdown():
    proc = run_cli("graph", "a = 2*x + y; z = sin(a)", "--at", "x=1,y=2", "--format", "mermaid")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("flowchart LR\n")
    assert '-->|"cos(a) = -0.6536"|' in out
    assert "class n5 output" in out


def test_mermaid_escapes_quotes_brackets_and_angles():
    assert mermaid_escape('a"b[c]<d>{e}|f#g;h') == \
        "a#quot;b#91;c#93;#lt;d#gt;#123;e#125;#124;f#35;g#59;h"
    text = to_mermaid(build(odd_graph(), {'w["a"]<1>': 0.5, "b{0}|c\\d": 2.0}))
    assert_mermaid_escaped(text)
    assert "loss #lt;#quot;L#quot;#gt; #91;#35;1#93;#59; #38; more" in text


@needs_dot
def test_dot_with_odd_labels_renders_and_keeps_the_text():
    source = to_dot(build(odd_graph(), {'w["a"]<1>': 0.5, "b{0}|c\\d": 2.0}))
    proc = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    text = svg_text(svg_root(proc.stdout))
    for label in ('w["a"]<1>', "b{0}|c\\d", 'loss <"L"> [#1]; & more'):
        assert label in text


@needs_dot
def test_cli_dot_output_is_rendered_by_dot():
    source = run_cli("graph", SHARED, "--at", "x=0.5", "--format", "dot").stdout
    proc = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "x^2" in svg_text(svg_root(proc.stdout))


@needs_dot
def test_svg_and_png_files(tmp_path):
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    assert run_cli("graph", SHARED, "--at", "x=0.5", "-o", str(svg)).returncode == 0
    assert run_cli("graph", SHARED, "--format", "png", "-o", str(png)).returncode == 0
    assert "sin(x^2)" in svg_text(svg_root(svg.read_bytes()))
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png", "g.svg"]
    proc = run_cli("graph", SHARED, "--format", "svg")
    svg_root(proc.stdout)


def test_bad_format_lists_the_formats():
    proc = run_cli("graph", SHARED, "--format", "bmp")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unknown format 'bmp'" in proc.stderr
    assert "text, tree, dot, mermaid, svg, png" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_output_paths_write_nothing(tmp_path):
    before = set(os.listdir(tmp_path))
    cases = [tmp_path / "missing" / "g.svg", tmp_path, Path(sys.executable) / "g.dot"]
    for target in cases:
        proc = run_cli("graph", SHARED, "--format", "dot", "-o", str(target))
        assert proc.returncode == 2, (target, proc.stderr)
        assert proc.stderr.startswith("backprop: error: -o ") and "Traceback" not in proc.stderr
    assert set(os.listdir(tmp_path)) == before
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run_cli("graph", SHARED, "-o", str(locked / "g.txt"))
        assert proc.returncode == 2 and "permission denied" in proc.stderr
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_huge_graph_as_svg_is_refused_quickly(tmp_path):
    text = "+".join(f"x{i}" for i in range(100_000))  # 199,999 nodes
    target = tmp_path / "big.svg"
    proc = run_cli("graph", "-", "--format", "svg", "-o", str(target), stdin=text, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert f"drawn up to {DRAW_MAX_NODES:,} nodes" in proc.stderr and "--format dot" in proc.stderr
    assert not target.exists()


def test_missing_dot_says_how_to_install_it(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()  # a PATH without Graphviz
    proc = run_cli("graph", SHARED, "--format", "svg", env={"PATH": str(bin_dir)})
    assert proc.returncode == 2, proc.stderr
    assert "apt-get install graphviz" in proc.stderr and "--format dot" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_spec_files_are_drawn_too():
    spec = ROOT / "examples" / "seed004.yaml"
    if not spec.exists():
        pytest.skip("no network spec example")
    proc = run_cli("graph", str(spec), "--format", "mermaid")
    if proc.returncode == 2 and "not supported" in proc.stderr:
        pytest.skip("this build has no spec loader")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flowchart LR\n")
    assert_mermaid_escaped(proc.stdout)


def test_docs_image_is_what_the_documented_command_makes():
    image = ROOT / "docs" / "images" / "shared_square.svg"
    svg_root(image.read_bytes())
    doc = (ROOT / "docs" / "graph.md").read_text(encoding="utf-8")
    assert 'backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 -o docs/images/shared_square.svg' in doc


def test_the_graph_job_returns_data_that_the_renderer_formats(tmp_path):
    """graph_picture computes (point, values, gradients, tree rows); show_graph only
    formats and writes what it was given, to -o FILE byte for byte."""
    from backprop.jobs.picture import graph_picture
    from backprop.render.picture_text import show_graph

    graph = parse(SHARED)
    job = graph_picture(graph, "x=0.5", "tree")
    assert job.rows == tree_rows(graph) and job.warnings == []
    assert job.picture == build(graph, {"x": 0.5}, formulas=False)
    dot_job = graph_picture(graph, "x=0.5", "dot")
    target = tmp_path / "g.dot"
    show_graph(dot_job, "dot", str(target))
    assert target.read_text() == to_dot(dot_job.picture)
