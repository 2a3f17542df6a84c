"""Donor reports are releases: `ctlib report` records each in the project's ledger once its files
are built, approved periods stand in later reports, revisions are listed, drafts say so; a failed
report records nothing, a report that cannot be published is withdrawn, one worked out against a
ledger that changed meanwhile is refused, an internal report records nothing.

One sequence of reports of a tiny shelter project (the test_releases fixture) runs once for the
module; the failure cases run their own report each."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from test_releases import PROJECT, cases

from ctlib._cli import main
from ctlib._errors import CtlibError
from ctlib._publish import releases, report

pytestmark = pytest.mark.notebook
Q1, Q2 = "2025-Q1", "2025-Q2"
FIRST = {"2025-02": (6, 7), "2025-05": (8, 9)}  # (female, male) identified per month
RECLASSIFIED = {"2025-02": (5, 8), "2025-05": (8, 9)}  # a February case re-classified as a man's


def ctlib(*arguments) -> str:
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    assert result.exit_code == 0, result.output
    return result.output


def tiny_project(folder: Path) -> Path:
    project = folder / "tiny"
    project.mkdir(parents=True)
    (project / "project.yaml").write_text(PROJECT)
    (project / "cases.csv").write_text(cases(FIRST))
    return project


def figures(folder: Path, period: str) -> dict[str, tuple]:
    """category -> (value or None when hidden, is_draft) of a report's indicators.csv."""
    table = pd.read_csv(folder / "indicators.csv", keep_default_na=False, na_values=[""])
    rows = table[table["period"] == period]
    return {
        r.category: (None if r.suppressed else r.value, bool(r.is_draft)) for r in rows.itertuples()
    }


def page_text(folder: Path) -> str:
    page = (folder / "report.html").read_text()
    page = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def sequence(tmp_path_factory, monkeypatch_module) -> dict:
    """Q1 approved with its report; its data changes; Q2 reported (a draft), approved, reported
    again with --resume; Q1 revised; Q2 reported once more; an internal Q2 report."""
    folder = tmp_path_factory.mktemp("sequence")
    project, out = tiny_project(folder / "data"), folder / "reports"
    runs, snapshots = {}, folder / "snapshots"
    runs["q1"] = ctlib("report", project, "--period", Q1, "--out", out, "--approve", "--by", "Ana")
    runs["q1 resumed"] = ctlib("report", project, "--period", Q1, "--out", out, "--resume")
    (project / "cases.csv").write_text(cases(RECLASSIFIED))
    runs["q2"] = ctlib("report", project, "--period", Q2, "--out", out)
    shutil.copytree(out / "tiny" / Q2, snapshots / "q2 draft")
    runs["approve"] = ctlib("release", "approve", project, "--period", Q2, "--by", "Ben")
    runs["q2 resumed"] = ctlib("report", project, "--period", Q2, "--out", out, "--resume")
    shutil.copytree(out / "tiny" / Q2, snapshots / "q2 approved")
    runs["revise"] = ctlib(
        "release", "revise", project, "--period", Q1, "--note", "a case re-classified"
    )
    runs["q2 after revision"] = ctlib("report", project, "--period", Q2, "--out", out)
    before_internal = releases.listing(project)
    runs["internal"] = ctlib(
        "report", project, "--period", Q2, "--out", out, "--audience", "internal"
    )
    return {
        "project": project,
        "out": out,
        "runs": runs,
        "q1": out / "tiny" / Q1,
        "q2 draft": snapshots / "q2 draft",
        "q2 approved": snapshots / "q2 approved",
        "q2": out / "tiny" / Q2,
        "before internal": before_internal,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CTLIB_LEDGER_URL", raising=False)
        yield patch


def test_every_donor_report_is_recorded_and_the_ledger_lists_them(sequence):
    listed = releases.listing(sequence["project"])
    assert listed[["period", "kind", "approved_by"]].fillna("").values.tolist() == [
        [Q1, "report", "Ana"],  # approved with its report
        [Q2, "report", "Ben"],  # approved afterwards with `ctlib release approve`
        [Q2, "report", ""],  # --resume ran it again: the ledger had changed
        [Q1, "revision", releases.who()],
        [Q2, "report", ""],
    ]
    assert "unchanged, kept" in sequence["runs"]["q1 resumed"]  # nothing new: nothing recorded
    assert "written to" in sequence["runs"]["q2 resumed"]
    assert sequence["before internal"].equals(listed)  # an internal report records nothing
    assert (sequence["out"] / "tiny" / f"{Q2}-internal" / "report-internal.html").is_file()
    for folder in (sequence["q1"], sequence["q2"]):
        names = sorted(p.name for p in folder.iterdir())
        assert names == [
            "indicators.csv",
            "iptt.xlsx",
            "manifest.json",
            "report.html",
            "report.ipynb",
        ]
    manifest = json.loads((sequence["q2"] / "manifest.json").read_text())
    assert manifest["release"]["release_id"] == int(listed["release_id"].iloc[-1])


def test_an_approved_period_stands_in_later_reports_and_drafts_say_so(sequence):
    assert figures(sequence["q1"], Q1) == {
        "total": (13.0, False),  # approved with the report
        "female": (6.0, False),
        "male": (7.0, False),
    }
    assert "Figures approved by Ana with this report" in page_text(sequence["q1"])
    draft = sequence["q2 draft"]
    # the data now say 5 and 8: the approved figures stand
    assert figures(draft, Q1) == {
        "total": (13.0, False),
        "female": (6.0, False),
        "male": (7.0, False),
    }
    assert figures(draft, Q2)["total"] == (17.0, True)
    text = page_text(draft)
    assert "Figures draft: not approved yet, the figures may still change" in text
    assert "2025-Q2 (Apr–Jun 2025, draft)" in text and "Life of project to date, draft" in text
    assert "2025-Q1 (by Ana," in text and "No figure of an earlier period has been revised." in text
    approved = sequence["q2 approved"]
    assert figures(approved, Q2)["total"] == (17.0, False)
    assert "Figures approved by Ben on" in page_text(approved)
    assert "draft" not in page_text(approved).split("Indicator performance tracking table")[1][:800]


def test_a_revision_is_listed_in_every_later_report(sequence):
    after = sequence["q2"]
    assert figures(after, Q1) == {
        "total": (13.0, False),
        "female": (5.0, False),
        "male": (8.0, False),
    }
    text = page_text(after)
    annex = text[text.index("Annex A: revisions to earlier periods") :]
    annex = annex[: annex.index("Annex B")]
    assert "Period Indicator Group Old value New value Reason Revised on" in annex
    assert (
        "2025-Q1 (Jan–Mar 2025) PROT-02 · New presumed or confirmed victims identified "
        "sex: female 6 5 a case re-classified" in annex
    )
    assert "sex: male 7 8 a case re-classified" in annex
    assert "life of project to 31 Mar 2025" in annex
    assert "sex: total" not in annex  # the total did not change


def test_a_failed_report_records_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tiny_project(tmp_path / "data")
    book = nbformat.read(report.NOTEBOOK, as_version=4)
    book.cells.append(nbformat.v4.new_code_cell('raise ValueError("the last cell fails")'))
    notebook = tmp_path / "failing.ipynb"
    nbformat.write(book, notebook)
    with pytest.raises(CtlibError, match="the last cell fails"):
        report.run_report(project, Q1, tmp_path / "out", notebook=notebook)
    assert releases.listing(project).empty
    assert not (tmp_path / "out" / "tiny").exists()


def test_a_report_that_cannot_be_published_is_withdrawn_from_the_ledger(tmp_path, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tiny_project(tmp_path / "data")
    recorded = []

    def full_disk(built, destination):
        recorded.append(len(releases.listing(project)))  # recorded before publishing
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "publish", full_disk)
    with pytest.raises(OSError, match="No space left"):
        report.run_report(project, Q1, tmp_path / "out")
    assert recorded == [1] and releases.listing(project).empty


def test_a_report_worked_out_before_another_release_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    project = tiny_project(tmp_path / "data")
    book = nbformat.read(report.NOTEBOOK, as_version=4)
    meanwhile = "from ctlib._publish import releases\nreleases.record(project_dir, period)"
    assert "open_report" in book.cells[2].source
    book.cells[2].source += "\n" + meanwhile  # before the runner records the report's release
    notebook = tmp_path / "meanwhile.ipynb"
    nbformat.write(book, notebook)
    with pytest.raises(CtlibError, match="the release ledger changed while this report ran"):
        report.run_report(project, Q1, tmp_path / "out", notebook=notebook)
    assert releases.listing(project)["kind"].tolist() == ["report"]  # the other one only
    assert not (tmp_path / "out" / "tiny").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--min-cell-size", "2"],
            "needs a minimum cell size of at least 3, not 2 (--min-cell-size)",
        ),
        (["--approve", "--audience", "internal"], "not an internal one"),
        (["--by", "Ana"], "--by names who approves: give --approve too"),
    ],
)
def test_what_a_donor_report_cannot_be_is_refused_before_any_work(tmp_path, arguments, message):
    project = tiny_project(tmp_path / "data")
    result = CliRunner().invoke(
        main, ["report", str(project), "--out", str(tmp_path / "out"), *arguments]
    )
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "tiny").exists() and not (project / ".ctlib").exists()


def test_a_project_whose_k_is_below_3_gets_no_donor_report(tmp_path):
    project = tiny_project(tmp_path / "data")
    yaml_file = project / "project.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("min_cell_size: 5", "min_cell_size: 2"))
    result = CliRunner().invoke(main, ["report", str(project), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "at least 3, not 2 (privacy.min_cell_size in project.yaml)" in result.output
    assert not (tmp_path / "out" / "tiny").exists()
