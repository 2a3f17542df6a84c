"""Charts: what they draw (read back from the SVG), the privacy guard, accessibility."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from ctlib._compute.privacy import MAX_ROWS
from ctlib._errors import PrivacyError
from ctlib._publish import charts
from ctlib._publish.presentation import Presentation

NAMES = {
    "PREV-01": "People reached",
    "PROT-03": "Victims referred",
    "PROS-02": "Prosecutions",
    "PART-01": "Meetings",
    "PROT-07": "Shelter nights",
    "PROT-24": "Share of child victims with a guardian",
}


class Names:
    """A catalogue stand-in: the names charts label indicators with."""

    def __init__(self, names):
        self.names = names

    def get(self, indicator_id):
        return SimpleNamespace(name=self.names[indicator_id])


SHOWN = Presentation(k=5, catalogue=Names(NAMES))  # indicators labelled 'id · name'
BARE = Presentation(k=5)  # indicators labelled by id


def bars(svg: str) -> list[str]:
    """The aria-labels of the bars drawn in an SVG."""
    return re.findall(
        r'<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar"', svg
    )


def mark_texts(svg: str) -> list[str]:
    return re.findall(r'aria-roledescription="text mark"[^>]*>([^<]*)</text>', svg)


@pytest.fixture
def totals():
    return pd.DataFrame(
        {
            "project_id": "p1",
            "indicator_id": ["PREV-01", "PROT-03", "PROS-02", "PART-01", "PROT-07"],
            "pillar": ["prevention", "protection", "prosecution", "partnership", "protection"],
            "period": "2026-Q2",
            "dimension": "total",
            "category": "total",
            "value": [1200.0, 40.0, 3.0, None, 500.0],
            "target": [1000.0, 60.0, 3.0, 4.0, None],
            "achievement": [120.0, 66.66, 100.0, None, None],
            "status": ["ahead", "behind", "on track", "no data", "no target"],
            "suppressed": False,
        }
    )


@pytest.fixture
def disaggregated():
    return pd.DataFrame(
        {
            "indicator_id": "PROT-03",
            "period": "2026-Q2",
            "dimension": ["sex", "sex", "sex", "age_group", "age_group"],
            "category": ["female", "male", "unknown", "0-11", "12-17"],
            "value": [30.0, 8.0, 3.0, None, 12.0],  # 3 is a leak the chart must not draw
            "suppressed": [False, False, True, True, False],
            "numerator": [30.0, 8.0, 3.0, None, 12.0],
        }
    )


def test_progress_draws_a_bar_per_indicator_with_achievement_and_writes_status(totals):
    svg = charts.to_svg(charts.progress_chart(totals, "Progress in 2026-Q2", SHOWN))
    drawn = bars(svg)
    assert len(drawn) == 3
    assert any("PROT-03 · Victims referred" in b and "67" in b for b in drawn)
    assert mark_texts(svg) == [
        "120% · ahead",
        "67% · behind",
        "100% · on track",
        "no data",
        "no target",
    ]


def test_progress_keeps_the_table_order_with_or_without_a_bar(totals):
    svg = charts.to_svg(charts.progress_chart(totals.iloc[[3, 0, 4, 1, 2]], "Progress", SHOWN))
    rows = re.findall(
        r'text-anchor="end" transform="translate\(-7,([\d.]+)\)"[^>]*>([^<]*)</text>', svg
    )
    assert [label for _, label in sorted(rows, key=lambda r: float(r[0]))] == [
        "PART-01 · Meetings",
        "PREV-01 · People reached",
        "PROT-07 · Shelter nights",
        "PROT-03 · Victims referred",
        "PROS-02 · Prosecutions",
    ]
    # the target tick at 100 % and the status colours of the Okabe–Ito palette
    assert "#D55E00" in svg and "#009E73" in svg and "#0072B2" in svg


def test_progress_shortens_long_indicator_names(totals):
    long = Presentation(
        k=5,
        catalogue=Names(
            dict.fromkeys(
                NAMES, "Share of assisted victims who received legal counselling or representation"
            )
        ),
    )
    svg = charts.to_svg(charts.progress_chart(totals, "Progress", long))
    assert "PREV-01 · Share of assisted victims who receive…" in svg
    assert "representation" not in svg.split("<title>")[0]


def test_progress_clips_very_high_achievement_but_labels_the_real_figure(totals):
    high = totals.assign(achievement=[450.0, 66.66, 100.0, None, None])
    chart = charts.progress_chart(high, "Progress", SHOWN)
    svg = charts.to_svg(chart)
    assert "450% · ahead" in mark_texts(svg)
    rows = [
        row
        for data in chart.to_dict()["datasets"].values()
        for row in data
        if "achievement_drawn" in row
    ]
    assert max(row["achievement_drawn"] or 0 for row in rows) == 200


def test_disaggregation_never_draws_a_suppressed_cell(disaggregated):
    chart = charts.disaggregation_chart(
        disaggregated, "Victims referred by sex and age", "count", BARE
    )
    svg = charts.to_svg(chart)
    drawn = [re.search(r"category: (.*)$", b).group(1) for b in bars(svg)]
    assert sorted(drawn) == ["12-17", "female", "male"]
    assert sorted(mark_texts(svg)) == sorted(["30", "8", "&lt;5", "&lt;5", "12"])
    assert "age group" in svg  # dimension written as words
    assert "2 cell(s) are hidden" in chart.to_dict()["description"]


def test_charts_embed_only_the_columns_they_draw(disaggregated):
    spec = charts.disaggregation_chart(disaggregated, "t", "count", BARE).to_dict()
    columns = {key for rows in spec["datasets"].values() for row in rows for key in row}
    assert "numerator" not in columns and "indicator_id" not in columns
    assert 3.0 not in [row["value"] for rows in spec["datasets"].values() for row in rows]


def test_trend_marks_targets_baseline_and_hidden_periods():
    rows = pd.DataFrame(
        {
            "indicator_id": "PROT-03",
            "period": ["2025-Q3", "2025-Q4", "2026-Q1"],
            "value": [10.0, None, 30.0],
            "target": [20.0, 30.0, None],
            "baseline": 8.0,
            "status": ["behind", "no data", "no target"],
            "suppressed": [False, True, False],
        }
    )
    chart = charts.trend_chart(rows, "Victims referred", "count", BARE)
    svg = charts.to_svg(chart)
    assert mark_texts(svg)[:3] == ["10", "&lt;5", "30"]
    assert "baseline 8" in mark_texts(svg)
    assert len(re.findall(r'aria-roledescription="tick"', svg)) == 2
    assert "Value (number)" in svg
    assert chart.to_dict()["description"].startswith(
        "Line chart of Victims referred per period, in number: 2025-Q3: 10; 2025-Q4: <5; "
        "2026-Q1: 30."
    )


def test_scorecard_counts_statuses_per_pillar(totals):
    chart = charts.scorecard_chart(totals, "Status per pillar", SHOWN)
    counts = next(iter(chart.to_dict()["datasets"].values()))
    got = {(row["pillar"], row["status"]): row["indicators"] for row in counts}
    assert got == {
        ("prevention", "ahead"): 1,
        ("protection", "behind"): 1,
        ("protection", "no target"): 1,
        ("prosecution", "on track"): 1,
        ("partnership", "no data"): 1,
    }
    assert "protection: 1 behind, 1 no target" in chart.to_dict()["description"]
    assert len(bars(charts.to_svg(chart))) == 5


def test_completeness_heatmap_labels_each_cell():
    table = pd.DataFrame(
        {
            "table": ["cases", "cases", "services"],
            "column": ["sex", "sex", "provider"],
            "period": ["2026-Q1", "2026-Q2", "2026-Q1"],
            "completeness": [100.0, 94.6, 40.0],
        }
    )
    chart = charts.completeness_chart(table, "Data completeness")
    assert mark_texts(charts.to_svg(chart)) == ["100%", "95%", "40%"]
    assert "Least complete: services.provider in 2026-Q1: 40%" in chart.to_dict()["description"]


@pytest.mark.parametrize("column", ["case_id", "participant_id", "service_id"])
def test_guard_refuses_case_level_identifiers(totals, column):
    with pytest.raises(PrivacyError, match=column):
        charts.progress_chart(totals.assign(**{column: "c1"}), "t", SHOWN)


def test_guard_refuses_repeated_keys_and_too_many_rows(totals, disaggregated):
    with pytest.raises(PrivacyError, match="repeat the key"):
        charts.disaggregation_chart(pd.concat([disaggregated, disaggregated]), "t", "count", BARE)
    many = pd.DataFrame(
        {
            "indicator_id": [f"X-{i}" for i in range(MAX_ROWS + 1)],
            "pillar": "prevention",
            "status": "ahead",
        }
    )
    with pytest.raises(PrivacyError, match="rows is more than"):
        charts.scorecard_chart(many, "t", SHOWN)


def test_svg_carries_its_description_as_alt_text_and_loads_nothing(totals):
    chart = charts.scorecard_chart(totals, "Status per pillar", SHOWN)
    svg = charts.to_svg(chart)
    description = chart.to_dict()["description"]
    assert svg.startswith(f'<svg role="img" aria-label="{description}"')
    assert f"<title>{description}</title>" in svg
    assert not re.search(r'(src|href)="http', svg)


def test_every_chart_is_a_valid_vega_lite_spec(totals, disaggregated, history):
    """Each chart a report draws (built without altair's checks as it is made)."""
    trend = totals.iloc[[1]].assign(baseline=8.0)
    completeness = pd.DataFrame(
        {"table": ["cases"], "column": ["sex"], "period": ["2026-Q1"], "completeness": [90.0]}
    )
    for chart in (
        charts.progress_chart(totals, "p", SHOWN),
        charts.trend_chart(trend, "t", "count", BARE),
        charts.disaggregation_chart(disaggregated, "d", "count", BARE),
        charts.scorecard_chart(totals, "s", SHOWN),
        charts.completeness_chart(completeness, "c"),
        charts.trend_panels(history, "tp", SHOWN),
        charts.disaggregation_panels(disaggregated.assign(unit="count"), "dp", BARE),
    ):
        assert chart.to_dict(validate=True)["description"]


def test_a_hidden_share_reads_hidden_not_a_small_percentage(disaggregated):
    shares = disaggregated.assign(suppressed=True, value=None)
    svg = charts.to_svg(charts.disaggregation_chart(shares, "Share referred", "percent", BARE))
    assert bars(svg) == []
    assert set(mark_texts(svg)) == {"hidden (&lt;5)"}
    assert "Value (%)" in svg


@pytest.fixture
def history():
    """Two indicators over three periods: a count with a hidden period, and a share."""
    return pd.DataFrame(
        {
            "indicator_id": ["PROT-03"] * 3 + ["PROT-24"] * 3,
            "period": ["2026-Q1", "2026-Q2", "2026-Q3"] * 2,
            "value": [10.0, 3.0, 12.0, 80.0, 85.0, 90.5],
            "target": [10.0, 10.0, 10.0, 90.0, 90.0, None],
            "baseline": [4.0] * 3 + [70.0] * 3,
            "status": ["on track", "suppressed", "ahead", "behind", "on track", "no target"],
            "suppressed": [False, True, False, False, False, False],
            "unit": ["count"] * 3 + ["percent"] * 3,
        }
    )


def test_trend_panels_draw_one_panel_per_indicator(history):
    chart = charts.trend_panels(history, "Protection per period", SHOWN)
    svg = charts.to_svg(chart)
    assert (
        "PROT-03 · Victims referred (number)" in svg
        and "PROT-24 · Share of child victims with a guardian (%)" in svg
    )
    assert [t for t in mark_texts(svg) if t] == ["12", "90.5%"]  # only the latest value is written
    points = re.findall(
        r'aria-roledescription="point"[^>]*aria-label="([^"]*)"|aria-label="([^"]*)"[^>]*'
        r'aria-roledescription="point"',
        svg,
    )
    labels = [a or b for a, b in points]
    assert len(labels) == 6 and any("suppressed" in label for label in labels)
    assert len(re.findall(r'aria-roledescription="tick"', svg)) == 5
    data = [row for rows in chart.to_dict()["datasets"].values() for row in rows]
    assert 3.0 not in [row["value"] for row in data]  # the hidden count is not in the page
    assert (
        "PROT-03 · Victims referred (number): 2026-Q1 10, 2026-Q2 <5, 2026-Q3 12; latest ahead, "
        "target 10" in chart.to_dict()["description"]
    )


def test_disaggregation_panels_per_indicator_and_dimension(disaggregated):
    rows = pd.concat(
        [
            disaggregated.assign(unit="count"),
            disaggregated.assign(indicator_id="PROT-24", unit="percent"),
        ],
        ignore_index=True,
    )
    svg = charts.to_svg(charts.disaggregation_panels(rows, "By category", BARE))
    assert "PROT-03 by sex (number)" in svg and "PROT-24 by age group (%)" in svg
    assert len(bars(svg)) == 6
    assert (
        sorted(mark_texts(svg)).count("&lt;5") == 2
        and sorted(mark_texts(svg)).count("hidden (&lt;5)") == 2
    )


def test_charts_left_to_the_report_runner_read_as_a_new_kernel_draws_them(monkeypatch):
    """A report's kernel leaves its charts to the runner (`svg.DEFER_ENV`): rendered there, in a
    runtime that drew other charts before, a report reads as its own new kernel drew it, the
    numbered ids of its gradients from 0 again."""
    import json

    import altair as alt

    from ctlib._publish import svg

    heatmap = (
        alt.Chart(pd.DataFrame({"x": ["a", "b"], "v": [1, 2]}))
        .mark_rect()
        .encode(x="x:N", color="v:Q")
        .properties(description="Two cells")
    )
    monkeypatch.setenv(svg.DEFER_ENV, "1")
    page = f"<p>{charts.to_svg(heatmap)}{charts.to_svg(heatmap)}</p>"
    monkeypatch.delenv(svg.DEFER_ENV)
    assert "<svg" not in page
    drawn = svg.render_placeholders(page)
    assert svg.render_placeholders(page) == drawn  # the next report is numbered from 0 again
    assert re.findall(r'id="(gradient_\d+)"', drawn) == ["gradient_0", "gradient_1"]
    direct = charts.to_svg(heatmap)

    def unnumbered(text):
        return re.sub(r"gradient_\d+", "gradient", text)

    assert unnumbered(drawn) == f"<p>{unnumbered(direct) * 2}</p>"
    within_json = svg.render_placeholders(json.dumps(page)[1:-1], within_json=True)
    assert json.loads(f'"{within_json}"') == drawn


def test_a_report_kernel_hands_each_chart_over_as_it_makes_it(monkeypatch, tmp_path):
    """With the runner's pipe in DEFER_ENV, a chart is rendered as soon as the kernel makes it,
    before its cell ends; each once (a cell's outputs are not taken again), in its place when
    the report is filled; the pipe is gone from the build folder after."""
    import threading

    import altair as alt

    from ctlib._publish import svg

    rendered, first = [], threading.Event()

    def render(payload):
        rendered.append(payload)
        first.set()
        return f"<svg>{len(rendered)}</svg>"

    monkeypatch.setattr(svg, "_rendered", render)
    chart = alt.Chart(pd.DataFrame({"x": ["a"]})).mark_point().encode(x="x:N")
    with svg.ReportCharts() as report_charts:
        pipe = report_charts.listen(tmp_path)
        monkeypatch.setenv(svg.DEFER_ENV, pipe)
        page = f"<p>{charts.to_svg(chart)}</p>"
        assert first.wait(10), "the chart was not taken from the pipe"
        report_charts.take(page)  # the cell's outputs, as the cell ends
        assert report_charts.fill(page) == "<p><svg>1</svg></p>"
    assert len(rendered) == 1 and page == f"<p><!--ctlib-chart {rendered[0]}--></p>"
    assert list(tmp_path.iterdir()) == []


def test_a_kernel_killed_while_handing_a_chart_over_leaves_nothing_waiting(monkeypatch, tmp_path):
    """Half a payload on the pipe (its kernel killed mid-write): filling the report does not
    wait for the rest, and renders the chart itself."""
    from ctlib._publish import svg

    monkeypatch.setattr(svg, "_rendered", lambda payload: f"<svg>{payload}</svg>")
    with svg.ReportCharts() as report_charts:
        with open(report_charts.listen(tmp_path), "wb") as kernel:
            kernel.write(b"eyJzcGVj")
        assert report_charts.fill("<!--ctlib-chart eyJ9-->") == "<svg>eyJ9</svg>"
    assert list(tmp_path.iterdir()) == []


def test_where_no_pipe_can_be_made_charts_are_taken_from_the_cells_outputs(monkeypatch, tmp_path):
    """Without FIFOs (Windows), `listen` makes none and each cell's outputs are taken as the
    cell ends, as before."""
    from ctlib._publish import svg

    monkeypatch.delattr(svg.os, "mkfifo")
    monkeypatch.setattr(svg, "_rendered", lambda payload: "<svg>drawn</svg>")
    with svg.ReportCharts() as report_charts:
        assert report_charts.listen(tmp_path) is None
        page = "<p><!--ctlib-chart eyJ9--></p>"
        report_charts.take(page)
        assert report_charts.fill(page) == "<p><svg>drawn</svg></p>"
    assert list(tmp_path.iterdir()) == []


def test_a_chart_never_loads_data_from_elsewhere():
    """Charts carry their data inline: a spec asking for a URL (say, one smuggled in as a
    report's chart placeholder) is refused, not fetched."""
    from ctlib._publish.svg import render

    spec = {
        "data": {"url": "http://127.0.0.1:9/cases.csv"},
        "mark": "point",
        "encoding": {"x": {"field": "a", "type": "quantitative"}},
    }
    with pytest.raises(Exception, match="not allowed"):
        render(spec, None)
    spec["data"] = {"values": [{"a": 1}]}
    assert render(spec, None).startswith("<svg ")
