"""The spec's top level checked field by field: version, inputs, targets, loss and params
(the layers are in spec_layers.py), into one ``Spec`` or one ``SpecError`` that lists every
problem, sorted by line."""

from __future__ import annotations

from backprop.frontends.spec_fields import (NAME, NULL, SpecError, Validator, describe,
                                            matrix_shape)
from backprop.frontends.spec_functions import functions_of
from backprop.frontends.spec_layers import layers_of
from backprop.frontends.spec_model import Random, Spec
from backprop.frontends.spec_yaml import YNode

SPEC_VERSION = 1
LOSSES = ("half_sse", "mse", "cross_entropy")
TOP_FIELDS = ("version", "name", "description", "inputs", "targets", "loss", "params",
              "functions", "layers")
RANDOM_FIELDS = ("shape", "seed", "low", "high", "one_hot")


def validate(root: YNode, source: str) -> Spec:
    """Turn the YNode tree into a Spec, or raise one SpecError listing every problem."""
    v = Validator(source)
    if root.kind != "map":
        raise SpecError([f"{source}:{root.line}: the spec must be a mapping of fields "
                         f"({', '.join(TOP_FIELDS)}), got {describe(root)}"],
                        hint="see docs/spec.md for a complete example")
    top = v.mapping(root, "", TOP_FIELDS, ("version", "inputs", "targets", "loss", "layers"))

    if "version" in top:
        version = v.integer(top["version"], "version")
        if version is not None and version != SPEC_VERSION:
            v.error(top["version"], "version", f"this backprop reads version {SPEC_VERSION}, "
                                               f"the spec says {version}")
    name = v.text(top["name"], "name") if "name" in top else None
    if "description" in top:
        v.text(top["description"], "description")

    params, param_lines = _params(v, top.get("params"))
    inputs, batch, features = _inputs(v, top.get("inputs"))
    functions = functions_of(v, top.get("functions"))
    layers = layers_of(v, top.get("layers"), features, params, functions)
    loss = v.choice(top.get("loss"), "loss", LOSSES, "loss", root.line) \
        if "loss" in top else None
    outputs = layers[-1].units if layers and all(la is not None for la in layers) else None
    if loss == "cross_entropy" and layers and layers[-1] is not None \
            and layers[-1].activation != "softmax":
        v.error(top["loss"], "loss", f"cross_entropy needs a softmax output layer, but "
                                     f"{layers[-1].name} uses {layers[-1].activation} "
                                     "(set its activation: softmax)")
    targets = _targets(v, top.get("targets"), batch, outputs, loss) if "targets" in top \
        else None

    if v.problems:
        v.problems.sort(key=lambda p: p[0])
        raise SpecError([text for _, text in v.problems])
    used = {entry for layer in layers for row in (layer.weights or []) for entry in row
            if isinstance(entry, str)} | {entry for layer in layers
                                          for entry in (layer.bias or []) if isinstance(entry, str)}
    warnings = [f"{source}:{param_lines[p]}: params.{p}: defined but used by no layer (its "
                f"gradient is 0)" for p in params if p not in used]
    return Spec(source, name, inputs, targets, batch, features, loss, params, param_lines,
                layers, warnings, functions)


def _params(v: Validator, node: YNode | None) -> tuple[dict[str, float], dict[str, int]]:
    params: dict[str, float] = {}
    lines: dict[str, int] = {}
    if node is None:
        return params, lines
    if node.kind == "scalar" and node.plain and node.value in NULL:
        return params, lines
    if node.kind != "map":
        v.error(node, "params", f"expected a mapping of names to numbers (w1: 0.15), got "
                                f"{describe(node)}")
        return params, lines
    for key, value in node.value.items():
        line = node.key_lines[key]
        if not NAME.match(key):
            v.error(line, f"params.{key}", "a parameter name is letters, digits and _, "
                                           "starting with a letter or _")
            continue
        number = v.number(value, f"params.{key}")
        lines[key] = line
        params[key] = number if number is not None else 0.0
    return params, lines


def _random(v: Validator, node: YNode, path: str, allow_one_hot: bool) -> Random | None:
    fields = RANDOM_FIELDS if allow_one_hot else RANDOM_FIELDS[:-1]
    spec = v.mapping(node, path, fields, ("shape",))
    if spec is None:
        return None
    shape = None
    if "shape" in spec:
        items = v.sequence(spec["shape"], f"{path}.shape", "[rows, columns]")
        if items is not None:
            if len(items) != 2:
                v.error(spec["shape"], f"{path}.shape", f"expected [rows, columns], got "
                                                        f"{len(items)} numbers")
            else:
                dims = [v.integer(item, f"{path}.shape[{i}]", minimum=1)
                        for i, item in enumerate(items)]
                shape = None if None in dims else tuple(dims)
    seed = v.integer(spec["seed"], f"{path}.seed") if "seed" in spec else 0
    low = v.number(spec["low"], f"{path}.low") if "low" in spec else 0.0
    high = v.number(spec["high"], f"{path}.high") if "high" in spec else 1.0
    one_hot = v.boolean(spec["one_hot"], f"{path}.one_hot") if "one_hot" in spec else False
    if low is not None and high is not None and not low < high:
        v.error(node, path, f"low ({low:g}) must be below high ({high:g})")
        return None
    if None in (shape, seed, low, high, one_hot):
        return None
    return Random(shape, seed, low, high, one_hot)


def _inputs(v: Validator, node: YNode | None):
    """(rows or Random, batch, features); batch and features are None when unknown."""
    if node is None:
        return None, None, None
    if node.kind == "map":
        spec = v.mapping(node, "inputs", ("random",), ("random",))
        if spec is None or "random" not in spec:
            return None, None, None
        random = _random(v, spec["random"], "inputs.random", allow_one_hot=False)
        return (random, *random.shape) if random else (None, None, None)
    rows = v.matrix(node, "inputs")
    if rows is None:
        return None, None, None
    return rows, len(rows), len(rows[0])


def _targets(v: Validator, node: YNode, batch: int | None, outputs: int | None,
             loss: str | None):
    expected = f" (expected {matrix_shape(batch, outputs)}: {batch} example(s) × {outputs} " \
               "output(s))" if batch is not None and outputs is not None else ""
    probabilities = loss == "cross_entropy"
    if node.kind == "map":
        spec = v.mapping(node, "targets", ("random", "classes"))
        if spec is None:
            return None
        if sum(key in spec for key in ("random", "classes")) != 1:
            v.error(node, "targets", "give exactly one of random, classes")
            return None
        if "classes" in spec:
            items = v.sequence(spec["classes"], "targets.classes", "a list of class indices")
            if items is None:
                return None
            classes = [v.integer(item, f"targets.classes[{i}]") for i, item in enumerate(items)]
            if None in classes:
                return None
            if batch is not None and len(classes) != batch:
                v.error(spec["classes"], "targets.classes", f"{len(classes)} classes for "
                                                            f"{batch} examples")
                return None
            if outputs is not None:
                for i, c in enumerate(classes):
                    if c >= outputs:
                        v.error(items[i], f"targets.classes[{i}]", f"class {c} does not "
                                f"exist: the output layer has {outputs} units (0..{outputs - 1})")
                        return None
            return classes
        random = _random(v, spec["random"], "targets.random", allow_one_hot=True)
        if random is None:
            return None
        if batch is not None and outputs is not None and random.shape != (batch, outputs):
            v.error(spec["random"], "targets.random.shape",
                    f"shape mismatch: targets are {matrix_shape(*random.shape)}{expected}")
            return None
        if probabilities and not random.one_hot:
            v.error(spec["random"], "targets.random", "cross_entropy needs probabilities: "
                                                      "add one_hot: true")
            return None
        return random
    rows = v.matrix(node, "targets")
    if rows is None:
        return None
    if batch is not None and outputs == 1 and len(rows) == 1 and len(rows[0]) == batch > 1:
        rows = [[t] for t in rows[0]]  # a flat list of one target per example
    if batch is not None and outputs is not None and (len(rows), len(rows[0])) != (batch, outputs):
        v.error(node, "targets", f"shape mismatch: targets are {matrix_shape(len(rows), len(rows[0]))}"
                                 f"{expected}")
        return None
    if probabilities:
        for r, row in enumerate(rows):
            if min(row) < 0 or abs(sum(row) - 1.0) > 1e-6:
                v.error(node, f"targets[{r}]", "cross_entropy targets are probabilities: each "
                                               "row must be >= 0 and sum to 1 (or use classes)")
                return None
    return rows
