"""Data-quality checks beyond the schema: completeness, consistency rules, outliers and timeliness.

`check_quality(data)` looks at every reporting period from the project start up to the period of
the latest record, and returns a `QualityReport`:

- completeness: the share of non-empty values of each standard column, per table and period;
- consistency rules, in the style of DHIS2 validation rules: a left and a right side, each one
  aggregate (or a list of aggregates and numbers, added up) compared with an operator in every
  period. An aggregate is *missing* in a period when no record of its table is dated in that
  period by the aggregate's date column (cumulative: on or before the period's end); the rule's
  `missing_value_strategy` then decides: `skip_if_any_missing` (the default),
  `skip_if_all_missing`, or `never_skip` (missing counts as 0). An aggregate's filter and measure
  are read as the engine reads a recipe's part (`engine.part_per_group`: a missing value equals
  nothing, so `not` keeps it). Rules come from project.yaml
  (`quality_rules`) and from built-in defaults for the tables present (a project rule with the
  same name replaces a default);
- outliers: periods whose record count is far from the others (modified z-score above 3.5, from
  at least 4 complete periods);
- gaps (timeliness): periods without any record in a table that should have records every period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._catalogue.model import Part
from .._data.project_data import ProjectData
from .._data.tables import TABLES
from .._errors import Problem
from .._format import number_text
from .engine import part_per_group
from .periods import Period, ReportingCalendar
from .rules import OPERATORS, PERIOD_LABEL_TABLE, Aggregate, Rule, load_rules

OUTLIER_Z = 3.5  # Iglewicz and Hoaglin's cut-off for the modified z-score
OUTLIER_MIN_PERIODS = 4
# Tables expected to receive records every period (surveys and milestones come now and then).
PERIODIC_TABLES = (
    "cases",
    "services",
    "activities",
    "participants",
    "legal_cases",
    "reported_values",
)
RULE_COLUMNS = ["rule", "period", "left", "operator", "right", "status", "severity", "description"]


# --- periods --------------------------------------------------------------------------------------


class _Periods:
    """The periods checked and record placement.

    The periods run from the project start to the period of the latest record.
    """

    def __init__(self, data: ProjectData):
        self.calendar = ReportingCalendar(data.project)
        self.latest_date = self.calendar.latest_record_date(data.tables)
        every = self.calendar.periods()
        self.periods: list[Period] = [
            p for p in every if self.latest_date and p.start_date <= self.latest_date
        ]
        self.labels = [p.label for p in self.periods]

    def codes(self, frame: pd.DataFrame, table: str, date: str | None = None) -> np.ndarray:
        """Position in `periods` of each row (-1: outside the checked periods or undated)."""
        if table == PERIOD_LABEL_TABLE:
            position = {label: i for i, label in enumerate(self.labels)}
            return np.array([position.get(label, -1) for label in frame["period"]], dtype=np.int64)
        codes = self.calendar.codes(frame[date or TABLES[table].date_columns_in_period[0]])
        return np.where(codes < len(self.periods), codes, -1)

    def is_complete(self, period: Period) -> bool:
        return period.end_date <= self.latest_date


# --- the checks -----------------------------------------------------------------------------------


def completeness(data: ProjectData, periods: _Periods) -> pd.DataFrame:
    """Share of non-empty values of every input column of each table, per period.

    NaN: no records.
    """
    n = len(periods.labels)
    frames = []
    for name, frame in data.tables.items():
        columns = [c.name for c in TABLES[name].input_columns if c.name in frame.columns]
        codes = periods.codes(frame, name)
        placed = codes >= 0
        filled = (
            frame.loc[placed, columns]
            .notna()
            .groupby(codes[placed])
            .sum()
            .reindex(range(n), fill_value=0)
        )
        frames.append(
            pd.DataFrame(
                {
                    "table": name,
                    "column": np.repeat(columns, n),
                    "period": np.tile(periods.labels, len(columns)),
                    "records": np.tile(np.bincount(codes[placed], minlength=n), len(columns)),
                    "filled": filled.to_numpy().T.ravel(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=["table", "column", "period", "records", "filled", "completeness"]
        )
    result = pd.concat(frames, ignore_index=True)
    share = 100 * result["filled"] / result["records"].where(result["records"] > 0)
    result["completeness"] = share.astype("Float64")
    return result.astype({"records": "Int64", "filled": "Int64"})


def aggregate(data: ProjectData, periods: _Periods, item: Aggregate) -> pd.Series:
    """The aggregate's value per period label.

    NaN where no record of its table is dated in the period.

    Cumulative: every record up to the end of the period (those dated before the project start
    included), missing until the first record.
    """
    frame = data.tables[item.table]
    codes = periods.codes(frame, item.table, item.date)
    if item.cumulative:
        before_start = (
            (frame[item.date] < pd.Timestamp(periods.calendar.start_date)).fillna(False).to_numpy()
        )
        codes = np.where(before_start, 0, codes)
    n = len(periods.labels)
    has_records = np.bincount(codes[codes >= 0], minlength=n) > 0
    part = Part(filter=item.filter, aggregate=item.measure, column=item.column)
    values = part_per_group(data, item.table, part, codes, n)
    if item.cumulative:
        has_records = np.maximum.accumulate(has_records)
        values = np.cumsum(values)
    return pd.Series(np.where(has_records, values, np.nan), index=periods.labels)


def evaluate_rule(data: ProjectData, periods: _Periods, rule: Rule) -> pd.DataFrame:
    """One row per period: both sides, and whether the rule passed, failed or was skipped."""
    sides = {}
    missing = {}
    for side in ("left", "right"):
        items = [
            aggregate(data, periods, item)
            if isinstance(item, Aggregate)
            else pd.Series(float(item), index=periods.labels)
            for item in getattr(rule, side)
        ]
        stacked = pd.concat(items, axis=1)
        sides[side] = stacked.fillna(0).sum(axis=1)
        missing[side] = stacked.isna()
    every_item = pd.concat([missing["left"], missing["right"]], axis=1)
    skip = {
        "skip_if_any_missing": every_item.any(axis=1),
        "skip_if_all_missing": every_item.all(axis=1),
        "never_skip": pd.Series(False, index=periods.labels),
    }[rule.missing_value_strategy]
    holds = OPERATORS[rule.operator](sides["left"], sides["right"])
    status = np.where(skip, "skipped", np.where(holds, "passed", "failed"))
    return pd.DataFrame(
        {
            "rule": rule.name,
            "period": periods.labels,
            "left": sides["left"].where(~skip).to_numpy(),
            "operator": rule.operator,
            "right": sides["right"].where(~skip).to_numpy(),
            "status": status,
            "severity": rule.severity,
            "description": rule.description,
        }
    )


def record_counts(data: ProjectData, periods: _Periods) -> dict[str, np.ndarray]:
    """Records per period of each periodic table present."""
    return {
        name: np.bincount(codes[codes >= 0], minlength=len(periods.labels))
        for name in PERIODIC_TABLES
        if name in data.tables
        for codes in [periods.codes(data.tables[name], name)]
    }


def modified_z_scores(counts: np.ndarray) -> np.ndarray | None:
    """0.6745 (x - median) / MAD of each count.

    None when the MAD is 0 (no spread to compare with).
    """
    median = np.median(counts)
    mad = np.median(np.abs(counts - median))
    return None if mad == 0 else 0.6745 * (counts - median) / mad


def outliers(counts: dict[str, np.ndarray], periods: _Periods) -> pd.DataFrame:
    """Complete periods whose record count has a modified z-score above OUTLIER_Z, per table."""
    complete = np.array([periods.is_complete(p) for p in periods.periods], dtype=bool)
    rows = []
    for name, per_period in counts.items() if complete.sum() >= OUTLIER_MIN_PERIODS else ():
        scores = modified_z_scores(per_period[complete].astype(float))
        if scores is None:
            continue
        labels = np.array(periods.labels)[complete]
        rows += [
            (name, label, int(count), float(np.median(per_period[complete])), round(float(z), 2))
            for label, count, z in zip(labels, per_period[complete], scores)
            if abs(z) > OUTLIER_Z
        ]
    return pd.DataFrame(rows, columns=["table", "period", "records", "median", "z_score"])


def gaps(counts: dict[str, np.ndarray], periods: _Periods) -> pd.DataFrame:
    """Periods without any record in a periodic table."""
    rows = [
        (name, period.label, period.start_date, period.end_date)
        for name, per_period in counts.items()
        for period, count in zip(periods.periods, per_period)
        if count == 0
    ]
    return pd.DataFrame(rows, columns=["table", "period", "period_start_date", "period_end_date"])


# --- the report -----------------------------------------------------------------------------------


@dataclass
class QualityReport:
    """What `check_quality` found.

    `problems` lists rule failures, outliers and gaps with their severity.
    """

    project_id: str
    periods: list[str]
    completeness: pd.DataFrame
    rule_results: pd.DataFrame
    outliers: pd.DataFrame
    gaps: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def check_quality(data: ProjectData) -> QualityReport:
    """Run every check on the project's data (see the module docstring).

    ProjectError for malformed rules.
    """
    rules = load_rules(data)
    periods = _Periods(data)
    results = [evaluate_rule(data, periods, rule) for rule in rules] if periods.labels else []
    rule_results = (
        pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=RULE_COLUMNS)
    )
    counts = record_counts(data, periods)
    report = QualityReport(
        data.project_id,
        periods.labels,
        completeness(data, periods),
        rule_results,
        outliers(counts, periods),
        gaps(counts, periods),
    )
    report.problems = _problems(report)
    return report


def _problems(report: QualityReport) -> list[Problem]:
    problems = [
        Problem(
            f"{row.description or row.rule}: {number_text(row.left)} {row.operator} "
            f"{number_text(row.right)} does not hold",
            rule=row.rule,
            period=row.period,
            severity=row.severity,
        )
        for row in report.rule_results[report.rule_results["status"] == "failed"].itertuples()
    ]
    problems += [
        Problem(
            f"{row.records} records, unusual next to the median of {number_text(row.median)} per "
            f"period (modified z-score {row.z_score:+.1f}); check for missing or double entries",
            entry=row.table,
            period=row.period,
            rule="outlier",
            severity="warning",
        )
        for row in report.outliers.itertuples()
    ]
    problems += [
        Problem(
            f"no records dated {row.period_start_date} … {row.period_end_date}; were they entered?",
            entry=row.table,
            period=row.period,
            rule="timeliness",
            severity="warning",
        )
        for row in report.gaps.itertuples()
    ]
    return problems
