"""The new primitives against PyTorch (float64), away from their kinks: value and gradient
of each at random points, and the largest relative difference. PyTorch is not a test
dependency: run it where torch is installed (the main checkout's benchmark venv).

    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/torch_ops.py   # 200 points per op

On 2026-12-02 (torch 2.13, float64) every value and gradient agreed to 5e-16 relative but
softplus (2.5e-14 value, 7e-13 gradient: PyTorch returns x itself past x = 20) and
logsumexp's gradient (4.8e-14: e^(a - out) against our sigmoid(a - b), both within the
condition number |a - b| of the inputs' rounding, tests/test_stable.py).
"""

from __future__ import annotations

import random

import torch

from backprop.engine.evaluate import evaluate
from backprop.engine.modes.reverse import reverse
from backprop.frontends.parse import parse

F = torch.nn.functional
# our expression, PyTorch's function of the same inputs, a sampler of (x, y)
CASES = [
    ("max(x, y)", torch.maximum, (-5, 5)),
    ("min(x, y)", torch.minimum, (-5, 5)),
    ("clip(x, -1, y)", lambda x, y: torch.clamp(x, min=torch.tensor(-1.0, dtype=x.dtype),
                                                max=y), (-3, 3)),
    ("where(x > y, x*y, x - y)", lambda x, y: torch.where(x > y, x * y, x - y), (-5, 5)),
    ("atan2(y, x)", lambda x, y: torch.atan2(y, x), (-5, 5)),
    ("hypot(x, y)", torch.hypot, (-5, 5)),
    ("floor(x)*y", lambda x, y: torch.floor(x) * y, (-5, 5)),
    ("ceil(x)*y", lambda x, y: torch.ceil(x) * y, (-5, 5)),
    ("leaky_relu(x, 0.1)*y", lambda x, y: F.leaky_relu(x, 0.1) * y, (-5, 5)),
    ("elu(x)*y", lambda x, y: F.elu(x) * y, (-5, 5)),
    ("gelu(x)*y", lambda x, y: F.gelu(x) * y, (-5, 5)),
    ("erf(x)*y", lambda x, y: torch.erf(x) * y, (-3, 3)),
    ("log1p(x*x)*y", lambda x, y: torch.log1p(x * x) * y, (-5, 5)),
    ("expm1(x)*y", lambda x, y: torch.expm1(x) * y, (-30, 30)),
    ("softplus(x)*y", lambda x, y: F.softplus(x) * y, (-800, 800)),
    ("log_sigmoid(x)*y", lambda x, y: F.logsigmoid(x) * y, (-800, 800)),
    ("logsumexp(x, y, 1)", lambda x, y: torch.logsumexp(
        torch.stack([x, y, torch.ones((), dtype=x.dtype)]), 0), (-800, 800)),
]


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(b))


def main() -> None:
    print(f"{'expression':28} {'points':>6} {'value':>10} {'gradient':>10}")
    for text, fn, (low, high) in CASES:
        graph = parse(text)
        rng = random.Random(text)
        worst_value = worst_grad = 0.0
        for _ in range(200):
            point = {"x": rng.uniform(low, high), "y": rng.uniform(low, high)}
            at = {n: point[n] for n in graph.input_names}
            values = evaluate(graph, at)
            ours = values[graph.outputs[0]]
            grad = reverse(graph, values, graph.inputs).jacobian[0]
            tensors = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                       for n, v in point.items()}
            theirs = fn(tensors["x"], tensors["y"])
            theirs.backward()
            worst_value = max(worst_value, relative(ours, float(theirs.detach())))
            for name, g in zip(graph.input_names, grad):
                reference = tensors[name].grad
                worst_grad = max(worst_grad, relative(g, float(reference)
                                                      if reference is not None else 0.0))
        print(f"{text:28} {200:>6} {worst_value:>10.2g} {worst_grad:>10.2g}")


if __name__ == "__main__":
    main()
