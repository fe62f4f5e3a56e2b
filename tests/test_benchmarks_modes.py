"""A fast smoke run of the per-mode benchmark, so that it cannot rot (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_modes_benchmark_runs_quickly_and_prints_a_row_per_mode():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "modes.py"), "--quick",
                           "--repeats", "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[1].split()[0] == "graph"
    rows = lines[2:]
    assert len(rows) == 9  # three graphs, three modes each
    modes = [next(w for w in ("forward", "reverse", "paths") if f" {w} " in r) for r in rows]
    assert modes == ["forward", "reverse", "paths"] * 3
    layered_paths = rows[-1]
    assert " 64 " in layered_paths  # L = 6: 2^6 paths, and a time per path
    assert layered_paths.split()[-1] != "-"
