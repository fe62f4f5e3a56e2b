"""The array engine (its op table, sweeps and cost rules), the exact counts, and
``backprop net`` end to end."""

from __future__ import annotations

import json
import math
import random
import tracemalloc

import numpy as np
import pytest

from backprop.engine.array_costs import Col, Tally
from backprop.engine.arrays import ARRAY_OPS, ANode
from backprop.engine.backends import FLOAT, array
from backprop.limits import Limits
from backprop.jobs.net import run_net
from backprop.jobs.net_array import ArrayNet
from backprop.jobs.net_counts import structure
from backprop.engine.ops import OPS
from backprop.frontends.spec import load_spec, resolve

from conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples"
ALL = ["seed004.yaml", "two_two_two.yaml", "xor.yaml", "mnist_shaped.yaml"]
FIELDS = ("sweeps", "primitive_evals", "partial_evals", "multiplications", "additions", "paths")


# --------------------------------------------------------------------------- the numpy backend


@pytest.mark.parametrize("name", sorted(OPS))
def test_array_backend_gives_the_float_backends_numbers(name):
    """One op-table entry serves floats and arrays: same values, same partials, elementwise."""
    op = OPS[name]
    A = array()
    a = np.array([0.3, -0.7, 0.0, 2.0, 0.55])
    b = np.array([1.7, 0.4, 2.5, 0.5, 3.0])
    c = np.array([-1.2, 0.9, 4.0, 0.5, -3.5])  # where's third argument
    args = (a, b, c)[: op.arity]
    with np.errstate(all="ignore"):
        value = op.value(A, *args)
        partials = op.partials(A, value, *args)
    for k in range(a.size):
        scalars = [float(x[k]) for x in args]
        expected = op.value(FLOAT, *scalars)
        expected_partials = op.partials(FLOAT, expected, *scalars)
        assert _same(float(value[k]), expected), (name, k)
        for j in range(op.arity):
            got = float(np.broadcast_to(partials[j], a.shape)[k])
            assert _same(got, float(expected_partials[j])), (name, k, j)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-13, abs_tol=1e-300)


def test_array_backend_follows_ieee_without_warnings():
    A = array()
    with np.errstate(all="raise"):  # the backend must not raise even under "raise"
        assert A.log(np.array([0.0]))[0] == -math.inf
        assert A.div(np.array([1.0]), np.array([0.0]))[0] == math.inf
        assert math.isnan(A.sqrt(np.array([-1.0]))[0])
        assert A.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
        assert A.step(np.array([0.0, 2.0])).tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------- engines agree


def random_spec(rng: random.Random, tied: bool = False, soft: bool = False) -> str:
    """A small random network; ``soft``: cross-entropy targets with zeros and fractions."""
    L = rng.randint(1, 3)
    dims = [rng.randint(1, 4) for _ in range(L + 1)]
    B = rng.randint(1, 3)
    loss = rng.choice(["half_sse", "mse", "cross_entropy"])
    acts = [rng.choice(["sigmoid", "tanh", "relu", "linear", "softmax"]) for _ in range(L)]
    if loss == "cross_entropy":
        acts[-1] = "softmax"
    K = dims[-1]
    X = [[round(rng.uniform(-1, 1), 6) for _ in range(dims[0])] for _ in range(B)]
    if loss == "cross_entropy" and soft:
        targets = str([_soft_row(rng, K) for _ in range(B)])
    elif loss == "cross_entropy":
        targets = f"{{classes: {[rng.randrange(K) for _ in range(B)]}}}"
    else:
        targets = str([[round(rng.uniform(0, 1), 6) for _ in range(K)] for _ in range(B)])
    lines = ["version: 1", f"loss: {loss}", f"inputs: {X}", f"targets: {targets}"]
    if tied:
        lines.append("params: {s: 0.3, u: -0.2, unused: 1.0}")
    lines.append("layers:")
    for l in range(L):
        n, m = dims[l], dims[l + 1]
        W = [[round(rng.uniform(-1, 1), 6) for _ in range(n)] for _ in range(m)]
        if tied:  # a few entries bound to two shared names
            for _ in range(rng.randint(1, 3)):
                W[rng.randrange(m)][rng.randrange(n)] = rng.choice(["s", "u"])
        lines.append(f"  - activation: {acts[l]}")
        lines.append(f"    weights: {W}".replace("'", ""))
        if rng.random() < 0.7:
            lines.append(f"    bias: {[round(rng.uniform(-1, 1), 6) for _ in range(m)]}")
    return "\n".join(lines) + "\n"


def _soft_row(rng: random.Random, K: int) -> list[float]:
    """Probabilities on 1, 2 or 4 of the K classes (exact in binary), zeros elsewhere."""
    spread = rng.choice([c for c in (1, 2, 4) if c <= K])
    chosen = rng.sample(range(K), spread)
    return [1.0 / spread if k in chosen else 0.0 for k in range(K)]


@pytest.mark.parametrize("seed", range(12))
def test_counts_from_cost_rules_equal_the_scalar_engines(tmp_path, seed):
    """Every mode's counts from the array ops' cost rules = the modes' own on the scalar
    graph (the array engine counts what it never builds)."""
    path = tmp_path / "net.yaml"
    rng = random.Random(seed)
    for trial in range(4):
        path.write_text(random_spec(rng, soft=trial == 3))
        scalar = run_net(str(path), mode="all", engine="scalar", run_check=False,
                         limits=Limits(max_paths=10**7))
        arrays = run_net(str(path), mode="all", engine="array", run_check=False,
                         limits=Limits(max_paths=10**7))
        for mode in ("forward", "reverse"):
            for field in FIELDS:
                assert getattr(scalar.runs[mode].counts, field) == \
                    getattr(arrays.runs[mode].counts, field), (trial, mode, field)
        counted = arrays.runs["paths"].counts  # counted, not walked, on the array engine
        for field in FIELDS:
            assert getattr(scalar.runs["paths"].counts, field) == getattr(counted, field)
        assert arrays.loss == pytest.approx(scalar.loss, rel=1e-12)
        for mode in ("forward", "reverse"):
            for a, b in zip(scalar.layers, arrays.layers):
                assert np.allclose(a.gradients[mode], b.gradients[mode], rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_tied_parameters_agree_across_engines(tmp_path, seed):
    path = tmp_path / "tied.yaml"
    path.write_text(random_spec(random.Random(100 + seed), tied=True))
    limits = Limits(max_paths=10**7)
    scalar = run_net(str(path), mode="all", engine="scalar", run_check=False, limits=limits)
    arrays = run_net(str(path), mode="all", engine="array", run_check=False, limits=limits)
    for mode in ("forward", "reverse"):
        for name in ("s", "u", "unused"):
            assert arrays.named_gradients[mode][name] == pytest.approx(
                scalar.named_gradients[mode][name], rel=1e-9, abs=1e-12)
    assert arrays.named_gradients["reverse"]["unused"] == 0.0
    # Reverse and path counts are the same; forward sweeps once per entry on arrays.
    for field in FIELDS:
        assert getattr(scalar.runs["reverse"].counts, field) == \
            getattr(arrays.runs["reverse"].counts, field)
        assert getattr(scalar.runs["paths"].counts, field) == \
            getattr(arrays.runs["paths"].counts, field)
    assert arrays.runs["forward"].counts.sweeps == arrays.spec.parameters


# --------------------------------------------------------------------------- the array op table


def _point(rng: np.random.Generator):
    """Values for each op's arguments: (op, node, args) with a 3×4 batch."""
    X, W, b = rng.normal(size=(3, 5)), rng.normal(size=(5, 4)), rng.normal(size=4)
    Z, T = rng.normal(size=(3, 4)), rng.uniform(size=(3, 4))
    return [("matmul", ANode("matmul", (0, 1)), [X, W]),
            ("add_bias", ANode("add_bias", (0, 1)), [Z, b]),
            ("act", ANode("act", (0,), fn="tanh"), [Z]),
            ("softmax", ANode("softmax", (0,)), [Z]),
            ("half_sse", ANode("half_sse", (0, 1)), [Z, T]),
            ("mse", ANode("mse", (0, 1)), [Z, T]),
            ("softmax_ce", ANode("softmax_ce", (0, 1)), [Z, T])]


def test_every_array_op_has_adjoint_vjp_and_jvp():
    """<g, J t> = <J^T g, t> for each op's first argument: its VJP and JVP are one
    linear map (the table writes each rule once, so the two cannot drift apart)."""
    rng = np.random.default_rng(0)
    cases = _point(rng)
    assert {name for name, _, _ in cases} == set(ARRAY_OPS)
    for name, node, args in cases:
        op = ARRAY_OPS[name]
        out, aux = op.value(args, node)
        local = op.local(out, args, node) if op.local else None
        t = rng.normal(size=args[0].shape)
        g = rng.normal(size=np.shape(out)) if np.ndim(out) else 1.7
        forward = np.vdot(g, op.jvp(t, out, args, aux, local))
        backward = np.vdot(op.vjp(g, 0, out, args, aux, local), t)
        assert forward == pytest.approx(backward, rel=1e-12), name


def test_array_jvps_match_finite_differences():
    """Each op's JVP is the derivative of its own value (central differences)."""
    rng = np.random.default_rng(1)
    for name, node, args in _point(rng):
        op = ARRAY_OPS[name]
        out, aux = op.value(args, node)
        local = op.local(out, args, node) if op.local else None
        t, h = rng.normal(size=args[0].shape), 1e-6
        up = op.value([args[0] + h * t, *args[1:]], node)[0]
        down = op.value([args[0] - h * t, *args[1:]], node)[0]
        assert np.allclose(op.jvp(t, out, args, aux, local), (up - down) / (2 * h),
                           rtol=1e-6, atol=1e-8), name


@pytest.mark.parametrize("seed", range(6))
def test_chain_cost_in_closed_form_equals_node_by_node(seed):
    """Tally.chain sums a chain's costs in closed form; building it node by node agrees."""
    rng = random.Random(seed)
    cols = [Col(rng.randint(0, 5), rng.randint(0, 9), rng.randint(0, 4),
                (rng.getrandbits(6), rng.getrandbits(3)), rng.randint(0, 1))
            for _ in range(rng.randint(1, 5))]
    order = [rng.randrange(len(cols)) for _ in range(rng.randint(1, 12))]
    fast, slow = Tally([3, 1]), Tally([3, 1])
    fast.times = slow.times = 2
    total = fast.chain(cols, order)
    expected = cols[order[0]]
    for k in order[1:]:
        expected = slow.node(expected, cols[k])
    assert total == expected
    assert vars(fast) == vars(slow)


# --------------------------------------------------------------------------- every example


def finite_difference_all(anet: ArrayNet, h: float = 1e-6):
    """Central differences for every entry (small nets): {param node: array}."""
    out = {}
    for node, _, _ in anet.params:
        base = anet.leaves[node]
        grad = np.zeros_like(base)
        for index in np.ndindex(*base.shape):
            estimates = []
            for sign in (1, -1):
                leaves = dict(anet.leaves)
                leaves[node] = base.copy()
                leaves[node][index] += sign * h
                estimates.append(anet.loss_at(leaves))
            grad[index] = (estimates[0] - estimates[1]) / (2 * h)
        out[node] = grad
    return out


@pytest.mark.parametrize("example", ALL[:3])
def test_small_examples_reverse_and_forward_agree_with_finite_differences(example):
    anet = ArrayNet(resolve(load_spec(str(EXAMPLES / example)), arrays=True))
    values, aux = anet.evaluate()
    reverse, _ = anet.reverse(values, aux)
    forward = anet.forward(values, aux)
    estimates = finite_difference_all(anet)
    for node, _, _ in anet.params:
        assert np.allclose(reverse[node], estimates[node], rtol=1e-6, atol=1e-9)
        assert np.allclose(forward[node], reverse[node], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("example", ALL)
def test_every_example_passes_its_check(example):
    report = run_net(str(EXAMPLES / example))
    assert report.check.status == "pass", report.check.reason
    method = report.check.method.lower()
    if example.startswith("mnist"):  # arrays: float central differences
        assert "finite differences" in method
    else:  # scalar graphs: SymPy where small, high-precision differences beyond
        assert "sympy" in method or "mpmath" in method, method


def test_mnist_shaped_gradients_agree_with_finite_differences():
    spec = load_spec(str(EXAMPLES / "mnist_shaped.yaml"))
    anet = ArrayNet(resolve(spec, arrays=True))
    values, aux = anet.evaluate()
    grads, _ = anet.reverse(values, aux)
    rng = np.random.default_rng(7)
    for node, _, _ in anet.params:
        base = anet.leaves[node]
        for _ in range(3):
            index = tuple(int(rng.integers(0, s)) for s in base.shape)
            estimates = []
            for sign in (1, -1):
                leaves = dict(anet.leaves)
                leaves[node] = base.copy()
                leaves[node][index] += sign * 1e-6
                estimates.append(anet.loss_at(leaves))
            estimate = (estimates[0] - estimates[1]) / 2e-6
            assert grads[node][index] == pytest.approx(estimate, rel=1e-5, abs=1e-8)


def test_reverse_mode_never_builds_a_jacobian():
    """784-128-10, batch 64: one hidden layer's Jacobian alone would be 537 MB."""
    anet = ArrayNet(resolve(load_spec(str(EXAMPLES / "mnist_shaped.yaml")), arrays=True))
    tracemalloc.start()
    values, aux = anet.evaluate()
    grads, held = anet.reverse(values, aux)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10_000_000
    assert held < 2 * 101_770 + 64 * (128 * 3 + 10 * 2)


def test_mnist_shaped_counts_are_exact():
    spec = load_spec(str(EXAMPLES / "mnist_shaped.yaml"))
    anet = ArrayNet(resolve(spec, arrays=True))
    counted = structure(spec, anet.nodes, anet.leaves)
    assert counted.entries == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    forward = counted.counts("forward", 0)
    assert forward.sweeps == 101_770
    # paths(W[j][i]) = paths from unit j to L, summed over the batch (docs/spec.md).
    assert counted.paths == 128 * 785 * (64 * 10 + 64) + 129 * (64 * 10 + 64)


# --------------------------------------------------------------------------- the command


def test_net_on_seed004_prints_the_seed_gradient_and_its_path():
    proc = run_cli("net", "examples/seed004.yaml", "--param", "w5")
    assert proc.returncode == 0, proc.stderr
    assert "-0.025002757849888355" in proc.stdout
    assert "1 path from w5 to L" in proc.stdout
    assert "w5 → hidden.z[0] → hidden.a[0] → out.z[0] → out.a[0] → L" in proc.stdout
    assert "= 1 × 0.07065 × 3 × 0.2493 × -0.9464 × 0.5" in proc.stdout
    assert "✓ check passed: sympy.diff" in proc.stdout


def test_net_json_has_the_documented_shape():
    proc = run_cli("net", "examples/two_two_two.yaml", "--mode", "all", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"version", "command", "spec", "name", "network", "engine", "loss",
                             "parameters", "layers", "selected", "paths", "modes", "refused",
                             "agreement", "check", "warnings"}
    assert document["command"] == "net" and document["engine"]["name"] == "scalar"
    assert document["network"]["shape"] == [2, 2, 2]
    assert document["loss"] == pytest.approx(0.298371109, abs=1e-9)
    w5 = document["parameters"]["w5"]
    assert set(w5["gradient"]) == {"forward", "paths", "reverse"}
    assert w5["gradient"]["reverse"] == pytest.approx(0.082167041, abs=1e-9)
    assert document["modes"]["paths"]["counts"]["paths"] == 18
    assert document["check"]["status"] == "pass"


def test_net_full_lists_every_entry():
    proc = run_cli("net", "examples/xor.yaml", "--full", "--json", "--no-check")
    document = json.loads(proc.stdout)
    hidden = document["layers"][0]
    assert hidden["names"] == ["hidden.W[0][0]", "hidden.W[0][1]", "hidden.W[1][0]",
                               "hidden.W[1][1]"]
    assert hidden["values"] == [0.5, -0.4, 0.3, 0.8]
    assert len(hidden["gradients"]["reverse"]) == 4
    text = run_cli("net", "examples/xor.yaml", "--full", "--no-check").stdout
    assert "out.b[0]" in text


def test_net_on_mnist_uses_the_array_engine_and_counts_forward_mode():
    proc = run_cli("net", "examples/mnist_shaped.yaml", "--mode", "all")
    assert proc.returncode == 0, proc.stderr
    assert "engine: array graph" in proc.stdout
    assert "101,770" in proc.stdout and "* counted exactly, not run" in proc.stdout
    assert "forward mode would run 101,770 JVPs" in proc.stderr  # a warning: stderr
    assert "✓ check passed: central finite differences" in proc.stdout


def test_forward_mode_over_the_limit_exits_3_with_its_exact_count():
    proc = run_cli("net", "examples/mnist_shaped.yaml", "--mode", "forward")
    assert proc.returncode == 3
    assert "forward mode would run 101,770 JVPs" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_forward_mode_runs_when_asked_on_the_array_engine():
    proc = run_cli("net", "examples/two_two_two.yaml", "--engine", "array", "--mode", "all",
                   "--json")
    document = json.loads(proc.stdout)
    assert document["modes"]["forward"]["ran"] and document["modes"]["reverse"]["ran"]
    assert not document["modes"]["paths"]["ran"]
    assert document["agreement"] < 1e-12
    assert "finite differences" in document["check"]["method"]


def test_param_selects_entries_and_layers():
    report = run_net(str(EXAMPLES / "xor.yaml"), params="out.W,hidden.b[1]", run_check=False)
    assert report.selected == ["out.W[0][0]", "out.W[0][1]", "hidden.b[1]"]
    proc = run_cli("net", "examples/xor.yaml", "--param", "w5")
    assert proc.returncode == 2
    assert "the network has no parameter 'w5'" in proc.stderr


@pytest.mark.parametrize("args, code, text", [
    (["--mode", "sideways"], 2, "unknown mode"),
    (["--engine", "gpu"], 2, "unknown engine"),
    (["--max-units", "-1"], 2, "must not be negative"),
])
def test_net_usage_errors(args, code, text):
    proc = run_cli("net", "examples/seed004.yaml", *args)
    assert proc.returncode == code and text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scalar_engine_on_mnist_is_a_limit():
    proc = run_cli("net", "examples/mnist_shaped.yaml", "--engine", "scalar")
    assert proc.returncode == 3
    assert "scalar graph would have about" in proc.stderr


def test_strict_turns_a_non_finite_loss_into_exit_4(tmp_path):
    path = tmp_path / "overflow.yaml"
    path.write_text("version: 1\ninputs: [1e200]\ntargets: [0]\nloss: half_sse\n"
                    "layers:\n  - {activation: linear, weights: [[1e200]]}\n")
    proc = run_cli("net", str(path), "--no-check")
    assert proc.returncode == 0 and "the loss is inf" in proc.stderr  # a warning: stderr
    proc = run_cli("net", str(path), "--strict", "--no-check")
    assert proc.returncode == 4
    assert "not finite (--strict)" in proc.stderr
