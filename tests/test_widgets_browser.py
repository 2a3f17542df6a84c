"""The workbooks served by Voilà and driven in headless Chromium.

Every request outside 127.0.0.1 is blocked.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import SAMPLE_DIR, ctlib_server

from ctlib._data.project import load_project

pytestmark = pytest.mark.browser
LOAD_TIMEOUT_MS = 120_000  # kernel start, data loading and the first drawing
TOKEN = "evaluator-token-for-the-tests"


def copy_project(source: Path, target: Path) -> None:
    """A copy of a project folder's files.

    Sockets or other special files a running kernel left are skipped.
    """
    shutil.copytree(
        source,
        target,
        ignore=lambda folder, names: [
            n for n in names if not (Path(folder, n).is_file() or Path(folder, n).is_dir())
        ],
    )


def voila(notebook: str, log_path: Path):
    """`ctlib workbook NAME --token TOKEN` serving one workbook on 127.0.0.1; yields its URL.

    Offline template, no sources.
    """
    return ctlib_server(log_path, "workbook", notebook.removesuffix(".ipynb"), "--token", TOKEN)


def test_pick_two_protection_indicators_set_a_target_and_save(page, tmp_path):
    project_dir = tmp_path / "shelter_and_recovery"
    copy_project(SAMPLE_DIR / "shelter_and_recovery", project_dir)
    protection = sum(i.id.startswith("PROT-") for i in load_project(project_dir).indicators)
    with voila("pick_indicators.ipynb", tmp_path / "voila.log") as url:
        page.goto(f"{url}/?token={TOKEN}&project_dir={quote(str(project_dir))}")
        page.get_by_text(f"Opened {project_dir / 'project.yaml'}").wait_for(timeout=LOAD_TIMEOUT_MS)

        page.get_by_role("tab", name="3 Indicators").click()
        page.get_by_role("tab", name=re.compile(r"^Protection")).click()
        page.get_by_label("Select PROT-03").check()
        page.get_by_label("Select PROT-04").check()
        page.get_by_role("tab", name=f"Protection (37, {protection + 2} selected)").wait_for()

        page.get_by_role("tab", name="5 Baselines & targets").click()
        target = page.locator(".ctlib-target-PROT-04-life_of_project input")
        target.fill("35")
        target.press("Enter")
        page.get_by_role("tab", name="6 Review & save").click()
        page.get_by_role("button", name="Save project.yaml").click()
        page.get_by_text("Saved").wait_for()
        page.screenshot(path=tmp_path / "pick_indicators.png", full_page=True)

    saved = load_project(project_dir)
    assert [i.id for i in saved.indicators][-2:] == ["PROT-03", "PROT-04"]
    assert saved.indicator("PROT-04").target("life_of_project") == 35
    assert list(saved.indicator("PROT-04").targets) == ["life_of_project"]
    assert (project_dir / "project.yaml.bak").read_text() == (
        SAMPLE_DIR / "shelter_and_recovery" / "project.yaml"
    ).read_text()
    assert page.request_log.outside == []


def test_explore_draws_interactive_charts_offline(page, tmp_path):
    with voila("explore.ipynb", tmp_path / "voila.log") as url:
        page.goto(
            f"{url}/?token={TOKEN}&data_dir={quote(str(SAMPLE_DIR))}&project=shelter_and_recovery"
        )
        page.get_by_text("Internal — unsuppressed").wait_for(timeout=LOAD_TIMEOUT_MS)
        page.locator(".vega-embed svg, .vega-embed canvas").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        assert "PROT-02" in page.locator(".ctlib-card").first.inner_text()
        page.get_by_role("tab", name="Cross-tab").click()
        page.get_by_text("records by").first.wait_for()
        page.screenshot(path=tmp_path / "explore.png", full_page=True)
    assert page.request_log.outside == []


def test_without_its_token_a_workbook_asks_for_it_and_opens_with_it(page, tmp_path):
    project_dir = tmp_path / "shelter_and_recovery"
    copy_project(SAMPLE_DIR / "shelter_and_recovery", project_dir)
    with voila("pick_indicators.ipynb", tmp_path / "voila.log") as url:
        page.goto(f"{url}/?project_dir={quote(str(project_dir))}")  # the token left out
        page.get_by_role("heading", name="This page needs its token").wait_for()
        assert "jupyter server list" not in page.content()
        page.get_by_label("Token").fill("a guess")
        page.get_by_role("button", name="Open").click()
        page.get_by_text("That is not this page's token.").wait_for()
        page.screenshot(path=tmp_path / "token_page.png")

        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Open").click()
        page.get_by_text(f"Opened {project_dir / 'project.yaml'}").wait_for(timeout=LOAD_TIMEOUT_MS)
        assert TOKEN not in page.url and TOKEN not in page.content()
    assert page.request_log.outside == []
