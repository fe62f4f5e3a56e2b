"""One plot model for ``scale`` and ``compare``, drawn by three writers: the terminal
(render/plot_term.py, braille and blocks with rich), SVG (render/plot_svg.py, by hand) and
PNG (render/plot_png.py, matplotlib, imported only when asked).

A ``Plot`` is series of (x, y) points read from a job's result (``scale``: each mode's
exact operations per size; ``compare``: each mode's operations, as bars), with its axes
laid out once here: an axis is logarithmic where its values span two decades or more, its
ticks then whole decades (1, 10, 100, ..., 10⁵). Nothing here computes a cost or a growth;
it only reads them and places them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from backprop.errors import InputError

DECADES_FOR_LOG = 2  # an axis whose values span this many decades is logarithmic
MODE_COLORS = {"forward": "#1f77b4", "paths": "#d62728", "reverse": "#2ca02c"}
OTHER_COLORS = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
SUFFIXES = (".svg", ".png")
PLOT_EXTRA = "pip install 'backprop[plot]'"
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Series:
    name: str
    xs: tuple  # numbers (or category positions 0, 1, ... in a bar chart)
    ys: tuple  # exact counts (ints of any size) or floats; None: no value
    color: str  # "#rrggbb"
    marker: str  # one character: the series' mark in the terminal
    estimated: tuple = ()  # per point: True where the mode was estimated, not run


@dataclass(frozen=True)
class Axis:
    label: str
    log: bool
    low: float  # in plotted coordinates (log10 of the value on a log axis)
    high: float
    ticks: tuple  # (plotted coordinate, label) pairs

    def place(self, value) -> float | None:
        """The value in plotted coordinates, or None where it cannot be drawn (0 on a log
        axis, no value)."""
        if value is None:
            return None
        if self.log:
            return math.log10(value) if value > 0 else None
        return float(value)

    def fraction(self, value) -> float | None:
        """Where the value falls between the axis's ends, 0 to 1."""
        placed = self.place(value)
        if placed is None:
            return None
        return (placed - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Plot:
    title: str
    x: Axis
    y: Axis
    series: tuple[Series, ...]
    categories: tuple[str, ...] | None = None  # a bar chart: one bar per category and series

    @property
    def estimated(self) -> bool:
        """Whether a point is a mode estimated, not run (its count still exact)."""
        return any(e for s in self.series for e in s.estimated)

    def legend(self) -> list[tuple[Series, str]]:
        """Each series and its legend text: its name, and which earlier series it lies on
        where their values are the same at every point (its curve hides under the other)."""
        entries = []
        for k, series in enumerate(self.series):
            same = next((s.name for s in self.series[:k] if s.ys == series.ys
                         and s.xs == series.xs), None)
            entries.append((series, series.name + (f" (= {same})" if same else "")))
        return entries

    @property
    def empty(self) -> bool:
        return not any(self.y.place(v) is not None for s in self.series for v in s.ys)


# -- axes -----------------------------------------------------------------------------------

def decade_label(k: int) -> str:
    """10^k as people read it: 1, 10, 100, then 10³, 10⁴, ...; 10⁻¹, ..."""
    return f"{10**k}" if 0 <= k <= 2 else "10" + str(k).translate(SUPERSCRIPTS)


def number_label(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def spans_decades(values) -> bool:
    """Whether positive values span DECADES_FOR_LOG decades or more (a float cannot hold
    every count: 2^2000 paths, so the logarithms are taken of the values themselves)."""
    positive = [v for v in values if v is not None and v > 0]
    if not positive:
        return False
    top, bottom = max(positive), min(positive)
    return top > 1e300 or math.log10(top) - math.log10(bottom) >= DECADES_FOR_LOG


def make_axis(label: str, values, *, log: bool | None = None, from_zero: bool = False) -> Axis:
    """An axis over ``values``: logarithmic where they span decades (unless ``log`` says),
    its ends and ticks; ``from_zero``: a bar chart's axis starts at 0 (at 1 when log)."""
    log = spans_decades(values) if log is None else log
    shown = [v for v in values if v is not None and (v > 0 if log else True)]
    if log:
        logs = [math.log10(v) for v in shown] or [0.0]
        low = 0.0 if from_zero and min(logs) >= 0 else math.floor(min(logs))
        high = max(math.ceil(max(logs)), low + 1)
        step = max(1, math.ceil((high - low) / 8))  # at most about 8 decade ticks
        ticks = tuple((float(k), decade_label(k)) for k in range(int(low), int(high) + 1, step))
        return Axis(label, True, float(low), float(high), ticks)
    numbers = [float(v) for v in shown] or [0.0]
    low, high = min(numbers), max(numbers)
    if from_zero:
        low = min(low, 0.0)
    if high - low <= 0:
        low, high = (low - 1, high + 1) if not from_zero else (0.0, max(high, 1.0))
    step = nice_step((high - low) / 5)
    if all(isinstance(v, int) for v in shown):
        step = max(step, 1)  # sizes and counts: whole ticks
    first = math.ceil(low / step) * step
    ticks = []
    k = 0
    while first + k * step <= high + step * 1e-9:
        value = first + k * step
        ticks.append((value, number_label(round(value, 12))))
        k += 1
    return Axis(label, False, low, high, tuple(ticks))


def nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw * (1 - 1e-12):
            return factor * magnitude
    return 10 * magnitude


def _series_style(names) -> list[tuple[str, str]]:
    """Each series' colour and marker: modes keep theirs; a marker is the name's first
    letter not taken yet, else a symbol."""
    styles, taken, others = [], set(), iter(OTHER_COLORS * 4)
    for name in names:
        color = MODE_COLORS.get(name) or next(others)
        marker = next((c for c in name if c.isalnum() and c not in taken), None) \
            or next(c for c in "*+ox#@%&" if c not in taken)
        taken.add(marker)
        styles.append((color, marker))
    return styles


# -- from the jobs' results --------------------------------------------------------------------

def scale_plot(result) -> Plot:
    """``scale``: each mode's (or pairing's) exact operations against the size."""
    names = list(result.fits)
    pairings = hasattr(result.rows[0].costs[names[0]], "pairing")  # scale --order 2
    series = []
    for name, (color, marker) in zip(names, _series_style(names)):
        costs = [row.costs[name] for row in result.rows]
        series.append(Series(name, tuple(result.sizes), tuple(c.operations for c in costs),
                             color, marker,
                             tuple(not c.ran and c.operations is not None for c in costs)))
    what = "total work" if pairings else "operations"
    y_values = [v for s in series for v in s.ys]
    x = make_axis(result.family.size_name, result.sizes)
    y = make_axis(what, y_values)
    title = f"{what.capitalize()} per size: {result.family.name}"
    if y.log:
        title += " (log scale)"
    return Plot(title, x, y, tuple(series))


def compare_plot(comparison) -> Plot:
    """``compare``: a bar per mode (or pairing), its exact operations."""
    names = list(comparison.costs)
    costs = [comparison.costs[name] for name in names]
    values = [c.operations for c in costs]
    what = "total work" if hasattr(costs[0], "pairing") else "operations"
    y = make_axis(what, values, from_zero=True)
    x = Axis("", False, -0.5, len(names) - 0.5, tuple((float(k), n) for k, n in
                                                      enumerate(names)))
    styles = _series_style(names)
    series = tuple(Series(name, (float(k),), (value,), color, marker,
                          (not cost.ran and value is not None,))
                   for k, (name, value, cost, (color, marker))
                   in enumerate(zip(names, values, costs, styles)))
    title = f"{what.capitalize()} per {'pairing' if what == 'total work' else 'mode'}"
    if y.log:
        title += " (log scale)"
    return Plot(title, x, y, series, categories=tuple(names))


# -- -o FILE.svg | FILE.png ----------------------------------------------------------------

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".gif", ".pdf", ".eps", ".webp", ".bmp", ".tif",
                    ".tiff")  # pictures we do not draw: refused, not filled with text


def is_plot_path(path: str) -> bool:
    """``-o FILE`` names a plot (for compare and scale) when FILE ends in .svg or .png, or
    in another picture's suffix (refused by check_plot_path); else FILE takes the output."""
    return Path(path).suffix.lower() in SUFFIXES + PICTURE_SUFFIXES


def check_plot_path(path: str) -> Path:
    """Before any work: the -o file's suffix is .svg or .png, its place is writable, and
    PNG's matplotlib is installed; else an InputError (exit 2)."""
    from backprop.outfile import check_writable

    target = check_writable(path)  # a name, not a directory, in a writable place
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"-o {path}: a plot is written as .svg or .png, not "
                         f"{suffix or 'a file without a suffix'}",
                         hint="write -o growth.svg or -o growth.png")
    if suffix == ".png":
        from backprop.render.plot_png import require_matplotlib

        require_matplotlib()
    return target


def save_plot(plot: Plot, path: str) -> None:
    """Write ``plot`` to ``path`` in the format its suffix names (checked before)."""
    import sys

    from backprop.outfile import write

    if Path(path).suffix.lower() == ".png":
        from backprop.render.plot_png import png_bytes

        write(path, png_bytes(plot))
        return
    from backprop.render.plot_svg import svg_text

    digits = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # each point's exact count, however long
    try:
        text = svg_text(plot)
    finally:
        sys.set_int_max_str_digits(digits)
    write(path, text)


def check_plot_request(path: str | None, here: bool, output: str) -> None:
    """``-o FILE`` and ``--plot`` as a command got them, checked before any work."""
    if here and output != "text":
        raise InputError(f"--plot draws in the terminal view, not in {output.upper()}",
                         hint="write the plot to a file: -o plot.svg")
    if path is not None:
        check_plot_path(path)


def deliver_plot(result, make_plot, path: str | None, here: bool, view):
    """Write the plot of ``result`` to ``path`` now (before anything reaches standard
    output), and return the terminal view: ``view``, followed by the plot when ``here``."""
    if path is None and not here:
        return view
    drawn = make_plot(result)
    if path is not None:
        save_plot(drawn, path)
    if not here:
        return view

    def view_and_plot(shown, console) -> None:
        from backprop.render.plot_term import render_plot

        view(shown, console)
        console.print()
        render_plot(drawn, console)
    return view_and_plot
