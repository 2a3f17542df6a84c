"""Static SVG of vega-lite charts (vl-convert, no CDN), rendered where its runtime is warm.

vl-convert starts a JavaScript runtime in each process on its first chart (0.4 s). A report's
kernel is new for every report, so when the report runner asks for it (`DEFER_ENV` in the
kernel's environment) the kernel leaves each chart as a placeholder holding its spec, and the
runner has them rendered once per chart (`ReportCharts`: as the kernel makes them, each handed
over through a pipe, while the kernel goes on) by its `Renderer`, a process of its own whose
runtime is started once for all its reports: vl-convert holds the GIL while it renders, which on
a thread of the runner would hold up its handling of the kernel's messages. Anywhere else (a
notebook opened by hand, the Apps) a chart is rendered where it is made.
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

DEFER_ENV = "CTLIB_DEFER_CHARTS"  # set: charts left as placeholders; a path: the runner's pipe
CHART_PIPE = ".charts.pipe"  # in the report's build folder (`ReportCharts.listen`)
PLACEHOLDER = re.compile(r"<!--ctlib-chart ([A-Za-z0-9+/=]*)-->")
SVG_ID = re.compile(r'(id="|url\(#)(gradient_|clip)(\d+)(?=[")])')  # vega's numbered ids
FIRST_ID = {"gradient_": 0, "clip": 1}  # as a new vega runtime numbers them


def chart_svg(spec: dict, vl_version: str) -> str:
    """The chart's SVG, or its placeholder when the report runner renders the charts."""
    deferred = os.environ.get(DEFER_ENV)
    if deferred:
        payload = base64.b64encode(
            json.dumps({"spec": spec, "vl_version": vl_version}).encode()
        ).decode()
        if os.path.isabs(deferred):
            _hand_over(deferred, payload)
        return f"<!--ctlib-chart {payload}-->"
    return render(spec, vl_version)


def _hand_over(pipe: str, payload: str) -> None:
    """The chart's payload to the runner's pipe, to be rendered while this kernel goes on; when
    the pipe is gone, the runner renders it as it fills the report."""
    try:
        writer = _pipe_writer(pipe)
        writer.write(payload.encode() + b"\n")
        writer.flush()
    except OSError:
        _pipe_writer.cache_clear()


@functools.cache
def _pipe_writer(pipe: str):
    return open(pipe, "wb")  # noqa: SIM115 (kept open for the kernel's every chart)


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
    """One report's charts, each rendered by the renderer as soon as it is taken, while the kernel
    goes on; `fill` puts them in place. A chart is taken as the kernel makes it, through the pipe
    `listen` opens, else from a cell's outputs as the cell ends (`take`).

    vega numbers the gradients and clip paths of an SVG on from the last ones its runtime drew;
    `fill` numbers them again from where a new runtime starts, as the report's own kernel
    would have drawn them."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctlib-charts")
        self._taken: dict[str, list[Future]] = {}
        self._pipe: tuple[str, int, threading.Thread] | None = None

    def __enter__(self) -> ReportCharts:
        return self

    def __exit__(self, *exc) -> None:
        self._stop_listening()
        self._pool.shutdown(cancel_futures=True)

    def listen(self, folder: str | os.PathLike) -> str | None:
        """A pipe in `folder` (removed by `fill`) on which each line, a chart's payload, is taken
        at once; its path (for the kernel's DEFER_ENV), or None where pipes cannot be made."""
        if not hasattr(os, "mkfifo"):
            return None
        path = os.path.join(folder, CHART_PIPE)
        os.mkfifo(path, 0o600)
        descriptor = os.open(path, os.O_RDWR)  # a writer too: no end of file between kernels
        reader = threading.Thread(
            target=self._read, args=(descriptor,), name="ctlib-chart-pipe", daemon=True
        )
        reader.start()
        self._pipe = (path, descriptor, reader)
        return path

    def _read(self, descriptor: int) -> None:
        with open(descriptor, "rb", closefd=False) as pipe:
            for line in pipe:
                if line == b"\n":  # _stop_listening's (after a line a killed kernel left unended)
                    return
                self._submit(line.strip().decode())

    def _stop_listening(self) -> None:
        """Every chart already on the pipe taken; the pipe closed and removed."""
        if self._pipe is None:
            return
        path, descriptor, reader = self._pipe
        self._pipe = None
        os.write(descriptor, b"\n\n")
        reader.join()
        os.close(descriptor)
        os.unlink(path)

    def take(self, text: str) -> None:
        """Start rendering each chart placeholder in `text` (once per time it occurs), unless
        the charts are taken from the pipe."""
        if self._pipe is None:
            for match in PLACEHOLDER.finditer(text):
                self._submit(match[1])

    def _submit(self, payload: str) -> None:
        self._taken.setdefault(payload, []).append(self._pool.submit(_rendered, payload))

    def fill(self, text: str, within_json: bool = False) -> str:
        """`text` (the whole report) with each placeholder replaced by its SVG, escaped as in a
        JSON string when `within_json` (the text of a notebook file); the pipe's charts are all
        taken first (its kernel has ended)."""
        self._stop_listening()
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
