"""The compiled core's op kernels are generated from the op table (backprop.engine.cgen).

The committed ``_core_ops.h`` must be what ``python -m backprop.engine.cgen`` writes today, and
``_core.c`` must hold no op formula of its own: only the backend (``f_*`` helpers) and
the code that walks graphs. That the generated kernels give Python's numbers bit for bit
is tests/test_core.py's work.
"""

from __future__ import annotations

import re

import pytest

from backprop.engine import cgen
from backprop.engine.backends import FLOAT
from backprop.engine.ops import LEAVES, OPS

CORE_C = cgen.HEADER.with_name("_core.c")


def test_the_committed_header_is_what_the_generator_writes():
    assert cgen.HEADER.read_text(encoding="utf-8") == cgen.generate(), (
        "src/backprop/_core_ops.h is stale: run `python -m backprop.engine.cgen` and rebuild the core")


def test_running_the_module_writes_the_header(tmp_path, monkeypatch, capsys):
    target = tmp_path / "_core_ops.h"
    monkeypatch.setattr(cgen, "HEADER", target)
    cgen.main()
    assert target.read_text(encoding="utf-8") == cgen.generate()
    assert str(target) in capsys.readouterr().out


def test_the_header_says_it_is_generated():
    first = cgen.generate().splitlines()[0]
    assert "Generated from ops.py by `python -m backprop.engine.cgen`" in first
    assert "do not edit" in first


def test_every_op_has_one_value_case_and_one_partials_case():
    text = cgen.generate()
    for name, op in OPS.items():
        cases = re.findall(rf"^    case {name.upper()}: (.*)$", text, re.MULTILINE)
        assert len(cases) == 2, name
        value, partials = cases
        assert value.startswith("return ")
        assert partials.count("*pa = ") == 1
        assert partials.count("*pb = ") == (op.arity >= 2)
        assert partials.count("*pc = ") == (op.arity == 3)


def test_core_c_writes_no_op_formula_by_hand():
    source = CORE_C.read_text(encoding="utf-8")
    names = "|".join(name.upper() for name in OPS)
    assert not re.search(rf"\bcase\s+({names})\s*:", source), "an op-name switch in _core.c"
    assert not re.search(r"\*p[ab]\s*=", source), "a partial assigned in _core.c"
    assert not re.search(r"\bstatic\b[^;{]*\bop_(value|partials)\s*\(", source)
    assert '#include "_core_ops.h"' in source


def test_every_helper_the_header_calls_is_written_in_core_c():
    called = set(re.findall(r"\b(f_\w+)\(", cgen.generate()))
    defined = set(re.findall(r"^static double (f_\w+)\(", CORE_C.read_text(encoding="utf-8"),
                             re.MULTILINE))
    assert called and called <= defined
    # and each is one of FLOAT's primitives, the backend the Python engine runs on
    assert {name.removeprefix("f_") for name in called} <= set(vars(FLOAT))


def test_the_codes_follow_the_op_table_then_the_leaves():
    text = cgen.generate()
    enum = re.search(r"enum \{(.*?)\};", text, re.DOTALL).group(1)
    assert [c.strip() for c in enum.split(",")] == [
        *(c.upper() for c in (*OPS, *LEAVES)), "N_CODES"]
    assert f"#define N_OPS {len(OPS)}" in text


@pytest.mark.parametrize("build, c_text", [
    (lambda a, b, c: a - (b - c), "a - (b - c)"),
    (lambda a, b, c: (a - b) - c, "a - b - c"),
    (lambda a, b, c: a + b * c, "a + b * c"),
    (lambda a, b, c: (a + b) * c, "(a + b) * c"),
    (lambda a, b, c: a * (b * c), "a * (b * c)"),
    (lambda a, b, c: -(-a), "-(-a)"),
    (lambda a, b, c: -(a + b), "-(a + b)"),
    (lambda a, b, c: 1 - a * a, "1.0 - a * a"),
    (lambda a, b, c: a - (-1) * b, "a - -1.0 * b"),
    (lambda a, b, c: cgen.C.div(1, cgen.C.sqrt(a - 0.5)), "f_div(1.0, f_sqrt(a - 0.5))"),
])
def test_c_expressions_keep_pythons_grouping(build, c_text):
    """Floating point does not reassociate, so the C text groups exactly as Python did."""
    a, b, c = (cgen.CExpr(n) for n in "abc")
    assert build(a, b, c).text == c_text


def test_a_number_without_an_exact_c_literal_is_refused():
    with pytest.raises(ValueError):
        cgen.lift(float("inf"))
    with pytest.raises(ValueError):
        cgen.lift(2**60 + 1)
