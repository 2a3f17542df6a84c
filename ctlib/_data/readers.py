"""Readers of the files a source names: csv (encoding and delimiter detected), spreadsheets
(xlsx, xlsm, xls, ods: python-calamine) and parquet.

What is refused, because reading it would change values without a word: a csv that is UTF-8
except for a few bytes of another encoding (re-read whole as cp1252 it would turn every `é`
into `Ã©`), rows longer than the header whose extra fields hold values (an unquoted delimiter
shifts the row), binary content under a csv name, spreadsheet formulas whose value was never
calculated and cells holding an error such as `#DIV/0!`. Excel's "Unicode text" (UTF-16) is
read. The stored size of a sheet is never trusted (a downloaded workbook may declare `A1`
while holding thousands of rows): python-calamine reads the cells themselves.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import python_calamine

from . import htcds
from .convert import as_text, is_blank
from .project_model import Source
from .tables import Table, category_key

HEADER_SEARCH_ROWS = 20  # rows searched for the header below title rows
NULL_MARKERS = ["", "NULL", "null", "N/A", "n/a", "#N/A"]  # not "NA": Namibia
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_FILES = (".csv", ".tsv", ".txt", ".tab")
LISTED_LINES = 5  # lines named in a message about a file's encoding or fields
# modes of reading a column: "typed" (numbers, dates as the reader finds them), "verbatim" (text as
# written: ids, codes with a value map), "as_written" (text as written, null markers included:
# numbers that may be source-suppressed or unavailable)
TYPED, VERBATIM, AS_WRITTEN = "typed", "verbatim", "as_written"


class Unreadable(Exception):
    """A file or sheet that cannot be read at all."""

    def __init__(self, message: str, rule: str = "readable"):
        super().__init__(message)
        self.rule = rule


# -- readers ---------------------------------------------------------------------------------------


def open_source(path: Path, source: Source, table: Table, sheet: str | None = None):
    """The reader for the source's format, or for the file's extension (other formats)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise Unreadable(f"file {str(path)!r} not found", rule="file exists")
    if source.format == "parquet" or (source.format == "auto" and suffix in (".parquet", ".pq")):
        return _ParquetFile(path)
    if source.format == "xlsx" or (source.format != "csv" and suffix in SPREADSHEETS):
        return _SpreadsheetFile(path, source, table, sheet)
    if source.format == "csv" or suffix in TEXT_FILES:
        return _CsvFile(path, source, table)
    raise Unreadable(
        f"cannot read {suffix or 'files without an extension'}: use csv, xlsx (xls, ods) or "
        "parquet",
        rule="file format",
    )


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook (for `sheet: "*"`)."""
    return _open_workbook(path).sheet_names


class _CsvFile:
    """A csv file: encoding (utf-8, utf-8 with BOM, utf-16, cp1252) and delimiter detected unless
    configured; the header row found below title rows."""

    sheet = None

    def __init__(self, path: Path, source: Source, table: Table):
        self.path = path
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if not head.strip():
            raise Unreadable(
                "the file is empty: expected a header row with the column names", rule="empty file"
            )
        self.fixed_encoding = source.encoding
        self.encoding = source.encoding or _guess_encoding(path, head)
        text = codecs.getincrementaldecoder(self.encoding)(errors="replace").decode(head)
        text = text.lstrip("\ufeff")
        self.delimiter = source.delimiter or _sniff_delimiter(text)
        search = max(HEADER_SEARCH_ROWS, source.header_row + 1)
        top = list(
            itertools.islice(csv.reader(io.StringIO(text), delimiter=self.delimiter), search)
        )
        if len(top) < source.header_row:
            raise Unreadable(
                f"no row {source.header_row} to hold the column names (header_row)",
                rule="header row",
            )
        self.header_row = _find_header_row(top, source, table)
        self.names = [name.strip() for name in top[self.header_row - 1]]
        self.peek = top[self.header_row] if len(top) > self.header_row else None
        self.long_rows: list[tuple[int, int, list[str]]] | None = None  # (line, fields, extra)

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        """The selected columns; verbatim ones that pandas typed are read again as written."""
        if not selected:
            return pd.DataFrame(index=pd.RangeIndex(0, name="row"))
        frame = self._read(list(selected), {}, skip, NULL_MARKERS)
        verbatim = [
            name
            for name, how in selected.items()
            if how == VERBATIM and not pd.api.types.is_string_dtype(frame[name])
        ]
        if verbatim:  # e.g. ids with leading zeros, codes such as 01
            frame = frame.assign(
                **self._read(verbatim, dict.fromkeys(verbatim, object), skip, NULL_MARKERS)
            )
        as_written = [name for name, how in selected.items() if how == AS_WRITTEN]
        if as_written:  # n/a and N/A are markers there, not empty cells
            frame = frame.assign(
                **self._read(as_written, dict.fromkeys(as_written, object), skip, [""])
            )
        first = self.header_row + skip + 1
        frame = frame.set_axis(pd.RangeIndex(first, first + len(frame), name="row"))
        # rows without a value are left out: none when the first column has a value in every row
        return frame.dropna(how="all") if frame.iloc[:, 0].hasnans else frame

    def _read(self, columns: list[str], dtype: dict, skip: int, nulls: list[str]) -> pd.DataFrame:
        """The columns (in file order) under our names; pandas finds the header row itself
        (header=None with skiprows and usecols reads several times slower)."""
        positions = sorted(
            self.names.index(name) for name in columns
        )  # a name used twice: its first column
        options = dict(
            sep=self.delimiter,
            header=self.header_row - 1,
            index_col=False,
            usecols=positions,
            dtype={self.names.index(name): kind for name, kind in dtype.items()},
            skiprows=[self.header_row] if skip else None,
            skip_blank_lines=False,
            keep_default_na=False,
            na_values=nulls,
        )
        if len(positions) == len(
            self.names
        ):  # without usecols, pandas reads a large file in parallel
            try:
                return self._read_csv({**options, "usecols": None}, positions)
            except _RowsTooLong:
                pass  # read again ignoring the extra fields, as usecols does; they are reported
        elif self.long_rows is None:
            self._find_long_rows()
        return self._read_csv(options, positions)

    def _read_csv(self, options: dict, positions: list[int]) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # handled value by value
            try:
                frame = pd.read_csv(self.path, encoding=self.encoding, **options)
            except UnicodeDecodeError as error:
                if self.fixed_encoding:
                    raise Unreadable(f"cannot be read as {self.encoding}: {error}") from None
                self.encoding = _encoding_after_the_head(self.path)
                frame = pd.read_csv(self.path, encoding=self.encoding, **options)
            except pd.errors.ParserError as error:
                if options["usecols"] is None and "Expected" in str(error):
                    self._find_long_rows()
                    raise _RowsTooLong() from None
                raise Unreadable(f"cannot be read as csv: {_first_line(error)}") from None
            except ValueError as error:
                raise Unreadable(f"cannot be read as csv: {_first_line(error)}") from None
        return frame.set_axis([self.names[i] for i in positions], axis=1)

    def cell_problems(self, selected) -> list:
        return []

    def _find_long_rows(self) -> None:
        """Rows with more fields than the header: (line, fields, their extra fields)."""
        width = len(self.names)
        self.long_rows = []
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            line = 1
            for fields in reader:
                if len(fields) > width:
                    self.long_rows.append((line, len(fields), fields[width:]))
                line = reader.line_num + 1


class _RowsTooLong(Exception):
    pass


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _guess_encoding(path: Path, head: bytes) -> str:
    """The encoding of a text file from its first bytes; Unreadable for binary content."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise Unreadable(
            "this is a zip file (an xlsx workbook?), not csv: name it .xlsx or set format: xlsx",
            rule="file format",
        )
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    controls = sum(byte < 32 and byte not in (9, 10, 13) for byte in head)
    if b"\x00" in head or controls > 0.01 * len(head):
        raise Unreadable(
            "not a text file: it holds binary bytes, not rows of text (is it a csv at all?)",
            rule="file format",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return _encoding_after_the_head(path)


def _encoding_after_the_head(path: Path) -> str:
    """cp1252 for a file with bytes that are not UTF-8, unless other lines are UTF-8 text:
    then the file mixes encodings, and reading it either way would garble some values."""
    not_utf8, utf8_text = [], False
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_text = True
            except UnicodeDecodeError as error:
                not_utf8.append((number, line[error.start : error.start + 1]))
            if utf8_text and not_utf8 and len(not_utf8) >= LISTED_LINES:
                break
    if not (utf8_text and not_utf8):
        return "cp1252"
    listed = ", ".join(f"line {number} (byte 0x{byte.hex().upper()})" for number, byte in not_utf8)
    raise Unreadable(
        f"the file is UTF-8 except for bytes in another encoding, at {listed}: "
        "re-type those characters, or save the whole file again as UTF-8",
        rule="encoding",
    )


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.split("\n", 1)[0]
        return max(",;\t|", key=header.count)


def _open_workbook(path: Path):
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine's errors (zip, xml, password) share no base class
        raise Unreadable(f"not a readable workbook ({_first_line(error)})") from None


class _SpreadsheetFile:
    """One sheet of a workbook; title rows above the header are skipped."""

    def __init__(self, path: Path, source: Source, table: Table, sheet: str | None):
        self.path = path
        book = _open_workbook(path)
        sheets = book.sheet_names
        self.sheet = sheet or (htcds.CASE_SHEET if htcds.CASE_SHEET in sheets else sheets[0])
        if self.sheet not in sheets:
            raise Unreadable(
                f"no sheet {self.sheet!r}; the workbook has: {', '.join(sheets)}", rule="sheet"
            )
        try:
            self.rows = book.get_sheet_by_name(self.sheet).to_python(skip_empty_area=False)
        except Exception as error:
            raise Unreadable(
                f"sheet {self.sheet!r} cannot be read ({_first_line(error)})"
            ) from None
        finally:
            book.close()
        search = max(HEADER_SEARCH_ROWS, source.header_row + 1)
        top = self.rows[:search]
        if not any(not is_blank(v) for row in top for v in row):
            raise Unreadable(
                "the sheet is empty: expected a header row with the column names", rule="empty file"
            )
        if source.header_row > len(top):
            raise Unreadable(
                f"no row {source.header_row} to hold the column names (header_row)",
                rule="header row",
            )
        self.header_row = _find_header_row(top, source, table)
        self.names = [None if is_blank(v) else as_text(v) for v in top[self.header_row - 1]]
        self.peek = top[self.header_row] if len(top) > self.header_row else None
        self.long_rows = None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        """The selected columns' cells (object arrays); blank cells, and null markers outside the
        columns read as written, are None; rows with no selected value are left out.

        Cells are judged once per distinct value of a column, as conversion is."""
        first = self.header_row + skip  # 0-based position of the first data row
        body, self.rows = self.rows[first:], []  # let go of the sheet's cells
        cells = _cell_block(body, len(self.names))
        columns, present = {}, np.zeros(len(body), dtype=bool)
        for name, how in selected.items():
            values = cells[:, self.names.index(name)]
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            blank = np.array(
                [is_blank(v) or (how != AS_WRITTEN and _is_null_marker(v)) for v in uniques],
                dtype=bool,
            )[codes]
            values[blank] = None
            columns[name] = values
            present |= ~blank
        numbers = np.arange(first + 1, first + 1 + len(body), dtype="int64")[present]
        return pd.DataFrame(
            {name: values[present] for name, values in columns.items()},
            columns=list(selected),
            index=pd.Index(numbers, name="row", dtype="int64"),
            dtype=object,
        )

    def cell_problems(self, selected) -> list[tuple[str, int, str, str]]:
        """(cell reference, row, column name, what is wrong) for formulas never calculated and
        error values in the selected columns below the header (xlsx and xlsm: the sheet's XML is
        searched; other formats cannot tell)."""
        if self.path.suffix.lower() not in (".xlsx", ".xlsm"):
            return []
        by_letters = {_column_letters(self.names.index(name)): name for name in selected}
        found = []
        for reference, problem in _uncalculated_cells(self.path, self.sheet):
            letters, row = re.match(r"([A-Z]+)(\d+)", reference).groups()
            if letters in by_letters and int(row) > self.header_row:
                found.append((reference, int(row), by_letters[letters], problem))
        return found


def _cell_block(rows: list[list], width: int) -> np.ndarray:
    """A sheet's rows as a 2-D object array at least `width` wide (calamine's rows are all as wide
    as the sheet's used range; shorter ones are padded with empty cells)."""
    width = max([width, *(len(row) for row in rows[:1])])
    if rows and all(len(row) == width for row in rows):
        block = np.empty((len(rows), width), dtype=object)
        block[:] = rows
        return block
    block = np.full((len(rows), max([width, *map(len, rows)])), "", dtype=object)
    for number, row in enumerate(rows):
        block[number, : len(row)] = row
    return block


def _is_null_marker(value) -> bool:
    return isinstance(value, str) and value in NULL_MARKERS


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


_FORMULA_WITHOUT_VALUE = re.compile(
    rb'<c r="([A-Z]+\d+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+\d+)"[^>]*\bt="e"[^>]*>.*?<v>([^<]*)</v>')


def _uncalculated_cells(path: Path, sheet: str) -> list[tuple[str, str]]:
    """Formula cells without a stored value, and cells holding an error, of one xlsx sheet."""
    with zipfile.ZipFile(path) as book:
        member = _sheet_member(book, sheet)
        if member is None:
            return []
        xml = book.read(member)
    if b"<f" not in xml and b't="e"' not in xml:
        return []
    found = [
        (match.group(1).decode(), "holds a formula whose value was never calculated")
        for match in _FORMULA_WITHOUT_VALUE.finditer(xml)
    ]
    found += [
        (match.group(1).decode(), f"holds the error {match.group(2).decode()}")
        for match in _ERROR_CELL.finditer(xml)
    ]
    return found


def _sheet_member(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding a sheet's cells, from the workbook's relationships."""
    workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
    relations = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    for attributes in re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", workbook):
        name = re.search(r'\bname="([^"]*)"', attributes)
        relation = re.search(r'\br:id="([^"]*)"', attributes)
        if name and relation and _xml_text(name.group(1)) == sheet:
            target = re.search(
                rf'<Relationship\b[^>]*\bId="{re.escape(relation.group(1))}"[^>]*\bTarget="([^"]*)"',
                relations,
            ) or re.search(
                rf'<Relationship\b[^>]*\bTarget="([^"]*)"[^>]*\bId="{re.escape(relation.group(1))}"',
                relations,
            )
            if target:
                path = target.group(1).lstrip("/")
                return path if path.startswith("xl/") else f"xl/{path}"
    return None


def _xml_text(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    ).replace("&amp;", "&")


def _find_header_row(top, source: Source, table: Table) -> int:
    """The configured header row, or the first row naming a known column when it names none."""
    known = {
        category_key(n)
        for n in (*source.columns, *table.column_names, *htcds.FIELDS, *_layout_names(source))
    }

    def names_known(row):
        return any(not is_blank(v) and category_key(v) in known for v in row)

    configured = source.header_row
    if configured <= len(top) and names_known(top[configured - 1]):
        return configured
    found = next(
        (i for i, row in enumerate(top, start=1) if i > configured and names_known(row)), None
    )
    return found or configured


def _layout_names(source: Source) -> list[str]:
    names = list(source.filter)
    if source.wide:
        names += list(source.wide.columns())
    if source.period:
        names.append(source.period.year)
    return names


class _ParquetFile:
    """A parquet file; rows are numbered from 1."""

    sheet = None
    peek = None
    long_rows = None

    def cell_problems(self, selected) -> list:
        return []

    def __init__(self, path: Path):
        self.path = path
        try:
            self.names = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError) as error:
            raise Unreadable(f"not a readable parquet file ({error})") from None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        try:
            frame = pq.read_table(self.path, columns=list(selected)).to_pandas()
        except (pa.ArrowInvalid, OSError) as error:
            raise Unreadable(f"not a readable parquet file ({_first_line(error)})") from None
        return frame.set_axis(pd.RangeIndex(1, len(frame) + 1, name="row"))
