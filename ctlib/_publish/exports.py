"""A report's files for people and other systems: indicators.csv and a formatted iptt.xlsx.

Both take tables already fit for the audience (suppressed for donors) and refuse case-level ones
(`privacy.check_aggregated`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .._compute.privacy import check_aggregated
from .._data.tables import PILLARS

RESULT_KEY = ("project_id", "indicator_id", "period", "dimension", "category")
NUMBER_FORMATS = {
    "count": "#,##0",
    "percent": '0.0"%"',
    "ratio": "0.00",
    "rate": "#,##0.00",
    "score": "0.0",
    "yes_no": '[=1]"yes";[=0]"no";0',
}
ACHIEVEMENT_FORMAT = '0"%"'
STATUS_FILLS = {  # light tints of the Okabe–Ito colours used by the charts, with the status as text
    "above": "CCE3F0",
    "on track": "CCECE3",
    "below": "F7D7C2",
    "no target": "E6E6E6",
    "no data": "FBEACC",
    "incomplete": "DDF0FB",
    "suppressed": "F3DCEA",
}
COLUMN_WIDTHS = {
    "number": 5,
    "indicator_id": 10,
    "indicator": 48,
    "level": 9,
    "unit": 8,
    "direction": 10,
}
PERIOD_WIDTH = 11


def write_indicators_csv(table: pd.DataFrame, path: Path | str) -> Path:
    """indicators.csv: the results table for the audience, one row per indicator × period × category."""
    check_aggregated(table, RESULT_KEY, max_rows=None)
    path = Path(path)
    table.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def _value_columns(columns) -> list[str]:
    return [c for c in columns if c == "baseline" or c.endswith(" target") or c.endswith(" actual")]


def _write_sheet(sheet, rows: pd.DataFrame, k: int) -> None:
    """One pillar's IPTT rows: bold frozen header, unit formats, status as text and fill."""
    columns = [c for c in rows.columns if c != "pillar"]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = set(_value_columns(columns))
    for row in rows.itertuples(index=False):
        record = dict(zip(rows.columns, row))
        line = []
        for column in columns:
            value = record[column]
            hidden = column.endswith(" actual") and record[f"{column[:-7]} status"] == "suppressed"
            line.append(f"<{k}" if hidden else (None if pd.isna(value) else value))
        sheet.append(line)
        excel_row = sheet.max_row
        for position, column in enumerate(columns, start=1):
            cell = sheet.cell(excel_row, position)
            if column in values:
                cell.number_format = NUMBER_FORMATS.get(record["unit"], "General")
                cell.alignment = Alignment(horizontal="right")
            elif column.endswith(" % met"):
                cell.number_format = ACHIEVEMENT_FORMAT
            elif column.endswith(" status") and cell.value in STATUS_FILLS:
                cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[cell.value])
            elif column == "indicator":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for position, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = COLUMN_WIDTHS.get(
            column, PERIOD_WIDTH
        )
    sheet.freeze_panes = "D2"  # header row and number, id, indicator stay in view


def write_iptt_xlsx(iptt: pd.DataFrame, path: Path | str, notes: Mapping[str, str], k: int) -> Path:
    """iptt.xlsx: one sheet per pillar of the IPTT (`views.iptt`) and a notes sheet.

    `notes`: what the reader needs to trust the figures (project, period, audience, suppression
    rule, generated date, versions), written as two columns. Hidden actuals read `<k`.
    """
    check_aggregated(iptt, ("indicator_id",), max_rows=None)
    book = Workbook()
    book.remove(book.active)
    for pillar in PILLARS:
        sheet = book.create_sheet(pillar.capitalize())
        rows = iptt[iptt["pillar"] == pillar]
        if rows.empty:
            sheet.append([f"The project has selected no {pillar} indicator."])
        else:
            _write_sheet(sheet, rows, k)
    sheet = book.create_sheet("Notes")
    for field, value in notes.items():
        sheet.append([field, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90
    path = Path(path)
    book.save(path)
    return path
