"""A Plot (render/plot.py) as PNG, drawn by matplotlib: an optional dependency (the
``plot`` extra), imported only when a PNG is asked for. The axes are the plot's own (the
same plotted coordinates and tick labels as the terminal and the SVG), so a count too large
for a float (2^2000 paths) still has its place on a log axis."""

from __future__ import annotations

import io

from backprop.errors import InputError
from backprop.render.plot import PLOT_EXTRA, Plot
from backprop.render.plot_svg import ESTIMATED_NOTE


def require_matplotlib():
    """matplotlib's pyplot on the Agg backend, or an InputError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib import pyplot
    except ImportError:
        raise InputError("writing a PNG needs matplotlib, which is not installed",
                         hint=f"{PLOT_EXTRA}, or write -o FILE.svg") from None
    return pyplot


def png_bytes(plot: Plot) -> bytes:
    pyplot = require_matplotlib()
    x, y = plot.x, plot.y
    figure, axes = pyplot.subplots(figsize=(7.2, 4.4), dpi=100)
    try:
        for order, (series, text) in enumerate(plot.legend()):
            layer = 2 * (len(plot.series) - order)  # the first series on top where they meet
            placed = [(x.place(xv), y.place(yv), k < len(series.estimated) and
                       series.estimated[k])
                      for k, (xv, yv) in enumerate(zip(series.xs, series.ys))]
            placed = [p for p in placed if p[0] is not None and p[1] is not None]
            if plot.categories:
                for px, py, estimated in placed:
                    axes.bar(px, py - y.low, bottom=y.low, width=0.6, color=series.color,
                             fill=not estimated, edgecolor=series.color)
                continue
            axes.plot([p[0] for p in placed], [p[1] for p in placed], color=series.color,
                      label=text, linewidth=2, zorder=layer)
            axes.scatter([p[0] for p in placed], [p[1] for p in placed], s=16, zorder=layer + 1,
                         color=[("white" if p[2] else series.color) for p in placed],
                         edgecolors=series.color)
        axes.set_xticks([v for v, _ in x.ticks], [label for _, label in x.ticks])
        axes.set_yticks([v for v, _ in y.ticks], [label for _, label in y.ticks])
        axes.set_ylim(y.low, y.high)
        if plot.categories:
            axes.set_xlim(x.low, x.high)
        axes.set_xlabel(x.label)
        axes.set_ylabel(y.label + (" (log)" if y.log else ""))
        axes.set_title(plot.title)
        axes.grid(axis="y", color="#dddddd")
        if not plot.categories:
            axes.legend()
        if plot.estimated:
            figure.text(0.01, 0.01, ESTIMATED_NOTE, fontsize=8, color="#555555")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)
