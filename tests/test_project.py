"""project.yaml: load, validate, round trip and save.

Validation with YAML paths and lines, semantic checks, a faithful round trip, an atomic save.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import PIRS_YAML

from ctlib._data.project import load_project, load_project_file, save_project
from ctlib._errors import ProjectError

FIXTURE = Path(__file__).parent / "fixtures" / "ingest" / "mapped"


@pytest.fixture
def project_dir(tmp_path):
    for name in ("project.yaml", "cases.csv", "services.csv"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    return tmp_path


def edit(directory: Path, old: str, new: str) -> None:
    path = directory / "project.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def line_of(directory: Path, text: str) -> int:
    lines = (directory / "project.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_load_gives_the_typed_project(project_dir):
    project = load_project(project_dir)
    assert project.id == "mapped-fixture"
    assert project.project.start_date == dt.date(2024, 1, 1)
    selected = project.indicator("PROT-02")
    assert {label: selected.target(label) for label in selected.targets} == {
        "2024-Q1": 5.0,
        "2024": 20.0,
        "life_of_project": 40.0,
    }
    assert project.indicator("PROT-02").baseline.date == dt.date(2023, 12, 31)
    assert project.sources["cases"].values["sex"] == {"F": "female", "M": "male", "X": "other"}
    assert project.privacy.min_cell_size == 11


def test_round_trip_keeps_the_text_byte_for_byte(project_dir):
    original = (project_dir / "project.yaml").read_text()
    load_project_file(project_dir).save()
    assert (project_dir / "project.yaml").read_text() == original


def test_round_trip_keeps_another_indentation_style(tmp_path):
    text = (
        "project:\n    id: p  # four spaces\n    name: P\n    organisation: O\n    donor: D\n"
        "    country: NG\n    start_date: 2024-01-01\n    end_date: 2025-12-31\n"
        "results_chain:\n    objective: x\n    outcomes:\n"
        "    - id: o1\n      statement: s\n"
    )
    (tmp_path / "project.yaml").write_text(text)
    load_project_file(tmp_path).save()
    assert (tmp_path / "project.yaml").read_text() == text


def test_set_edits_one_value_keeping_comments_and_revalidates(project_dir):
    project_file = load_project_file(project_dir)
    project_file.set("indicators[0].targets.2024-Q2", 7)
    project_file.set("indicators[0].targets.2024", 21)  # written `2024:`, an int key in YAML
    project_file.set("indicators[2]", {"id": "PROT-06", "result": "oc-1"})
    assert project_file.project.indicator("PROT-02").target("2024-Q2") == 7
    project_file.save()
    text = (project_dir / "project.yaml").read_text()
    assert "      2024-Q1: 5\n      2024: 21\n      life_of_project: 40\n      2024-Q2: 7\n" in text
    assert "  - id: PROT-02   # new victims identified\n" in text
    assert "  - id: PROT-06\n    result: oc-1\n" in text
    assert load_project(project_dir).indicator("PROT-06").result == "oc-1"


def test_set_refuses_an_invalid_value_and_leaves_the_file_object_unchanged(project_dir):
    project_file = load_project_file(project_dir)
    with pytest.raises(ProjectError) as raised:
        project_file.set("indicators[0].result", "oc-9")
    assert raised.value.problems[0].entry == "indicators[0].result"
    assert project_file.project.indicator("PROT-02").result == "oc-1"
    assert project_file.data["indicators"][0]["result"] == "oc-1"


def test_save_writes_atomically_and_keeps_the_file_mode(project_dir):
    path = project_dir / "project.yaml"
    path.chmod(0o640)
    project_file = load_project_file(project_dir)
    project_file.set("privacy.min_cell_size", 5)
    project_file.save()
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in project_dir.iterdir()) == [
        "cases.csv",
        "project.yaml",
        "services.csv",
    ]


def test_save_a_bare_model_loads_back_equal(project_dir, tmp_path_factory):
    project = load_project(project_dir)
    other = tmp_path_factory.mktemp("copy")
    for name in ("cases.csv", "services.csv"):
        shutil.copy(project_dir / name, other / name)
    save_project(project, other / "project.yaml")
    assert load_project(other) == project


def test_missing_file(tmp_path):
    with pytest.raises(ProjectError, match=r"no project.yaml in .*ctlib new"):
        load_project(tmp_path)


def test_broken_yaml_gives_line_and_column(project_dir):
    edit(project_dir, "  donor: Test donor\n", "  donor: Test donor\n   broken: [\n")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    [problem] = raised.value.problems
    assert problem.rule == "yaml" and problem.row == line_of(project_dir, "broken: [")
    assert f"line {problem.row}, column 10" in problem.message


def test_duplicate_key_is_a_yaml_error(project_dir):
    edit(project_dir, "  country: NG\n", "  country: NG\n  country: BJ\n")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    assert raised.value.problems[0].row == line_of(project_dir, "country: BJ")


def test_schema_problems_all_at_once_with_paths_and_lines(project_dir):
    edit(project_dir, "      2024: 20\n", "      2024: twenty\n")
    edit(project_dir, "    result: op-1.1\n", "    result: op-1.1\n    targts: {}\n")
    edit(project_dir, "  organisation: Test NGO\n", "")
    edit(project_dir, "  min_cell_size: 11", "  min_cell_size: 0")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    found = {p.entry: (p.row, p.message) for p in raised.value.problems}
    assert set(found) == {
        "indicators[0].targets.2024",
        "indicators[1].targts",
        "project.organisation",
        "privacy.min_cell_size",
    }
    assert found["indicators[0].targets.2024"][0] == line_of(project_dir, "2024: twenty")
    assert found["indicators[1].targts"] == (
        line_of(project_dir, "targts: {}"),
        "unknown key 'targts'; did you mean 'targets'?",
    )
    assert found["project.organisation"] == (
        line_of(project_dir, "project:"),
        "missing required key 'organisation'",
    )
    assert found["privacy.min_cell_size"][0] == line_of(project_dir, "min_cell_size: 0")


def test_dates_in_the_wrong_order(project_dir):
    edit(project_dir, "  end_date: 2025-12-31", "  end_date: 2023-12-31")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    [problem] = raised.value.problems
    assert (problem.entry, problem.message) == ("project", "end_date must come after start_date")


def test_semantic_problems_all_at_once(project_dir):
    edit(project_dir, "  - id: PROT-10\n", "  - id: PRT-10\n")
    edit(project_dir, "    result: oc-1\n", "    result: oc-2\n")
    edit(project_dir, "[sex, child_adult]", "[sex, service_type]")
    edit(project_dir, "    file: services.csv", "    file: services.xlsx")
    edit(project_dir, "  cases:\n", "  casses:\n")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    found = {p.entry: p for p in raised.value.problems}
    assert set(found) == {
        "indicators[1].id",
        "indicators[0].result",
        "indicators[0].disaggregations[1]",
        "sources.services.file",
        "sources.casses",
    }
    assert (
        found["indicators[1].id"].message
        == "'PRT-10' is not in the catalogue; did you mean 'PROT-10'?"
    )
    assert found["indicators[1].id"].row == line_of(project_dir, "- id: PRT-10")
    assert found["indicators[0].result"].message == (
        "result 'oc-2' is not in the results chain; results: oc-1, op-1.1"
    )
    assert found["indicators[0].disaggregations[1]"].message.startswith(
        "PROT-02 cannot be disaggregated by 'service_type'; it supports: sex, age_group"
    )
    assert found["sources.services.file"].message.startswith("data file 'services.xlsx' not found")
    assert "did you mean 'cases'?" in found["sources.casses"].message


def test_an_indicator_selected_twice(project_dir):
    edit(project_dir, "  - id: PROT-10\n", "  - id: PROT-02\n")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    [problem] = raised.value.problems
    assert (problem.entry, problem.message) == (
        "indicators[1].id",
        "indicator 'PROT-02' is selected twice",
    )


def test_team_catalogue_file(project_dir):
    edit(project_dir, "privacy:", "catalogue: ours.yaml\n\nprivacy:")
    with pytest.raises(ProjectError) as raised:
        load_project(project_dir)
    assert (raised.value.problems[0].entry, raised.value.problems[0].rule) == (
        "catalogue",
        "file exists",
    )
    (project_dir / "ours.yaml").write_text(TEAM_INDICATOR)
    edit(project_dir, "  - id: PROT-10\n", "  - id: OWN-01\n")
    assert load_project(project_dir).indicators[1].id == "OWN-01"


TEAM_INDICATOR = (
    """\
- id: OWN-01
  name: Cases identified by our outreach workers
  pillar: protection
  area: identification
  level: output
  unit: count
  direction: increase
  definition: Cases identified by the team's outreach workers.
  rationale: Shows the reach of outreach.
  data_source: Case records.
  frequency: quarterly
  disaggregations: [sex]
  method: {measure: count, table: cases, date: identification_date,
           filter: [{column: identified_by, op: equals, value: ngo}]}
  rollup: sum
"""
    + PIRS_YAML
)


def test_targets_ranges_categories_and_fiscal_presets(project_dir):
    text = (project_dir / "project.yaml").read_text()
    text = (
        text.replace(
            "reporting:\n", "reporting:\n  calendar: fiscal\n  fiscal_year_start_month: usg\n", 1
        )
        if "reporting:\n" in text
        else text + "\nreporting:\n  calendar: fiscal\n  fiscal_year_start_month: usg\n"
    )
    (project_dir / "project.yaml").write_text(text)
    project = load_project(project_dir)
    assert project.reporting.start_month == 10
    from ctlib._data.project_model import SelectedIndicator

    selected = SelectedIndicator.model_validate(
        {
            "id": "PROT-02",
            "disaggregations": ["sex", ["sex", "age_group"]],
            "baseline": {"value": 10, "sex": {"female": 4}},
            "targets": {
                "2026-Q1": {"total": 40, "sex": {"female": 24}},
                "2026-Q2": {"between": [85, 95]},
            },
        }
    )
    assert selected.disaggregations == ["sex", "sex × age_group"]
    assert selected.baseline.categories == {"sex": {"female": 4}}
    assert (
        selected.target("2026-Q1") == 40
        and selected.targets["2026-Q1"].categories["sex"]["female"] == 24
    )
    assert selected.targets["2026-Q2"].between == (85, 95) and selected.target("2026-Q2") is None


@pytest.mark.parametrize(
    "reporting, message",
    [
        ({"calendar": "fiscal"}, "calendar: fiscal needs fiscal_year_start_month"),
        (
            {"calendar": "fiscal", "fiscal_year_start_month": "usgov"},
            r"is not a month number \(1-12\) or a preset",
        ),
        (
            {"calendar": "calendar", "fiscal_year_start_month": 7},
            "a calendar year starts in January",
        ),
    ],
)
def test_a_fiscal_calendar_needs_its_start_month(reporting, message):
    from pydantic import ValidationError

    from ctlib._data.project_model import Reporting

    with pytest.raises(ValidationError, match=message):
        Reporting.model_validate(reporting)
