"""One set of options (issue 16): every command takes --format with the formats it can
print and -o FILE; every command that differentiates takes --wrt; '-' reads standard input
for expressions and specs alike; each option is declared once (cli_options.py). The walk
below reads the command line itself, so a new command or option joins it on its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer

from backprop.cli import app
from conftest import ROOT, run_cli

GROUP = typer.main.get_command(app)
COMMANDS = dict(GROUP.commands)
DIFFERENTIATES = {"grad", "paths", "compare", "hessian", "net"}
# an option whose help says what it does for that command (declared once per meaning)
PER_COMMAND = {"--at", "--format", "--wrt", "--csv", "--explain", "--mode", "--program",
               "--vector", "--repeats", "--max-ops", "--output"}
# one runnable call per command, reading stdin: (args, stdin)
STDIN_CALLS = {
    "grad": (["grad", "-", "--at", "x=2"], "x^3"),
    "graph": (["graph", "-"], "x*y"),
    "paths": (["paths", "-", "--at", "x=1,y=2"], "x*y + y"),
    "compare": (["compare", "-", "--at", "x=1,y=2", "--repeats", "1"], "x*y"),
    "hessian": (["hessian", "-", "--at", "x=1,y=2"], "x^2*y"),
    "net": (["net", "-", "--no-check"], (ROOT / "examples" / "xor.yaml").read_text()),
    "check": (["check", "-"], "version: 1\nclaims:\n  - expr: x^2\n    derivative: {x: 2*x}\n"),
}
TIMED = {"compare", "scale", "check"}  # their outputs carry measured times
OTHER_CALLS = {"scale": ["scale", "chain", "--sizes", "1,2", "--repeats", "1"],
               "examples": ["examples"]}


def _options(command) -> dict[str, object]:
    return {opt: p for p in command.params for opt in p.opts if opt.startswith("-")}


def _formats(command) -> list[str]:
    help_text = _options(command)["--format"].help
    return re.findall(r"[a-z]+(?= \(| \||\.)", help_text.split(" (default")[0])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_format_and_output(name):
    options = _options(COMMANDS[name])
    assert "--format" in options, f"{name} has no --format"
    assert {"-o", "--output"} <= set(options), f"{name} has no -o FILE"
    formats = _formats(COMMANDS[name])
    assert formats and formats[0] in ("text",), (name, formats)
    if "--json" in options:
        assert "json" in formats
    if "--csv" in options:
        assert "csv" in formats


@pytest.mark.parametrize("name", sorted(DIFFERENTIATES))
def test_every_differentiating_command_takes_wrt(name):
    assert "--wrt" in _options(COMMANDS[name])


def test_each_option_means_one_thing():
    """Options of one name across commands are one declaration: the same help text,
    except those whose help is about the command (PER_COMMAND)."""
    seen: dict[str, set[str]] = {}
    for command in COMMANDS.values():
        for opt, param in _options(command).items():
            if opt.startswith("--") and opt not in PER_COMMAND:
                seen.setdefault(opt, set()).add(param.help)
    varied = {opt: helps for opt, helps in seen.items() if len(helps) > 1}
    assert not varied, varied


def test_options_are_declared_in_one_module():
    source = (ROOT / "src" / "backprop" / "cli.py").read_text()
    inline = re.findall(r"typer\.(?:Option|Argument)\(\s*[^)]*?\"(--?[\w-]+)\"", source)
    assert set(inline) <= {"--version", "--debug"}, inline


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_covered_here(name):
    assert name in STDIN_CALLS or name in OTHER_CALLS


@pytest.mark.parametrize("name", sorted(STDIN_CALLS))
def test_dash_reads_standard_input(name):
    args, stdin = STDIN_CALLS[name]
    out = run_cli(*args, stdin=stdin)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("name", ["grad", "graph", "paths"])
def test_a_spec_on_stdin_is_a_spec_for_every_expression_command(name):
    """The documented rule: stdin whose first line is a YAML key is a network spec."""
    spec = (ROOT / "examples" / "seed004.yaml").read_text()
    extra = {"grad": ["--no-check", "--wrt", "w5"], "graph": [], "paths": ["--wrt", "w5"]}
    from_stdin = run_cli(name, "-", *extra[name], stdin=spec)
    from_file = run_cli(name, "examples/seed004.yaml", *extra[name])
    assert from_stdin.returncode == from_file.returncode == 0, from_stdin.stderr
    assert _untimed(from_stdin.stdout.replace("<stdin>", "examples/seed004.yaml")) == \
        _untimed(from_file.stdout)


def _calls():
    for name, (args, stdin) in STDIN_CALLS.items():
        yield name, args, stdin
    for name, args in OTHER_CALLS.items():
        yield name, args, None


@pytest.mark.parametrize("name, args, stdin", list(_calls()), ids=lambda v: str(v)[:20])
def test_o_writes_what_stdout_would_have(name, args, stdin, tmp_path):
    formats = _formats(COMMANDS[name])
    for fmt in [f for f in formats if f in ("text", "json", "markdown", "csv", "junit")]:
        target = tmp_path / f"out.{fmt}"
        printed = run_cli(*args, "--format", fmt, stdin=stdin)
        written = run_cli(*args, "--format", fmt, "-o", str(target), stdin=stdin)
        assert written.returncode == printed.returncode, written.stderr
        assert written.stdout == "", (name, fmt)
        if fmt == "json":
            assert _no_times(json.loads(target.read_text())) == \
                _no_times(json.loads(printed.stdout))
        elif name in TIMED:  # times (and compare's note on them) vary run to run
            written_lines, printed_lines = target.read_text().splitlines(), \
                printed.stdout.splitlines()
            assert written_lines[:1] == printed_lines[:1] and len(written_lines) > 1, \
                (name, fmt)
        else:
            assert _untimed(target.read_text()) == _untimed(printed.stdout), (name, fmt)


def _untimed(text: str) -> list[str]:
    """Lines with measured times taken out (and the columns' padding they set)."""
    text = re.sub(r"[0-9.,]+\s?(ns|µs|us|ms|s)\b", "T", text)
    text = re.sub(r"\(median of \d+\)|spread [^)]*", "", text)
    return [" ".join(line.replace("─", "").split()) for line in text.splitlines()]


def _no_times(document):
    """A document without what the clock decides: times, and compare's note on them."""
    if isinstance(document, dict):
        return {k: _no_times(v) for k, v in document.items()
                if "seconds" not in k and "time" not in k and k != "repeats"
                and k != "disagreements" and k != "timing" and k != "compiled"}
    if isinstance(document, list):
        return [_no_times(v) for v in document]
    return document


@pytest.mark.parametrize("name, args, stdin", list(_calls()), ids=lambda v: str(v)[:20])
def test_json_is_format_json_and_bad_formats_are_refused(name, args, stdin):
    options = _options(COMMANDS[name])
    bad = run_cli(*args, "--format", "yaml", stdin=stdin)
    assert bad.returncode == 2 and "unknown format" in bad.stderr
    if "--json" in options:
        both = run_cli(*args, "--json", "--format", "text", stdin=stdin)
        assert both.returncode == 2 and "two formats" in both.stderr


def test_o_is_checked_before_any_work(tmp_path):
    for args in (["grad", "x*y", "--at", "x=1,y=2"], ["net", "examples/xor.yaml"],
                 ["check", "examples/check/exercises.yaml"]):
        out = run_cli(*args, "-o", str(tmp_path / "missing" / "dir" / "out.txt"))
        assert out.returncode == 2 and out.stdout == "", out.stderr


def test_net_param_is_wrt():
    a = run_cli("net", "examples/seed004.yaml", "--param", "w5", "--json", "--no-check")
    b = run_cli("net", "examples/seed004.yaml", "--wrt", "w5", "--json", "--no-check")
    assert a.returncode == b.returncode == 0
    assert json.loads(a.stdout)["selected"] == json.loads(b.stdout)["selected"]


def test_hessian_wrt_is_the_submatrix():
    full = json.loads(run_cli("hessian", "x^2*y + sin(y)*z", "--at", "x=1,y=2,z=3",
                              "--json").stdout)
    part = json.loads(run_cli("hessian", "x^2*y + sin(y)*z", "--at", "x=1,y=2,z=3",
                              "--wrt", "z,y", "--json", "--mode", "all").stdout)
    names = full["inputs"]
    rows = [names.index("z"), names.index("y")]
    assert part["hessian"] == [[full["hessian"][i][j] for j in rows] for i in rows]
    assert all(p["hessian"] == part["hessian"] for p in part["pairings"].values())
    assert part["check"]["status"] == "pass"


def test_stdin_rule_is_documented():
    text = Path(ROOT / "docs" / "expressions.md").read_text() + \
        Path(ROOT / "docs" / "spec.md").read_text()
    assert "YAML key" in text
