"""The evaluator's explorer (ExploreApp).

Indicators, rows behind a result, cross-tabs, comparison; its charts.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import altair as alt
import ipywidgets as widgets
import pandas as pd

from .._catalogue import describe_recipe
from .._catalogue.model import Indicator
from .._compute.engine import TOTAL, Results, compute, recipe_rows
from .._compute.periods import Period, ReportingCalendar
from .._compute.privacy import suppress
from .._data.ingest import load_project_data
from .._data.project import PROJECT_FILE
from .._data.project_data import ProjectData
from .._data.project_model import LIFE_OF_PROJECT
from .._data.tables import BOOLEAN, CATEGORY, COUNTRY, STRING, TABLES
from .._errors import CtlibError, PeriodError
from .._format import number_text
from .._publish import charts
from .._publish.presentation import PAGE_STYLE, Presentation
from .._publish.views import formatted, portfolio
from .common import App, _guide, on_screen

EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False}}


class ExploreApp(App):
    """The evaluator's workbench, for the internal audience (figures are not suppressed).

    Choose a project of the data folder and a span of periods; then, per tab: an indicator's value,
    trend and every disaggregation; the rows behind it; a cross-tabulation of two columns of a
    table; and a comparison with another project on the indicators both report.
    """

    TABS = ("Indicator", "Rows behind", "Cross-tab", "Compare projects")
    MAX_ROWS_SHOWN = 200

    def __init__(self, data_dir: str | Path, project: str = "", compare_with: str = ""):
        enable_offline_charts()
        self.data_dir = Path(data_dir)
        self._data: dict[str, ProjectData] = {}  # per project folder name
        self._results: dict[tuple, Results] = {}  # per (folder name, period labels, indicator ids)
        self._charts: dict[
            tuple, dict
        ] = {}  # chart specs per (folder, labels, indicator[, period])
        self._build()
        folders = project_folders(self.data_dir)
        if not folders:
            self.show_message(
                f"No project folder (with a project.yaml) in {html.escape(str(self.data_dir))}: "
                "give the folder that holds the project folders.",
                "error",
            )
        with self._quiet():
            self.project.options = folders
            self.other_project.options = [("(choose a project)", ""), *[(f, f) for f in folders]]
            self.project.value = (
                project if project in folders else (folders[0] if folders else None)
            )
            self.other_project.value = compare_with if compare_with in folders else ""
        self._on_project()

    # -- building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message = widgets.HTML()
        self.project = widgets.Dropdown(description="Project", layout=widgets.Layout(width="380px"))
        self.first_period = widgets.Dropdown(
            description="From", layout=widgets.Layout(width="200px")
        )
        self.last_period = widgets.Dropdown(description="To", layout=widgets.Layout(width="200px"))
        self.reload_button = widgets.Button(
            description="Reload the data",
            layout=widgets.Layout(width="max-content"),
            tooltip="Read the project files again, after they changed",
        )
        self.on_click(self.reload_button, self.reload)
        self.on(self.project, self._on_project, "value")
        for control in (self.first_period, self.last_period):
            self.on(control, self._on_change, "value")
        self.tabs = widgets.Tab(
            children=[
                self._build_indicator(),
                self._build_rows(),
                self._build_crosstab(),
                self._build_compare(),
            ],
            titles=self.TABS,
        )
        self.on(self.tabs, self._on_change, "selected_index")
        banner = widgets.HTML(
            "<div class='ctlib-message-error'><b>Internal — unsuppressed.</b> Figures are not "
            "hidden for small numbers and the rows behind them are case records: do not share "
            "this page outside the evaluation team.</div>"
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(PAGE_STYLE),
                banner,
                self.message,
                widgets.HBox(
                    [self.project, self.first_period, self.last_period, self.reload_button]
                ),
                self.tabs,
            ]
        )
        self.widget.add_class("ctlib-app")

    def _build_indicator(self) -> widgets.VBox:
        self.indicator = widgets.Dropdown(
            description="Indicator", layout=widgets.Layout(width="620px")
        )
        self.period = widgets.Dropdown(description="Period", layout=widgets.Layout(width="260px"))
        for control in (self.indicator, self.period):
            self.on(control, self._on_change, "value")
        self.value_card = widgets.HTML()
        self.trend_chart = _chart_widget()
        self.disaggregation_chart = _chart_widget()
        self.indicator_table = widgets.HTML()
        drill = widgets.Button(
            description="See the rows behind →", layout=widgets.Layout(width="max-content")
        )
        self.on_click(drill, lambda: setattr(self.tabs, "selected_index", 1))
        return widgets.VBox(
            [
                widgets.HBox([self.indicator, self.period]),
                self.value_card,
                drill,
                self.trend_chart,
                self.disaggregation_chart,
                self.indicator_table,
            ]
        )

    def _build_rows(self) -> widgets.VBox:
        self.category = widgets.Dropdown(description="Only", layout=widgets.Layout(width="420px"))
        self.on(self.category, self._on_change, "value")
        self.rows_note = widgets.HTML()
        self.rows_table = widgets.HTML()
        return widgets.VBox(
            [
                _guide(
                    "The records of the project's data that the indicator counts in the period "
                    "chosen on the Indicator tab, with the columns its recipe uses first."
                ),
                self.category,
                self.rows_note,
                self.rows_table,
            ]
        )

    def _build_crosstab(self) -> widgets.VBox:
        self.crosstab_table_name = widgets.Dropdown(
            description="Table", layout=widgets.Layout(width="260px")
        )
        self.crosstab_rows = widgets.Dropdown(
            description="Rows", layout=widgets.Layout(width="300px")
        )
        self.crosstab_columns = widgets.Dropdown(
            description="Columns", layout=widgets.Layout(width="300px")
        )
        for control in (self.crosstab_table_name, self.crosstab_rows, self.crosstab_columns):
            self.on(control, self._on_change, "value")
        self.crosstab_chart = _chart_widget()
        self.crosstab_html = widgets.HTML()
        return widgets.VBox(
            [
                _guide(
                    "Count the records of a table by two of its categories, over the periods "
                    "chosen above (by the table's main date)."
                ),
                widgets.HBox([self.crosstab_table_name, self.crosstab_rows, self.crosstab_columns]),
                self.crosstab_chart,
                self.crosstab_html,
            ]
        )

    def _build_compare(self) -> widgets.VBox:
        self.other_project = widgets.Dropdown(
            description="Compare with",
            layout=widgets.Layout(width="380px"),
            style={"description_width": "100px"},
        )
        self.on(self.other_project, self._on_change, "value")
        self.compare_chart = _chart_widget()
        self.compare_html = widgets.HTML()
        return widgets.VBox(
            [
                _guide(
                    "The indicators both projects report, over the life of each project to date."
                ),
                self.other_project,
                self.compare_chart,
                self.compare_html,
            ]
        )

    # -- data --------------------------------------------------------------------------------------
    def data(self, folder: str) -> ProjectData:
        """The loaded data of a project folder (loaded once)."""
        if folder not in self._data:
            self._data[folder] = load_project_data(self.data_dir / folder)
        return self._data[folder]

    def results(
        self, folder: str, labels: tuple[str, ...] | str, indicator_ids: tuple[str, ...] = ()
    ) -> Results:
        """Unsuppressed results of a project's indicators (all, or those given) for the period
        labels (or "latest"), with every disaggregation each indicator supports; computed once.
        """
        key = (folder, labels, indicator_ids)
        if key not in self._results:
            data = self.data(folder)
            every = [
                s.model_copy(update={"disaggregations": data.catalogue.get(s.id).disaggregations})
                for s in data.project.indicators
            ]
            data = dataclasses.replace(
                data, project=data.project.model_copy(update={"indicators": every})
            )
            periods = list(labels) if isinstance(labels, tuple) else labels
            self._results[key] = suppress(
                compute(data, periods=periods, indicators=indicator_ids or None),
                data.project.privacy.min_cell_size,
                audience="internal",
            )
        return self._results[key]

    def presentation(self, folder: str) -> Presentation:
        """How a project's figures read here: internal, unsuppressed."""
        return Presentation.of(self.data(folder), "internal")

    def _chart(self, key: tuple, make) -> dict:
        """The spec of the chart `make()` makes for these inputs.

        Made once (drawing it again is free).
        """
        if key not in self._charts:
            self._charts[key] = _spec(make())
        return self._charts[key]

    @on_screen
    def reload(self) -> None:
        """Read every project's files again (after they changed) and redraw."""
        self._data.clear()
        self._results.clear()
        self._charts.clear()
        self._on_project()

    @on_screen
    def _on_project(self, change=None) -> None:
        """A new project.

        Its periods (to the latest with data), indicators and tables fill the controls.
        """
        if not self.project.value:
            return
        self.show_message("")
        for output in (
            self.value_card,
            self.indicator_table,
            self.rows_note,
            self.rows_table,
            self.crosstab_html,
            self.compare_html,
        ):
            output.value = (
                ""  # nothing of the previous project stays when this one cannot be loaded
            )
        for chart in (
            self.trend_chart,
            self.disaggregation_chart,
            self.crosstab_chart,
            self.compare_chart,
        ):
            chart.spec = None
        data = self.data(self.project.value)
        calendar = ReportingCalendar(data.project)
        labels = [p.label for p in calendar.periods()]
        try:
            latest = calendar.latest(data).label
        except CtlibError:
            latest = labels[-1]
        tables = [
            name
            for name, frame in data.tables.items()
            if TABLES[name].date_columns_in_period and _categorical_columns(name, frame)
        ]  # records, dated
        with self._quiet():
            _choose(self.first_period, labels)
            _choose(self.last_period, labels)
            self.first_period.value, self.last_period.value = labels[0], latest
            _choose(
                self.indicator,
                [
                    (f"{s.id} · {data.catalogue.get(s.id).name}", s.id)
                    for s in data.project.indicators
                ],
            )
            _choose(self.crosstab_table_name, tables)
        self._redraw()

    def requested_labels(self) -> tuple[str, ...]:
        """The period labels from `From` to `To` (both included)."""
        labels = list(self.first_period.options)
        first, last = labels.index(self.first_period.value), labels.index(self.last_period.value)
        if first > last:
            raise PeriodError(
                f"'From' ({self.first_period.value}) comes after 'To' ({self.last_period.value}): "
                "choose an earlier From or a later To"
            )
        return tuple(labels[first : last + 1])

    def periods(self) -> list[Period]:
        """The chosen periods, then life of project to the end of the last one."""
        calendar = ReportingCalendar(self.data(self.project.value).project)
        chosen = [calendar.parse(label) for label in self.requested_labels()]
        return [*chosen, calendar.life_of_project(chosen[-1].end_date)]

    # -- redraw ------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        """Redraw the controls that depend on others, then the content of the open tab."""
        if not self.project.value:
            return
        periods = self.periods()
        with self._quiet():
            labels = [p.label for p in periods]
            _choose(self.period, labels, labels[-2])
            self._fill_crosstab_columns()
        [self._draw_indicator, self._draw_rows, self._draw_crosstab, self._draw_compare][
            self.tabs.selected_index
        ](periods)

    def _indicator_results(self) -> Results:
        return self.results(self.project.value, self.requested_labels(), (self.indicator.value,))

    def _draw_indicator(self, periods: list[Period]) -> None:
        data, indicator_id = self.data(self.project.value), self.indicator.value
        indicator = data.catalogue.get(indicator_id)
        results = self._indicator_results()
        rows = results.table
        if rows.empty:
            self.value_card.value = self.error_html(
                f"{indicator_id} cannot be computed", results.problems
            )
            for chart in (self.trend_chart, self.disaggregation_chart):
                chart.spec = None
            self.indicator_table.value = ""
            return
        look = self.presentation(self.project.value)
        totals = rows[(rows["dimension"] == TOTAL) & (rows["period"] != LIFE_OF_PROJECT)]
        in_period = rows[rows["period"] == self.period.value]
        total = in_period[in_period["dimension"] == TOTAL].iloc[0]
        warnings = self.error_html("Warnings", results.problems) if results.problems else ""
        self.value_card.value = _value_card(indicator, total, look) + warnings
        key = (self.project.value, self.requested_labels(), indicator_id)
        self.trend_chart.spec = self._chart(
            key, lambda: charts.trend_chart(totals, indicator.name, indicator.unit, look)
        )
        parts = in_period[in_period["dimension"] != TOTAL]
        title = f"{indicator.name} ({self.period.value})"
        self.disaggregation_chart.spec = (
            self._chart(
                (*key, self.period.value),
                lambda: charts.disaggregation_chart(parts, title, indicator.unit, look),
            )
            if len(parts)
            else None
        )
        shown = in_period[
            [
                "dimension",
                "category",
                "numerator",
                "denominator",
                "value",
                "target",
                "achievement",
                "status",
                "unit",
            ]
        ]
        self.indicator_table.value = _frame_html(shown, look)

    def _draw_rows(self, periods: list[Period]) -> None:
        data, indicator_id = self.data(self.project.value), self.indicator.value
        table = self._indicator_results().table
        rows = table[table["period"] == self.period.value]
        options = [("all the rows", (TOTAL, TOTAL))] + [
            (f"{d} = {c}", (d, c))
            for d, c in zip(rows["dimension"], rows["category"])
            if d != TOTAL
        ]
        with self._quiet():
            _choose(self.category, options)
        indicator = data.catalogue.get(indicator_id)
        period = next(p for p in periods if p.label == self.period.value)
        stock = ""
        if (
            period.label == LIFE_OF_PROJECT
            and indicator.rollup == "latest"
            and indicator.method.measure != "milestone"
        ):
            period, stock = (
                periods[-2],
                f" (a stock: life of project is its latest period, {periods[-2].label})",
            )
        found = recipe_rows(data, indicator, period, *self.category.value)
        where = (
            ""
            if self.category.value == (TOTAL, TOTAL)
            else " where {} = {}".format(*self.category.value)
        )
        self.rows_note.value = (
            f"<b>{len(found):,} row(s)</b> behind {indicator_id} in {period.label}{where} "
            f"({period.start_date} … {period.end_date}){stock}. "
            f"{html.escape(describe_recipe(indicator))}."
            + (
                f" The first {self.MAX_ROWS_SHOWN} are shown."
                if len(found) > self.MAX_ROWS_SHOWN
                else ""
            )
        )
        self.rows_table.value = _frame_html(
            found.head(self.MAX_ROWS_SHOWN), self.presentation(self.project.value)
        )

    def _fill_crosstab_columns(self) -> None:
        name = self.crosstab_table_name.value
        columns = (
            _categorical_columns(name, self.data(self.project.value).tables[name]) if name else []
        )
        _choose(self.crosstab_rows, columns)
        _choose(
            self.crosstab_columns, columns, columns[min(1, len(columns) - 1)] if columns else None
        )

    def _draw_crosstab(self, periods: list[Period]) -> None:
        name, across, down = (
            self.crosstab_table_name.value,
            self.crosstab_columns.value,
            self.crosstab_rows.value,
        )
        if not name:
            self.crosstab_html.value = (
                "<i>This project has no table of dated records with categories.</i>"
            )
            return
        frame = self.data(self.project.value).tables[name]
        first, last = periods[0], periods[-2]
        date = TABLES[name].date_columns_in_period[0]
        dates = frame[date]
        inside = frame[
            (dates >= pd.Timestamp(first.start_date)) & (dates <= pd.Timestamp(last.end_date))
        ]
        counts = crosstab(inside, down, across)
        self.crosstab_chart.spec = _spec(charts.crosstab_chart(counts, name, down, across))
        self.crosstab_html.value = (
            f"<p>{len(inside):,} {name} rows dated ({date}) {first.start_date} … "
            f"{last.end_date}.</p>"
            + _frame_html(counts, self.presentation(self.project.value), index=True)
        )

    def _draw_compare(self, periods: list[Period]) -> None:
        folder, other = self.project.value, self.other_project.value
        if not other or other == folder:
            self.compare_chart.spec = None
            self.compare_html.value = "<i>Choose another project to compare with.</i>"
            return
        theirs = {s.id for s in self.data(other).project.indicators}
        shared = tuple(s.id for s in self.data(folder).project.indicators if s.id in theirs)
        if not shared:
            self.compare_chart.spec = None
            self.compare_html.value = "<i>The two projects report no indicator in common.</i>"
            return
        both = [
            self.results(folder, self.requested_labels(), shared),
            self.results(other, "latest", shared),
        ]
        table = portfolio(both, self.data(folder).catalogue, period=LIFE_OF_PROJECT)
        compared = _compared(table, [r.project_id for r in both])
        self.compare_chart.spec = _spec(charts.comparison_chart(compared))
        self.compare_html.value = _frame_html(compared, self.presentation(folder))


def _choose(dropdown: widgets.Dropdown, options: list, default=None) -> None:
    """Give a dropdown its options.

    Its value is kept when still offered, else `default`, else the first.
    """
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    current = dropdown.value
    if list(dropdown.options) != list(options):
        dropdown.options = options
    dropdown.value = next(
        (v for v in (current, default) if v is not None and v in values),
        values[0] if values else None,
    )


def _chart_widget() -> alt.JupyterChart:
    """An empty interactive chart; its menu saves images but links to no outside editor."""
    return alt.JupyterChart(None, embed_options=EMBED_OPTIONS)


def enable_offline_charts() -> None:
    """Draw altair charts as interactive widgets with the JavaScript bundled by vl-convert.

    No CDN.
    """
    alt.renderers.enable("jupyter", offline=True)
    alt.JupyterChart.enable_offline(True)


def project_folders(data_dir: Path) -> list[str]:
    """Names of the folders of `data_dir` that hold a project.yaml, sorted."""
    return sorted(p.parent.name for p in Path(data_dir).glob(f"*/{PROJECT_FILE}"))


def _spec(chart: alt.TopLevelMixin) -> dict:
    """The vega-lite spec of a chart, with tooltips on every mark.

    The tooltips show the data under the pointer. Not validated again here: the chart builders are
    validated by their tests, and validating takes longer than everything else a redraw does.
    """
    return chart.configure_mark(tooltip={"content": "data"}).to_dict(validate=False)


def _categorical_columns(name: str, frame: pd.DataFrame) -> list[str]:
    """Columns of a table worth cross-tabulating: categories, yes/no and short lists of codes."""
    table = TABLES[name]
    return [
        c.name
        for c in table.columns
        if c.name in frame
        and c.name != table.key
        and not c.name.endswith("_id")
        and frame[c.name].notna().any()
        and (
            c.kind in (CATEGORY, BOOLEAN)
            or (c.kind in (STRING, COUNTRY) and frame[c.name].nunique() <= 50)
        )
    ]


def category_labels(values: pd.Series) -> pd.Series:
    """Values as the engine names categories: true/false for yes-no, "unknown" when missing."""
    text = values.astype("string")
    if pd.api.types.is_bool_dtype(values.dtype):
        text = text.str.lower()
    return text.fillna("unknown")


def crosstab(frame: pd.DataFrame, rows: str, columns: str) -> pd.DataFrame:
    """Counts of the records by two columns, missing values as "unknown", with totals."""
    return pd.crosstab(
        category_labels(frame[rows]).to_numpy(),
        category_labels(frame[columns]).to_numpy(),
        rownames=[rows],
        colnames=[columns],
        margins=True,
        margins_name="total",
    )


def _value_card(indicator: Indicator, total: pd.Series, shown: Presentation) -> str:
    """The value of an indicator in a period against its target, baseline and status."""
    better = "higher is better" if indicator.direction == "increase" else "lower is better"
    achievement = shown.achievement(total["achievement"])
    achievement = f" · {achievement} of target" if achievement else ""
    parts = ""
    if not pd.isna(total["denominator"]):
        parts = (
            f" · numerator {number_text(total['numerator'])}, "
            f"denominator {number_text(total['denominator'])}"
        )
    value = shown.value(total["value"], indicator.unit)
    target = shown.target(total["target"], indicator.unit, indicator.direction) or "none"
    baseline = shown.number(total["baseline"], indicator.unit) or "none"
    return (
        f"<div class='ctlib-card'><b>{html.escape(shown.indicator(indicator.id))}</b> — "
        f"{html.escape(str(total['period']))}<br><span style='font-size:170%'>{html.escape(value)}"
        f"</span> · target {html.escape(target)}{achievement} · status "
        f"<b>{html.escape(shown.status(total['status']))}</b><br>baseline {html.escape(baseline)}"
        f"{parts} · {indicator.level}, {better}</div>"
    )


def _compared(table: pd.DataFrame, project_ids: list[str]) -> pd.DataFrame:
    """The portfolio view as one row per shared indicator and project."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "indicator": table["indicator_id"] + " " + table["indicator"],
                    "project": project_id,
                    "period": table[f"{project_id} period"],
                    "actual": table[f"{project_id} actual"],
                    "target": table[f"{project_id} target"],
                    "% met": table[f"{project_id} % met"],
                    "status": table[f"{project_id} status"],
                }
            )
            for project_id in project_ids
        ]
    ).sort_values("indicator", kind="stable")


def _frame_html(frame: pd.DataFrame, shown: Presentation, index: bool = False) -> str:
    """A table as HTML that scrolls sideways, every cell as the presentation writes it."""
    text = formatted(frame.reset_index() if index else frame, shown)
    return (
        "<div class='ctlib-scroll'>"
        f"{text.to_html(index=False, classes='ctlib-table', border=0)}</div>"
    )
