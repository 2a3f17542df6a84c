"""Run the quarterly report notebook with papermill and publish its artefacts atomically.

One report is built in a temporary folder next to its destination `OUT/<project>/<period>/`
(report.ipynb, report.html, indicators.csv, iptt.xlsx, manifest.json, optionally report.pdf) and
moved into place only when every step succeeded, so a failed run leaves the previous report as it
was. A donor report is a release: once every file is built, the release the notebook worked out
is recorded in the project's ledger (`releases.commit`), then the folder is published; when
publishing fails, the release is withdrawn again. A failed report records nothing, and nothing is
published that the ledger does not know. A batch runs every project of a folder, serially, on
spawned workers that die with it, or on any `concurrent.futures` executor (a Dask cluster's), and
writes `OUT/index.html`. A report can be
given a time budget, and with `resume` one that would come out unchanged is not run again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import nbformat
from tqdm import tqdm

from .. import __version__
from .._errors import CtlibError, Problem, ReportError
from .._resources import notebook
from .cluster import PRELOAD
from .environment import environment_facts
from .kernels import ForkingProvisioner, Zygote, batch_zygote, use, zygote
from .layout import ERROR_FILE, RESULTS_FILE, file_names, report_folder
from .resume import unchanged_report
from .svg import DEFER_ENV, ReportCharts

if TYPE_CHECKING:
    from .._data.project_model import Project

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
class ReportRun:
    """How one report run ended."""

    project: str
    period: str
    ok: bool
    directory: Path | None = None  # the published report, or the previous one kept after a failure
    error: str = ""  # one line, for the person running the batch
    public_error: str = ""  # the same in words a donor may read (no value, date, id or path)
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
    from jupyter_client.kernelspec import NoSuchKernel

    def runs_this_python() -> bool:
        try:
            command = kernel_command()
        except NoSuchKernel:
            return False
        return Path(command[0]).absolute() == Path(sys.executable).absolute()

    if not runs_this_python():
        install(kernel_name=KERNEL_NAME, display_name="Python (ctlib)", prefix=sys.prefix)
        if not runs_this_python():
            raise ReportError(
                f"the Jupyter kernel {KERNEL_NAME!r} runs another Python than {sys.executable}; "
                f"remove it (jupyter kernelspec remove {KERNEL_NAME}) or run "
                f"`{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL_NAME}`"
            )
    return KERNEL_NAME


def kernel_command() -> list[str]:
    """The command line of the ctlib kernelspec (`{connection_file}` left in)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv


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


def _ipc_kernel_manager(env: dict[str, str] | None = None, zygote: Zygote | None = None) -> type:
    """A kernel manager on local sockets (ipc): no TCP ports to race for, nothing on the network;
    its kernel gets `env` on top of this process's environment (kept out of the notebook) and is
    forked by `zygote` when one is given (`kernels`)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = {**kw.get("env", os.environ), **(env or {})}
            if self.provisioner is None:
                self.kernel_id = self.kernel_id or str(uuid.uuid4())
                self.provisioner = ForkingProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
                self.provisioner.zygote = zygote
            return await super()._async_pre_start_kernel(**kw)

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
    notebook: Path,
    output: Path,
    parameters: dict,
    cwd: Path,
    budget: Budget | None = None,
    env: dict[str, str] | None = None,
    zygote: Zygote | None = None,
    after_cell: Callable[[dict], None] | None = None,
) -> None:
    """Run the notebook with papermill on the ctlib kernel; a failing cell becomes a ReportError.

    A kernel that fails to start or dies (e.g. two starting at once) is retried once. With a
    budget, each cell gets what is left of it; a cell that runs out stops the kernel. `env`: what
    the kernel's environment adds (e.g. the ledger's URL, never written in the notebook).
    `zygote`: forks the kernel, its imports done (else a new process starts). `after_cell`: called
    with each cell as it ends (the kernel waits for it before its next cell).
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
                kernel_manager_class=_ipc_kernel_manager(env, zygote),
                shutdown_kernel="immediate",  # the outputs are in: no interrupt-and-wait at the end
                on_cell_executed=None if after_cell is None else lambda cell, **_: after_cell(cell),
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


def kernels() -> Zygote | None:
    """The zygote forking this process's report kernels (see `kernels`)."""
    ensure_kernel()
    return zygote(kernel_command())


def _taking(charts: ReportCharts, release: EarlyRelease) -> Callable[[dict], None]:
    """After a cell: its outputs' chart placeholders to `charts`; the release recorded as soon as
    the notebook has written it."""

    def taken(cell: dict) -> None:
        for output in cell.get("outputs", []):
            for value in output.get("data", {}).values():
                if isinstance(value, str):
                    charts.take(value)
        release.start()

    return taken


def render_charts(notebook: Path, charts: ReportCharts) -> None:
    """Put the charts the kernel left as placeholders in the executed notebook (`svg`)."""
    text = notebook.read_text(encoding="utf-8")
    notebook.write_text(charts.fill(text, within_json=True), encoding="utf-8")


FOCUSABLE = re.compile(
    r'(<div class="[^"]*\bjp-(?:OutputArea-output|Cell-inputWrapper)\b[^"]*"[^>]*)>'
)
WITHOUT_ALT = re.compile(r"(<img\b(?![^>]*\balt=)[^>]*?)(/?>)")
NO_ALT_TEXT = "No description has been provided for this image"


def _report_exporter() -> type:
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the page (0.3 s a report,
    most of it the charts' SVG), which marks the outputs focusable (tabindex) and images without
    alt text, then writes the whole page again; here the template's page is marked as it is
    written (`focusable`)."""
    from nbconvert import HTMLExporter, TemplateExporter

    class TemplatePage(TemplateExporter):
        """Next after HTMLExporter: keeps the template's page, gives its soup an empty one."""

        def from_notebook_node(self, nb, resources=None, **kw):
            self.page, resources = super().from_notebook_node(nb, resources, **kw)
            return "", resources

    class ReportExporter(HTMLExporter, TemplatePage):
        def from_notebook_node(self, nb, resources=None, **kw):
            _, resources = super().from_notebook_node(nb, resources, **kw)
            return focusable(self.page), resources

    return ReportExporter


_EXPORTING = threading.Lock()  # one exporter a process: its templates are compiled once


@functools.cache
def _html_exporter():
    return _report_exporter()(
        extra_loaders=[jinja2.DictLoader({"ctlib_report.html.j2": HTML_TEMPLATE})],
        template_file="ctlib_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def focusable(page: str) -> str:
    """What nbconvert's HTMLExporter adds to the template's page: tabindex="0" on each output
    (and input), an alt text on each image without one."""
    page = FOCUSABLE.sub(r'\1 tabindex="0">', page)
    return WITHOUT_ALT.sub(rf'\1 alt="{NO_ALT_TEXT}"\2', page)


def export_html(notebook: Path, target: Path) -> None:
    """Write the executed notebook as self-contained HTML: no code, no prompts, no stderr, no CDN,
    no cell tagged `hide-in-report` (guidance for people editing the notebook)."""
    book = nbformat.read(notebook, as_version=4)
    book.cells = [c for c in book.cells if HIDDEN_TAG not in c.metadata.get("tags", [])]
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    with _EXPORTING:
        body, _ = _html_exporter().from_notebook_node(
            book, resources={"metadata": {"name": "Quarterly report"}}
        )
    external = EXTERNAL_REFERENCE.search(html.unescape(body))  # attributes as a browser reads them
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
    """Print an HTML file to PDF with the local headless Chromium, offline;
    says why not when none."""
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


def usable_out_dir(out_dir: Path | str) -> Path:
    """The output folder, created when missing; a one-line ReportError when it cannot be used."""
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"--out {out_dir} is a file: give a folder for the reports")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".ctlib-probe-")
        probe.close()
    except OSError as error:
        raise ReportError(
            f"--out {out_dir}: cannot write reports there ({error.strerror or error})"
        ) from None
    return out_dir


def remove_stale_builds(folder: Path) -> None:
    """Build folders left by runs that were killed (their process is gone) are removed."""
    for built in folder.glob(".*building*"):
        match = re.search(r"building-(\d+)-", built.name)
        if not match or not _is_running(int(match[1])):
            shutil.rmtree(built, ignore_errors=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != 0


def check_request(
    project_dir: Path,
    period: str,
    audience: str = "donor",
    min_cell_size: int | None = None,
    approved_by: str | None = None,
) -> Project:
    """What can be refused before a kernel starts: no project.yaml, a malformed or foreign period,
    a donor report with a minimum cell size below 3, an approval of an internal report. Returns
    the project (project.yaml as the run found it)."""
    from .._compute.periods import ReportingCalendar
    from .._compute.privacy import MIN_DONOR_K
    from .._data.project import load_project

    if not (project_dir / "project.yaml").is_file():
        raise ReportError(f"no project.yaml in {project_dir}: give the folder of a project")
    if approved_by and audience != "donor":
        raise ReportError("only a donor report can be approved (--approve): not an internal one")
    project = load_project(project_dir)
    k = min_cell_size or project.privacy.min_cell_size
    if audience == "donor" and k < MIN_DONOR_K:
        where = "--min-cell-size" if min_cell_size else "privacy.min_cell_size in project.yaml"
        raise ReportError(
            f"a donor report needs a minimum cell size of at least {MIN_DONOR_K}, not {k} "
            f"({where}): counts of 1 and 2 people are never shown to donors (5 is usual; CTDC "
            "uses 11)"
        )
    if period != "latest":
        ReportingCalendar(project).parse(period)
    return project


def _notebook_error(built: Path, error: ReportError) -> CtlibError:
    """The project's own error when the notebook wrote one (error.json), else the cell's."""
    path = built / ERROR_FILE
    if not path.is_file():
        return error
    written = json.loads(path.read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(Problem)}
    problems = [Problem(**{k: v for k, v in p.items() if k in fields}) for p in written["problems"]]
    return ReportError(written["summary"], problems)


def published_notebook(path: Path, project_dir: Path, built: Path, period: str) -> None:
    """The executed notebook as it is published: no server path (the project folder reads as its
    name, the build folder as "."), and the resolved period in its parameters, so that running it
    again gives the same report."""
    text = path.read_text(encoding="utf-8")
    text = text.replace(json.dumps(str(built))[1:-1], ".").replace(
        json.dumps(str(project_dir))[1:-1], project_dir.name
    )
    book = nbformat.reads(text, as_version=4)
    for cell in book.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(
                r'^period = "latest"$', f"period = {json.dumps(period)}", cell.source, flags=re.M
            )
            cell.source = re.sub(r'^out_dir = ".*"$', 'out_dir = ""', cell.source, flags=re.M)
    papermill_facts = book.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if papermill_facts.get(key):
            papermill_facts[key] = Path(papermill_facts[key]).name
    parameters = papermill_facts.get("parameters", {})
    parameters.update({k: v for k, v in (("period", period), ("out_dir", "")) if k in parameters})
    nbformat.write(book, path)


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
    approved_by: str | None = None,
    ledger: str | None = None,
) -> ReportRun:
    """Build and publish the report of one project and period; raises a CtlibError on failure.

    The notebook's kernel computes the report once and writes its files from the same results
    (`report_sections.open_report`); this process checks the request, runs the notebook in a
    build folder, exports the HTML, records a donor report's release in the ledger (approved by
    `approved_by` when given; `ledger`: its URL, else the project's), writes the manifest and
    publishes the folder atomically to OUT/<project>/<period>/ (OUT/<project>/<period>-internal/
    for the internal audience, which records nothing). `timeout`: seconds the whole report may
    take. `resume`: when the last published report was made from the same inputs, parameters,
    code and releases, keep it instead of running again.
    """
    from .._data.ledger import LEDGER_ENV

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    steps = Steps()
    budget = Budget(timeout)
    project_dir = Path(project_dir).absolute()
    project = check_request(project_dir, period, audience, min_cell_size, approved_by)
    if resume and not approved_by:  # an approval is news: it is recorded with a new release
        kept = unchanged_run(
            project_dir, period, out_dir, audience, min_cell_size, pdf, notebook, ledger
        )
        if kept is not None:
            return kept
    project_out = usable_out_dir(out_dir) / project_dir.name
    project_out.mkdir(exist_ok=True)
    remove_stale_builds(project_out)
    built = project_out / f".building-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    built.mkdir()  # beside the destination (same file system), with the usual permissions
    parameters = {
        "project_dir": str(project_dir),
        "period": period,
        "audience": audience,
        "min_cell_size": min_cell_size or 0,
        "out_dir": str(built),
        "approved_by": approved_by or "",
    }
    names, notes = file_names(audience), []
    release = EarlyRelease(project_dir, project, built, audience, ledger)
    try:
        with steps.step("notebook"), ReportCharts() as charts:
            env = {  # the charts are rendered here, each handed over as the kernel makes it
                DEFER_ENV: charts.listen(built) or "1",
                **({LEDGER_ENV: ledger} if ledger else {}),
            }
            try:
                execute_notebook(
                    notebook,
                    built / "report.ipynb",
                    parameters,
                    project_dir,
                    budget,
                    env,
                    kernels(),
                    _taking(charts, release),
                )
            except ReportError as error:
                raise _notebook_error(built, error) from None
            render_charts(built / "report.ipynb", charts)
        budget.check()
        facts = json.loads((built / RESULTS_FILE).read_text(encoding="utf-8"))
        (built / RESULTS_FILE).unlink()
        resolved = facts.pop("period")
        notes += facts.pop("notes", [])
        with steps.step("html"):
            export_html(built / "report.ipynb", built / names["report"])
        if pdf:
            with steps.step("pdf"):
                note = print_pdf(built / names["report"], built / names["report_pdf"])
            notes += [note] if note else []
        budget.check()
        published_notebook(built / "report.ipynb", project_dir, built, resolved)
        manifest = {
            "project_id": facts.pop("project_id"),
            "parameters": {
                "project": project_dir.name,
                "period": resolved,
                "audience": audience,
                "min_cell_size": min_cell_size,
                "period_requested": period,
            },
            "ctlib_version": __version__,
            **facts,
            "notebook": notebook.name,
            "environment": environment_facts(notebook),
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - clock, 3),
            "step_seconds": steps.seconds,
        }
        destination = project_out / report_folder(resolved, audience)
        recorded = release.recorded()
        if recorded is not None:
            manifest["release"] = recorded
        (built / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        publish(built, destination)
    except BaseException as error:
        release.withdraw(error)
        raise
    finally:
        shutil.rmtree(built, ignore_errors=True)
        if not any(project_out.iterdir()):
            project_out.rmdir()  # nothing was ever published for this project here
    return ReportRun(
        project_dir.name,
        resolved,
        True,
        destination,
        seconds=round(time.perf_counter() - clock, 1),
        notes=notes,
    )


class EarlyRelease:
    """A donor report's release (the notebook's release.json), recorded on a thread as soon as
    the notebook has written it (`start`, after each cell), while its kernel draws the sections;
    withdrawn when the report is not published. An internal report has none."""

    def __init__(
        self, project_dir: Path, project: Project, built: Path, audience: str, ledger: str | None
    ):
        from .releases import RELEASE_FILE

        self._project_dir, self._project, self._ledger = project_dir, project, ledger
        self._path = built / RELEASE_FILE if audience == "donor" else None
        self._recording: Future | None = None

    def start(self) -> None:
        """Record the release on a thread, once it is written and not yet started."""
        if self._path and self._recording is None and self._path.is_file():
            recorder = ThreadPoolExecutor(1, "ctlib-release")
            self._recording = recorder.submit(self._record)
            recorder.shutdown(wait=False)  # its thread ends with the recording

    def _record(self) -> dict:
        from .releases import commit

        release_id, state = commit(self._project_dir, self._path, self._ledger, self._project)
        self._path.unlink()
        return {"release_id": release_id, "ledger_state": state}

    def recorded(self) -> dict | None:
        """{release_id, ledger_state} for the manifest (waited for; the LedgerError when it could
        not be recorded); None for an internal report."""
        if self._path is None:
            return None
        self.start()
        if self._recording is None:
            raise ReportError("the notebook wrote no release.json: run ctlib.open_report first")
        return self._recording.result()

    def withdraw(self, error: BaseException) -> None:
        """Remove the release when it was recorded (the report failed with `error`); if that
        fails too, say so."""
        if self._recording is None or self._recording.exception() is not None:
            return
        from .releases import withdraw

        release_id = self._recording.result()["release_id"]
        try:
            withdraw(self._project_dir, release_id, self._ledger)
        except CtlibError as failed:
            raise ReportError(
                f"the report could not be published ({one_line(error)}) and its release "
                f"{release_id} stays in the release ledger ({one_line(failed)}); a release never "
                "published only makes later ones more cautious"
            ) from error


def unchanged_run(
    project_dir: Path | str,
    period: str = "latest",
    out_dir: Path | str = "reports",
    audience: str = "donor",
    min_cell_size: int | None = None,
    pdf: bool = False,
    notebook: Path = NOTEBOOK,
    ledger: str | None = None,
) -> ReportRun | None:
    """--resume: the last published report's run when a run now would make it again, unchanged
    (same inputs, parameters, code and releases); None when the report must run."""
    clock = time.perf_counter()
    project_dir = Path(project_dir).absolute()
    wanted = {"project": project_dir.name, "audience": audience, "min_cell_size": min_cell_size}
    kept = unchanged_report(
        project_dir, period, Path(out_dir).absolute(), wanted, notebook, pdf, ledger
    )
    if kept is None:
        return None
    seconds = round(time.perf_counter() - clock, 1)
    period = kept.name.removesuffix("-internal")
    return ReportRun(project_dir.name, period, True, kept, seconds=seconds, is_unchanged=True)


RESUME_OPTIONS = ("audience", "min_cell_size", "pdf", "notebook", "ledger")


def _run_safely(project_dir: Path, period: str, out_dir: Path, options: dict) -> ReportRun:
    """run_report for a batch: every failure becomes a failed ReportRun instead of an exception."""
    clock = time.perf_counter()
    try:
        return run_report(project_dir, period, out_dir, **options)
    except Exception as error:  # one project's failure must not stop the batch
        audience = options.get("audience", "donor")
        kept = _previous_report(Path(out_dir) / project_dir.name, period, audience)
        from .presentation import Presentation

        public = (
            Presentation(audience).error(error)
            if isinstance(error, CtlibError)
            else "the report could not be made; the project team has the details"
        )
        return ReportRun(
            project_dir.name,
            period,
            False,
            kept,
            error=one_line(error),
            public_error=public,
            seconds=round(time.perf_counter() - clock, 1),
        )


def _previous_report(project_out: Path, period: str, audience: str) -> Path | None:
    """The report a failed run leaves in place: of that period, or the latest one for 'latest'."""
    name = file_names(audience)["report"]
    if period == "latest":
        found = sorted(
            p.parent
            for p in project_out.glob(f"*/{name}")
            if p.parent.name == report_folder(p.parent.name.removesuffix("-internal"), audience)
        )
        return found[-1] if found else None
    folder = project_out / report_folder(period, audience)
    return folder if (folder / name).is_file() else None


def project_dirs(data_dir: Path | str) -> list[Path]:
    """The project folders (holding a project.yaml) directly under data_dir."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ReportError(f"no folder {data_dir}: give the folder that holds the project folders")
    found = sorted(p for p in data_dir.iterdir() if (p / "project.yaml").is_file())
    if not found:
        raise ReportError(f"no project folder (with a project.yaml) in {data_dir}")
    return found


def start_worker(zygote_address: str | None = None) -> None:
    """Start a batch worker: it dies with its parent (on Linux, after `kill -9` of the batch; its
    kernels then exit too, their zygote's parent gone; a worker's own, when it dies alone), forks
    its kernels with the batch's zygote and imports what a report needs."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if zygote_address is None:
        kernels()  # its imports go on beside this worker's own
    else:
        use(kernel_command(), zygote_address)
    import_module(PRELOAD)
    gc.freeze()  # what is imported stays: the collections of report after report skip it


def run_batch(
    data_dir: Path | str,
    period: str = "latest",
    out_dir: Path | str = "reports",
    jobs: int = 1,
    progress: bool = True,
    executor: Executor | None = None,
    **options,
) -> list[ReportRun]:
    """Run the report of every project under data_dir, then write the index.

    On `executor` when given (any concurrent.futures executor, e.g. a Dask cluster's
    `client.get_executor()`), else `jobs` at a time on local worker processes. `options` go to
    run_report (audience, min_cell_size, pdf, notebook, timeout, resume).
    """
    projects = project_dirs(data_dir)
    out_dir = usable_out_dir(out_dir)
    runs = []
    bar = tqdm(
        total=len(projects), desc="reports", unit="project", disable=not progress, file=sys.stderr
    )
    bar.set_postfix(failed=0, refresh=False)

    def done(run: ReportRun) -> None:
        runs.append(run)
        bar.update()
        bar.set_postfix(failed=sum(not r.ok for r in runs), refresh=False)

    if options.get("resume") and not options.get("approved_by"):  # found here: no worker idles
        kept = {
            p: unchanged_run(p, period, out_dir, **_pick(options, RESUME_OPTIONS)) for p in projects
        }
        for run in filter(None, kept.values()):
            done(run)
        projects = [p for p in projects if kept[p] is None]
        options = {**options, "resume": False}  # the others must run
    if executor is not None:
        _run_on(executor, projects, period, out_dir, options, done)
    elif jobs > 1 and projects:
        # spawned workers are children of this process, so they die with it; each imports
        # what a report needs once (PRELOAD, as Dask workers do), then runs report after report
        context = get_context("spawn")
        ensure_kernel()
        with (
            batch_zygote(kernel_command()) as zygote_address,  # the workers' kernels' imports once
            ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=context,
                initializer=start_worker,
                initargs=(zygote_address,),
            ) as pool,
        ):
            _run_on(pool, projects, period, out_dir, options, done)
    else:
        for project_dir in projects:
            done(_run_safely(project_dir, period, out_dir, options))
    bar.close()
    runs.sort(key=lambda r: r.project)
    write_index(out_dir, runs, options.get("audience", "donor"))
    return runs


def _pick(options: dict, names: tuple[str, ...]) -> dict:
    return {name: options[name] for name in names if name in options}


def _run_on(executor: Executor, projects, period, out_dir, options, done) -> None:
    """Submit every report to the executor; a report whose worker failed (a crashed process, a
    lost cluster worker) becomes a failed run, and the others go on."""
    futures = {executor.submit(_run_safely, p, period, out_dir, options): p for p in projects}
    for future in as_completed(futures):
        try:
            run = future.result()
        except Exception as error:  # the worker, not the report, failed
            run = ReportRun(
                futures[future].name,
                period,
                False,
                error=one_line(error),
                public_error="the report could not be made; the project team has the details",
            )
        done(run)


def summary_table(runs: list[ReportRun]) -> str:
    """A plain-text table of a batch: project, period, status, seconds, error."""
    rows = [("project", "period", "status", "seconds", "error")]
    rows += [(r.project, r.period, r.status, f"{r.seconds:.1f}", r.error) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        (
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]
        ).rstrip()
        for row in rows
    )


def index_name(audience: str) -> str:
    return "index-internal.html" if audience == "internal" else "index.html"


def write_index(out_dir: Path, runs: list[ReportRun], audience: str = "donor") -> Path:
    """OUT/index.html (index-internal.html): every report of the batch with its status and links
    (self-contained). A failure reads in words a donor may see: no value, date, id or path."""
    from .presentation import PAGE_STYLE

    out_dir.mkdir(parents=True, exist_ok=True)
    names, rows = file_names(audience), []
    for run in runs:
        links = ""
        if run.directory is not None:
            relative = Path(os.path.relpath(run.directory, out_dir.absolute())).as_posix()
            shown = [
                names[n]
                for n in ("report", "iptt", "indicators", "report_pdf")
                if (run.directory / names[n]).exists()
            ]
            links = " · ".join(f'<a href="{html.escape(relative)}/{n}">{n}</a>' for n in shown)
            if not run.ok:
                links = f"previous report kept: {links}"
        error = run.error if audience == "internal" else run.public_error
        status = "ok" if run.ok else f"failed: {html.escape(error)}"
        rows.append(
            f"<tr><td>{html.escape(run.project)}</td><td>{html.escape(run.period)}</td>"
            f'<td class="{"ok" if run.ok else "failed"}">{status}</td><td>{links}</td></tr>'
        )
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    banner = (
        '<div class="ctlib-internal">INTERNAL: unsuppressed figures, not for sharing outside '
        "the project</div>"
        if audience == "internal"
        else ""
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Quarterly reports</title>{PAGE_STYLE}</head>"
        f'<body class="ctlib-page ctlib-index">{banner}<h1>Quarterly reports</h1>'
        f"<p>{sum(r.ok for r in runs)} of {len(runs)} reports written; generated {generated}.</p>"
        '<table class="ctlib-table"><thead><tr><th>Project</th><th>Period</th><th>Status</th>'
        f"<th>Files</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )
    index = out_dir / index_name(audience)
    index.write_text(page, encoding="utf-8")
    return index
