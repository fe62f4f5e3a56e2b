"""The terminal view never breaks a number, at any width (issue 11, section 5).

Every command renders in-process at 40, 60, 80 and 200 columns. Times are made
deterministic (a fake clock), so the numbers printed at 200 columns must be exactly the
numbers printed at every other width: a number folded across lines or cut with "…" shows
up as new fragments. The key numbers of each command's JSON document (gradients, sums,
counts) must appear whole at every width, and no line ends in a space. (Text such as a
long node label may still be elided with "…" or folded; numbers never are.)
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from backprop.cli import main
from backprop.render.numbers import CELL_EXACT_BELOW, fmt, fmt_count

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (40, 60, 80)
WIDE = 200
# 1,234,567 / 0.5 / -1.3e-05 / 2.29e+605: separators, a fraction, an exponent.
NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")

LAYERED_6 = "; ".join(f"h{i} = {'x' if i == 1 else f'h{i - 1}'}*{'x' if i == 1 else f'h{i - 1}'}"
                      for i in range(1, 7))
SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yaml"))

COMMANDS = {
    "grad-all": ["grad", "sin(2*x+y)*exp(x)/3.7", "--at", "x=1.2345678,y=0.7654321",
                 "--mode", "all", "--no-check"],
    "grad-explain": ["grad", "sin(x^2)+cos(x^2)", "--at", "x=1.2345678", "--explain",
                     "--no-check"],
    "grad-jacobian": ["grad", "x*y", "x+y", "sin(x)*y^3", "--at", "x=1.2345678,y=-2.5",
                      "--no-check"],
    "graph-text": ["graph", "sin(x^2)*exp(cos(x*y)+tan(x/y))", "--at", "x=1.2345678,y=0.7654"],
    "graph-tree": ["graph", "sin(sin(sin(sin(sin(x^2)*exp(cos(x*y)+tan(x/y))))))",
                   "--at", "x=1.2345678,y=0.7654", "--format", "tree"],
    "paths": ["paths", "sin(x^2)*exp(x)/3.7", "--at", "x=1.2345678"],
    "paths-layered": ["paths", LAYERED_6, "--at", "x=1.0123456789", "--limit", "5"],
    "compare": ["compare", "sin(2*x+y)*exp(x)", "--at", "x=1.2345678,y=0.5", "--repeats", "1"],
    "compare-huge": ["compare", "; ".join(f"h{i} = {'x' if i == 1 else f'h{i - 1}'}*"
                                          f"{'x' if i == 1 else f'h{i - 1}'}"
                                          for i in range(1, 201)), "--repeats", "1"],
    "scale": ["scale", "layered", "--sizes", "1:6", "--repeats", "1"],
    **{f"net-{Path(spec).stem}": ["net", spec, "--no-check"] for spec in SPECS},
}


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """A clock ticking 2^-16 s per reading (exact in binary), so that times print the same
    at every width."""
    ticks = itertools.count()
    monkeypatch.setattr("time.perf_counter", lambda: next(ticks) / 65536)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(ROOT)


def render(args: list[str], width: int, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setenv("COLUMNS", str(width))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def numbers_in(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _json_numbers(document, key: str) -> list:
    """The numbers that matter per command, as the text view prints them."""
    found = []
    if key.startswith("grad"):
        for output in document["outputs"]:
            found += [entry["value"] for entry in output["gradient"].values()]
    elif key.startswith("paths"):
        found += [p["product"] for p in document["paths"]]
        found += [s["gradient"] for s in document["sums"]]
        found += [document["total_paths"]]
    elif key.startswith("compare"):
        for mode in document["modes"].values():
            found += [v for k, v in mode["counts"].items() if isinstance(v, int)]
    elif key == "scale":
        found += [m["operations"] for row in document["rows"] for m in row["modes"].values()]
    elif key.startswith("net"):
        found += [document["loss"]]
        for mode in document["modes"].values():
            found += [v for v in mode["counts"].values() if isinstance(v, int)]
    texts = []
    for value in found:
        if isinstance(value, bool) or value is None:
            continue
        texts.append(fmt_count(value, CELL_EXACT_BELOW) if isinstance(value, int) else fmt(value))
    return texts


@pytest.mark.parametrize("key", sorted(COMMANDS))
def test_every_number_prints_whole_at_every_width(key, capsys, monkeypatch):
    args = COMMANDS[key]
    code, wide, _ = render(args, WIDE, capsys, monkeypatch)
    assert code == 0, wide
    reference = numbers_in(wide)
    expected = set()
    if not key.startswith("graph"):
        _, doc, _ = render(args + ["--json"], WIDE, capsys, monkeypatch)
        expected = {t for t in _json_numbers(json.loads(doc), key) if NUMBER.fullmatch(t)}
        assert expected, "no key number found in the JSON document"
        assert expected <= reference, expected - reference
    for width in WIDTHS:
        code, out, err = render(args, width, capsys, monkeypatch)
        assert code == 0 and "Traceback" not in out + err
        assert numbers_in(out) == reference, (width, numbers_in(out) ^ reference)
        assert not [line for line in out.splitlines() if line.endswith(" ")], width
        if key in ("grad-all", "grad-jacobian", "paths", "compare", "scale"):
            assert max(map(len, out.splitlines())) <= width, "a line is wider than the terminal"


def test_warnings_go_to_stderr_in_the_text_view(capsys, monkeypatch):
    code, out, err = render(["grad", "log(x)", "--at", "x=0", "--no-check"], 80, capsys,
                            monkeypatch)
    assert code == 0
    assert "-inf" in out and "warning" not in out
    assert "warning:" in err


def test_counts_read_singular_and_plural(capsys, monkeypatch):
    _, out, _ = render(["paths", "x*x+y", "--at", "x=1,y=2"], 120, capsys, monkeypatch)
    assert "1 addition" in out and "1 additions" not in out
    assert re.search(r"\b3 paths\b", out) and "4 partials" in out
