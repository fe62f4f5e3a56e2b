"""Limits: every default written once, every command's options taken from it, one validation."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import pytest
import typer

from backprop.cli import app
from backprop.errors import InputError
from backprop.limits import MAX_CHECK_TIMEOUT, Limits
from conftest import ROOT


def limit_options():
    """(command, option, Limits field) for every limit option of every command."""
    names = {f.name for f in fields(Limits)}
    for command in typer.main.get_command(app).commands.values():
        for param in command.params:
            if param.name in names:
                yield command.name, param, param.name


def test_every_limit_option_defaults_to_its_field():
    seen = set()
    for command, param, name in limit_options():
        assert param.default == getattr(Limits, name), (command, name)
        assert param.opts == ["--" + name.replace("_", "-")], (command, name)
        seen.add(name)
    assert seen == {f.name for f in fields(Limits)}  # every limit can be set somewhere


def test_one_limit_has_one_help_text_in_every_command():
    helps: dict[str, set[str]] = {}
    for _, param, name in limit_options():
        helps.setdefault(name, set()).add(param.help)
    assert all(len(texts) == 1 for texts in helps.values()), helps


@pytest.mark.parametrize("name", [f.name for f in fields(Limits)])
@pytest.mark.parametrize("bad", [-1, math.inf, math.nan])
def test_a_negative_or_non_finite_limit_is_refused(name, bad):
    with pytest.raises(InputError, match="--" + name.replace("_", "-")):
        Limits(**{name: bad})


def test_the_check_timeout_is_capped():
    Limits(check_timeout=MAX_CHECK_TIMEOUT)
    with pytest.raises(InputError, match="--check-timeout must be at most"):
        Limits(check_timeout=MAX_CHECK_TIMEOUT * 10)


def test_limits_are_frozen():
    with pytest.raises(AttributeError):
        Limits().max_nodes = 1  # type: ignore[misc]


def test_the_documented_defaults_are_the_fields():
    """docs/errors.md's limits table lists every limit with its default."""
    text = (ROOT / "docs" / "errors.md").read_text()
    table = dict(re.findall(r"^\| `--([a-z-]+)` \| ([0-9,]+)(?: s)? \|", text, re.M))
    assert {name.replace("-", "_"): int(value.replace(",", ""))
            for name, value in table.items()} == \
        {f.name: getattr(Limits, f.name) for f in fields(Limits)}


def test_a_limit_too_large_for_a_machine_word_is_no_limit(capsys):
    from backprop.cli import main
    from backprop.limits import UNLIMITED

    assert Limits(max_nodes=10**400, max_ops=2**70).max_nodes == UNLIMITED
    for args in (["grad", "x*y", "--at", "x=1,y=2", "--no-check", "--max-nodes", "1e400",
                  "--max-depth", "1e400", "--max-paths", "1e400", "--max-ops", "1e400"],
                 ["compare", "x*y", "--max-forward-sweeps", "1e400"],
                 ["graph", "x*y", "--max-bytes", "1e400"]):
        assert main(args) == 0, capsys.readouterr().err
    assert main(["grad", "x", "--max-nodes", "-1e400"]) == 2
    err = capsys.readouterr().err
    assert "must not be negative (got -1.00e+400)" in err and len(err.splitlines()) == 1
