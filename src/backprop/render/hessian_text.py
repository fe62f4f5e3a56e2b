"""What the Hessian's views (terminal, Markdown) write alike, as plain strings: the cost
columns of a pairing, the H v lines, the symmetry and agreement lines. No rich here."""

from __future__ import annotations

from backprop.render.numbers import fmt, fmt_seconds

# (header, the pairing's figure): the gradient program, then the second mode's own counts,
# then their sum; one word each, so no header wraps with the width of a time
COST_COLUMNS = (
    ("nodes", lambda p: p.program_nodes),
    ("ops", lambda p: p.program_ops),
    ("sweeps", lambda p: p.counts.sweeps),
    ("partials", lambda p: p.counts.partial_evals),
    ("mults", lambda p: p.counts.multiplications),
    ("adds", lambda p: p.counts.additions),
    ("peak", lambda p: p.counts.peak_values),
    ("total", lambda p: p.total_ops),
)


def cost_cells(pairing, seconds: float | None) -> list[str]:
    """One pairing's row: its name, each cost column, its time."""
    return [pairing.name] + [f"{figure(pairing):,}" for _, figure in COST_COLUMNS] \
        + [fmt_seconds(seconds)]


COST_TITLE = "Cost per pairing"
COST_KEY = ("nodes, ops: the gradient program (its ops evaluated once at the point); sweeps "
            "to peak: the second mode on it; total: ops + partials + mults + adds")


def cost_headers() -> list[str]:
    return ["pairing"] + [header for header, _ in COST_COLUMNS] + ["time"]


def quality_lines(report) -> list[str]:
    """Symmetry and the pairings' agreement, where they were measured."""
    lines = []
    if report.symmetry is not None:
        lines.append(f"symmetric: largest |H - H^T| relative {report.symmetry:.3g}")
    if report.agreement is not None:
        lines.append(f"pairings agree: largest relative difference {report.agreement:.3g}")
    return lines


def hvp_lines(report) -> list[str]:
    """H v, its cost against forming H, and its check."""
    hvp = report.hvp
    if hvp is None:
        return []
    v = ", ".join(f"{k} = {fmt(x)}" for k, x in hvp.vector.items())
    lines = [f"H v at v = ({v}):"]
    lines += [f"  (H v)_{name} = {fmt(x)}" for name, x in zip(report.wrt, hvp.product)]
    lines.append(f"cost: one forward sweep on the gradient program ({hvp.program_ops:,} ops "
                 f"once, then {hvp.counts.arithmetic:,} operations: "
                 f"{hvp.counts.partial_evals:,} partials, {hvp.counts.multiplications:,} "
                 f"mults, {hvp.counts.additions:,} adds)")
    formed = report.pairings.get("fwd-rev")
    if formed is not None:
        lines.append(f"forming H by fwd-rev: {formed.counts.sweeps:,} sweeps, "
                     f"{formed.counts.arithmetic:,} operations")
    against = [what for what, found in (("H times v", hvp.by_hessian),
                                        ("central differences of the gradient",
                                         hvp.by_differences)) if found is not None]
    figure = "" if hvp.difference is None else \
        f": largest relative difference {hvp.difference:.3g}"
    lines.append(f"H v check {hvp.status} against {' and '.join(against) or 'nothing'}"
                 f"{figure} (tolerance 1e-6)")
    return lines
