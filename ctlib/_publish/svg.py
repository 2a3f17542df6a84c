"""Static SVG of vega-lite charts (vl-convert, no CDN), rendered where its runtime is warm.

vl-convert starts a JavaScript runtime in each process on its first chart (0.4 s). A report's
kernel is new for every report, so when the report runner asks for it (`DEFER_ENV` in the
kernel's environment) the kernel leaves each chart as a placeholder holding its spec, and the
runner has them rendered once per chart (`ReportCharts`: as the kernel's cells leave them, while
the kernel goes on) by its `Renderer`, a process of its own whose runtime is started once for all
its reports: vl-convert holds the GIL while it renders, which on a thread of the runner would
hold up its handling of the kernel's messages. Anywhere else (a notebook opened by hand, the
Apps) a chart is rendered where it is made.
"""

from __future__ import annotations

import atexit
import base64
import functools
import html
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

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
    """The chart as a static SVG, with role="img", aria-label and <title> (its description);
    a spec that asks for data from any URL or file is refused (charts carry their data inline)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=vl_version, allowed_base_urls=[])  # offline
    description = html.escape(spec.get("description", ""), quote=True)
    return re.sub(r"^<svg ", f'<svg role="img" aria-label="{description}" ', svg, count=1).replace(
        ">", f"><title>{description}</title>", 1
    )


class Renderer:
    """A process rendering charts one at a time (`python -m ctlib._publish.svg`): a placeholder's
    payload a line in, a JSON line out (its SVG or the error's message). It exits when its input
    closes: closed (at exit, waited for, so that its CPU time counts for this process) or when
    this process dies."""

    def __init__(self):
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._lock = threading.Lock()

    def render(self, payload: str) -> str:
        """The chart's SVG; OSError when the renderer is gone."""
        with self._lock:
            self._process.stdin.write(payload.encode() + b"\n")
            self._process.stdin.flush()
            reply = self._process.stdout.readline()
        if not reply:
            raise OSError("the chart renderer exited")
        answer = json.loads(reply)
        if "error" in answer:
            raise ValueError(answer["error"])
        return answer["svg"]

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


@functools.cache
def _renderer() -> Renderer:
    """This process's renderer, started on first use."""
    renderer = Renderer()
    atexit.register(renderer.close)
    return renderer


def _rendered(payload: str) -> str:
    """A placeholder's SVG from the renderer; rendered here when it is gone (a new one next)."""
    try:
        return _renderer().render(payload)
    except OSError:
        _renderer.cache_clear()
        return _render(payload)


class ReportCharts:
    """One report's charts, each rendered by the renderer as soon as a kernel's cell leaves its
    placeholder (`take`), while the kernel goes on; `fill` puts them in place.

    vega numbers the gradients and clip paths of an SVG on from the last ones its runtime drew;
    `fill` numbers them again from where a new runtime starts, as the report's own kernel
    would have drawn them."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctlib-charts")
        self._taken: dict[str, list[Future]] = {}

    def __enter__(self) -> ReportCharts:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(cancel_futures=True)

    def take(self, text: str) -> None:
        """Start rendering each chart placeholder in `text` (once per time it occurs)."""
        for match in PLACEHOLDER.finditer(text):
            self._taken.setdefault(match[1], []).append(self._pool.submit(_rendered, match[1]))

    def fill(self, text: str, within_json: bool = False) -> str:
        """`text` (the whole report) with each placeholder replaced by its SVG, escaped as in a
        JSON string when `within_json` (the text of a notebook file)."""
        numbers: dict[str, int] = {}
        renumbered: dict[str, str] = {}

        def number(match: re.Match) -> str:
            kind, old = match[2], match[2] + match[3]
            if old not in renumbered:
                renumbered[old] = f"{kind}{numbers.get(kind, FIRST_ID[kind])}"
                numbers[kind] = numbers.get(kind, FIRST_ID[kind]) + 1
            return match[1] + renumbered[old]

        def rendered(match: re.Match) -> str:
            taken = self._taken.get(match[1])
            svg = SVG_ID.sub(number, taken.pop(0).result() if taken else _rendered(match[1]))
            return json.dumps(svg, ensure_ascii=False)[1:-1] if within_json else svg

        return PLACEHOLDER.sub(rendered, text)


def _render(payload: str) -> str:
    chart = json.loads(base64.b64decode(payload))
    return render(chart["spec"], chart["vl_version"])


def render_placeholders(text: str, within_json: bool = False) -> str:
    """`text` (one report) with its charts rendered in place (`ReportCharts.fill`)."""
    with ReportCharts() as charts:
        return charts.fill(text, within_json)


def _serve() -> None:
    """The renderer's loop (`Renderer`); what the libraries print goes to stderr."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for line in sys.stdin:
        try:
            answer = {"svg": _render(line.strip())}
        except Exception as error:  # the runner raises it
            answer = {"error": str(error)}
        replies.write(json.dumps(answer) + "\n")
        replies.flush()


if __name__ == "__main__":
    _serve()
