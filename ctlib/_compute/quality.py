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

import operator
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .._catalogue.model import Condition, Part
from .._data.project_data import ProjectData
from .._data.tables import CATEGORY, DATE, INTEGER, NUMBER, TABLES
from .._errors import CtlibError, Problem, ProjectError
from .engine import part_per_group
from .periods import Period, ReportingCalendar

OPERATORS = {
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "!=": operator.ne,
}
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
PERIOD_LABEL_TABLE = "reported_values"  # placed in periods by its `period` label, not by a date


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Aggregate(_Strict):
    """One aggregate of a standard table per period: count rows, count distinct values or sum a column."""

    table: str
    measure: Literal["count", "count_distinct", "sum"] = "count"
    column: str | None = None
    date: str | None = (
        None  # the date column that places a record in a period (reported_values: none)
    )
    filter: list[Condition] = Field(default_factory=list)
    cumulative: bool = False  # every record up to the end of the period, not only those within it

    @model_validator(mode="after")
    def _fits_table(self):
        if self.table not in TABLES:
            raise ValueError(
                f"unknown table {self.table!r}; standard tables are: {', '.join(TABLES)}"
            )
        table = TABLES[self.table]
        if self.measure != "count" and self.column is None:
            raise ValueError(f"measure {self.measure!r} needs a column")
        if (self.date is None) != (self.table == PERIOD_LABEL_TABLE):
            raise ValueError(
                "reported_values is placed by its period label and takes no date"
                if self.table == PERIOD_LABEL_TABLE
                else f"a rule on {self.table} needs a date column"
            )
        _check_column(table, self.date, (DATE,))
        _check_column(table, self.column, (INTEGER, NUMBER) if self.measure == "sum" else None)
        for condition in self.filter:
            column = _check_column(table, condition.column)
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if column.kind == CATEGORY and condition.op in ("equals", "in", "not"):
                unknown = [v for v in values if v not in column.categories]
                if unknown:
                    raise ValueError(
                        f"{unknown[0]!r} is not a category of {column.name!r}; "
                        f"allowed: {', '.join(column.categories)}"
                    )
        return self


def _check_column(table, name: str | None, kinds: tuple[str, ...] | None = None):
    if name is None:
        return None
    if name not in table.column_names:
        raise ValueError(f"table {table.name!r} has no column {name!r}")
    column = table.column(name)
    if kinds and column.kind not in kinds:
        raise ValueError(f"column {name!r} is {column.kind}, expected {' or '.join(kinds)}")
    return column


Item = Annotated[
    Annotated[Aggregate, Tag("aggregate")] | Annotated[float, Tag("number")],
    Discriminator(lambda value: "number" if isinstance(value, (int, float)) else "aggregate"),
]


class Rule(_Strict):
    """A consistency rule: left operator right, checked in every period."""

    name: str
    description: str = ""
    left: list[Item]
    operator: Literal["<=", "<", "==", ">=", ">", "!="]
    right: list[Item]
    missing_value_strategy: Literal["skip_if_any_missing", "skip_if_all_missing", "never_skip"] = (
        "skip_if_any_missing"
    )
    severity: Literal["error", "warning"] = "error"

    @field_validator("left", "right", mode="before")
    @classmethod
    def _as_list(cls, side):
        return side if isinstance(side, list) else [side]


def _count_rule(
    name: str, description: str, table: str, left: tuple[str, list], right: tuple[str, list]
) -> Rule:
    """A built-in rule: left rows so far <= right rows so far, each counted by its own date, cumulatively."""
    sides = [
        Aggregate(table=table, date=date, filter=conditions, cumulative=True)
        for date, conditions in (left, right)
    ]
    return Rule(name=name, description=description, left=sides[:1], operator="<=", right=sides[1:])


_CONVICTED = [Condition(column="verdict", op="equals", value="convicted")]
_PROSECUTED = [Condition(column="prosecution_date", op="is_null", value=False)]
DEFAULT_RULES = (
    _count_rule(
        "convictions_not_above_prosecutions",
        "people convicted so far cannot outnumber people prosecuted so far",
        "legal_cases",
        ("verdict_date", _CONVICTED),
        ("prosecution_date", _PROSECUTED),
    ),
    _count_rule(
        "prosecutions_not_above_investigations",
        "people prosecuted so far cannot outnumber people investigated so far",
        "legal_cases",
        ("prosecution_date", _PROSECUTED),
        ("investigation_date", []),
    ),
    _count_rule(
        "referred_not_above_identified",
        "people referred so far cannot outnumber people identified so far",
        "cases",
        ("referral_date", [Condition(column="is_referred", op="equals", value=True)]),
        ("identification_date", []),
    ),
)


def load_rules(data: ProjectData) -> list[Rule]:
    """The project's quality rules and the built-in defaults for its tables; ProjectError listing bad rules."""
    rules, problems = [], []
    for position, raw in enumerate(data.project.quality_rules):
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(
                    str(part) for part in detail["loc"] if part not in ("aggregate", "number")
                )
                name = raw.get("name", "") if isinstance(raw, dict) else ""
                problems.append(
                    Problem(
                        detail["msg"].removeprefix("Value error, "),
                        file="project.yaml",
                        entry=f"quality_rules[{position}]{f' ({name})' if name else ''}"
                        f"{f'.{where}' if where else ''}",
                        rule="quality rule",
                    )
                )
    if problems:
        raise ProjectError(f"project.yaml: {len(problems)} problem(s) in quality_rules", problems)
    names = {rule.name for rule in rules}
    defaults = [
        rule
        for rule in DEFAULT_RULES
        if rule.name not in names and _tables(rule) <= set(data.tables)
    ]
    return defaults + rules


def _tables(rule: Rule) -> set[str]:
    return {item.table for item in rule.left + rule.right if isinstance(item, Aggregate)}


# --- periods ---------------------------------------------------------------------------------------


class _Periods:
    """The periods checked (project start to the period of the latest record) and record placement."""

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


# --- the checks ------------------------------------------------------------------------------------


def completeness(data: ProjectData, periods: _Periods) -> pd.DataFrame:
    """Share of non-empty values of every input column of each table, per period (NaN: no records)."""
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
    """The aggregate's value per period label; NaN where no record of its table is dated in the period.

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
    """0.6745 (x - median) / MAD of each count; None when the MAD is 0 (no spread to compare with)."""
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


# --- the report ------------------------------------------------------------------------------------


@dataclass
class QualityReport:
    """What `check_quality` found; `problems` lists rule failures, outliers and gaps with their severity."""

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
    """Run every check on the project's data (see the module docstring); ProjectError for malformed rules."""
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
            f"{row.period}: {row.description or row.rule}: {_number(row.left)} {row.operator} "
            f"{_number(row.right)} does not hold",
            rule=row.rule,
            severity=row.severity,
        )
        for row in report.rule_results[report.rule_results["status"] == "failed"].itertuples()
    ]
    problems += [
        Problem(
            f"{row.period}: {row.records} records, unusual next to the median of {_number(row.median)} per "
            f"period (modified z-score {row.z_score:+.1f}); check for missing or double entries",
            entry=row.table,
            rule="outlier",
            severity="warning",
        )
        for row in report.outliers.itertuples()
    ]
    problems += [
        Problem(
            f"{row.period} ({row.period_start_date} … {row.period_end_date}): no records; were they entered?",
            entry=row.table,
            rule="timeliness",
            severity="warning",
        )
        for row in report.gaps.itertuples()
    ]
    return problems


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def completeness_chart(report: QualityReport, title: str | None = None):
    """Heatmap (altair) of completeness per column and period, for the columns the project fills at all."""
    from .._publish.charts import completeness_chart as heatmap

    table = report.completeness
    collected = table.groupby(["table", "column"])["filled"].transform("sum") > 0
    return heatmap(table[collected], title or f"Data completeness, {report.project_id}")


# --- a whole check, for `ctlib check` and the check_data workbook ----------------------------------------


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    """One row per problem: severity, where it is, what is wrong and the rule."""
    return pd.DataFrame(
        [
            {
                "severity": p.severity,
                "file": p.file,
                "sheet": p.sheet,
                "entry": p.entry,
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "problem": p.message,
                "rule": p.rule,
            }
            for p in problems
        ],
        columns=PROBLEM_COLUMNS,
    )


PROBLEM_COLUMNS = [
    "severity",
    "file",
    "sheet",
    "entry",
    "row",
    "column",
    "value",
    "problem",
    "rule",
]
SUMMARY_COLUMNS = ["table", "column", "records", "filled", "filled %", "lowest %", "in period"]


def completeness_summary(report: QualityReport) -> pd.DataFrame:
    """Per table and column ever filled: records, filled values and %, and the least complete period."""
    placed = report.completeness[report.completeness["records"] > 0]
    keys = ["table", "column"]
    summary = placed.groupby(keys, sort=False)[["records", "filled"]].sum()
    lowest = placed.loc[placed.groupby(keys, sort=False)["completeness"].idxmin()].set_index(keys)
    summary["filled %"] = (100 * summary["filled"] / summary["records"]).round(0).astype("Int64")
    summary["lowest %"] = lowest["completeness"].round(0).astype("Int64")
    summary["in period"] = lowest["period"]
    return summary[summary["filled"] > 0].reset_index()[SUMMARY_COLUMNS]


@dataclass
class CheckResult:
    """A project checked: its validation problems and, when its data loaded, the quality report."""

    project_dir: str
    data: ProjectData | None
    validation: list[Problem]
    report: QualityReport | None

    @property
    def problems(self) -> list[Problem]:
        return self.validation + (self.report.problems if self.report else [])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def verdict(self) -> str:
        warnings = len(self.problems) - len(self.errors)
        return f"{'passed' if self.passed else 'failed'}, {len(self.errors)} error(s), {warnings} warning(s)"

    def problems_table(self) -> pd.DataFrame:
        return problems_table(self.problems)

    def completeness_table(self) -> pd.DataFrame:
        """`completeness_summary` of the report (empty when the data did not load)."""
        return (
            completeness_summary(self.report)
            if self.report
            else pd.DataFrame(columns=SUMMARY_COLUMNS)
        )

    def completeness_chart(self):
        """The completeness heatmap; None when the data did not load."""
        return completeness_chart(self.report) if self.report else None

    def text(self) -> str:
        """The plain-text report: sections with ✓ (fine), ✗ (error) and ! (warning) markers."""
        lines = [f"ctlib check {self.project_dir}"]
        if self.data is not None:
            lines[0] += f": {self.data.project_id} ({self.data.project.project.name})"
        lines += ["", "Data validation"]
        if self.data is None:
            lines.append(f"  ✗ {len(self.errors)} problem(s); nothing else was checked")
        else:
            counts = ", ".join(
                f"{name} {len(frame):,} rows" for name, frame in self.data.tables.items()
            )
            lines.append(f"  ✓ {len(self.data.tables)} table(s) loaded: {counts}")
        lines += [f"  {'✗' if p.severity == 'error' else '!'} {p}" for p in self.validation]
        if self.report is not None:
            lines += _report_sections(self.report)
        return "\n".join([*lines, "", f"Result: {self.verdict()}"])


def check_project(project_dir) -> CheckResult:
    """Load and validate the project; run the quality checks when its data loads."""
    from .._data.ingest import load_project_data

    try:
        data = load_project_data(project_dir)
    except CtlibError as error:
        return CheckResult(str(project_dir), None, error.problems or [Problem(error.summary)], None)
    try:
        return CheckResult(str(project_dir), data, list(data.warnings), check_quality(data))
    except CtlibError as error:  # malformed quality rules
        return CheckResult(str(project_dir), data, [*data.warnings, *error.problems], None)


def _report_sections(report: QualityReport) -> list[str]:
    lines = [
        "",
        f"Periods checked: {report.periods[0]} … {report.periods[-1]} ({len(report.periods)})",
        "",
        "Completeness",
    ]
    summary = completeness_summary(report)
    incomplete = summary[summary["lowest %"] < 100]
    lines.append(f"  ✓ {len(summary) - len(incomplete)} column(s) filled in every record")
    if not incomplete.empty:
        lines.append(f"  {len(incomplete)} column(s) with empty values:")
        shown = incomplete.drop(columns=["records", "filled"]).to_string(index=False)
        lines += ["    " + line for line in shown.splitlines()]
    collected = set(zip(summary["table"], summary["column"]))
    never = sorted(
        {
            f"{t}.{c}"
            for t, c in zip(report.completeness["table"], report.completeness["column"])
            if (t, c) not in collected
        }
    )
    if never:
        lines.append(f"  not collected (always empty): {', '.join(never)}")
    lines += ["", "Consistency rules"]
    for name, results in report.rule_results.groupby("rule", sort=False):
        counts = results["status"].value_counts()
        tally = ", ".join(
            f"{counts[s]} {s}" for s in ("failed", "passed", "skipped") if s in counts
        )
        failed = results[results["status"] == "failed"]
        marker = "✓" if failed.empty else ("✗" if failed["severity"].iloc[0] == "error" else "!")
        lines.append(f"  {marker} {name}: {tally}")
        lines += [
            f"      {row.period}: {_number(row.left)} {row.operator} {_number(row.right)} does not hold"
            for row in failed.itertuples()
        ]
    lines += ["", f"Outliers (records per period, modified z-score above {OUTLIER_Z})"]
    lines += (
        ["  ✓ none"]
        if report.outliers.empty
        else [
            f"  ! {row.table} {row.period}: {row.records:,} records (median {_number(row.median)}, z {row.z_score:+.1f})"
            for row in report.outliers.itertuples()
        ]
    )
    lines += ["", "Timeliness (periods without records)"]
    lines += (
        ["  ✓ every period has records"]
        if report.gaps.empty
        else [
            f"  ! {row.table} {row.period} ({row.period_start_date} … {row.period_end_date})"
            for row in report.gaps.itertuples()
        ]
    )
    return lines
