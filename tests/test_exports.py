"""indicators.csv and iptt.xlsx written from small hand-made tables and read back."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from ctlib._errors import PrivacyError
from ctlib._publish.exports import write_indicators_csv, write_iptt_xlsx
from ctlib._publish.presentation import Presentation

DONOR, INTERNAL = Presentation("donor", k=5), Presentation("internal", k=5)


@pytest.fixture
def results_table():
    return pd.DataFrame(
        {
            "project_id": "p1",
            "indicator_id": ["PROT-03", "PROT-03", "PROT-03"],
            "period": "2026-Q2",
            "period_start_date": pd.Timestamp("2026-04-01"),
            "period_end_date": pd.Timestamp("2026-06-30"),
            "dimension": ["total", "sex", "sex"],
            "category": ["total", "female", "male"],
            "numerator": [12.0, 9.0, None],
            "denominator": [None, None, None],
            "value": [12.0, 9.0, None],
            "baseline": [4.0, None, None],
            "target": [10.0, None, None],
            "achievement": [120.0, None, None],
            "status": ["ahead", "no target", "suppressed"],
            "suppressed": [False, False, True],
            "audience": "donor",
        }
    )


@pytest.fixture
def iptt():
    return pd.DataFrame(
        {
            "number": [1, 2],
            "indicator_id": ["PROT-03", "PROT-24"],
            "indicator": ["Victims referred", "Share of child victims with a guardian"],
            "pillar": ["protection", "protection"],
            "level": ["output", "outcome"],
            "unit": ["count", "percent"],
            "direction": ["increase", "increase"],
            "baseline": [4.0, 70.0],
            "life_of_project target": [40.0, 90.0],
            "life_of_project actual": [31.0, 81.7],
            "life_of_project % met": [77.5, 90.8],
            "life_of_project status": ["behind", "on track"],
            "2026-Q2 target": [10.0, 90.0],
            "2026-Q2 actual": [12.0, None],
            "2026-Q2 % met": [120.0, None],
            "2026-Q2 status": ["ahead", "suppressed"],
        }
    )


def test_csv_holds_the_table_as_given(tmp_path, results_table):
    path = write_indicators_csv(results_table, tmp_path / "indicators.csv", DONOR)
    back = pd.read_csv(path)
    assert list(back.columns) == list(results_table.columns)
    assert back["value"].tolist()[:2] == [12.0, 9.0] and pd.isna(back["value"][2])
    assert back["period_start_date"].tolist() == ["2026-04-01"] * 3
    assert back["suppressed"].tolist() == [False, False, True]


def test_csv_refuses_case_level_rows(tmp_path, results_table):
    with pytest.raises(PrivacyError, match="case_id"):
        write_indicators_csv(results_table.assign(case_id="C-1"), tmp_path / "x.csv", DONOR)
    with pytest.raises(PrivacyError, match="repeat the key"):
        write_indicators_csv(pd.concat([results_table, results_table]), tmp_path / "x.csv", DONOR)


def test_xlsx_has_a_sheet_per_pillar_and_notes(tmp_path, iptt):
    notes = {
        "Project": "Demo (p1)",
        "Period": "2026-Q2",
        "Suppression rule": "counts 1 to 4 hidden",
    }
    book = openpyxl.load_workbook(write_iptt_xlsx(iptt, tmp_path / "iptt.xlsx", notes, DONOR))
    assert book.sheetnames == ["Prevention", "Protection", "Prosecution", "Partnership", "Notes"]
    assert book["Prevention"]["A1"].value == "The project has selected no prevention indicator."
    assert [(r[0].value, r[1].value) for r in book["Notes"].iter_rows()] == list(notes.items())


def test_xlsx_formats_values_by_unit_and_status_as_text_and_colour(tmp_path, iptt):
    sheet = openpyxl.load_workbook(write_iptt_xlsx(iptt, tmp_path / "iptt.xlsx", {}, DONOR))[
        "Protection"
    ]
    header = [c.value for c in sheet[1]]
    assert "pillar" not in header and sheet.freeze_panes == "D2"
    assert sheet["A1"].font.bold
    cell = {name: sheet.cell(row=2, column=header.index(name) + 1) for name in header}
    assert cell["2026-Q2 actual"].value == 12 and cell["2026-Q2 actual"].number_format == "#,##0"
    assert cell["2026-Q2 % met"].number_format == '0"%"'
    assert cell["2026-Q2 status"].value == "ahead"
    assert cell["2026-Q2 status"].fill.fgColor.rgb == "00CCE3F0"
    share = {name: sheet.cell(row=3, column=header.index(name) + 1) for name in header}
    assert share["baseline"].value == 70 and share["baseline"].number_format == '0.0"%"'
    assert share["2026-Q2 actual"].value == "hidden (<5)"  # hidden, never a number
    assert share["2026-Q2 status"].value == "suppressed"
    assert share["2026-Q2 status"].fill.fgColor.rgb == "00F3DCEA"
    assert share["life_of_project status"].fill.fgColor.rgb == "00CCECE3"


ATTACKS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tcmd",
    "\rcmd",
]


def test_no_cell_of_the_csv_runs_as_a_formula(tmp_path, results_table):
    table = results_table.iloc[[0] * len(ATTACKS)].assign(
        category=ATTACKS, dimension=[f"d{i}" for i in range(len(ATTACKS))], value=-3.5
    )
    back = pd.read_csv(
        write_indicators_csv(table, tmp_path / "x.csv", DONOR), keep_default_na=False
    )
    assert back["category"].tolist() == [f"'{a}" for a in ATTACKS]  # OWASP: a leading quote
    assert back["value"].tolist() == [-3.5] * len(ATTACKS)  # negative numbers stay numbers


def test_no_cell_of_the_xlsx_runs_as_a_formula(tmp_path, iptt):
    attacked = iptt.assign(indicator=ATTACKS[:2], baseline=[-4.0, 70.0])
    path = write_iptt_xlsx(attacked, tmp_path / "iptt.xlsx", {"Project": ATTACKS[0]}, DONOR)
    book = openpyxl.load_workbook(path)
    sheet = book["Protection"]
    header = [c.value for c in sheet[1]]
    names = [sheet.cell(row=r, column=header.index("indicator") + 1) for r in (2, 3)]
    assert [c.value for c in names] == ATTACKS[:2] and all(c.data_type == "s" for c in names)
    assert book["Notes"]["B1"].data_type == "s"
    assert sheet.cell(row=2, column=header.index("baseline") + 1).value == -4  # a number
    assert "<f>" not in _sheet_xml(path)  # no formula anywhere in the workbook


def _sheet_xml(path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as book:
        return "".join(
            book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")
        )


def test_internal_files_say_so_in_their_first_rows(tmp_path, results_table, iptt):
    csv = write_indicators_csv(
        results_table.assign(audience="internal"), tmp_path / "x.csv", INTERNAL
    )
    assert csv.read_text().startswith("# INTERNAL: unsuppressed figures")
    assert len(pd.read_csv(csv, comment="#")) == len(results_table)
    book = openpyxl.load_workbook(write_iptt_xlsx(iptt, tmp_path / "i.xlsx", {}, INTERNAL))
    for name in book.sheetnames[:4]:
        assert book[name]["A1"].value.startswith("INTERNAL: unsuppressed figures")
