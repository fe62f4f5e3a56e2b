"""One record of operation counts, the same fields for every mode.

The convention (docs/counting.md) in one paragraph: every mode shares one primal
evaluation (``primitive_evals`` = op nodes evaluated once). A *sweep* is one tangent pass
(forward: one per input) or one adjoint pass (reverse: one per output); path enumeration
has none. Each visit of an edge in a sweep evaluates its local partial once and multiplies
once; a node that gathers k contributions pays k - 1 additions. A path of k edges pays
k - 1 multiplications and the sum over P paths pays P - 1 additions. ``peak_values`` is the
number of floats held at once: the primal values plus the mode's own working set.
Counts are exact and deterministic: they come from the graph, never from timing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

FIELDS = ("sweeps", "primitive_evals", "partial_evals", "multiplications", "additions",
          "paths", "peak_values")


@dataclass(frozen=True)
class Counts:
    mode: str
    sweeps: int = 0
    primitive_evals: int = 0
    partial_evals: int = 0
    multiplications: int = 0
    additions: int = 0
    paths: int | None = None  # only path enumeration walks paths
    peak_values: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def arithmetic(self) -> int:
        """Partials, multiplications and additions: the work a mode adds to the primal pass."""
        return self.partial_evals + self.multiplications + self.additions
