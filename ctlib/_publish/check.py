"""A whole check of a project, for `ctlib check` and the check_data workbook: validation
problems, the quality report, and their text, tables and chart."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .._compute.engine import check as compute_check
from .._compute.quality import OUTLIER_Z, QualityReport, check_quality
from .._data.ingest import load_project_data
from .._data.project_data import ProjectData
from .._errors import CtlibError, Problem
from .._format import number_text


def completeness_chart(report: QualityReport, title: str | None = None):
    """Heatmap (altair) of completeness per column and period.

    For the columns the project fills at all.
    """
    from .._publish.charts import completeness_chart as heatmap

    table = report.completeness
    collected = table.groupby(["table", "column"])["filled"].transform("sum") > 0
    return heatmap(table[collected], title or f"Data completeness, {report.project_id}")


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
    """Per table and column ever filled.

    Records, filled values and %, and the least complete period.
    """
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
    """A project checked: its validation problems and, when its data loaded, what computing its
    indicators refuses or reports (`engine.check`) and the quality report."""

    project_dir: str
    data: ProjectData | None
    validation: list[Problem]
    report: QualityReport | None
    indicators: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return self.validation + self.indicators + (self.report.problems if self.report else [])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def verdict(self) -> str:
        warnings = len(self.problems) - len(self.errors)
        return (
            f"{'passed' if self.passed else 'failed'}, {len(self.errors)} error(s), "
            f"{warnings} warning(s)"
        )

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
        lines += [_marked(p) for p in self.validation]
        if self.data is not None:
            lines += ["", "Indicators"]
            selected = len(self.data.project.indicators)
            if not self.indicators:
                lines.append(f"  ✓ {selected} selected indicator(s) can be computed from the data")
            lines += [_marked(p) for p in self.indicators]
        if self.report is not None:
            lines += _report_sections(self.report)
        return "\n".join([*lines, "", f"Result: {self.verdict()}"])


def check_project(project_dir) -> CheckResult:
    """Load and validate the project; run the quality checks when its data loads."""

    try:
        data = load_project_data(project_dir)
    except CtlibError as error:
        return CheckResult(str(project_dir), None, error.problems or [Problem(error.summary)], None)
    indicators = compute_check(data)
    try:
        report = check_quality(data)
    except CtlibError as error:  # malformed quality rules
        return CheckResult(
            str(project_dir), data, [*data.warnings, *error.problems], None, indicators
        )
    return CheckResult(str(project_dir), data, list(data.warnings), report, indicators)


def _marked(problem: Problem) -> str:
    return f"  {'✗' if problem.severity == 'error' else '!'} {problem}"


def _report_sections(report: QualityReport) -> list[str]:
    if not report.periods:
        return [
            "",
            "No records yet: completeness, consistency, outliers and timeliness are checked "
            "once the data files have rows dated in the project's periods.",
        ]
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
            (
                f"      {row.period}: {number_text(row.left)} {row.operator} "
                f"{number_text(row.right)} does not hold"
            )
            for row in failed.itertuples()
        ]
    lines += ["", f"Outliers (records per period, modified z-score above {OUTLIER_Z})"]
    lines += (
        ["  ✓ none"]
        if report.outliers.empty
        else [
            (
                f"  ! {row.table} {row.period}: {row.records:,} records (median "
                f"{number_text(row.median)}, z {row.z_score:+.1f})"
            )
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
