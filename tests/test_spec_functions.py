"""Specs with user activations (``functions:``) and one-argument primitives as activations.

Oracles: the scalar engine (a graph of op-table primitives, the user's body expanded per
unit) and the array engine (the body's graph and its gradient program on numpy arrays)
are built independently and must agree; both must agree with central differences of the
loss; a network whose activation is written out by hand (swish as u*sigmoid(u) per unit,
with no function) is the same network.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from backprop.frontends.spec import load_spec, resolve
from backprop.jobs.net import run_net
from backprop.jobs.net_array import ArrayNet
from backprop.limits import Limits

from conftest import ROOT, run_cli
from test_network import finite_difference_all

FIELDS = ("sweeps", "primitive_evals", "partial_evals", "multiplications", "additions", "paths")
FUNCTIONS = {
    "swish": "u * sigmoid(u)",
    "softplus2": "log(1 + exp(u))",
    "scaled(z, s)": "s * tanh(z / s)",
    "mix(v)": "scaled(v, 2) + softplus2(v)*exp(1)",  # calls earlier ones; exp(1) is constant
    "bump(w)": "w / (1 + w*w)",
}
ACTIVATIONS = ["swish", "softplus2", "mix", "bump", "atan", "sinh", "sigmoid", "linear"]


def random_spec(rng: random.Random) -> str:
    L = rng.randint(1, 3)
    dims = [rng.randint(1, 3) for _ in range(L + 1)]
    B = rng.randint(1, 3)
    loss = rng.choice(["half_sse", "mse"])
    X = [[round(rng.uniform(-1, 1), 6) for _ in range(dims[0])] for _ in range(B)]
    T = [[round(rng.uniform(0, 1), 6) for _ in range(dims[-1])] for _ in range(B)]
    lines = ["version: 1", f"loss: {loss}", f"inputs: {X}", f"targets: {T}", "functions:"]
    lines += [f"  {key}: {body}" for key, body in FUNCTIONS.items()]
    lines.append("layers:")
    for l in range(L):
        W = [[round(rng.uniform(-1, 1), 6) for _ in range(dims[l])] for _ in range(dims[l + 1])]
        lines.append(f"  - activation: {rng.choice(ACTIVATIONS)}")
        lines.append(f"    weights: {W}")
        lines.append(f"    bias: {[round(rng.uniform(-1, 1), 6) for _ in range(dims[l + 1])]}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(8))
def test_scalar_and_array_engines_agree_with_each_other_and_with_differences(tmp_path, seed):
    path = tmp_path / "net.yaml"
    path.write_text(random_spec(random.Random(seed)))
    limits = Limits(max_paths=10**7)
    scalar = run_net(str(path), mode="all", engine="scalar", run_check=False, limits=limits)
    arrays = run_net(str(path), mode="all", engine="array", run_check=False, limits=limits)
    assert arrays.loss == pytest.approx(scalar.loss, rel=1e-12)
    for mode in ("forward", "reverse"):
        for a, b in zip(scalar.layers, arrays.layers):
            assert np.allclose(a.gradients[mode], b.gradients[mode], rtol=1e-12, atol=1e-15)
        for field in FIELDS:  # the array engine counts the scalar graph it never builds
            assert getattr(scalar.runs[mode].counts, field) == \
                getattr(arrays.runs[mode].counts, field), (mode, field)
    anet = ArrayNet(resolve(load_spec(str(path)), arrays=True))
    values, aux = anet.evaluate()
    reverse, _ = anet.reverse(values, aux)
    estimates = finite_difference_all(anet)
    for node, _, _ in anet.params:
        assert np.allclose(reverse[node], estimates[node], rtol=1e-6, atol=1e-8)


def test_a_user_activation_is_the_network_written_out_by_hand(tmp_path):
    """swish as a function = the same network with u*sigmoid(u) expanded by the scalar
    graph: every gradient the same (the graphs are the same graph)."""
    head = ("version: 1\ninputs: [0.5, -1.0]\ntargets: [0.3]\nloss: half_sse\n"
            "params: {w1: 0.4, w2: -0.7, b: 0.1}\n")
    path = tmp_path / "swish.yaml"
    path.write_text(head + "functions:\n  swish: u * sigmoid(u)\nlayers:\n"
                    "  - activation: swish\n    weights: [[w1, w2]]\n    bias: [b]\n")
    by_function = run_cli("grad", str(path), "--wrt", "w1,w2,b", "--json")
    z = "(w1*0.5 + w2*-1.0 + b)"
    text = f"0.5*({z}*sigmoid({z}) - 0.3)^2"
    by_hand = run_cli("grad", text, "--at", "w1=0.4,w2=-0.7,b=0.1", "--wrt", "w1,w2,b",
                      "--json")
    assert by_function.returncode == 0 and by_hand.returncode == 0
    import json

    mine, theirs = json.loads(by_function.stdout), json.loads(by_hand.stdout)
    for name in ("w1", "w2", "b"):
        assert mine["gradient"][name]["value"] == pytest.approx(
            theirs["gradient"][name]["value"], rel=1e-14)


def test_the_example_runs_on_both_engines_and_passes_its_check():
    for engine in ("scalar", "array"):
        result = run_cli("net", "examples/swish.yaml", "--engine", engine, "--mode", "all")
        assert result.returncode == 0, result.stderr
        assert "check passed" in result.stdout
        assert "(swish, mish, sigmoid)" in result.stdout
    result = run_cli("net", "examples/swish.yaml", "--hvp", "--engine", "array")
    assert result.returncode == 0 and "check passed" in result.stdout
    result = run_cli("grad", "examples/swish.yaml", "--wrt", "hidden.W[0][0]", "--no-check")
    assert result.returncode == 0 and "hidden.W[0][0]" in result.stdout


def _spec(functions: str, activation: str) -> str:
    return ("version: 1\ninputs: [0.5]\ntargets: [1.0]\nloss: half_sse\n" + functions
            + f"layers:\n  - activation: {activation}\n    weights: [[0.3]]\n")


@pytest.mark.parametrize("functions, activation, line, message", [
    ("", "swsh", 6, "unknown activation 'swsh'"),
    ("functions:\n  swish: u * sigmoid(u)\n", "swsh", 8, "did you mean swish?"),
    ("functions:\n  swish: u * sigmoidd(u)\n", "swish", 6,
     "unknown function 'sigmoidd' (column 5 of 'u * sigmoidd(u)')"),
    ("functions:\n  swish: u * y\n", "swish", 6, "'y' is not a parameter of swish"),
    ("functions:\n  swish: u *\n", "swish", 6, "ends too early"),
    ("functions:\n  f(u, v): u * v\n", "f", 8, "f takes 2 parameters; an activation takes one"),
    ("functions:\n  c: 2\n", "c", 8, "c does not depend on its parameter u"),
    ("functions:\n  sin: u\n", "sin", 6, "cannot define 'sin'"),
    ("functions:\n  f(u: u\n", "tanh", 6, "a function is written name: body"),
    ("functions:\n  f: [1]\n", "tanh", 6, "expected an expression"),
    ("functions:\n  f(u, u): u\n", "tanh", 6, "given twice"),
    ("functions:\n  f: g(u)\n  g: u\n", "tanh", 6, "unknown function 'g'"),
    ("functions:\n  f: f(u)\n", "tanh", 6, "recursion"),
    ("functions:\n  f: u; u\n", "tanh", 6, "one expression"),
    ("functions:\n  f: u\n  f(v): v\n", "tanh", 7, "already defined"),
    ("functions: 3\n", "tanh", 5, "expected a mapping"),
])
def test_spec_errors_point_at_file_and_line(tmp_path, functions, activation, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(_spec(functions, activation))
    result = run_cli("net", str(path))
    assert result.returncode == 2
    errors = [x for x in result.stderr.splitlines() if x.startswith("backprop: error:")]
    assert len(errors) == 1, result.stderr  # a broken function used by a layer: one error
    assert errors[0].startswith(f"backprop: error: {path}:{line}: ") and message in errors[0]
    assert "Traceback" not in result.stderr


def test_every_one_argument_primitive_is_an_activation(tmp_path):
    from backprop.frontends.spec_functions import UNARY

    for name in UNARY:
        path = tmp_path / f"{name}.yaml"
        path.write_text(_spec("", name))
        result = run_cli("net", str(path), "--no-check")
        assert result.returncode == 0, (name, result.stderr)


def test_the_spec_documentation_example_exists():
    assert (ROOT / "examples" / "swish.yaml").exists()
