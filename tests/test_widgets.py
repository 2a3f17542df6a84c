"""The workbook Apps driven as a user would.

Set widget values, click buttons, read the page and files.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import altair as alt
import ipywidgets as widgets
import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import Root
from conftest import REPO, SAMPLE_DIR
from ruamel.yaml import YAML

from ctlib import ExploreApp, PickIndicatorsApp, page_parameters
from ctlib._apps.explorer import crosstab
from ctlib._compute.engine import recipe_rows
from ctlib._data.ingest import load_project_data
from ctlib._data.project import load_project, load_project_file, new_project, save_project

SHELTER = "shelter_and_recovery"
TODAY = dt.date(2026, 3, 1)  # the scaffold runs 2026-01-01 … 2028-12-31, quarterly


def read_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """A scaffolded project: PROT-02 and PROT-10 selected.

    So it has sources for cases and services.
    """
    folder = tmp_path / "shelter_project"
    new_project(folder, name="Shelter project", indicator_ids=["PROT-02", "PROT-10"], today=TODAY)
    return folder


@pytest.fixture
def app(project_dir) -> PickIndicatorsApp:
    return PickIndicatorsApp(project_dir)


def fill_identity(app: PickIndicatorsApp, **values) -> None:
    defaults = {
        "name": "Safe Journeys",
        "organisation": "Hope NGO",
        "donor": "Fund A",
        "country": "NG",
        "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31),
    }
    for name, value in {**defaults, **values}.items():
        app.identity[name].value = value


# -- step 1: project -------------------------------------------------------------------------------
def test_step1_start_a_new_project_writes_the_form(tmp_path):
    app = PickIndicatorsApp()
    app.folder.value = str(tmp_path / "safe-journeys")
    assert app.identity["id"].value == "safe-journeys"  # suggested from the folder name
    fill_identity(app)
    app.reporting["frequency"].value = "semester"
    app.create_button.click()

    assert "ctlib-message-ok" in app.message.value
    saved = read_yaml(tmp_path / "safe-journeys" / "project.yaml")
    assert saved["project"] == {
        "id": "safe-journeys",
        "name": "Safe Journeys",
        "organisation": "Hope NGO",
        "donor": "Fund A",
        "country": "NG",
        "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31),
    }
    assert saved["reporting"]["frequency"] == "semester"
    assert [o["id"] for o in saved["results_chain"]["outcomes"]] == [
        "outcome-1"
    ]  # the scaffold's example
    assert (tmp_path / "safe-journeys" / "data").is_dir()


def test_step1_open_fills_every_step(app, project_dir):
    assert app.identity["name"].value == "Shelter project"
    assert app.identity["start_date"].value == dt.date(2026, 1, 1)
    assert app.objective.value == "The change the project contributes to."
    assert [o["id"] for o in app.chain] == ["outcome-1"]
    assert list(app.selected) == ["PROT-02", "PROT-10"]
    assert app.card("PROT-02")[1].value is True
    assert app.pillar_tabs.titles[1] == "Protection (37, 2 selected)"


def test_step1_new_project_never_overwrites(app, project_dir):
    before = (project_dir / "project.yaml").read_text()
    app.create_button.click()
    assert "already exists" in app.message.value
    assert (project_dir / "project.yaml").read_text() == before


def test_step1_missing_fields_are_listed_not_raised(tmp_path):
    app = PickIndicatorsApp()
    app.folder.value = str(tmp_path / "new")
    fill_identity(app, name="", end_date=dt.date(2025, 1, 1))
    app.create_button.click()
    assert "ctlib-message-error" in app.message.value
    assert "end_date must come after start_date" in app.message.value
    assert not (tmp_path / "new").exists()


def test_step1_unwritable_folder_is_a_message(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    app = PickIndicatorsApp()
    app.folder.value = str(blocker / "project")
    fill_identity(app)
    app.create_button.click()
    assert "ctlib-message-error" in app.message.value
    assert "Choose a folder you may write to" in app.message.value


def test_step1_invalid_project_file_is_a_message(project_dir):
    path = project_dir / "project.yaml"
    path.write_text(path.read_text().replace("frequency: quarterly", "frequency: weekly"))
    app = PickIndicatorsApp(project_dir)
    assert "ctlib-message-error" in app.message.value
    assert "reporting.frequency" in app.message.value
    assert app.project_file is None


def test_step1_folder_without_project_says_what_to_do(tmp_path):
    app = PickIndicatorsApp()
    app.folder.value = str(tmp_path)
    app.open_button.click()
    assert "press Start a new project" in app.message.value


# -- step 2: results chain -------------------------------------------------------------------------
def chain_row(app, result_id: str):
    """The row (label, statement, Remove) of a result in step 2."""
    rows = [row for row in app.chain_box.children if isinstance(row, widgets.HBox)]
    return next(row for row in rows if f"<code>{result_id}</code>" in row.children[0].value)


def test_step2_results_chain_rows_are_added_edited_and_removed(app, project_dir):
    app.objective.value = "Fewer people are trafficked from Edo State"
    app.add_outcome_button.click()
    assert [o["id"] for o in app.chain] == ["outcome-1", "outcome-2"]
    label, statement, remove = chain_row(app, "outcome-2").children
    statement.value = "Survivors recover"
    add_output = app.chain_box.children[5]  # outcome-2, output-2.1, then its "Add an output"
    assert add_output.description == "Add an output"
    add_output.click()
    assert [p["id"] for p in app.chain[1]["outputs"]] == ["output-2.1", "output-2.2"]
    chain_row(app, "output-2.1").children[2].click()  # its Remove button
    app.save_button.click()

    chain = read_yaml(project_dir / "project.yaml")["results_chain"]
    assert chain["objective"] == "Fewer people are trafficked from Edo State"
    assert chain["outcomes"][1] == {
        "id": "outcome-2",
        "statement": "Survivors recover",
        "outputs": [{"id": "output-2.2", "statement": ""}],
    }


def test_step2_new_rows_follow_the_chains_numbering():
    app = PickIndicatorsApp(SAMPLE_DIR / SHELTER)  # OC1 … OC3, outputs OP1.1 …
    app.add_outcome()
    app.add_output("OC2")
    assert [p["id"] for p in app.chain[1]["outputs"]] == ["OP2.1", "OP2.2", "OP2.3"]
    assert app.chain[-1] == {
        "id": "OC4",
        "statement": "",
        "outputs": [{"id": "OP4.1", "statement": ""}],
    }
    assert chain_row(app, "OC4").children[0].value == "<b>Outcome</b> <code>OC4</code>"
    assert chain_row(app, "OP4.1").children[0].value == "<b>Output</b> <code>OP4.1</code>"


def test_step2_removing_a_result_unlinks_its_indicators(app, project_dir):
    assert app.selected["PROT-10"]["result"] == "output-1.1"
    app.remove_result("outcome-1")
    assert app.chain == []
    assert app.selected["PROT-10"]["result"] is None
    assert app.card("PROT-10")[2].value == ""
    app.save_button.click()
    saved = read_yaml(project_dir / "project.yaml")
    assert saved["results_chain"]["outcomes"] == []
    assert [i["result"] for i in saved["indicators"]] == [None, None]


# -- step 3: indicators per pillar ----------------------------------------------------------------
def test_step3_filters_narrow_the_cards(app):
    assert len(app.visible_cards("protection")) == 37
    app.search.value = "shelter"
    assert app.visible_cards("protection") == [
        "PROT-06",
        "PROT-10",
        "PROT-11",
        "PROT-12",
    ]  # grouped by area
    assert [
        h.value for h in app.pillar_boxes["protection"].children if isinstance(h, widgets.HTML)
    ] == ["<div class='ctlib-area'>referral</div>", "<div class='ctlib-area'>shelter</div>"]
    app.search.value = ""
    app.level_filter.value = "impact"
    assert app.visible_cards("protection") == ["PROT-03", "PROT-04"]
    app.level_filter.value = ""
    app.unit_filter.value = "yes_no"
    assert app.visible_cards("protection") == []
    assert "No indicator matches" in app.pillar_boxes["protection"].children[0].value
    assert app.visible_cards("partnership") == [
        "PART-05",
        "PART-06",
        "PART-07",
        "PART-08",
        "PART-13",
    ]


def test_step3_only_what_my_data_can_compute(app):
    app.computable_filter.value = True  # the project has cases and services only
    protection = app.visible_cards("protection")
    assert "PROT-02" in protection and "PROT-10" in protection
    assert "PROT-01" not in protection  # needs activities and participants
    assert "PROT-12" not in protection  # reported values
    assert app.visible_cards("prevention") == []


def test_step3_a_projects_own_indicators_get_cards():
    app = PickIndicatorsApp(SAMPLE_DIR / "coast_outreach")  # its team file adds CSO-01 …
    own = [i.id for i in app.catalogue if i.id.startswith("CSO-")]
    assert own and all(app.card(i)[1].value == (i in app.selected) for i in own)
    assert "CSO-01" in app.selected
    assert "Survivors assisted at the drop-in centre" in app.card("CSO-01")[0].children[0].value


def test_step3_cards_say_what_data_is_needed(app):
    card_html = app.card("PROT-06")[0].children[0].value
    assert "Victims referred to protection services" in card_html
    assert "table <b>cases</b>" in card_html and "referral_date" in card_html
    assert "output" in card_html and "higher is better" in card_html


def test_step3_select_and_attach_to_a_result(app, project_dir):
    card, use, result = app.card("PROT-06")
    assert result.disabled
    use.value = True
    assert not result.disabled
    result.value = "outcome-1"
    assert app.selected["PROT-06"]["result"] == "outcome-1"
    assert app.selected["PROT-06"]["disaggregations"] == ["sex", "age_group"]
    assert "ctlib-card-selected" in card._dom_classes
    assert app.pillar_tabs.titles[1] == "Protection (37, 3 selected)"
    app.card("PROT-10")[1].value = False
    app.save_button.click()
    saved = read_yaml(project_dir / "project.yaml")["indicators"]
    assert [(i["id"], i["result"]) for i in saved] == [
        ("PROT-02", "outcome-1"),
        ("PROT-06", "outcome-1"),
    ]


# -- step 4: checklist -----------------------------------------------------------------------------
def test_step4_checklist_warns_in_plain_words(app):
    app.card("PROT-06")[1].value = True
    checks = dict((question, passed) for question, passed, _ in app.checklist("PROT-06"))
    assert checks == {
        "Measures an outcome or output": False,
        "Has a baseline": False,
        "Has a target for every period": False,
        "Has a source of data": True,
        "Reported by sex and age": True,
    }
    row, text, boxes = app.check_row("PROT-06")
    assert "⚠ Has a baseline" in text.value
    sex_box = next(b for b in boxes if b.description == "sex")
    sex_box.value = False
    assert app.selected["PROT-06"]["disaggregations"] == ["age_group"]
    assert "⚠ Reported by sex and age" in text.value


def test_step4_checklist_passes_when_complete(app):
    app.card("PROT-06")[1].value = True
    app.card("PROT-06")[2].value = "outcome-1"
    app.baseline_cells("PROT-06")[0].value = "12"
    for label in app.period_labels:
        app.target_cell("PROT-06", label).value = "10"
    assert all(passed for _, passed, _ in app.checklist("PROT-06"))
    assert "✓ Has a target for every period" in app.check_row("PROT-06")[1].value


def test_step4_missing_table_is_named(app):
    app.card("PREV-01")[1].value = True
    todo = dict((q, (passed, text)) for q, passed, text in app.checklist("PREV-01"))[
        "Has a source of data"
    ]
    assert todo[0] is False and "no activities table" in todo[1]
    assert "sex and age" not in app.check_row("PREV-01")[1].value.split("Reported by")[0]


# -- step 5: baselines and targets ---------------------------------------------------------------
def test_step5_grid_has_a_column_per_period(app, project_dir):
    labels = app.period_labels
    assert labels[:2] == ["2026-Q1", "2026-Q2"] and labels[-2:] == ["2028-Q4", "life_of_project"]
    assert len(app.targets_grid.children) == (3 + len(labels)) * 3  # header + PROT-02 + PROT-10
    baseline, baseline_date = app.baseline_cells("PROT-02")
    baseline.value = "7"
    baseline_date.value = dt.date(2025, 12, 31)
    app.target_cell("PROT-02", "2026-Q1").value = "12.5"
    app.target_cell("PROT-02", "life_of_project").value = "150"
    app.target_cell("PROT-02", "2026-Q1").value = ""  # cleared again
    app.target_cell("PROT-02", "2026-Q2").value = "20"
    app.save_button.click()
    saved = load_project(project_dir).indicator("PROT-02")
    assert saved.baseline.value == 7 and saved.baseline.date == dt.date(2025, 12, 31)
    assert {label: saved.target(label) for label in saved.targets} == {
        "2026-Q2": 20,
        "life_of_project": 150,
    }


def test_step5_opening_another_project_shows_its_own_values(app, project_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project_dir, other)
    app.target_cell("PROT-02", "2026-Q1").value = "12"  # typed, not saved
    app.folder.value = str(other)
    app.open_button.click()
    assert app.target_cell("PROT-02", "2026-Q1").value == ""
    assert app.selected["PROT-02"]["targets"] == {}


def test_step5_a_target_that_is_not_a_number_is_a_message(app):
    app.target_cell("PROT-02", "2026-Q1").value = "twelve"
    assert "twelve&#x27; is not a number: type digits such as 40" in app.message.value
    assert app.selected["PROT-02"]["targets"] == {}


def test_step5_period_labels_follow_the_reporting_settings(app):
    app.reporting["calendar"].value = "fiscal"
    app.reporting["fiscal_year_start_month"].value = 7
    app.reporting["frequency"].value = "annual"
    assert app.period_labels == ["FY2026", "FY2027", "FY2028", "FY2029", "life_of_project"]
    app.identity["end_date"].value = dt.date(2020, 1, 1)
    assert app.period_labels == []
    assert "valid start and end dates" in app.targets_note.value


# -- step 6: review and save -----------------------------------------------------------------------
def test_step6_review_lists_pillars_tables_and_templates(app):
    app.card("PROS-05")[1].value = True
    review = app.review.value
    assert "<td>Protection</td><td>2</td>" in review and "<td>Prosecution</td><td>1</td>" in review
    assert "<b>legal_cases</b>" in review and "not yet" in review
    assert "download='legal_cases.xlsx'" in review and "data:text/csv;base64," in review
    assert "✓ data/cases.xlsx" in review


def test_step6_save_keeps_comments_and_a_backup(app, project_dir):
    before = (project_dir / "project.yaml").read_text()
    app.card("PROT-06")[1].value = True
    app.save_button.click()
    after = (project_dir / "project.yaml").read_text()
    assert (project_dir / "project.yaml.bak").read_text() == before
    assert "# Privacy: counts between 1 and min_cell_size - 1" in after
    assert "  - id: PROT-10  # Victims accommodated in shelters" in after
    assert after.index("- id: PROT-06") < after.index("# Where each standard table comes from")
    assert [i.id for i in load_project(project_dir).indicators] == ["PROT-02", "PROT-10", "PROT-06"]


def test_step6_invalid_answers_never_overwrite_a_good_file(app, project_dir):
    before = (project_dir / "project.yaml").read_text()
    app.identity["country"].value = "NG"
    app.identity["id"].value = "Not An Id!"
    app.save_button.click()
    assert "ctlib-message-error" in app.message.value and "project.id" in app.message.value
    assert (project_dir / "project.yaml").read_text() == before
    assert not (project_dir / "project.yaml.bak").exists()


def test_step6_save_before_opening_says_what_to_do():
    app = PickIndicatorsApp()
    app.save_button.click()
    assert "Open the project folder, or start a new project" in app.message.value


def test_steps_back_and_next():
    app = PickIndicatorsApp()
    assert app.back_button.disabled
    for _ in range(10):
        app.next_button.click()
    assert app.steps.selected_index == 5 and app.next_button.disabled
    app.back_button.click()
    assert app.steps.selected_index == 4 and not app.next_button.disabled


def test_page_parameters_come_from_voilas_query_string(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "project_dir=%2Fdata%2Fmy%20project&periods=3")
    assert page_parameters(project_dir="../data", periods=1, other="x") == {
        "project_dir": "/data/my project",
        "periods": 3,
        "other": "x",
    }
    monkeypatch.delenv("QUERY_STRING")
    assert page_parameters(project_dir="../data") == {"project_dir": "../data"}


# -- the explorer ----------------------------------------------------------------------------------


def chart_data(chart: alt.JupyterChart) -> pd.DataFrame:
    """The data a chart draws (its spec's one dataset)."""
    (rows,) = chart.spec["datasets"].values()
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def explore() -> ExploreApp:
    return ExploreApp(SAMPLE_DIR, project=SHELTER, compare_with="justice_for_survivors")


def test_explore_opens_the_project_on_its_latest_period(explore):
    assert explore.project.options == tuple(
        sorted(p.parent.name for p in SAMPLE_DIR.glob("*/project.yaml"))
    )
    assert (explore.first_period.value, explore.last_period.value) == ("FY2024-Q1", "FY2026-Q4")
    assert explore.period.options[-1] == "life_of_project" and explore.period.value == "FY2026-Q4"
    assert "Internal — unsuppressed" in explore.widget.children[1].value


def test_explore_charts_are_offline_widgets(explore):
    assert alt.JupyterChart._is_offline
    assert not re.search(
        r"import[^;\n]*https?://", explore.trend_chart._esm
    )  # no module from a CDN
    assert (
        explore.trend_chart.embed_options["actions"]["editor"] is False
    )  # nothing leaves for the Vega editor


def test_explore_indicator_value_trend_and_every_disaggregation(explore):
    explore.indicator.value = "PROT-02"
    explore.period.value = "FY2025-Q1"
    results = explore.results(SHELTER, explore.requested_labels()).table
    total = results[
        (results["indicator_id"] == "PROT-02")
        & (results["period"] == "FY2025-Q1")
        & (results["dimension"] == "total")
    ].iloc[0]
    cases = load_project_data(SAMPLE_DIR / SHELTER).tables["cases"]
    in_quarter = cases["identification_date"].between("2024-10-01", "2024-12-31") & cases[
        "trafficking_status"
    ].isin(["possible", "actual"])
    assert total["value"] == in_quarter.sum()
    assert f"<span style='font-size:170%'>{int(total['value'])}</span>" in explore.value_card.value
    assert "FY2025-Q1: " + str(int(total["value"])) in explore.trend_chart.spec["description"]
    # every disaggregation the catalogue offers, beyond the four the project reports
    shown = set(results[(results["indicator_id"] == "PROT-02")]["dimension"]) - {"total"}
    assert shown == {
        "sex",
        "age_group",
        "child_adult",
        "nationality",
        "trafficking_status",
        "exploitation_type",
        "exploitation_types",
        "exploitation_group",
        "identified_by",
        "is_identified_by_trained_stakeholder",
        "location",
    }
    assert "identified by" in explore.disaggregation_chart.spec["description"]
    assert "<td>sex</td>" in explore.indicator_table.value


def rows_expected(rows, method) -> tuple:
    """(numerator, denominator) the engine should report for these rows behind.

    By the recipe's measure.
    """

    def part(flag, spec):
        chosen = rows[rows[flag]] if flag in rows else rows
        if spec is None or spec.aggregate == "count":
            return len(chosen)
        return (
            chosen[spec.column].nunique()
            if spec.aggregate == "count_distinct"
            else chosen[spec.column].sum()
        )

    measure = method.measure
    if measure in ("count", "milestone"):
        return len(rows), None
    if measure == "count_distinct":
        return rows[method.column].nunique(), None
    if measure in ("sum", "mean"):
        return rows[method.column].sum(), rows[
            method.column
        ].notna().sum() if measure == "mean" else None
    if measure == "median":
        return None, rows[method.column].notna().sum()
    if measure == "change":
        return rows["improved"].sum(), len(rows)
    if measure == "days_in_period":
        return rows["days_in_period"].sum(), None
    return part("in_numerator", method.numerator), part("in_denominator", method.denominator)


def test_rows_behind_are_the_rows_the_engine_counts(explore):
    data = explore.data(SHELTER)
    results = explore.results(SHELTER, explore.requested_labels())
    periods = {p.label: p for p in results.periods}
    checked = results.table[
        results.table["period"].isin(["FY2025-Q2", "life_of_project"])
        & results.table["value"].notna()
    ]
    for row in checked.itertuples():
        indicator = data.catalogue.get(row.indicator_id)
        rows = recipe_rows(data, indicator, periods[row.period], row.dimension, row.category)
        expected = rows_expected(rows, indicator.method)
        assert [
            e is None or e == pytest.approx(got)
            for e, got in zip(expected, (row.numerator, row.denominator))
        ] == [True, True], (row.indicator_id, row.period, row.dimension, row.category)
    assert len(checked) > 500


def test_explore_drills_to_the_rows_behind(explore):
    explore.indicator.value = "PROT-10"  # on services, with the sex of each case taken from cases
    explore.period.value = "FY2025-Q1"
    explore.tabs.selected_index = 1
    explore.category.value = ("sex", "female")
    shown = explore.rows_note.value
    results = explore.results(SHELTER, explore.requested_labels()).table
    female = results[
        (results["indicator_id"] == "PROT-10")
        & (results["period"] == "FY2025-Q1")
        & (results["category"] == "female")
    ].iloc[0]
    rows = recipe_rows(
        explore.data(SHELTER),
        explore.data(SHELTER).catalogue.get("PROT-10"),
        next(
            p
            for p in explore.results(SHELTER, explore.requested_labels()).periods
            if p.label == "FY2025-Q1"
        ),
        "sex",
        "female",
    )
    assert rows["case_id"].nunique() == female["value"]
    assert f"<b>{len(rows):,} row(s)</b> behind PROT-10 in FY2025-Q1 where sex = female" in shown
    assert set(rows["service_type"]) == {"shelter"} and set(rows["sex"]) == {"female"}
    assert explore.rows_table.value.count("<tr>") == min(
        len(rows), ExploreApp.MAX_ROWS_SHOWN
    )  # body rows
    explore.tabs.selected_index = 0


def test_explore_cross_tabulates_two_columns(explore):
    explore.tabs.selected_index = 2
    explore.crosstab_table_name.value = "cases"
    explore.crosstab_rows.value = "sex"
    explore.crosstab_columns.value = "child_adult"
    cases = explore.data(SHELTER).tables["cases"]
    inside = cases[cases["identification_date"].between("2023-10-01", "2026-09-30")]
    girls = ((inside["sex"] == "female") & (inside["child_adult"] == "child")).sum()
    tidy = chart_data(explore.crosstab_chart)
    assert tidy.set_index(["row", "column"]).loc[("female", "child"), "records"] == girls
    assert f"{len(inside):,} cases rows dated (identification_date)" in explore.crosstab_html.value
    counts = crosstab(inside, "sex", "child_adult")
    assert counts.loc["total", "total"] == len(inside)
    explore.tabs.selected_index = 0


def test_explore_compares_two_projects_on_shared_indicators(explore):
    explore.tabs.selected_index = 3
    explore.other_project.value = "justice_for_survivors"
    compared = chart_data(explore.compare_chart)
    assert set(compared["indicator"]) == {"PART-03 Coordination meetings held"}
    justice = explore.results("justice_for_survivors", "latest").table
    life = justice[
        (justice["indicator_id"] == "PART-03")
        & (justice["period"] == "life_of_project")
        & (justice["dimension"] == "total")
    ].iloc[0]
    assert compared.set_index("project").loc["justice_for_survivors", "actual"] == life["value"]
    explore.other_project.value = ""
    assert "Choose another project" in explore.compare_html.value
    explore.tabs.selected_index = 0


def test_explore_charts_are_valid_vega_lite(explore):
    explore.other_project.value = "justice_for_survivors"
    for tab in range(4):
        explore.tabs.selected_index = tab
    shown = [
        explore.trend_chart,
        explore.disaggregation_chart,
        explore.crosstab_chart,
        explore.compare_chart,
    ]
    for chart in shown:
        Root.validate(chart.spec)
        assert chart.spec["config"]["mark"]["tooltip"] == {
            "content": "data"
        }  # hover shows the values
    explore.tabs.selected_index = 0


def test_explore_periods_in_the_wrong_order_is_a_message(explore):
    explore.first_period.value = "FY2026-Q1"
    explore.last_period.value = "FY2025-Q1"
    assert (
        "&#x27;From&#x27; (FY2026-Q1) comes after &#x27;To&#x27; (FY2025-Q1)"
        in explore.message.value
    )
    explore.first_period.value = "FY2024-Q1"
    explore.last_period.value = "FY2026-Q4"


def test_explore_shows_invalid_data_and_uncomputable_indicators_as_messages(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(SAMPLE_DIR / SHELTER, broken, ignore=shutil.ignore_patterns("kernel-*"))
    cases = broken / "cases.csv"
    cases.write_text(cases.read_text().replace("2024-", "2024/13/", 1))
    partial = tmp_path / "partial"
    shutil.copytree(SAMPLE_DIR / SHELTER, partial, ignore=shutil.ignore_patterns("kernel-*"))
    project_file = load_project_file(partial)
    del project_file.data["sources"]["services"]
    save_project(project_file, partial / "project.yaml")

    app = ExploreApp(tmp_path, project="partial")
    app.project.value = "broken"
    assert "ctlib-message-error" in app.message.value and "cases" in app.message.value
    assert (
        app.value_card.value == "" and app.trend_chart.spec is None
    )  # nothing of the other project stays
    app.project.value = "partial"
    assert app.message.value == ""
    app.indicator.value = "PROT-10"
    assert "PROT-10 cannot be computed" in app.value_card.value
    assert "the project has no &#x27;services&#x27; table" in app.value_card.value
    assert app.trend_chart.spec is None


def test_explore_reload_reads_the_changed_files(tmp_path):
    shutil.copytree(
        SAMPLE_DIR / SHELTER, tmp_path / SHELTER, ignore=shutil.ignore_patterns("kernel-*")
    )
    app = ExploreApp(tmp_path)
    app.indicator.value = "PROT-02"
    app.period.value = "FY2025-Q1"
    assert "target 45 ·" in app.value_card.value
    project_file = load_project_file(tmp_path / SHELTER)
    project_file.set("indicators[0].targets.FY2025-Q1", 60)
    project_file.save()
    app.period.value = "FY2025-Q2"
    app.period.value = "FY2025-Q1"
    assert "target 45 ·" in app.value_card.value  # read once, until asked again
    app.reload_button.click()
    assert (app.indicator.value, app.period.value) == ("PROT-02", "FY2025-Q1")
    assert "target 60 ·" in app.value_card.value


def test_explore_without_projects_says_what_to_give(tmp_path):
    app = ExploreApp(tmp_path)
    assert "No project folder" in app.message.value


# -- the notebooks ---------------------------------------------------------------------------------
@pytest.mark.notebook
@pytest.mark.parametrize(
    "name, parameters",
    [
        ("pick_indicators", {"project_dir": str(SAMPLE_DIR / SHELTER)}),
        ("explore", {"data_dir": str(SAMPLE_DIR), "project": "safe_journeys", "compare_with": ""}),
    ],
)
def test_notebook_is_thin_and_runs(name, parameters, tmp_path):
    import nbformat
    import papermill

    path = REPO / "notebooks" / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert (
        notebook.metadata.kernelspec.name == "python3"
        and notebook.metadata.kernelspec.language == "python"
    )
    assert all(
        not cell.get("outputs") and not cell.get("execution_count")
        for cell in notebook.cells
        if cell.cell_type == "code"
    )
    assert [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])][
        0
    ].source.count("#") == len(parameters)  # one comment per parameter
    executed = papermill.execute_notebook(
        str(path),
        str(tmp_path / "out.ipynb"),
        parameters=parameters,
        cwd=str(path.parent),
        progress_bar=False,
    )
    shown = executed.cells[-1].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown
