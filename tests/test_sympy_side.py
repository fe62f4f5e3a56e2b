"""The SymPy side process: the same answers as in-process, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backprop.check import sympy_side
from backprop.errors import InputError
from backprop.frontends.parse import parse
from backprop.jobs.grad import _sympy_at_point


def job(text: str, point: dict):
    graph = parse(text)
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes.reverse import reverse

    jacobian = reverse(graph, evaluate(graph, point), graph.inputs).jacobian
    return (graph, list(graph.input_names), list(graph.inputs), jacobian, point, True, 1e-9,
            1e-12, 10.0)


def fails(message):
    raise InputError(message)


def children() -> set[int]:
    """Pids of this process's children (zombies included)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        found.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def test_the_side_process_gives_the_in_process_answer():
    args = job("sin(2*x+y)*exp(-x)", {"x": 0.3, "y": -1.2})
    here = _sympy_at_point(*args)
    before = children()
    sympy_side.start()
    there = sympy_side.run(_sympy_at_point, *args)
    assert there == here
    output_formulas, formulas, check = there
    assert output_formulas == ["exp(-x)*sin(2*x + y)"]
    assert all(isinstance(f, str) for f in formulas[0]) and len(formulas[0]) == 2
    assert check.status == "pass" and check.checked == ["x", "y"]
    assert children() <= before  # the child was reaped


def test_an_error_on_the_side_is_the_in_process_error():
    sympy_side.start()
    with pytest.raises(InputError, match="the same message"):
        sympy_side.run(fails, "the same message")


def test_without_start_run_is_a_plain_call():
    assert sympy_side.run(sorted, [3, 1, 2]) == [1, 2, 3]


def test_with_a_timeout_run_kills_the_work_at_the_deadline():
    before = children()
    with pytest.raises(sympy_side.TimedOut):
        sympy_side.run(spin, timeout=0.2)
    assert children() <= before  # killed and reaped
    assert sympy_side.run(sorted, [2, 1], timeout=30) == [1, 2]  # a fresh child answers


def spin():
    while True:
        pass


def test_an_unused_child_is_killed_at_exit():
    code = ("import os, sys; from backprop.check import sympy_side; sympy_side.start(); "
            "print(sympy_side._child[0]); sys.exit(0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30)
    pid = int(proc.stdout)
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped, not an orphan at work


@pytest.mark.parametrize("argv, wanted", [
    (["grad", "sin(x)", "--at", "x=1"], True),
    (["--debug", "grad", "sin(x)", "--at=x=1"], True),
    (["grad", "sin(x)", "--at", "x=1", "--no-check"], False),
    (["grad", "sin(x)"], False),  # formulas without a point: SymPy runs in-process
    (["grad", "--help"], False),
    (["paths", "x*y", "--at", "x=1"], False),
    (["net", "examples/xor.yaml"], True),
    (["net", "examples/xor.yaml", "--no-check"], False),
    ([], False),
])
def test_the_entry_point_starts_sympy_only_for_a_checked_grad(argv, wanted):
    from backprop.entry import wants_sympy

    assert wants_sympy(argv) is wanted
