"""Read a project's data files into the standard tables: csv, spreadsheets, parquet, HTCDS case
sheets, and KoboToolbox and ODK Central exports.

Each table's source (or list of sources) names one or more files (a pattern such as
`data/2025-Q*.csv`) and sheets; each file and sheet is a part, read and validated on its own and
keeping its own name in messages, then appended. Within a part: read, filter rows, take the
period from its columns, map column names and codes to the standard ones, join a repeat group
to its parent rows, type (once per distinct value), unpivot one-column-per-category layouts,
derive columns, validate. Every problem of every file is collected and reported at once, each
with file, sheet, row (as the user sees it: the line of a csv, the row of a sheet, the record
number of a parquet file), column, value and rule. A table with an error is never partly used,
and ingestion writes nothing to disk.

The steps live in their own modules: `paths` (which files), `readers` (files), `maps` (column and
value maps), `layouts` (filters, periods over columns, wide tables, 0/1 choice columns), `forms`
(Kobo and ODK exports), `convert` (typed values), `derive` (the standard frame and derived
columns), `validate` (checks across rows and tables) and `origin` (where each problem is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataError, Problem, Problems
from . import forms, htcds
from .convert import Reading, as_text, conversion_message, convert
from .derive import (
    BY_DISTINCT,
    age_from_birth_date,
    derive_linked,
    empty_standard_frame,
    provided_columns,
    standard_frame,
)
from .layouts import filter_rows, option_cells, period_labels
from .maps import (
    BIRTH_DATE,
    ColumnMap,
    layout_columns,
    map_columns,
    reading_mode,
    source_map_problems,
)
from .origin import Origin, TableOrigin
from .paths import allowed_folders, expand, shown
from .project import load_project_file
from .project_data import ProjectData
from .project_model import Project, Source
from .readers import AS_WRITTEN, VERBATIM, Unreadable, open_source, sheet_names
from .tables import (
    INTEGER,
    NUMBER,
    SOURCE_SUPPRESSED,
    TABLES,
    UNAVAILABLE,
    Table,
)
from .threads import in_threads
from .validate import (
    duplicate_problems,
    foreign_key_problems,
    identifier_value_problems,
    period_warnings,
)

AGGREGATES = "reported_values"  # the table of figures reported directly (tally sheets, statistics)

# -- public entry points ---------------------------------------------------------------------------


def load_project_data(project_dir: str | Path) -> ProjectData:
    """The project, its catalogue and its validated standard tables.

    DataError listing every problem.
    """
    project_file = load_project_file(project_dir)
    project, directory = project_file.project, project_file.directory
    problems = Problems()
    tables, origins, provided, failed, links, files = {}, {}, {}, set(), {}, []
    for table_name in _reading_order(project):
        read = _read_table(project.sources[table_name], table_name, directory, project, links)
        problems.extend(read.problems)
        tables[table_name], origins[table_name] = read.frame, read.origin
        provided[table_name], links[table_name] = read.provided, read.links
        files += read.files
        if any(p.severity == "error" for p in read.problems):
            failed.add(table_name)
    problems.extend(foreign_key_problems(tables, origins, failed))
    problems = Problems([project_file.located(p) for p in problems.items])
    problems.raise_if_errors(DataError, f"The data of project {project.id!r} cannot be used")
    tables = derive_linked(tables, project)
    input_files = [project_file.path]
    if project.catalogue:
        input_files.append(directory / project.catalogue)
    return ProjectData(
        directory,
        project,
        project_file.catalogue,
        tables,
        problems.warnings,
        input_files + list(dict.fromkeys(files)),
        origins,
        provided,
    )


def read_table(source: Source, table_name: str, project_dir: str | Path, project: Project):
    """(standard DataFrame, problems) for one source.

    The frame is empty when any problem is an error.

    The frame has every standard column of the table with its declared dtype; its index (`row`) is
    the row the user sees in the file.
    """
    read = _read_table(source, table_name, Path(project_dir), project, {})
    return read.frame, read.problems


def _reading_order(project: Project) -> list[str]:
    """The tables with sources, each repeat group after the table it belongs to."""
    order = list(project.sources)
    parents = {
        name: {s.repeat_of for s in project.source_list(name) if s.repeat_of} for name in order
    }
    return sorted(order, key=lambda name: (bool(parents[name]), order.index(name)))


# -- one table -------------------------------------------------------------------------------------


@dataclass
class _Read:
    """A table or one part of it, read."""

    frame: pd.DataFrame
    problems: list[Problem]
    origin: TableOrigin | Origin
    provided: frozenset[str] = frozenset()
    links: dict = field(default_factory=dict)  # kobo/odk: export file -> {row key -> link value}
    files: list[Path] = field(default_factory=list)


def _read_table(
    sources: Source | list[Source], table_name: str, directory: Path, project: Project, links
):
    """A table from its source, or list of sources appended."""
    table = TABLES[table_name]
    folders = allowed_folders(directory, project.data_folders)
    entries = [f"sources.{table_name}"]
    if isinstance(sources, list):
        entries = [f"sources.{table_name}[{position}]" for position in range(len(sources))]
    else:
        sources = [sources]
    parts, problems = [], []
    for source, entry in zip(sources, entries):
        problems += source_map_problems(table, source, entry)
        for written in source.files:
            paths, why = expand(written, directory, folders)
            if why:
                problems.append(Problem(why, file=written, rule="file exists"))
            for path in paths:
                for sheet in _sheets(source, path, problems, shown(path, directory)):
                    parts.append(_read_part(source, table, path, sheet, directory, project, links))
    problems += [p for part in parts for p in part.problems]
    if not parts:
        origin = TableOrigin([Origin(sources[0].files[0])], np.zeros(0, dtype=int))
        return _Read(empty_standard_frame(table, project), problems, origin)
    frame = pd.concat([part.frame for part in parts]) if len(parts) > 1 else parts[0].frame
    origin = TableOrigin.combine(
        [part.origin for part in parts], [len(part.frame) for part in parts]
    )
    problems += duplicate_problems(frame, table, origin)
    merged_links = {}
    for part in parts:
        merged_links.update(part.links)
    provided = frozenset().union(*(part.provided for part in parts))
    if any(p.severity == "error" for p in problems):
        return _Read(
            empty_standard_frame(table, project),
            problems,
            origin,
            provided,
            merged_links,
            _files(parts),
        )
    return _Read(frame, problems, origin, provided, merged_links, _files(parts))


def _files(parts) -> list[Path]:
    return [path for part in parts for path in part.files]


def _sheets(source: Source, path: Path, problems: list, name: str) -> list[str | None]:
    """The sheets a source reads in a workbook: its `sheet` (a list, or "*" for all)."""
    if source.sheet != "*" and "*" not in source.sheets:
        return source.sheets
    try:
        return sheet_names(path)
    except Unreadable as error:
        problems.append(Problem(str(error), file=name, rule=error.rule))
        return []


# -- one part (a file, or a sheet of a workbook) ---------------------------------------------------


def _read_part(
    source: Source, table: Table, path: Path, sheet, directory: Path, project: Project, links
) -> _Read:
    origin = Origin(shown(path, directory), sheet)
    export = source.format if source.format in (forms.KOBO, forms.ODK) else None
    try:
        reader = open_source(path, source, table, sheet)
        origin.sheet = reader.sheet
        is_htcds = source.format == "htcds" or (
            source.format == "auto" and htcds.looks_like_htcds(reader.names)
        )
        columns, problems = map_columns(reader.names, table, source, is_htcds, origin)
        skip = int(
            is_htcds and reader.peek is not None and htcds.is_label_row(reader.names, reader.peek)
        )
        selected = _selected(columns, table, source, reader.names)
        raw = reader.read(selected, skip)
    except Unreadable as error:
        problem = origin.problem(str(error), rule=error.rule)
        return _Read(empty_standard_frame(table, project), [problem], origin, files=[path])
    problems += _long_row_problems(reader, origin)
    problems += [
        origin.problem(
            f"cell {reference} {what}: its value cannot be read",
            row=row,
            column=name,
            rule="cell value",
        )
        for reference, row, name, what in reader.cell_problems(selected)
    ]
    raw, found = filter_rows(raw, source, origin)
    problems += found
    if source.period and all(c in raw for c in source.period.columns()):
        labels, inside, found = period_labels(raw, source, project, origin)
        problems += found
        raw = raw.assign(**{_PERIOD: labels})[inside | labels.isna().to_numpy()]
    raw, own_links, found = _export_rows(raw, columns, source, table, export, links, origin)
    problems += found
    options, found = option_cells(raw, columns.options, origin)
    problems += found
    mapping = dict(columns.mapping)
    if source.period:
        mapping[_PERIOD] = "period"
    raw = raw.rename(columns=mapping).assign(**options)
    origin.columns = {target: name for name, target in mapping.items()}
    raw = raw.assign(**{name: value for name, value in source.constants.items()})
    if is_htcds:
        raw, notes = htcds.prepare(raw)
        notes += [note for note in [htcds.identification_note(reader.names)] if note]
        problems += [origin.problem(note, rule="htcds", severity="warning") for note in notes]
    wide = source.wide.columns() if source.wide else {}
    columns, index = dict(raw.items()), raw.index
    del raw  # `_standardise` lets go of each column once typed: a low peak memory
    frame, found, typed = _standardise(
        columns, index, table, source, project, origin, is_htcds, set(options), wide
    )
    problems += found
    return _Read(frame, problems, origin, provided_columns(typed, table), own_links, [path])


_PERIOD = "\0period"  # the period computed from the source's period columns


def _selected(columns: ColumnMap, table: Table, source: Source, names) -> dict[str, str]:
    """Their columns to read, each with its reading mode."""
    selected = {
        name: reading_mode(table, target, source) for name, target in columns.mapping.items()
    }
    if table.name == AGGREGATES:  # numbers there may be <5 or n/a, kept as written
        selected.update(
            {
                name: AS_WRITTEN
                for name, target in columns.mapping.items()
                if table.column(target).kind in (INTEGER, NUMBER)
            }
        )
    wide = source.wide.columns() if source.wide else {}
    for name in [*layout_columns(source), *columns.options, *columns.metadata]:
        if name in names and name not in selected:
            selected[name] = AS_WRITTEN if name in wide else VERBATIM
    return selected


def _long_row_problems(reader, origin: Origin) -> list[Problem]:
    """Rows with more fields than the header: an error when the extra fields hold values (an
    unquoted delimiter shifted the row), ignored when they are empty (a trailing delimiter)."""
    long_rows = reader.long_rows or []
    shifted = [(line, n, extra) for line, n, extra in long_rows if any(f.strip() for f in extra)]
    return [
        origin.problem(
            f"line {line} has {n} fields but the header has {len(reader.names)}: a value holding "
            f"the delimiter {reader.delimiter!r} must be in quotes (extra: "
            f"{', '.join(repr(f) for f in extra[:3])})",
            row=line,
            rule="fields per row",
        )
        for line, n, extra in shifted[:20]
    ] + (
        [
            origin.problem(
                f"and {len(shifted) - 20} more line(s) with too many fields", rule="fields per row"
            )
        ]
        if len(shifted) > 20
        else []
    )


def _export_rows(raw, columns: ColumnMap, source: Source, table: Table, export, links, origin):
    """KoboToolbox and ODK Central: rejected submissions left out, the record id for a form
    without one, and a repeat group's link to its parent rows (see `forms`)."""
    if not export:
        return raw, {}, []
    problems = []
    roles = {role: name for name, role in columns.metadata.items() if role and name in raw}
    rejected = np.zeros(len(raw), dtype=bool)
    if "review" in roles and not source.include_rejected:
        rejected = (
            raw[roles["review"]].map(lambda v: forms.is_rejected(v, export)).to_numpy(dtype=bool)
        )
        if rejected.any():
            problems.append(
                origin.problem(
                    f"{int(rejected.sum())} submission(s) marked rejected or not approved are left "
                    "out (include_rejected: true keeps them)",
                    column=roles["review"],
                    rule="rejected submissions",
                    severity="warning",
                )
            )
    mapped = set(columns.mapping.values())
    record_id = forms.record_id_column(columns.metadata, export)
    if source.repeat_of:
        raw, found = _link_to_parent(
            raw[~rejected], roles, source, table, export, links, origin, record_id
        )
        return raw, {}, problems + found
    if table.key and table.key not in mapped and record_id in raw:
        raw = raw.assign(**{table.key: raw[record_id]})
        problems.append(
            origin.problem(
                f"no {table.key} column: the export's {record_id} identifies each record",
                column=record_id,
                rule="record id",
                severity="warning",
            )
        )
    own = {}
    key_column = next(
        (name for name, target in columns.mapping.items() if target == table.key), None
    )
    if "index" in roles and (key_column or table.key in raw):
        keys = (raw[key_column] if key_column else raw[table.key]).where(~rejected, REJECTED)
        own = {origin.file: dict(zip(raw[roles["index"]].map(as_text), keys))}
    return raw[~rejected], own, problems


REJECTED = "\0rejected"  # the link of a parent row left out: its repeat rows are left out too


def _link_to_parent(raw, roles, source: Source, table: Table, export, links, origin, record_id):
    """The repeat group's link column (e.g. services.case_id) from its parent's rows; rows of a
    parent left out (rejected) are left out too."""
    link = next(
        k for k, target in table.foreign_keys.items() if target.split(".")[0] == source.repeat_of
    )
    index, parent_index = forms.INDEX_COLUMNS[export]
    parent = links.get(source.repeat_of, {})
    if export == forms.KOBO:  # _index counts the rows of one export file
        keys = parent.get(origin.file)
    else:  # KEY is the submission's own id
        keys = {k: v for part in parent.values() for k, v in part.items()}
    if "parent_index" not in roles:
        message = f"no {parent_index} column: this is not a repeat group of the export"
        return raw, [origin.problem(message, rule="repeat_of")]
    if not keys:
        where = "a sheet of the same workbook" if export == forms.KOBO else "the same export"
        message = (
            f"the {source.repeat_of} rows this repeat group belongs to were not read from "
            f"{where}: the source of {source.repeat_of} must be the export's main table, with "
            f"its {index} column"
        )
        return raw, [origin.problem(message, rule="repeat_of")]
    parents = raw[roles["parent_index"]].map(as_text)
    found = parents.map(keys)
    unmatched = found.isna().to_numpy()
    left_out = (found == REJECTED).fillna(False).to_numpy()
    problems = origin.row_problems(
        unmatched,
        parents,
        roles["parent_index"],
        "repeat_of",
        lambda v: f"no {source.repeat_of} row of the export has {index} {v!r}",
    )
    if left_out.any():
        problems.append(
            origin.problem(
                f"{int(left_out.sum())} row(s) of rejected submissions are left out",
                rule="rejected submissions",
                severity="warning",
            )
        )
    keep = ~(left_out | unmatched)  # an unmatched row is an error above; nothing more to say
    raw, found, parents = raw[keep], found[keep], parents[keep]
    raw = raw.assign(**{link: found})
    if table.key not in raw and table.key:
        if export == forms.ODK and record_id in raw:  # the repeat row's own KEY
            raw = raw.assign(**{table.key: raw[record_id]})
        else:  # KoboToolbox keeps no id per repeat row: the parent's id and the row's number
            number = raw.groupby(parents, sort=False).cumcount() + 1
            ids = found.astype("string") + "-" + number.astype("string")
            raw = raw.assign(**{table.key: ids})
    return raw, problems


# -- typing ----------------------------------------------------------------------------------------


def _standardise(
    raw: dict[str, pd.Series],
    index: pd.Index,
    table: Table,
    source: Source,
    project: Project,
    origin: Origin,
    is_htcds: bool,
    from_options: set[str] = frozenset(),
    wide: dict[str, tuple[str, str]] | None = None,
):
    """Typed standard columns, derived columns, and every problem of the rows.

    `raw`: the part's columns (their index is `index`), each taken out as it is converted, so
    that it is let go once typed: the caller no longer holds them.
    """
    problems = []
    typed, distinct = {}, []

    def conversions():  # (name, values, column, reading, identifiers), taken out as the work goes
        for name in list(raw):
            if name in (wide or {}) or name not in table.column_names and name != BIRTH_DATE.name:
                continue
            values = raw.pop(name)
            column = BIRTH_DATE if name == BIRTH_DATE.name else table.column(name)
            reading = _reading(source, name, is_htcds, name in from_options)
            # identifiers: a distinct value in (almost) every row
            yield name, values, column, reading, name == table.key or name in table.foreign_keys

    for (name, values, column, reading, _), converted in in_threads(
        lambda name, *arguments: convert(*arguments), conversions()
    ):
        problems += _conversion_problems(
            converted, values, column, reading, name, table, origin, is_htcds
        )
        typed[name] = converted.values
        if converted.distinct and name in BY_DISTINCT:  # (their codes are let go otherwise)
            distinct.append((converted.values.array, *converted.distinct))
        fallback = htcds.OTHER_WHEN_UNKNOWN.get(name) if is_htcds else None
        if fallback and converted.bad.any():
            typed[name] = converted.values.mask(converted.bad, fallback)
        if converted.states is not None:
            problems += _state_problems(converted.states, values, name, table, origin)
            if table.name == AGGREGATES and name == "value":
                typed.update(_value_states(converted.states, values))
        if name in table.required_columns:
            missing = converted.values.isna() & ~converted.bad
            if converted.states is not None:
                missing &= converted.states.isna()
            problems += origin.row_problems(
                missing,
                values,
                name,
                "required value",
                lambda _: "empty value in a required column",
            )
        problems += _range_problems(converted.values, values, column, name, origin)
    if wide:
        typed, index, found = _unpivot(raw, typed, index, wide, table, source, origin)
        problems += found
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
        problems += age_from_birth_date(typed, table, origin)
    problems += period_warnings(typed, table, project, origin)
    problems += identifier_value_problems(typed, table, source, origin)
    if is_htcds:
        typed = htcds.complete(typed)
    return standard_frame(typed, table, project, index, distinct), problems, set(typed)


def _value_states(states: pd.Series, written: pd.Series) -> dict[str, pd.Series]:
    """value_state and value_as_written of reported values (empty for an ordinary number)."""
    has_state = states.notna()
    as_written = written.map(lambda v: str(v).strip(), na_action="ignore").where(has_state)
    return {"value_state": states.astype("string"), "value_as_written": as_written.astype("string")}


def _reading(source: Source, name: str, is_htcds: bool, from_options: bool) -> Reading:
    value_map = {**(htcds.VALUES.get(name, {}) if is_htcds else {}), **source.values.get(name, {})}
    separators = source.separators.get(name) or (
        " " if source.format in (forms.KOBO, forms.ODK) else None
    )
    numbers = source.numbers
    return Reading(
        value_map=value_map,
        decimal=numbers.decimal,
        suppressed=tuple(numbers.source_suppressed),
        unavailable=tuple(numbers.unavailable),
        date_order=source.date_order,
        **(
            {"separators": ";"}
            if from_options
            else {"separators": separators}
            if separators
            else {}
        ),
    )


def _conversion_problems(converted, values, column, reading, name, table, origin, is_htcds):
    problems = [
        origin.problem(
            message,
            row=int(values.index[position]),
            column=origin.label(name),
            rule="date order",
            severity="error" if "both day first" in message else "warning",
        )
        for message, position in converted.notes
    ]
    bad = converted.bad
    if not bad.any():
        return problems
    fallback = htcds.OTHER_WHEN_UNKNOWN.get(name) if is_htcds else None
    if fallback:
        return problems + [
            origin.problem(
                f"{int(bad.sum())} value(s) that are not standard categories counted as "
                f"{fallback!r}",
                column=origin.label(name),
                rule="category",
                severity="warning",
            )
        ]
    message, rule = conversion_message(column, reading)
    return problems + origin.row_problems(bad, values, name, rule, message)


def _state_problems(states: pd.Series, values, name: str, table: Table, origin: Origin):
    """Source-suppressed and unavailable numbers outside a reported value: refused in a case-level
    table (suppressed) or read as empty with a warning (unavailable)."""
    suppressed = (states == SOURCE_SUPPRESSED).fillna(False).to_numpy()
    unavailable = (states == UNAVAILABLE).fillna(False).to_numpy()
    if table.name == AGGREGATES:
        if name == "value":
            return []
        return origin.row_problems(
            suppressed | unavailable,
            values,
            name,
            "value state",
            lambda v: (
                f"{v!r} is not a number: a {name} the source did not give cannot be used; "
                "leave it empty and write the figure in value"
            ),
        )
    return origin.row_problems(
        suppressed,
        values,
        name,
        "value state",
        lambda v: (
            f"{v!r} is a figure the source suppressed: a record's own {name} must be its value"
        ),
    ) + origin.row_problems(
        unavailable,
        values,
        name,
        "value state",
        lambda v: f"{v!r} (not available) is read as empty",
        severity="warning",
    )


def _range_problems(converted: pd.Series, values, column, name, origin):
    if column.kind not in (INTEGER, NUMBER):
        return []
    problems = []
    if column.minimum is not None:
        problems += origin.row_problems(
            (converted < column.minimum).fillna(False),
            values,
            name,
            "minimum",
            lambda _, m=column.minimum: f"must be at least {m:g}",
        )
    if column.maximum is not None:
        problems += origin.row_problems(
            (converted > column.maximum).fillna(False),
            values,
            name,
            "maximum",
            lambda _, m=column.maximum: (
                f"must be at most {m:g} (leave it empty when it is not known)"
            ),
        )
    return problems


def _unpivot(
    raw, typed: dict, index: pd.Index, wide: dict, table: Table, source: Source, origin: Origin
):
    """One row per (file row, wide column): dimension and category from the column, its cell in
    `wide.value`; empty cells give no row."""
    target = source.wide.value
    column = table.column(target)
    reading = _reading(source, target, False, False)
    pieces, problems = [], []
    for their, (dimension, category) in wide.items():
        if their not in raw:
            continue
        values = raw[their]
        converted = convert(values, column, reading)
        problems += _conversion_problems(
            converted, values, column, reading, their, table, origin, False
        )
        problems += _range_problems(converted.values, values, column, their, origin)
        states = (
            converted.states
            if converted.states is not None
            else pd.Series(pd.NA, index=values.index)
        )
        present = (converted.values.notna() | states.notna()).to_numpy() & ~converted.bad
        positions = np.flatnonzero(present)
        piece = {name: series.iloc[positions] for name, series in typed.items()}
        piece.update(
            dimension=pd.Series(dimension, index=values.index[positions], dtype="string"),
            category=pd.Series(category, index=values.index[positions], dtype="string"),
        )
        piece[target] = converted.values.iloc[positions]
        if target == "value":
            piece.update(_value_states(states.iloc[positions], values.iloc[positions]))
        pieces.append(piece)
    if not pieces:
        return typed, index, problems
    names = list(dict.fromkeys(name for piece in pieces for name in piece))
    combined = {name: pd.concat([piece[name] for piece in pieces]) for name in names}
    order = np.argsort(
        np.concatenate([piece[target].index.to_numpy() for piece in pieces]), kind="stable"
    )
    combined = {name: series.iloc[order] for name, series in combined.items()}
    return combined, combined[target].index, problems
