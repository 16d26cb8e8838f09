"""Charts drawn by the server as inline SVG, each with the table of its numbers.

A chart is an image for sighted readers (`role="img"` with a title and a description)
and a table for everyone else: the same numbers, with a caption, header cells and
scopes, so a screen reader reads the figures rather than the drawing. Bars run from the
reading direction's start: right to left on Persian pages. Numbers are shown with the
page's digits.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

PERSIAN_DIGITS = str.maketrans("0123456789.%", "۰۱۲۳۴۵۶۷۸۹٫٪")
COLORS = ("#0b6e4f", "#c4761b", "#5b4fa0", "#a02c3f")
BAR = 22  # px per horizontal bar
GAP = 8


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]  # one per label
    percent: bool = False  # values are shares (0..1), shown as percents


def number(value: float, lang: str, percent: bool = False) -> str:
    """A count with thousands separators, or a share as a percent, in the page's digits."""
    if percent:
        text = f"{value * 100:.1f}%"
    else:
        text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return text.translate(PERSIAN_DIGITS).replace(",", "٬") if lang == "fa" else text


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def table(
    id_: str, caption: str, labels: Sequence[str], series: Sequence[Series], lang: str, head: str
) -> str:
    """The numbers of a chart as an accessible table."""
    header = "".join(f'<th scope="col">{_e(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{_e(label)}</th>'
        + "".join(f'<td class="num">{number(s.values[i], lang, s.percent)}</td>' for s in series)
        + "</tr>"
        for i, label in enumerate(labels)
    )
    return (
        f'<table id="{_e(id_)}-table" class="numbers"><caption>{_e(caption)}</caption>'
        f'<thead><tr><th scope="col">{_e(head)}</th>{header}</tr></thead><tbody>{rows}</tbody></table>'
    )


def bars(
    id_: str, title: str, labels: Sequence[str], series: Sequence[Series], lang: str, width: int = 560
) -> str:
    """Horizontal bars, one row per label and one bar per series, as inline SVG."""
    rtl = lang == "fa"
    label_w, value_w = 210, 80
    plot = width - label_w - value_w
    top = max((max(s.values, default=0) for s in series), default=0) or 1
    row_h = BAR * len(series) + GAP
    height = row_h * len(labels) + GAP + (18 if len(series) > 1 else 0)
    parts = [
        f'<svg id="{_e(id_)}" class="chart" role="img" aria-labelledby="{_e(id_)}-title {_e(id_)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" direction="{"rtl" if rtl else "ltr"}">',
        f'<title id="{_e(id_)}-title">{_e(title)}</title>',
        f'<desc id="{_e(id_)}-desc">{_e(_describe(labels, series, lang))}</desc>',
    ]
    for row, label in enumerate(labels):
        y = GAP + row * row_h
        label_x = width - 4 if rtl else 4
        anchor = "start"  # of the reading direction (the SVG's `direction`): leftwards on rtl
        parts.append(
            f'<text x="{label_x}" y="{y + row_h / 2:.0f}" text-anchor="{anchor}" '
            f'dominant-baseline="middle" class="label">{_e(_short(label))}</text>'
        )
        for n, s in enumerate(series):
            value = s.values[row]
            length = plot * (value / (1 if s.percent else top)) if value > 0 else 0
            length = min(length, plot)
            x = (width - label_w - length) if rtl else label_w
            by = y + n * BAR
            parts.append(
                f'<rect x="{x:.1f}" y="{by}" width="{max(length, 0.5):.1f}" height="{BAR - 4}" '
                f'fill="{COLORS[n % len(COLORS)]}" rx="2">'
                f"<title>{_e(label)}: {_e(number(value, lang, s.percent))}</title></rect>"
            )
            value_x = (x - 4) if rtl else (x + length + 4)
            parts.append(
                f'<text x="{value_x:.1f}" y="{by + (BAR - 4) / 2:.0f}" text-anchor="{anchor}" '
                f'dominant-baseline="middle" class="value">{_e(number(value, lang, s.percent))}</text>'
            )
    if len(series) > 1:
        legend_y = height - 6
        for n, s in enumerate(series):
            x = (width - 10 - n * 160) if rtl else (10 + n * 160)
            parts.append(
                f'<rect x="{x - (10 if rtl else 0)}" y="{legend_y - 10}" width="10" height="10" '
                f'fill="{COLORS[n % len(COLORS)]}"/>'
                f'<text x="{x - 14 if rtl else x + 14}" y="{legend_y}" '
                f'text-anchor="start" class="legend">{_e(s.name)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def columns(id_: str, title: str, labels: Sequence[str], series: Series, lang: str, width: int = 560) -> str:
    """Vertical bars over time (days, weeks, months), earliest at the reading start."""
    rtl = lang == "fa"
    height, bottom, top_pad = 220, 40, 16
    plot_h = height - bottom - top_pad
    top = max(series.values, default=0) or 1
    slot = width / max(len(labels), 1)
    parts = [
        f'<svg id="{_e(id_)}" class="chart" role="img" aria-labelledby="{_e(id_)}-title {_e(id_)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" direction="{"rtl" if rtl else "ltr"}">',
        f'<title id="{_e(id_)}-title">{_e(title)}</title>',
        f'<desc id="{_e(id_)}-desc">{_e(_describe(labels, [series], lang))}</desc>',
    ]
    every = max(1, len(labels) // 10)  # at most about ten labels on the axis
    for n, label in enumerate(labels):
        value = series.values[n]
        h = plot_h * value / top
        slot_x = (width - (n + 1) * slot) if rtl else n * slot
        x = slot_x + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(h, 0.5):.1f}" '
            f'fill="{COLORS[0]}"><title>{_e(label)}: {_e(number(value, lang))}</title></rect>'
        )
        if n % every == 0:
            parts.append(
                f'<text x="{slot_x + slot / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'class="axis">{_e(label)}</text>'
            )
    parts.append(
        f'<text x="{4 if not rtl else width - 4}" y="12" text-anchor="start" '
        f'class="axis">{_e(number(top, lang))}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, most: int = 26) -> str:
    """A label that fits the label column (the table and the tooltip have it whole)."""
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def _describe(labels: Sequence[str], series: Sequence[Series], lang: str) -> str:
    """A sentence of the values for the SVG's description (the table has them all)."""
    pairs = []
    for i, label in enumerate(labels[:12]):
        values = "، ".join(number(s.values[i], lang, s.percent) for s in series)
        pairs.append(f"{label}: {values}")
    more = "…" if len(labels) > 12 else ""
    return ("؛ " if lang == "fa" else "; ").join(pairs) + more
