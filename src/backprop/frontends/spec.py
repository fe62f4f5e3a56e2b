"""Network specs in YAML: the loader's door, from a file name to a validated ``Spec``
or a scalar ``Graph``, and the size limits checked before anything is allocated.

The work is done in rooms of its own: reading the file and its YAML safely
(spec_yaml.py), reading each field with file:line messages (spec_fields.py), validating
the top level and the layers (spec_validate.py, spec_layers.py) into the model
(spec_model.py), putting the numbers in place (spec_resolve.py) and building the scalar
graph (spec_graph.py). Validation collects every problem it finds and raises one
``SpecError`` (exit 2) that prints them one per line. Sizes are checked before anything is
allocated, so a 10^6-unit layer is refused (``LimitError``, exit 3) with the size it would
need. The format is documented in docs/spec.md.
"""

from __future__ import annotations

from backprop.engine.graph import Graph
from backprop.errors import LimitError
from backprop.frontends.spec_graph import build_scalar_graph, scalar_size
from backprop.frontends.spec_model import Spec
from backprop.frontends.spec_resolve import Resolved, resolve
from backprop.frontends.spec_validate import validate
from backprop.frontends.spec_yaml import parse_yaml, read_spec_text
from backprop.limits import Limits

# The spec frontend's API: the door (load_spec, load_spec_graph, check_size) and the steps
# it takes, for callers that take them one by one (the net job, the fuzzers).
__all__ = ["Resolved", "Spec", "build_scalar_graph", "check_size", "load_spec",
           "load_spec_graph", "parse_yaml", "resolve", "scalar_size", "validate"]


def _bytes(count: int) -> str:
    """``count`` float64 numbers as memory, so a refusal says what the network would need."""
    size = count * 8
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def check_size(spec: Spec, max_values: int, max_units: int = Limits.max_units) -> None:
    """Refuse an oversized network with the size it would need, before allocating anything."""
    widest = max(spec.layers, key=lambda layer: layer.units)
    if widest.units > max_units:
        raise LimitError(
            f"{spec.source}:{widest.line}: layers[{widest.index}] ({widest.name}) has "
            f"{widest.units:,} units, over --max-units {max_units:,}: the network would need "
            f"{spec.parameters:,} parameters and {spec.values:,} numbers in all "
            f"({_bytes(spec.values)} as float64)",
            hint="make the layer smaller, or raise --max-units")
    if spec.values <= max_values:
        return
    biggest = max(spec.layers, key=lambda layer: layer.parameters)
    raise LimitError(
        f"{spec.source}:{biggest.line}: layers[{biggest.index}] ({biggest.name}): "
        f"{biggest.units:,} units × {biggest.inputs:,} inputs need {biggest.parameters:,} "
        f"parameters; the network would hold {spec.values:,} numbers "
        f"({_bytes(spec.values)} as float64), over --max-values {max_values:,}",
        hint="make the network or the batch smaller, or raise --max-values")


def load_spec(path: str, *, max_bytes: int = Limits.max_bytes,
              max_values: int = Limits.max_values, max_units: int = Limits.max_units,
              text: str | None = None) -> Spec:
    """Read, parse and validate a spec file (nothing is generated or allocated yet); with
    ``text``, that text is the spec and ``path`` only names it in messages."""
    if text is None:
        text = read_spec_text(path, max_bytes)
    spec = validate(parse_yaml(text, path), path)
    check_size(spec, max_values, max_units)
    return spec


def load_spec_graph(path: str, *, max_nodes: int, max_depth: int | None = None,
                    max_bytes: int = Limits.max_bytes, max_values: int = Limits.max_values,
                    max_units: int = Limits.max_units, text: str | None = None) -> Graph:
    """A spec file (or ``text``, named ``path``) as a scalar Graph whose inputs are the
    parameters (with defaults)."""
    spec = load_spec(path, max_bytes=max_bytes, max_values=max_values, max_units=max_units,
                     text=text)
    size = scalar_size(spec)
    if size > max_nodes:
        raise LimitError(f"{path}: the {spec.shape_text()} network's scalar graph would have "
                         f"about {size:,} nodes, over --max-nodes {max_nodes:,}",
                         hint=f"use 'backprop net {path}' (array engine), or raise --max-nodes")
    return build_scalar_graph(resolve(spec), max_depth)
