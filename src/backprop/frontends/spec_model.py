"""What a validated spec says, before any number is generated: the network's shape,
its layers, where its numbers come from, and the sizes that decide whether it may run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Random:
    """Numbers drawn from numpy's Generator: uniform in [low, high) or one-hot rows."""

    shape: tuple[int, int]
    seed: int
    low: float = 0.0
    high: float = 1.0
    one_hot: bool = False


@dataclass(frozen=True)
class Init:
    scheme: str
    seed: int = 0
    low: float = -0.5
    high: float = 0.5


@dataclass
class Layer:
    index: int  # 0-based position in ``layers``
    name: str
    line: int
    activation: str
    units: int
    inputs: int
    weights: list[list[str | float]] | None  # written out: a row per unit
    bias: list[str | float] | None  # written out
    has_bias: bool
    init: Init | None  # generated weights (and zero biases unless written out)
    function: Any = None  # a user activation (frontends/functions.Function) from functions:

    @property
    def parameters(self) -> int:
        return self.units * self.inputs + (self.units if self.has_bias else 0)

    @property
    def activation_fn(self):
        """What the array engine applies: an op-table name, or the user function's graph."""
        return self.activation if self.function is None else self.function.graph

    @property
    def activation_ops(self) -> int:
        """Scalar op nodes per unit for the activation (linear: none; softmax apart)."""
        if self.function is not None:
            return self.function.ops
        return int(self.activation != "linear")


@dataclass
class Spec:
    source: str
    name: str | None
    inputs: list[list[float]] | Random
    targets: list[list[float]] | Random | list[int]  # rows, random, or class indices
    batch: int
    features: int
    loss: str
    params: dict[str, float]
    param_lines: dict[str, int]
    layers: list[Layer]
    warnings: list[str] = field(default_factory=list)
    functions: dict[str, Any] = field(default_factory=dict)  # functions: by name

    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    @property
    def parameters(self) -> int:
        """Weight and bias entries (a tied parameter counts once per place it is used)."""
        return sum(layer.parameters for layer in self.layers)

    @property
    def values(self) -> int:
        """Numbers the network holds: entries, inputs, targets, z and a of every unit."""
        units = sum(layer.units for layer in self.layers)
        return (self.parameters + self.batch * self.features + self.batch * self.outputs
                + 2 * self.batch * units)

    def shape_text(self) -> str:
        return "-".join(str(n) for n in [self.features] + [la.units for la in self.layers])
