"""Altair charts of aggregated, suppressed results, and their static SVG for reports.

Privacy guard: altair embeds a chart's data in the page, so every chart first calls
`privacy.check_aggregated`, which refuses a table that could hold case-level rows; each chart then
keeps only the columns it draws.

In a Jupyter kernel, import this module with `fresh_stack.import_module` (the report and the
dashboard do): altair's import is 2.5 times slower deep in a kernel's stack. Encodings are
channel objects (`alt.Y("value:Q")`), never shorthand strings (`y="value:Q"`), for which altair
hashes the schema of each of its classes again (2 ms a channel).

Accessibility: every chart has a title, axis titles with units, the Okabe–Ito colour-blind-safe
palette, status written as text (labels and legend, never colour alone) and a `description`
(vega-lite) used as alt text.
"""

from __future__ import annotations

import functools
import re

import altair as alt
import pandas as pd

from .._compute.privacy import check_aggregated
from .._data.tables import PILLARS
from .._format import unit_text
from .presentation import HIDDEN_WORD, STATUS_LOOKS, STATUSES, Presentation, readable, shorten
from .svg import chart_svg

WIDTH = 520
LABEL_CHARACTERS = 48


def _unvalidated(build):
    """A report chart's builder, run without altair validating each part as it is made (its
    debug mode, a tenth of the builder's time): the tests validate every such chart."""

    @functools.wraps(build)
    def built(*args, **kwargs):
        with alt.utils.schemapi.debug_mode(False):
            return build(*args, **kwargs)

    return built


def _panels_axis_title(units: pd.Series, presentation: Presentation) -> str | None:
    """The shared axis title of small multiples: the unit when they share one, else none (each
    panel title names its unit)."""
    return presentation.unit_title(units.iloc[0]) if units.nunique() == 1 else None


def _status_scale(attribute: str, statuses: pd.Series) -> alt.Scale:
    """The statuses a chart shows, in legend order, each with its own colour or shape (the same
    on every chart), so that the legend lists only what the chart holds."""
    shown = [s for s in STATUSES if s in set(statuses)] or list(STATUSES)
    return alt.Scale(domain=shown, range=[getattr(STATUS_LOOKS[s], attribute) for s in shown])


def _status_colour(statuses: pd.Series) -> alt.Color:
    return alt.Color(
        "status:N",
        title="Status",
        scale=_status_scale("colour", statuses),
        legend=alt.Legend(orient="bottom"),
    )


def _status_shape(statuses: pd.Series) -> alt.Shape:
    """A shape per status as well as a colour, merged into the same legend."""
    return alt.Shape(
        "status:N",
        title="Status",
        legend=alt.Legend(orient="bottom"),
        scale=_status_scale("shape", statuses),
    )


def _readable(labels: pd.Series) -> pd.Series:
    """Category codes as words: 'sexual_exploitation' -> 'sexual exploitation'."""
    return labels.astype("string").map(readable)


def _indicator_labels(table: pd.DataFrame, presentation: Presentation) -> pd.Series:
    """'PROT-03 · name', shortened to LABEL_CHARACTERS."""
    return table["indicator_id"].map(lambda i: presentation.indicator(i, LABEL_CHARACTERS))


@_unvalidated
def progress_chart(totals: pd.DataFrame, title: str, presentation: Presentation) -> alt.LayerChart:
    """Achievement against target (%) per indicator for one period, with a target tick at 100 %.

    `totals`: one row per indicator (indicator_id, achievement, status). Indicators without a
    target or data get no bar, only their status written at zero. The grey band is the
    presentation's on-track band.
    """
    check_aggregated(totals, ("indicator_id",))
    data = pd.DataFrame(
        {
            "indicator": _indicator_labels(totals, presentation).to_numpy(),
            "achievement": totals["achievement"].astype("Float64").round(0).to_numpy(),
            "status": totals["status"].astype("string").to_numpy(),
        }
    )
    data["label"] = [
        f"{presentation.achievement(a)} · {presentation.status(s)}"
        if pd.notna(a)
        else presentation.status(s)
        for a, s in zip(data["achievement"], data["status"])
    ]
    data["label_x"] = data["achievement"].fillna(0).clip(upper=200)
    data["achievement_drawn"] = data["achievement"].clip(upper=200)
    y = alt.Y("indicator:N", title=None, sort=list(data["indicator"]), axis=alt.Axis(labelLimit=0))
    x_scale = alt.Scale(domain=[0, 230])
    low, high = presentation.bands
    base = alt.Chart(data)
    band = (
        alt.Chart(pd.DataFrame({"low": [low], "high": [high]}))
        .mark_rect(color="#dddddd", opacity=0.6)
        .encode(x=alt.X("low:Q", scale=x_scale), x2=alt.X2("high:Q"))
    )
    bars = (
        base.mark_bar(height=14)
        .transform_filter("isValid(datum.achievement_drawn)")
        .encode(
            x=alt.X(
                "achievement_drawn:Q",
                title="Achievement (% of target; bars stop at 200 %)",
                scale=x_scale,
            ),
            y=y,
            color=_status_colour(data["status"]),
        )
    )
    target = (
        alt.Chart(pd.DataFrame({"target": [100]}))
        .mark_rule(color="black", strokeWidth=2)
        .encode(x=alt.X("target:Q"))
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x=alt.X("label_x:Q"), y=y, text=alt.Text("label:N")
    )
    counts = presentation.status_counts(data["status"])
    description = (
        f"Bar chart: achievement against target, in percent, for {len(data)} indicators; a black "
        f"line marks the target (100 %) and a grey band {low:g}–{high:g} %. Status: {counts}."
    )
    return alt.layer(band, bars, target, labels).properties(
        title=alt.Title(
            title, subtitle=f"Black line: target (100 %); grey band: on track ({low:g}–{high:g} %)"
        ),
        description=description,
        width=WIDTH - 200,
    )


def _panel_labels(rows: pd.DataFrame, suffix: pd.Series, presentation: Presentation) -> pd.Series:
    """Panel headers: 'PROT-03 · name' (shortened) + suffix, e.g. ' (number)'."""
    return _indicator_labels(rows, presentation) + suffix


def _value_labels(data: pd.DataFrame, rows: pd.DataFrame, presentation: Presentation) -> list[str]:
    """Each row's value as text (a chart's `data`, made of results `rows` in the same order):
    hidden (as why it is hidden reads), no data, or the number in its unit, with its state."""
    missing = pd.Series(pd.NA, index=rows.index)
    told = {c: rows.get(c, missing).to_numpy() for c in ("suppression", *STATE_COLUMNS)}
    return presentation.values(data.rename(columns={"is_suppressed": "suppressed"}).assign(**told))


STATE_COLUMNS = ("value_state", "value_as_written")


@_unvalidated
def trend_panels(
    rows: pd.DataFrame, title: str, presentation: Presentation, columns: int = 3
) -> alt.FacetChart:
    """Small multiples, one panel per indicator: value per period (marks coloured and shaped by
    status, the latest value written), targets (black ticks) and baseline (dashed line).

    `rows`: total rows of one or more indicators over the periods, in order (indicator_id, period,
    value, target, baseline, status, suppressed, unit).
    """
    check_aggregated(rows, ("indicator_id", "period"))
    data = pd.DataFrame(
        {
            "panel": _panel_labels(
                rows, " (" + rows["unit"].map(presentation.unit_name) + ")", presentation
            ).to_numpy(),
            "period": rows["period"].astype("string").to_numpy(),
            "value": rows["value"].astype("Float64").to_numpy(),
            "target": rows["target"].astype("Float64").to_numpy(),
            "baseline": rows["baseline"].astype("Float64").to_numpy(),
            "status": rows["status"].astype("string").to_numpy(),
            "is_suppressed": rows["suppressed"].astype("boolean").fillna(False).to_numpy(),
            "unit": rows["unit"].to_numpy(),
        }
    )
    data.loc[data["is_suppressed"], "value"] = pd.NA
    is_last = ~data.duplicated("panel", keep="last")
    labels = pd.Series(_value_labels(data, rows, presentation), index=data.index)
    data["label"] = labels.where(is_last, "")  # the latest
    data["mark_y"] = data["value"].fillna(
        0
    )  # a hidden period's mark (a cross: suppressed) sits at zero
    periods = list(dict.fromkeys(data["period"]))
    x = alt.X(
        "period:O",
        title=None,
        sort=periods,
        axis=alt.Axis(labelAngle=0, labelFontSize=9)
        if len(periods) <= 4
        else alt.Axis(labelAngle=-90, labelFontSize=9),
    )
    y = alt.Y("value:Q", title=_panels_axis_title(data["unit"], presentation))
    base = alt.Chart()
    layers = [
        base.mark_line(color="#555555").transform_filter("isValid(datum.value)").encode(x=x, y=y),
        base.mark_point(filled=True, size=50)
        .transform_filter("isValid(datum.value) || datum.is_suppressed")
        .encode(
            x=x,
            y=alt.Y("mark_y:Q"),
            color=_status_colour(data["status"]),
            shape=_status_shape(data["status"]),
        ),
        base.mark_text(dy=-10, fontSize=10).encode(
            x=x, y=alt.Y("mark_y:Q"), text=alt.Text("label:N")
        ),
        base.mark_tick(color="black", thickness=2.5, size=9)
        .transform_filter("isValid(datum.target)")
        .encode(x=x, y=alt.Y("target:Q")),
        base.mark_rule(strokeDash=[5, 3], color="#333333").encode(y=alt.Y("mean(baseline):Q")),
    ]
    described = []
    for panel, group in data.groupby("panel", sort=False):
        last = group.iloc[-1]
        target = (
            "no target"
            if pd.isna(last["target"])
            else f"target {presentation.number(last['target'], last['unit'])}"
        )
        series = ", ".join(f"{p} {lab}" for p, lab in zip(group["period"], labels[group.index]))
        described.append(
            f"{panel}: {series}; latest {presentation.status(last['status'])}, {target}"
        )
    return (
        alt.layer(*layers, data=data)
        .properties(width=200, height=110)
        .facet(
            facet=alt.Facet(
                "panel:N",
                title=None,
                sort=list(dict.fromkeys(data["panel"])),
                header=alt.Header(labelFontWeight="bold", labelFontSize=11),
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
        .properties(
            title=alt.Title(
                title,
                subtitle=[
                    "Marks: value (colour and shape = status; the latest written; a hidden "
                    "value is a cross at zero); black ticks: target; dashed line: baseline; unit "
                    "in each panel title"
                ],
            ),
            description=f"Line charts per indicator and period. {'. '.join(described)}.",
        )
    )


@_unvalidated
def disaggregation_panels(
    rows: pd.DataFrame, title: str, presentation: Presentation, columns: int = 2
) -> alt.FacetChart:
    """Bars per category, one panel per indicator and dimension; a suppressed cell gets no bar,
    only its label (`<k`).

    `rows`: one period, one row per (indicator, dimension, category) with value, suppressed, unit.
    """
    check_aggregated(rows, ("indicator_id", "period", "dimension", "category"))
    units = rows["unit"].map(presentation.unit_name)
    data = pd.DataFrame(
        {
            "panel": _panel_labels(
                rows, " by " + _readable(rows["dimension"]) + " (" + units + ")", presentation
            ).to_numpy(),
            "category": _readable(rows["category"]).to_numpy(),
            "value": rows["value"].astype("Float64").to_numpy(),
            "is_suppressed": rows["suppressed"].astype("boolean").fillna(False).to_numpy(),
            "unit": rows["unit"].to_numpy(),
        }
    )
    data.loc[data["is_suppressed"], "value"] = pd.NA  # never drawn, whatever the input held
    data["label"] = _value_labels(data, rows, presentation)
    data["label_x"] = data["value"].fillna(0)
    # an invisible mark at max(largest value, 1) keeps a panel of hidden cells or zeros readable
    data["extent"] = data.groupby("panel")["label_x"].transform("max").clip(lower=1)
    y = alt.Y("category:N", title=None, sort=list(dict.fromkeys(data["category"])))
    x = alt.X(
        "value:Q",
        title=_panels_axis_title(data["unit"], presentation),
        axis=alt.Axis(tickMinStep=1),
    )
    layers = [
        alt.Chart()
        .mark_bar(color="#0072B2", height=12)
        .transform_filter("isValid(datum.value)")
        .encode(x=x, y=y),
        alt.Chart()
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x=alt.X("label_x:Q"), y=y, text=alt.Text("label:N")),
        alt.Chart().mark_tick(opacity=0).encode(x=alt.X("extent:Q"), y=y),
    ]
    hidden = int(data["is_suppressed"].sum())
    described = [
        f"{panel}: " + "; ".join(f"{c} {lab}" for c, lab in zip(group["category"], group["label"]))
        for panel, group in data.groupby("panel", sort=False)
    ]
    return (
        alt.layer(*layers, data=data)
        .properties(width=WIDTH // 2 - 100)
        .facet(
            facet=alt.Facet(
                "panel:N",
                title=None,
                sort=list(dict.fromkeys(data["panel"])),
                header=alt.Header(labelFontWeight="bold", labelFontSize=11),
            ),
            columns=columns,
        )
        .resolve_scale(x="independent", y="independent")
        .properties(
            title=alt.Title(title, subtitle=_hidden_note(presentation)),
            description=(
                f"Bar charts by category. {'. '.join(described)}. {hidden} cell(s) are hidden "
                "to protect survivors."
            ),
        )
    )


@_unvalidated
def trend_chart(
    rows: pd.DataFrame, title: str, unit: str, presentation: Presentation
) -> alt.LayerChart:
    """One indicator's value per period with its targets (black ticks) and baseline (dashed line).

    `rows`: one row per period (period, value, target, baseline, status, suppressed), in order.
    """
    check_aggregated(rows, ("indicator_id", "period"))
    data = pd.DataFrame(
        {
            "period": rows["period"].astype("string").to_numpy(),
            "value": rows["value"].astype("Float64").to_numpy(),
            "target": rows["target"].astype("Float64").to_numpy(),
            "status": rows["status"].astype("string").to_numpy(),
            "is_suppressed": rows["suppressed"].astype("boolean").fillna(False).to_numpy(),
        }
    )
    data["label"] = _value_labels(data.assign(unit=unit), rows, presentation)
    data["label_y"] = data["value"].fillna(0)
    periods = list(data["period"])
    x = alt.X(
        "period:O",
        title="Period",
        sort=periods,
        axis=alt.Axis(labelAngle=0 if len(periods) <= 6 else -45),
    )
    y_title = presentation.unit_title(unit)
    base = alt.Chart(data)
    line = (
        base.mark_line(color="#555555")
        .transform_filter("isValid(datum.value)")
        .encode(x=x, y=alt.Y("value:Q", title=y_title))
    )
    points = (
        base.mark_point(filled=True, size=90)
        .transform_filter("isValid(datum.value)")
        .encode(
            x=x,
            y=alt.Y("value:Q"),
            color=_status_colour(data["status"]),
            shape=_status_shape(data["status"]),
        )
    )
    labels = base.mark_text(dy=-12, fontSize=11).encode(
        x=x, y=alt.Y("label_y:Q"), text=alt.Text("label:N")
    )
    targets = (
        base.mark_tick(color="black", thickness=3, size=26)
        .transform_filter("isValid(datum.target)")
        .encode(x=x, y=alt.Y("target:Q"))
    )
    layers = [line, points, labels, targets]
    baseline = rows["baseline"].dropna()
    subtitle = "Marks: value (colour and shape = status); black ticks: target"
    described_baseline = ""
    if len(baseline):
        value = float(baseline.iloc[0])
        baseline_text = presentation.number(value, unit)
        rule = pd.DataFrame({"baseline": [value], "label": [f"baseline {baseline_text}"]})
        layers.append(
            alt.Chart(rule)
            .mark_rule(strokeDash=[6, 4], color="#333333")
            .encode(y=alt.Y("baseline:Q"))
        )
        layers.append(
            alt.Chart(rule)
            .mark_text(align="right", dy=-6, x=alt.ExprRef("width"), fontSize=11)
            .encode(y=alt.Y("baseline:Q"), text=alt.Text("label:N"))
        )
        subtitle += "; dashed line: baseline"
        described_baseline = f" The baseline is {baseline_text}."
    shown = [f"{p}: {lab}" for p, lab in zip(data["period"], data["label"])]
    description = (
        f"Line chart of {title} per period, in {presentation.unit_name(unit)}: {'; '.join(shown)}."
        f"{described_baseline} Targets are black ticks."
    )
    return alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=subtitle),
        description=description,
        width=WIDTH - 120,
        height=200,
    )


@_unvalidated
def disaggregation_chart(
    rows: pd.DataFrame, title: str, unit: str, presentation: Presentation
) -> alt.FacetChart:
    """Bars per category, one panel per dimension; a suppressed cell gets no bar and the text `<k`.

    `rows`: one indicator and period, one row per (dimension, category) with value and suppressed.
    """
    check_aggregated(rows, ("indicator_id", "period", "dimension", "category"))
    data = pd.DataFrame(
        {
            "dimension": _readable(rows["dimension"]).to_numpy(),
            "category": _readable(rows["category"]).to_numpy(),
            "value": rows["value"].astype("Float64").to_numpy(),
            "is_suppressed": rows["suppressed"].astype("boolean").fillna(False).to_numpy(),
        }
    )
    data.loc[data["is_suppressed"], "value"] = pd.NA  # never drawn, whatever the input held
    data["label"] = _value_labels(data.assign(unit=unit), rows, presentation)
    data["label_x"] = data["value"].fillna(0)
    y = alt.Y("category:N", title=None, sort=list(dict.fromkeys(data["category"])))
    x_scale = alt.Scale(domain=[0, max(float(data["value"].fillna(0).max()), 1.0)], nice=True)
    axis = alt.Axis(tickMinStep=1) if unit == "count" else alt.Axis()
    bars = (
        alt.Chart()
        .mark_bar(color="#0072B2", height=12)
        .transform_filter("isValid(datum.value)")
        .encode(
            x=alt.X("value:Q", title=presentation.unit_title(unit), scale=x_scale, axis=axis), y=y
        )
    )
    labels = (
        alt.Chart()
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x=alt.X("label_x:Q"), y=y, text=alt.Text("label:N"))
    )
    hidden = int(data["is_suppressed"].sum())
    shown = [
        f"{d} {c}: {lab}" for d, c, lab in zip(data["dimension"], data["category"], data["label"])
    ]
    description = (
        f"Bar chart of {title} by {', '.join(dict.fromkeys(data['dimension']))}: "
        f"{'; '.join(shown)}. {hidden} cell(s) are hidden to protect survivors."
    )
    return (
        alt.layer(bars, labels, data=data)
        .properties(width=WIDTH - 200)
        .facet(
            row=alt.Row(
                "dimension:N",
                title=None,
                sort=list(dict.fromkeys(data["dimension"])),
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            ),
        )
        .resolve_scale(y="independent")
        .properties(
            title=alt.Title(title, subtitle=_hidden_note(presentation)),
            description=description,
        )
    )


@_unvalidated
def scorecard_chart(
    statuses: pd.DataFrame, title: str, presentation: Presentation
) -> alt.LayerChart:
    """Pillar scorecard: how many indicators of each pillar have each status.

    Stacked bars + counts.

    `statuses`: one row per indicator (indicator_id, pillar, status).
    """
    check_aggregated(statuses, ("indicator_id",))
    counts = statuses.groupby(["pillar", "status"]).size().rename("indicators").reset_index()
    counts["order"] = counts["status"].map({s: i for i, s in enumerate(STATUSES)})
    pillars = [p for p in PILLARS if p in set(counts["pillar"])]
    y = alt.Y("pillar:N", title="Pillar", sort=pillars)
    most = int(counts.groupby("pillar")["indicators"].sum().max())
    axis = alt.Axis(values=list(range(most + 1)), format="d")
    x = alt.X("indicators:Q", title="Indicators (number)", stack="zero", axis=axis)
    order = alt.Order("order:Q")
    base = alt.Chart(counts)
    bars = base.mark_bar(height=22).encode(
        x=x, y=y, color=_status_colour(counts["status"]), order=order
    )
    labels = base.mark_text(color="white", fontWeight="bold", fontSize=12).encode(
        x=alt.X("indicators:Q", stack="zero", bandPosition=0.5, axis=axis),
        y=y,
        order=order,
        text=alt.Text("indicators:Q"),
    )
    per_pillar = [
        f"{p}: {presentation.status_counts(statuses.loc[statuses['pillar'] == p, 'status'])}"
        for p in pillars
    ]
    description = f"Stacked bar chart of indicator status per pillar. {'; '.join(per_pillar)}."
    return alt.layer(bars, labels).properties(
        title=title, description=description, width=WIDTH - 120
    )


@_unvalidated
def completeness_chart(completeness: pd.DataFrame, title: str) -> alt.LayerChart:
    """Heatmap of data completeness (% of rows filled) per table column and period.

    `completeness`: one row per (table, column, period) with `completeness` in percent.
    """
    check_aggregated(completeness, ("table", "column", "period"))
    data = pd.DataFrame(
        {
            "field": (completeness["table"] + "." + completeness["column"]).to_numpy(),
            "period": completeness["period"].astype("string").to_numpy(),
            "completeness": completeness["completeness"].astype("Float64").round(0).to_numpy(),
        }
    )
    data["label"] = [unit_text(c, "percent") or "–" for c in data["completeness"]]
    x = alt.X(
        "period:O",
        title="Period",
        sort=list(dict.fromkeys(data["period"])),
        axis=alt.Axis(labelAngle=0),
    )
    y = alt.Y("field:N", title="Table and column", sort=None)
    base = alt.Chart(data)
    cells = base.mark_rect().encode(
        x=x,
        y=y,
        color=alt.Color(
            "completeness:Q", title="Complete (%)", scale=alt.Scale(scheme="blues", domain=[0, 100])
        ),
    )
    labels = base.mark_text(fontSize=10).encode(
        x=x,
        y=y,
        text=alt.Text("label:N"),
        color=alt.condition("datum.completeness > 60", alt.value("white"), alt.value("black")),
    )
    worst = data.nsmallest(3, "completeness")
    lowest = "; ".join(
        f"{f} in {p}: {lab}" for f, p, lab in zip(worst["field"], worst["period"], worst["label"])
    )
    description = (
        f"Heatmap of data completeness for {data['field'].nunique()} columns over "
        f"{data['period'].nunique()} period(s), in percent of rows filled. Least complete: "
        f"{lowest}."
    )
    return alt.layer(cells, labels).properties(
        title=title, description=description, width=alt.Step(72)
    )


def crosstab_chart(
    counts: pd.DataFrame, table_name: str, rows: str, columns: str
) -> alt.LayerChart:
    """Heatmap of a cross-tabulation of records, counts in the cells.

    From `widgets.crosstab`, totals left out.
    """
    inner = counts.drop(index="total", columns="total").rename_axis(index="row", columns="column")
    tidy = inner.stack().rename("records").reset_index()
    check_aggregated(tidy, ("row", "column"), max_rows=None)
    base = alt.Chart(tidy).encode(x=alt.X("column:N", title=columns), y=alt.Y("row:N", title=rows))
    cells = base.mark_rect().encode(
        color=alt.Color("records:Q", title="Records", scale=alt.Scale(scheme="blues"))
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("records:Q"),
        color=alt.condition(
            alt.datum.records > tidy["records"].max() / 2, alt.value("white"), alt.value("black")
        ),
    )
    return alt.layer(cells, text).properties(
        title=f"{table_name}: records by {rows} and {columns}",
        width=alt.Step(60),
        height=alt.Step(24),
        description=f"Heatmap of {table_name} records by {rows} (rows) and {columns} (columns).",
    )


def comparison_chart(compared: pd.DataFrame) -> alt.Chart:
    """Achievement (% of the life-of-project target) per shared indicator, one bar per project.

    `compared`: one row per indicator and project (indicator, project, `% met`, and what the
    tooltips show).
    """
    check_aggregated(compared, ("indicator", "project"))
    projects = list(dict.fromkeys(compared["project"]))
    return (
        alt.Chart(
            compared.assign(
                indicator=compared["indicator"].map(lambda t: shorten(t, LABEL_CHARACTERS))
            )
        )
        .mark_bar()
        .encode(
            x=alt.X("% met:Q", title="Achievement (% of life-of-project target)"),
            y=alt.Y("indicator:N", title=None),
            yOffset=alt.YOffset("project:N"),
            color=alt.Color(
                "project:N",
                title="Project",
                scale=alt.Scale(domain=projects, range=["#0072B2", "#E69F00"]),
            ),
        )
        .properties(
            title="Projects compared on the indicators they share",
            width=420,
            description="Bar chart: achievement against the life-of-project target per shared "
            f"indicator, one bar per project ({', '.join(projects)}).",
        )
    )


def _hidden_note(presentation: Presentation) -> str:
    """The subtitle of a chart of categories: what a hidden cell looks like."""
    if presentation.is_internal:
        return "Internal view: no cell is hidden"
    return (
        f"Hidden figures get no bar: {presentation.hidden('count')} is a small count, "
        f"“{HIDDEN_WORD}” a figure that could give one away"
    )


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as a static SVG (`svg.chart_svg`: maybe rendered later by the report runner).

    The spec is not validated here (slow; the tests validate every chart)."""
    version = re.match(r"v(\d+\.\d+)", alt.SCHEMA_VERSION).group(1)
    return chart_svg(chart.to_dict(validate=False), version)
