"""Plots (issue 14, item 7): ``scale`` and ``compare`` draw their exact counts in the
terminal (80 columns) and to ``-o FILE.svg|png``; stdout stays data with --json; a progress
bar shows on stderr only when it is a terminal and the output is the terminal view.

The plotted values are checked against the job's own JSON and, on the layered family,
against its closed forms (forward and reverse: 5 operations per layer; paths: 2^L paths of
L edges, L·2^L + 2L − 1 operations)."""

from __future__ import annotations

import json
import math
import os
import pty
import re
import select
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, backprop_executable, run_cli
from backprop.render import plot as plot_model
from backprop.render.plot import decade_label, make_axis, spans_decades

SVG = "{http://www.w3.org/2000/svg}"
LAYERED_OPS = {"forward": lambda n: 5 * n, "reverse": lambda n: 5 * n,
               "paths": lambda n: n * 2**n + 2 * n - 1}


def svg_series(path) -> dict[str, list[tuple[float, float, int]]]:
    """Each series of an SVG plot: its points' (x pixel, y pixel, exact value)."""
    root = ET.parse(path).getroot()  # raises on anything that is not well-formed XML
    assert root.tag == SVG + "svg"
    found = {}
    for group in root.iter(SVG + "g"):
        name = group.get("data-series")
        if name is None:
            continue
        marks = list(group.iter(SVG + "circle")) or list(group.iter(SVG + "rect"))
        found[name] = [(float(m.get("cx", m.get("x"))), float(m.get("cy", m.get("y"))),
                        int(m.get("data-value"))) for m in marks]
    return found


# -- scale -o growth.svg ---------------------------------------------------------------------

def test_scale_writes_a_valid_svg_with_every_series(tmp_path):
    target = tmp_path / "growth.svg"
    result = run_cli("scale", "layered", "--sizes", "1:10", "--repeats", "1", "-o", str(target))
    assert result.returncode == 0, result.stderr
    series = svg_series(target)
    assert set(series) == {"forward", "paths", "reverse"}
    for mode, formula in LAYERED_OPS.items():
        assert [value for _, _, value in series[mode]] == [formula(n) for n in range(1, 11)]
        xs = [x for x, _, _ in series[mode]]
        assert xs == sorted(xs) and len(set(xs)) == 10  # one point per size, left to right
    # a log axis: equal ratios are equal heights, larger values higher up (smaller y)
    paths = series["paths"]
    heights = [(math.log10(b[2]) - math.log10(a[2]), a[1] - b[1]) for a, b in zip(paths, paths[1:])]
    scale = heights[-1][1] / heights[-1][0]
    assert all(abs(dy - dv * scale) < 0.05 for dv, dy in heights)
    text = target.read_text(encoding="utf-8")
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no reference
    assert "<script" not in text


def test_svg_holds_counts_too_large_for_a_float(tmp_path):
    """2^2000 paths has no float; the plot places it by its logarithm and keeps it exact."""
    target = tmp_path / "big.svg"
    result = run_cli("scale", "layered", "--sizes", "10,100,2000", "--repeats", "1",
                     "-o", str(target), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    series = svg_series(target)
    assert [v for _, _, v in series["paths"]] == \
        [row["modes"]["paths"]["operations"] for row in document["rows"]]
    assert series["paths"][-1][2] > 2**2000


def test_json_and_o_together_stdout_is_exactly_the_json(tmp_path):
    target = tmp_path / "growth.svg"
    plotted = run_cli("scale", "chain", "--sizes", "1:6", "--repeats", "1", "--json",
                      "-o", str(target))
    plain = run_cli("scale", "chain", "--sizes", "1:6", "--repeats", "1", "--json")
    assert plotted.returncode == 0 and plotted.stderr == ""
    document = json.loads(plotted.stdout)  # the whole of stdout is one JSON document
    assert plotted.stdout.startswith("{") and plotted.stdout.endswith("}\n")
    assert set(document) == set(json.loads(plain.stdout))
    assert [row["modes"] and {m: c["counts"] for m, c in row["modes"].items()}
            for row in document["rows"]] == \
        [{m: c["counts"] for m, c in row["modes"].items()}
         for row in json.loads(plain.stdout)["rows"]]
    series = svg_series(target)
    for mode in ("forward", "paths", "reverse"):
        assert [v for _, _, v in series[mode]] == \
            [row["modes"][mode]["operations"] for row in document["rows"]]


def test_csv_and_o_together_stdout_is_the_csv(tmp_path):
    target = tmp_path / "growth.svg"
    plotted = run_cli("scale", "wide", "--sizes", "1:4", "--repeats", "1", "--csv",
                      "-o", str(target))
    assert plotted.returncode == 0 and target.exists()
    assert plotted.stdout.splitlines()[0].startswith("size") or "," in plotted.stdout
    assert "Operations per size" not in plotted.stdout and "⠀" not in plotted.stdout


def test_scale_order_2_plots_each_pairing(tmp_path):
    target = tmp_path / "pairings.svg"
    result = run_cli("scale", "decay", "--order", "2", "--sizes", "2,4,8", "--repeats", "1",
                     "--max-ops", "1e9", "--json", "-o", str(target))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    series = svg_series(target)
    assert set(series) == set(document["rows"][0]["pairings"])
    for name, points in series.items():
        costs = [row["pairings"][name] for row in document["rows"]]
        assert [v for _, _, v in points] == [c["total_ops"] for c in costs] == \
            [c["program"]["ops"] + c["counts"]["partial_evals"] +
             c["counts"]["multiplications"] + c["counts"]["additions"] for c in costs]


# -- the terminal plot ---------------------------------------------------------------------

@pytest.mark.parametrize("columns", ["80", "60"])
def test_terminal_plot_fits_the_width(columns):
    result = run_cli("scale", "layered", "--sizes", "1:16", "--repeats", "1",
                     env={"COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    start = lines.index("Operations per size: layered (log scale)")
    plot = lines[start + 1:]
    assert any("f forward" in line and "p paths" in line for line in plot)
    assert any("r reverse (= forward)" in line for line in plot)  # hidden under forward
    # the paths marks climb: a later size never sits on a lower row
    rows = [(line.index("┤") if "┤" in line else line.index("│"), r)
            for r, line in enumerate(plot) if "┤" in line or "│" in line]
    columns_of_p = [(line.find("p", rows[0][0]), r) for r, line in enumerate(plot[:12])
                    if "p" in line[rows[0][0]:]]
    ordered = sorted(columns_of_p)
    assert [r for _, r in ordered] == sorted((r for _, r in ordered), reverse=True)
    assert "10⁶ ┤" in result.stdout  # decade ticks on the log axis


def test_terminal_plot_linear_where_values_do_not_span_decades():
    result = run_cli("scale", "chain", "--sizes", "1:8", "--repeats", "1",
                     env={"COLUMNS": "80"})
    assert "Operations per size: chain\n" in result.stdout  # no "(log scale)"
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_compare_plot_in_the_terminal_and_as_bars(tmp_path):
    target = tmp_path / "modes.svg"
    args = ("compare", "x*y", "x+y", "sin(x)", "x-y", "--at", "x=1,y=2", "--repeats", "1")
    shown = run_cli(*args, "--plot", "-o", str(target), env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    document = json.loads(run_cli(*args, "--json").stdout)
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    bars = {line.split("│")[0].strip(): line for line in lines
            if re.match(r" *(forward|paths|reverse) │", line)}
    assert set(bars) == {"forward", "paths", "reverse"}
    for mode, line in bars.items():
        assert line.endswith(f" {document['modes'][mode]['operations']}")
    assert len(bars["forward"]) > len(bars["paths"])  # 14 operations against 7
    series = svg_series(target)
    assert {m: v[0][2] for m, v in series.items()} == \
        {m: document["modes"][m]["operations"] for m in ("forward", "paths", "reverse")}
    assert "Operations per mode" not in run_cli(*args).stdout  # only when asked


# -- bad requests: one line, exit 2, before any work -----------------------------------------

@pytest.mark.parametrize("name", ["x.jpg", "x.PDF", "x.gif"])
def test_unknown_suffix_is_refused(tmp_path, name):
    result = run_cli("scale", "layered", "--sizes", "1:3", "-o", str(tmp_path / name))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("backprop: error: -o ") and ".svg or .png" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["growth", "x.svg.txt", "growth.json"])
def test_other_suffixes_take_the_output(tmp_path, name):
    """-o FILE that is not a picture takes the output instead of standard output."""
    result = run_cli("scale", "layered", "--sizes", "1:3", "--json", "-o", str(tmp_path / name))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads((tmp_path / name).read_text())["family"] == "layered"


@pytest.mark.parametrize("where", ["missing/dir/g.svg", "file.txt/g.svg", "."])
def test_unwritable_places_are_refused(tmp_path, where):
    (tmp_path / "file.txt").write_text("x")
    path = str(tmp_path / where) if where != "." else str(tmp_path) + "/.svg"
    if where == ".":
        (tmp_path / ".svg").mkdir()
    result = run_cli("compare", "sin(x)", "-o", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("backprop: error: -o ")
    assert len([line for line in result.stderr.splitlines()
                if not line.startswith("  hint:")]) == 1


def test_plot_flag_with_json_is_refused():
    result = run_cli("compare", "sin(x)", "--plot", "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "--plot" in result.stderr and "-o" in result.stderr


def test_png_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    target = tmp_path / "g.png"
    result = run_cli("scale", "layered", "--sizes", "1:3", "-o", str(target))
    assert result.returncode == 2 and result.stdout == "" and not target.exists()
    assert "pip install 'backprop[plot]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_png_is_written_by_matplotlib(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (pip install 'backprop[plot]')")
    target = tmp_path / "g.png"
    result = run_cli("scale", "layered", "--sizes", "1:6", "--repeats", "1", "--json",
                     "-o", str(target))
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (720, 440)


# -- the plot model ------------------------------------------------------------------------

def test_axes_are_logarithmic_exactly_where_values_span_two_decades():
    assert not spans_decades([1, 99]) and spans_decades([1, 100])
    assert not spans_decades([0, 0]) and not spans_decades([None])
    assert spans_decades([3, 2**3000])  # no float holds it
    axis = make_axis("ops", [3, 2**3000])
    assert axis.log and axis.low == 0 and axis.high >= 3000 * math.log10(2)
    assert len(axis.ticks) <= 9 and axis.place(2**3000) == pytest.approx(3000 * math.log10(2))
    decades = make_axis("ops", [5, 12_000])
    assert [label for _, label in decades.ticks] == ["1", "10", "100", "10³", "10⁴", "10⁵"]
    linear = make_axis("n", [1, 16])
    assert not linear.log and [label for _, label in linear.ticks] == ["5", "10", "15"]
    assert decade_label(-2) == "10⁻²"


def test_empty_plot_says_so():
    from rich.console import Console
    from backprop.render.plot_term import render_plot

    series = plot_model.Series("paths", (1.0,), (0,), "#000000", "p")
    empty = plot_model.Plot("t", make_axis("n", [1]), make_axis("ops", [0], log=True),
                            (series,))
    console = Console(record=True, width=80, file=open(os.devnull, "w"))
    render_plot(empty, console)
    assert "nothing to plot" in console.export_text()


# -- progress ------------------------------------------------------------------------------

def test_scale_reports_progress_once_per_size():
    from backprop.jobs.scale import scale

    heard = []
    scale("chain", "1:5", repeats=1, progress=lambda *a: heard.append(a))
    assert heard == [(k, 5, f"depth {k + 1}") for k in range(5)]


def test_net_reports_its_stages():
    from backprop.jobs.net import run_net

    heard = []
    run_net(str(ROOT / "examples" / "xor.yaml"), run_check=False,
            progress=lambda *a: heard.append(a))
    assert [done for done, _, _ in heard] == [0, 1] and all(t == 2 for _, t, _ in heard)


def test_no_progress_bar_unless_stderr_is_a_terminal(monkeypatch):
    from backprop.render.progress import progress_bar

    with progress_bar("text", "scale") as progress:  # pytest captures stderr: not a tty
        assert progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("TERM", raising=False)
    with progress_bar("json", "scale") as progress:
        assert progress is None
    with progress_bar("csv", "scale") as progress:
        assert progress is None


def _run_with_stderr_on_a_terminal(*args: str) -> tuple[int, bytes, bytes]:
    """Run the command with stderr on a pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "TERM": "xterm"}
    child = subprocess.Popen([backprop_executable(), *args], stdout=subprocess.PIPE,
                             stderr=follower, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = child.stdout.read()
    child.wait(timeout=60)
    os.close(leader)
    return child.returncode, stdout, seen


def test_progress_bar_on_a_terminal_stderr_never_on_stdout():
    code, stdout, terminal = _run_with_stderr_on_a_terminal(
        "scale", "chain", "--sizes", "1:12", "--repeats", "1")
    assert code == 0
    assert b"scale chain: depth" in terminal  # the bar said where it was
    assert b"scale chain: depth" not in stdout and b"\x1b[" not in stdout
    code, stdout, terminal = _run_with_stderr_on_a_terminal(
        "scale", "chain", "--sizes", "1:12", "--repeats", "1", "--json")
    assert code == 0 and terminal == b""
    json.loads(stdout)


def test_estimated_points_are_hollow_and_still_exact(tmp_path):
    """Over --max-paths path enumeration is estimated, not run: its count is still exact
    (the closed form), drawn hollow in the SVG and as a capital mark in the terminal."""
    target = tmp_path / "est.svg"
    result = run_cli("scale", "layered", "--sizes", "1:14", "--max-paths", "5000",
                     "--repeats", "1", "-o", str(target), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    root = ET.parse(target).getroot()
    group = next(g for g in root.iter(SVG + "g") if g.get("data-series") == "paths")
    circles = list(group.iter(SVG + "circle"))
    assert [int(c.get("data-value")) for c in circles] == \
        [LAYERED_OPS["paths"](n) for n in range(1, 15)]
    hollow = [c.get("fill") == "white" for c in circles]
    assert hollow == [2**n > 5000 for n in range(1, 15)]  # 2^L paths against the limit
    assert "P" in result.stdout and "capital marks: estimated, not run" in result.stdout
