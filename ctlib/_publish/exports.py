"""A report's files for people and other systems: indicators.csv and a formatted iptt.xlsx.

Both take tables already fit for the audience (suppressed for donors) and refuse case-level ones
(`privacy.check_aggregated`). No cell can run as a formula in the reader's spreadsheet: csv text
cells get OWASP's leading quote (`_format.csv_safe`), xlsx text cells are stored as explicit
strings; numbers, negative ones too, stay numbers. Number formats, hidden labels and status
fills come from the presentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .._compute.privacy import SUPPRESSED, check_aggregated
from .._data.tables import PILLARS
from .._format import csv_safe_frame, xlsx_cell
from .presentation import ACHIEVEMENT_EXCEL_FORMAT, Presentation, status_look
from .views import PERIOD_FIELDS

RESULT_KEY = ("project_id", "indicator_id", "period", "dimension", "category")
COLUMN_WIDTHS = {
    "number": 5,
    "indicator_id": 10,
    "indicator": 48,
    "level": 9,
    "unit": 8,
    "direction": 10,
}
PERIOD_WIDTH = 11


def write_indicators_csv(table: pd.DataFrame, path: Path | str, presentation: Presentation) -> Path:
    """indicators.csv: the results table for the audience, one row per
    indicator × period × category.

    An internal file starts with a `#` line saying so (read it with `comment="#"`).
    """
    check_aggregated(table, RESULT_KEY, max_rows=None)
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as file:
        if presentation.is_internal:
            file.write(f"# {presentation.internal_banner()}\r\n")
        csv_safe_frame(table).to_csv(  # RFC 4180 line ends: a CR inside a value gets quoted
            file, index=False, date_format="%Y-%m-%d", lineterminator="\r\n"
        )
    return path


def _append(sheet, values) -> int:
    """A row of `values` below the last one, written with `set_cell`; its row number."""
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    for position, value in enumerate(values, start=1):
        xlsx_cell(sheet.cell(row, position), value)
    return row


def _value_columns(columns) -> list[str]:
    return [c for c in columns if c == "baseline" or c.endswith(" target") or c.endswith(" actual")]


def _write_sheet(sheet, rows: pd.DataFrame, presentation: Presentation) -> None:
    """One pillar's IPTT rows: bold frozen header, unit formats, status as words and fill; a
    hidden actual reads as why it is hidden (the columns saying why are not written)."""
    helpers = tuple(f" {PERIOD_FIELDS[n]}" for n in ("suppression", "value_as_written"))
    columns = [c for c in rows.columns if c != "pillar" and not c.endswith(helpers)]
    header = _append(sheet, columns)
    for cell in sheet[header]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = set(_value_columns(columns))
    for record in rows.to_dict("records"):
        line = []
        for column in columns:
            value = record[column]
            period = column.removesuffix(" actual")
            hidden = column.endswith(" actual") and record[f"{period} status"] == SUPPRESSED
            if hidden:
                why, written = (record.get(f"{period}{suffix}") for suffix in helpers)
                value = presentation.hidden(
                    record["unit"], why if isinstance(why, str) else "primary", written
                )
            elif column.endswith(" status") and isinstance(value, str):
                value = presentation.status(value)
            line.append(None if not isinstance(value, str) and pd.isna(value) else value)
        row = _append(sheet, line)
        for position, column in enumerate(columns, start=1):
            cell = sheet.cell(row, position)
            if column in values:
                cell.number_format = presentation.excel_format(record["unit"])
                cell.alignment = Alignment(horizontal="right")
            elif column.endswith(" % met"):
                cell.number_format = ACHIEVEMENT_EXCEL_FORMAT
            elif column.endswith(" status") and isinstance(record[column], str):
                cell.fill = PatternFill("solid", fgColor=status_look(record[column]).fill)
            elif column == "indicator":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for position, column in enumerate(columns, start=1):
        width = COLUMN_WIDTHS.get(column, PERIOD_WIDTH)
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = sheet.cell(header + 1, 4)  # header row and number, id, indicator stay


def write_iptt_xlsx(
    iptt: pd.DataFrame, path: Path | str, notes: Mapping[str, str], presentation: Presentation
) -> Path:
    """iptt.xlsx: one sheet per pillar of the IPTT (`views.iptt`) and a notes sheet.

    `notes`: what the reader needs to trust the figures (project, period, audience, suppression
    rule, generated date, versions), written as two columns. Hidden actuals read as the
    presentation hides them; an internal workbook says so in the first row of every sheet.
    """
    check_aggregated(iptt, ("indicator_id",), max_rows=None)
    book = Workbook()
    book.remove(book.active)
    banner = presentation.internal_banner()
    for pillar in PILLARS:
        sheet = book.create_sheet(pillar.capitalize())
        if banner:
            _append(sheet, [banner])
            sheet.cell(1, 1).font = Font(bold=True, color="D55E00")
        rows = iptt[iptt["pillar"] == pillar]
        if rows.empty:
            _append(sheet, [f"The project has selected no {pillar} indicator."])
        else:
            _write_sheet(sheet, rows, presentation)
    sheet = book.create_sheet("Notes")
    for field, value in (({"Audience": banner} if banner else {}) | dict(notes)).items():
        row = _append(sheet, [field, value])
        sheet.cell(row, 1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90
    path = Path(path)
    book.save(path)
    return path
