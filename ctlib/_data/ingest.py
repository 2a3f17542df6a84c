"""Read a project's data files into the standard tables: csv, xlsx, parquet and HTCDS case sheets.

Each source of project.yaml is read, its column names and codes mapped to the standard ones, typed,
completed with derived columns and validated against the standard tables (`tables`). Every problem of every file is
collected and reported at once, each with file, sheet, row (as the user sees it: the line of a csv,
the row of a sheet, the record number of a parquet file), column, value and rule. A table with an
error is never partly used, and ingestion writes nothing to disk.

Values are converted once per distinct value, not per row, so a million rows cost little more than
reading them.

The steps live in their own modules: `readers` (files), `maps` (column and value maps),
`convert` (typed values), `derive` (the standard frame and derived columns), `validate` (checks
across rows and tables) and `origin` (where each problem is).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._errors import DataError, Problems
from . import htcds
from .convert import conversion_message, convert
from .derive import age_from_birth_date, derive_linked, empty_standard_frame, standard_frame
from .maps import BIRTH_DATE, map_columns, reading_mode
from .origin import Origin
from .project import load_project_file
from .project_data import ProjectData
from .project_model import Project, Source
from .readers import Unreadable, open_source
from .tables import INTEGER, NUMBER, TABLES, Table
from .validate import (
    duplicate_problems,
    foreign_key_problems,
    identifier_value_problems,
    period_warnings,
)

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
    problems.extend(foreign_key_problems(tables, origins, failed))
    problems.raise_if_errors(DataError, f"The data of project {project.id!r} cannot be used")
    tables = derive_linked(tables, project)
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
    origin = Origin(source.file)
    try:
        reader = open_source(directory / source.file, source, table)
        origin.sheet = reader.sheet
        is_htcds = source.format == "htcds" or (
            source.format == "auto" and htcds.looks_like_htcds(reader.names)
        )
        mapping, problems = map_columns(reader.names, table, source, is_htcds, origin)
        skip = int(
            is_htcds and reader.peek is not None and htcds.is_label_row(reader.names, reader.peek)
        )
        raw = reader.read(
            {name: reading_mode(table, target, source) for name, target in mapping.items()}, skip
        )
    except Unreadable as error:
        return (
            empty_standard_frame(table, project),
            [origin.problem(str(error), rule=error.rule)],
            origin,
        )
    raw = raw.rename(columns=mapping)
    origin.columns = {target: name for name, target in mapping.items()}
    if is_htcds:
        raw, notes = htcds.prepare(raw)
        problems += [origin.problem(note, rule="htcds", severity="warning") for note in notes]
    frame, found = _standardise(raw, table, source, project, origin, is_htcds)
    problems += found
    if any(p.severity == "error" for p in problems):
        return empty_standard_frame(table, project), problems, origin
    return frame, problems, origin


def _standardise(
    raw: pd.DataFrame,
    table: Table,
    source: Source,
    project: Project,
    origin: Origin,
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
        converted, bad = convert(values, column, value_maps[name], identifiers)
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
            message, rule = conversion_message(column)
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
        problems += age_from_birth_date(typed, table, origin)
    problems += duplicate_problems(typed, table, origin)
    problems += period_warnings(typed, table, project, origin)
    problems += identifier_value_problems(typed, table, source, origin)
    if is_htcds:
        typed = htcds.complete(typed)
    return standard_frame(typed, table, project, index), problems
