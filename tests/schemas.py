"""The JSON Schemas of docs/schemas/, and validating a document against its own.

conftest's ``run_cli`` hands every ``--json`` output of the suite here, so each document any
test produces is checked against the schema its ``command`` names (issue 16: "every --json
output in the test suite validated against its schema")."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"
BY_COMMAND = {"grad": "grad", "grad --program": "program", "hessian": "hessian",
              "compare": "compare", "paths": "paths", "scale": "scale", "net": "net",
              "check": "check", "scale --checkpoints": "checkpoint-curve",
              "examples": "examples"}


@lru_cache(maxsize=None)
def _validators() -> dict:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    documents = {path.name.split(".")[0]: json.loads(path.read_text())
                 for path in SCHEMAS.glob("*.schema.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in documents.values())
    for schema in documents.values():
        Draft202012Validator.check_schema(schema)
    return {name: Draft202012Validator(schema, registry=registry)
            for name, schema in documents.items()}


def validate(document: dict) -> None:
    """Raise jsonschema's ValidationError (with the path of the bad field) if ``document``
    does not fit the schema of its command."""
    command = document.get("command")
    assert command in BY_COMMAND, f"a JSON document with no schema: command {command!r}"
    _validators()[BY_COMMAND[command]].validate(document)


def asks_for_json(args) -> bool:
    args = list(args)
    return "--json" in args or "--format=json" in args or any(
        a == "--format" and b.strip().lower() == "json" for a, b in zip(args, args[1:]))


def check_output(args, proc) -> None:
    """A JSON document on stdout (the command asked for one and printed one) fits its
    schema. Outputs to -o files and errors are not documents."""
    if not asks_for_json(args) or proc.returncode not in (0, 1, 4) or not proc.stdout.strip():
        return
    try:
        document = json.loads(proc.stdout)
    except ValueError:
        return  # a test that checks what was printed will say so
    if isinstance(document, dict):
        validate(document)
