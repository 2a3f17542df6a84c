"""IPTT, pillar summary and portfolio on the engine's hand-checked fixture."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_engine import REFERRED, make_indicator, run

from ctlib._catalogue import Catalogue
from ctlib._compute.privacy import suppress
from ctlib._errors import PeriodError
from ctlib._publish import releases
from ctlib._publish.views import iptt, pillar_summary, portfolio

COUNT = make_indicator("T-COUNT", name="Cases identified")
REFERRALS = make_indicator("T-REF", date="referral_date", filter=REFERRED, name="Cases referred")
TRAINED = make_indicator(
    "T-TRAIN",
    table="participants",
    date="completion_date",
    pillar="prevention",
    name="People trained",
)
CATALOGUE = Catalogue([COUNT, REFERRALS, TRAINED], version="test")
TARGETS = {
    "T-COUNT": {
        "baseline": {"value": 2},
        "targets": {"2025-Q1": 3, "2025-Q2": 2, "life_of_project": 10},
        "disaggregations": ["sex"],
    },
    "T-REF": {"targets": {"2025-Q2": 10}},
}


def quarter_results():
    return run([COUNT, REFERRALS, TRAINED], TARGETS, periods=["2025-Q1", "2025-Q2"])


def test_iptt_one_row_per_indicator_with_life_of_project_then_periods():
    table = iptt(quarter_results(), CATALOGUE)
    assert table.columns[:8].tolist() == [
        "number",
        "indicator_id",
        "indicator",
        "pillar",
        "level",
        "unit",
        "direction",
        "baseline",
    ]
    assert table.columns[8:14].tolist() == [
        "life_of_project target",
        "life_of_project actual",
        "life_of_project % met",
        "life_of_project full target",
        "life_of_project % of full target",
        "life_of_project status",
    ]
    assert table.columns[-4:].tolist() == [
        "2025-Q2 target",
        "2025-Q2 actual",
        "2025-Q2 % met",
        "2025-Q2 status",
    ]
    assert table["indicator_id"].tolist() == ["T-COUNT", "T-REF", "T-TRAIN"]
    assert table["number"].tolist() == [1, 2, 3]
    count = table.iloc[0]
    # cases: Q1 3 of 3 (100 %), Q2 3 of 2 (150 %, ahead); LoP to Q2 6 against its target to date
    # 3 + 2 = 5 (120 %, ahead), and 6 of the whole project's 10 (60 %)
    assert count["indicator"] == "Cases identified" and count["baseline"] == 2
    assert count[["2025-Q1 actual", "2025-Q1 % met", "2025-Q1 status"]].tolist() == [
        3,
        100,
        "on track",
    ]
    assert count[["2025-Q2 actual", "2025-Q2 % met", "2025-Q2 status"]].tolist() == [
        3,
        150,
        "ahead",
    ]
    assert count[
        ["life_of_project target", "life_of_project actual", "life_of_project % met"]
    ].tolist() == [5, 6, 120]
    assert count[["life_of_project full target", "life_of_project % of full target"]].tolist() == [
        10,
        60,
    ]
    # referrals Q2: 3 of 10 → 30 % below; no target in Q1
    assert table.iloc[1][["2025-Q2 % met", "2025-Q2 status", "2025-Q1 status"]].tolist() == [
        30,
        "behind",
        "no target",
    ]
    assert np.isnan(table.iloc[1]["2025-Q1 target"])


def test_iptt_of_suppressed_results_shows_why_actual_is_empty():
    results = suppress(quarter_results(), k=5)
    table = iptt(results, CATALOGUE)
    # every count is below 5 except the LoP count of cases (6)
    assert table.loc[0, "2025-Q1 status"] == "suppressed" and np.isnan(
        table.loc[0, "2025-Q1 actual"]
    )
    assert table.loc[0, "life_of_project actual"] == 6


def test_pillar_summary_counts_statuses_per_pillar():
    summary = pillar_summary(quarter_results(), CATALOGUE).set_index("pillar")
    # Q2: protection: T-COUNT above (3 of 2), T-REF below (3 of 10); prevention: T-TRAIN 1
    # (p5), no target
    assert summary.index.tolist() == ["prevention", "protection"]
    assert summary.loc["protection", ["ahead", "behind", "indicators"]].tolist() == [1, 1, 2]
    assert summary.loc["prevention", ["no target", "indicators"]].tolist() == [1, 1]
    assert set(summary["period"]) == {"2025-Q2"}
    life = pillar_summary(quarter_results(), CATALOGUE, period="life_of_project").set_index(
        "pillar"
    )
    # count: 120 % of its target to date (ahead); referrals: the last target set (Q2: 10), 3
    # of 10 behind
    assert life.loc["protection", ["ahead", "behind"]].tolist() == [1, 1]
    with pytest.raises(PeriodError, match="was not computed"):
        pillar_summary(quarter_results(), CATALOGUE, period="2025-Q4")


def test_portfolio_puts_projects_side_by_side_on_shared_indicators():
    first = run([COUNT, REFERRALS], TARGETS, periods=["2025-Q1", "2025-Q2"])
    second = run([COUNT, TRAINED], periods="2025-Q1")
    second = dataclasses.replace(second, project_id="other")
    table = portfolio([first, second], CATALOGUE)
    # only T-COUNT is in both projects; each project shows its own latest period
    assert table["indicator_id"].tolist() == ["T-COUNT"]
    row = table.iloc[0]
    assert row[["test period", "test actual", "test status"]].tolist() == ["2025-Q2", 3, "ahead"]
    assert row[["other period", "other actual", "other status"]].tolist() == [
        "2025-Q1",
        3,
        "no target",
    ]
    alone = portfolio([first], CATALOGUE, period="life_of_project")
    assert alone["indicator_id"].tolist() == ["T-COUNT", "T-REF"]
    assert alone["test actual"].tolist() == [6, 4]


# -- the CLI ---------------------------------------------------------------------------------------
PROJECT_YAML = """
project: {id: cli-test, name: CLI test, organisation: NGO, donor: Donor, country: TH,
          start_date: 2025-01-01, end_date: 2025-12-31}
results_chain: {objective: Fewer people trafficked}
indicators:
  - {id: PROT-02, disaggregations: [sex], targets: {2025-Q1: 10, life_of_project: 40}}
sources:
  cases: {file: cases.csv}
"""


@pytest.fixture
def project_dir(tmp_path):
    """12 victims identified in 2025-Q1: 8 female, 3 male, 1 of unknown sex."""
    (tmp_path / "project.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    sexes = ["female"] * 8 + ["male"] * 3 + ["unknown"]
    lines = ["case_id,identification_date,sex,trafficking_status"]
    lines += [f"c{n},2025-02-{n + 1:02d},{sex},actual" for n, sex in enumerate(sexes)]
    (tmp_path / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def invoke(*args):
    from click.testing import CliRunner

    from ctlib._cli import main

    return CliRunner().invoke(main, ["results", *map(str, args)])


def test_cli_results_for_donors_are_the_published_release(project_dir, monkeypatch):
    monkeypatch.delenv("CTLIB_LEDGER_URL", raising=False)
    before = invoke(project_dir, "--period", "2025-Q1")
    assert before.exit_code == 2 and "no donor release of 2025-Q1" in before.output
    assert not (project_dir / ".ctlib").exists()  # reading made no ledger
    releases.record(project_dir, "2025-Q1")
    (project_dir / "cases.csv").unlink()  # donors' figures come from the ledger, not the data
    result = invoke(project_dir, "--period", "2025-Q1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "CLI test · as published in release 1 (2025-Q1, 2025, life_of_project; draft: 2025-Q1, "
        "2025, life_of_project) · donor: counts under 5 hidden"
    )
    assert lines[1].split() == [
        "indicator_id",
        "period",
        "dimension",
        "category",
        "numerator",
        "denominator",
        "value",
        "target",
        "achievement",
        "status",
        "suppression",
        "unit",
    ]
    rows = [line.split() for line in lines[2:] if " 2025-Q1 " in line]
    # total 12 of target 10 = 120 % → ahead; male 3 and unknown 1 are under 5 (female 8 stays)
    assert rows == [
        ["PROT-02", "2025-Q1", "total", "total", "12", "12", "10", "120%", "ahead", "count"],
        ["PROT-02", "2025-Q1", "sex", "female", "8", "8", "no", "target", "count"],
        ["PROT-02", "2025-Q1", "sex", "male", "<5", "<5", "<5", "suppressed", "primary", "count"],
        [
            "PROT-02",
            "2025-Q1",
            "sex",
            "unknown",
            "<5",
            "<5",
            "<5",
            "suppressed",
            "primary",
            "count",
        ],
    ]


def test_cli_internal_csv_and_iptt(project_dir):
    result = invoke(project_dir, "--period", "2025-Q1", "--audience", "internal", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("project_id,indicator_id,period,")
    assert ",male,False,3.0," in result.output and ",internal," in result.output
    internal = ("--period", "2025-Q1", "--audience", "internal")
    result = invoke(project_dir, *internal, "--view", "iptt")
    assert "life_of_project actual" in result.output.splitlines()[1]
    result = invoke(project_dir, *internal, "--view", "summary", "--format", "csv")
    header, protection = result.output.splitlines()[:2]
    counts = dict(zip(header.split(","), protection.split(",")))
    assert counts["ahead"] == "1" and counts["indicators"] == "1" and counts["period"] == "2025-Q1"
    assert sum(int(counts[s]) for s in header.split(",")[1:-2]) == 1


def test_cli_bad_period_is_a_one_line_error(project_dir):
    result = invoke(project_dir, "--period", "2030-Q1", "--audience", "internal")
    assert result.exit_code == 2
    assert "outside the project span 2025-01-01 … 2025-12-31" in result.output
    assert "Traceback" not in result.output
