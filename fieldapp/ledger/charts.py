"""Bar charts as plain geometry for the SVG templates (`templates/ledger/_charts.html`).

No JavaScript and no chart library: Python works out the rectangles, Jinja writes the SVG
(autoescaped), CSS sizes it to the screen. Each chart also goes out as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

# The viewBox is 320 units wide: on a 360 px phone one unit is about one pixel, so the
# 11-unit labels stay readable.
WIDTH = 320


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    show_label: bool


@dataclass(frozen=True)
class ColumnChart:
    """Vertical bars over time (weeks, hours of the day)."""

    columns: list[Column]
    height: int
    baseline: float
    peak: int
    width: int = WIDTH


@dataclass(frozen=True)
class Row:
    y: float
    width: float
    label: str
    value: int


@dataclass(frozen=True)
class RowChart:
    """Horizontal bars with their label and value written beside them (categories)."""

    rows: list[Row]
    height: int
    bar_x: int
    bar_height: int
    max_width: int
    width: int = WIDTH


def column_chart(points: list[tuple[str, int]], *, label_every: int = 1) -> ColumnChart:
    """Columns for `points` (label, value); every `label_every`-th label is written under it."""
    height, top, bottom = 170, 18, 22
    plot = height - top - bottom
    peak = max((value for _, value in points), default=0)
    step = WIDTH / max(len(points), 1)
    gap = min(2.0, step * 0.2)
    columns = []
    for i, (label, value) in enumerate(points):
        bar = plot * value / peak if peak else 0
        columns.append(
            Column(
                x=round(i * step + gap / 2, 2),
                y=round(top + plot - bar, 2),
                width=round(step - gap, 2),
                height=round(bar, 2),
                label=label,
                value=value,
                show_label=i % label_every == 0,
            )
        )
    return ColumnChart(columns, height, top + plot, peak)


def row_chart(points: list[tuple[str, int]]) -> RowChart:
    """One horizontal bar per category (label, value)."""
    bar_height, gap, bar_x, value_room = 20, 8, 96, 44
    max_width = WIDTH - bar_x - value_room
    peak = max((value for _, value in points), default=0)
    rows = [
        Row(
            y=i * (bar_height + gap),
            width=round(max_width * value / peak, 2) if peak else 0,
            label=label,
            value=value,
        )
        for i, (label, value) in enumerate(points)
    ]
    return RowChart(rows, len(rows) * (bar_height + gap), bar_x, bar_height, max_width)


def charts_for(figures) -> dict[str, ColumnChart | RowChart]:
    """The ledger's charts: per week and by venue and time limit; by hour and weekday only in
    the collector's ledger (the public one leaves them out)."""
    from fieldapp.ledger.services import time_limit_label

    charts: dict[str, ColumnChart | RowChart] = {
        "weeks": column_chart(
            [(f"{monday:%b} {monday.day}", count) for monday, count in figures.weeks],
            label_every=4,
        ),
        "venues": row_chart([(venue, drawn) for venue, drawn, _ in figures.by_venue]),
        "time_limits": row_chart(
            [(time_limit_label(limit), count) for limit, count in figures.by_time_limit]
        ),
    }
    if figures.by_hour:
        charts["hours"] = column_chart(
            [(str(hour), count) for hour, count in figures.by_hour], label_every=3
        )
    if figures.by_weekday:
        charts["weekdays"] = row_chart([(name[:3], count) for name, count in figures.by_weekday])
    return charts
