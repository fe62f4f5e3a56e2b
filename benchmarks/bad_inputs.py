"""Time every bad input of the issues' lists to its clean exit: the target is under 5 s.

    python benchmarks/bad_inputs.py

The test suite checks the exit codes and messages of the same inputs without timing them
(machines are noisy); this script prints the seconds, the exit code and the target side by
side, and exits 1 if a case misses either.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKPROP = str(Path(sys.executable).parent / "backprop")
TARGET_SECONDS = 5.0

LAYERED_60 = "; ".join(["h1 = x*x"] + [f"h{i} = h{i-1}*h{i-1}" for i in range(2, 61)])
WIDE_SUM = "+".join(f"x{i}" for i in range(100_000))


def spec_cases(folder: Path) -> list[tuple]:
    """Spec files that must fail cleanly (docs/spec.md, issue 4)."""
    files = {
        "empty.yaml": b"",
        "binary.yaml": bytes(range(256)) * 8,
        "two_documents.yaml": b"version: 1\n---\nversion: 1\n",
        "alias_bomb.yaml": ("a: &a [x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi"))).encode(),
        "deep.yaml": b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
        "duplicate.yaml": b"version: 1\nversion: 1\n",
        "huge_layer.yaml": b"version: 1\ninputs: [0.5, 0.5]\ntargets: [1]\nloss: half_sse\n"
                           b"layers:\n  - units: 1000000\n    activation: tanh\n"
                           b"    init: {scheme: zeros, seed: 0}\n"
                           b"  - units: 1\n    activation: sigmoid\n"
                           b"    init: {scheme: zeros, seed: 0}\n",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    cases = [(f"net {name}", ["net", str(folder / name)], None, (2, 3)) for name in files]
    cases += [("net missing.yaml", ["net", str(folder / "missing.yaml")], None, (2,)),
              ("net a directory", ["net", str(folder)], None, (2,))]
    return cases


def cases(folder: Path) -> list[tuple]:
    """(what, argv, stdin, accepted exit codes)."""
    expr = [(f"grad {e!r}", ["grad", e, "--at", "x=1"], None, (2,))
            for e in ("sin(2*x+", "2x", "x +* y", "sin()", "sin(x, y)", "foo(x)",
                      "x.__class__", "__import__('os')", "lambda: 1", '"x"', "")]
    return expr + [
        ("10,000 nested parentheses", ["grad", "-", "--at", "x=1"],
         "(" * 10_000 + "x" + ")" * 10_000, (0,)),
        ("1,000,000 nested parentheses", ["grad", "-", "--at", "x=1", "--no-check"],
         "(" * 1_000_000 + "x" + ")" * 1_000_000, (0,)),
        ("x**10**10**10", ["grad", "x**10**10**10", "--at", "x=1"], None, (0,)),
        ("a 5,000-digit literal", ["grad", "x+" + "9" * 5000, "--at", "x=1"], None, (2,)),
        ("a 50 MB expression on stdin", ["grad", "-", "--at", "x=1"], "x+" * 25_000_000, (3,)),
        ("--at x=abc", ["grad", "x", "--at", "x=abc"], None, (2,)),
        ("2^60 paths with --mode paths", ["grad", LAYERED_60, "--at", "x=1", "--mode", "paths"],
         None, (3,)),
        ("compare on a 100,000-input sum", ["compare", "-", "--at", "*=0.5"], WIDE_SUM, (0,)),
        ("scale nosuchfamily", ["scale", "nosuchfamily", "--sizes", "1:3"], None, (2,)),
        ("graph --format bmp", ["graph", "sin(x)", "--format", "bmp"], None, (2,)),
        ("log(x) at 0 --strict", ["grad", "log(x)", "--at", "x=0", "--strict"], None, (4,)),
    ] + spec_cases(folder)


def main() -> int:
    missed = 0
    print(f"{'case':<40} {'exit':>4} {'seconds':>8}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for what, argv, stdin, codes in cases(Path(tmp)):
            start = time.perf_counter()
            proc = subprocess.run([BACKPROP, *argv], input=stdin, capture_output=True,
                                  text=True, timeout=120)
            seconds = time.perf_counter() - start
            ok = proc.returncode in codes and seconds < TARGET_SECONDS \
                and "Traceback" not in proc.stderr
            missed += not ok
            print(f"{what[:40]:<40} {proc.returncode:>4} {seconds:>8.2f}  "
                  f"{'ok' if ok else 'MISSED'} (exit {'/'.join(map(str, codes))}, < 5 s)")
    print(f"\n{missed} case(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
