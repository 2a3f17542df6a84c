"""Static SVG of vega-lite charts (vl-convert, no CDN), rendered where its runtime is warm.

vl-convert starts a JavaScript runtime in each process on its first chart (0.4 s). A report's
kernel is new for every report, so when the report runner asks for it (`DEFER_ENV` in the
kernel's environment) the kernel leaves each chart as a placeholder holding its spec, and the
runner renders them in its own process, once per chart, its runtime started once for all its
reports (`render_placeholders`). Anywhere else (a notebook opened by hand, the Apps) a chart is
rendered where it is made.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re

DEFER_ENV = "CTLIB_DEFER_CHARTS"
PLACEHOLDER = re.compile(r"<!--ctlib-chart ([A-Za-z0-9+/=]*)-->")
SVG_ID = re.compile(r'(id="|url\(#)(gradient_|clip)(\d+)(?=[")])')  # vega's numbered ids
FIRST_ID = {"gradient_": 0, "clip": 1}  # as a new vega runtime numbers them


def chart_svg(spec: dict, vl_version: str) -> str:
    """The chart's SVG, or its placeholder when the report runner renders the charts."""
    if os.environ.get(DEFER_ENV):
        payload = json.dumps({"spec": spec, "vl_version": vl_version})
        return f"<!--ctlib-chart {base64.b64encode(payload.encode()).decode()}-->"
    return render(spec, vl_version)


def render(spec: dict, vl_version: str) -> str:
    """The chart as a static SVG, with role="img", aria-label and <title> (its description)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=vl_version)
    description = html.escape(spec.get("description", ""), quote=True)
    return re.sub(r"^<svg ", f'<svg role="img" aria-label="{description}" ', svg, count=1).replace(
        ">", f"><title>{description}</title>", 1
    )


def render_placeholders(text: str, within_json: bool = False) -> str:
    """`text` (one report) with each chart placeholder replaced by its SVG, escaped as in a JSON
    string when `within_json` (the text of a notebook file).

    vega numbers the gradients and clip paths of an SVG on from the last ones its runtime drew;
    they are numbered again per report, from where a new runtime starts, as a report's own
    kernel drew them."""
    numbers: dict[str, int] = {}
    renumbered: dict[str, str] = {}

    def number(match: re.Match) -> str:
        kind, old = match[2], match[2] + match[3]
        if old not in renumbered:
            renumbered[old] = f"{kind}{numbers.get(kind, FIRST_ID[kind])}"
            numbers[kind] = numbers.get(kind, FIRST_ID[kind]) + 1
        return match[1] + renumbered[old]

    def rendered(match: re.Match) -> str:
        chart = json.loads(base64.b64decode(match[1]))
        svg = SVG_ID.sub(number, render(chart["spec"], chart["vl_version"]))
        return json.dumps(svg, ensure_ascii=False)[1:-1] if within_json else svg

    return PLACEHOLDER.sub(rendered, text)
