"""PyTorch, whole process: the gradient of sum_i sin(x_i*x_{i+1}) at x = 0.5, vectorized,
written to stdout as JSON (value and gradient), like ``backprop grad - --json``.

    python benchmarks/peers/sum_torch.py N
"""

import json
import sys

import torch

n = int(sys.argv[1])
x = torch.full((n + 1,), 0.5, dtype=torch.float64, requires_grad=True)
value = torch.sin(x[:-1] * x[1:]).sum()
value.backward()
json.dump({"value": value.item(), "gradient": x.grad.tolist()}, sys.stdout, indent=2)
