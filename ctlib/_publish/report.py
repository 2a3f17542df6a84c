"""Run the quarterly report notebook with papermill and publish its artefacts atomically.

One report is built in a temporary folder next to its destination `OUT/<project>/<period>/`
(report.ipynb, report.html, indicators.csv, iptt.xlsx, manifest.json, optionally report.pdf) and
moved into place only when every step succeeded, so a failed run leaves the previous report as it
was. A batch runs every project of a folder, serially, in a bounded process pool, or on any
`concurrent.futures` executor (a Dask cluster's), and writes `OUT/index.html`. A report can be
given a time budget, and with `resume` one that would come out unchanged is not run again.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import jinja2
import nbformat
from tqdm import tqdm

from .. import __version__
from .._errors import CtlibError, ReportError
from .._resources import notebook
from .cluster import PRELOAD
from .environment import environment_facts
from .resume import unchanged_report

NOTEBOOK = notebook("quarterly_report")
KERNEL_NAME = "ctlib"
HIDDEN_TAG = "hide-in-report"
CELL_TIMEOUT_SECONDS = 600
EXTERNAL_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)

# nbconvert's lab template without its CDN scripts (require.js, MathJax, widgets, mermaid).
HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


@dataclass
class Outcome:
    """How one report run ended."""

    project: str
    period: str
    ok: bool
    directory: Path | None = None  # the published report, or the previous one kept after a failure
    error: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    is_unchanged: bool = False  # --resume: the published report would come out the same

    @property
    def status(self) -> str:
        return "unchanged" if self.is_unchanged else "ok" if self.ok else "FAILED"


def one_line(error: BaseException) -> str:
    """An error as one line: a CtlibError's summary and first problem, else 'Name: message'."""
    if isinstance(error, CtlibError):
        text = error.summary
        if error.problems:
            more = f" (+{len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
            text += f": {error.problems[0]}{more}"
        return text
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}".rstrip(": ")


def ensure_kernel() -> str:
    """The name of a kernelspec that runs this Python; installed into sys.prefix when missing."""
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def runs_this_python() -> bool:
        try:
            spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        except NoSuchKernel:
            return False
        return Path(spec.argv[0]).absolute() == Path(sys.executable).absolute()

    if not runs_this_python():
        install(kernel_name=KERNEL_NAME, display_name="Python (ctlib)", prefix=sys.prefix)
        if not runs_this_python():
            raise ReportError(
                f"the Jupyter kernel {KERNEL_NAME!r} runs another Python than {sys.executable}; remove it "
                f"(jupyter kernelspec remove {KERNEL_NAME}) or run `{sys.executable} -m ipykernel install "
                f"--sys-prefix --name {KERNEL_NAME}`"
            )
    return KERNEL_NAME


class Steps:
    """Durations of the named steps of a run, in seconds."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)


def _ipc_kernel_manager() -> type:
    """A kernel manager on local sockets (ipc): no TCP ports to race for, nothing on the network."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return IpcKernelManager


class Budget:
    """A report's time budget (`--timeout`): seconds left, and a ReportError once it is spent."""

    def __init__(self, seconds: float | None):
        self.total = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def cell_timeout(self, cell=None) -> int:
        """nbclient's timeout for the next cell: what is left of the budget, at most the usual."""
        left = self.left()
        return (
            CELL_TIMEOUT_SECONDS if left is None else max(1, min(CELL_TIMEOUT_SECONDS, int(left)))
        )

    def is_spent(self, margin: float = 0.0) -> bool:
        left = self.left()
        return left is not None and left <= margin

    def check(self) -> None:
        if self.is_spent():
            raise self.spent()

    def spent(self) -> ReportError:
        return ReportError(f"the report took longer than its {self.total:g} s (--timeout): stopped")


def execute_notebook(
    notebook: Path, output: Path, parameters: dict, cwd: Path, budget: Budget | None = None
) -> None:
    """Run the notebook with papermill on the ctlib kernel; a failing cell becomes a ReportError.

    A kernel that fails to start or dies (e.g. two starting at once) is retried once. With a
    budget, each cell gets what is left of it; a cell that runs out stops the kernel.
    """
    import papermill
    import zmq
    from papermill.exceptions import PapermillExecutionError

    budget = budget or Budget(None)

    kernel = ensure_kernel()
    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name=kernel,
                language="python",
                cwd=str(cwd),
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=CELL_TIMEOUT_SECONDS,
                timeout_func=budget.cell_timeout,
                kernel_manager_class=_ipc_kernel_manager(),
                shutdown_kernel="immediate",  # the outputs are in: no interrupt-and-wait at the end
            )
            return
        except PapermillExecutionError as error:
            evalue = (error.evalue or "").strip().splitlines()
            raise ReportError(
                f"a notebook cell failed: {error.ename}: {evalue[0] if evalue else ''}"
            ) from None
        except TimeoutError as error:  # nbclient's CellTimeoutError; the kernel is shut down
            if budget.is_spent(margin=1):  # the cell had what was left of the budget
                raise budget.spent() from None
            raise ReportError(f"a notebook cell ran out of time: {one_line(error)}") from None
        except (
            RuntimeError,
            zmq.ZMQError,
        ) as error:  # kernel start-up or death, not a cell's own error
            if attempt == 2:
                raise ReportError(
                    f"the notebook's kernel failed twice: {one_line(error)}"
                ) from error


def export_html(notebook: Path, target: Path) -> None:
    """Write the executed notebook as self-contained HTML: no code, no prompts, no stderr, no CDN,
    no cell tagged `hide-in-report` (guidance for people editing the notebook)."""
    from nbconvert import HTMLExporter

    book = nbformat.read(notebook, as_version=4)
    book.cells = [c for c in book.cells if HIDDEN_TAG not in c.metadata.get("tags", [])]
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"ctlib_report.html.j2": HTML_TEMPLATE})],
        template_file="ctlib_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(
        book, resources={"metadata": {"name": "Quarterly report"}}
    )
    external = EXTERNAL_REFERENCE.search(body)
    if external:
        start = max(external.start() - 60, 0)
        raise ReportError(
            f"report.html would load from another server: {body[start : external.end() + 60]!r}"
        )
    target.write_text(body, encoding="utf-8")


def chromium() -> str | None:
    """The path of a local Chromium, if one is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(html_file: Path, pdf_file: Path) -> str | None:
    """Print an HTML file to PDF with the local headless Chromium, offline; says why not when none."""
    browser = chromium()
    if browser is None:
        return "PDF not written: Chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_file}",
            html_file.absolute().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if not pdf_file.exists():
        raise ReportError(f"Chromium could not print the PDF: {done.stderr.strip()[-300:]}")
    return None


def publish(built: Path, destination: Path) -> None:
    """Move a finished report folder into place, replacing an existing one only now."""
    previous = None
    if destination.exists():
        previous = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.old-", dir=destination.parent)
        )
        os.replace(destination, previous / destination.name)
    try:
        os.replace(built, destination)
    except OSError:
        if previous is not None:
            os.replace(previous / destination.name, destination)
        raise
    finally:
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)


def run_report(
    project_dir: Path | str,
    period: str = "latest",
    out_dir: Path | str = "reports",
    audience: str = "donor",
    min_cell_size: int | None = None,
    pdf: bool = False,
    notebook: Path = NOTEBOOK,
    timeout: float | None = None,
    resume: bool = False,
) -> Outcome:
    """Build and publish the report of one project and period; raises a CtlibError on failure.

    `timeout`: seconds the whole report may take. `resume`: when the last published report was
    made from the same inputs, parameters and code, keep it instead of running again.
    """
    from .exports import write_indicators_csv, write_iptt_xlsx
    from .report_sections import input_hashes, prepare, xlsx_notes
    from .views import iptt

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    steps = Steps()
    budget = Budget(timeout)
    project_dir = Path(project_dir).absolute()
    if resume:
        kept = unchanged_outcome(
            project_dir, period, out_dir, audience, min_cell_size, pdf, notebook
        )
        if kept is not None:
            return kept
    with steps.step("load_and_compute"):
        prepared = prepare(project_dir, period, audience, min_cell_size)
    budget.check()
    destination = Path(out_dir).absolute() / project_dir.name / prepared.period
    destination.parent.mkdir(parents=True, exist_ok=True)
    built = destination.parent / f".{prepared.period}.building-{uuid.uuid4().hex[:12]}"
    built.mkdir()  # beside the destination (same file system), with the usual permissions
    parameters = {
        "project_dir": str(project_dir),
        "period": prepared.period,
        "audience": audience,
        "min_cell_size": min_cell_size,
    }
    notes = []

    def run_notebook():
        with steps.step("notebook"):
            execute_notebook(notebook, built / "report.ipynb", parameters, project_dir, budget)

    try:
        with ThreadPoolExecutor(
            max_workers=1
        ) as background:  # the kernel runs while the exports are written
            notebook_run = background.submit(run_notebook)
            with steps.step("exports"):
                write_indicators_csv(prepared.results.table, built / "indicators.csv")
                write_iptt_xlsx(
                    iptt(prepared.results, prepared.data.catalogue),
                    built / "iptt.xlsx",
                    xlsx_notes(prepared),
                    prepared.k,
                )
            notebook_run.result()
        budget.check()
        with steps.step("html"):
            export_html(built / "report.ipynb", built / "report.html")
        if pdf:
            with steps.step("pdf"):
                note = print_pdf(built / "report.html", built / "report.pdf")
            notes += [note] if note else []
        budget.check()
        manifest = {
            "project_id": prepared.project_id,
            "parameters": {**parameters, "period_requested": period},
            "ctlib_version": __version__,
            "catalogue_version": prepared.data.catalogue.version,
            "notebook": notebook.name,
            "environment": environment_facts(notebook),
            "inputs": input_hashes(prepared.data),
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - clock, 3),
            "step_seconds": steps.seconds,
        }
        (built / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        publish(built, destination)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    return Outcome(
        project_dir.name,
        prepared.period,
        True,
        destination,
        seconds=round(time.perf_counter() - clock, 1),
        notes=notes,
    )


def unchanged_outcome(
    project_dir: Path | str,
    period: str = "latest",
    out_dir: Path | str = "reports",
    audience: str = "donor",
    min_cell_size: int | None = None,
    pdf: bool = False,
    notebook: Path = NOTEBOOK,
) -> Outcome | None:
    """--resume: the last published report's Outcome when a run now would make it again, unchanged
    (same inputs, parameters and code); None when the report must run."""
    clock = time.perf_counter()
    project_dir = Path(project_dir).absolute()
    wanted = {"project_dir": str(project_dir), "audience": audience, "min_cell_size": min_cell_size}
    kept = unchanged_report(project_dir, period, Path(out_dir).absolute(), wanted, notebook, pdf)
    if kept is None:
        return None
    seconds = round(time.perf_counter() - clock, 1)
    return Outcome(project_dir.name, kept.name, True, kept, seconds=seconds, is_unchanged=True)


RESUME_OPTIONS = ("audience", "min_cell_size", "pdf", "notebook")


def _run_safely(project_dir: Path, period: str, out_dir: Path, options: dict) -> Outcome:
    """run_report for a batch: every failure becomes a failed Outcome instead of an exception."""
    clock = time.perf_counter()
    try:
        return run_report(project_dir, period, out_dir, **options)
    except Exception as error:  # one project's failure must not stop the batch
        previous = sorted((Path(out_dir) / project_dir.name).glob("*/report.html"))
        kept = (
            previous[-1].parent
            if period == "latest" and previous
            else Path(out_dir) / project_dir.name / period
        )
        return Outcome(
            project_dir.name,
            period,
            False,
            kept if (kept / "report.html").exists() else None,
            error=one_line(error),
            seconds=round(time.perf_counter() - clock, 1),
        )


def project_dirs(data_dir: Path | str) -> list[Path]:
    """The project folders (holding a project.yaml) directly under data_dir."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ReportError(f"no folder {data_dir}: give the folder that holds the project folders")
    found = sorted(p for p in data_dir.iterdir() if (p / "project.yaml").is_file())
    if not found:
        raise ReportError(f"no project folder (with a project.yaml) in {data_dir}")
    return found


def run_batch(
    data_dir: Path | str,
    period: str = "latest",
    out_dir: Path | str = "reports",
    jobs: int = 1,
    progress: bool = True,
    executor: Executor | None = None,
    **options,
) -> list[Outcome]:
    """Run the report of every project under data_dir, then write OUT/index.html.

    On `executor` when given (any concurrent.futures executor, e.g. a Dask cluster's
    `client.get_executor()`), else `jobs` at a time in local worker processes. `options` go to
    run_report (audience, min_cell_size, pdf, notebook, timeout, resume).
    """
    projects = project_dirs(data_dir)
    out_dir = Path(out_dir)
    outcomes = []
    bar = tqdm(
        total=len(projects), desc="reports", unit="project", disable=not progress, file=sys.stderr
    )
    bar.set_postfix(failed=0, refresh=False)

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        bar.update()
        bar.set_postfix(failed=sum(not o.ok for o in outcomes), refresh=False)

    if options.get("resume"):  # found here, so that no worker is asked to do nothing
        kept = {
            p: unchanged_outcome(p, period, out_dir, **_pick(options, RESUME_OPTIONS))
            for p in projects
        }
        for outcome in filter(None, kept.values()):
            done(outcome)
        projects = [p for p in projects if kept[p] is None]
        options = {**options, "resume": False}  # the others must run
    if executor is not None:
        _run_on(executor, projects, period, out_dir, options, done)
    elif jobs > 1 and projects:
        context = get_context("forkserver")  # workers forked from one process that imported ctlib
        context.set_forkserver_preload([PRELOAD])
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            _run_on(pool, projects, period, out_dir, options, done)
    else:
        for project_dir in projects:
            done(_run_safely(project_dir, period, out_dir, options))
    bar.close()
    outcomes.sort(key=lambda o: o.project)
    write_index(out_dir, outcomes)
    return outcomes


def _pick(options: dict, names: tuple[str, ...]) -> dict:
    return {name: options[name] for name in names if name in options}


def _run_on(executor: Executor, projects, period, out_dir, options, done) -> None:
    """Submit every report to the executor; a report whose worker failed (a crashed process, a
    lost cluster worker) becomes a failed Outcome, and the others go on."""
    futures = {executor.submit(_run_safely, p, period, out_dir, options): p for p in projects}
    for future in as_completed(futures):
        try:
            outcome = future.result()
        except Exception as error:  # the worker, not the report, failed
            outcome = Outcome(futures[future].name, period, False, error=one_line(error))
        done(outcome)


def summary_table(outcomes: list[Outcome]) -> str:
    """A plain-text table of a batch: project, period, status, seconds, error."""
    rows = [("project", "period", "status", "seconds", "error")]
    rows += [(o.project, o.period, o.status, f"{o.seconds:.1f}", o.error) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        (
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]
        ).rstrip()
        for row in rows
    )


INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .6rem; }
tr { border-bottom: 1px solid #ddd; } .ok { color: #006b4f; } .failed { color: #a33c00; font-weight: bold; }
"""


def write_index(out_dir: Path, outcomes: list[Outcome]) -> Path:
    """OUT/index.html: every report of the batch with its status and links (self-contained)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for o in outcomes:
        links = ""
        if o.directory is not None:
            relative = Path(os.path.relpath(o.directory, out_dir.absolute())).as_posix()
            names = [
                n
                for n in ("report.html", "iptt.xlsx", "indicators.csv", "report.pdf")
                if (o.directory / n).exists()
            ]
            links = " · ".join(f'<a href="{html.escape(relative)}/{n}">{n}</a>' for n in names)
            if not o.ok:
                links = f"previous report kept: {links}"
        status = o.status if o.ok else f"failed: {html.escape(o.error)}"
        rows.append(
            f"<tr><td>{html.escape(o.project)}</td><td>{html.escape(o.period)}</td>"
            f'<td class="{"ok" if o.ok else "failed"}">{status}</td><td>{links}</td></tr>'
        )
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Quarterly reports</title>'
        f"<style>{INDEX_STYLE}</style></head><body><h1>Quarterly reports</h1>"
        f"<p>{sum(o.ok for o in outcomes)} of {len(outcomes)} reports written; generated {generated}.</p>"
        "<table><thead><tr><th>Project</th><th>Period</th><th>Status</th><th>Files</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
