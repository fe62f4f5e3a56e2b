"""A smoke run of benchmarks/run.py at tiny sizes, so that it cannot rot (nothing timed)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_quick_and_writes_its_figures(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    for section in ("start-up", "large expressions", "peers", "modes", "whole command"):
        assert any(key.startswith(section) for key in results), section
    assert "Traceback" not in proc.stderr
