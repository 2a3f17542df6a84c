"""The donor dashboard: a portfolio of projects for donors, and the Voilà server that shows it.

`DonorDashboardApp(data_dir)` shows what each project under `data_dir` has published: the
releases its donor reports recorded in the project's release ledger (`releases.published`), as
they stand — approved periods with their approved (or revised) figures, the others labelled
draft, revised figures marked with their reason. It reads each project.yaml (and the team's own
catalogue file) and the ledger, never a data file: the dashboard computes nothing, so it shows
exactly what the reports published, and nothing a report did not. A project without a release
yet says so; one whose project.yaml cannot be read is listed with its problems in words that
quote no value, date, identifier or path (the presentation's donor redaction). Every figure,
status and label is written by each project's `Presentation`.

Donors narrow the portfolio by donor, country and pillar (also from the page's address:
`?donor=...&country=...&pillar=...`, so a donor's link opens on its own projects).

The server (`serve`, through `voila_server`) binds to 127.0.0.1, strips sources, hides
tracebacks, serves no file and loads nothing from a CDN. The data folder reaches the kernel
through the `CTLIB_DATA_DIR` environment variable.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import ipywidgets as widgets
import pandas as pd

from .. import __version__
from .._catalogue import Catalogue
from .._compute.engine import TOTAL, Results
from .._compute.privacy import SUPPRESSED_COUNTS
from .._compute.targets import GRADED
from .._data.project import load_project_file
from .._data.project_model import LIFE_OF_PROJECT, Project
from .._data.tables import PILLARS
from .._errors import CtlibError, ProjectError
from .._publish import charts
from .._publish.exports import write_indicators_csv, write_iptt_xlsx
from .._publish.html_table import html_table
from .._publish.presentation import PAGE_STYLE, STATUSES, Presentation
from .._publish.releases import published
from .._publish.views import iptt
from .._resources import notebook
from . import voila_server
from .common import App, page_parameters

DATA_DIR_ENV = "CTLIB_DATA_DIR"
NOTEBOOK = notebook("donor_dashboard")
MET = ("on track", "ahead")
COUNT_MEASURES = (
    "count",
    "count_distinct",
    "sum",
    "reported",
)  # with unit `count`: people or events
TABS = (*PILLARS, "disaggregation")
DISAGGREGATION = TABS[-1]
TREND_PERIODS = 4  # periods shown in the indicator table's trend column
EVERY = ""  # the filters' "all" choice
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_PROJECT = "<p>The data folder holds no project folder (a folder with a project.yaml).</p>"
NOT_PUBLISHED = (
    "No figures have been published for this project yet. They appear here once the project "
    "team publishes its first report."
)
EMBED_OPTIONS = {"renderer": "svg", "actions": False}  # svg marks (tests read them); no menu out
BREAKDOWN_COLUMNS = (  # what a breakdown chart needs: values, and how hidden ones read
    "indicator_id",
    "period",
    "dimension",
    "category",
    "value",
    "suppressed",
    "suppression",
    "value_state",
    "value_as_written",
)


@dataclass(frozen=True)
class Headline:
    """A headline tile: per project, each group's first measured source (indicator id, results
    column) at life of project, summed over groups and projects."""

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


# -- loading -------------------------------------------------------------------------------------


@dataclass
class ProjectView:
    """One project as the dashboard shows it: its published results, or why there are none
    (`problems`: its project.yaml cannot be read; none and no results: nothing published yet)."""

    folder: str
    name: str
    project: Project | None = None
    catalogue: Catalogue | None = None
    results: Results | None = None
    latest: str | None = None  # label of the period of the release shown
    problems: list[str] = field(default_factory=list)  # in words a donor may read

    @property
    def presentation(self) -> Presentation:
        return Presentation.of_project(self.project, self.catalogue)

    @property
    def k(self) -> int:
        return self.project.privacy.min_cell_size

    @property
    def is_unpublished(self) -> bool:
        """Readable, but no release yet."""
        return self.results is None and not self.problems

    def periods(self) -> list[str]:
        """The released periods of the release's own kind (quarters, say), latest first, then life
        of project."""
        kind = self._period(self.latest).kind
        labels = [p.label for p in self.results.periods if p.kind == kind]
        return [*reversed(labels), LIFE_OF_PROJECT]

    def is_draft(self, label: str) -> bool:
        """Whether the period's figures are not approved yet."""
        table = self.results.table
        return bool(table.loc[table["period"] == label, "is_draft"].any())

    def period_text(self, label: str) -> str:
        return self.presentation.period(
            self._period(label), latest=self.latest, is_draft=self.is_draft(label)
        )

    def _period(self, label: str):
        return next(p for p in self.results.periods if p.label == label)

    def pillars(self) -> list[str]:
        """The pillars the project measures, in pillar order."""
        measured = {self.catalogue.get(s.id).pillar for s in self.project.indicators}
        return [p for p in PILLARS if p in measured]

    def rows(self, period: str | None = None, is_total: bool = True) -> pd.DataFrame:
        """Total (or disaggregated) rows of one period (of every period shown when None), with
        pillar and order."""
        table = self.results.table
        rows = table[(table["dimension"] == TOTAL) == is_total]
        rows = rows[rows["period"].isin(self.periods() if period is None else [period])]
        order = {s.id: n for n, s in enumerate(self.project.indicators)}
        return rows.assign(
            pillar=[self.catalogue.get(i).pillar for i in rows["indicator_id"]],
            order=rows["indicator_id"].map(order),
        )


def project_folders(data_dir: Path) -> list[Path]:
    """The folders directly under data_dir that hold a project.yaml, by name."""
    return sorted(p for p in data_dir.iterdir() if (p / "project.yaml").is_file())


def load_portfolio(data_dir: Path) -> list[ProjectView]:
    """Every project folder of the data folder, loaded for donors."""
    if not data_dir.is_dir():
        raise ProjectError(
            f"No data folder {data_dir.name!r}: give the folder that holds the project folders"
        )
    return [load_project_view(folder) for folder in project_folders(data_dir)]


def load_project_view(directory: Path) -> ProjectView:
    """One project's published results (project.yaml and the release ledger, no data file);
    never raises CtlibError."""
    try:
        loaded = load_project_file(directory, with_data_files=False)
        results = published(directory, loaded.project)
    except CtlibError as error:
        said = Presentation("donor").problems(error.problems) or [
            Presentation("donor").error(error)
        ]
        summary = f"Its settings could not be read ({len(error.problems) or 1} problem(s))."
        return ProjectView(directory.name, directory.name, problems=[summary, *said])
    project = loaded.project
    return ProjectView(
        directory.name,
        project.project.name,
        project,
        loaded.catalogue,
        results,
        results.release.period if results is not None else None,
    )


def download_links(view: ProjectView, period: str) -> str:
    """Links holding the IPTT (xlsx, every period to date) and the results of `period` (csv), both
    suppressed, as data URIs: nothing is stored, and no server route is needed."""
    labels, shown = view.periods()[:-1], view.presentation  # latest first
    notes = {
        "Project": view.name,
        "Periods": f"{labels[-1]} to {labels[0]}, and life of project to date",
        "Audience": "donor: aggregated figures only",
        "Small numbers": shown.suppression_rule(),
        "Generated": (
            f"{dt.datetime.now():%Y-%m-%d %H:%M} by the ctlib donor dashboard {__version__}"
        ),
        "Catalogue version": view.catalogue.version,
    }
    table = view.results.table
    with tempfile.TemporaryDirectory() as folder:
        xlsx = write_iptt_xlsx(
            iptt(view.results, view.catalogue), Path(folder) / "iptt.xlsx", notes, shown
        )
        csv = write_indicators_csv(
            table[table["period"] == period], Path(folder) / "results.csv", shown
        )
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
            f"<a download='{name}' href='data:{mime};base64,"
            f"{base64.b64encode(data).decode('ascii')}'>"
            f"{html.escape(label)}</a>"
            for name, mime, data, label in links
        )
        + "</div>"
    )


# -- the App -------------------------------------------------------------------------------------


class DonorDashboardApp(App):
    """The donor dashboard of every project under `data_dir` (always the donor audience).

    Filters (donor, country, pillar) narrow the portfolio: headline tiles and project cards;
    below them, the selected project and period in one tab per pillar (indicator table, progress
    chart, trend of one indicator) and a disaggregation tab. One table and one chart widget serve
    every tab (they move into the selected one): the page carries altair's bundled JavaScript
    once, and a redraw builds one table and chart.
    """

    audience = "donor"

    def __init__(
        self,
        data_dir: str | Path,
        donor: str = EVERY,
        country: str = EVERY,
        pillar: str = EVERY,
        views: list[ProjectView] | None = None,
    ):
        alt.renderers.enable("jupyter", offline=True)
        # what that renderer does on display; our chart is a widget
        alt.JupyterChart.enable_offline()
        self.data_dir = Path(data_dir)
        self.views = load_portfolio(self.data_dir)
        self.loaded_at = dt.datetime.now()
        self._downloads: dict[tuple[str, str], str] = {}  # (project folder, period) -> links
        self._build(donor, country, pillar)
        if self.shown:
            self._redraw()

    @classmethod
    def for_page(cls, data_dir: str | Path) -> DonorDashboardApp:
        """The dashboard a visit asks for: the served data folder (CTLIB_DATA_DIR, else `data_dir`)
        narrowed by the page's `donor`, `country` and `pillar` parameters. The whole portfolio is
        built first: a pre-heated kernel has it drawn when the visit (and its parameters) arrives.
        """
        app = cls(os.environ.get(DATA_DIR_ENV, str(data_dir)))
        app.narrow(**page_parameters(donor=EVERY, country=EVERY, pillar=EVERY))
        return app

    def narrow(self, donor: str = EVERY, country: str = EVERY, pillar: str = EVERY) -> None:
        """Set the filters (an unknown choice means all) and redraw once if they changed."""
        wanted = {self.donor: donor, self.country: country, self.pillar: pillar}
        changed = False
        with self._quiet():
            for control, value in wanted.items():
                value = value if value in [v for _, v in control.options] else EVERY
                changed |= control.value != value
                control.value = value
        if changed:
            self._on_filter(None)

    @property
    def readable(self) -> list[ProjectView]:
        """The projects whose data could be read."""
        return [v for v in self.views if v.results is not None]

    @property
    def shown(self) -> list[ProjectView]:
        """The readable projects the filters keep."""
        donor, country, pillar = self.donor.value, self.country.value, self.pillar.value
        return [
            v
            for v in self.readable
            if donor in (EVERY, v.project.project.donor)
            and country in (EVERY, v.project.project.country)
            and pillar in (EVERY, *v.pillars())
        ]

    # -- widgets, built once ---------------------------------------------------------------------
    def _build(self, donor: str, country: str, pillar: str) -> None:
        self.message = widgets.HTML()
        readable = self.readable
        self.donor = _filter("Donor", sorted({v.project.project.donor for v in readable}), donor)
        self.country = _filter(
            "Country", sorted({v.project.project.country for v in readable}), country
        )
        self.pillar = _filter(
            "Pillar",
            [p for p in PILLARS if any(p in v.pillars() for v in readable)],
            pillar,
            label=str.capitalize,
        )
        self.portfolio = widgets.HTML()  # one widget: the page starts faster with fewer models
        self.project = widgets.Dropdown(
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
        self.detail = widgets.VBox(
            [widgets.HBox([self.project, self.period]), self.downloads, self.tabs]
        )
        filters = (
            widgets.HBox([self.donor, self.country, self.pillar]) if readable else widgets.HBox()
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(PAGE_STYLE),
                self.message,
                filters,
                self.portfolio,
                self.detail,
                self.footer,
            ],
            layout=widgets.Layout(padding="4px 8px"),
        )
        self.widget.add_class("ctlib-dash")
        for control in (self.donor, self.country, self.pillar):
            self.on(control, self._on_filter)
        self.on(self.project, self._on_project)
        self.on(self.period, self._on_period)
        self.on(self.tabs, self._on_tab, "selected_index")
        self.on(self.indicator, self._on_indicator)
        self._fill_portfolio()

    # -- callbacks -------------------------------------------------------------------------------
    def _on_filter(self, change) -> None:
        self._fill_portfolio()
        if self.shown:
            self._redraw()

    def _on_project(self, change) -> None:
        self._set_periods()
        self._open_first_pillar()
        self._set_indicators()
        self._redraw()

    def _on_period(self, change) -> None:
        self._set_indicators()
        self._redraw()

    def _on_tab(self, change) -> None:
        self._set_indicators()
        self._redraw()

    def _on_indicator(self, change) -> None:
        self._redraw()

    def _fill_portfolio(self) -> None:
        """The portfolio of the filtered projects, and the project choice among them."""
        shown = self.shown
        if not self.views:
            ending = NO_PROJECT
        elif not self.readable:
            ending = "<p>No project has published figures to show yet: see the cards.</p>"
        elif not shown:
            ending = (
                "<p>No project matches these filters: choose another donor, country or pillar.</p>"
            )
        else:
            ending = "<div class='ctlib-section'>Project results</div>"
        failed = [v for v in self.views if v.results is None]  # unreadable, or unpublished
        self.portfolio.value = (
            self._header_html(shown)
            + self._tiles_html(shown)
            + self._notice_html([v for v in failed if v.problems])
            + "<div class='ctlib-section'>Projects</div><div class='ctlib-cards'>"
            + "".join(self._card_html(v) for v in [*shown, *failed])
            + "</div>"
            + ending
        )
        self.detail.layout.display = None if shown else "none"
        with self._quiet():
            kept = self.project.value
            self.project.options = [(v.name, v.folder) for v in shown]
            self.project.value = (
                kept if kept in [v.folder for v in shown] else (shown[0].folder if shown else None)
            )
        if shown:
            self._set_periods()
            self._open_first_pillar()
            self._set_indicators()
        else:
            self.footer.value = self._footer_html()

    def _set_periods(self) -> None:
        """The selected project's periods, keeping the chosen one when it has it."""
        view, labels = self.selected, self.selected.periods()
        with self._quiet():
            kept = self.period.value if self.period.value in labels else view.latest
            self.period.options = [(view.period_text(p), p) for p in labels]
            self.period.value = kept

    def _open_first_pillar(self) -> None:
        """Open the chosen pillar (the filter), else keep the tab when the project measures its
        pillar, else open the project's first pillar with indicators."""
        pillars, tab = self.selected.pillars(), TABS[self.tabs.selected_index]
        wanted = (
            self.pillar.value
            if self.pillar.value in pillars
            else (
                tab if tab in pillars or tab == DISAGGREGATION else (pillars[0] if pillars else tab)
            )
        )
        with self._quiet():
            self.tabs.selected_index = TABS.index(wanted)

    def _set_indicators(self) -> None:
        """The indicators of the selected tab:
        its pillar's (trend) or those broken down in the period."""
        view, tab = self.selected, TABS[self.tabs.selected_index]
        if tab == DISAGGREGATION:
            rows = view.rows(self.period.value, is_total=False).sort_values("order")
        else:
            rows = view.rows(self.period.value).sort_values("order")
            rows = rows[rows["pillar"] == tab]
        ids = list(dict.fromkeys(rows["indicator_id"]))
        with self._quiet():
            kept = self.indicator.value
            self.indicator.options = [(view.presentation.indicator(i), i) for i in ids]
            self.indicator.value = kept if kept in ids else (ids[0] if ids else None)
            self.indicator.description = "Breakdown of" if tab == DISAGGREGATION else "Trend of"

    @property
    def selected(self) -> ProjectView:
        return next(v for v in self.readable if v.folder == self.project.value)

    # -- the one redraw path ---------------------------------------------------------------------
    def _redraw(self) -> None:
        view, period, selected = self.selected, self.period.value, self.tabs.selected_index
        if TABS[selected] == DISAGGREGATION:
            self.table.value = self._breakdown_table(view, period)
            chart = self._breakdown_chart(view, period)
        else:
            rows = view.rows(period).sort_values("order")
            rows = rows[rows["pillar"] == TABS[selected]]
            self.table.value = self._indicator_table(view, rows, TABS[selected])
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

    # -- the portfolio ---------------------------------------------------------------------------
    def _header_html(self, shown: list[ProjectView]) -> str:
        countries = sorted({v.project.project.country for v in shown})
        donors = {v.project.project.donor for v in shown}
        latest = sorted({v.latest for v in shown})
        narrowed = f" (of {len(self.views)})" if len(shown) < len(self.readable) else ""
        text = (
            f"{len(shown)} projects{narrowed} in {len(countries)} countries "
            f"({', '.join(countries)}) · {len(donors)} donors · latest data: {', '.join(latest)}"
        )
        return f"<div class='ctlib-header'>{html.escape(text)}</div>"

    def _statuses(self, view: ProjectView) -> pd.Series:
        """Statuses of the project's indicators in its latest period (of the chosen pillar)."""
        rows = view.rows(view.latest)
        if self.pillar.value != EVERY:
            rows = rows[rows["pillar"] == self.pillar.value]
        return rows["status"]

    def _tiles_html(self, shown: list[ProjectView]) -> str:
        statuses = pd.concat([self._statuses(v) for v in shown]) if shown else pd.Series(dtype=str)
        with_target = statuses[statuses.isin(GRADED)]
        failed = sum(bool(v.problems) for v in self.views)
        unpublished = sum(v.is_unpublished for v in self.views)
        tiles = [
            (
                "Projects",
                f"{len(shown)}",
                "; ".join(
                    [f"{failed} more could not be read"] * bool(failed)
                    + [f"{unpublished} more not published yet"] * bool(unpublished)
                )
                or (
                    "every project in the data folder"
                    if len(shown) == len(self.views)
                    else "that match the filters"
                ),
            ),
            (
                "Indicators on track",
                f"{int(with_target.isin(MET).sum())} of {len(with_target)}",
                "on track or ahead, in each project's latest period "
                "(indicators graded against a target)",
            ),
            *(self._headline(h, shown) for h in HEADLINES),
        ]
        return (
            "<div class='ctlib-tiles'>"
            + "".join(
                f"<div class='ctlib-tile'><div class='ctlib-tile-title'>{html.escape(title)}</div>"
                f"<div class='ctlib-tile-value'>{value}</div>"
                f"<div class='ctlib-tile-note'>{html.escape(note)}</div></div>"
                for title, value, note in tiles
            )
            + "</div>"
        )

    def _headline(self, headline: Headline, shown: list[ProjectView]) -> tuple[str, str, str]:
        """(title, value HTML, note): hidden figures are left out;
        a total under the largest k is hidden too."""
        values, has_hidden = [], False
        for view in shown:
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
        k = max(v.k for v in shown)
        total = float(pd.Series(values, dtype="float64").sum())
        if has_hidden:
            note += "; small numbers are left out"
        is_hidden = 0 < total < k or (total == 0 and has_hidden)
        return (
            headline.title,
            Presentation("donor", k).value_html(total, "count", is_hidden, True),
            note,
        )

    def _notice_html(self, failed: list[ProjectView]) -> str:
        if not failed:
            return ""
        names = ", ".join(html.escape(v.name) for v in failed)
        return (
            f"<div class='ctlib-notice'><b>{len(failed)} project(s) could not be shown:</b> "
            f"{names}. Their settings could not be read; the problems are listed on their cards "
            "below. The other projects are not affected.</div>"
        )

    def _card_html(self, view: ProjectView) -> str:
        if view.is_unpublished:
            identity = view.project.project
            return (
                f"<div class='ctlib-card'><h3>{html.escape(identity.name)}</h3>"
                f"<div class='ctlib-muted'>{html.escape(identity.organisation)} · "
                f"{html.escape(identity.country)} · funded by {html.escape(identity.donor)}</div>"
                f"<div style='margin:6px 0'>{html.escape(NOT_PUBLISHED)}</div></div>"
            )
        if view.results is None:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in view.problems[1:])
            return (
                f"<div class='ctlib-card ctlib-card-failed'><h3>{html.escape(view.name)}</h3>"
                f"<div><b>Not shown. {html.escape(view.problems[0])}</b></div><ul>{items}</ul>"
                "<div class='ctlib-muted'>The project team can correct its files; the project "
                "appears here once they can be read.</div></div>"
            )
        identity, chain, shown = view.project.project, view.project.results_chain, view.presentation
        counts = self._statuses(view).value_counts()
        statuses = "".join(shown.status_html(s, counts[s]) for s in STATUSES if s in counts)
        outcomes = "".join(
            f"<li>{html.escape(o.statement)}<ul>"
            + "".join(f"<li>{html.escape(out.statement)}</li>" for out in o.outputs)
            + "</ul></li>"
            for o in chain.outcomes
        )
        return (
            f"<div class='ctlib-card'><h3>{html.escape(identity.name)}</h3>"
            f"<div class='ctlib-muted'>{html.escape(identity.organisation)} · "
            f"{html.escape(identity.country)} · funded by {html.escape(identity.donor)} · "
            f"{identity.start_date:%b %Y} to {identity.end_date:%b %Y}</div>"
            f"<div style='margin:6px 0'>Indicators in {html.escape(view.latest)}: {statuses}</div>"
            "<details><summary>Results chain</summary>"
            f"<p><b>Objective:</b> {html.escape(chain.objective)}</p>"
            f"<ul>{outcomes}</ul></details></div>"
        )

    # -- the selected project --------------------------------------------------------------------
    def _indicator_table(self, view: ProjectView, rows: pd.DataFrame, pillar: str) -> str:
        if rows.empty:
            return (
                f"<p class='ctlib-muted'>{html.escape(view.name)} "
                f"measures no {pillar} indicator.</p>"
            )
        shown, history = view.presentation, view.rows()
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
            entry = view.catalogue.get(row.indicator_id)
            recent = history[history["indicator_id"] == row.indicator_id].tail(TREND_PERIODS)
            trend = " → ".join(_value_html(shown, r, is_count) for r in recent.itertuples())
            body.append(
                [
                    html.escape(row.indicator_id),
                    html.escape(shown.indicator_name(row.indicator_id)),
                    html.escape(shown.number(row.baseline, row.unit)),
                    html.escape(shown.target(row.target, row.unit, entry.direction)),
                    _value_html(shown, row, is_count),
                    shown.achievement(row.achievement),
                    shown.status_html(row.status),
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
        """Progress against target of the pillar's indicators in `period`,
        and the chosen indicator's trend."""
        if rows.empty:
            return None
        pillar, shown = rows["pillar"].iloc[0], view.presentation
        progress = charts.progress_chart(
            rows[["indicator_id", "achievement", "status"]],
            f"{pillar.capitalize()}: progress against target, {view.period_text(period)}",
            shown,
        )
        history = view.rows()
        history = history[
            (history["period"] != LIFE_OF_PROJECT)
            & (history["indicator_id"] == self.indicator.value)
        ]
        entry = view.catalogue.get(self.indicator.value)
        trend = charts.trend_chart(history, shown.indicator(entry.id, 90), entry.unit, shown)
        return (
            alt.hconcat(progress, trend, spacing=30)
            .properties(
                description=f"Progress against target of the {len(rows)} {pillar} indicators of "
                f"{view.name}, and the trend per period of {entry.id}.",
            )
            .configure_mark(tooltip=True)
        )

    def _breakdown_rows(self, view: ProjectView, period: str) -> pd.DataFrame:
        rows = view.rows(period, is_total=False)
        return rows[rows["indicator_id"] == self.indicator.value]

    def _breakdown_table(self, view: ProjectView, period: str) -> str:
        rows, shown = self._breakdown_rows(view, period), view.presentation
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
                f"<b>{html.escape(shown.category(r.dimension))}</b>" if first else "",
                html.escape(shown.category(r.category)),
                _value_html(shown, r, is_count),
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
        shown, entry = view.presentation, view.catalogue.get(self.indicator.value)
        return charts.disaggregation_chart(
            rows[[*BREAKDOWN_COLUMNS]],
            f"{shown.indicator(entry.id, 70)}, {view.period_text(period)}",
            entry.unit,
            shown,
        ).configure_mark(tooltip=True)

    def _downloads_html(self, view: ProjectView, period: str) -> str:
        key = (view.folder, period)
        if key not in self._downloads:
            self._downloads[key] = download_links(view, period)
        return self._downloads[key]

    def _footer_html(self) -> str:
        ks = " or ".join(str(k) for k in sorted({v.k for v in self.readable})) or "5"
        shown = ""
        if self.shown:
            view = self.selected
            shown = (
                f"Showing {html.escape(view.name)}, "
                f"{html.escape(view.period_text(self.period.value))}; "
                "headline figures: life of project to date; indicators on track: each project's "
                "latest period. "
            )
        return (
            f"<div class='ctlib-footer'>{shown}Data: {len(self.views)} project folders in "
            f"“{html.escape(self.data_dir.resolve().name)}”, releases read "
            f"{self.loaded_at:%d %b %Y %H:%M}. "
            "All figures are totals, as the projects' reports published them: no record about a "
            f"person is shown. To protect survivors, numbers below each project's minimum ({ks}) "
            "are hidden and shown as &lt;k, and figures they could be worked out from read "
            "“hidden”. Periods marked draft are not approved yet and may change; a figure marked "
            "revised was corrected after approval (its reason on hover).</div>"
        )


def _value_html(shown: Presentation, row, is_count: bool) -> str:
    """A published row's value as HTML: hidden by why, a source's own words, revised marked."""
    return shown.value_html(
        row.value,
        row.unit,
        bool(row.suppressed),
        is_count,
        row.suppression,
        row.value_as_written,
        row.revision_note,
    )


def _filter(name: str, choices: list[str], chosen: str, label=str) -> widgets.Dropdown:
    """A portfolio filter: every choice, and "all" (EVERY) first."""
    options = [
        (f"All {name.lower()}s" if name != "Country" else "All countries", EVERY),
        *((label(c), c) for c in choices),
    ]
    return widgets.Dropdown(
        options=options,
        value=chosen if chosen in choices else EVERY,
        description=name,
        layout=widgets.Layout(width="260px"),
        style={"description_width": "60px"},
    )


# -- the server ----------------------------------------------------------------------------------


def serve(
    data_dir: str | Path,
    port: int = 8866,
    token: str | None = None,
    notebook: Path = NOTEBOOK,
    limits: voila_server.KernelLimits = voila_server.DEFAULT_LIMITS,
    public_urls: tuple[str, ...] = (),
) -> None:
    """Serve `notebook` with Voilà until interrupted;
    its kernel reads `data_dir` from CTLIB_DATA_DIR.

    One kernel is kept pre-heated (the notebook already run), so a visitor does not wait for the
    projects to be computed; the pool refills after each visit, with the data as it is then.
    `public_urls`: the addresses a reverse proxy serves it at (https://name), answered too.
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
        public_urls=public_urls,
    )
