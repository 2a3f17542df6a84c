"""Readers of the files a source names: csv (encoding and delimiter detected), xlsx, parquet."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import htcds
from .convert import is_blank
from .project_model import Source
from .tables import Table, category_key

HEADER_SEARCH_ROWS = 20  # xlsx: rows searched for the header below merged title rows
NULL_MARKERS = ["", "NULL", "null", "N/A", "n/a", "#N/A"]  # not "NA": Namibia


class Unreadable(Exception):
    """A file or sheet that cannot be read at all."""

    def __init__(self, message: str, rule: str = "readable"):
        super().__init__(message)
        self.rule = rule


# -- readers -------------------------------------------------------------------------------------------------


def open_source(path: Path, source: Source, table: Table):
    """The reader for the source's format, or for the file's extension (format auto or htcds)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise Unreadable(f"file {str(path)!r} not found", rule="file exists")
    if source.format == "csv" or (
        source.format in ("auto", "htcds") and suffix in (".csv", ".tsv", ".txt")
    ):
        return _CsvFile(path, source)
    if source.format == "xlsx" or (
        source.format in ("auto", "htcds") and suffix in (".xlsx", ".xlsm")
    ):
        return _XlsxFile(path, source, table)
    if source.format == "parquet" or (source.format == "auto" and suffix in (".parquet", ".pq")):
        return _ParquetFile(path)
    raise Unreadable(
        f"cannot read {suffix or 'files without an extension'}: use csv, xlsx or parquet",
        rule="file format",
    )


class _CsvFile:
    """A csv file: encoding (utf-8, utf-8 with BOM, cp1252) and delimiter detected unless configured."""

    sheet = None

    def __init__(self, path: Path, source: Source):
        self.path, self.header_row = path, source.header_row
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if not head.strip():
            raise Unreadable(
                "the file is empty: expected a header row with the column names", rule="empty file"
            )
        self.fixed_encoding = source.encoding
        self.encoding = source.encoding or _guess_encoding(head)
        text = codecs.getincrementaldecoder(self.encoding)(errors="replace").decode(head)
        self.delimiter = source.delimiter or _sniff_delimiter(text.lstrip("\ufeff"))
        rows = list(
            itertools.islice(
                csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=self.delimiter),
                self.header_row + 1,
            )
        )
        if len(rows) < self.header_row:
            raise Unreadable(
                f"no row {self.header_row} to hold the column names (header_row)", rule="header row"
            )
        self.names = [name.strip() for name in rows[self.header_row - 1]]
        self.peek = rows[self.header_row] if len(rows) > self.header_row else None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        """The selected columns, types inferred; 'verbatim' ones that look numeric are read again as written."""
        if not selected:
            return pd.DataFrame(index=pd.RangeIndex(0, name="row"))
        frame = self._read(list(selected), {}, skip)
        verbatim = [
            name
            for name, how in selected.items()
            if how == "verbatim"
            and not (frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name]))
        ]
        if verbatim:  # e.g. ids with leading zeros, codes such as 01
            frame = frame.assign(**self._read(verbatim, dict.fromkeys(verbatim, object), skip))
        first = self.header_row + skip + 1
        return frame.set_axis(pd.RangeIndex(first, first + len(frame), name="row")).dropna(
            how="all"
        )

    def _read(self, columns: list[str], dtype: dict, skip: int) -> pd.DataFrame:
        """The columns (in file order) under our names; pandas finds the header row itself (header=None with
        skiprows and usecols reads several times slower)."""
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
            na_values=NULL_MARKERS,
        )
        if len(positions) == len(
            self.names
        ):  # without usecols, pandas reads a large file in parallel
            try:
                return self._read_csv({**options, "usecols": None}, positions)
            except Unreadable:
                pass  # e.g. a row longer than the header: read again, ignoring the extra fields as usecols does
        return self._read_csv(options, positions)

    def _read_csv(self, options: dict, positions: list[int]) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", pd.errors.DtypeWarning
            )  # mixed types are handled value by value
            warnings.simplefilter(
                "ignore", pd.errors.ParserWarning
            )  # fields beyond the header are not read
            try:
                frame = pd.read_csv(self.path, encoding=self.encoding, **options)
            except UnicodeDecodeError as error:
                if self.fixed_encoding:
                    raise Unreadable(f"cannot be read as {self.encoding}: {error}") from None
                self.encoding = "cp1252"  # the sampled head was utf-8, a later line is not
                frame = pd.read_csv(self.path, encoding=self.encoding, **options)
            except (pd.errors.ParserError, ValueError) as error:
                raise Unreadable(f"cannot be read as csv: {error}") from None
        return frame.set_axis([self.names[i] for i in positions], axis=1)


def _guess_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.split("\n", 1)[0]
        return max(",;\t|", key=header.count)


class _XlsxFile:
    """A sheet of an xlsx workbook; merged title rows above the header are skipped."""

    def __init__(self, path: Path, source: Source, table: Table):
        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise Unreadable(f"not a readable xlsx workbook ({error})") from None
        try:
            self._find_header(source, table)
        except Unreadable:
            self.book.close()
            raise

    def _find_header(self, source: Source, table: Table) -> None:
        sheets = self.book.sheetnames
        self.sheet = source.sheet or (htcds.CASE_SHEET if htcds.CASE_SHEET in sheets else sheets[0])
        if self.sheet not in sheets:
            raise Unreadable(
                f"no sheet {self.sheet!r}; the workbook has: {', '.join(sheets)}", rule="sheet"
            )
        self.worksheet = self.book[self.sheet]
        search = max(HEADER_SEARCH_ROWS, source.header_row + 1)
        top = list(itertools.islice(self.worksheet.iter_rows(values_only=True), search))
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
        self.names = [None if is_blank(v) else str(v).strip() for v in top[self.header_row - 1]]
        self.peek = top[self.header_row] if len(top) > self.header_row else None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        positions = [self.names.index(name) for name in selected]
        first = self.header_row + skip + 1
        rows, numbers = [], []
        try:
            for number, cells in enumerate(
                self.worksheet.iter_rows(min_row=first, values_only=True), start=first
            ):
                values = [cells[i] if i < len(cells) else None for i in positions]
                if not all(is_blank(v) for v in values):
                    rows.append(values)
                    numbers.append(number)
        finally:
            self.book.close()
        return pd.DataFrame(
            rows,
            columns=list(selected),
            index=pd.Index(numbers, name="row", dtype="int64"),
            dtype=object,
        )


def _find_header_row(top, source: Source, table: Table) -> int:
    """The configured header row, or the first row naming a known column when it names none."""
    known = {category_key(n) for n in (*source.columns, *table.column_names, *htcds.FIELDS)}

    def names_known(row):
        return any(not is_blank(v) and category_key(v) in known for v in row)

    configured = source.header_row
    if configured <= len(top) and names_known(top[configured - 1]):
        return configured
    found = next(
        (i for i, row in enumerate(top, start=1) if i > configured and names_known(row)), None
    )
    return found or configured


class _ParquetFile:
    """A parquet file; rows are numbered from 1."""

    sheet = None
    peek = None

    def __init__(self, path: Path):
        self.path = path
        try:
            self.names = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError) as error:
            raise Unreadable(f"not a readable parquet file ({error})") from None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        frame = pq.read_table(self.path, columns=list(selected)).to_pandas()
        return frame.set_axis(pd.RangeIndex(1, len(frame) + 1, name="row"))
