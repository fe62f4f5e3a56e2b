"""``backprop examples``: the examples ship inside the package, so the --help examples that
name them work after a wheel install too (issue 16, "fit the ecosystem")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from backprop.jobs.examples import catalog
from conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples"


def _files() -> set[str]:
    return {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*")
            if p.is_file() and p.name not in ("README.md", "__init__.py")
            and "__pycache__" not in p.parts}


def test_the_list_is_every_example_file():
    """examples/README.md's table is the list: a new example must be described there."""
    assert {e.name for e in catalog()} == _files()
    assert all(e.about.strip() for e in catalog())


@pytest.mark.parametrize("name", sorted(_files()))
def test_each_example_prints_as_itself(name):
    out = run_cli("examples", name)
    assert out.returncode == 0 and out.stdout == (EXAMPLES / name).read_text()


def test_a_printed_spec_runs_from_stdin():
    piped = run_cli("net", "-", "--wrt", "w5", "--json", "--no-check",
                    stdin=run_cli("examples", "seed004.yaml").stdout)
    direct = run_cli("net", "examples/seed004.yaml", "--wrt", "w5", "--json", "--no-check")
    assert piped.returncode == direct.returncode == 0
    assert json.loads(piped.stdout)["selected"] == json.loads(direct.stdout)["selected"]


def test_copy_writes_them_all_and_refuses_to_overwrite(tmp_path):
    out = run_cli("examples", "--copy", str(tmp_path))
    assert out.returncode == 0, out.stderr
    copied = {str(p.relative_to(tmp_path / "examples")) for p in (tmp_path / "examples").rglob("*")
              if p.is_file() and p.name != "README.md"}
    assert copied == _files()
    assert os.access(tmp_path / "examples" / "run.sh", os.X_OK)
    again = run_cli("examples", "--copy", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_unknown_names_and_listing_formats():
    out = run_cli("examples", "seed04.yaml")
    assert out.returncode == 2 and "seed004.yaml" in out.stderr and "Traceback" not in out.stderr
    listed = json.loads(run_cli("examples", "--json").stdout)
    assert [e["name"] for e in listed["examples"]] == [e.name for e in catalog()]
    assert "seed004.yaml" in run_cli("examples").stdout


def test_the_wheel_carries_every_example(tmp_path):
    """Built as pip builds it; the examples are package data of backprop.examples."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("backprop-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"backprop/examples/{name}" for name in _files()} <= names
