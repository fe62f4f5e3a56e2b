"""A Plot (render/plot.py) as a small self-contained SVG document: no script, no font and
no reference outside the file. Curves are polylines with a circle per point (hollow where
the mode was estimated, not run); bars are rectangles; each series is a ``<g>`` whose
``data-series`` attribute names it, and each point carries its exact value as a title."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from backprop.render.numbers import fmt_count
from backprop.render.plot import Plot

WIDTH, HEIGHT = 720, 440
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 50, 90  # margins around the plotting area
ESTIMATED_NOTE = "hollow: estimated, not run (the count is still exact)"
FONT = 'font-family="sans-serif" font-size="12"'


def svg_text(plot: Plot) -> str:
    area_w, area_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    inset = 0 if plot.categories else 12  # a curve's end points clear of the frame

    def px(fraction: float) -> float:
        return round(LEFT + inset + fraction * (area_w - 2 * inset), 2)

    def py(fraction: float) -> float:
        return round(TOP + (1 - fraction) * area_h, 2)

    x, y = plot.x, plot.y
    per_row = min(3, len(plot.series)) or 1
    legend_rows = 0 if plot.categories else -(-len(plot.series) // per_row)
    note_at = TOP + area_h + 52 + 16 * legend_rows + 12
    height = max(HEIGHT, note_at + 6)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" {FONT}>',
           f"<title>{escape(plot.title)}</title>",
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15" '
           f'font-weight="bold">{escape(plot.title)}</text>']
    out.append('<g class="grid" stroke="#dddddd">')
    for value, label in y.ticks:
        level = py((value - y.low) / (y.high - y.low))
        out.append(f'<line x1="{LEFT}" y1="{level}" x2="{LEFT + area_w}" y2="{level}"/>')
    out.append("</g>")
    out.append('<g class="y-ticks" text-anchor="end">')
    for value, label in y.ticks:
        level = py((value - y.low) / (y.high - y.low))
        out.append(f'<text x="{LEFT - 8}" y="{level + 4}">{escape(label)}</text>')
    out.append("</g>")
    out.append('<g class="x-ticks" text-anchor="middle">')
    for value, label in x.ticks:
        at = px((value - x.low) / (x.high - x.low))
        out.append(f'<line x1="{at}" y1="{TOP + area_h}" x2="{at}" y2="{TOP + area_h + 5}" '
                   f'stroke="black"/><text x="{at}" y="{TOP + area_h + 20}">'
                   f"{escape(label)}</text>")
    out.append("</g>")
    out.append(f'<path d="M{LEFT},{TOP} V{TOP + area_h} H{LEFT + area_w}" fill="none" '
               'stroke="black"/>')
    if x.label:
        out.append(f'<text x="{LEFT + area_w / 2}" y="{TOP + area_h + 40}" '
                   f'text-anchor="middle">{escape(x.label)}</text>')
    out.append(f'<text transform="translate(18,{TOP + area_h / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(y.label)}{" (log)" if y.log else ""}</text>')
    bar = area_w / max(1, len(plot.series)) * 0.6
    for series in reversed(plot.series):  # the first series on top where they meet
        out.append(f"<g class=\"series\" data-series={quoteattr(series.name)} "
                   f'stroke="{series.color}" fill="{series.color}">')
        points = []
        for k, (xv, yv) in enumerate(zip(series.xs, series.ys)):
            fx, fy = x.fraction(xv), y.fraction(yv)
            if fx is None or fy is None:
                continue
            estimated = k < len(series.estimated) and series.estimated[k]
            title = f"<title>{escape(series.name)}: {fmt_count(yv)}" \
                    f"{' (estimated, not run)' if estimated else ''}</title>"
            fill = ' fill="white"' if estimated else ""
            if plot.categories:
                top = py(max(0.0, fy))
                out.append(f'<rect x="{round(px(fx) - bar / 2, 2)}" y="{top}" '
                           f'width="{round(bar, 2)}" height="{round(TOP + area_h - top, 2)}"'
                           f'{fill} data-value="{yv}">{title}</rect>')
                out.append(f'<text x="{px(fx)}" y="{top - 5}" text-anchor="middle" '
                           f'stroke="none" fill="black">{fmt_count(yv)}</text>')
            else:
                points.append(f"{px(fx)},{py(fy)}")
                out.append(f'<circle cx="{px(fx)}" cy="{py(fy)}" r="3"{fill} '
                           f'data-x="{xv}" data-value="{yv}">{title}</circle>')
        if len(points) > 1:
            out.insert(len(out) - len(points), f'<polyline points="{" ".join(points)}" '
                       'fill="none" stroke-width="2"/>')
        out.append("</g>")
    if not plot.categories:
        out.append('<g class="legend">')
        for k, (series, text) in enumerate(plot.legend()):
            at = LEFT + 10 + (k % per_row) * (area_w - 20) / per_row
            row = TOP + area_h + 52 + 16 * (k // per_row)
            out.append(f'<rect x="{round(at, 2)}" y="{row}" width="12" height="12" '
                       f'fill="{series.color}"/><text x="{round(at + 18, 2)}" '
                       f'y="{row + 10}">{escape(text)}</text>')
        out.append("</g>")
    if plot.estimated:
        out.append(f'<text x="{LEFT}" y="{note_at}" font-size="10" fill="#555555">'
                   f"{ESTIMATED_NOTE}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
