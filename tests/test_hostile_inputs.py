"""Inputs as an attacker or a careless user brings them (issue "Hardening", inputs): each is refused
with a one-line message naming the file, or read right and said, never misread in silence."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from test_ingest import PROJECT

from ctlib._cli import main
from ctlib._data.ingest import load_project_data, read_table
from ctlib._data.project import load_project_file
from ctlib._data.project_model import Source
from ctlib._errors import ProjectError

HEADER = "case_id,identification_date,location\n"


def read(tmp_path: Path, name: str, content: bytes, **source):
    (tmp_path / name).write_bytes(content)
    return read_table(Source(file=name, **source), "cases", tmp_path, PROJECT)


def one_error(problems):
    [problem] = [p for p in problems if p.severity == "error"]
    assert "\n" not in str(problem)
    return problem


# -- files that are not what their name says -------------------------------------------------------


def test_random_bytes_named_csv(tmp_path):
    noise = bytes((i * 7919 + 13) % 256 for i in range(5000))
    frame, problems = read(tmp_path, "cases.csv", noise)
    problem = one_error(problems)
    assert (problem.file, problem.rule) == ("cases.csv", "file format")
    assert "not a text file" in problem.message and frame.empty


def test_a_workbook_named_csv(tmp_path):
    book = openpyxl.Workbook()
    book.save(tmp_path / "book.xlsx")
    _, problems = read(tmp_path, "cases.csv", (tmp_path / "book.xlsx").read_bytes())
    assert "zip file (an xlsx workbook?), not csv" in one_error(problems).message


def test_a_truncated_xlsx(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["case_id", "identification_date"])
    for n in range(2000):
        book.active.append([f"C{n}", "2024-01-05"])
    book.save(tmp_path / "whole.xlsx")
    data = (tmp_path / "whole.xlsx").read_bytes()
    _, problems = read(tmp_path, "cases.xlsx", data[: len(data) // 2])
    problem = one_error(problems)
    assert problem.file == "cases.xlsx" and "not a readable workbook" in problem.message


def test_an_xlsx_whose_sheet_xml_is_cut_off(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["case_id", "identification_date"])
    book.active.append(["C1", "2024-01-05"])
    book.save(tmp_path / "whole.xlsx")
    with zipfile.ZipFile(tmp_path / "whole.xlsx") as original:
        members = {item: original.read(item.filename) for item in original.infolist()}
    with zipfile.ZipFile(tmp_path / "cases.xlsx", "w") as cut:
        for item, content in members.items():
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            cut.writestr(item, content)
    _, problems = read(tmp_path, "cases.xlsx", (tmp_path / "cases.xlsx").read_bytes())
    problem = one_error(problems)
    assert problem.file == "cases.xlsx" and "cannot be read" in problem.message


# -- text encodings --------------------------------------------------------------------------------


def test_a_utf8_file_with_one_cp1252_byte_is_refused_not_turned_into_mojibake(tmp_path):
    rows = "".join(f"C{n},2024-01-05,Lomé\n" for n in range(3000)).encode("utf-8")  # > 64 KiB
    late = "C-last,2024-01-06,Séguéla\n".encode("cp1252")  # one line saved by another program
    _, problems = read(tmp_path, "cases.csv", HEADER.encode() + rows + late)
    problem = one_error(problems)
    assert (problem.file, problem.rule) == ("cases.csv", "encoding")
    assert (
        "line 3002 (byte 0xE9)" in problem.message
        and "save the whole file again as UTF-8" in problem.message
    )


def test_a_cp1252_file_is_still_read(tmp_path):
    rows = "".join(f"C{n},2024-01-05,Abuja\n" for n in range(3000)) + "C-last,2024-01-06,Séguéla\n"
    frame, problems = read(tmp_path, "cases.csv", (HEADER + rows).encode("cp1252"))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["location"].iloc[-1] == "Séguéla"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_excel_unicode_text_is_read(tmp_path, encoding):
    # Excel's "Unicode text": UTF-16 (with a byte-order mark) and tabs between fields
    text = "case_id\tidentification_date\tlocation\nC1\t2024-01-05\tLomé\nC2\t2024-01-06\tŁódź\n"
    frame, problems = read(tmp_path, "cases.txt", text.encode(encoding))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["location"].tolist() == ["Lomé", "Łódź"] and frame.index.tolist() == [2, 3]


# -- spreadsheets that hide their values -----------------------------------------------------------


def test_formulas_without_a_calculated_value_and_error_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append(["case_id", "identification_date", "age"])
    sheet.append(["C1", "2024-01-05", 30])
    sheet.append(["C2", "2024-01-05", "=C2+1"])  # written by a program: never calculated
    sheet.append(["C3", "2024-01-05", "#DIV/0!"])
    book.save(tmp_path / "cases.xlsx")
    _, problems = read(tmp_path, "cases.xlsx", (tmp_path / "cases.xlsx").read_bytes())
    found = sorted(
        (p.sheet, p.row, p.column, p.message) for p in problems if p.rule == "cell value"
    )
    assert found == [
        (
            "Cases",
            3,
            "age",
            "cell C3 holds a formula whose value was never calculated: its value cannot be read",
        ),
        ("Cases", 4, "age", "cell C4 holds the error #DIV/0!: its value cannot be read"),
    ]


# -- project.yaml ----------------------------------------------------------------------------------

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
project: *i
"""


def test_a_billion_laughs_project_yaml_is_refused_fast(tmp_path):
    (tmp_path / "project.yaml").write_text(BOMB, encoding="utf-8")
    began = time.perf_counter()
    with pytest.raises(ProjectError) as raised:
        load_project_file(tmp_path)
    assert time.perf_counter() - began < 5  # not a timing test of speed: minutes before the fix
    [problem] = raised.value.problems
    assert problem.rule == "yaml aliases" and "expand to more than" in problem.message
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "yaml aliases" in result.output


def test_a_few_aliases_are_fine(tmp_path):
    text = """\
project: {id: a, name: A, organisation: O, donor: D, country: NG,
          start_date: 2025-01-01, end_date: 2025-12-31}
results_chain: {objective: x}
indicators:
  - {id: PROT-02, targets: &quarterly {2025-Q1: 5, 2025-Q2: 5}}
  - {id: PROT-03, targets: *quarterly}
"""
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    selected = load_project_file(tmp_path).project.indicators[1]
    assert {label: selected.target(label) for label in selected.targets} == {
        "2025-Q1": 5,
        "2025-Q2": 5,
    }


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
    ],
)
def test_yaml_object_tags_are_refused(tmp_path, tagged):
    marker = tmp_path / "ran"
    text = (
        "project: {id: a, name: A, organisation: O, donor: D, country: NG,\n"
        "          start_date: 2025-01-01, end_date: 2025-12-31}\n"
        f"results_chain: {{objective: {tagged.format(marker=marker)}}}\n"
    )
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError):
        load_project_file(tmp_path)
    assert not marker.exists()


SMALL_PROJECT = (
    "project: {id: a, name: A, organisation: O, donor: D, country: NG,\n"
    "          start_date: 2025-01-01, end_date: 2025-12-31}\n"
    "results_chain: {objective: x}\n"
)


@pytest.mark.parametrize(
    "text, message, row",
    [
        (
            SMALL_PROJECT + "notes: a\x00b\n",
            "not valid YAML (line 4): the character U+0000 is not allowed in a YAML file",
            4,
        ),
        (
            SMALL_PROJECT + "notes: a\x07b\n",
            "not valid YAML (line 4): the character U+0007 is not allowed in a YAML file",
            4,
        ),
        (
            SMALL_PROJECT.replace("2025-01-01", "2025-02-30"),
            "a value cannot be read: day is out of range for month (a date that does not exist?)",
            None,
        ),
        (
            "base: &b {x: 1}\n" + SMALL_PROJECT.replace("project: {", "project: {<<: *b, "),
            "unknown key 'x'",
            2,
        ),
    ],
)
def test_a_project_yaml_that_yaml_readers_choke_on_says_what_is_wrong(tmp_path, text, message, row):
    """A character YAML forbids, a date that does not exist, a merged key the layout does not
    know: each a problem saying where, never a traceback."""
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError) as raised:
        load_project_file(tmp_path)
    found = {(p.message, p.row) for p in raised.value.problems}
    assert (message, row) in found, found
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_huge_project_yaml_is_refused(tmp_path):
    (tmp_path / "project.yaml").write_text("# " + "x" * (2 << 20) + "\n", encoding="utf-8")
    with pytest.raises(ProjectError) as raised:
        load_project_file(tmp_path)
    assert "larger than 1024 KiB" in raised.value.problems[0].message


# -- outputs that cannot be written ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["a file", "under a file", "cannot be created"])
def test_an_unusable_out_folder_is_a_one_line_error(tmp_path, kind):
    from conftest import SAMPLE_DIR

    (tmp_path / "afile").write_text("not a folder")
    out = {
        "a file": tmp_path / "afile",
        "under a file": tmp_path / "afile" / "reports",
        "cannot be created": Path("/proc/ctlib-reports"),
    }[kind]
    result = CliRunner().invoke(
        main, ["report", str(SAMPLE_DIR / "coast_outreach"), "--out", str(out)]
    )
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert (
        len(lines) == 1
        and lines[0].startswith(f"Error: --out {out}")
        and "Traceback" not in result.output
    )


def test_a_project_folder_is_not_changed_by_a_failed_load(tmp_path):
    (tmp_path / "project.yaml").write_text(BOMB, encoding="utf-8")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ProjectError):
        load_project_data(tmp_path)
    assert sorted(os.listdir(tmp_path)) == before
