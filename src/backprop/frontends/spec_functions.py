"""A spec's ``functions:``: user functions by name, for layers' activations.

    functions:
      swish: u * sigmoid(u)            # one parameter, called u
      scaled(z, s): s * tanh(z / s)    # parameters named in the key
      mish(u): u * tanh(softplus2(u))  # a function may call the ones above it
      softplus2(u): log(1 + exp(u))    # (so this one comes too late for mish: an error)

Each is a ``def`` of the expression language (frontends/functions.py parses and checks
it); an activation takes a function of one parameter whose value depends on it.
"""

from __future__ import annotations

import re

from backprop.engine.ops import OPS
from backprop.errors import InputError
from backprop.frontends.functions import Function, parse_definition
from backprop.frontends.spec_fields import NULL, Validator, describe
from backprop.frontends.spec_yaml import YNode

_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?\s*\Z")
DEFAULT_PARAM = "u"
# The activations a layer may name besides softmax and linear: every one-argument primitive.
UNARY = tuple(name for name, op in OPS.items() if op.arity == 1 and op.is_function)


def functions_of(v: Validator, node: YNode | None) -> dict[str, Function | None]:
    """The ``functions:`` mapping, in order; each problem a file:line error (and the name
    maps to None, so that a layer using it adds no second error)."""
    found: dict[str, Function | None] = {}
    if node is None or (node.kind == "scalar" and node.plain and node.value in NULL):
        return found
    if node.kind != "map":
        v.error(node, "functions", f"expected a mapping of names to expressions "
                                   f"(swish: u * sigmoid(u)), got {describe(node)}")
        return found
    for key, value in node.value.items():
        line, path = node.key_lines[key], f"functions.{key}"
        match = _KEY.match(key)
        if match is None:
            v.error(line, path, "a function is written name: body, or name(u, v): body")
            continue
        name = match.group(1)
        if name in found:
            v.error(line, path, f"{name!r} is already defined above")
            continue
        found[name] = None
        params = tuple(p.strip() for p in match.group(2).split(",")) \
            if match.group(2) is not None else (DEFAULT_PARAM,)
        if value.kind != "scalar" or (value.plain and value.value in NULL):
            v.error(value, path, f"expected an expression (u * sigmoid(u)), got "
                                 f"{describe(value)}")
            continue
        try:
            known = {k: f for k, f in found.items() if f is not None}
            found[name] = parse_definition(name, params, value.value, known)
        except InputError as error:
            where = f" (column {error.column + 1} of {value.value!r})" \
                if error.column is not None and error.column >= 0 else ""
            v.error(value, path, f"{error.message}{where}")
    return found


def activation_problem(name: str, function: Function) -> str | None:
    """Why a function cannot be an activation (None: it can)."""
    if function.arity != 1:
        return f"{name} takes {function.arity} parameters; an activation takes one"
    if not function.depends_on_params():
        return f"{name} does not depend on its parameter {function.params[0]}"
    return None
