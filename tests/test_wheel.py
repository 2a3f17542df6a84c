"""The built wheel, installed into a clean venv outside the checkout, works from another folder.

The wheel is built from a copy of the working tree (as a fresh clone has it) and installed with
the versions of this test run's venv, so nothing new is downloaded when pip's cache has them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from importlib.metadata import distributions
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, ctlib_server, working_tree_copy
from test_dashboard import copy_project
from test_dashboard_browser import CHART_MARKS, open_dashboard

from ctlib import __version__

PROJECT = "safe_journeys"
PERIOD = "2026-Q2"


def run(*command: str, cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def these_versions(path: Path) -> Path:
    """A pip constraints file: every distribution of this venv but ctlib, at its version here."""
    pins = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in distributions()
        if d.metadata["Name"] and d.metadata["Name"].lower() != "ctlib"
    )
    path.write_text("\n".join(pins) + "\n")
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A venv in a temporary folder holding the wheel (and nothing of the checkout), and a folder
    elsewhere holding a copy of a sample project."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = working_tree_copy(scratch / "source")
    python = [sys.executable, "-m", "pip"]
    run(*python, "wheel", "--no-deps", "--quiet", "-w", str(scratch / "dist"), ".", cwd=source)
    (wheel,) = (scratch / "dist").glob("ctlib-*.whl")
    venv.create(scratch / "venv", with_pip=True)
    bin_dir = scratch / "venv" / "bin"
    constraints = these_versions(scratch / "constraints.txt")
    install = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    run(*install, str(wheel), cwd=scratch)
    elsewhere = scratch / "elsewhere"
    copy_project(SAMPLE_DIR / PROJECT, elsewhere / "projects" / PROJECT)
    return {"bin": bin_dir, "cwd": elsewhere}


def test_the_wheel_holds_no_checkout_path(installed):
    where = run(
        str(installed["bin"] / "python"),
        "-c",
        "import ctlib._resources as r; print(r.PACKAGE); print(r.notebook('quarterly_report'))",
        cwd=installed["cwd"],
    ).split()
    site_packages = installed["bin"].parent / "lib"
    assert all(Path(p).is_relative_to(site_packages) for p in where), where
    assert Path(where[1]).is_file()


def test_version_from_the_command_and_the_module(installed):
    expected = f"ctlib, version {__version__}"
    bin_dir, cwd = installed["bin"], installed["cwd"]
    assert run(str(bin_dir / "ctlib"), "--version", cwd=cwd).strip() == expected
    assert run(str(bin_dir / "python"), "-m", "ctlib", "--version", cwd=cwd).strip() == expected


@pytest.mark.notebook
def test_a_report_from_the_installed_package(installed):
    bin_dir, cwd = installed["bin"], installed["cwd"]
    command = [str(bin_dir / "ctlib"), "report", f"projects/{PROJECT}", "--period", PERIOD]
    output = run(*command, "--out", "out", cwd=cwd)
    folder = cwd / "out" / PROJECT / PERIOD
    assert f"Report written to {folder}" in output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "PREV-01" in page
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["period"] == PERIOD and manifest["ctlib_version"] == __version__
    facts = manifest["environment"]
    assert facts["lock_file"] is None and facts["lock_file_sha256"] is None  # no lock in a wheel
    assert {"pandas", "papermill", "numpy"} <= facts["dependencies"].keys()
    book = json.loads((folder / "report.ipynb").read_text())
    assert book["metadata"]["papermill"]["exception"] is None


@pytest.mark.browser
def test_the_dashboard_from_the_installed_package_draws_charts(installed, page, tmp_path):
    arguments = ("dashboard", "projects")
    ctlib = installed["bin"] / "ctlib"
    report = [str(ctlib), "report", f"projects/{PROJECT}", "--period", PERIOD, "--out", "out"]
    run(*report, "--resume", cwd=installed["cwd"])  # the dashboard shows the report's release
    with ctlib_server(
        tmp_path / "dashboard.log", *arguments, ctlib=ctlib, cwd=installed["cwd"]
    ) as url:
        open_dashboard(page, url)
        assert page.locator(CHART_MARKS).count() > 0
        assert page.request_log.outside == []
        page.screenshot(path=tmp_path / "dashboard.png")
