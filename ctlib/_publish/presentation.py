"""How results read, on every surface: one `Presentation` per view of results.

The report, the dashboard, the explorer, the picker, the CLI and the exports format nothing
themselves: numbers and units, hidden cells, status words, colours and symbols, indicator and
category labels, period texts, what a donor may see of a problem, and the page style all come
from here, so the same figure reads the same everywhere.

A `Presentation` holds what decides how a view reads: the audience (`donor` or `internal`), the
minimum cell size `k`, the status bands, the catalogue (for indicator names) and how donor
releases protect small counts (`policy`: suppression, or rounding to `rounding_base`).

A hidden figure reads as what it hides (`hidden`): a small count (primary suppression) `<k`;
a figure hidden only so that another cannot be worked out (complementary) "hidden"; a figure the
data's source suppressed as the source wrote it, "<5 (source)".
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

import pandas as pd

from .._compute.targets import INCOMPLETE, LOWER_BOUND
from .._data.tables import SOURCE_SUPPRESSED, UNAVAILABLE
from .._format import is_missing, unit_text

if TYPE_CHECKING:
    from .._catalogue import Catalogue
    from .._compute.periods import Period
    from .._errors import Problem


@dataclass(frozen=True)
class StatusLook:
    """How one status reads and looks."""

    word: str  # in tables and legends
    phrase: str  # in a sentence: "3 indicators are …"
    colour: str  # Okabe–Ito, colour-blind safe
    shape: str  # vega-lite point shape: status is never shown by colour alone
    fill: str  # light tint for table cells and spreadsheets (hex, no '#')


STATUS_LOOKS = {  # every status of a results row, in the order legends and counts list them
    "ahead": StatusLook("ahead", "ahead of target", "#0072B2", "triangle-up", "CCE3F0"),
    "on track": StatusLook("on track", "on track", "#009E73", "circle", "CCECE3"),
    "behind": StatusLook("behind", "behind target", "#D55E00", "triangle-down", "F7D7C2"),
    "below range": StatusLook(
        "below range", "below the target range", "#D55E00", "triangle-left", "F7D7C2"
    ),
    "above range": StatusLook(
        "above range", "above the target range", "#D55E00", "triangle-right", "F7D7C2"
    ),
    "monitor only": StatusLook(
        "monitor only", "monitored without a target", "#000000", "square", "E6E6E6"
    ),
    "provisional": StatusLook(
        "provisional", "provisional (outcomes not known yet)", "#56B4E9", "diamond", "DDEFFA"
    ),
    "in progress": StatusLook(
        "in progress", "in progress (no target to date)", "#56B4E9", "circle", "DDEFFA"
    ),
    "not due": StatusLook("not due", "not due in this period", "#BBBBBB", "square", "F2F2F2"),
    "no target": StatusLook("no target", "without a target", "#999999", "square", "E6E6E6"),
    "no data": StatusLook("no data", "without data", "#E69F00", "diamond", "FBEACC"),
    "incomplete": StatusLook(
        "incomplete", "with incomplete source figures", "#56B4E9", "triangle-right", "DDF0FB"
    ),
    "suppressed": StatusLook(
        "suppressed", "hidden to protect survivors", "#CC79A7", "cross", "F3DCEA"
    ),
}
STATUSES = tuple(STATUS_LOOKS)
STATE_WORDS = {SOURCE_SUPPRESSED: "source", UNAVAILABLE: "source: not available"}
PRIMARY, COMPLEMENTARY, SOURCE = "primary", "complementary", "source"  # why a figure is hidden
HIDDEN_WORD = "hidden"
DRAFT_WORD = "draft"
UNKNOWN_STATUS = StatusLook("unknown", "of unknown status", "#666666", "square", "EEEEEE")
UNIT_TITLES = {
    "count": "number",
    "percent": "%",
    "ratio": "ratio",
    "rate": "rate",
    "yes_no": "1 = yes, 0 = no",
    "score": "score",
    "days": "days",
    "months": "months",
    "currency": "amount",
}
EXCEL_FORMATS = {  # spreadsheet number formats that read like `unit_text`
    "count": "#,##0",
    "percent": '0.0"%"',
    "ratio": "0.00",
    "rate": "#,##0.00",
    "score": "0.00",
    "yes_no": '[=1]"yes";[=0]"no";0',
    "days": "#,##0",
    "months": "0.0",
    "currency": "#,##0.00",
}
ACHIEVEMENT_EXCEL_FORMAT = '0"%"'
RULE_WORDS = {  # what a donor reads for a problem's rule, instead of its message
    "duplicate id": "an identifier is used more than once",
    "required value": "a required value is empty",
    "required column": "a required column is missing",
    "category": "some values are not known categories",
    "date": "some dates cannot be read",
    "type": "some values are not of the expected type",
    "minimum": "some values are below the allowed minimum",
    "foreign key": "some records point to records that do not exist",
    "date in project period": "some records are dated outside the project period",
    "direct identifier": "a column looks like it holds personal identifiers and was not loaded",
    "outlier": "an unusual number of records in a period",
    "timeliness": "a period without records",
    "missing table": "a table the indicators need is not provided",
    "column map": "the column map does not fit the file",
    "value map": "the value map does not fit the table",
    "explanation missing": "an off-track figure has no explanation yet",
    "consistent suppression": "a hidden figure is less protected than the others by figures "
    "released earlier",
}


def readable(code) -> str:
    """A code as words: 'sexual_exploitation' → 'sexual exploitation'."""
    return str(code).replace("_", " ")


def shorten(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status_look(status: str) -> StatusLook:
    return STATUS_LOOKS.get(status, UNKNOWN_STATUS)


@dataclass(frozen=True)
class Presentation:
    """How one view of results reads (see the module docstring)."""

    audience: str = "donor"
    k: int = 5
    bands: tuple[float, float] = (85.0, 115.0)
    catalogue: Catalogue | None = None
    policy: str = "suppression"
    rounding_base: int = 3

    @classmethod
    def of(cls, data, audience: str = "donor", k: int | None = None) -> Presentation:
        """The presentation of a loaded project (`ProjectData`) for an audience."""
        return cls.of_project(data.project, data.catalogue, audience, k)

    @classmethod
    def of_project(
        cls, project, catalogue, audience: str = "donor", k: int | None = None
    ) -> Presentation:
        """The presentation of a project (its project.yaml's `Project`) for an audience."""
        privacy = project.privacy
        return cls(
            audience,
            k or privacy.min_cell_size,
            tuple(project.reporting.status_bands),
            catalogue,
            privacy.policy,
            privacy.rounding_base,
        )

    @property
    def is_internal(self) -> bool:
        return self.audience == "internal"

    # -- numbers --------------------------------------------------------------------------------
    def number(self, value, unit: str) -> str:
        """A value in its unit: 1,234 · 45.5% · yes; "" when missing."""
        return unit_text(value, unit)

    def hidden(self, unit: str, reason=PRIMARY, as_written=None) -> str:
        """How a suppressed value reads, by why it is hidden (module docstring): `<k` for a small
        count ("hidden (<k)" for a share, rate or the like, whose hidden part is a count, not the
        value itself); "hidden" when hidden to protect another figure; as the source wrote it."""
        if reason == COMPLEMENTARY:
            return HIDDEN_WORD
        if reason == SOURCE:
            return self.stated("", SOURCE_SUPPRESSED, as_written)
        return f"<{self.k}" if unit == "count" else f"hidden (<{self.k})"

    def hidden_title(self, reason=PRIMARY) -> str:
        """Why a figure is hidden, for a hover text or a note."""
        if reason == COMPLEMENTARY:
            return (
                "hidden so that a small count elsewhere cannot be worked out from it; it may "
                f"itself be {self.k} or more"
            )
        if reason == SOURCE:
            return "suppressed by the data's source, shown as the source wrote it"
        return f"built on fewer than {self.k} people: hidden to protect survivors"

    def value(
        self, value, unit: str, is_hidden: bool = False, state=None, as_written=None, reason=None
    ) -> str:
        """A result's value: hidden (as `hidden` writes it, by `reason`), "no data", or the
        number in its unit, with its state."""
        if is_hidden:
            return self.hidden(unit, PRIMARY if is_missing(reason) else reason, as_written)
        if not is_missing(state) and state:
            return self.stated(self.number(value, unit), state, as_written)
        return "no data" if is_missing(value) else self.number(value, unit)

    def values(self, rows: pd.DataFrame) -> list[str]:
        """`value` of each row of a results table (value, unit, suppressed and why, value state)."""
        hidden = rows["suppressed"].astype("boolean").fillna(False)
        missing = pd.Series(pd.NA, index=rows.index)
        states = rows.get("value_state", missing)
        written = rows.get("value_as_written", missing)
        reasons = rows.get("suppression", missing)
        return [
            self.value(v, u, bool(h), s, w, r)
            for v, u, h, s, w, r in zip(
                rows["value"], rows["unit"], hidden, states, written, reasons
            )
        ]

    @staticmethod
    def stated(text: str, state, as_written) -> str:
        """A value's text with its state: `<5 (source)`, `.. (source: not available)`, `≥ 23` (a
        lower bound: a part was suppressed by the source), `23 (incomplete)`; else the text."""
        if is_missing(state) or not state:
            return text
        if state in STATE_WORDS:
            written = HIDDEN_WORD if is_missing(as_written) or not as_written else as_written
            return f"{written} ({STATE_WORDS[state]})"
        if state == LOWER_BOUND:
            return f"≥ {text}" if text else "(source suppressed)"
        if state == INCOMPLETE:
            return f"{text} (incomplete)" if text else "(incomplete)"
        return text

    def target(self, value, unit: str, direction: str = "increase", low=None, high=None) -> str:
        """A target: "at most 5" where lower is better, "85–95%" for a range; "" when none."""
        if not is_missing(low) and not is_missing(high):
            return f"{self.number(low, unit).rstrip('%')}–{self.number(high, unit)}"
        text = self.number(value, unit)
        return f"at most {text}" if text and direction == "decrease" else text

    def row_target(self, row) -> str:
        """The target of a results row (its range, direction and unit)."""
        return self.target(row.target, row.unit, row.direction, row.target_low, row.target_high)

    def progress(self, value) -> str:
        """Progress from baseline: "33%" of the planned change; "" when undefined."""
        return self.achievement(value)

    def points(self, value) -> str:
        """A gap in percentage points: "−10.4 pts", "+2.0 pts"; "" when undefined."""
        if is_missing(value):
            return ""
        return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(float(value)):.1f} pts"

    def achievement(self, value) -> str:
        """Achievement against target: "85%"; "" when undefined."""
        return "" if is_missing(value) else f"{float(value):,.0f}%"

    def unit_title(self, unit: str) -> str:
        """An axis title: 'Value (%)'."""
        return f"Value ({UNIT_TITLES.get(unit, unit)})"

    def unit_name(self, unit: str) -> str:
        return UNIT_TITLES.get(unit, readable(unit))

    # -- statuses -------------------------------------------------------------------------------
    def status(self, status: str) -> str:
        return status_look(status).word

    def status_phrase(self, status: str) -> str:
        return status_look(status).phrase

    def status_counts(self, statuses: pd.Series) -> str:
        """ "3 on track, 1 below", in legend order."""
        counts = pd.Series(statuses).value_counts()
        return ", ".join(f"{counts[s]} {self.status(s)}" for s in STATUSES if s in counts)

    # -- labels ---------------------------------------------------------------------------------
    def indicator_name(self, indicator_id: str) -> str:
        return self.catalogue.get(indicator_id).name if self.catalogue else indicator_id

    def indicator(self, indicator_id: str, limit: int | None = None) -> str:
        """'PROT-03 · Victims referred …' (shortened to `limit` characters when given)."""
        text = (
            f"{indicator_id} · {self.indicator_name(indicator_id)}"
            if self.catalogue
            else indicator_id
        )
        return shorten(text, limit) if limit else text

    def category(self, code) -> str:
        return readable(code)

    def period(self, period: Period, latest: str | None = None, is_draft: bool = False) -> str:
        """'FY2026-Q4 (Jul–Sep 2026)', with ', latest' when it is `latest` and ', draft' when its
        figures are not approved yet; a period clipped to the project span gives its days
        ('2025-Q1 (15 Feb–31 Mar 2025)'); life of project reads 'life of project to date'."""
        if period.kind == "life_of_project":
            return f"life of project to date{' (draft)' if is_draft else ''}"
        start, end = period.start_date, period.end_date
        whole = start.day == 1 and (end + dt.timedelta(days=1)).day == 1  # whole months
        first = f"{start:%b}" if whole else f"{start.day} {start:%b}"
        first += f" {start.year}" if start.year != end.year else ""
        last = f"{end:%b %Y}" if whole else f"{end.day} {end:%b %Y}"
        one_month = whole and (start.year, start.month) == (end.year, end.month)
        span = last if one_month else f"{first}–{last}"
        span += ", latest" if period.label == latest else ""
        return f"{period.label} ({span}{', ' + DRAFT_WORD if is_draft else ''})"

    # -- rules in words -------------------------------------------------------------------------
    def suppression_rule(self) -> str:
        if self.is_internal:
            return (
                "none: an internal view with unsuppressed figures, not for sharing outside "
                "the project"
            )
        if self.policy == "rounding":
            return (
                f"counts of people and cases are rounded at random to a multiple of "
                f"{self.rounding_base} (each figure the same way in every release), so that no "
                f"small count can be worked out; a mean of fewer than {self.k} values is hidden "
                f"(<{self.k})"
            )
        return (
            f"counts of people and cases from 1 to {self.k - 1} are hidden and shown as "
            f"<{self.k}; figures from which one could be worked out (totals, other periods, "
            "earlier releases) are hidden too and shown as “hidden”; a figure the data's source "
            "suppressed is shown as the source wrote it"
        )

    def hidden_summary(self, reasons: pd.Series) -> str:
        """How many figures are hidden and why, one sentence (`reasons`: the rows' `suppression`);
        "" for the internal audience."""
        if self.is_internal:
            return ""
        counts = pd.Series(reasons).dropna().value_counts()
        parts = [
            (PRIMARY, f"small counts, fewer than {self.k} people or cases (shown as <{self.k})"),
            (
                COMPLEMENTARY,
                "hidden so that a small count cannot be worked out (shown as “hidden”)",
            ),
            (SOURCE, "suppressed by the data's source (shown as the source wrote it)"),
        ]
        said = [
            f"{counts[r]} "
            f"{words.replace('small counts', 'small count') if counts[r] == 1 else words}"
            for r, words in parts
            if counts.get(r, 0)
        ]
        if not said:
            return "No figure is hidden."
        total = int(counts.sum())
        figures = "figure is" if total == 1 else "figures are"
        return f"{total} {figures} hidden to protect survivors: {'; '.join(said)}."

    def draft_rule(self) -> str:
        """What "draft" means on a donor page."""
        return (
            "figures of a period marked draft are not approved yet and may still change; "
            "approved figures stand unless revised, and revisions are listed with their reason"
        )

    def bands_rule(self) -> str:
        low, high = self.bands
        return (
            f"on track between {low:g}% and {high:g}% of the target to date (of the planned change "
            f"from baseline for outcome indicators); ahead above {high:g}%, behind below {low:g}%, "
            "whether higher or lower is better"
        )

    def audience_note(self) -> str:
        """The audience in a few words, for a title line."""
        if self.is_internal:
            return "internal: unsuppressed, not for sharing"
        if self.policy == "rounding":
            return f"donor: counts rounded to multiples of {self.rounding_base}"
        return f"donor: counts under {self.k} hidden"

    def internal_banner(self) -> str:
        """The warning every internal page carries (empty for donors)."""
        return (
            "INTERNAL: unsuppressed figures, not for sharing outside the project"
            if self.is_internal
            else ""
        )

    # -- problems -------------------------------------------------------------------------------
    def problem(self, problem: Problem) -> str:
        """A problem as this audience may read it: whole for internal; for donors in words that
        quote no value, date, identifier or path (file name, sheet, column and rule only)."""
        if self.is_internal:
            return str(problem)
        where = [
            PurePath(problem.file).name if problem.file else "",
            f"sheet {problem.sheet!r}" if problem.sheet else "",
            problem.period or "",
            f"column {problem.column!r}" if problem.column else "",
            problem.entry if problem.entry and not problem.file else "",
        ]
        place = ", ".join(w for w in where if w)
        rule = problem.rule or ""
        said = RULE_WORDS.get(rule) or (
            f"the check “{readable(rule)}” did not pass" if rule else "a check did not pass"
        )
        return f"{place}: {said}" if place else said

    def error(self, error) -> str:
        """A CtlibError in one line this audience may read: its first problem for donors (as
        `problem` writes it), else its summary with any server path cut to its last name."""
        if self.is_internal:
            return str(error).splitlines()[0]
        if error.problems:
            return self.problem(error.problems[0])
        return re.sub(
            r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s'\"]+)+[\\/]?",
            lambda m: PurePath(m[0]).name,
            error.summary,
        )

    def problems(self, problems: list[Problem]) -> list[str]:
        """Each problem once, as `problem` writes it (donors: same findings merged)."""
        return list(dict.fromkeys(self.problem(p) for p in problems))

    # -- spreadsheets ---------------------------------------------------------------------------
    def excel_format(self, unit: str) -> str:
        return EXCEL_FORMATS.get(unit, "General")

    # -- HTML -----------------------------------------------------------------------------------
    def status_html(self, status: str, count: int | None = None) -> str:
        """A status in words with its colour dot (after how many indicators have it, when given)."""
        look = status_look(status)
        number = "" if count is None else f"<b>{count}</b> "
        css = html.escape(status.replace(" ", "-"))
        return (
            f"<span class='ctlib-status status-{css}'><span class='ctlib-dot' "
            f"style='background:{look.colour}'></span>{number}{html.escape(look.word)}</span>"
        )

    def value_html(
        self,
        value,
        unit: str,
        is_hidden: bool = False,
        is_count: bool = False,
        reason=None,
        as_written=None,
        revision_note=None,
    ) -> str:
        """`value` as HTML: a hidden value reads by why (`hidden`) and says why on hover; counts
        of people carry `ctlib-count`; a revised figure is marked, its reason on hover."""
        revised = (
            ""
            if is_missing(revision_note)
            else f" <span class='ctlib-revised' title='{html.escape(f'Revised: {revision_note}')}'>"
            "revised</span>"
        )
        if is_hidden:
            reason = PRIMARY if is_missing(reason) else reason
            return (
                f"<span class='ctlib-hidden' title='{html.escape(self.hidden_title(reason))}'>"
                f"{html.escape(self.hidden(unit, reason, as_written))}</span>{revised}"
            )
        if is_missing(value):
            return f"<span class='ctlib-muted'>no data</span>{revised}"
        text = html.escape(self.number(value, unit))
        shown = f"<span class='ctlib-count' data-k='{self.k}'>{text}</span>" if is_count else text
        return shown + revised


def _status_fills() -> str:
    """A tinted badge per status (the same tints as the spreadsheets)."""
    return " ".join(
        f".ctlib-page .status-{name.replace(' ', '-')} {{ background: #{look.fill}; }}"
        for name, look in STATUS_LOOKS.items()
    )


PAGE_STYLE = """<style>
/* every surface */
.ctlib-page, .ctlib-app, .ctlib-dash { font-size: 14px; line-height: 1.45; color: #1a1a1a; }
/* :is(...) outranks the rules of JupyterLab's and nbconvert's own table styles */
:is(.ctlib-page, .ctlib-app, .ctlib-dash) table.ctlib-table { border-collapse: collapse;
  margin: .4rem 0 .8rem; font-size: 13px; }
:is(.ctlib-page, .ctlib-app, .ctlib-dash) table.ctlib-table :is(th, td) { border: 1px solid #d0d7de;
  padding: .25rem .5rem; text-align: left; vertical-align: top; }
:is(.ctlib-page, .ctlib-app, .ctlib-dash) table.ctlib-table th { background: #eef2f5; }
:is(.ctlib-page, .ctlib-app, .ctlib-dash) table.ctlib-table :is(td, th).num { text-align: right;
  white-space: nowrap; font-variant-numeric: tabular-nums; }
:is(.ctlib-page, .ctlib-app, .ctlib-dash) table.ctlib-table caption { text-align: left;
  font-weight: bold; padding-bottom: .3rem; }
.ctlib-status { white-space: nowrap; margin-right: 10px; }
.ctlib-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin-right: 4px; vertical-align: baseline; }
.ctlib-hidden { color: #555; font-style: italic; }
.ctlib-revised, .ctlib-draft { font-size: 11px; border-radius: 3px; padding: 0 4px;
  margin-left: 2px; white-space: nowrap; }
.ctlib-revised { background: #fff4d6; border: 1px solid #E69F00; }
.ctlib-draft { background: #eef4fb; border: 1px solid #56B4E9; }
.ctlib-muted { color: #555; font-size: 12px; }
.ctlib-note { color: #555; font-size: 12.5px; }
.ctlib-notice { background: #fdf3ee; border-left: 4px solid #D55E00; padding: 6px 10px;
  margin: 6px 0; }
.ctlib-internal { position: sticky; top: 0; z-index: 10; background: #D55E00; color: white;
  font-weight: bold; padding: .4rem .8rem; text-align: center; }
.ctlib-message-error { background: #fdecea; border-left: 4px solid #D55E00; padding: 6px 10px; }
.ctlib-message-ok { background: #e8f5ee; border-left: 4px solid #009E73; padding: 6px 10px; }
.ctlib-message-info { background: #eef4fb; border-left: 4px solid #0072B2; padding: 6px 10px; }
.widget-html-content { line-height: 1.4; }
/* the report */
.ct-report { max-width: 72rem; }
.ct-report h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
.ct-report h3 { margin-top: 2rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
.ct-report h4 { margin: 1.6rem 0 .4rem; }
.ct-report .status { display: inline-block; padding: 0 .4rem; border-radius: .6rem;
  white-space: nowrap; border: 1px solid #888; }
STATUS_FILLS
.ct-report figure { margin: .8rem 0 1.2rem; }
.ct-report figure svg { max-width: 100%; height: auto; }
.ct-report dl.sheet { display: grid; grid-template-columns: 12rem 1fr; gap: .2rem 1rem;
  margin: 0 0 1rem; }
.ct-report dl.sheet dt, .ct-report dl.sheet dd { float: none; width: auto; margin: 0; }
.ct-report code { font-size: 11.5px; word-break: break-all; }
.ct-report table.ctlib-iptt { font-size: 12.5px; }
.ct-report table.ctlib-table.ctlib-iptt th, .ct-report table.ctlib-table.ctlib-iptt th.num {
  white-space: normal; vertical-align: bottom; }
.ct-report table.ctlib-iptt td:nth-child(2) { min-width: 14rem; }
.ct-report table.ctlib-iptt td:nth-child(4) { white-space: nowrap; }
.ct-report table.ctlib-iptt tr:has(td:first-child:not(:empty)) td { border-top: 2px solid #8a98a6; }
@media print { figure, table.ctlib-table { break-inside: avoid; }
  .ctlib-internal { position: static; } }
/* the dashboard */
.ctlib-dash { max-width: 1240px; }
.ctlib-header { background: #0b3d5c; color: white; padding: 10px 16px; border-radius: 6px;
  font-size: 15px; }
.ctlib-tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.ctlib-tile { flex: 1 1 180px; border: 1px solid #c9d3dc; border-radius: 6px; padding: 10px 12px;
  background: #f7f9fb; }
.ctlib-tile-value { font-size: 28px; font-weight: bold; color: #0b3d5c; }
.ctlib-tile-title { font-weight: bold; }
.ctlib-tile-note { color: #555; font-size: 12px; }
.ctlib-cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 12px 0; }
.ctlib-dash .ctlib-card { flex: 1 1 360px; box-sizing: border-box; min-width: 0;
  border: 1px solid #c9d3dc; border-left: 6px solid #0072B2; border-radius: 6px;
  padding: 8px 12px; margin: 0; }
.ctlib-dash .ctlib-card-failed { border-left-color: #D55E00; background: #fdf3ee; }
.ctlib-card h3 { margin: 0 0 2px 0; font-size: 16px; }
.ctlib-dash table.ctlib-table { width: 100%; }
.ctlib-dash table.ctlib-table.ctlib-compact { width: auto; min-width: 320px; }
.ctlib-dash table.ctlib-table td:first-child { white-space: nowrap; }
.ctlib-dash table.ctlib-table :is(th, td) { border: none; border-bottom: 1px solid #dde3e8;
  padding: 4px 8px; }
.ctlib-downloads a { display: inline-block; border: 1px solid #0072B2; border-radius: 4px;
  padding: 4px 10px; margin-right: 8px; color: #0b3d5c; text-decoration: none;
  background: #eef4fb; }
.ctlib-footer { border-top: 1px solid #c9d3dc; margin-top: 14px; padding-top: 8px; color: #444;
  font-size: 12px; }
.ctlib-section { font-size: 18px; font-weight: bold; margin: 14px 0 4px 0; color: #0b3d5c; }
/* the index of reports */
body.ctlib-index { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }
.ctlib-index table.ctlib-table { width: 100%; }
.ctlib-index .ok { color: #006b4f; } .ctlib-index .failed { color: #a33c00; font-weight: bold; }
/* the workbooks */
.ctlib-app { max-width: 1100px;
  --jp-widgets-horizontal-tab-width: auto; /* tabs as wide as their titles */ }
.ctlib-guide { color: #333; margin: 4px 0 8px 0; }
.ctlib-card { border: 1px solid #ccc; border-radius: 4px; padding: 4px 10px; margin: 4px 0; }
.ctlib-card-selected { border: 2px solid #0072B2; background: #f5f9fd; }
.ctlib-badge { display: inline-block; border: 1px solid #999; border-radius: 3px; padding: 0 5px;
  margin-right: 4px; font-size: 90%; }
.ctlib-area { font-weight: bold; margin: 10px 0 0 0; border-bottom: 1px solid #ddd; }
.ctlib-ok { color: #006b4f; }
.ctlib-warn { color: #a34400; }
.ctlib-grid-head { font-weight: bold; white-space: nowrap; font-size: 90%; }
.ctlib-scroll { overflow-x: auto; max-width: 100%; }
.ctlib-scroll td, .ctlib-scroll th { white-space: nowrap; }
</style>""".replace("STATUS_FILLS", _status_fills())
