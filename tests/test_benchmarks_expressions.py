"""A fast smoke run of the expression benchmark, so that it cannot rot (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_expression_benchmark_runs_at_a_tiny_size():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "expressions.py"),
                           "--sizes", "10,100"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.strip().splitlines()[2:]
    assert [int(r.split()[0].replace(",", "")) for r in rows] == [10, 100]
    assert all(len(r.split()) == 7 for r in rows)
