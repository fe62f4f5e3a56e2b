"""A Plot (render/plot.py) in the terminal: curves in braille dots with each point marked by
its series' letter, bars in eighth blocks; decade ticks on log axes. Never wider than the
console (80 columns fit), so it reads the same piped, in a file or in the docs."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from backprop.render.numbers import fmt_count
from backprop.render.plot import Plot

MAX_WIDTH = 100  # columns, however wide the terminal
HEIGHT = 12  # rows of the plotting area
MIN_AREA = 10  # columns of plotting area, however narrow the terminal
BRAILLE = 0x2800
DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] in a cell
EIGHTHS = " ▏▎▍▌▋▊▉█"


def render_plot(plot: Plot, console: Console) -> None:
    """Print ``plot``: a bar chart when it has categories, else its curves."""
    width = max(min(console.width, MAX_WIDTH), 20)
    console.print(Text(plot.title, style="bold"))
    if plot.empty:
        console.print("nothing to plot: no positive value")
        return
    lines = _bars(plot, width) if plot.categories else _curves(plot, width)
    for line in lines:
        console.print(line, no_wrap=True, overflow="ignore", crop=False)
    if plot.estimated:
        console.print(Text(("░ bars" if plot.categories else "capital marks") +
                           ": estimated, not run (the count is still exact)", style="dim"))


def _spread(labels: list[tuple[int, str]], width: int, offset: int) -> str:
    """Labels centred on their columns (``offset`` + column), each kept only where it
    leaves a space before the next, all inside ``width``."""
    line = [" "] * width
    end = -1
    for column, label in labels:
        start = max(0, min(width - len(label), offset + column - len(label) // 2))
        if start <= end:
            continue
        line[start:start + len(label)] = label
        end = start + len(label)
    return "".join(line).rstrip()


def _curves(plot: Plot, width: int) -> list[Text]:
    x, y = plot.x, plot.y
    label_width = max(len(label) for _, label in y.ticks)
    area = max(MIN_AREA, width - label_width - 2)
    dots_x, dots_y = 2 * area - 1, 4 * HEIGHT - 1
    cells = [[0] * area for _ in range(HEIGHT)]
    owner = [[None] * area for _ in range(HEIGHT)]
    marks: dict[tuple[int, int], tuple[str, str, bool]] = {}

    def dot(fx: float, fy: float) -> tuple[int, int]:
        return round(fx * dots_x), round((1 - fy) * dots_y)

    for series in reversed(plot.series):  # the first series on top where they meet
        previous = None
        for k, (xv, yv) in enumerate(zip(series.xs, series.ys)):
            fx, fy = x.fraction(xv), y.fraction(yv)
            if fx is None or fy is None:
                previous = None
                continue
            point = dot(fx, fy)
            for px, py in _segment(previous or point, point):
                cells[py // 4][px // 2] |= DOTS[py % 4][px % 2]
                owner[py // 4][px // 2] = series.color
            estimated = k < len(series.estimated) and series.estimated[k]
            marks[(point[1] // 4, point[0] // 2)] = (series.marker, series.color, estimated)
            previous = point
    tick_rows = {}
    for value, label in y.ticks:
        row = round((1 - (value - y.low) / (y.high - y.low)) * dots_y) // 4
        tick_rows.setdefault(row, label)
    lines = []
    for r in range(HEIGHT):
        axis = "┤" if r in tick_rows else "│"
        line = Text(f"{tick_rows.get(r, ''):>{label_width}} {axis}")
        for c in range(area):
            if (r, c) in marks:
                marker, color, estimated = marks[(r, c)]
                line.append(marker.upper() if estimated else marker, style=f"bold {color}")
            elif cells[r][c]:
                line.append(chr(BRAILLE + cells[r][c]), style=owner[r][c])
            else:
                line.append(" ")
        lines.append(line)
    columns = [(round((v - x.low) / (x.high - x.low) * dots_x) // 2, label)
               for v, label in x.ticks]
    axis = ["─"] * area
    for column, _ in columns:
        axis[min(column, area - 1)] = "┬"
    lines.append(Text(" " * label_width + " └" + "".join(axis)))
    lines.append(Text(_spread(columns, label_width + 2 + area, label_width + 2)))
    lines.append(Text(f"{x.label:^{label_width + 2 + area}}".rstrip()))
    return lines + _legend(plot, label_width + 2, width)


def _legend(plot: Plot, indent: int, width: int) -> list[Text]:
    """``f forward   p paths   r reverse (= forward)``, on as many lines as ``width`` needs."""
    pieces = [(series, text) for series, text in plot.legend()] + [(None, f"(y: {plot.y.label})")]
    lines = [Text(" " * indent)]
    for series, text in pieces:
        size = len(text) + (2 if series else 0)
        if len(lines[-1]) > indent and len(lines[-1]) + size > width:
            lines[-1].rstrip()
            lines.append(Text(" " * indent))
        if series is not None:
            lines[-1].append(series.marker, style=f"bold {series.color}")
            lines[-1].append(" ")
        lines[-1].append(text + "   ")
    lines[-1].rstrip()
    return lines


def _segment(start: tuple[int, int], end: tuple[int, int]):
    """The dots of a straight line from start to end (Bresenham), end included."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x1 > x0 else -1), (1 if y1 > y0 else -1)
    error = dx + dy
    while True:
        yield x0, y0
        if (x0, y0) == (x1, y1):
            return
        twice = 2 * error
        if twice >= dy:
            error += dy
            x0 += sx
        if twice <= dx:
            error += dx
            y0 += sy


def _bars(plot: Plot, width: int) -> list[Text]:
    y = plot.y
    label_width = max(len(name) for name in plot.categories)
    numbers = [fmt_count(s.ys[0]) for s in plot.series]
    area = max(MIN_AREA, width - label_width - 2 - max(len(n) for n in numbers) - 1)
    lines = []
    for series, number in zip(plot.series, numbers):
        line = Text(f"{series.name:>{label_width}} │")
        fraction = y.fraction(series.ys[0])
        eighths = 0 if not series.ys[0] or fraction is None else \
            max(1, round(max(0.0, fraction) * area * 8))  # a positive value shows
        if series.estimated and series.estimated[0]:
            line.append("░" * -(-eighths // 8), style=series.color)
        else:
            line.append("█" * (eighths // 8) + EIGHTHS[eighths % 8].strip(), style=series.color)
        line.append(f" {number}")
        lines.append(line)
    columns = [(min(area - 1, round((v - y.low) / (y.high - y.low) * area)), label)
               for v, label in y.ticks]
    axis = ["─"] * area
    for column, _ in columns:
        axis[column] = "┬"
    lines.append(Text(" " * label_width + " └" + "".join(axis)))
    lines.append(Text(_spread(columns, label_width + 2 + area, label_width + 2)))
    lines.append(Text(f"{y.label:^{label_width + 2 + area}}".rstrip()))
    return lines
