"""Read a project's data files into the standard tables: csv, xlsx, parquet and HTCDS case sheets.

Each source of project.yaml is read, its column names and codes mapped to the standard ones, typed,
completed with derived columns and validated against `ctlib.tables`. Every problem of every file is
collected and reported at once, each with file, sheet, row (as the user sees it: the line of a csv,
the row of a sheet, the record number of a parquet file), column, value and rule. A table with an
error is never partly used, and ingestion writes nothing to disk.

Values are converted once per distinct value, not per row, so a million rows cost little more than
reading them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import itertools
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._errors import DataError, Problem, Problems
from . import htcds
from .project import load_project_file
from .project_data import ProjectData
from .project_model import Project, Source
from .tables import (
    BOOLEAN,
    CATEGORY,
    DATE,
    INTEGER,
    NUMBER,
    PANDAS_DTYPES,
    STRING,
    TABLES,
    Column,
    Table,
    age_group,
    category_key,
    child_adult,
)

BIRTH_DATE = Column(
    "birth_date", DATE, "Date of birth: turned into age at the table's date, never kept"
)
MAX_LISTED = 20  # rows listed per column and rule; the rest are counted
HEADER_SEARCH_ROWS = 20  # xlsx: rows searched for the header below merged title rows
NULL_MARKERS = ["", "NULL", "null", "N/A", "n/a", "#N/A"]  # not "NA": Namibia
TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
EARLIEST_DATE, LATEST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%y")

IDENTIFIER_NAMES = {
    "a person's name": r"^(full_|first_|last_|given_|family_|middle_|second_|maiden_|nick_|victim_|client_|"
    r"person_|survivor_|beneficiary_|participant_|respondent_|child_|guardian_)?names?$"
    r"|surname|forename|^nom$|^nombre|^prenom|^apellido",
    "an e-mail address": r"e_?mail",
    "a phone number": r"phone|mobile|telephone|(^|_)tel(_|$)|whatsapp|contact_(no|number)",
    "a passport or ID number": r"passport|national_id|(^|_)(id|identity)_(no|num|number|card)(_|$)"
    r"|(^|_)ssn(_|$)|social_security|document_(no|number)|birth_cert",
    "an address": r"(^|_)(home_|street_|postal_|mailing_)?address(_|$)|(^|_)street(_|$)",
    "a date of birth": r"date_of_birth|birth_?date|(^|_)dob(_|$)",
}
IDENTIFIER_VALUES = {
    "e-mail addresses": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$"),
    "phone numbers": re.compile(r"^(\+|00)\d[\d\s().-]{6,18}\d$|^0\d{2,4}([\s.-]?\d{2,4}){2,3}$"),
}
VALUE_SAMPLE = 1000  # values per text column checked against IDENTIFIER_VALUES
VALUE_SHARE = 0.2  # share of sampled values that makes a column look like identifiers


class _Unreadable(Exception):
    """A file or sheet that cannot be read at all."""

    def __init__(self, message: str, rule: str = "readable"):
        super().__init__(message)
        self.rule = rule


@dataclass
class _Origin:
    """Where a table came from, to say where each problem is."""

    file: str
    sheet: str | None = None
    columns: dict[str, str] = field(
        default_factory=dict
    )  # standard column -> the user's column name

    def label(self, standard: str) -> str:
        theirs = self.columns.get(standard, standard)
        return standard if theirs == standard else f"{theirs} ({standard})"

    def problem(self, message: str, **where) -> Problem:
        return Problem(message, file=self.file, sheet=self.sheet, **where)

    def row_problems(
        self, mask, values: pd.Series, column: str, rule: str, message, severity="error"
    ):
        """One problem per offending row (the first MAX_LISTED), then one counting the others."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return []
        listed = values[mask].iloc[:MAX_LISTED]
        problems = [
            self.problem(
                message(value),
                row=int(row),
                column=self.label(column),
                value=_scalar(value),
                rule=rule,
                severity=severity,
            )
            for row, value in listed.items()
        ]
        more = int(mask.sum()) - len(listed)
        if more > 0:
            problems.append(
                self.problem(
                    f"and {more} more row(s) with the same problem",
                    column=self.label(column),
                    rule=rule,
                    severity=severity,
                )
            )
        return problems


# -- public entry points -------------------------------------------------------------------------------------


def load_project_data(project_dir: str | Path) -> ProjectData:
    """The project, its catalogue and its validated standard tables; DataError listing every problem."""
    project_file = load_project_file(project_dir)
    project, directory = project_file.project, project_file.directory
    problems = Problems()
    tables, origins, failed = {}, {}, set()
    for table_name, source in project.sources.items():
        frame, found, origin = _read_source(source, table_name, directory, project)
        problems.extend(found)
        tables[table_name], origins[table_name] = frame, origin
        if any(p.severity == "error" for p in found):
            failed.add(table_name)
    problems.extend(_foreign_key_problems(tables, origins, failed))
    problems.raise_if_errors(DataError, f"The data of project {project.id!r} cannot be used")
    input_files = [project_file.path]
    if project.catalogue:
        input_files.append(directory / project.catalogue)
    input_files += [directory / source.file for source in project.sources.values()]
    return ProjectData(
        directory, project, project_file.catalogue, tables, problems.warnings, input_files
    )


def read_table(source: Source, table_name: str, project_dir: str | Path, project: Project):
    """(standard DataFrame, problems) for one source; the frame is empty when any problem is an error.

    The frame has every standard column of the table with its declared dtype; its index (`row`) is
    the row the user sees in the file.
    """
    frame, problems, _ = _read_source(source, table_name, Path(project_dir), project)
    return frame, problems


# -- one source ----------------------------------------------------------------------------------------------


def _read_source(source: Source, table_name: str, directory: Path, project: Project):
    table = TABLES[table_name]
    origin = _Origin(source.file)
    try:
        reader = _open(directory / source.file, source, table)
        origin.sheet = reader.sheet
        is_htcds = source.format == "htcds" or (
            source.format == "auto" and htcds.looks_like_htcds(reader.names)
        )
        mapping, problems = _map_columns(reader.names, table, source, is_htcds, origin)
        skip = int(
            is_htcds and reader.peek is not None and htcds.is_label_row(reader.names, reader.peek)
        )
        raw = reader.read(
            {name: _reading(table, target, source) for name, target in mapping.items()}, skip
        )
    except _Unreadable as error:
        return _empty(table, project), [origin.problem(str(error), rule=error.rule)], origin
    raw = raw.rename(columns=mapping)
    origin.columns = {target: name for name, target in mapping.items()}
    if is_htcds:
        raw, notes = htcds.prepare(raw)
        problems += [origin.problem(note, rule="htcds", severity="warning") for note in notes]
    frame, found = _standardise(raw, table, source, project, origin, is_htcds)
    problems += found
    if any(p.severity == "error" for p in problems):
        return _empty(table, project), problems, origin
    return frame, problems, origin


def _map_columns(names, table: Table, source: Source, is_htcds: bool, origin: _Origin):
    """The user's column -> standard column, with the problems of the header and of the column map."""
    problems = []
    accepted = {c.name for c in table.input_columns} | (
        {BIRTH_DATE.name} if "age" in table.column_names else set()
    )
    by_key = {category_key(name): name for name in accepted}
    derived = {category_key(c.name): c.name for c in table.columns if c.derived}
    htcds_fields = htcds.field_map(names) if is_htcds else {}
    internal = set(source.internal_only_columns)
    mapping, ignored, dropped = {}, [], []
    for their, target in source.columns.items():
        if target not in accepted:
            problems.append(
                Problem(
                    f"{target!r} is not a column of {table.name}; columns: "
                    f"{', '.join(sorted(accepted))}" + _closest(target, accepted),
                    file="project.yaml",
                    entry=f"sources.{table.name}.columns.{their}",
                    value=target,
                    rule="column map",
                )
            )
        elif their not in names:
            problems.append(
                origin.problem(
                    f"column {their!r} of the column map is not in the file; columns: "
                    f"{', '.join(str(n) for n in names if n)}",
                    column=their,
                    rule="column map",
                    severity="warning",
                )
            )
    for target in source.values:
        if target not in accepted:
            problems.append(
                Problem(
                    f"{target!r} is not a column of {table.name}" + _closest(target, accepted),
                    file="project.yaml",
                    entry=f"sources.{table.name}.values.{target}",
                    value=target,
                    rule="value map",
                )
            )
    for name in names:
        if not name:
            continue
        target = (
            source.columns.get(name) or htcds_fields.get(name) or by_key.get(category_key(name))
        )
        kind = (
            None if target == BIRTH_DATE.name else _identifier_kind(name)
        )  # a birth date only gives an age
        if (
            is_htcds
            and htcds.is_htcds_field(name)
            and (name in htcds.IDENTIFIER_FIELDS or (kind and not target))
        ):
            dropped.append(name)
            continue
        if kind and name not in internal and name not in accepted:
            problems.append(
                origin.problem(
                    f"column {name!r} looks like {kind}: direct identifiers are not loaded. Remove the column from "
                    f"the file, or, if it holds no identifiers, list it under sources.{table.name}."
                    f"internal_only_columns in project.yaml",
                    column=name,
                    rule="direct identifier",
                )
            )
            continue
        if target not in accepted:
            if category_key(name) in derived:
                problems.append(
                    origin.problem(
                        f"column {name!r} is ignored: ctlib derives "
                        f"{derived[category_key(name)]!r} itself",
                        column=name,
                        rule="derived column",
                        severity="warning",
                    )
                )
            else:
                ignored.append(name)
            continue
        clash = next((other for other, t in mapping.items() if t == target), None)
        if clash is not None:
            problems.append(
                origin.problem(
                    f"columns {clash!r} and {name!r} both map to {target!r}",
                    column=name,
                    rule="column map",
                )
            )
            continue
        mapping[name] = target
    if len(set(n for n in names if n)) < len([n for n in names if n]):
        twice = sorted({n for n in names if n and names.count(n) > 1})
        problems.append(
            origin.problem(
                f"column names used twice: {', '.join(twice)}", rule="unique column names"
            )
        )
    if dropped:
        problems.append(
            origin.problem(
                f"HTCDS fields with direct identifiers were not loaded: {', '.join(dropped)}",
                rule="direct identifier",
                severity="warning",
            )
        )
    if ignored:
        problems.append(
            origin.problem(
                f"columns without a standard column are ignored: {', '.join(ignored)} "
                f"(map them under sources.{table.name}.columns in project.yaml to use them)",
                rule="unmapped column",
                severity="warning",
            )
        )
    return mapping, problems


def _reading(table: Table, target: str, source: Source) -> str:
    """How a csv column is read: 'verbatim' (text as written: ids, codes with a value map) or 'typed'."""
    kind = BIRTH_DATE.kind if target == BIRTH_DATE.name else table.column(target).kind
    return "verbatim" if kind == STRING or target in source.values else "typed"


def _standardise(
    raw: pd.DataFrame,
    table: Table,
    source: Source,
    project: Project,
    origin: _Origin,
    is_htcds: bool,
):
    """Typed standard columns, derived columns, and every problem of the rows."""
    problems = []
    value_maps = {
        name: {**(htcds.VALUES.get(name, {}) if is_htcds else {}), **source.values.get(name, {})}
        for name in raw.columns
    }
    typed, index = {}, raw.index
    for name in list(raw.columns):
        values = raw.pop(name)  # each raw column is let go once typed, to keep the peak memory low
        column = BIRTH_DATE if name == BIRTH_DATE.name else table.column(name)
        identifiers = (
            name == table.key or name in table.foreign_keys
        )  # a distinct value in (almost) every row
        converted, bad = _convert(values, column, value_maps[name], identifiers)
        fallback = htcds.OTHER_WHEN_UNKNOWN.get(name) if is_htcds else None
        if bad.any() and fallback:
            converted = converted.mask(bad, fallback)
            problems.append(
                origin.problem(
                    f"{int(bad.sum())} value(s) that are not standard categories counted as "
                    f"{fallback!r}",
                    column=origin.label(name),
                    rule="category",
                    severity="warning",
                )
            )
        elif bad.any():
            message, rule = _conversion_message(column)
            problems += origin.row_problems(bad, values, name, rule, message)
        typed[name] = converted
        if name in table.required_columns:
            problems += origin.row_problems(
                converted.isna() & ~bad,
                values,
                name,
                "required value",
                lambda _: "empty value in a required column",
            )
        if column.minimum is not None and column.kind in (INTEGER, NUMBER):
            problems += origin.row_problems(
                (converted < column.minimum).fillna(False),
                values,
                name,
                "minimum",
                lambda _, m=column.minimum: f"must be at least {m:g}",
            )
    for name in table.required_columns:
        if name not in typed:
            problems.append(
                origin.problem(
                    f"missing required column {name!r}: add it to the file, or map your "
                    f"column to it under sources.{table.name}.columns in project.yaml",
                    column=name,
                    rule="required column",
                )
            )
    if BIRTH_DATE.name in typed:
        problems += _age_from_birth_date(typed, table, origin)
    problems += _duplicate_problems(typed, table, origin)
    problems += _period_warnings(typed, table, project, origin)
    problems += _identifier_value_problems(typed, table, source, origin)
    if is_htcds:
        typed = htcds.complete(typed)
    return _standard_frame(typed, table, project, index), problems


# -- converting values ---------------------------------------------------------------------------------------


def _convert(raw: pd.Series, column: Column, value_map: dict, identifiers: bool = False):
    """(typed series, mask of present values that could not be converted).

    Values are converted once per distinct value, except identifiers, which are only tidied.
    """
    if raw.dtype == object:
        raw = raw.map(_tidy_number, na_action="ignore")
    if identifiers and column.kind == STRING and not value_map:
        text = (raw if raw.dtype == "string" else raw.astype("string")).str.strip()
        return text.mask(text == ""), np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, uniques = (
            raw.cat.codes.to_numpy(),
            [*raw.cat.categories, None],
        )  # code -1 (missing): the last
    else:
        codes, uniques = pd.factorize(
            raw, use_na_sentinel=False
        )  # missing values get a code of their own
        uniques = [None if missing else value for value, missing in zip(uniques, pd.isna(uniques))]
    values = [None if _blank(value) else value for value in uniques]
    if value_map:
        lookup = _value_lookup(value_map)
        values = [lookup(value) for value in values]
    converted, bad = _CONVERTERS[column.kind](values, column)
    return pd.Series(converted.take(codes), index=raw.index), bad[codes]


def _to_category(values, column):
    keys = {category_key(c): c for c in column.categories}
    out = [None if v is None else keys.get(category_key(v)) for v in values]
    return pd.array(out, dtype="string"), np.array(
        [v is not None and o is None for v, o in zip(values, out)], dtype=bool
    )


def _to_string(values, column):
    out = [None if v is None else _text(v) for v in values]
    return pd.array(out, dtype="string"), np.zeros(len(values), dtype=bool)


def _to_boolean(values, column):
    def one(value):
        if value is None or isinstance(value, bool):
            return value
        word = _text(value).casefold()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else "bad"

    out = [one(v) for v in values]
    bad = np.array([o == "bad" and not isinstance(o, bool) for o in out], dtype=bool)
    return pd.array([None if b else o for o, b in zip(out, bad)], dtype="boolean"), bad


def _to_number(values, column):
    present = np.array([v is not None for v in values], dtype=bool)
    cleaned = [v.strip() if isinstance(v, str) else v for v in values]
    numbers = pd.to_numeric(pd.Series(cleaned, dtype=object), errors="coerce").astype("Float64")
    bad = present & numbers.isna().to_numpy()
    if column.kind == INTEGER:
        bad |= (numbers % 1 != 0).fillna(False).to_numpy()
        return numbers.mask(bad).round().astype("Int64").array, bad
    return numbers.mask(bad).array, bad


def _to_date(values, column):
    stamps = pd.Series(
        [pd.Timestamp(v) if isinstance(v, (dt.date, np.datetime64)) else pd.NaT for v in values],
        dtype=object,
    )
    texts = pd.Series([v.strip() if isinstance(v, str) else None for v in values], dtype=object)
    dates = _plausible(pd.to_datetime(stamps, errors="coerce"))
    for date_format in ("ISO8601", *DAY_FIRST_FORMATS):
        left = texts.notna() & dates.isna()
        if not left.any():
            break
        dates = dates.fillna(
            _plausible(pd.to_datetime(texts[left], format=date_format, errors="coerce"))
        )
    present = np.array([v is not None for v in values], dtype=bool)
    return dates.array, present & dates.isna().to_numpy()


def _plausible(dates: pd.Series) -> pd.Series:
    """Dates between EARLIEST_DATE and LATEST_DATE (others are typos) as datetime64[ns]."""
    return dates.where((dates >= EARLIEST_DATE) & (dates <= LATEST_DATE)).astype("datetime64[ns]")


_CONVERTERS = {
    CATEGORY: _to_category,
    STRING: _to_string,
    BOOLEAN: _to_boolean,
    INTEGER: _to_number,
    NUMBER: _to_number,
    DATE: _to_date,
}


def _conversion_message(column: Column):
    """(message for a bad value, rule) by the column's kind."""
    if column.kind == CATEGORY:
        allowed = ", ".join(column.categories)

        def unknown(value):
            closest = difflib.get_close_matches(
                str(value).strip().casefold(), column.categories, n=1, cutoff=0.5
            )
            hint = f"; closest: {closest[0]!r}" if closest else ""
            return f"unknown category {value!r}; allowed: {allowed}{hint} (or map it under values in project.yaml)"

        return unknown, "category"
    if column.kind == DATE:
        return (lambda value: f"{value!r} is not a date; write YYYY-MM-DD or DD/MM/YYYY"), "date"
    expected = {BOOLEAN: "yes or no", INTEGER: "a whole number", NUMBER: "a number"}[column.kind]
    return (lambda value: f"{value!r} is not {expected}"), "type"


def _value_lookup(value_map: dict):
    """Their code -> standard value: exact match first, then ignoring case, spaces and punctuation."""
    exact = {_text(key): value for key, value in value_map.items()}
    loose = {category_key(key): value for key, value in value_map.items()}

    def lookup(value):
        if value is None:
            return None
        text = _text(value)
        return exact.get(text, loose.get(category_key(text), value))

    return lookup


def _tidy_number(value):
    """Excel's 101.0 as 101, so that ids and codes typed as numbers read as the user sees them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(value) -> str:
    return str(_tidy_number(value)).strip()


def _blank(value) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and np.isnan(value))
    )


def _scalar(value):
    """A plain Python value for a Problem (None when missing)."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


# -- checks across rows --------------------------------------------------------------------------------------


def _age_from_birth_date(typed: dict, table: Table, origin: _Origin):
    """Fill missing ages from the birth date at the table's date; the birth date is then dropped."""
    birth = typed.pop(BIRTH_DATE.name)
    on = typed.get(table.date_columns_in_period[0]) if table.date_columns_in_period else None
    if on is None:
        return [
            origin.problem(
                "a birth date needs the table's date to give an age",
                column=origin.label(BIRTH_DATE.name),
                rule="birth date",
            )
        ]
    before_birthday = (on.dt.month < birth.dt.month) | (
        (on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day)
    )
    age = (
        on.dt.year.astype("Int64") - birth.dt.year.astype("Int64") - before_birthday.astype("Int64")
    )
    negative = (age < 0).fillna(False)
    typed["age"] = typed["age"].fillna(age.mask(negative)) if "age" in typed else age.mask(negative)
    return origin.row_problems(
        negative,
        birth,
        BIRTH_DATE.name,
        "birth date",
        lambda _: "birth date after the table's date",
    )


def _duplicate_problems(typed: dict, table: Table, origin: _Origin):
    if table.name == "reported_values":
        key = ["indicator_id", "period", "dimension", "category"]
        if not {"indicator_id", "period"} <= typed.keys():
            return []
        parts = pd.DataFrame({k: typed[k] if k in typed else pd.NA for k in key}).fillna("")
        duplicated = parts.duplicated(keep="first").to_numpy()
        labels = parts.agg(" / ".join, axis=1) if duplicated.any() else parts["indicator_id"]
        return origin.row_problems(
            duplicated,
            labels,
            "indicator_id",
            "duplicate id",
            lambda v: f"a second figure for {v} (indicator / period / dimension / category)",
        )
    if not table.key or table.key not in typed:
        return []
    ids = typed[table.key]
    if not ids.hasnans and (_increasing(ids) or ids.is_unique):
        return []
    duplicated = (ids.duplicated(keep="first") & ids.notna()).to_numpy()

    def message(value):
        first = ids.index[(ids == value).fillna(False).to_numpy()][0]
        return f"{table.key} {value!r} is used twice (first in row {first})"

    return origin.row_problems(duplicated, ids, table.key, "duplicate id", message)


def _increasing(values: pd.Series) -> bool:
    """Each value greater than the one before, so none is repeated: a register in id order needs no hashing."""
    values = values.array
    return bool((values[1:] > values[:-1]).all())


def _period_warnings(typed: dict, table: Table, project: Project, origin: _Origin):
    start, end = pd.Timestamp(project.project.start_date), pd.Timestamp(project.project.end_date)
    problems = []
    for name in table.date_columns_in_period:
        if name in typed:
            outside = ((typed[name] < start) | (typed[name] > end)).fillna(False).to_numpy()
            shown = typed[name][outside].dt.strftime("%Y-%m-%d")
            problems += origin.row_problems(
                np.ones(len(shown), dtype=bool),
                shown,
                name,
                "date in project period",
                lambda v: f"{v} is outside the project period {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                severity="warning",
            )
    return problems


def _identifier_value_problems(typed: dict, table: Table, source: Source, origin: _Origin):
    """Text columns whose values look like e-mail addresses or phone numbers (a sample is checked)."""
    internal = set(source.internal_only_columns)
    problems = []
    for name, values in typed.items():
        if table.column(name).kind != STRING or origin.columns.get(name) in internal:
            continue
        sample = values.dropna().iloc[:VALUE_SAMPLE]
        for what, pattern in IDENTIFIER_VALUES.items():
            matches = sample[sample.map(lambda v, pattern=pattern: bool(pattern.match(v)))]
            if len(sample) and len(matches) >= max(1, VALUE_SHARE * len(sample)):
                problems.append(
                    origin.problem(
                        f"values look like {what} (e.g. row {matches.index[0]}): direct identifiers are not loaded. "
                        f"Replace them with pseudonymous codes, or, if they are not identifiers, list the column "
                        f"under sources.{table.name}.internal_only_columns in project.yaml",
                        column=origin.label(name),
                        rule="direct identifier",
                    )
                )
    return problems


def _foreign_key_problems(tables: dict, origins: dict, failed: set):
    """Rows that point to a record missing from the linked table (e.g. a service of an unknown case)."""
    problems = []
    for name, frame in tables.items():
        for column, target in TABLES[name].foreign_keys.items():
            target_table, target_column = target.split(".")
            if target_table not in tables or {name, target_table} & failed:
                continue
            unknown = (
                frame[column].notna() & ~frame[column].isin(tables[target_table][target_column])
            ).to_numpy()
            problems += origins[name].row_problems(
                unknown,
                frame[column],
                column,
                "foreign key",
                lambda v, t=target_table, c=target_column: f"no {t} record has {c} {v!r}",
            )
    return problems


# -- derived columns -----------------------------------------------------------------------------------------


def _standard_frame(typed: dict, table: Table, project: Project, index: pd.Index) -> pd.DataFrame:
    """Every standard column in declared order and dtype, derived ones filled; the ones the source lacks are empty."""
    columns = {
        c.name: typed[c.name].astype(PANDAS_DTYPES[c.kind])
        if c.name in typed
        else pd.Series(index=index, dtype=PANDAS_DTYPES[c.kind])
        for c in table.columns
        if not c.derived
    }
    columns.update(_derive(columns, table, project))
    frame = pd.DataFrame({c.name: columns[c.name] for c in table.columns}, index=index, copy=False)
    frame.index.name = "row"
    return frame


def _derive(columns: dict, table: Table, project: Project) -> dict:
    """The derived columns of a table (and participants_total where it is missing) from its other columns."""
    names = table.column_names
    derived = {}
    if "age_group" in names:
        derived["age_group"], derived["child_adult"] = _by_distinct(
            columns["age"], age_group, child_adult
        )
    if "is_foreign_national" in names:
        country = project.project.country.upper()
        [derived["is_foreign_national"]] = _by_distinct(
            columns["nationality"], lambda codes: (codes.str.upper() != country).astype("boolean")
        )
    if "days_to_referral_acceptance" in names:
        waited = columns["referral_accepted_date"].to_numpy() - columns["referral_date"].to_numpy()
        days = waited.astype(
            "timedelta64[D]"
        )  # whole days, rounded down like Timedelta.days; NaT stays NaT
        derived["days_to_referral_acceptance"] = pd.Series(
            pd.arrays.IntegerArray(days.view("int64"), np.isnat(days)),
            index=columns["referral_date"].index,
        )
    if "is_completed_on_time" in names:
        on_time = (columns["end_date"] <= columns["planned_end_date"]).astype("boolean")
        on_time = on_time.mask(columns["end_date"].isna() | columns["planned_end_date"].isna())
        derived["is_completed_on_time"] = on_time.mask(
            columns["is_completed"].eq(False).fillna(False), False
        )
    if "participants_total" in names:
        female, male = columns["participants_female"], columns["participants_male"]
        both_missing = female.isna() & male.isna()
        derived["participants_total"] = columns["participants_total"].fillna(
            (female.fillna(0) + male.fillna(0)).mask(both_missing)
        )
    return derived


def _by_distinct(values: pd.Series, *functions) -> list[pd.Series]:
    """Each function(values), computed once per distinct value (ages and codes repeat a lot)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    distinct = pd.Series(distinct, dtype=values.dtype)
    return [
        pd.Series(function(distinct).array.take(codes), index=values.index)
        for function in functions
    ]


def _empty(table: Table, project: Project) -> pd.DataFrame:
    return _standard_frame({}, table, project, pd.Index([], dtype="int64"))


# -- readers -------------------------------------------------------------------------------------------------


def _open(path: Path, source: Source, table: Table):
    """The reader for the source's format, or for the file's extension (format auto or htcds)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise _Unreadable(f"file {str(path)!r} not found", rule="file exists")
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
    raise _Unreadable(
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
            raise _Unreadable(
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
            raise _Unreadable(
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
            except _Unreadable:
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
                    raise _Unreadable(f"cannot be read as {self.encoding}: {error}") from None
                self.encoding = "cp1252"  # the sampled head was utf-8, a later line is not
                frame = pd.read_csv(self.path, encoding=self.encoding, **options)
            except (pd.errors.ParserError, ValueError) as error:
                raise _Unreadable(f"cannot be read as csv: {error}") from None
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
            raise _Unreadable(f"not a readable xlsx workbook ({error})") from None
        try:
            self._find_header(source, table)
        except _Unreadable:
            self.book.close()
            raise

    def _find_header(self, source: Source, table: Table) -> None:
        sheets = self.book.sheetnames
        self.sheet = source.sheet or (htcds.CASE_SHEET if htcds.CASE_SHEET in sheets else sheets[0])
        if self.sheet not in sheets:
            raise _Unreadable(
                f"no sheet {self.sheet!r}; the workbook has: {', '.join(sheets)}", rule="sheet"
            )
        self.worksheet = self.book[self.sheet]
        search = max(HEADER_SEARCH_ROWS, source.header_row + 1)
        top = list(itertools.islice(self.worksheet.iter_rows(values_only=True), search))
        if not any(not _blank(v) for row in top for v in row):
            raise _Unreadable(
                "the sheet is empty: expected a header row with the column names", rule="empty file"
            )
        if source.header_row > len(top):
            raise _Unreadable(
                f"no row {source.header_row} to hold the column names (header_row)",
                rule="header row",
            )
        self.header_row = _find_header_row(top, source, table)
        self.names = [None if _blank(v) else str(v).strip() for v in top[self.header_row - 1]]
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
                if not all(_blank(v) for v in values):
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
        return any(not _blank(v) and category_key(v) in known for v in row)

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
            raise _Unreadable(f"not a readable parquet file ({error})") from None

    def read(self, selected: dict[str, str], skip: int) -> pd.DataFrame:
        frame = pq.read_table(self.path, columns=list(selected)).to_pandas()
        return frame.set_axis(pd.RangeIndex(1, len(frame) + 1, name="row"))


def _identifier_kind(name: str) -> str | None:
    """What kind of direct identifier a column name suggests, if any."""
    snake = re.sub(r"[^0-9a-z]+", "_", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()).strip(
        "_"
    )
    return next(
        (kind for kind, pattern in IDENTIFIER_NAMES.items() if re.search(pattern, snake)), None
    )


def _closest(word: str, candidates) -> str:
    match = difflib.get_close_matches(word, sorted(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""
