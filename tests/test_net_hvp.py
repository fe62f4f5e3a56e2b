"""``backprop net --hvp`` / ``--hessian`` (issue 13, item 4): H v of the loss over the
parameters, on both engines, checked against the full Hessian and central differences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop.engine import arrays
from backprop.errors import InputError, LimitError
from backprop.frontends.spec import load_spec, resolve
from backprop.jobs.net import run_net
from backprop.jobs.net_array import ArrayNet
from backprop.jobs.net_hvp import HESSIAN_LIMIT, HvpRequest, gather

from conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples"
SMALL = ["seed004.yaml", "two_two_two.yaml", "xor.yaml"]
ALL = [*SMALL, "mnist_shaped.yaml"]


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0))


def _softmax_spec(tmp_path, loss="half_sse", activation="softmax"):
    """two_two_two with a softmax output layer: the softmax op's own R rule runs."""
    text = (EXAMPLES / "two_two_two.yaml").read_text()
    at = text.rfind("activation: sigmoid")
    text = text[:at] + f"activation: {activation}" + text[at + len("activation: sigmoid"):]
    path = tmp_path / "softmax.yaml"
    path.write_text(text.replace("loss: half_sse", f"loss: {loss}"))
    return str(path)


@pytest.mark.parametrize("name", SMALL)
def test_scalar_hvp_equals_hessian_times_v_and_differences(name):
    """The scalar engine: H v by one sweep equals H times v and 80-digit differences."""
    report = run_net(str(EXAMPLES / name), hvp=HvpRequest(hessian=True))
    hvp = report.hvp
    assert report.engine == "scalar" and hvp.status == "pass"
    H = np.array(hvp.hessian)
    assert relative(hvp.product, H @ hvp.vector) <= 1e-6
    assert relative(hvp.product, hvp.by_differences) <= 1e-6
    assert relative(H, H.T) <= 1e-12  # symmetric
    assert abs(np.linalg.norm(hvp.vector) - 1.0) < 1e-12  # a unit direction


@pytest.mark.parametrize("name", SMALL)
def test_array_r_operator_equals_the_scalar_hessian_times_v(name):
    """The array engine's R-operator against the scalar engine's full Hessian, same v."""
    scalar = run_net(str(EXAMPLES / name), hvp=HvpRequest(seed=3, hessian=True)).hvp
    array = run_net(str(EXAMPLES / name), engine="array", hvp=HvpRequest(seed=3)).hvp
    assert np.array_equal(array.vector, scalar.vector)
    assert relative(array.product, np.array(scalar.hessian) @ scalar.vector) <= 1e-6
    assert array.status == "pass" and relative(array.product, array.by_differences) <= 1e-6


def test_array_hvp_on_the_large_example_matches_differences():
    report = run_net(str(EXAMPLES / "mnist_shaped.yaml"), run_check=False,
                     hvp=HvpRequest(seed=1))
    hvp = report.hvp
    assert report.engine == "array" and hvp.status == "pass"
    assert hvp.product.shape == (report.parameter_count,)
    assert relative(hvp.product, hvp.by_differences) <= 1e-6
    assert np.any(hvp.product != 0)


@pytest.mark.parametrize("loss, activation", [("half_sse", "softmax"), ("mse", "tanh"),
                                              ("cross_entropy", "softmax")])
def test_every_array_rule_matches_the_scalar_hessian(tmp_path, loss, activation):
    """softmax's own R rule, mse's scale and the fused softmax cross-entropy's direction."""
    path = _softmax_spec(tmp_path, loss, activation)
    scalar = run_net(path, hvp=HvpRequest(hessian=True)).hvp
    array = run_net(path, engine="array", hvp=HvpRequest()).hvp
    assert relative(array.product, np.array(scalar.hessian) @ scalar.vector) <= 1e-6


def test_r_operator_is_linear_in_the_direction():
    """H (a u + b w) = a H u + b H w: the sweep carries R{g} linearly."""
    anet = ArrayNet(resolve(load_spec(str(EXAMPLES / "xor.yaml")), arrays=True))
    values, aux = anet.evaluate()
    local = arrays.linearize(anet.nodes, values)
    rng = np.random.default_rng(5)

    def hv(direction):
        _, r, _ = arrays.reverse_r(anet.nodes, values, aux, local, anet.active, anet.loss,
                                   direction)
        return np.concatenate([r[node].ravel() for node, _, _ in anet.params])

    u = {n: rng.standard_normal(anet.leaves[n].shape) for n, _, _ in anet.params}
    w = {n: rng.standard_normal(anet.leaves[n].shape) for n, _, _ in anet.params}
    both = {n: 2.0 * u[n] - 0.5 * w[n] for n in u}
    assert relative(hv(both), 2.0 * hv(u) - 0.5 * hv(w)) <= 1e-12


def test_a_named_parameter_moves_every_entry_that_uses_it():
    """two_two_two ties b1 and b2 to two entries each: v's component moves both."""
    net = resolve(load_spec(str(EXAMPLES / "two_two_two.yaml")), arrays=True)
    anet = ArrayNet(net)
    names = list(net.spec.params)
    v = np.zeros(len(names))
    v[names.index("b1")] = 1.0
    along = gather(anet, net, v)
    moved = {node: along[node] for node, _, kind in anet.params if kind == "b"}
    assert sorted(float(a.sum()) for a in moved.values()) == [0.0, 2.0]


def test_vector_names_components_and_seed_changes_direction():
    one = run_net(str(EXAMPLES / "seed004.yaml"), hvp=HvpRequest("w5=1,*=0")).hvp
    assert one.vector.tolist().count(1.0) == 1 and one.vector.sum() == 1.0
    H = np.array(run_net(str(EXAMPLES / "seed004.yaml"), hvp=HvpRequest(hessian=True))
                 .hvp.hessian)
    column = list(load_spec(str(EXAMPLES / "seed004.yaml")).params).index("w5")
    assert relative(one.product, H[:, column]) <= 1e-6  # H e_w5: a column of H
    a = run_net(str(EXAMPLES / "xor.yaml"), hvp=HvpRequest(seed=0)).hvp.vector
    b = run_net(str(EXAMPLES / "xor.yaml"), hvp=HvpRequest(seed=1)).hvp.vector
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("vector, points_at", [("w5=1", ""), ("w5=1,*=0,zz=2", "zz=2"),
                                               ("w5=x,*=0", "x,*=0"),
                                               ("w5=1,w5=2,*=0", "w5=2,*=0")])
def test_bad_vectors_are_exit_2_with_a_caret(vector, points_at):
    """Missing (caret at the end), extra, non-numeric, repeated: exit 2, the caret under
    the offending component of the echoed --vector text."""
    result = run_cli("net", str(EXAMPLES / "seed004.yaml"), "--vector", vector)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    k = next(k for k, line in enumerate(lines) if line.strip() == "^")
    assert lines[k - 1].endswith("--vector " + vector)
    assert lines[k - 1][len(lines[k]) - 1:] == points_at


def test_hessian_refuses_a_large_net_before_working():
    with pytest.raises(LimitError):
        run_net(str(EXAMPLES / "mnist_shaped.yaml"), hvp=HvpRequest(hessian=True))
    result = run_cli("net", str(EXAMPLES / "mnist_shaped.yaml"), "--hessian")
    assert result.returncode == 3 and str(HESSIAN_LIMIT) in result.stderr


def test_hessian_needs_the_scalar_engine_and_seeds_are_whole():
    with pytest.raises(InputError):
        run_net(str(EXAMPLES / "xor.yaml"), engine="array", hvp=HvpRequest(hessian=True))
    assert run_cli("net", str(EXAMPLES / "xor.yaml"), "--direction-seed", "-1").returncode == 2


def test_json_hvp_key_and_plain_runs_unchanged():
    plain = json.loads(run_cli("net", str(EXAMPLES / "xor.yaml"), "--json").stdout)
    assert "hvp" not in plain
    result = run_cli("net", str(EXAMPLES / "xor.yaml"), "--hvp", "--json")
    assert result.returncode == 0
    hvp = json.loads(result.stdout)["hvp"]
    assert hvp["check"]["status"] == "pass" and hvp["parameters"] == 9
    assert len(hvp["product"]) == len(hvp["names"]) == len(hvp["vector"]) == 9
    assert sum(b["entries"] for b in hvp["blocks"]) == 9 and hvp["hessian"] is None


def test_text_view_has_the_section():
    out = run_cli("net", str(EXAMPLES / "mnist_shaped.yaml"), "--hvp", "--no-check").stdout
    assert "H v by layer" in out and "H v check pass" in out
