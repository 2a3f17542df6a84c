"""IPTT, pillar summary and portfolio on the engine's hand-checked fixture."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ctlib.catalogue import Catalogue
from ctlib.errors import PeriodError
from ctlib.privacy import suppress
from ctlib.views import iptt, pillar_summary, portfolio
from test_engine import REFERRED, make_indicator, run

COUNT = make_indicator("T-COUNT", name="Cases identified")
REFERRALS = make_indicator("T-REF", date="referral_date", filter=REFERRED, name="Cases referred")
TRAINED = make_indicator("T-TRAIN", table="participants", date="completion_date", pillar="prevention",
                         name="People trained")
CATALOGUE = Catalogue([COUNT, REFERRALS, TRAINED], version="test")
TARGETS = {
    "T-COUNT": {"baseline": {"value": 2}, "targets": {"2025-Q1": 3, "2025-Q2": 2, "life_of_project": 10},
                "disaggregations": ["sex"]},
    "T-REF": {"targets": {"2025-Q2": 10}},
}


def quarter_results():
    return run([COUNT, REFERRALS, TRAINED], TARGETS, periods=["2025-Q1", "2025-Q2"])


def test_iptt_one_row_per_indicator_with_life_of_project_then_periods():
    table = iptt(quarter_results(), CATALOGUE)
    assert table.columns[:8].tolist() == ["number", "indicator_id", "indicator", "pillar", "level", "unit",
                                          "direction", "baseline"]
    assert table.columns[8:12].tolist() == ["life_of_project target", "life_of_project actual",
                                            "life_of_project % met", "life_of_project status"]
    assert table.columns[-4:].tolist() == ["2025-Q2 target", "2025-Q2 actual", "2025-Q2 % met", "2025-Q2 status"]
    assert table["indicator_id"].tolist() == ["T-COUNT", "T-REF", "T-TRAIN"]
    assert table["number"].tolist() == [1, 2, 3]
    count = table.iloc[0]
    # cases: Q1 3 of 3 (100 %), Q2 3 of 2 (150 %, above), LoP to Q2 6 of 10 (60 %, below)
    assert count["indicator"] == "Cases identified" and count["baseline"] == 2
    assert count[["2025-Q1 actual", "2025-Q1 % met", "2025-Q1 status"]].tolist() == [3, 100, "on track"]
    assert count[["2025-Q2 actual", "2025-Q2 % met", "2025-Q2 status"]].tolist() == [3, 150, "above"]
    assert count[["life_of_project target", "life_of_project actual", "life_of_project % met"]].tolist() == [10, 6, 60]
    # referrals Q2: 3 of 10 → 30 % below; no target in Q1
    assert table.iloc[1][["2025-Q2 % met", "2025-Q2 status", "2025-Q1 status"]].tolist() == [30, "below", "no target"]
    assert np.isnan(table.iloc[1]["2025-Q1 target"])


def test_iptt_of_suppressed_results_shows_why_actual_is_empty():
    results = suppress(quarter_results(), k=5)
    table = iptt(results, CATALOGUE)
    # every count is below 5 except the LoP count of cases (6)
    assert table.loc[0, "2025-Q1 status"] == "suppressed" and np.isnan(table.loc[0, "2025-Q1 actual"])
    assert table.loc[0, "life_of_project actual"] == 6


def test_pillar_summary_counts_statuses_per_pillar():
    summary = pillar_summary(quarter_results(), CATALOGUE).set_index("pillar")
    # Q2: protection: T-COUNT above (3 of 2), T-REF below (3 of 10); prevention: T-TRAIN 1 (p5), no target
    assert summary.index.tolist() == ["prevention", "protection"]
    assert summary.loc["protection", ["above", "below", "indicators"]].tolist() == [1, 1, 2]
    assert summary.loc["prevention", ["no target", "indicators"]].tolist() == [1, 1]
    assert set(summary["period"]) == {"2025-Q2"}
    life = pillar_summary(quarter_results(), CATALOGUE, period="life_of_project").set_index("pillar")
    assert life.loc["protection", ["below", "no target"]].tolist() == [1, 1]  # count 60 %; referrals no LoP target
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
    assert row[["test period", "test actual", "test status"]].tolist() == ["2025-Q2", 3, "above"]
    assert row[["other period", "other actual", "other status"]].tolist() == ["2025-Q1", 3, "no target"]
    alone = portfolio([first], CATALOGUE, period="life_of_project")
    assert alone["indicator_id"].tolist() == ["T-COUNT", "T-REF"]
    assert alone["test actual"].tolist() == [6, 4]
