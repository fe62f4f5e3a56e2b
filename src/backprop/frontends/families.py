"""Graph families for ``backprop scale``: one graph per size, built straight through GraphBuilder.

Each family also writes its graph as expression text; parsing that text gives the very same
graph (tests/test_scale.py checks it), so any size can be fed to ``grad``, ``paths`` or
``compare`` by hand. Sums are written left to right, as the parser builds them: a term's
path to the output is as long as the number of terms after it.

- ``layered`` (seed 003): L layers of products ``h_i = h_{i-1}*h_{i-1}``, o = x^(2^L).
  The seed draws two identical units per layer, h(i,1) = h(i,2) = h(i-1,1)*h(i-1,2);
  GraphBuilder merges identical nodes, so each layer is ONE product node with TWO parallel
  edges to the layer below. The path count is the seed's, 2^L: every layer doubles it.
- ``chain``: n nested sines, sin(sin(...sin(x))): one path, n edges.
- ``wide``: x1*y1 + x2*y2 + ... + xn*yn: 2n inputs, one output.
- ``fanout``: x^1 + x^2 + ... + x^n: one input read by n nodes.
- ``mlp``: three dense tanh layers of width n over inputs x1..xn, every weight and bias an
  input too (as in training), output the sum of the last layer: 3n^2 + 4n inputs.
- ``decay``: a running sum that halves, s_k = 0.5*s_{k-1} + x_k*x_{k+1} around a ring of
  n inputs (x_{n+1} is x_1): one output, n inputs, a sparse Hessian (each x_k meets only
  its neighbours), so forward over reverse grows as n while a forward-mode gradient
  program grows as n^2 (each x_k's tangent runs down the rest of the sum, halved at every
  step): the family ``scale --order 2`` shows the pairings part on.
- ``tridiag``: n outputs of n inputs, y_i = x_(i-1)*x_i + sin(x_i + x_(i+1)) (a missing
  neighbour's term dropped at the ends): a banded Jacobian, 3 nonzeros per row, so 3
  compressed sweeps of either mode give all of it at every n (docs/sparsity.md), where
  the dense modes take n sweeps. Its text is n expressions (``Family.expressions``).

Nothing here recurses: every family is a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backprop.engine.graph import Graph, GraphBuilder

MLP_LAYERS = 3


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    size_name: str  # what a size counts ("layers", "depth", ...)
    build: Callable[[int], Graph]
    text: Callable[[int], str]
    max_size: int  # larger sizes are refused (exit 3): the graph or its setup gets too big
    nodes: Callable[[int], int]  # node count at a size, known before building
    default_sizes: str = "1:12"  # what ``scale FAMILY`` runs without --sizes
    # several outputs: one expression per output (``text`` is then them, quoted for a shell)
    texts: Callable[[int], tuple[str, ...]] | None = None

    def expressions(self, size: int) -> tuple[str, ...]:
        """The expression(s) whose parse is this family's graph at ``size``."""
        return self.texts(size) if self.texts is not None else (self.text(size),)


def _add(b: GraphBuilder, total: int | None, term: int) -> int:
    """A running left-to-right sum, built term by term in the parser's node order."""
    return term if total is None else b.apply("add", total, term)


def layered(size: int) -> Graph:
    b = GraphBuilder()
    h = b.input("x")
    for i in range(1, size + 1):
        h = b.apply("mul", h, h)
        b.label(h, f"h{i}")
    return b.build([h], [f"h{size}"])


def layered_text(size: int) -> str:
    return "; ".join(f"h{i} = {'x' if i == 1 else f'h{i - 1}'}*{'x' if i == 1 else f'h{i - 1}'}"
                     for i in range(1, size + 1))


def chain(size: int) -> Graph:
    b = GraphBuilder()
    node = b.input("x")
    for _ in range(size):
        node = b.apply("sin", node)
    return b.build([node], [chain_text(size) if size <= 8 else f"sin^{size}(x)"])


def chain_text(size: int) -> str:
    return "sin(" * size + "x" + ")" * size


def wide(size: int) -> Graph:
    b = GraphBuilder()
    total = None
    for i in range(1, size + 1):
        total = _add(b, total, b.apply("mul", b.input(f"x{i}"), b.input(f"y{i}")))
    return b.build([total], [wide_text(size) if size <= 4 else "sum of x_i*y_i"])


def wide_text(size: int) -> str:
    return " + ".join(f"x{i}*y{i}" for i in range(1, size + 1))


def fanout(size: int) -> Graph:
    b = GraphBuilder()
    x = b.input("x")
    total = None
    for k in range(1, size + 1):
        total = _add(b, total, b.apply("pow", x, b.const(float(k), str(k))))
    return b.build([total], [fanout_text(size) if size <= 4 else "sum of x^k"])


def fanout_text(size: int) -> str:
    return " + ".join(f"x^{k}" for k in range(1, size + 1))


def mlp(size: int) -> Graph:
    b = GraphBuilder()
    below = [f"x{j}" for j in range(1, size + 1)]
    below_ids: list[int] | None = None
    for layer in range(1, MLP_LAYERS + 1):
        units = []
        for i in range(1, size + 1):
            total = None
            for j in range(1, size + 1):
                weight = b.input(f"w{layer}_{i}_{j}")
                source = b.input(below[j - 1]) if below_ids is None else below_ids[j - 1]
                total = _add(b, total, b.apply("mul", weight, source))
            unit = b.apply("tanh", _add(b, total, b.input(f"b{layer}_{i}")))
            b.label(unit, f"h{layer}_{i}")
            units.append(unit)
        below_ids = units
    out = None
    for unit in below_ids:
        out = _add(b, out, unit)
    return b.build([out], [f"h{MLP_LAYERS}_1" if size == 1 else "sum of the last layer"])


def mlp_text(size: int) -> str:
    statements = []
    below = [f"x{j}" for j in range(1, size + 1)]
    for layer in range(1, MLP_LAYERS + 1):
        for i in range(1, size + 1):
            products = " + ".join(f"w{layer}_{i}_{j}*{below[j - 1]}" for j in range(1, size + 1))
            statements.append(f"h{layer}_{i} = tanh({products} + b{layer}_{i})")
        below = [f"h{layer}_{i}" for i in range(1, size + 1)]
    if size > 1:
        statements.append(" + ".join(below))
    return "; ".join(statements)


def decay(size: int) -> Graph:
    """Built in the parser's node order: an input when first read, 0.5*s before the term."""
    b = GraphBuilder()
    total = None
    for k in range(1, size + 1):
        scaled = None if total is None else b.apply("mul", b.const(0.5, "0.5"), total)
        term = b.apply("mul", b.input(f"x{k}"), b.input(f"x{k % size + 1}"))
        total = term if scaled is None else b.apply("add", scaled, term)
        b.label(total, f"s{k}")
    return b.build([total], [f"s{size}"])


def decay_text(size: int) -> str:
    statements = []
    for k in range(1, size + 1):
        term = f"x{k}*x{k % size + 1}"
        statements.append(f"s{k} = " + (term if k == 1 else f"0.5*s{k - 1} + {term}"))
    return "; ".join(statements)


def tridiag(size: int) -> Graph:
    """Built in the parser's node order, output by output (see ``tridiag_texts``)."""
    b = GraphBuilder()
    outputs = []
    for i in range(1, size + 1):
        product = b.apply("mul", b.input(f"x{i - 1}"), b.input(f"x{i}")) if i > 1 else None
        x = b.input(f"x{i}")
        inner = b.apply("add", x, b.input(f"x{i + 1}")) if i < size else x
        term = b.apply("sin", inner)
        outputs.append(term if product is None else b.apply("add", product, term))
    return b.build(outputs, tridiag_texts(size) if size <= 4 else
                   tuple(f"y{i}" for i in range(1, size + 1)))


def tridiag_texts(size: int) -> tuple[str, ...]:
    texts = []
    for i in range(1, size + 1):
        inner = f"x{i} + x{i + 1}" if i < size else f"x{i}"
        texts.append((f"x{i - 1}*x{i} + " if i > 1 else "") + f"sin({inner})")
    return tuple(texts)


def tridiag_text(size: int) -> str:
    return " ".join(f'"{text}"' for text in tridiag_texts(size))


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("layered", "seed 003: L layers of products, o = x^(2^L), 2^L paths", "layers",
               layered, layered_text, 10_000, lambda n: n + 1, "1:16"),
        Family("chain", "nested sines sin(sin(...sin(x))), one path of n edges", "depth",
               chain, chain_text, 1_000_000, lambda n: n + 1, "100:1000:100"),
        Family("wide", "x1*y1 + ... + xn*yn: 2n inputs, one output", "terms",
               wide, wide_text, 1_000_000, lambda n: 4 * n - 1, "10:100:10"),
        Family("fanout", "x^1 + ... + x^n: one input read by n nodes", "users",
               fanout, fanout_text, 1_000_000, lambda n: 3 * n, "10:100:10"),
        Family("mlp", f"{MLP_LAYERS} dense tanh layers of width n, weights are inputs",
               "width", mlp, mlp_text, 64,
               lambda n: n + MLP_LAYERS * (3 * n * n + 2 * n) + n - 1, "1:8"),
        Family("decay", "s_k = 0.5*s_(k-1) + x_k*x_(k+1), a ring of n inputs",
               "n", decay, decay_text, 100_000, lambda n: 4 * n - 1 if n > 1 else 2,
               "10:80:10"),
        Family("tridiag", "y_i = x_(i-1)*x_i + sin(x_i + x_(i+1)): n outputs, banded",
               "n", tridiag, tridiag_text, 2_000, lambda n: 5 * n - 3 if n > 1 else 2,
               "10,100,1000", tridiag_texts),
    )
}
