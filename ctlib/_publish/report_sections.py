"""What the quarterly report shows: its data, prepared once, and each section as HTML.

`prepare()` loads a project, resolves "latest" to a real period label and computes the results
for the audience (suppressed for donors) over every reporting period up to it. Each section
function returns an `IPython.display.HTML` made only of aggregated, suppressed figures; the
notebook `notebooks/quarterly_report.ipynb` displays them in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from .. import __version__
from .._catalogue import describe_method, pirs_sections
from .._compute.engine import TOTAL, Results, compute
from .._compute.periods import ReportingCalendar
from .._compute.privacy import SUPPRESSED, suppress
from .._compute.quality import check_quality
from .._data.ingest import load_project_data
from .._data.project_data import ProjectData
from .._data.project_model import LIFE_OF_PROJECT
from .._data.tables import PILLARS
from .._errors import ReportError
from . import charts
from .check import completeness_chart
from .environment import file_sha256
from .html_table import html_table
from .views import iptt

STATUS_WORDS = {
    "above": "above target",
    "on track": "on track",
    "below": "below target",
    "no target": "without a target",
    "no data": "without data",
    "incomplete": "with incomplete source figures",
    "suppressed": "hidden to protect survivors",
}
COMPLETENESS_PERIODS = 4  # the data-quality heatmap shows the report period and the three before it


@dataclass
class ReportData:
    """One project's report: its data, the resolved period and the results for the audience."""

    data: ProjectData
    period: str  # the real label, never "latest"
    audience: str
    k: int
    results: Results  # reporting periods up to `period`, then life of project to date
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())

    @property
    def project_id(self) -> str:
        return self.data.project_id

    def totals(self, period: str | None = None) -> pd.DataFrame:
        """Total rows of `period` (default: the report period), with each indicator's name and pillar."""
        table = self.results.table
        rows = table[(table["dimension"] == TOTAL) & (table["period"] == (period or self.period))]
        entries = [self.data.catalogue.get(i) for i in rows["indicator_id"]]
        return rows.assign(
            indicator_name=[e.name for e in entries], pillar=[e.pillar for e in entries]
        )

    def indicators(self, pillar: str | None = None) -> list:
        """The catalogue entries of the project's selected indicators (of one pillar), in its order."""
        entries = [self.data.catalogue.get(s.id) for s in self.data.project.indicators]
        return [e for e in entries if pillar is None or e.pillar == pillar]


def prepare(
    project_dir: Path | str,
    period: str = "latest",
    audience: str = "donor",
    min_cell_size: int | None = None,
) -> ReportData:
    """Load, resolve the period and compute; CtlibError (saying what to fix) for bad input."""
    project_dir = Path(project_dir)
    if not (project_dir / "project.yaml").is_file():
        raise ReportError(f"no project.yaml in {project_dir}: give the folder of a project")
    if min_cell_size is not None and min_cell_size < 1:
        raise ReportError(f"min_cell_size must be 1 or more, not {min_cell_size}")
    data = load_project_data(project_dir)
    calendar = ReportingCalendar(data.project)
    chosen = calendar.latest(data) if period == "latest" else calendar.parse(period)
    if chosen.label == LIFE_OF_PROJECT:
        raise ReportError(
            "a quarterly report needs a period such as 2026-Q2, not life_of_project "
            "(life of project to date is in every report)"
        )
    labels = [p.label for p in calendar.periods(chosen.kind) if p.end_date <= chosen.end_date]
    k = min_cell_size or data.project.privacy.min_cell_size
    results = suppress(compute(data, periods=labels), k, audience)
    return ReportData(data, chosen.label, audience, k, results)


def input_hashes(data: ProjectData) -> dict[str, str]:
    """sha256 of every input file (project.yaml and data files), keyed by path within the project."""
    return {
        Path(os.path.relpath(path, data.directory)).as_posix(): file_sha256(path)
        for path in data.input_files
    }


def xlsx_notes(report: ReportData) -> dict[str, str]:
    """The notes sheet of iptt.xlsx: what a reader needs to trust the figures."""
    identity = report.data.project.project
    return {
        "Project": f"{identity.name} ({identity.id})",
        "Organisation": identity.organisation,
        "Donor": identity.donor,
        "Period": _period_text(report, report.period),
        "Audience": report.audience,
        "Suppression rule": _suppression_text(report),
        "Status bands": _bands_text(report),
        "Generated": report.generated.strftime("%Y-%m-%d %H:%M %Z"),
        "ctlib version": __version__,
        "Catalogue version": report.data.catalogue.version,
    }


# --- small HTML helpers ----------------------------------------------------------------------------

STYLE = """
<style>
.ct-report { font-size: 14px; line-height: 1.45; color: #1a1a1a; max-width: 62rem; }
.ct-report h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
.ct-report h3 { margin-top: 2rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
.ct-report h4 { margin: 1.6rem 0 .4rem; }
.ct-report table.ctlib-table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 13px; }
.ct-report table.ctlib-table th, .ct-report table.ctlib-table td { border: 1px solid #d0d0d0; padding: .25rem .5rem;
  text-align: left; vertical-align: top; }
.ct-report table.ctlib-table th { background: #f2f2f2; }
.ct-report table.ctlib-table td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ct-report table.ctlib-table caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
.ct-report .status { display: inline-block; padding: 0 .4rem; border-radius: .6rem; white-space: nowrap;
  border: 1px solid #888; }
.ct-report .status-above { background: #CCE3F0; } .ct-report .status-on-track { background: #CCECE3; }
.ct-report .status-below { background: #F7D7C2; } .ct-report .status-no-target { background: #E6E6E6; }
.ct-report .status-no-data { background: #FBEACC; } .ct-report .status-suppressed { background: #F3DCEA; }
.ct-report figure { margin: .8rem 0 1.2rem; } .ct-report figure svg { max-width: 100%; height: auto; }
.ct-report .comment { border-left: 4px solid #E69F00; background: #fff8ea; padding: .4rem .8rem; }
.ct-report .note { color: #555; font-size: 12.5px; }
.ct-report dl.sheet { display: grid; grid-template-columns: 12rem 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
.ct-report dl.sheet dt, .ct-report dl.sheet dd { float: none; width: auto; margin: 0; }
.ct-report code { font-size: 11.5px; word-break: break-all; }
.ct-internal { position: fixed; top: 0; left: 0; right: 0; z-index: 10; background: #D55E00; color: white;
  font-weight: bold; padding: .4rem .8rem; text-align: center; }
body:has(.ct-internal) { padding-top: 2.4rem; }
@media print { figure, table.ctlib-table { break-inside: avoid; } }
</style>
"""


def _esc(value) -> str:
    return html.escape(str(value))


def _section(body: str) -> HTML:
    return HTML(f'<div class="ct-report">{body}</div>')


def _status(status: str) -> str:
    return f'<span class="status status-{_esc(status).replace(" ", "-")}">{_esc(status)}</span>'


def _figure(chart) -> str:
    return f'<figure class="chart">{charts.to_svg(chart)}</figure>'


def _number(value, unit: str) -> str:
    """A value in its unit as text: 1,234 · 81.7% · yes/no; empty when missing."""
    if pd.isna(value):
        return ""
    if unit == "yes_no":
        return "yes" if value >= 1 else "no"
    decimals = 2 if unit in ("rate", "ratio") else 1
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{decimals}f}"
    return f"{text}%" if unit == "percent" else text


def _value(row, k: int) -> str:
    """A row's value as text; `<k` when hidden, "no data" when missing."""
    if row.suppressed:
        return _esc(charts.hidden_label(row.unit, k))
    return _number(row.value, row.unit) or "no data"


def _achievement(value) -> str:
    return "" if pd.isna(value) else f"{value:.0f}%"


def _period_text(report: ReportData, label: str) -> str:
    period = next(p for p in report.results.periods if p.label == label)
    return f"{label} ({period.start_date:%d %b %Y} – {period.end_date:%d %b %Y})"


def _suppression_text(report: ReportData) -> str:
    if report.audience == "internal":
        return "none: an internal report with unsuppressed figures, not for sharing outside the project"
    return (
        f"counts from 1 to {report.k - 1} are hidden and shown as <{report.k}, with complementary cells "
        "hidden so that they cannot be worked out from totals"
    )


def _bands_text(report: ReportData) -> str:
    low, high = report.data.project.reporting.status_bands
    return f"on track between {low:g}% and {high:g}% of target; above or below outside that band"


# --- sections --------------------------------------------------------------------------------------


def cover(report: ReportData) -> HTML:
    """Title page: project, period, organisation, donor, date generated, audience."""
    identity = report.data.project.project
    banner = (
        '<div class="ct-internal">INTERNAL: unsuppressed figures, not for sharing outside the project'
        "</div>"
        if report.audience == "internal"
        else ""
    )
    facts = [
        ("Reporting period", _period_text(report, report.period)),
        ("Organisation", identity.organisation),
        ("Donor", identity.donor),
        ("Country", identity.country),
        ("Project duration", f"{identity.start_date:%d %b %Y} – {identity.end_date:%d %b %Y}"),
        ("Generated", report.generated.strftime("%d %b %Y, %H:%M %Z")),
        ("Audience", report.audience),
        ("Small counts", _suppression_text(report)),
    ]
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in facts)
    objective = _esc(report.data.project.results_chain.objective)
    return HTML(
        f'{STYLE}{banner}<div class="ct-report"><p class="note">Quarterly performance report</p>'
        f"<h1>{_esc(identity.name)}</h1><p><strong>Objective:</strong> {objective}</p>"
        f'<dl class="sheet">{rows}</dl></div>'
    )


def _extremes(report: ReportData, totals: pd.DataFrame, status: str, ascending: bool) -> str:
    rows = (
        totals[(totals["status"] == status) & totals["achievement"].notna()]
        .sort_values("achievement", ascending=ascending)
        .head(3)
    )
    if rows.empty:
        return f"No indicator is {STATUS_WORDS[status]}."
    bound = {
        r.indicator_id: "at most "
        if report.data.catalogue.get(r.indicator_id).direction == "decrease"
        else ""
        for r in rows.itertuples()
    }
    parts = [
        f"{_esc(r.indicator_id)} {_esc(r.indicator_name)}: {_value(r, report.k)} against a target of "
        f"{bound[r.indicator_id]}{_number(r.target, r.unit)} ({_achievement(r.achievement)} of target)"
        for r in rows.itertuples()
    ]
    lead = "Furthest above target" if status == "above" else "Furthest below target"
    return f"{lead}: " + "; ".join(parts) + "."


def executive_summary(report: ReportData) -> HTML:
    """Pillar scorecard and, in sentences, the status counts and the indicators furthest off target."""
    totals = report.totals()
    counts = totals["status"].value_counts()
    said = [f"{counts[s]} {STATUS_WORDS[s]}" for s in STATUS_WORDS if s in counts]
    opening = (
        f"In {_esc(_period_text(report, report.period))}, the project tracked {len(totals)} indicators: "
        f"{', '.join(said)}."
    )
    sentences = [
        opening,
        _extremes(report, totals, "above", False),
        _extremes(report, totals, "below", True),
    ]
    chart = charts.scorecard_chart(
        totals[["indicator_id", "pillar", "status"]],
        f"Indicator status per pillar, {report.period}",
    )
    body = "".join(f"<p>{s}</p>" for s in sentences) + _figure(chart)
    body += f'<p class="note">Status bands: {_esc(_bands_text(report))}.</p>'
    return _section(body)


def iptt_table(report: ReportData) -> HTML:
    """The IPTT for the report period and life of project to date (every period is in iptt.xlsx)."""
    table = iptt(report.results, report.data.catalogue)
    p, lop = report.period, LIFE_OF_PROJECT

    def actual(row, label: str) -> str:
        if row[f"{label} status"] == SUPPRESSED:
            return _esc(charts.hidden_label(row["unit"], report.k))
        return _number(row[f"{label} actual"], row["unit"])

    header = [
        "#",
        "Indicator",
        "Unit",
        "Baseline",
        f"{p} target",
        f"{p} actual",
        f"{p} % of target",
        f"{p} status",
        "Life of project target",
        "Life of project actual",
        "Life of project % of target",
    ]
    rows = [
        [
            str(r["number"]),
            f"{_esc(r['indicator_id'])} {_esc(r['indicator'])}",
            _esc(r["unit"]),
            _number(r["baseline"], r["unit"]),
            _number(r[f"{p} target"], r["unit"]),
            actual(r, p),
            _achievement(r[f"{p} % met"]),
            _status(r[f"{p} status"]),
            _number(r[f"{lop} target"], r["unit"]),
            actual(r, lop),
            _achievement(r[f"{lop} % met"]),
        ]
        for _, r in table.iterrows()
    ]
    body = html_table(header, rows, numeric={0, 3, 4, 5, 6, 8, 9, 10})
    body += (
        '<p class="note">"% of target" is achievement (for indicators where lower is better, target ÷ actual). '
        "Every period is in iptt.xlsx.</p>"
    )
    return _section(body)


def _result_statement(report: ReportData, result_id: str) -> str:
    for outcome in report.data.project.results_chain.outcomes:
        for result in (outcome, *outcome.outputs):
            if result.id == result_id:
                return result.statement
    return ""


def _indicator_rows(report: ReportData, rows: pd.DataFrame) -> list[list[str]]:
    """Per indicator: name and the result it measures, figures of the period and to date, comment."""
    life = report.totals(LIFE_OF_PROJECT).set_index("indicator_id")
    lines = []
    for row in rows.itertuples():
        selected = report.data.project.indicator(row.indicator_id)
        name = f"<strong>{_esc(row.indicator_id)}</strong> {_esc(row.indicator_name)}"
        if selected.result:
            name += (
                f'<br><span class="note">Measures {_esc(selected.result)}: '
                f"{_esc(_result_statement(report, selected.result))}</span>"
            )
        to_date = ""
        if row.indicator_id in life.index:
            whole = life.loc[row.indicator_id]
            to_date = f"{_value(whole, report.k)} / {_number(whole.target, whole.unit) or 'none'}"
        lines.append(
            [
                name,
                _value(row, report.k),
                _number(row.target, row.unit) or "none",
                _achievement(row.achievement),
                _status(row.status),
                to_date,
                _esc(selected.comments.get(report.period, "")),
            ]
        )
    return lines


def pillar_sections(report: ReportData) -> HTML:
    """One section per pillar: progress chart; each indicator's value, target, status, figures to
    date and the period's comment; then each indicator's trend (small multiples)."""
    totals = report.totals().set_index("indicator_id", drop=False)
    table = report.results.table
    history = table[(table["dimension"] == TOTAL) & (table["period"] != LIFE_OF_PROJECT)]
    body = ""
    for pillar in PILLARS:
        ids = [i.id for i in report.indicators(pillar) if i.id in totals.index]
        if not ids:
            continue
        rows = totals.loc[ids]
        name = pillar.capitalize()
        body += f"<h3>{name}</h3>" + _figure(
            charts.progress_chart(
                rows[["indicator_id", "indicator_name", "achievement", "status"]],
                f"{name}: achievement against target, {report.period}",
            )
        )
        header = [
            "Indicator",
            "Value",
            "Target",
            "% of target",
            "Status",
            "Life of project: value / target",
            f"Comment for {_esc(report.period)}",
        ]
        body += html_table(header, _indicator_rows(report, rows), numeric={1, 2, 3, 5})
        trend = history[history["indicator_id"].isin(ids)]
        names = {i: report.data.catalogue.get(i).name for i in ids}
        body += _figure(
            charts.trend_panels(
                trend.assign(indicator_name=trend["indicator_id"].map(names)),
                f"{name}: each indicator per period, {trend['period'].iloc[0]} to {report.period}",
                report.k,
            )
        )
    return _section(body)


def disaggregations(report: ReportData) -> HTML:
    """Each indicator's categories in the report period, per pillar; small cells shown as <k."""
    table = report.results.table
    rows = table[(table["period"] == report.period) & (table["dimension"] != TOTAL)]
    body = ""
    for pillar in PILLARS:
        ids = [i.id for i in report.indicators(pillar)]
        own = rows[rows["indicator_id"].isin(ids)]
        if own.empty:
            continue
        names = {i: report.data.catalogue.get(i).name for i in ids}
        body += f"<h3>{pillar.capitalize()}</h3>" + _figure(
            charts.disaggregation_panels(
                own.assign(indicator_name=own["indicator_id"].map(names)),
                f"{pillar.capitalize()}: indicators by category, {report.period}",
                report.k,
            )
        )
    if not body:
        body = "<p>No indicator is disaggregated in this period.</p>"
    note = (
        f"Categories counting fewer than {report.k} are hidden (shown as &lt;{report.k}, without a bar)."
        if report.audience == "donor"
        else "Internal report: no category is hidden."
    )
    return _section(f'<p class="note">{note}</p>{body}')


def quality_annex(report: ReportData) -> HTML:
    """Data-quality checks (rules, gaps, outliers), ingestion warnings and recent completeness."""
    quality = check_quality(report.data)
    problems = [*quality.problems, *report.results.problems]
    # Ingestion warnings may name rows and values: only their message and file are shown.
    warnings = [(w.file or "", w.message) for w in report.data.warnings]
    body = (
        f"<p>{len(quality.errors)} error(s) and {len(quality.warnings)} warning(s) from the data-quality "
        f"checks; {len(report.results.problems)} note(s) from computing the indicators.</p>"
    )
    if problems:
        body += html_table(
            ["Severity", "Where", "Finding"],
            [[_esc(p.severity), _esc(p.entry or p.rule or ""), _esc(p.message)] for p in problems],
        )
    if warnings:
        body += html_table(
            ["File", "Note from reading the data"], [[_esc(f), _esc(m)] for f, m in warnings]
        )
    upto = quality.periods.index(report.period) + 1 if report.period in quality.periods else None
    recent = quality.periods[:upto][-COMPLETENESS_PERIODS:]
    table = quality.completeness[quality.completeness["period"].isin(recent)]
    incomplete = table.groupby(["table", "column"])["completeness"].transform(
        lambda c: (c < 100).any()
    )
    shown = dataclasses.replace(quality, completeness=table[incomplete.astype(bool)])
    if not recent:
        body += "<p>No period with records yet: completeness cannot be measured.</p>"
    elif shown.completeness.empty:
        body += f"<p>Every field the project collects is complete in {', '.join(recent)}.</p>"
    else:
        body += _figure(
            completeness_chart(
                shown,
                f"Data completeness, {recent[0]} to {recent[-1]}: fields with gaps (% of records filled)",
            )
        )
        body += '<p class="note">Fields filled in every record of these periods are left out.</p>'
    return _section(body)


def methodology_annex(report: ReportData) -> HTML:
    """The reference sheet (PIRS) of each indicator used, by pillar: meaning, method, counting unit,
    who collects and reports, timing, limitations, baseline, targets and their rationale, the
    project's data-quality assessments and the indicator's change log."""
    body = ""
    for indicator in (i for pillar in PILLARS for i in report.indicators(pillar)):
        selected = report.data.project.indicator(indicator.id)
        better = "higher" if indicator.direction == "increase" else "lower"
        target = _number(selected.targets.get(LIFE_OF_PROJECT), indicator.unit) or "none"
        sheet = {**dict(pirs_sections(indicator)), "Method": describe_method(indicator)}
        if selected.target_rationale:
            sheet["Rationale for targets"] = selected.target_rationale
        reported_by = ", ".join(d.replace("_", " ") for d in selected.disaggregations) or "none"
        mandatory = indicator.mandatory_disaggregations
        assessment = selected.data_quality_assessment
        facts = [
            (
                "Classification",
                f"{indicator.pillar} · {indicator.area} · {indicator.level} level · unit: "
                f"{indicator.unit} · {better} is better · measured {indicator.frequency} · "
                f"counts {indicator.counts}",
            ),
            *(
                (heading, sheet[heading])
                for heading in (
                    "Definition",
                    "Rationale",
                    "Method",
                    "Counting unit and double counting",
                    "Data source",
                    "Collected by",
                    "Reported by",
                    "Collection timing",
                    "Reporting lag",
                    "Known data limitations",
                )
            ),
            (
                "Disaggregations",
                reported_by
                + (f" (mandatory: {', '.join(mandatory).replace('_', ' ')})" if mandatory else ""),
            ),
            ("References", "; ".join(indicator.references) or "none"),
            (
                "Baseline and target",
                f"baseline {_baseline_text(selected.baseline, indicator.unit)}; "
                f"life-of-project target {target}",
            ),
            ("Baseline timeframe", sheet["Baseline timeframe"]),
            ("Rationale for targets", sheet["Rationale for targets"]),
            (
                "Data-quality assessments",
                f"last: {_date_text(assessment.last_date) or 'none recorded'}; "
                f"next: {_date_text(assessment.next_date) or 'not planned'}",
            ),
            (
                "Change log",
                "; ".join(f"{_date_text(c.date)}: {c.change}" for c in indicator.change_log),
            ),
        ]
        rows = "".join(f"<dt>{_esc(a)}</dt><dd>{_esc(b)}</dd>" for a, b in facts)
        body += (
            f'<h4>{_esc(indicator.id)} · {_esc(indicator.name)}</h4><dl class="sheet">{rows}</dl>'
        )
    return _section(body)


def _date_text(date) -> str:
    return f"{date:%d %b %Y}" if date else ""


def _baseline_text(baseline, unit: str) -> str:
    if baseline.value is None:
        return "none"
    when = f" ({baseline.date:%d %b %Y})" if baseline.date else ""
    return f"{_number(baseline.value, unit)}{when}"


def provenance(report: ReportData) -> HTML:
    """How the report was made: versions, parameters, suppression rule and the input files' sha256."""
    facts = [
        ("Generated", report.generated.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("ctlib version", __version__),
        ("Catalogue version", report.data.catalogue.version),
        ("Period", report.period),
        ("Audience", report.audience),
        ("Suppression", _suppression_text(report)),
        ("Status bands", _bands_text(report)),
    ]
    rows = "".join(f"<dt>{_esc(a)}</dt><dd>{_esc(b)}</dd>" for a, b in facts)
    files = [
        [_esc(name), f"<code>{digest}</code>"] for name, digest in input_hashes(report.data).items()
    ]
    body = f'<dl class="sheet">{rows}</dl>' + html_table(
        ["Input file", "sha256"], files, caption="Input files"
    )
    body += (
        '<p class="note">Made by ctlib from notebooks/quarterly_report.ipynb; the same inputs and versions '
        "give the same figures. manifest.json beside this report holds the run's parameters and timings.</p>"
    )
    return _section(body)
