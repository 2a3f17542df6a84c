"""The data guide (docs/data.md) and `ctlib tables`: generated from ctlib's own declarations, so
they cannot drift; every option of a source and field of a catalogue entry documented by its real
name; and every worked example of the guide loads as the guide says, with its figures checked by
hand below."""

from __future__ import annotations

import csv
import io
import re
import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from ctlib._catalogue import load_catalogue
from ctlib._catalogue.model import Condition, Indicator, Method, ObservationWindow, Part
from ctlib._cli import main
from ctlib._data.ingest import load_project_data
from ctlib._data.project_model import Numbers, PeriodColumns, Project, Source, Wide
from ctlib._data.tables import TABLES
from ctlib._publish.check import check_project
from ctlib._publish.data_guide import (
    column_facts,
    compact_ids,
    render_guide,
    table_markdown,
    tables_markdown,
)

GUIDE = Path(__file__).parent.parent / "docs" / "data.md"


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_the_guide_is_what_ctlib_writes(guide):
    # after a change to the tables, the catalogue or the readers' lists: `make docs`
    assert render_guide(guide, load_catalogue()) == guide


def test_a_region_ctlib_does_not_write_is_an_error():
    with pytest.raises(KeyError, match="'colours'"):
        render_guide(
            "<!-- generated: colours -->\n<!-- end generated: colours -->", load_catalogue()
        )


def test_every_table_and_column_has_its_section_and_row(guide):
    for name, table in TABLES.items():
        section = guide.split(f"### Table `{name}`")[1].split("### ")[0]
        rows = [
            line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")
        ]
        assert sorted(rows) == sorted(f"`{c.name}`" for c in table.columns), name


@pytest.mark.parametrize("model", [Source, Wide, PeriodColumns, Numbers], ids=lambda m: m.__name__)
def test_every_option_of_a_source_is_documented_by_its_real_name(guide, model):
    options = guide.split("## 5. Layout options of a source")[1]
    missing = [name for name in model.model_fields if f"`{name}`" not in options]
    assert missing == []


def test_the_project_options_for_data_are_documented(guide):
    for name in ("sources", "data_folders", "catalogue"):
        assert name in Project.model_fields and f"`{name}" in guide


@pytest.mark.parametrize(
    "model", [Indicator, Method, Part, Condition, ObservationWindow], ids=lambda m: m.__name__
)
def test_every_field_of_a_catalogue_entry_is_documented(guide, model):
    section = guide.split("## 7. Your team's own indicators")[1]
    assert [name for name in model.model_fields if f"`{name}`" not in section] == []


def test_used_by_follows_links_and_derived_columns():
    catalogue = load_catalogue()
    cases = {f.name: f for f in column_facts("cases", catalogue)}
    services = {f.name: f for f in column_facts("services", catalogue)}
    # PROT-10 (victims sheltered) reads services and breaks them down by the case's sex
    assert "PROT-10" in cases["sex"].used_by and "PROT-10" in services["case_id"].used_by
    # PROT-02 breaks down by age_group, which ctlib derives from age
    assert "PROT-02" in cases["age_group"].used_by and "PROT-02" in cases["age"].used_by
    assert cases["age_group"].kind == "category, derived"
    assert cases["age_group"].derived_from == "`age`"
    assert cases["exploitation_types"].kind == "category, several values"
    assert cases["nationality"].allowed == "ISO 3166 alpha-2 codes, or country names"
    assert cases["age"].allowed == "0 to 120"
    assert cases["case_id"].required and not cases["sex"].required
    assert cases["sex"].references == "prs_Gender"


# -- ctlib tables ----------------------------------------------------------------------------------


def tables(*args):
    return CliRunner().invoke(main, ["tables", *args])


def test_indicator_ids_are_listed_in_ranges():
    ids = ["PREV-01", "PROT-02", "PROT-03", "PROT-04", "PROT-09", "PART-14", "T-VIC"]
    assert compact_ids(ids) == "PREV-01; PROT-02–04, 09; PART-14; T-VIC"


def test_ctlib_tables_lists_the_tables_and_one_tables_columns():
    listing = tables()
    assert listing.exit_code == 0
    for name in TABLES:
        assert f"\n{name}  (key: " in f"\n{listing.output}"
    one = tables("services")
    assert one.exit_code == 0
    for facts in column_facts("services", load_catalogue()):
        assert f"  {facts.name}  ({facts.kind}" in one.output
    assert "allowed: shelter, medical, psychosocial" in one.output
    assert "used by: PROT-10–11, 14, 18–20, 23, 27" in one.output


def test_ctlib_tables_markdown_is_the_guides_text(guide):
    catalogue = load_catalogue()
    assert tables("--markdown").output == tables_markdown(catalogue) + "\n"
    assert tables("cases", "--markdown").output == table_markdown("cases", catalogue) + "\n"
    assert table_markdown("cases", catalogue) in guide


def test_ctlib_tables_counts_the_teams_indicators(tmp_path, guide):
    team = example_files(examples(guide)["team-catalogue"])["team.yaml"]
    (tmp_path / "team.yaml").write_text(team, encoding="utf-8")
    assert "T-POLICE" not in tables("cases").output
    output = tables("cases", "--catalogue", str(tmp_path / "team.yaml")).output
    identified_by = output.split("  identified_by  (")[1].split("\n  is_identified")[0]
    assert "T-POLICE" in identified_by


def test_an_unknown_table_is_a_usage_error():
    result = tables("casse")
    assert result.exit_code == 2 and "did you mean 'cases'?" in result.output


# -- the worked examples ---------------------------------------------------------------------------

EXAMPLE = re.compile(
    r"<!-- example: (?P<name>[a-z-]+) -->\n(?P<body>.*?)<!-- end example -->", re.S
)
FILE = re.compile(
    r"^`(?P<file>[^`]+)`(?: \(sheet `(?P<sheet>[^`]+)`\))?:\n\n```(?:csv|yaml)\n(?P<text>.*?)```",
    re.S | re.M,
)
SOURCES = re.compile(r"^```yaml\n(?P<text>sources:\n.*?)```", re.S | re.M)


def examples(guide: str) -> dict[str, str]:
    return {match["name"]: match["body"] for match in EXAMPLE.finditer(guide)}


def example_files(body: str) -> dict[str, str | dict[str, str]]:
    """file -> its text (a workbook: sheet -> the sheet's rows as csv)."""
    files: dict = {}
    for match in FILE.finditer(body):
        if match["sheet"]:
            files.setdefault(match["file"], {})[match["sheet"]] = match["text"]
        else:
            files[match["file"]] = match["text"]
    return files


def base_project(directory: Path, guide: str, sources: str) -> Path:
    """The project the guide's examples run in: 2024-10-01 to 2025-12-31 in calendar quarters,
    the team catalogue of section 7; it selects T-VIC for a tally and PROT-02 for cases."""
    team = example_files(examples(guide)["team-catalogue"])["team.yaml"]
    (directory / "team.yaml").write_text(team, encoding="utf-8")
    head = textwrap.dedent(
        """\
        project: {id: guide, name: Guide, organisation: NGO, donor: Donor, country: NL,
                  start_date: 2024-10-01, end_date: 2025-12-31}
        results_chain: {objective: Fewer people trafficked}
        catalogue: team.yaml
        indicators:
        """
    )
    tables = re.findall(r"^  (\w+):", sources, re.M)
    if "reported_values" in tables:
        head += "  - {id: T-VIC, disaggregations: [exploitation_type, sex]}\n"
    if "cases" in tables:
        head += "  - {id: PROT-02, disaggregations: [sex]}\n"
    (directory / "project.yaml").write_text(head + sources, encoding="utf-8")
    return directory


def run_example(name: str, guide: str, directory: Path):
    body = examples(guide)[name]
    for file, content in example_files(body).items():
        path = directory / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):  # a workbook, sheet by sheet
            book = openpyxl.Workbook()
            book.remove(book.active)
            for sheet, text in content.items():
                rows = list(csv.reader(io.StringIO(text)))
                worksheet = book.create_sheet(sheet)
                for row in rows:
                    worksheet.append([int(v) if v.isdigit() else v for v in row])
            book.save(path)
        else:
            path.write_text(content, encoding="utf-8")
    [sources] = SOURCES.findall(body)
    base_project(directory, guide, sources)
    return load_project_data(directory)


def tally(data) -> list[tuple]:
    """reported_values as (row, period, dimension, category, value, state, as written); the
    total's empty dimension and category as None."""
    frame = data.tables["reported_values"]
    return [
        tuple(None if pd.isna(v) or v == "" else v for v in row)
        for row in zip(
            frame.index,
            frame["period"],
            frame["dimension"],
            frame["category"],
            frame["value"],
            frame["value_state"],
            frame["value_as_written"],
        )
    ]


def test_every_example_is_checked_here(guide):
    assert set(examples(guide)) == set(EXPECTED) | {"team-catalogue"}


def test_the_team_catalogue_example_loads(guide, tmp_path):
    team = example_files(examples(guide)["team-catalogue"])["team.yaml"]
    (tmp_path / "team.yaml").write_text(team, encoding="utf-8")
    catalogue = load_catalogue([tmp_path / "team.yaml"])
    assert catalogue.get("T-VIC").method.measure == "reported"
    assert catalogue.get("T-POLICE").method.table == "cases"


def several_files(data):
    assert [row[:5] for row in tally(data)] == [
        (2, "2025-Q1", None, None, 9),
        (3, "2025-Q1", "sex", "female", 6),
        (2, "2025-Q2", None, None, 7),
        (3, "2025-Q2", "sex", "female", 4),
    ]
    assert [f.name for f in data.input_files[2:]] == ["2025-Q1.csv", "2025-Q2.csv"]


def several_sheets(data):
    assert [row[:5] for row in tally(data)] == [
        (2, "2025-Q1", None, None, 4),
        (2, "2025-Q2", None, None, 5),
    ]


def banner_rows(data):
    assert [row[:5] for row in tally(data)] == [(5, "2025-Q1", None, None, 4)]


def wide_fiscal_year(data):
    rows = tally(data)
    assert len(rows) == 12
    assert rows[:3] == [  # FY2025 Q1 = October to December 2024: the project's 2024-Q4
        (2, "2024-Q4", None, None, 18, None, None),
        (2, "2024-Q4", "exploitation_type", "sexual_exploitation", 12, None, None),
        (2, "2024-Q4", "exploitation_type", "forced_labour", 5, None, None),
    ]
    assert (
        3,
        "2025-Q1",
        "exploitation_type",
        "forced_labour",
        None,
        "source_suppressed",
        "<5",
    ) in rows
    totals = [row[4] for row in rows if row[2] is None]
    assert totals == [18, 11, 23, 18] and sum(totals) == 70
    assert sum(r[4] for r in rows if r[3] == "sexual_exploitation") == 45
    ignored = [p for p in data.warnings if p.rule == "unmapped column"]
    assert len(ignored) == 1 and "both_sex_and_labor" in ignored[0].message


def statistics_sheet(data):
    assert tally(data) == [
        (5, "2024", None, None, 2315, None, None),
        (5, "2024", "sex", "female", 1402, None, None),
        (5, "2024", "sex", "male", 913, None, None),
        (7, "2025", None, None, 1046, None, None),
        (7, "2025", "sex", "female", 1043, None, None),
        (7, "2025", "sex", "male", None, "source_suppressed", "<5"),
    ]


def decimal_comma(data):
    assert [(r[1], r[4], r[5], r[6]) for r in tally(data)] == [
        ("2025-Q1", 1402, None, None),
        ("2025-Q2", None, "source_suppressed", "x"),
        ("2025-Q3", None, "unavailable", ".."),
    ]


def cases_of(data, *columns):
    frame = data.tables["cases"]
    return [
        tuple(None if pd.isna(v) else v for v in row) for row in zip(*(frame[c] for c in columns))
    ]


def maps(data):
    assert cases_of(data, "case_id", "identification_date", "sex", "trafficking_status") == [
        ("NG-1", pd.Timestamp("2025-02-05"), "female", "actual"),
        ("NG-2", pd.Timestamp("2025-02-17"), "male", "possible"),
        ("NG-3", pd.Timestamp("2024-12-03"), "female", "actual"),
    ]
    assert not [p for p in data.warnings if p.rule == "direct identifier"]
    ignored = [p for p in data.warnings if p.rule == "unmapped column"]
    assert len(ignored) == 1 and "Hotline phone used" in ignored[0].message


def separators(data):
    assert cases_of(data, "case_id", "exploitation_types") == [
        ("C1", "sexual_exploitation;forced_labour"),
        ("C2", "forced_begging"),
    ]


def options(data):
    assert cases_of(data, "case_id", "exploitation_types") == [
        ("C1", "sexual_exploitation"),
        ("C2", "forced_begging"),
        ("C3", None),
    ]


def odk_central(data):
    assert cases_of(data, "case_id", "exploitation_types") == [
        ("O-1", "sexual_exploitation;forced_labour"),
        ("O-3", None),
    ]
    services = data.tables["services"]
    assert services["service_id"].tolist() == ["uuid:0001/services[1]", "uuid:0003/services[1]"]
    assert services["case_id"].tolist() == ["O-1", "O-3"]
    assert "Enumerator" not in data.tables["cases"].to_csv()
    assert [p.rule for p in data.warnings if p.rule == "rejected submissions"] == [
        "rejected submissions",
        "rejected submissions",
    ]


EXPECTED = {
    "several-files": several_files,
    "several-sheets": several_sheets,
    "banner-rows": banner_rows,
    "wide-fiscal-year": wide_fiscal_year,
    "statistics-sheet": statistics_sheet,
    "decimal-comma": decimal_comma,
    "maps": maps,
    "separators": separators,
    "options": options,
    "odk-central": odk_central,
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_guides_example_loads_as_it_says(name, guide, tmp_path):
    data = run_example(name, guide, tmp_path)
    EXPECTED[name](data)
    # and checks clean, tally rows included (the team's T-VIC by sex and exploitation type)
    checked = check_project(tmp_path)
    assert checked.errors == [], [str(p) for p in checked.errors]


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_every_link_within_the_guide_finds_its_place(guide):
    anchors = {heading_anchor(h) for h in re.findall(r"^#+ (.*)$", guide, re.M)}
    anchors |= set(re.findall(r'<a id="([^"]+)"></a>', guide))
    links = set(re.findall(r"\]\(#([^)]+)\)", guide))
    assert links and sorted(links - anchors) == []
