"""Smoke test: benchmarks/network.py runs at a tiny size and reports what it promises."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_network_benchmark_runs_at_a_tiny_size():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "network.py"), "--sizes", "6,5,3",
         "--batch", "4", "--repeat", "3"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "gradients agree with numpy to 0" in out
    assert "ratio ours / numpy:" in out
    assert "peak memory" in out
    # forward mode: one JVP per weight entry, 6*5 + 5 + 5*3 + 3 = 53
    assert "forward mode, exact counts (not run): 53 JVPs" in out
