"""Report runs as a careless user and an attacker meet them: an unusable --out, an internal report
next to a donor one, index pages of failed projects, and a batch killed with SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_DIR

from ctlib._cli import main
from ctlib._publish import report

pytestmark = pytest.mark.notebook
CTLIB = Path(sys.executable).with_name("ctlib")


def one_line_error(arguments: list[str]) -> str:
    result = CliRunner().invoke(main, ["report", *arguments])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    return lines[0]


def test_an_unusable_out_is_a_one_line_error_naming_it(tmp_path):
    project = str(SAMPLE_DIR / "safe_journeys")
    a_file = tmp_path / "reports.txt"
    a_file.write_text("not a folder")
    assert f"{a_file} is a file" in one_line_error([project, "--out", str(a_file)])
    under_a_file = a_file / "reports"
    assert f"--out {under_a_file}: cannot write reports there" in one_line_error(
        [project, "--out", str(under_a_file)]
    )
    assert "--out /proc/ctlib-reports: cannot write reports there" in one_line_error(
        [project, "--out", "/proc/ctlib-reports"]
    )
    assert a_file.read_text() == "not a folder"


def test_an_internal_report_never_replaces_the_donor_report(tmp_path):
    project = tmp_path / "data" / "safe_journeys"
    shutil.copytree(SAMPLE_DIR / "safe_journeys", project)
    out = tmp_path / "reports"
    donor = report.run_report(project, "2026-Q2", out)
    donor_page = (donor.directory / "report.html").read_bytes()
    internal = report.run_report(project, "2026-Q2", out, audience="internal")
    assert donor.directory == out / "safe_journeys" / "2026-Q2"
    assert internal.directory == out / "safe_journeys" / "2026-Q2-internal"
    assert (donor.directory / "report.html").read_bytes() == donor_page  # untouched
    names = sorted(p.name for p in internal.directory.iterdir())
    assert names == [
        "indicators-internal.csv",
        "iptt-internal.xlsx",
        "manifest.json",
        "report-internal.html",
        "report.ipynb",
    ]
    assert (internal.directory / "indicators-internal.csv").read_text().startswith("# INTERNAL")
    assert (
        "INTERNAL: unsuppressed figures"
        in (internal.directory / "report-internal.html").read_text()
    )


def test_the_index_names_a_failure_without_quoting_a_value(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR / "shelter_and_recovery", data / "shelter_and_recovery")
    cases = data / "shelter_and_recovery" / "cases.csv"
    lines = cases.read_text().splitlines()
    duplicated = lines[2].split(",")[0]
    lines[1] = ",".join([duplicated, *lines[1].split(",")[1:]])
    cases.write_text("\n".join(lines) + "\n")
    runs = report.run_batch(data, "latest", tmp_path / "out", progress=False)
    assert not runs[0].ok and duplicated in runs[0].error  # the team's console names the case
    page = (tmp_path / "out" / "index.html").read_text()
    assert "cases.csv, column &#x27;case_id&#x27;: an identifier is used more than once" in page
    assert duplicated not in page and str(data) not in page


def _published(out: Path) -> set[str]:
    return {str(p.parent.relative_to(out)) for p in out.glob("*/*/report.html")}


def test_a_killed_batch_leaves_no_worker_and_a_rerun_publishes_everything(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    for project in sorted(SAMPLE_DIR.iterdir()):
        if (project / "project.yaml").is_file():
            shutil.copytree(project, data / project.name)
    command = [str(CTLIB), "report", "--all", str(data), "--jobs", "2", "--out", str(out)]
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: set[int] = set()
    deadline = time.monotonic() + 240
    while not _published(out) and time.monotonic() < deadline:
        family |= {p.pid for p in psutil.Process(batch.pid).children(recursive=True)}
        time.sleep(0.2)
    assert _published(out), "no report was published in four minutes"
    family |= {p.pid for p in psutil.Process(batch.pid).children(recursive=True)}
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    time.sleep(5)  # kernels poll their parent every second
    after_kill = _published(out)
    alive = [p for p in family if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert alive == [], "workers or kernels outlived the killed batch"
    time.sleep(10)
    assert _published(out) == after_kill  # nothing is published after the kill
    assert len(after_kill) < 5

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(_published(out)) == 5
    assert not list(out.glob("*/.*building*"))  # the interrupted run's build folders are gone
    assert (out / "index.html").read_text().count('class="ok"') == 5
