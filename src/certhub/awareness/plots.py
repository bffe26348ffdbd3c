"""Plots of the dashboards' tables as SVG, drawn on the server with matplotlib, so they
work offline, without JavaScript and inside PDF reports.

Each plot is its own ``matplotlib.figure.Figure`` with the SVG canvas: no pyplot, no
global figure state shared between the threads of a web process. Colours come from Paul
Tol's "bright" and "muted" qualitative schemes, designed to stay distinguishable with
colour-vision deficiencies; lines also differ by marker. Every plot has a title and its
axis says the unit. Text stays text in the SVG (readable by screen readers and by
``pdftotext`` in a report).
"""

from __future__ import annotations

import functools
import io
from typing import Any

from django.utils.translation import gettext as _

from certhub.awareness.selectors import Table


@functools.cache
def _matplotlib() -> Any:
    """matplotlib, set up on the first plot drawn rather than when the URLs load: a
    second of import that the worker, the CLI and every page without a plot never pay.
    Keep SVG text as text and make the output reproducible (stable element ids, no
    date), so the same numbers give the same bytes."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("svg")  # no GUI backend in a server, whatever the environment says
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "certhub"
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    return matplotlib


# Paul Tol's bright scheme, then muted, for up to 16 series.
PALETTE = (
    "#4477AA",
    "#EE6677",
    "#228833",
    "#CCBB44",
    "#66CCEE",
    "#AA3377",
    "#BBBBBB",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
MAX_SERIES = 8
MAX_BARS = 15


def _series(table: Table) -> tuple[list[str], list[tuple[str, list[float]]]]:
    """The x labels and (name, values) series of a table whose first column is the x,
    the biggest series first, the rest added up as "other"."""
    labels = [str(row[0]) for row in table.rows]
    names = table.columns[1:]
    series = [
        (str(name), [float(row[i + 1] or 0) for row in table.rows]) for i, name in enumerate(names)
    ]
    if len(series) > MAX_SERIES:
        kept, rest = series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :]
        other = [sum(values) for values in zip(*(s[1] for s in rest), strict=True)]
        series = [*kept, (_("other"), other)]
    return labels, series


def _short_dates(labels: list[str]) -> list[str]:
    return [label[5:] if len(label) == 10 and label[4] == "-" else label for label in labels]


def render_svg(table: Table, *, width: float = 7.5, height: float | None = None) -> bytes:
    """The table's plot as SVG bytes (an empty-state plot when it has no rows). Bar
    charts grow with their number of bars; charts over time are 3.6 inches high."""
    if height is None:
        bars = min(len(table.rows), MAX_BARS)
        height = 3.6 if table.chart != "bar" or not bars else max(1.8, 1.2 + 0.3 * bars)
    _matplotlib()
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=96)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    axes.set_title(table.title, fontsize=12, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y" if table.chart != "bar" else "x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    if not table.rows:
        axes.text(
            0.5, 0.5, _("No data for this period."), ha="center", va="center", color="#555555"
        )
        axes.set_xticks([])
        axes.set_yticks([])
    elif table.chart == "bar":
        _bars(axes, table)
    else:
        _over_time(axes, table)
    _margins(figure, table, width, height)
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Title": table.title})
    return out.getvalue()


def _margins(figure: Any, table: Table, width: float, height: float) -> None:
    """Fixed margins from the labels' lengths: matplotlib's layout engines measure every
    text several times, which costs more than drawing the plot."""
    bottom, top = 0.55 / height, 1 - 0.4 / height
    if table.chart == "bar" and table.rows:
        longest = max(len(str(row[0])[:40]) for row in table.rows[:MAX_BARS])
        left = min(0.45, (0.25 + 0.065 * longest) / width)
        figure.subplots_adjust(left=left, right=0.95, bottom=bottom, top=top)
    else:
        legend = table.chart != "bar" and len(table.columns) > 2
        longest = max((len(str(c)) for c in table.columns[1 : MAX_SERIES + 1]), default=0)
        right = 1 - min(0.4, (0.5 + 0.06 * longest) / width) if legend else 0.97
        figure.subplots_adjust(left=0.8 / width, right=right, bottom=bottom, top=top)


def _bars(axes: Any, table: Table) -> None:
    """Horizontal bars: the labels (sectors, teams, categories) stay readable."""
    rows = table.rows[:MAX_BARS]
    value_index = 6 if table.name == "team_health" else 3 if table.name == "acknowledgements" else 1
    labels = [str(row[0])[:40] for row in rows][::-1]
    values = [float(row[value_index] or 0) for row in rows][::-1]
    bars = axes.barh(labels, values, color=PALETTE[0])
    axes.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=8)
    axes.set_xlabel(table.unit)
    axes.tick_params(axis="y", labelsize=8)
    if value_index != 1:
        axes.set_xlim(0, 105)
    else:
        axes.xaxis.set_major_locator(_matplotlib().ticker.MaxNLocator(integer=True))


def _over_time(axes: Any, table: Table) -> None:
    labels, series = _series(table)
    positions = list(range(len(labels)))
    if table.chart == "stacked":
        bottom = [0.0] * len(labels)
        for i, (name, values) in enumerate(series):
            axes.bar(positions, values, bottom=bottom, label=name, color=PALETTE[i % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    else:
        for i, (name, values) in enumerate(series):
            axes.plot(
                positions,
                values,
                label=name,
                color=PALETTE[i % len(PALETTE)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=3,
                linewidth=1.5,
            )
    step = max(1, len(labels) // 10)
    axes.set_xticks(positions[::step], _short_dates(labels)[::step], fontsize=8)
    axes.set_xlabel(str(table.columns[0]))
    axes.set_ylabel(table.unit)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(_matplotlib().ticker.MaxNLocator(integer=True))
    if len(series) > 1:
        axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
