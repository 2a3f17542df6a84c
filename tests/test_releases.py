"""Donor releases of a tiny project: recording, approval and locking, revisions, drafts, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ctlib._cli import main
from ctlib._data.ledger import Ledger, ledger_url
from ctlib._errors import CtlibError
from ctlib._publish import releases

PROJECT = """\
project:
  id: tiny
  name: Tiny shelter
  organisation: Test NGO
  donor: Test donor
  country: NG
  start_date: 2025-01-01
  end_date: 2025-12-31
results_chain:
  objective: Victims are found.
indicators:
  - id: PROT-02
    targets: {2025-Q1: 10, 2025-Q2: 10, life_of_project: 40}
    disaggregations: [sex]
sources:
  cases: {file: cases.csv}
privacy:
  min_cell_size: 5
"""


def cases(counts: dict[str, tuple[int, int]]) -> str:
    """cases.csv with (female, male) possible victims identified in each month given."""
    lines, number = ["case_id,identification_date,sex,trafficking_status"], 0
    for month, pair in counts.items():
        for sex, n in zip(("female", "male"), pair):
            for _ in range(n):
                number += 1
                lines.append(f"C{number},{month}-15,{sex},possible")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT)
    (folder / "cases.csv").write_text(cases({"2025-02": (6, 7), "2025-05": (8, 9)}))
    return folder


def figures(results, period: str) -> dict:
    table = results.table
    rows = table[table["period"] == period]
    return {
        r.category: (None if r.suppressed else r.value, bool(r.is_draft)) for r in rows.itertuples()
    }


def test_a_locked_quarter_survives_a_change_in_the_data_and_a_revision_is_listed(project):
    first = releases.record(project, "2025-Q1")
    assert figures(first.results, "2025-Q1") == {
        "total": (13.0, True),
        "female": (6.0, True),
        "male": (7.0, True),
    }
    assert (project / ".ctlib" / "releases.sqlite").is_file()  # beside the data, by default
    releases.approve(project, "2025-Q1", by="M&E officer")
    # a case of February is re-classified as a man's after the approval, and Q2 comes in
    (project / "cases.csv").write_text(cases({"2025-02": (5, 8), "2025-05": (8, 9)}))
    second = releases.record(project, "2025-Q2")
    assert figures(second.results, "2025-Q1") == {  # the approved figures stand
        "total": (13.0, False),
        "female": (6.0, False),
        "male": (7.0, False),
    }
    assert figures(second.results, "2025-Q2")["total"] == (17.0, True)  # a draft
    assert second.results.release.revisions.empty
    revised = releases.revise(project, "2025-Q1", note="a case re-classified", by="M&E officer")
    assert figures(revised.results, "2025-Q1") == {
        "total": (13.0, False),
        "female": (5.0, False),
        "male": (8.0, False),
    }
    third = releases.record(project, "2025-Q2")
    assert figures(third.results, "2025-Q1")["female"] == (5.0, False)  # the revision stands
    listed = third.results.release.revisions
    changed = {
        r.category: (r.old_value, r.new_value, r.note)
        for r in listed[listed["period"] == "2025-Q1"].itertuples()
    }
    assert changed == {
        "female": (6.0, 5.0, "a case re-classified"),
        "male": (7.0, 8.0, "a case re-classified"),
    }
    approved = third.results.release.approved
    assert approved["period"].tolist() == ["2025-Q1"] and approved["kind"].tolist() == ["revision"]


def test_approving_needs_a_release_and_happens_once(project):
    with pytest.raises(CtlibError, match="no donor release of 2025-Q1 yet"):
        releases.approve(project, "2025-Q1", by="x")
    releases.record(project, "2025-Q1")
    releases.approve(project, "2025-Q1", by="x")
    with pytest.raises(CtlibError, match="was approved on .* by x; to change its figures"):
        releases.approve(project, "2025-Q1", by="y")
    with pytest.raises(CtlibError, match="2025-Q2 is not approved"):
        releases.revise(project, "2025-Q2", note="why", by="x")
    with pytest.raises(CtlibError, match="needs a note"):
        releases.revise(project, "2025-Q1", note="  ", by="x")


def test_a_small_count_stays_hidden_in_every_later_release(project):
    (project / "cases.csv").write_text(cases({"2025-02": (6, 7), "2025-05": (2, 9)}))
    releases.record(project, "2025-Q1")
    second = releases.record(project, "2025-Q2")
    hidden = second.results.table[second.results.table["suppressed"]]
    reasons = {(r.period, r.category): r.suppression for r in hidden.itertuples()}
    # Q2 female 2; Q1 was published, so life of project and the year to date female (6 + Q2)
    # must go, and with them male
    assert reasons == {
        ("2025-Q2", "female"): "primary",
        ("2025-Q2", "male"): "complementary",
        ("2025", "female"): "complementary",
        ("2025", "male"): "complementary",
        ("life_of_project", "female"): "complementary",
        ("life_of_project", "male"): "complementary",
    }
    third = releases.record(project, "2025-Q2")
    again = third.results.table
    assert set(again.loc[again["suppressed"], "category"]) == {"female", "male"}
    ledger = Ledger(ledger_url(project))
    assert len(ledger.releases("tiny")) == 3
    ledger.close()


def test_release_commands(project):
    runner = CliRunner()
    releases.record(project, "2025-Q1")
    approved = runner.invoke(
        main, ["release", "approve", str(project), "--period", "2025-Q1", "--by", "Ana"]
    )
    assert approved.exit_code == 0, approved.output
    assert "Approved 2025-Q1 (release 1)" in approved.output
    listed = runner.invoke(main, ["release", "list", str(project)])
    assert listed.exit_code == 0, listed.output
    assert "2025-Q1" in listed.output and "Ana, " in listed.output
    again = runner.invoke(main, ["release", "approve", str(project), "--period", "2025-Q1"])
    assert again.exit_code == 2 and "was approved on" in again.output
    revised = runner.invoke(
        main,
        [
            "release",
            "revise",
            str(project),
            "--period",
            "2025-Q1",
            "--note",
            "late records",
            "--by",
            "Ana",
        ],
    )
    assert revised.exit_code == 0, revised.output
    assert "Revised 2025-Q1 (release 2)" in revised.output
