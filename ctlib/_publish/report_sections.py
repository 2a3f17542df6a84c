"""The quarterly report: its data, computed once, its files, and each section as HTML.

`open_report()` loads a project, resolves "latest" to a real period label and computes the
results for the audience over every reporting period up to it (`releases.release_periods`). A
donor report is a release (`releases.draft`): protected consistently with every earlier release
in the project's ledger, approved periods' figures as they were approved, the others drafts. With
an `out_dir` it writes a donor report's release.json at once (the release, which the runner
records while the sections are drawn, and withdraws if the report is not published), and
`write_files()`, the notebook's last cell, the report's files from those same results
(indicators.csv, iptt.xlsx, report.json: the resolved period and the sha256 of the results
table), so the report folder has one source of truth. They are written last so that the runner
renders the sections' charts meanwhile. When the project cannot be reported, `error.json` says
why. An internal report is no release: it reads and records nothing in the ledger.

Each section method returns an `IPython.display.HTML` made only of aggregated, suppressed
figures, written by the report's `Presentation`; `notebooks/quarterly_report.ipynb` displays them
in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from .. import __version__
from .._catalogue import describe_method, pirs_sections
from .._compute.engine import TOTAL, Results, compute
from .._compute.periods import Period, ReportingCalendar
from .._compute.privacy import EXPOSED_RULE, suppress
from .._compute.quality import QualityReport, check_quality
from .._compute.releases import KIND_ORDER, REVISION_COLUMNS
from .._compute.targets import missing_explanations
from .._data.ingest import load_project_data
from .._data.project_data import ProjectData
from .._data.project_model import LIFE_OF_PROJECT
from .._data.tables import PILLARS
from .._errors import CtlibError, ReportError
from . import charts
from .check import completeness_chart
from .environment import file_sha256, input_hashes
from .exports import write_indicators_csv, write_iptt_xlsx
from .html_table import html_table
from .layout import ERROR_FILE, RESULTS_FILE, file_names
from .presentation import PAGE_STYLE, STATUSES, Presentation
from .releases import RELEASE_FILE, Draft, draft, release_period, release_periods, write_draft
from .views import iptt

COMPLETENESS_PERIODS = 4  # the data-quality heatmap shows the report period and the three before it


@dataclass
class QuarterlyReport:
    """One project's report: its data, the resolved period, the results and how they read."""

    data: ProjectData
    period: str  # the real label, never "latest"
    results: Results  # reporting periods up to `period`, then life of project to date
    presentation: Presentation
    release: Draft | None = None  # a donor report's release, recorded when it is published
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())
    out_dir: Path | None = None  # where `write_files` writes (open_report's)

    @property
    def audience(self) -> str:
        return self.presentation.audience

    @property
    def project_id(self) -> str:
        return self.data.project_id

    def period_of(self, label: str) -> Period:
        return next(p for p in self.results.periods if p.label == label)

    @property
    def year(self) -> Period | None:
        """The (fiscal) year of the report period, to its end; None for a year's report."""
        report = self.period_of(self.period)
        return next(
            (
                p
                for p in self.results.periods
                if p.kind == "year"
                and p.label != self.period
                and p.start_date <= report.start_date
                and p.end_date >= report.end_date
            ),
            None,
        )

    @property
    def columns(self) -> list[Period]:
        """What the IPTT shows each indicator for: the period, its year to date, life of project."""
        shown = [self.period_of(self.period), self.year, self.period_of(LIFE_OF_PROJECT)]
        return [p for p in shown if p is not None]

    def totals(self, period: str | None = None) -> pd.DataFrame:
        """Total rows of `period` (default: the report period), with each indicator's pillar."""
        table = self.results.table
        rows = table[(table["dimension"] == TOTAL) & (table["period"] == (period or self.period))]
        return rows.assign(pillar=[self.data.catalogue.get(i).pillar for i in rows["indicator_id"]])

    def indicators(self, pillar: str | None = None) -> list:
        """The catalogue entries of the project's selected indicators (of one pillar),
        in its order."""
        entries = [self.data.catalogue.get(s.id) for s in self.data.project.indicators]
        return [e for e in entries if pillar is None or e.pillar == pillar]

    # -- the report's files ----------------------------------------------------------------------
    def notes(self) -> dict[str, str]:
        """The notes sheet of iptt.xlsx: what a reader needs to trust the figures."""
        identity, shown = self.data.project.project, self.presentation
        return {
            "Project": f"{identity.name} ({identity.id})",
            "Organisation": identity.organisation,
            "Donor": identity.donor,
            "Period": shown.period(self.period_of(self.period)),
            "Audience": self.audience,
            "Suppression rule": shown.suppression_rule(),
            **({"Approval": self.approval_text()} if self.release else {}),
            **({"Draft periods": self.drafts_text()} if self.release else {}),
            "Status bands": shown.bands_rule(),
            "Generated": self.generated.strftime("%Y-%m-%d %H:%M %Z"),
            "ctlib version": __version__,
            "Catalogue version": self.data.catalogue.version,
        }

    def write_files(self, out_dir: Path | str | None = None) -> None:
        """indicators.csv, iptt.xlsx and report.json in `out_dir` (open_report's when not given;
        none when neither is), from this report's results. Nothing is shown: report.json holds
        notes for the team running the report, never for its readers."""
        out_dir, names = out_dir or self.out_dir, file_names(self.audience)
        if not out_dir:
            return
        out_dir = Path(out_dir)
        csv = write_indicators_csv(
            self.results.table, out_dir / names["indicators"], self.presentation
        )
        write_iptt_xlsx(
            iptt(self.results, self.data.catalogue),
            out_dir / names["iptt"],
            self.notes(),
            self.presentation,
        )
        facts = {
            "project_id": self.project_id,
            "period": self.period,
            "audience": self.audience,
            "k": self.presentation.k,
            "results_sha256": file_sha256(csv),
            "catalogue_version": self.data.catalogue.version,
            "inputs": input_hashes(self.data),
        }
        if self.release:
            facts["notes"] = [  # for the team running the report, never in its files
                str(p) for p in self.results.problems if p.rule == EXPOSED_RULE
            ]
        (out_dir / RESULTS_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")

    # -- the release -----------------------------------------------------------------------------
    def approval_text(self) -> str:
        """Whether the report period's figures are approved, in a sentence."""
        if self.release.release.approved_by:
            return f"approved by {self.release.release.approved_by} with this report"
        standing = self.results.release.approved
        mine = standing[standing["period"] == self.period]
        if not mine.empty:
            last = mine.iloc[-1]
            return f"approved by {last.approved_by} on {last.approved_at:%d %b %Y}"
        return "draft: not approved yet, the figures may still change"

    def drafts_text(self) -> str:
        """Which of the report's periods are drafts, and what that means."""
        table = self.results.table
        drafted = set(table.loc[table["is_draft"].astype(bool), "period"])
        labels = [p.label for p in self.results.periods if p.label in drafted]
        if not labels:
            return "none: every figure of this report is approved"
        return f"{', '.join(labels)}: {self.presentation.draft_rule()}"

    def _is_draft(self, row) -> bool:
        return bool(getattr(row, "is_draft", False)) and not pd.isna(row.is_draft)

    # -- small HTML helpers ----------------------------------------------------------------------
    def _status(self, status: str) -> str:
        css = html.escape(status.replace(" ", "-"))
        return (
            f'<span class="status status-{css}">'
            f"{html.escape(self.presentation.status(status))}</span>"
        )

    def _value(self, row) -> str:
        shown = self.presentation.value(
            row.value,
            row.unit,
            bool(row.suppressed),
            row.value_state,
            row.value_as_written,
            row.suppression,
        )
        return html.escape(shown)

    def _target(self, value, indicator_id: str) -> str:
        entry = self.data.catalogue.get(indicator_id)
        direction = self.data.project.indicator(indicator_id).direction or entry.direction
        return html.escape(self.presentation.target(value, entry.unit, direction))

    def _period_text(self, label: str) -> str:
        return self.presentation.period(self.period_of(label))

    # -- sections --------------------------------------------------------------------------------
    def cover(self) -> HTML:
        """Title page: project, period, organisation, donor, date generated, audience."""
        identity, shown = self.data.project.project, self.presentation
        banner = (
            f'<div class="ctlib-internal">{html.escape(shown.internal_banner())}</div>'
            if shown.is_internal
            else ""
        )
        facts = [
            ("Reporting period", self._period_text(self.period)),
            ("Organisation", identity.organisation),
            ("Donor", identity.donor),
            ("Country", identity.country),
            ("Project duration", f"{identity.start_date:%d %b %Y} – {identity.end_date:%d %b %Y}"),
            ("Generated", self.generated.strftime("%d %b %Y, %H:%M %Z")),
            ("Audience", self.audience),
            *((("Figures", self.approval_text()),) if self.release else ()),
            ("Small counts", shown.suppression_rule()),
            *(
                (("Hidden", shown.hidden_summary(self.results.table["suppression"])),)
                if not shown.is_internal
                else ()
            ),
        ]
        rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
        objective = html.escape(self.data.project.results_chain.objective)
        return HTML(
            f'{PAGE_STYLE}{banner}<div class="ct-report ctlib-page">'
            '<p class="ctlib-note">Quarterly performance report</p>'
            f"<h1>{html.escape(identity.name)}</h1>"
            f"<p><strong>Objective:</strong> {objective}</p>"
            f'<dl class="sheet">{rows}</dl></div>'
        )

    def _extremes(self, totals: pd.DataFrame, status: str, ascending: bool) -> str:
        rows = (
            totals[(totals["status"] == status) & totals["achievement"].notna()]
            .sort_values("achievement", ascending=ascending)
            .head(3)
        )
        shown = self.presentation
        if rows.empty:
            return f"No indicator is {shown.status_phrase(status)}."
        parts = [
            f"{html.escape(shown.indicator(r.indicator_id))}: {self._value(r)} against a target of "
            f"{html.escape(shown.row_target(r))} ({shown.achievement(r.achievement)} of target)"
            for r in rows.itertuples()
        ]
        lead = "Furthest ahead of target" if status == "ahead" else "Furthest behind target"
        return f"{lead}: " + "; ".join(parts) + "."

    def executive_summary(self) -> HTML:
        """Pillar scorecard and, in sentences, the status counts and the indicators
        furthest off target."""
        totals, shown = self.totals(), self.presentation
        counts = totals["status"].value_counts()
        said = [f"{counts[s]} {shown.status_phrase(s)}" for s in STATUSES if s in counts]
        opening = (
            f"In {html.escape(self._period_text(self.period))}, the project tracked "
            f"{len(totals)} indicators: {', '.join(said)}."
        )
        sentences = [
            opening,
            self._extremes(totals, "ahead", False),
            self._extremes(totals, "behind", True),
        ]
        chart = charts.scorecard_chart(
            totals[["indicator_id", "pillar", "status"]],
            f"Indicator status per pillar, {self.period}",
            shown,
        )
        body = "".join(f"<p>{s}</p>" for s in sentences) + _figure(chart)
        body += f'<p class="ctlib-note">Status bands: {html.escape(shown.bands_rule())}.</p>'
        return _section(body)

    def iptt_table(self) -> HTML:
        """The IPTT: per indicator, the report period, its (fiscal) year to date and life of project
        to date, each graded against its target to date, with the whole year's or project's
        target and the share of it reached beside a period to date (every period is in iptt.xlsx).
        """
        shown, table = self.presentation, self.results.table
        totals = table[table["dimension"] == TOTAL].set_index(["indicator_id", "period"])
        columns = {  # header -> the cell of a row (None: the indicator's own cells, first row only)
            "#": None,
            "Indicator": None,
            "Baseline": None,
            "Period": None,
            "Target to date": lambda r: html.escape(shown.row_target(r)),
            "Actual": lambda r: "–" if r.status == "not due" else self._value(r),
            "% of target": lambda r: shown.achievement(r.achievement),
            "Progress from baseline": self._progress,
            "Status": lambda r: self._status(r.status),
            "Full target (reached)": self._full_target,
        }
        rows, statuses = [], set()
        for number, entry in enumerate(self.indicators(), start=1):
            found = [
                (p, totals.loc[(entry.id, p.label)])
                for p in self.columns
                if (entry.id, p.label) in totals.index
            ]
            for n, (period, row) in enumerate(found):
                statuses.add(row.status)
                own = (
                    [
                        str(number),
                        html.escape(shown.indicator(entry.id)),
                        html.escape(shown.number(row.baseline, row.unit)),
                    ]
                    if n == 0
                    else ["", "", ""]
                )
                rows.append(
                    [
                        *own,
                        html.escape(self._column_name(period, self._is_draft(row))),
                        *(cell(row) for cell in list(columns.values())[4:]),
                    ]
                )
        used = [i for i, name in enumerate(columns) if i < 4 or any(r[i] for r in rows)]
        header = [name for i, name in enumerate(columns) if i in used]
        rows = [[r[i] for i in used] for r in rows]
        numeric = {n for n, i in enumerate(used) if i not in (1, 3, 8)}  # not name, period, status
        body = html_table(header, rows, numeric=numeric, css_class="ctlib-table ctlib-iptt")
        body += f'<p class="ctlib-note">{html.escape(self._iptt_note(statuses))}</p>'
        return _section(body)

    def _full_target(self, row) -> str:
        """The whole year's or project's target beside a period to date, and the share reached."""
        shown = self.presentation
        target = html.escape(shown.target(row.full_target, row.unit, row.direction))
        reached = shown.achievement(row.full_target_share)
        return f"{target} ({reached})" if target and reached else target

    def _progress(self, row) -> str:
        """Progress from baseline, with the gap in points for shares."""
        text = self.presentation.progress(row.progress)
        return (
            f"{text} ({self.presentation.points(row.gap)})"
            if text and not pd.isna(row.gap)
            else text
        )

    def _column_name(self, period: Period, is_draft: bool = False) -> str:
        """How a row's period reads: the report period with its months; a year or the project,
        "to date" while it is not over; ", draft" while its figures are not approved."""
        if period.kind == "year" or period.kind == "life_of_project":
            name = "Life of project" if period.kind == "life_of_project" else period.label
            name = f"{name} to date" if period.end_date < self._natural_end(period) else name
            return f"{name}, draft" if is_draft else name
        return self.presentation.period(period, is_draft=is_draft)

    def _natural_end(self, period: Period):
        calendar = ReportingCalendar(self.data.project)
        whole = (
            calendar.life_of_project()
            if period.kind == "life_of_project"
            else calendar.parse(period.label)
        )
        return whole.end_date

    def _iptt_note(self, statuses: set[str]) -> str:
        """What the IPTT's columns and the statuses it shows mean."""
        said = [
            '"Target to date" is the sum of the period targets so far for counts of events and '
            "people, and the latest target set for shares, rates and stocks; a year or the project "
            'is graded against it; its whole target, and the share of it reached, are under "Full '
            'target (reached)".',
            '"% of target" is actual ÷ target (target ÷ actual where lower is better); '
            '"Progress from baseline" is the share of the planned change from baseline achieved, '
            "with the gap in percentage points for shares.",
            f"Status: {self.presentation.bands_rule()}.",
        ]
        meanings = {
            "provisional": "provisional: some outcomes of the period are not known yet (e.g. a "
            "referral's acceptance within 14 days); not graded, final once they are",
            "not due": "not due: the indicator is measured at another frequency (e.g. yearly) "
            "or its milestone falls later",
            "in progress": "in progress: no target is set for this part of the year or project",
            "monitor only": "monitor only: the indicator is followed without a direction or target",
        }
        said += [f"{meaning}." for status, meaning in meanings.items() if status in statuses]
        return " ".join(s[0].upper() + s[1:] for s in said) + " Every period is in iptt.xlsx."

    def _result_statement(self, result_id: str) -> str:
        for outcome in self.data.project.results_chain.outcomes:
            for result in (outcome, *outcome.outputs):
                if result.id == result_id:
                    return result.statement
        return ""

    def _indicator_rows(self, rows: pd.DataFrame) -> list[list[str]]:
        """Per indicator: name and the result it measures,
        figures of the period and to date, comment."""
        life = self.totals(LIFE_OF_PROJECT).set_index("indicator_id")
        shown, lines = self.presentation, []
        for row in rows.itertuples():
            selected = self.data.project.indicator(row.indicator_id)
            name = (
                f"<strong>{html.escape(row.indicator_id)}</strong> "
                f"{html.escape(shown.indicator_name(row.indicator_id))}"
            )
            if selected.result:
                name += (
                    f'<br><span class="ctlib-note">Measures {html.escape(selected.result)}: '
                    f"{html.escape(self._result_statement(selected.result))}</span>"
                )
            to_date = ""
            if row.indicator_id in life.index:
                whole = life.loc[row.indicator_id]
                target = html.escape(shown.row_target(whole)) or "none"
                to_date = f"{self._value(whole)} / {target}"
            lines.append(
                [
                    name,
                    self._value(row),
                    html.escape(shown.row_target(row)) or "none",
                    shown.achievement(row.achievement),
                    self._status(row.status),
                    to_date,
                    html.escape(selected.comments.get(self.period, "")),
                ]
            )
        return lines

    def pillar_sections(self) -> HTML:
        """One section per pillar: progress chart; each indicator's value, target, status,
        figures to date and the period's comment; then each indicator's trend (small multiples)."""
        totals = self.totals().set_index("indicator_id", drop=False)
        table = self.results.table
        history = table[(table["dimension"] == TOTAL) & (table["period"] != LIFE_OF_PROJECT)]
        body, shown = "", self.presentation
        for pillar in PILLARS:
            ids = [i.id for i in self.indicators(pillar) if i.id in totals.index]
            if not ids:
                continue
            rows, name = totals.loc[ids], pillar.capitalize()
            body += f"<h3>{name}</h3>" + _figure(
                charts.progress_chart(
                    rows[["indicator_id", "achievement", "status"]],
                    f"{name}: achievement against target, {self.period}",
                    shown,
                )
            )
            header = [
                "Indicator",
                "Value",
                "Target",
                "% of target",
                "Status",
                "Life of project: value / target",
                f"Comment for {html.escape(self.period)}",
            ]
            body += html_table(header, self._indicator_rows(rows), numeric={1, 2, 3, 5})
            trend = history[history["indicator_id"].isin(ids)]
            body += _figure(
                charts.trend_panels(
                    trend,
                    f"{name}: each indicator per period, "
                    f"{trend['period'].iloc[0]} to {self.period}",
                    shown,
                )
            )
        return _section(body)

    def disaggregations(self) -> HTML:
        """Each indicator's categories in the report period, per pillar; small cells hidden."""
        table, shown = self.results.table, self.presentation
        rows = table[(table["period"] == self.period) & (table["dimension"] != TOTAL)]
        body = ""
        for pillar in PILLARS:
            own = rows[rows["indicator_id"].isin([i.id for i in self.indicators(pillar)])]
            if not own.empty:
                body += f"<h3>{pillar.capitalize()}</h3>" + _figure(
                    charts.disaggregation_panels(
                        own, f"{pillar.capitalize()}: indicators by category, {self.period}", shown
                    )
                )
        if not body:
            body = "<p>No indicator is disaggregated in this period.</p>"
        note = (
            "Internal report: no category is hidden."
            if shown.is_internal
            else f"{html.escape(shown.hidden_summary(rows['suppression']))} Hidden figures get no "
            "bar."
        )
        return _section(f'<p class="ctlib-note">{note}</p>{body}')

    def quality(self) -> QualityReport:
        return check_quality(self.data)

    def quality_annex(self) -> HTML:
        """Data-quality checks (rules, gaps, outliers), ingestion warnings and recent completeness;
        findings in the words the audience may read (donors: no value, date, id or path)."""
        quality, shown = self.quality(), self.presentation
        explanations = missing_explanations(self.results, self.data.project)
        computed = [p for p in self.results.problems if p.rule != EXPOSED_RULE]  # the team's
        findings = [*quality.problems, *explanations, *computed, *self.data.warnings]
        body = (
            f"<p>{len(quality.errors)} error(s) and {len(quality.warnings)} warning(s) from the "
            f"data-quality checks; {len(explanations)} off-track figure(s) without an explanation; "
            f"{len(computed)} note(s) from computing the indicators; "
            f"{len(self.data.warnings)} note(s) from reading the data.</p>"
        )
        if findings:
            body += html_table(
                ["Severity", "Finding"],
                [
                    [html.escape(p.severity), html.escape(shown.problem(p))]
                    for p in _unique(findings, shown)
                ],
            )
        upto = quality.periods.index(self.period) + 1 if self.period in quality.periods else None
        recent = quality.periods[:upto][-COMPLETENESS_PERIODS:]
        table = quality.completeness[quality.completeness["period"].isin(recent)]
        incomplete = table.groupby(["table", "column"])["completeness"].transform(
            lambda c: (c < 100).any()
        )
        recent_only = dataclasses.replace(quality, completeness=table[incomplete.astype(bool)])
        if not recent:
            body += "<p>No period with records yet: completeness cannot be measured.</p>"
        elif recent_only.completeness.empty:
            body += f"<p>Every field the project collects is complete in {', '.join(recent)}.</p>"
        else:
            body += _figure(
                completeness_chart(
                    recent_only,
                    f"Data completeness, {recent[0]} to {recent[-1]}: "
                    "fields with gaps (% of records filled)",
                )
            )
            body += (
                '<p class="ctlib-note">'
                "Fields filled in every record of these periods are left out.</p>"
            )
        return _section(body)

    def revisions_annex(self) -> HTML:
        """Which periods' figures are approved, and every revision of an approved period so far:
        the figure before and after, the reason and the date (donor reports; an internal report is
        no release)."""
        if self.release is None:
            return _section(
                "<p>An internal report is not a release: its figures are the live data, neither "
                "approved nor locked.</p>"
            )
        shown, state = self.presentation, self.results.release
        standing = state.approved
        approved = [
            f"{html.escape(r.period)} (by {html.escape(str(r.approved_by))}, "
            f"{r.approved_at:%d %b %Y}{', revised' if r.kind == 'revision' else ''})"
            for r in standing.itertuples()
        ]
        body = (
            f"<p>This report's figures for {html.escape(self.period)} are "
            f"{html.escape(self.approval_text())}. "
            + (
                f"Approved periods: {', '.join(approved)}. "
                if approved
                else "No period is approved yet. "
            )
            + f"{html.escape(shown.draft_rule().capitalize())}.</p>"
        )
        changes = self._revisions()
        if changes.empty:
            return _section(body + "<p>No figure of an earlier period has been revised.</p>")
        rows = [
            [
                html.escape(self._revised_period(r)),
                html.escape(shown.indicator(r.indicator_id)),
                html.escape(
                    "total"
                    if r.dimension == TOTAL
                    else f"{shown.category(r.dimension)}: {shown.category(r.category)}"
                ),
                html.escape(self._revised_value(r, r.old_value, r.old_suppression)),
                html.escape(self._revised_value(r, r.new_value, r.new_suppression)),
                html.escape(str(r.note)),
                f"{r.revised_at:%d %b %Y}",
            ]
            for r in changes.itertuples()
        ]
        header = ["Period", "Indicator", "Group", "Old value", "New value", "Reason", "Revised on"]
        return _section(body + html_table(header, rows, numeric={3, 4}))

    def _revisions(self) -> pd.DataFrame:
        """The revisions of periods up to the report's, with each cell's unit."""
        changes = self.results.release.revisions
        end = pd.Timestamp(self.period_of(self.period).end_date)
        changes = changes[pd.to_datetime(changes["period_end_date"]) <= end]
        units = {e.id: e.unit for e in self.indicators()}
        changes = changes.assign(
            unit=changes["indicator_id"].map(units).fillna("count"),
            order=changes["period_kind"].map(KIND_ORDER),
        )
        return changes.sort_values(["period_end_date", "order"], kind="stable")[
            [*REVISION_COLUMNS, "unit"]
        ]

    def _revised_period(self, row) -> str:
        period = Period(
            row.period, row.period_kind, row.period_start_date.date(), row.period_end_date.date()
        )
        if period.kind == "life_of_project":
            return f"life of project to {period.end_date:%d %b %Y}"
        return self.presentation.period(period)

    def _revised_value(self, row, value, suppression) -> str:
        is_hidden = isinstance(suppression, str)
        return self.presentation.value(value, row.unit, is_hidden, reason=suppression)

    def methodology_annex(self) -> HTML:
        """The reference sheet (PIRS) of each indicator used, by pillar: meaning, method, counting
        unit, who collects and reports, timing, limitations, baseline, targets and their rationale,
        the project's data-quality assessments and the indicator's change log."""
        body, shown = "", self.presentation
        for indicator in (i for pillar in PILLARS for i in self.indicators(pillar)):
            selected = self.data.project.indicator(indicator.id)
            better = "higher" if indicator.direction == "increase" else "lower"
            target = self._target(selected.target(LIFE_OF_PROJECT), indicator.id) or "none"
            baseline = shown.number(selected.baseline.value, indicator.unit) or "none"
            if selected.baseline.value is not None and selected.baseline.date:
                baseline += f" ({_date_text(selected.baseline.date)})"
            sheet = {**dict(pirs_sections(indicator)), "Method": describe_method(indicator)}
            if selected.target_rationale:
                sheet["Rationale for targets"] = selected.target_rationale
            reported_by = ", ".join(shown.category(d) for d in selected.disaggregations) or "none"
            mandatory = indicator.mandatory_disaggregations
            assessment = selected.data_quality_assessment
            facts = [
                (
                    "Classification",
                    f"{indicator.pillar} · {indicator.area} · {indicator.level} level · "
                    f"unit: {indicator.unit} · {better} is better · measured "
                    f"{indicator.frequency} · counts {indicator.counts}",
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
                    + (
                        f" (mandatory: {', '.join(shown.category(m) for m in mandatory)})"
                        if mandatory
                        else ""
                    ),
                ),
                ("References", "; ".join(indicator.references) or "none"),
                ("Baseline and target", f"baseline {baseline}; life-of-project target {target}"),
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
            rows = "".join(f"<dt>{html.escape(a)}</dt><dd>{html.escape(b)}</dd>" for a, b in facts)
            body += (
                f"<h4>{html.escape(shown.indicator(indicator.id))}</h4>"
                f'<dl class="sheet">{rows}</dl>'
            )
        return _section(body)

    def provenance(self) -> HTML:
        """How the report was made: versions, parameters, suppression rule
        and the input files' sha256."""
        shown = self.presentation
        facts = [
            ("Generated", self.generated.strftime("%Y-%m-%d %H:%M:%S %Z")),
            ("ctlib version", __version__),
            ("Catalogue version", self.data.catalogue.version),
            ("Period", self.period),
            ("Audience", self.audience),
            ("Suppression", shown.suppression_rule()),
            ("Status bands", shown.bands_rule()),
        ]
        rows = "".join(f"<dt>{html.escape(a)}</dt><dd>{html.escape(b)}</dd>" for a, b in facts)
        files = [
            [html.escape(name), f"<code>{digest}</code>"]
            for name, digest in input_hashes(self.data).items()
        ]
        body = f'<dl class="sheet">{rows}</dl>' + html_table(
            ["Input file", "sha256"], files, caption="Input files"
        )
        body += (
            '<p class="ctlib-note">Made by ctlib from the quarterly_report workbook; '
            "the same inputs and versions give the same figures. manifest.json beside this "
            "report holds the run's parameters and timings.</p>"
        )
        return _section(body)


def _date_text(date) -> str:
    return f"{date:%d %b %Y}" if date else ""


def _unique(problems: list, shown: Presentation) -> list:
    """The problems whose text (as the audience reads it) differs, in order."""
    seen, kept = set(), []
    for problem in problems:
        text = shown.problem(problem)
        if text not in seen:
            seen.add(text)
            kept.append(problem)
    return kept


def _section(body: str) -> HTML:
    return HTML(f'<div class="ct-report ctlib-page">{body}</div>')


def _figure(chart) -> str:
    return f'<figure class="chart">{charts.to_svg(chart)}</figure>'


def prepare(
    project_dir: Path | str,
    period: str = "latest",
    audience: str = "donor",
    min_cell_size: int | None = None,
    approved_by: str = "",
) -> QuarterlyReport:
    """Load, resolve the period and compute (for donors, the release against the project's
    ledger, approved by `approved_by` when given); CtlibError (saying what to fix) for bad input."""
    project_dir = Path(project_dir)
    if not (project_dir / "project.yaml").is_file():
        raise ReportError(f"no project.yaml in {project_dir}: give the folder of a project")
    if min_cell_size is not None and min_cell_size < 0:
        raise ReportError(
            f"min_cell_size must be 1 or more (0: the project's), not {min_cell_size}"
        )
    if approved_by and audience != "donor":
        raise ReportError("only a donor report is a release to approve; an internal one is not")
    data = load_project_data(project_dir)
    presentation = Presentation.of(data, audience, min_cell_size or None)
    if audience == "donor":
        release = draft(data, period, approved_by or None, min_cell_size=min_cell_size or None)
        results = release.results
        label = release.release.period
    else:
        labels = release_periods(data, period)
        release, results = None, suppress(compute(data, periods=labels), presentation.k, audience)
        label = release_period(data, labels)
    return QuarterlyReport(data, label, results, presentation, release)


def open_report(
    project_dir: Path | str,
    period: str = "latest",
    audience: str = "donor",
    min_cell_size: int | None = None,
    out_dir: Path | str = "",
    approved_by: str = "",
) -> QuarterlyReport:
    """`prepare`; with `out_dir`, a donor report's release.json written there now, and its other
    files by `write_files()` (see the module's docstring).

    When the project cannot be reported, `out_dir/error.json` holds the error's summary and
    problems (for the report runner to say what to fix) before the CtlibError is raised again.
    """
    try:
        report = prepare(project_dir, period, audience, min_cell_size, approved_by)
        if out_dir:
            report.out_dir = Path(out_dir)
            if report.release:
                write_draft(report.release, report.out_dir / RELEASE_FILE)
        return report
    except CtlibError as error:
        if out_dir:
            write_error(error, Path(out_dir) / ERROR_FILE)
        raise


def write_error(error: CtlibError, path: Path) -> None:
    problems = [
        dataclasses.asdict(p) | {"value": None if p.value is None else str(p.value)}
        for p in error.problems
    ]
    path.write_text(
        json.dumps(
            {"type": type(error).__name__, "summary": error.summary, "problems": problems}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
