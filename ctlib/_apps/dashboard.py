"""The donor dashboard: a portfolio of projects for donors, and the Voilà server that shows it.

`DonorDashboardApp(data_dir)` loads every project folder under `data_dir` once, computes its
results for every period up to its latest and suppresses them for the donor audience; from then
on it holds no case-level table, and its charts receive only those aggregated, suppressed rows.
A project whose data fails validation is listed with its problems in words that quote no value
(a row-level problem may quote a case's values, so it is summarised by file, column and rule).

The server (`serve`, through `ctlib.voila_server`) binds to 127.0.0.1, strips sources, hides
tracebacks, serves no file and loads nothing from a CDN. The data folder reaches the kernel
through the `CTLIB_DATA_DIR` environment variable.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import os
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import ipywidgets as widgets
import pandas as pd

from .. import __version__
from .._catalogue import Catalogue
from .._compute.engine import TOTAL, Results, compute
from .._compute.periods import ReportingCalendar
from .._compute.privacy import SUPPRESSED_COUNTS, suppress
from .._data.ingest import load_project_data
from .._data.project import load_project_file
from .._data.project_model import LIFE_OF_PROJECT, Project
from .._data.tables import PILLARS
from .._errors import CtlibError, ProjectError
from .._publish import charts
from .._publish.exports import write_indicators_csv, write_iptt_xlsx
from .._publish.html_table import html_table
from .._publish.views import iptt
from .._resources import notebook
from . import voila_server

DATA_DIR_ENV = "CTLIB_DATA_DIR"
NOTEBOOK = notebook("donor_dashboard")

STATUS_COLOURS = dict(zip(charts.STATUSES, charts.STATUS_COLOURS))  # the reports' colours
MET = ("on track", "above")
COUNT_MEASURES = (
    "count",
    "count_distinct",
    "sum",
    "reported",
)  # with unit `count`: a count of people or events
TABS = (*PILLARS, "disaggregation")
DISAGGREGATION = TABS[-1]
TREND_PERIODS = 4  # periods shown in the indicator table's trend column
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_PROJECT = "<p>The data folder holds no project folder (a folder with a project.yaml).</p>"
EMBED_OPTIONS = {
    "renderer": "svg",
    "actions": False,
}  # svg marks (readable by tests); no menu linking out


@dataclass(frozen=True)
class Headline:
    """A headline tile: per project, each group's first measured source (indicator id, results column) at life
    of project, summed over groups and projects."""

    title: str
    groups: tuple[tuple[tuple[str, str], ...], ...]
    note: str


HEADLINES = (
    Headline(
        "People reached by prevention work",
        ((("PREV-01", "value"),),),
        "in awareness-raising and safer-migration sessions",
    ),
    Headline(
        "Survivors assisted",
        ((("PROT-13", "denominator"), ("PROT-06", "value")),),
        "victims who started a service, or where that is not measured, were referred to one",
    ),
    Headline(
        "People trained",
        tuple(((i, "value"),) for i in ("PREV-08", "PREV-16", "PROT-01", "PROS-03")),
        "in prevention, fair recruitment, victim identification and law enforcement",
    ),
)

STYLE = """<style>
.ctlib-dash { font-size: 14px; color: #1a1a1a; max-width: 1240px; }
.ctlib-dash .widget-html-content { line-height: 1.4; }
.ctlib-header { background: #0b3d5c; color: white; padding: 10px 16px; border-radius: 6px; font-size: 15px; }
.ctlib-tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.ctlib-tile { flex: 1 1 180px; border: 1px solid #c9d3dc; border-radius: 6px; padding: 10px 12px;
              background: #f7f9fb; }
.ctlib-tile-value { font-size: 28px; font-weight: bold; color: #0b3d5c; }
.ctlib-tile-title { font-weight: bold; }
.ctlib-tile-note { color: #555; font-size: 12px; }
.ctlib-cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 12px 0; }
.ctlib-card { flex: 1 1 360px; box-sizing: border-box; min-width: 0; border: 1px solid #c9d3dc;
              border-left: 6px solid #0072B2; border-radius: 6px; padding: 8px 12px; }
.ctlib-card-failed { border-left-color: #D55E00; background: #fdf3ee; }
.ctlib-card h3 { margin: 0 0 2px 0; font-size: 16px; }
.ctlib-muted { color: #555; font-size: 12px; }
.ctlib-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px;
             vertical-align: baseline; }
.ctlib-status { white-space: nowrap; margin-right: 10px; }
.ctlib-table { border-collapse: collapse; margin: 6px 0 10px 0; width: 100%; }
.ctlib-table.ctlib-compact { width: auto; min-width: 320px; }
.ctlib-table td:first-child { white-space: nowrap; }
.ctlib-table th, .ctlib-table td { border-bottom: 1px solid #dde3e8; padding: 4px 8px; text-align: left;
                                   vertical-align: top; }
.ctlib-table th { background: #eef2f5; }
.ctlib-table td.num, .ctlib-table th.num { text-align: right; white-space: nowrap; }
.ctlib-hidden { color: #555; font-style: italic; }
.ctlib-notice { background: #fdf3ee; border-left: 4px solid #D55E00; padding: 6px 10px; margin: 6px 0; }
.ctlib-downloads a { display: inline-block; border: 1px solid #0072B2; border-radius: 4px; padding: 4px 10px;
                     margin-right: 8px; color: #0b3d5c; text-decoration: none; background: #eef4fb; }
.ctlib-footer { border-top: 1px solid #c9d3dc; margin-top: 14px; padding-top: 8px; color: #444; font-size: 12px; }
.ctlib-section { font-size: 18px; font-weight: bold; margin: 14px 0 4px 0; color: #0b3d5c; }
</style>"""


# -- loading -------------------------------------------------------------------------------------------------


@dataclass
class ProjectView:
    """One project as the dashboard shows it: donor (suppressed) results, or the problems that kept it out."""

    folder: str
    name: str
    project: Project | None = None
    catalogue: Catalogue | None = None
    results: Results | None = None
    latest: str | None = None  # label of the latest complete period with data
    problems: list[str] = field(default_factory=list)  # plain words, quoting no value

    @property
    def k(self) -> int:
        return self.project.privacy.min_cell_size

    def periods(self) -> list[str]:
        """The computed period labels, latest first, then life of project."""
        labels = [p.label for p in self.results.periods if p.label != LIFE_OF_PROJECT]
        return [*reversed(labels), LIFE_OF_PROJECT]

    def rows(self, period: str | None = None, is_total: bool = True) -> pd.DataFrame:
        """Total (or disaggregated) rows of one period (all periods when None), with indicator name, pillar, order."""
        table = self.results.table
        rows = table[(table["dimension"] == TOTAL) == is_total]
        if period is not None:
            rows = rows[rows["period"] == period]
        entries = [self.catalogue.get(i) for i in rows["indicator_id"]]
        order = {s.id: n for n, s in enumerate(self.project.indicators)}
        return rows.assign(
            indicator_name=[e.name for e in entries],
            pillar=[e.pillar for e in entries],
            order=rows["indicator_id"].map(order),
        )


def project_folders(data_dir: Path) -> list[Path]:
    """The folders directly under data_dir that hold a project.yaml, by name."""
    return sorted(p for p in data_dir.iterdir() if (p / "project.yaml").is_file())


def load_project_view(directory: Path) -> ProjectView:
    """Load one project, compute every period up to its latest and suppress for donors; never raises CtlibError."""
    try:
        data = load_project_data(directory)
        calendar = ReportingCalendar(data.project)
        latest = calendar.latest(data)
        labels = [p.label for p in calendar.periods() if p.end_date <= latest.end_date]
        results = suppress(
            compute(data, periods=labels), data.project.privacy.min_cell_size, "donor"
        )
    except CtlibError as error:
        return ProjectView(
            directory.name,
            _project_name(directory),
            problems=plain_problems(error, directory.parent),
        )
    return ProjectView(
        directory.name,
        data.project.project.name,
        data.project,
        data.catalogue,
        results,
        latest.label,
    )


def _project_name(directory: Path) -> str:
    try:
        return load_project_file(directory).project.project.name
    except CtlibError:
        return directory.name


def plain_problems(error: CtlibError, data_dir: Path) -> list[str]:
    """The error in words safe for a donor: problems about rows or values (which may quote a case's values)
    are summarised by file, column and rule; server paths are cut to names below data_dir."""
    row_level = {
        _where(p) + (p.rule,) for p in error.problems if p.row is not None or p.value is not None
    }
    lines = [error.summary]
    for problem in error.problems:
        where = _where(problem)
        if where + (problem.rule,) in row_level:
            place = ", ".join(w for w in where if w)
            lines.append(f"{place}: some values break the rule “{problem.rule or 'valid value'}”")
        else:
            lines.append(str(problem))
    prefix = str(data_dir.resolve()) + os.sep
    return list(dict.fromkeys(line.replace(prefix, "") for line in lines))


def _where(problem) -> tuple:
    return (
        problem.file,
        problem.sheet and f"sheet {problem.sheet!r}",
        problem.column and f"column {problem.column!r}",
    )


# -- text ----------------------------------------------------------------------------------------------------


def value_text(value, unit: str, is_hidden: bool, k: int, is_count: bool) -> str:
    """A value as HTML: hidden as the charts write it, counts of people in a `ctlib-count` span (tests read them)."""
    if is_hidden:
        return (
            f"<span class='ctlib-hidden' title='built on fewer than {k} people: hidden to protect survivors'>"
            f"{html.escape(charts.hidden_label(unit, k))}</span>"
        )
    if pd.isna(value):
        return "<span class='ctlib-muted'>no data</span>"
    if unit == "yes_no":
        return "yes" if value >= 1 else "no"
    if unit == "percent":
        return f"{value:,.1f}%"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"<span class='ctlib-count' data-k='{k}'>{text}</span>" if is_count else text


def status_html(status: str, count: int | None = None) -> str:
    """A status in words with its chart colour, after how many indicators have it when given."""
    colour = STATUS_COLOURS.get(status, "#999999")
    number = "" if count is None else f"<b>{count}</b> "
    return (
        f"<span class='ctlib-status'><span class='ctlib-dot' style='background:{colour}'></span>"
        f"{number}{status}</span>"
    )


def period_text(view: ProjectView, period: str) -> str:
    if period == LIFE_OF_PROJECT:
        return "life of project to date"
    return f"{period} (latest)" if period == view.latest else period


def download_links(view: ProjectView, period: str) -> str:
    """Links holding the IPTT (xlsx, every period to date) and the results of `period` (csv), both
    suppressed, as data URIs: nothing is stored, and no server route is needed."""
    labels = view.periods()[:-1]  # latest first
    notes = {
        "Project": view.name,
        "Periods": f"{labels[-1]} to {labels[0]}, and life of project to date",
        "Audience": "donor: aggregated figures only",
        "Small numbers": f"counts from 1 to {view.k - 1} and the "
        f"figures they could be worked out from are hidden (<{view.k}) to protect survivors",
        "Generated": f"{dt.datetime.now():%Y-%m-%d %H:%M} by the ctlib donor dashboard {__version__}",
        "Catalogue version": view.catalogue.version,
    }
    table = view.results.table
    with tempfile.TemporaryDirectory() as folder:
        xlsx = write_iptt_xlsx(
            iptt(view.results, view.catalogue), Path(folder) / "iptt.xlsx", notes, view.k
        )
        csv = write_indicators_csv(table[table["period"] == period], Path(folder) / "results.csv")
        links = [
            (
                f"{view.folder}_iptt_{view.latest}.xlsx",
                XLSX_TYPE,
                xlsx.read_bytes(),
                "IPTT (xlsx, all periods)",
            ),
            (
                f"{view.folder}_results_{period}.csv",
                "text/csv",
                csv.read_bytes(),
                f"Results of {period} (csv)",
            ),
        ]
    return (
        "<div class='ctlib-downloads'>Download: "
        + "".join(
            f"<a download='{name}' href='data:{mime};base64,{base64.b64encode(data).decode('ascii')}'>"
            f"{html.escape(label)}</a>"
            for name, mime, data, label in links
        )
        + "</div>"
    )


# -- the App -------------------------------------------------------------------------------------------------


class DonorDashboardApp:
    """The donor dashboard of every project under `data_dir` (always the donor audience).

    Headline tiles and project cards cover the portfolio; below them, the selected project and period
    in one tab per pillar (indicator table, progress chart, trend of one indicator) and a
    disaggregation tab. One table and one chart widget serve every tab (they move into the selected
    one): the page carries altair's bundled JavaScript once, and a redraw builds one table and chart.
    """

    def __init__(self, data_dir: str | Path):
        alt.renderers.enable("jupyter", offline=True)
        alt.JupyterChart.enable_offline()  # what that renderer does on display; our chart is a widget
        self.data_dir = Path(data_dir)
        if not self.data_dir.is_dir():
            raise ProjectError(
                f"No data folder {self.data_dir.name!r}: give the folder that holds the project folders"
            )
        self.views = [load_project_view(folder) for folder in project_folders(self.data_dir)]
        self.shown = [v for v in self.views if v.results is not None]
        self.loaded_at = dt.datetime.now()
        self._quiet = False
        self._downloads: dict[tuple[str, str], str] = {}  # (project folder, period) -> links
        self._build()
        if self.shown:
            self._redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- widgets, built once ---------------------------------------------------------------------------------
    def _build(self) -> None:
        if not self.shown:
            ending = (
                NO_PROJECT
                if not self.views
                else "<p>No project can be shown: see the problems on the cards.</p>"
            )
        else:
            ending = "<div class='ctlib-section'>Project results</div>"
        self.portfolio = widgets.HTML(  # one widget: the page starts faster with fewer models
            STYLE
            + self._header_html()
            + self._tiles_html()
            + self._notice_html()
            + "<div class='ctlib-section'>Projects</div><div class='ctlib-cards'>"
            + "".join(self._card_html(v) for v in self.views)
            + "</div>"
            + ending
        )
        self.project = widgets.Dropdown(
            options=[(v.name, v.folder) for v in self.shown],
            description="Project",
            layout=widgets.Layout(width="520px"),
            style={"description_width": "60px"},
        )
        self.period = widgets.Dropdown(
            description="Period",
            layout=widgets.Layout(width="300px"),
            style={"description_width": "50px"},
        )
        self.downloads = widgets.HTML()
        self.table = widgets.HTML()  # with the chart, moves into the selected tab
        self.pages = [widgets.VBox() for _ in TABS]
        self.tabs = widgets.Tab(children=self.pages, titles=[t.capitalize() for t in TABS])
        self.indicator = widgets.Dropdown(
            layout=widgets.Layout(width="720px"), style={"description_width": "110px"}
        )
        self.chart = alt.JupyterChart(None, embed_options=EMBED_OPTIONS)
        self.side_by_side = widgets.HBox(
            layout=widgets.Layout(align_items="flex-start", grid_gap="24px")
        )
        self.footer = widgets.HTML()
        detail = (
            [widgets.HBox([self.project, self.period]), self.downloads, self.tabs]
            if self.shown
            else []
        )
        self.widget = widgets.VBox(
            [self.portfolio, *detail, self.footer], layout=widgets.Layout(padding="4px 8px")
        )
        self.widget.add_class("ctlib-dash")
        self.project.observe(self._on_project, "value")
        self.period.observe(self._on_period, "value")
        self.tabs.observe(self._on_tab, "selected_index")
        self.indicator.observe(self._on_indicator, "value")
        if self.shown:
            self._set_periods()
            self._set_indicators()
        else:
            self.footer.value = self._footer_html()

    # -- callbacks -------------------------------------------------------------------------------------------
    def _on_project(self, change) -> None:
        self._set_periods()
        self._set_indicators()
        self._redraw()

    def _on_period(self, change) -> None:
        if not self._quiet:
            self._set_indicators()
            self._redraw()

    def _on_tab(self, change) -> None:
        self._set_indicators()
        self._redraw()

    def _on_indicator(self, change) -> None:
        if not self._quiet:
            self._redraw()

    @contextlib.contextmanager
    def _choices_changing(self):
        """Change dropdown options without a redraw per change."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _set_periods(self) -> None:
        """The selected project's periods, keeping the chosen one when it has it."""
        view, labels = self.selected, self.selected.periods()
        with self._choices_changing():
            kept = self.period.value if self.period.value in labels else view.latest
            self.period.options = [(period_text(view, p), p) for p in labels]
            self.period.value = kept

    def _set_indicators(self) -> None:
        """The indicators of the selected tab: its pillar's (trend) or those broken down in the period."""
        view, tab = self.selected, TABS[self.tabs.selected_index]
        if tab == DISAGGREGATION:
            rows = view.rows(self.period.value, is_total=False).sort_values("order")
        else:
            rows = view.rows(self.period.value).sort_values("order")
            rows = rows[rows["pillar"] == tab]
        ids = list(dict.fromkeys(rows["indicator_id"]))
        with self._choices_changing():
            kept = self.indicator.value
            self.indicator.options = [(f"{i} · {view.catalogue.get(i).name}", i) for i in ids]
            self.indicator.value = kept if kept in ids else (ids[0] if ids else None)
            self.indicator.description = "Breakdown of" if tab == DISAGGREGATION else "Trend of"

    @property
    def selected(self) -> ProjectView:
        return next(v for v in self.shown if v.folder == self.project.value)

    # -- the one redraw path ---------------------------------------------------------------------------------
    def _redraw(self) -> None:
        view, period, selected = self.selected, self.period.value, self.tabs.selected_index
        if TABS[selected] == DISAGGREGATION:
            self.table.value = self._breakdown_table(view, period)
            chart = self._breakdown_chart(view, period)
        else:
            rows = view.rows(period).sort_values("order")
            rows = rows[rows["pillar"] == TABS[selected]]
            self.table.value = self._indicator_table(view, rows, TABS[selected], period)
            chart = self._pillar_chart(view, rows, period)
        self.chart.chart = chart
        is_breakdown = TABS[selected] == DISAGGREGATION and chart is not None
        self.side_by_side.children = (self.table, self.chart) if is_breakdown else ()
        if chart is None:
            shown = (self.table,)
        else:
            shown = (
                (self.indicator, self.side_by_side)
                if is_breakdown
                else (self.table, self.indicator, self.chart)
            )
        for n, page in enumerate(self.pages):
            page.children = shown if n == selected else ()
        self.downloads.value = self._downloads_html(view, period)
        self.footer.value = self._footer_html()

    # -- the portfolio ---------------------------------------------------------------------------------------
    def _header_html(self) -> str:
        countries = sorted({v.project.project.country for v in self.shown})
        donors = {v.project.project.donor for v in self.shown}
        latest = sorted({v.latest for v in self.shown})
        text = (
            f"{len(self.views)} projects in {len(countries)} countries ({', '.join(countries)}) · "
            f"{len(donors)} donors · latest data: {', '.join(latest)}"
        )
        return f"<div class='ctlib-header'>{html.escape(text)}</div>"

    def _tiles_html(self) -> str:
        statuses = (
            pd.concat([v.rows(v.latest)["status"] for v in self.shown])
            if self.shown
            else pd.Series()
        )
        with_target = statuses[statuses.isin([*MET, "below"])]
        failed = len(self.views) - len(self.shown)
        tiles = [
            (
                "Projects",
                f"{len(self.shown)}",
                f"{failed} more could not be read"
                if failed
                else "every project in the data folder",
            ),
            (
                "Indicators on track",
                f"{int(with_target.isin(MET).sum())} of {len(with_target)}",
                "on track or above target, in each project's latest period (indicators with a target and data)",
            ),
            *(self._headline(h) for h in HEADLINES),
        ]
        return (
            "<div class='ctlib-tiles'>"
            + "".join(
                f"<div class='ctlib-tile'><div class='ctlib-tile-title'>{html.escape(title)}</div>"
                f"<div class='ctlib-tile-value'>{value}</div><div class='ctlib-tile-note'>{html.escape(note)}</div></div>"
                for title, value, note in tiles
            )
            + "</div>"
        )

    def _headline(self, headline: Headline) -> tuple[str, str, str]:
        """(title, value HTML, note): hidden figures are left out; a total under the largest k is hidden too."""
        values, has_hidden = [], False
        for view in self.shown:
            life = view.rows(LIFE_OF_PROJECT).set_index("indicator_id")
            for group in headline.groups:
                measured = [(i, column) for i, column in group if i in life.index]
                if measured:
                    indicator_id, column = measured[0]
                    values.append(life.at[indicator_id, column])
                    has_hidden |= bool(life.at[indicator_id, "suppressed"])
        note = f"life of project to date, {headline.note}"
        if not values:
            return headline.title, "<span class='ctlib-muted'>not measured</span>", note
        k = max(v.k for v in self.shown)
        total = float(pd.Series(values, dtype="float64").sum())
        if has_hidden:
            note += "; small numbers are left out"
        return (
            headline.title,
            value_text(total, "count", 0 < total < k or (total == 0 and has_hidden), k, True),
            note,
        )

    def _notice_html(self) -> str:
        failed = [v for v in self.views if v.results is None]
        if not failed:
            return ""
        names = ", ".join(html.escape(v.name) for v in failed)
        return (
            f"<div class='ctlib-notice'><b>{len(failed)} project(s) could not be shown:</b> {names}. "
            "Their data did not pass the checks; the problems are listed on their cards below. "
            "The other projects are not affected.</div>"
        )

    def _card_html(self, view: ProjectView) -> str:
        if view.results is None:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in view.problems[1:])
            return (
                f"<div class='ctlib-card ctlib-card-failed'><h3>{html.escape(view.name)}</h3>"
                f"<div><b>Not shown. {html.escape(view.problems[0])}</b></div><ul>{items}</ul>"
                "<div class='ctlib-muted'>The project team can correct its files; the project appears "
                "here once its data passes the checks.</div></div>"
            )
        identity, chain = view.project.project, view.project.results_chain
        counts = view.rows(view.latest)["status"].value_counts()
        statuses = "".join(status_html(s, counts[s]) for s in STATUS_COLOURS if s in counts)
        outcomes = "".join(
            f"<li>{html.escape(o.statement)}<ul>"
            + "".join(f"<li>{html.escape(out.statement)}</li>" for out in o.outputs)
            + "</ul></li>"
            for o in chain.outcomes
        )
        return (
            f"<div class='ctlib-card'><h3>{html.escape(identity.name)}</h3>"
            f"<div class='ctlib-muted'>{html.escape(identity.organisation)} · {html.escape(identity.country)} · "
            f"funded by {html.escape(identity.donor)} · {identity.start_date:%b %Y} to {identity.end_date:%b %Y}</div>"
            f"<div style='margin:6px 0'>Indicators in {html.escape(view.latest)}: {statuses}</div>"
            f"<details><summary>Results chain</summary><p><b>Objective:</b> {html.escape(chain.objective)}</p>"
            f"<ul>{outcomes}</ul></details></div>"
        )

    # -- the selected project --------------------------------------------------------------------------------
    def _indicator_table(
        self, view: ProjectView, rows: pd.DataFrame, pillar: str, period: str
    ) -> str:
        if rows.empty:
            return f"<p class='ctlib-muted'>{html.escape(view.name)} measures no {pillar} indicator.</p>"
        history = view.rows()
        history = history[
            (history["period"] != LIFE_OF_PROJECT)
            & (history["period_end_date"] <= rows["period_end_date"].max())
        ]
        body = []
        for row in rows.itertuples():
            is_count = (
                row.measure in COUNT_MEASURES
                and row.unit == "count"
                and row.counts in SUPPRESSED_COUNTS
            )
            recent = history[history["indicator_id"] == row.indicator_id].tail(TREND_PERIODS)
            trend = " → ".join(
                value_text(r.value, r.unit, bool(r.suppressed), view.k, is_count)
                for r in recent.itertuples()
            )
            body.append(
                [
                    html.escape(row.indicator_id),
                    html.escape(row.indicator_name),
                    value_text(row.baseline, row.unit, False, view.k, False),
                    value_text(row.target, row.unit, False, view.k, False),
                    value_text(row.value, row.unit, bool(row.suppressed), view.k, is_count),
                    "" if pd.isna(row.achievement) else f"{row.achievement:,.0f}%",
                    status_html(row.status),
                    trend,
                ]
            )
        header = [
            "ID",
            "Indicator",
            "Baseline",
            "Target",
            "Actual",
            "% of target",
            "Status",
            f"Last {TREND_PERIODS} periods",
        ]
        return html_table(header, body, {2, 3, 4, 5})

    def _pillar_chart(self, view: ProjectView, rows: pd.DataFrame, period: str):
        """Progress against target of the pillar's indicators in `period`, and the chosen indicator's trend."""
        if rows.empty:
            return None
        pillar = rows["pillar"].iloc[0]
        progress = charts.progress_chart(
            rows[["indicator_id", "indicator_name", "achievement", "status"]],
            f"{pillar.capitalize()}: progress against target, {period_text(view, period)}",
        )
        history = view.rows()
        history = history[
            (history["period"] != LIFE_OF_PROJECT)
            & (history["indicator_id"] == self.indicator.value)
        ]
        entry = view.catalogue.get(self.indicator.value)
        trend = charts.trend_chart(
            history,
            textwrap.shorten(f"{entry.id} · {entry.name}", 90, placeholder="…"),
            entry.unit,
            view.k,
        )
        return (
            alt.hconcat(progress, trend, spacing=30)
            .properties(
                description=f"Progress against target of the {len(rows)} {pillar} indicators of {view.name}, "
                f"and the trend per period of {entry.id}.",
            )
            .configure_mark(tooltip=True)
        )

    def _breakdown_rows(self, view: ProjectView, period: str) -> pd.DataFrame:
        rows = view.rows(period, is_total=False)
        return rows[rows["indicator_id"] == self.indicator.value]

    def _breakdown_table(self, view: ProjectView, period: str) -> str:
        rows = self._breakdown_rows(view, period)
        if rows.empty:
            return (
                "<p class='ctlib-muted'>No figures by sex, age or other groups in this period: "
                "choose another period.</p>"
            )
        first = rows.iloc[0]
        is_count = (
            first["measure"] in COUNT_MEASURES
            and first["unit"] == "count"
            and first["counts"] in SUPPRESSED_COUNTS
        )
        is_first = (rows["dimension"] != rows["dimension"].shift()).to_numpy()
        body = [
            [
                f"<b>{html.escape(r.dimension.replace('_', ' '))}</b>" if first else "",
                html.escape(str(r.category).replace("_", " ")),
                value_text(r.value, r.unit, bool(r.suppressed), view.k, is_count),
            ]
            for r, first in zip(rows.itertuples(), is_first)
        ]
        return html_table(
            ["Group", "Category", "Value"], body, {2}, css_class="ctlib-table ctlib-compact"
        )

    def _breakdown_chart(self, view: ProjectView, period: str):
        rows = self._breakdown_rows(view, period)
        if rows.empty:
            return None
        entry = view.catalogue.get(self.indicator.value)
        title = textwrap.shorten(f"{entry.id} · {entry.name}", 70, placeholder="…")
        return charts.disaggregation_chart(
            rows[["indicator_id", "period", "dimension", "category", "value", "suppressed"]],
            f"{title}, {period_text(view, period)}",
            entry.unit,
            view.k,
        ).configure_mark(tooltip=True)

    def _downloads_html(self, view: ProjectView, period: str) -> str:
        key = (view.folder, period)
        if key not in self._downloads:
            self._downloads[key] = download_links(view, period)
        return self._downloads[key]

    def _footer_html(self) -> str:
        ks = " or ".join(str(k) for k in sorted({v.k for v in self.shown})) or "5"
        shown = ""
        if self.shown:
            view = self.selected
            shown = (
                f"Showing {html.escape(view.name)}, {html.escape(period_text(view, self.period.value))}; "
                "headline figures: life of project to date; indicators on track: each project's latest period. "
            )
        return (
            f"<div class='ctlib-footer'>{shown}Data: {len(self.views)} project folders in "
            f"“{html.escape(self.data_dir.resolve().name)}”, read {self.loaded_at:%d %b %Y %H:%M}. "
            "All figures are totals: no record about a person is shown. To protect survivors, numbers below "
            f"each project's minimum ({ks}) are hidden and shown as &lt;k, and so are figures they could be "
            "worked out from.</div>"
        )


# -- the server ----------------------------------------------------------------------------------------------


def serve(
    data_dir: str | Path,
    port: int = 8866,
    token: str | None = None,
    notebook: Path = NOTEBOOK,
    limits: voila_server.KernelLimits = voila_server.DEFAULT_LIMITS,
) -> None:
    """Serve `notebook` with Voilà until interrupted; its kernel reads `data_dir` from CTLIB_DATA_DIR.

    One kernel is kept pre-heated (the notebook already run), so a visitor does not wait for the
    projects to be computed; the pool refills after each visit, with the data as it is then.
    """
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise ProjectError(
            f"No data folder at {data_dir}: give the folder that holds the project folders"
        )
    voila_server.serve(
        notebook,
        port,
        token,
        preheat=True,
        variables={DATA_DIR_ENV: str(data_dir)},
        limits=limits,
    )
