"""Blank data templates (csv and xlsx) and the commented project.yaml that `ctlib new` writes.

Everything comes from the table declarations in `ctlib.tables`: the columns a user fills in, their
descriptions, and the allowed values offered as drop-down lists in Excel.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .tables import BOOLEAN, CATEGORY, TABLES, table

FORMS_FOLDER = "forms"  # the XLSForms of `ctlib new --xlsform`, in the project folder
TEMPLATE_ROWS = 5000  # rows below the header that get the drop-down lists
BOOLEAN_CHOICES = ("yes", "no")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
KIND_HINTS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "date": "date (YYYY-MM-DD or DD/MM/YYYY)",
    "boolean": "yes / no",
    "category": "one of the listed values",
    "country": "country: ISO 3166 code (NG) or name (Nigeria)",
}


def tables_needed(indicators) -> list[str]:
    """The standard tables the indicators' recipes read, in TABLES order.

    With the tables they link to.
    """
    needed = set()
    for indicator in indicators:
        method = indicator.method
        name = "reported_values" if method.measure == "reported" else method.table
        if name:
            needed.add(name)
            needed.update(target.split(".")[0] for target in table(name).foreign_keys.values())
    return [name for name in TABLES if name in needed]


def write_csv_template(table_name: str, path: Path) -> None:
    """A csv holding only the header row of the table's input columns."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([c.name for c in table(table_name).input_columns])


def write_xlsx_template(table_name: str, path: Path) -> None:
    """An xlsx with a styled, frozen header and drop-down lists.

    And a `notes` sheet describing each column.
    """
    columns = table(table_name).input_columns
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table_name
    lists = workbook.create_sheet("lists")
    notes = workbook.create_sheet("notes")
    notes.append(["column", "type", "required", "allowed values", "description"])
    list_column = 0
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        cell.comment = Comment(f"{column.description} ({KIND_HINTS[column.kind]})", "ctlib")
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.name) + 4)
        choices = (
            column.categories
            if column.kind == CATEGORY
            else BOOLEAN_CHOICES
            if column.kind == BOOLEAN
            else ()
        )
        if choices:
            list_column += 1
            letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=column.name)
            for row, choice in enumerate(choices, start=2):
                lists.cell(row=row, column=list_column, value=choice)
            validation = DataValidation(
                type="list",
                formula1=f"=lists!${letter}$2:${letter}${len(choices) + 1}",
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle=column.name,
                error=f"Pick one of: {', '.join(choices)}",
            )
            validation.add(
                f"{get_column_letter(index)}2:{get_column_letter(index)}{TEMPLATE_ROWS + 1}"
            )
            sheet.add_data_validation(validation)
        notes.append(
            [
                column.name,
                KIND_HINTS[column.kind],
                "yes" if column.required else "",
                ", ".join(choices),
                column.description,
            ]
        )
    for cell in notes[1]:
        cell.font = Font(bold=True)
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["D"].width = 40
    notes.column_dimensions["E"].width = 80
    sheet.freeze_panes = "A2"
    lists.sheet_state = "hidden"
    workbook.save(path)


def project_yaml(
    project_id: str, name: str, start: dt.date, end: dt.date, indicators, tables, forms=False
) -> str:
    """The text of a new project.yaml, every section explained in comments (and, with `forms`,
    how to read the submissions of the XLSForms in forms/)."""
    q = json.dumps  # a JSON string is a valid double-quoted YAML scalar
    lines = [
        f"# project.yaml of {name}: what the project is, what it measures, and where its data is.",
        (
            "# Written by `ctlib new`; replace the placeholders, keep the keys. Lines starting "
            "with # are notes."
        ),
        "",
        "# Who runs the project, for whom, where and when.",
        "project:",
        f"  id: {project_id}  # short name used in file and report names: a-z, 0-9, - and _",
        f"  name: {q(name)}",
        '  organisation: "Your organisation"',
        '  donor: "Your donor"',
        (
            "  country: XX  # ISO 3166 alpha-2 code of the project country, e.g. NG; decides "
            "is_foreign_national"
        ),
        f"  start_date: {start.isoformat()}  # YYYY-MM-DD",
        f"  end_date: {end.isoformat()}",
        "",
        "# How results are grouped into periods. Targets below are keyed by these period labels:",
        (
            "# calendar quarters 2026-Q1 ... (fiscal: FY2026-Q1), semesters 2026-S1, years 2026, "
            "and life_of_project."
        ),
        "reporting:",
        "  frequency: quarterly  # quarterly, semester or annual",
        "  calendar: calendar  # calendar, or fiscal (then set fiscal_year_start_month below)",
        (
            "  # fiscal_year_start_month: usg  # a fiscal year's first month: 1-12, or usg "
            "(October), uk (April) ..."
        ),
        "  # currency: USD  # ISO 4217 code of the amounts in your tables (budgets, compensation)",
        "",
        (
            "# Figures some indicators need besides your data, e.g. the population for rates per "
            "100,000."
        ),
        "# A rate by sex or age divides by that group's own population: give it under `by`, e.g.",
        "# {population: {total: 2500000, by: {sex: {female: 1270000, male: 1230000}}}}",
        "context: {}  # e.g. {population: 2500000}",
        "",
        "# The results chain: the objective, its outcomes, and the outputs under each outcome.",
        "# Every indicator below names the outcome or output (by id) that it measures.",
        "results_chain:",
        '  objective: "The change the project contributes to."',
        "  outcomes:",
        "    - id: outcome-1",
        '      statement: "The first outcome."',
        "      outputs:",
        "        - id: output-1.1",
        '          statement: "The first output of outcome 1."',
        "",
        "# The indicators the project reports, chosen from the catalogue (`ctlib catalogue`).",
        (
            "# baseline: value and date before the project; targets: per period label and "
            "life_of_project;"
        ),
        (
            "# disaggregations: the breakdowns to report, from those the indicator supports "
            "(listed beside it)."
        ),
    ]
    if not indicators:
        lines.append("indicators: []")
    else:
        lines.append("indicators:")
    for indicator in indicators:
        result = "outcome-1" if indicator.level in ("outcome", "impact") else "output-1.1"
        lines += [
            f"  - id: {indicator.id}  # {indicator.name}",
            f"    result: {result}",
            "    baseline: {value: null, date: null}",
            "    targets: {}  # e.g. {"
            + f"{start.year}-Q1: 10, {start.year}: 40, life_of_project: 120"
            + "}",
            (
                "    disaggregations: []  # supports: "
                f"{', '.join(indicator.disaggregations) or 'none'}"
            ),
        ]
    lines += [
        "",
        (
            "# Where each standard table comes from. The templates in data/ have the standard "
            "columns; to use"
        ),
        (
            "# your own files instead, point `file` at them and map your names and codes to the "
            "standard ones:"
        ),
        (
            '#   columns: {"Date registered": identification_date, Sexe: sex}   your column -> '
            "standard column"
        ),
        (
            "#   values: {sex: {F: female, M: male}}                            standard column -> "
            "your code -> value"
        ),
        "#   header_row: 3          the row holding the column names (xlsx and csv)",
        (
            '#   internal_only_columns: ["Caseworker phone"]   identifier-like columns you confirm '
            "may stay in the file"
        ),
        "# Files in the HTCDS v2 case-sheet layout are recognised and mapped without any of this.",
    ]
    if not tables:
        lines.append("sources: {}")
    else:
        lines.append("sources:")
    for table_name in tables:
        lines += [
            f"  {table_name}:  # {table(table_name).description}",
            f"    file: data/{table_name}.xlsx  # or data/{table_name}.csv",
            f"    sheet: {table_name}",
        ]
        if forms:
            lines += [
                (
                    f"    # collected with {FORMS_FOLDER}/{table_name}.xlsx? Then read the export "
                    "instead:"
                ),
                (
                    "    #   file: data/<the export>.xlsx, format: kobo   (KoboToolbox, XML values "
                    "and headers)"
                ),
                "    #   file: data/<the export>.csv, format: odk     (ODK Central)",
            ]
    lines += [
        "",
        (
            "# catalogue: my_indicators.yaml  # your team's own indicators, in the catalogue's "
            "YAML format"
        ),
        "",
        (
            "# Privacy: counts between 1 and min_cell_size - 1 are hidden in donor-facing outputs "
            "(at least 3),"
        ),
        "# with other cells hidden so that none can be worked out from every release made so far.",
        "# policy: rounding rounds every count to a multiple of rounding_base (3 or 5) instead.",
        "privacy:",
        "  min_cell_size: 5",
        "  policy: suppression",
        "",
        (
            "# The release ledger records what each donor release published and which periods are "
            "approved"
        ),
        (
            "# (`ctlib release`). By default it is .ctlib/releases.sqlite in this folder: back it "
            "up with the"
        ),
        (
            "# data, and keep it out of git (.gitignore). An organisation may keep it in "
            "PostgreSQL instead:"
        ),
        "#   database: postgresql://user@host/dbname   (the password in ~/.pgpass, not here)",
        "releases: {}",
        "",
        (
            "# Publishing the results to IATI (`ctlib export iati`): the activity's identifier "
            "starts with"
        ),
        (
            "# the reporting organisation's ref; type is an IATI organisation type (21 "
            "International NGO,"
        ),
        "# 22 National NGO, 10 Government, 40 Multilateral, ...).",
        "# iati:",
        "#   identifier: XM-DAC-00000-my-project",
        "#   reporting_org: {ref: XM-DAC-00000, type: '21', name: My organisation}",
        "",
    ]
    return "\n".join(lines)
