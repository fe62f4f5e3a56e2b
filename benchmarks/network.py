"""Benchmark: the array engine's reverse mode against plain numpy backprop, side by side.

    .venv/bin/python benchmarks/network.py                 # 784-256-10, batch 64
    .venv/bin/python benchmarks/network.py --sizes 8,4,3 --batch 5 --repeat 3   # smoke size

Both compute the full gradient (primal pass + one reverse sweep) of the same network
(ReLU hidden layer, softmax output, mean cross-entropy over the batch, the same weights and
batch); the hand-written version is the textbook numpy code with nothing to dispatch. The
runs are interleaved; each side's best time (as timeit recommends: the least disturbed run)
and median are reported, with the ratio of the best times (target: ours at most 1.5 times
numpy's), the peak memory of one run of each (tracemalloc, which sees
numpy's buffers), and forward mode's exact cost on the same net: one JVP per weight entry,
counted, not run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from backprop.jobs.net_array import ArrayNet  # noqa: E402
from backprop.jobs.net_counts import structure  # noqa: E402
from backprop.frontends.spec import load_spec, resolve  # noqa: E402

SPEC = """\
version: 1
name: benchmark {sizes}
inputs: {{random: {{shape: [{batch}, {n0}], seed: 0}}}}
targets: {{random: {{shape: [{batch}, {k}], seed: 1, one_hot: true}}}}
loss: cross_entropy
layers:
{layers}"""


def spec_text(sizes: list[int], batch: int) -> str:
    layers = []
    for l, units in enumerate(sizes[1:]):
        last = l == len(sizes) - 2
        layers.append(f"  - {{units: {units}, activation: {'softmax' if last else 'relu'}, "
                      f"init: {{scheme: {'xavier' if last else 'he'}, seed: 0}}}}")
    return SPEC.format(sizes="-".join(map(str, sizes)), batch=batch, n0=sizes[0], k=sizes[-1],
                       layers="\n".join(layers) + "\n")


def ours(anet: ArrayNet):
    values, aux = anet.evaluate()
    grads, _ = anet.reverse(values, aux)
    return values[anet.loss], grads


def by_hand(X, T, Ws, bs):
    """Plain numpy backprop: X @ W + b, ReLU, softmax cross-entropy, then the VJPs."""
    hs, zs = [X], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = hs[-1] @ W + b
        zs.append(z)
        if l < len(Ws) - 1:
            hs.append(np.maximum(z, 0.0))
    z = zs[-1]
    top = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=1, keepdims=True)) + top
    B = X.shape[0]
    loss = float(np.sum(T * (lse - z))) / B
    g = (np.exp(z - lse) - T) / B
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        dWs[l] = hs[l].T @ g
        dbs[l] = g.sum(axis=0)
        if l:
            g = (g @ Ws[l].T) * (zs[l - 1] > 0)
    return loss, dWs, dbs


def peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def measure(sizes: list[int], batch: int, repeat: int) -> dict:
    """Time, memory and exact counts for one network (both sides checked to agree first)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(spec_text(sizes, batch))
        path = handle.name
    try:
        spec = load_spec(path)
    finally:
        os.unlink(path)
    net = resolve(spec, arrays=True)
    anet = ArrayNet(net)
    X, T = anet.leaves[0], anet.leaves[1]
    Ws = [anet.leaves[node] for node, _, kind in anet.params if kind == "W"]
    bs = [anet.leaves[node] for node, _, kind in anet.params if kind == "b"]

    # Same numbers first: the comparison is only fair if both compute the same gradient.
    loss_a, grads = ours(anet)
    loss_b, dWs, dbs = by_hand(X, T, Ws, bs)
    ours_list = [grads[node] for node, _, _ in anet.params]
    hand_list = [g for pair in zip(dWs, dbs) for g in pair]
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(ours_list, hand_list))
    assert abs(loss_a - loss_b) <= 1e-12 * max(1.0, abs(loss_b)), (loss_a, loss_b)
    assert worst <= 1e-12, worst

    for _ in range(3):  # warm up BLAS and the caches
        ours(anet)
        by_hand(X, T, Ws, bs)
    times_ours, times_hand = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine state
        start = time.perf_counter()
        ours(anet)
        times_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        by_hand(X, T, Ws, bs)
        times_hand.append(time.perf_counter() - start)
    counts = structure(spec, anet.nodes, anet.leaves)
    return {
        "network": "-".join(map(str, sizes)),
        "batch": batch,
        "parameters": spec.parameters,
        "loss": loss_a,
        "max |difference|": worst,
        "ours ms": min(times_ours) * 1e3,
        "numpy ms": min(times_hand) * 1e3,
        "ratio": min(times_ours) / min(times_hand),
        "ours median ms": statistics.median(times_ours) * 1e3,
        "numpy median ms": statistics.median(times_hand) * 1e3,
        "median ratio": statistics.median(times_ours) / statistics.median(times_hand),
        "ours peak MB": peak_bytes(lambda: ours(anet)) / 1e6,
        "numpy peak MB": peak_bytes(lambda: by_hand(X, T, Ws, bs)) / 1e6,
        "reverse mults": counts.counts("reverse", 0).multiplications,
        "reverse adds": counts.counts("reverse", 0).additions,
        "forward JVPs": counts.counts("forward", 0).sweeps,
        "forward mults": counts.counts("forward", 0).multiplications,
        "forward adds": counts.counts("forward", 0).additions,
    }


def rows(quick: bool = False) -> list[dict]:
    """For benchmarks/run.py: the 784-256-10 comparison (a tiny net when quick)."""
    if quick:
        return [measure([20, 8, 3], 4, 5)]
    return [measure([784, 256, 10], 64, 200)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784,256,10", help="layer widths, inputs first")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=200, help="timed runs of each side")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    r = measure(sizes, args.batch, args.repeat)
    print(f"network {r['network']}, batch {r['batch']}, relu + softmax cross-entropy, "
          f"{r['parameters']:,} parameters, {args.repeat} runs each")
    print(f"loss {r['loss']:.12g}; gradients agree with numpy to {r['max |difference|']:.2g}")
    print(f"reverse mode (ours, array engine)  best {r['ours ms']:8.3f} ms   median "
          f"{r['ours median ms']:8.3f} ms   peak memory {r['ours peak MB']:7.2f} MB")
    print(f"hand-written numpy backprop        best {r['numpy ms']:8.3f} ms   median "
          f"{r['numpy median ms']:8.3f} ms   peak memory {r['numpy peak MB']:7.2f} MB")
    verdict = "ok" if r["ratio"] <= 1.5 else "OVER the 1.5x target"
    print(f"ratio ours / numpy: {r['ratio']:.2f}x best of {args.repeat} ({verdict}), "
          f"{r['median ratio']:.2f}x by medians")
    print(f"reverse mode, exact counts: 1 sweep, {r['reverse mults']:,} multiplications, "
          f"{r['reverse adds']:,} additions")
    print(f"forward mode, exact counts (not run): {r['forward JVPs']:,} JVPs (one per weight "
          f"entry), {r['forward mults']:,} multiplications, {r['forward adds']:,} additions: "
          f"{r['forward mults'] / max(1, r['reverse mults']):,.0f}x reverse mode's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
