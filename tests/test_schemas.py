"""docs/schemas/: one JSON Schema per document; every --json output of the suite is checked
against its schema by conftest's run_cli (tests/schemas.py). Here: the schemas themselves,
that they can fail, and that no command prints a document without one."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

import schemas
from conftest import ROOT, run_cli


def test_every_schema_is_valid_and_its_references_resolve():
    validators = schemas._validators()
    assert set(schemas.BY_COMMAND.values()) <= set(validators)
    for path in schemas.SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        assert schema["$schema"].endswith("2020-12/schema") and schema["$id"].endswith(path.name)


def _documents():
    yield run_cli("grad", "sin(2*x+y)", "--at", "x=1,y=2", "--json", "--mode", "all")
    yield run_cli("hessian", "x^2*y", "--at", "x=1,y=2", "--json", "--vector", "x=1,y=0")
    yield run_cli("net", "examples/xor.yaml", "--json")


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("command"),
    lambda d: d.update(version=2),
    lambda d: d.update(warnings="none"),
    lambda d: d.update(check={"status": "maybe", "method": None, "reason": "", "checked": []}),
])
def test_a_document_that_breaks_its_schema_is_caught(mutate):
    for proc in _documents():
        document = json.loads(proc.stdout)
        broken = copy.deepcopy(document)
        mutate(broken)
        with pytest.raises((jsonschema.ValidationError, AssertionError)):
            schemas.validate(broken)


def test_counts_are_exact_integers_and_non_finite_numbers_are_named():
    doc = json.loads(run_cli("grad", "log(x)", "--at", "x=0", "--json", "--no-check").stdout)
    schemas.validate(doc)
    assert doc["outputs"][0]["value"] == "-inf"
    broken = copy.deepcopy(doc)
    broken["modes"]["reverse"]["counts"]["sweeps"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(broken)
    broken["modes"]["reverse"]["counts"]["sweeps"] = 1
    broken["outputs"][0]["value"] = ["-inf"]
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(broken)


def test_every_command_with_json_has_a_schema():
    """Walk the command line: a command that can print JSON names a schema's command."""
    import typer

    from backprop.cli import app

    group = typer.main.get_command(app)
    with_json = {name for name, command in group.commands.items()
                 if any("--json" in p.opts or "--format" in p.opts for p in command.params)}
    documented = {c.split()[0] for c in schemas.BY_COMMAND}
    assert with_json - {"graph"} <= documented, with_json - documented
    assert group.commands  # a group of commands (typer's click is its own since 0.26)


def test_the_api_documents_fit_too():
    import backprop

    schemas.validate(backprop.grad("x*y", at={"x": 1, "y": 2}).to_dict())
    schemas.validate(backprop.paths("x*y", at={"x": 1, "y": 2}).to_dict())
    schemas.validate(backprop.check_claims(str(ROOT / "examples" / "check" / "exercises.yaml")).to_dict())


def test_the_versioning_rule_is_stated():
    text = (ROOT / "docs" / "json.md").read_text()
    assert "docs/schemas/" in text and "version" in text
