"""Column and value maps: which of the user's columns is which standard column, and their codes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .._errors import Problem
from . import forms, htcds
from .convert import loose_key_clashes
from .origin import Origin
from .project_model import Source
from .tables import CATEGORY, DATE, INTEGER, NUMBER, STRING, Column, Table, category_key

BIRTH_DATE = Column(
    "birth_date", DATE, "Date of birth: turned into age at the table's date, never kept"
)


IDENTIFIER_NAMES = {
    "a person's name": r"^(full_|first_|last_|given_|family_|middle_|second_|maiden_|nick_|"
    r"victim_|client_|person_|survivor_|beneficiary_|participant_|respondent_|child_|guardian_)?names?$"
    r"|surname|forename|^nom$|^nombre|^prenom|^apellido",
    "an e-mail address": r"e_?mail",
    "a phone number": r"phone|mobile|telephone|(^|_)tel(_|$)|whatsapp|contact_(no|number)",
    "a passport or ID number": r"passport|national_id|(^|_)(id|identity)_(no|num|number|card)(_|$)"
    r"|(^|_)ssn(_|$)|social_security|document_(no|number)|birth_cert",
    "an address": r"(^|_)(home_|street_|postal_|mailing_)?address(_|$)|(^|_)street(_|$)",
    "a date of birth": r"date_of_birth|birth_?date|(^|_)dob(_|$)",
}


@dataclass
class ColumnMap:
    """Which of the user's columns is which standard column."""

    mapping: dict[str, str] = field(default_factory=dict)  # their column -> standard column
    options: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # their 0/1 column -> (multi-valued standard column, category)
    metadata: dict[str, str] = field(default_factory=dict)  # kobo/odk: their column -> role


def accepted_columns(table: Table) -> set[str]:
    """The standard columns a file may give (with a birth date, for the tables with an age)."""
    return {c.name for c in table.input_columns} | (
        {BIRTH_DATE.name} if "age" in table.column_names else set()
    )


def source_map_problems(table: Table, source: Source, entry: str) -> list[Problem]:
    """What is wrong with a source's column and value maps whatever its files hold, at their
    place in project.yaml (`entry`: the source's path, e.g. `sources.cases[1]`)."""
    accepted = accepted_columns(table)
    problems = [
        Problem(
            f"{target!r} is not a column of {table.name}; columns: "
            f"{', '.join(sorted(accepted))}" + closest_hint(target, accepted),
            file="project.yaml",
            entry=f"{entry}.columns.{their}",
            value=target,
            rule="column map",
        )
        for their, target in source.columns.items()
        if target not in accepted
    ]
    return problems + value_map_problems(table, source, entry)


def map_columns(names, table: Table, source: Source, is_htcds: bool, origin: Origin):
    """The user's columns -> standard columns (`ColumnMap`), with the problems of the header and
    of the column map against it (`source_map_problems` says what is wrong with the maps
    themselves)."""
    problems = []
    accepted = accepted_columns(table)
    by_key = {category_key(name): name for name in accepted}
    derived = {category_key(c.name): c.name for c in table.columns if c.derived}
    htcds_fields = htcds.field_map(names) if is_htcds else {}
    internal = set(source.internal_only_columns)
    layout = set(layout_columns(source))
    found = ColumnMap(metadata=forms.metadata_roles(names, source.format))
    candidates = {name: forms.short_names(name, source) for name in names if name}
    given = {short for shorts in candidates.values() for short in shorts}
    for their, target in source.columns.items():
        if target in accepted and their not in given:
            problems.append(
                origin.problem(
                    f"column {their!r} of the column map is not in the file; columns: "
                    f"{', '.join(str(n) for n in names if n)}",
                    column=their,
                    rule="column map",
                    severity="warning",
                )
            )
    option_columns = _option_columns(names, table, source, candidates)
    mapping, ignored, dropped = {}, [], []
    for name in names:
        if not name or name in found.metadata or name in layout or name in option_columns:
            continue
        target = next(
            (
                source.columns.get(short)
                or htcds_fields.get(short)
                or by_key.get(category_key(short))
                for short in candidates[name]
                if source.columns.get(short)
                or htcds_fields.get(short)
                or by_key.get(category_key(short))
            ),
            None,
        )
        kind = (
            None if target == BIRTH_DATE.name else identifier_kind(name)
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
                    f"column {name!r} looks like {kind}: direct identifiers are not loaded. "
                    "Remove the column from the file, or, if it holds no identifiers, list it "
                    f"under sources.{table.name}.internal_only_columns in project.yaml",
                    column=name,
                    rule="direct identifier",
                )
            )
            continue
        if target not in accepted:
            if category_key(candidates[name][-1]) in derived:
                problems.append(
                    origin.problem(
                        f"column {name!r} is ignored: ctlib derives "
                        f"{derived[category_key(candidates[name][-1])]!r} itself",
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
    for target, _ in option_columns.values():  # a summary column beside its option columns
        summary = next((their for their, t in mapping.items() if t == target), None)
        if summary is not None:  # (KoboToolbox's "both"): the option columns are read
            del mapping[summary]
    found.mapping, found.options = mapping, option_columns
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
    problems += layout_problems(names, table, source, origin)
    return found, problems


def _option_columns(names, table: Table, source: Source, candidates) -> dict[str, tuple[str, str]]:
    """Their 0/1 columns of multi-valued standard columns: declared under `options`, or named
    `<column>/<category>` or `<column>.<category>` (KoboToolbox and ODK split select_multiple
    so)."""
    multiple = {c.name: c for c in table.columns if c.multiple}
    found = {
        their: (target, category)
        for target, columns in source.options.items()
        for their, category in columns.items()
        if their in names
    }
    if not multiple:
        return found
    by_key = {category_key(name): name for name in multiple}
    for name in names:
        if not name or name in found:
            continue
        for short in candidates[name]:
            base, separator, option = max(
                short.rpartition("/"), short.rpartition("."), key=lambda p: len(p[0])
            )
            if not separator:
                continue
            mapped = source.columns.get(base)
            bases = forms.short_names(base, source)
            target = mapped or next(
                (by_key[category_key(b)] for b in bases if category_key(b) in by_key), None
            )
            if target in multiple:
                found[name] = (target, option)
                break
    return found


def layout_columns(source: Source) -> list[str]:
    """Their columns the layout options read (filters, wide and period columns)."""
    columns = list(source.filter)
    if source.wide:
        columns += list(source.wide.columns())
    if source.period:
        columns += [
            c for c in (source.period.year, source.period.quarter, source.period.semester) if c
        ]
    return columns


def layout_problems(names, table: Table, source: Source, origin: Origin):
    """Layout options naming columns the file does not have."""
    present = [str(n) for n in names if n]
    options = [("filter", name) for name in source.filter]
    if source.wide:
        options += [("wide", name) for name in source.wide.columns()]
    if source.period:
        options += [("period", name) for name in source.period.columns()]
    return [
        origin.problem(
            f"column {name!r} of sources.{table.name}.{option} is not in the file; columns: "
            f"{', '.join(present)}" + closest_hint(name, present),
            column=name,
            rule=option,
        )
        for option, name in options
        if name not in names
    ]


def value_map_problems(table: Table, source: Source, entry: str) -> list[Problem]:
    """Value maps of columns the table lacks, keys that collide once compared loosely, and
    targets that are not categories of their column."""
    accepted = {c.name for c in table.input_columns}
    problems = []
    for target, value_map in source.values.items():
        place = f"{entry}.values.{target}"
        if target not in accepted:
            problems.append(
                Problem(
                    f"{target!r} is not a column of {table.name}" + closest_hint(target, accepted),
                    file="project.yaml",
                    entry=place,
                    value=target,
                    rule="value map",
                )
            )
            continue
        column = table.column(target)
        if column.kind not in (INTEGER, NUMBER, DATE):
            for first, second in loose_key_clashes(value_map):
                problems.append(
                    Problem(
                        f"keys {first!r} and {second!r} are the same code once case, spaces and "
                        f"punctuation are ignored, but map to {value_map[first]!r} and "
                        f"{value_map[second]!r}: keep one of them",
                        file="project.yaml",
                        entry=f"{place}.{second}",
                        value=second,
                        rule="value map",
                    )
                )
        if column.kind == CATEGORY:
            keys = {category_key(c) for c in column.categories}
            for their, standard in value_map.items():
                if standard is not None and category_key(standard) not in keys:
                    problems.append(
                        Problem(
                            f"{their!r} is mapped to {standard!r}, which is not a category of "
                            f"{target}; categories: {', '.join(column.categories)}"
                            + closest_hint(str(standard), column.categories),
                            file="project.yaml",
                            entry=f"{place}.{their}",
                            value=standard,
                            rule="value map",
                        )
                    )
    return problems


def reading_mode(table: Table, target: str, source: Source) -> str:
    """How a csv column is read: 'verbatim' or 'typed'.

    'verbatim' is text as written: ids, codes with a value map.
    """
    kind = BIRTH_DATE.kind if target == BIRTH_DATE.name else table.column(target).kind
    return "verbatim" if kind == STRING or target in source.values else "typed"


def identifier_kind(name: str) -> str | None:
    """What kind of direct identifier a column name suggests, if any."""
    snake = re.sub(r"[^0-9a-z]+", "_", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()).strip(
        "_"
    )
    return next(
        (kind for kind, pattern in IDENTIFIER_NAMES.items() if re.search(pattern, snake)), None
    )


def closest_hint(word: str, candidates) -> str:
    match = difflib.get_close_matches(word, sorted(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""
