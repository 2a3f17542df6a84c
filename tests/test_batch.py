"""Batches that scale out: any executor (a real Dask LocalCluster here), a time budget per report,
one retry of a crashed kernel, and --resume."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_DIR, one_cell_notebook
from test_releases import PROJECT as TINY_PROJECT
from test_report import BROKEN

from ctlib._cli import main
from ctlib._errors import ReportError
from ctlib._publish import report, resume
from ctlib._resources import notebook

pytestmark = pytest.mark.notebook
SLOW = "slow_project"
TIMEOUT_SECONDS = 60  # far beyond a sample report on a busy machine, far below the slow cell's
SLOW_CELL = f"""\
import os, pathlib, time
if pathlib.Path(project_dir).name == "{SLOW}":
    pathlib.Path("kernel.pid").write_text(str(os.getpid()))
    time.sleep(3600)
"""


def slow_for_one_project(path: Path) -> Path:
    """The report notebook with a cell, after the parameters, that hangs for SLOW only."""
    book = nbformat.read(notebook("quarterly_report"), as_version=4)
    at = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    book.cells.insert(at + 1, nbformat.v4.new_code_cell(SLOW_CELL))
    nbformat.write(book, path)
    return path


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def broken_project(folder: Path) -> None:
    (folder / BROKEN).mkdir()
    (folder / BROKEN / "project.yaml").write_text("project: {id: broken_project}\n")


@pytest.fixture(scope="module")
def cluster():
    import distributed  # the dask extra, which make installs with the dev tools

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


def test_a_batch_on_a_dask_cluster_with_one_project_failing_and_one_timing_out(cluster, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR / "coast_outreach", data_dir / "coast_outreach")
    shutil.copytree(SAMPLE_DIR / "coast_outreach", data_dir / SLOW)
    broken_project(data_dir)
    out_dir = tmp_path / "reports"
    outcomes = report.run_batch(
        data_dir,
        "latest",
        out_dir,
        progress=False,
        executor=cluster.get_executor(pure=False),
        notebook=slow_for_one_project(tmp_path / "slow.ipynb"),
        timeout=TIMEOUT_SECONDS,
    )
    by_name = {o.project: o for o in outcomes}
    assert sorted(by_name) == [BROKEN, "coast_outreach", SLOW]
    good = by_name["coast_outreach"]
    assert good.ok and (good.directory / "report.html").is_file(), good.error
    assert not by_name[BROKEN].ok and "project.yaml" in by_name[BROKEN].error
    slow = by_name[SLOW]
    assert not slow.ok and slow.directory is None
    assert slow.error == f"the report took longer than its {TIMEOUT_SECONDS} s (--timeout): stopped"
    assert TIMEOUT_SECONDS - 5 <= slow.seconds < TIMEOUT_SECONDS + 60
    assert not is_running(int((data_dir / SLOW / "kernel.pid").read_text()))  # the kernel stopped
    assert not (out_dir / SLOW).exists() or not any((out_dir / SLOW).iterdir())
    index = (out_dir / "index.html").read_text()
    assert "took longer than its 60 s" in index and "coast_outreach/" in index


def test_the_command_runs_the_batch_on_the_scheduler_and_resumes(cluster, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR / "safe_journeys", data_dir / "safe_journeys")
    broken_project(data_dir)
    command = ["report", "--all", str(data_dir), "--scheduler", cluster.scheduler.address]
    command += ["--out", str(tmp_path / "out")]
    first = CliRunner().invoke(main, command)
    assert first.exit_code == 1, first.output  # the broken project
    lines = first.stdout.splitlines()
    assert any(line.startswith("safe_journeys") and " ok " in line for line in lines), first.output
    manifest = next((tmp_path / "out" / "safe_journeys").glob("*/manifest.json"))
    before = manifest.read_text()

    again = CliRunner().invoke(main, [*command, "--resume"])
    assert again.exit_code == 1
    lines = again.stdout.splitlines()
    assert any(line.startswith("safe_journeys") and " unchanged " in line for line in lines)
    assert any(line.startswith(BROKEN) and "FAILED" in line for line in lines)
    assert manifest.read_text() == before  # not run again


def test_the_scheduler_needs_a_batch_and_no_jobs(tmp_path):
    for extra in (["--jobs", "2"], []):
        target = ["--all", str(tmp_path)] if extra else [str(tmp_path)]
        result = CliRunner().invoke(
            main, ["report", *target, "--scheduler", "tcp://127.0.0.1:1", *extra]
        )
        assert result.exit_code == 2 and "--scheduler runs a batch" in result.output


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    shutil.copytree(SAMPLE_DIR / "coast_outreach", tmp_path / "data" / "coast_outreach")
    from ctlib._publish import cluster

    cluster.CONNECT_TIMEOUT_SECONDS, saved = 2, cluster.CONNECT_TIMEOUT_SECONDS
    try:
        result = CliRunner().invoke(
            main, ["report", "--all", str(tmp_path / "data"), "--scheduler", "tcp://127.0.0.1:9"]
        )
    finally:
        cluster.CONNECT_TIMEOUT_SECONDS = saved
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output


def test_a_kernel_that_really_dies_is_started_again_once(tmp_path):
    """The first kernel kills itself (a crash, not a cell error).

    The second one runs the notebook.
    """
    book = one_cell_notebook(
        tmp_path / "crash.ipynb",
        "import os, pathlib\n"
        "marker = pathlib.Path('crashed-once')\n"
        "if not marker.exists():\n"
        "    marker.write_text('1')\n"
        "    os._exit(1)\n"
        "6 * 7",
    )
    report.execute_notebook(book, tmp_path / "out.ipynb", {}, cwd=tmp_path)
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert done.cells[0].outputs[0]["data"]["text/plain"] == "42"
    assert (tmp_path / "crashed-once").exists()


def test_a_cell_beyond_the_budget_stops_the_notebook(tmp_path):
    book = one_cell_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(600)")
    start = time.monotonic()
    with pytest.raises(ReportError, match=r"took longer than its 5 s \(--timeout\): stopped"):
        report.execute_notebook(book, tmp_path / "out.ipynb", {}, tmp_path, report.Budget(5))
    assert time.monotonic() - start < 60


def test_the_budget_gives_each_cell_what_is_left():
    budget = report.Budget(100)
    assert 98 <= budget.cell_timeout() <= 100
    budget.deadline = time.monotonic() - 1
    assert budget.cell_timeout() == 1
    with pytest.raises(ReportError, match="took longer than its 100 s"):
        budget.check()
    assert report.Budget(None).cell_timeout() == report.CELL_TIMEOUT_SECONDS


def test_resume_keeps_an_unchanged_report_and_runs_a_changed_one(tmp_path):
    project = tmp_path / "data" / "coast_outreach"
    shutil.copytree(SAMPLE_DIR / "coast_outreach", project)
    out_dir = tmp_path / "out"
    first = report.run_report(project, "latest", out_dir)
    manifest = json.loads((first.directory / "manifest.json").read_text())

    kept = report.run_report(project, "latest", out_dir, resume=True)
    assert kept.is_unchanged and kept.directory == first.directory and kept.period == first.period
    assert json.loads((first.directory / "manifest.json").read_text()) == manifest

    data_file = next(p for p in project.iterdir() if p.suffix == ".xlsx")
    shutil.copy(SAMPLE_DIR / "justice_for_survivors" / "legal_cases.xlsx", data_file)
    wanted = {"project": project.name, "audience": "donor", "min_cell_size": None}
    qr = notebook("quarterly_report")
    assert resume.changes_since(manifest, project, wanted, qr) == [f"{data_file.name} changed"]


def test_resume_names_every_kind_of_change(tmp_path, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tmp_path / "p"
    project.mkdir()
    (project / "project.yaml").write_text(TINY_PROJECT)  # its data file is not looked at
    qr = notebook("quarterly_report")
    wanted = {"project": project.name, "audience": "donor", "min_cell_size": None}
    manifest = {
        "parameters": {**wanted, "period": "2026-Q1"},
        "inputs": {"project.yaml": resume.file_sha256(project / "project.yaml")},
        "ctlib_version": report.__version__,
        "environment": {
            "ctlib_code_sha256": resume.code_sha256(),
            "notebook_sha256": resume.file_sha256(qr),
            "dependencies": resume.dependency_versions(),
        },
        "release": {"release_id": 1, "ledger_state": "last release 0, 0 approved"},
    }
    assert resume.changes_since(manifest, project, wanted, qr) == []
    changed = {**manifest, "inputs": {**manifest["inputs"], "cases.csv": "0" * 64}}
    changed["parameters"] = {**wanted, "audience": "internal"}
    changed["ctlib_version"] = "0.0.1"
    changed["environment"] = {
        "ctlib_code_sha256": "1" * 64,
        "notebook_sha256": "2" * 64,
        "dependencies": {"pandas": "2.0"},
    }
    changed["release"] = {"release_id": 4, "ledger_state": "last release 4, 1 approved"}
    assert resume.changes_since(changed, project, wanted, qr) == [
        "audience was 'internal', is 'donor'",
        "cases.csv is gone",
        f"ctlib 0.0.1 made it, this is {report.__version__}",
        "ctlib's code, catalogue or notebooks changed",
        "the notebook quarterly_report.ipynb changed",
        "the installed packages changed",
        "the release ledger changed (last release 4, 1 approved, now last release 0, 0 approved)",
    ]
    unrecorded = {k: v for k, v in manifest.items() if k != "release"}
    assert resume.changes_since(unrecorded, project, wanted, qr) == [
        "the report was not recorded as a release"
    ]


def test_a_worker_that_cannot_import_ctlib_is_a_clear_error(cluster, monkeypatch):
    from ctlib._publish import cluster as dask_cluster

    monkeypatch.setattr(dask_cluster, "PRELOAD", "ctlib._no_such_module")
    with (
        pytest.raises(
            ReportError, match="a Dask worker cannot import ctlib .*: install it on every"
        ),
        dask_cluster.dask_executor(cluster.scheduler.address),
    ):
        pass
