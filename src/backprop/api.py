"""The Python API: what the command line does, for notebooks and scripts.

    >>> import backprop
    >>> backprop.grad("sin(2*x+y)", at={"x": 1, "y": 2}).gradient["x"]
    -1.3072872417272239

Each function runs the same job as its command (``jobs/``), with the same limits, and
returns an immutable result: a few typed fields, the job's whole report (``.report``),
``.to_dict()`` (the command's ``--json`` document) and, in Jupyter, a Markdown or SVG view
of itself. An error is the command's error: a ``BackpropError`` with its ``exit_code``,
its message, and the caret and hint as notes (shown under the traceback).

Like ``cli.py``, this is an adapter over the jobs and the renderers: it holds no rule of
its own beyond turning Python values (dicts, lists) into the jobs' inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from backprop.errors import BackpropError, InputError, NonFiniteError
from backprop.limits import Limits

__all__ = ["grad", "compare", "paths", "hessian", "net", "check_claims", "graph",
           "GradResult", "CompareResult", "PathsResult", "HessianResult", "NetResult", "CheckResult",
           "GraphResult"]

Expression = str | Sequence[str]
Point = Mapping[str, float] | str | None
Names = Sequence[str] | str | None
DICT_SPEC = "spec"  # how messages name a spec given as a dict


@dataclass(frozen=True)
class Result:
    """What every result shares: the job's report and the command's JSON document."""

    report: Any  # the job's own frozen report (jobs/), everything the command prints

    def to_dict(self) -> dict:
        """The document the command prints with ``--json`` (docs/json.md)."""
        raise NotImplementedError

    def to_json(self) -> str:
        """``to_dict()`` as the command's JSON text (non-finite numbers as strings)."""
        from backprop.render.json_doc import dumps

        return dumps(self.to_dict())


@dataclass(frozen=True)
class GradResult(Result):
    """``backprop grad``: values, the gradient (or Jacobian), counts per mode, the check."""

    expression: str | None  # the graph printed back, for one output
    at: Mapping[str, float] | None  # None: formulas (SymPy expressions) instead of numbers
    wrt: tuple[str, ...]
    values: tuple  # one per output
    jacobian: tuple[tuple, ...]  # rows: outputs; columns: wrt
    counts: Mapping[str, Any]  # mode -> engine.counts.Counts (exact)
    check: Any  # check.verdict.CheckResult, or None with check=False
    warnings: tuple[str, ...]

    @property
    def value(self):
        """The value of the one output (several outputs: ``values``)."""
        return _one(self.values, "values")

    @property
    def gradient(self) -> Mapping[str, Any]:
        """d output / d input by input name, for one output (several: ``jacobian``)."""
        return MappingProxyType(dict(zip(self.wrt, _one(self.jacobian, "jacobian"))))

    def to_dict(self) -> dict:
        from backprop.render.json_doc import grad_document

        return grad_document(self.report)

    def _repr_markdown_(self) -> str:
        from backprop.render.markdown import grad_markdown

        return grad_markdown(self.report)


@dataclass(frozen=True)
class CompareResult(Result):
    """``backprop compare``: each mode's exact counts and time, and the verdict."""

    verdict: str
    counts: Mapping[str, Any]  # mode -> Counts

    def to_dict(self) -> dict:
        from backprop.render.compare_json import compare_document

        return compare_document(self.report)

    def _repr_markdown_(self) -> str:
        return _console_markdown(self.report, "backprop.render.compare_view", "render_compare")


@dataclass(frozen=True)
class PathsResult(Result):
    """``backprop paths``: every path from an input to an output, and their sums."""

    def to_dict(self) -> dict:
        from backprop.render.compare_json import paths_document

        return paths_document(self.report)

    def _repr_markdown_(self) -> str:
        return _console_markdown(self.report, "backprop.render.compare_view", "render_paths")


@dataclass(frozen=True)
class HessianResult(Result):
    """``backprop hessian``: the Hessian, each mode pairing's exact cost, H v, the check."""

    wrt: tuple[str, ...]
    value: Any
    hessian: tuple[tuple, ...]
    check: Any

    def to_dict(self) -> dict:
        from backprop.render.json_doc import hessian_document

        return hessian_document(self.report)

    def _repr_markdown_(self) -> str:
        from backprop.render.markdown import hessian_markdown

        return hessian_markdown(self.report)


@dataclass(frozen=True)
class NetResult(Result):
    """``backprop net``: the loss, every parameter's gradient, the modes' costs, the check."""

    loss: float
    check: Any

    @property
    def gradients(self) -> Mapping[str, float]:
        """d loss / d parameter by entry name (``w5``, ``layer1.W[0][1]``), from the mode the
        report stands by (reverse when it ran)."""
        return MappingProxyType(self.report.named_gradients[self.report.reference])

    def to_dict(self) -> dict:
        from backprop.render.net_view import net_document

        return net_document(self.report)

    def _repr_markdown_(self) -> str:
        return _console_markdown(self.report, "backprop.render.net_view", "render_net")


@dataclass(frozen=True)
class CheckResult(Result):
    """``backprop check``: each claim of a claims file, right or wrong, and how it was
    decided (docs/check.md)."""

    passed: int
    failed: int

    def to_dict(self) -> dict:
        from backprop.render.claims_view import claims_document

        return claims_document(self.report)

    def _repr_markdown_(self) -> str:
        from backprop.render.claims_view import claims_markdown

        return claims_markdown(self.report)


@dataclass(frozen=True)
class GraphResult(Result):
    """``backprop graph``: the computational graph; in Jupyter, drawn (SVG via Graphviz
    when it is installed, else a Mermaid block)."""

    listing: str  # what ``backprop graph`` prints

    def to_dict(self) -> dict:
        raise TypeError("graph has no JSON document; use .listing, .dot() or .mermaid()")

    def dot(self) -> str:
        from backprop.render.picture_text import to_dot

        return to_dot(self.report.picture)

    def mermaid(self) -> str:
        from backprop.render.picture_text import to_mermaid

        return to_mermaid(self.report.picture)

    def _repr_svg_(self) -> str | None:
        import shutil

        if shutil.which("dot") is None:
            return None  # Jupyter falls back to the Markdown view
        from backprop.graphviz import render_with_dot

        return render_with_dot(self.dot(), "svg").decode("utf-8")

    def _repr_markdown_(self) -> str:
        return "```mermaid\n" + self.mermaid() + "```\n"

    def __str__(self) -> str:
        return self.listing


def grad(expr: Expression, *, at: Point = None, wrt: Names = None, mode: str = "reverse",
         check: bool = True, rtol: float = 1e-9, atol: float = 1e-12, strict: bool = False,
         limits: Limits | None = None) -> GradResult:
    """Differentiate ``expr`` (one expression, ``"a = 2*x; a*y"`` statements, or a list of
    expressions for a Jacobian) at ``at`` ({"x": 1.0} or "x=1"), or as formulas without it.
    ``mode``: reverse, forward, paths or all. ``check=False`` skips the SymPy check."""
    from backprop.jobs.grad import grad as job

    limits = limits or Limits()
    report = _run(lambda: job(_graph(expr, limits), at=_point(at), wrt=_names(wrt),
                              mode=mode, run_check=check, rtol=rtol, atol=atol,
                              limits=limits, strict=strict))
    _raise_strict(report)
    jacobian = report.jacobian
    return GradResult(report, report.text, _frozen_point(report.point), tuple(report.wrt),
                      tuple(report.output_values if report.point is not None
                            else report.output_formulas or ()),
                      tuple(tuple(row) for row in jacobian),
                      MappingProxyType({m: r.counts for m, r in report.results.items()}),
                      report.check, tuple(report.warnings))


def compare(expr: Expression, *, at: Point = None, wrt: Names = None, seed: int = 0,
            repeats: int = 5, limits: Limits | None = None) -> CompareResult:
    """Run every mode on ``expr`` (at ``at``, else a seeded random point): exact counts,
    measured times and the verdict naming the cheapest mode."""
    from backprop.jobs.compare import compare as job

    limits = limits or Limits()
    report = _run(lambda: job(_graph(expr, limits), at=_point(at), wrt=_names(wrt),
                              seed=seed, repeats=repeats, limits=limits))
    return CompareResult(report, report.verdict.text,
                         MappingProxyType({m: c.counts for m, c in report.costs.items()}))


def paths(expr: Expression, *, at: Point = None, wrt: Names = None, limit: int = 1_000,
          limits: Limits | None = None) -> PathsResult:
    """Every path from each input to each output (the first ``limit``), with its product of
    local partials, and the sums that make the gradient."""
    from backprop.jobs.paths import list_paths

    limits = limits or Limits()
    return PathsResult(_run(lambda: list_paths(_graph(expr, limits), at=_point(at),
                                               wrt=_names(wrt), limit=limit, limits=limits)))


def hessian(expr: Expression, *, at: Point = None, mode: str = "fwd-rev",
            vector: Point = None, check: bool = True, strict: bool = False,
            limits: Limits | None = None) -> HessianResult:
    """The Hessian of a one-output ``expr`` by a pairing of two sweeps (``mode``: fwd-rev,
    rev-rev, rev-fwd, fwd-fwd or all); ``vector`` ({"x": 1, "y": 0}) adds H v."""
    from backprop.jobs.hessian import hessian as job

    limits = limits or Limits()
    report = _run(lambda: job(_graph(expr, limits), at=_point(at), mode=mode,
                              vector=None if vector is None else [_point(vector)],
                              run_check=check, limits=limits, strict=strict))
    _raise_strict(report)
    return HessianResult(report, tuple(report.wrt), report.value,
                         tuple(tuple(row) for row in report.hessian), report.check)


def net(spec: str | Mapping[str, Any], *, mode: str = "reverse", wrt: Names = None,
        engine: str = "auto", check: bool = True, strict: bool = False,
        limits: Limits | None = None) -> NetResult:
    """Differentiate a network spec (a YAML file's path, or the same structure as a dict;
    docs/spec.md): the loss and every parameter's gradient. ``wrt`` selects parameters
    ("w5", "layer1.W") as ``--param`` does."""
    from backprop.jobs.net import run_net

    limits = limits or Limits()
    text = None
    if isinstance(spec, Mapping):  # the same loader as a file's, on the dict as YAML
        import yaml

        spec, text = DICT_SPEC, yaml.safe_dump(json.loads(json.dumps(spec)), sort_keys=False)
    report = _run(lambda: run_net(str(spec), mode=mode, params=_names(wrt), engine=engine,
                                  run_check=check, limits=limits, strict=strict, text=text))
    _raise_strict(report)
    return NetResult(report, report.loss, report.check)


def check_claims(cases: str, *, limits: Limits | None = None) -> CheckResult:
    """``backprop check``: a YAML or CSV file of claimed gradients and derivative formulas,
    each checked (named check_claims: ``backprop.check`` is the package of the oracle)."""
    from backprop.jobs.claims import check_claims as job

    report = _run(lambda: job(str(cases), limits=limits or Limits()))
    return CheckResult(report, report.passed, report.failed)


def graph(expr: Expression, *, at: Point = None, program: bool = False,
          limits: Limits | None = None) -> GraphResult:
    """The computational graph of ``expr`` (with ``at``: each node's value and gradient;
    ``program``: the gradient program instead), drawn in Jupyter, listed by ``str()``."""
    from backprop.jobs.picture import graph_picture
    from backprop.render.picture_text import listing

    limits = limits or Limits()
    at_text = _point(at)
    job = _run(lambda: graph_picture(_graph(expr, limits), at_text, "dot", program))
    return GraphResult(job, listing(job.graph, job.picture))


# -- turning Python values into the jobs' inputs ---------------------------------------------

def _graph(expr: Expression, limits: Limits):
    from backprop.frontends.load import load_graph

    sources = [expr] if isinstance(expr, str) else \
        list(expr) if isinstance(expr, (list, tuple)) else []
    if not sources or not all(isinstance(s, str) for s in sources):
        raise InputError("an expression is a string (or a list of strings, one per output)")
    return load_graph(sources, max_nodes=limits.max_nodes, max_depth=limits.max_depth)


def _point(at: Point) -> str | None:
    """{"x": 1, "y": 2.5} as the command line's ``x=1,y=2.5`` (floats written exactly)."""
    if at is None or isinstance(at, str):
        return at
    if not isinstance(at, Mapping):
        raise InputError(f"a point is a mapping of names to numbers, not {type(at).__name__}",
                         hint='at={"x": 1.0, "y": 2.0}')
    items = []
    for name, value in at.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                and not hasattr(value, "__float__"):
            raise InputError(f"{name} = {value!r} is not a number")
        items.append(f"{name}={float(value)!r}")
    return ",".join(items)


def _names(names: Names) -> str | None:
    return names if names is None or isinstance(names, str) else ",".join(names)


def _frozen_point(point) -> Mapping[str, float] | None:
    return None if point is None else MappingProxyType(dict(point))


def _one(rows: tuple, field: str):
    if len(rows) != 1:
        raise ValueError(f"the expression has {len(rows)} outputs: use .{field}")
    return rows[0]


def _run(work: Callable[[], Any]):
    """Run a job; a BackpropError gains its caret and hint as notes (shown by tracebacks)."""
    try:
        return work()
    except BackpropError as error:
        for line in error.detail_lines():
            error.add_note(line)
        raise


def _raise_strict(report) -> None:
    """``strict=True``: a non-finite result raises, as the command exits 4."""
    if report.strict_error is not None:
        raise NonFiniteError(report.strict_error)


def _console_markdown(report, module: str, view: str) -> str:
    """A terminal view as a Markdown code block (results without a Markdown renderer)."""
    import importlib
    import io

    from rich.console import Console

    buffer = io.StringIO()
    getattr(importlib.import_module(module), view)(
        report, Console(file=buffer, width=100, color_system=None, highlight=False))
    return "```text\n" + buffer.getvalue() + "```\n"
