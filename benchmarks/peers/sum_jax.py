"""JAX, whole process: the gradient of sum_i sin(x_i*x_{i+1}) at x = 0.5 (jit-compiled,
float64), written to stdout as JSON (value and gradient), like ``backprop grad - --json``.

    python benchmarks/peers/sum_jax.py N
"""

import json
import sys

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
import jax.numpy as jnp  # noqa: E402

n = int(sys.argv[1])
x = jnp.full((n + 1,), 0.5, dtype=jnp.float64)
value, gradient = jax.jit(jax.value_and_grad(lambda x: jnp.sum(jnp.sin(x[:-1] * x[1:]))))(x)
json.dump({"value": float(value), "gradient": gradient.tolist()}, sys.stdout, indent=2)
