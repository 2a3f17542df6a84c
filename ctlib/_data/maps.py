"""Column and value maps: which of the user's columns is which standard column, and their codes."""

from __future__ import annotations

import difflib
import re

from .._errors import Problem
from . import htcds
from .origin import Origin
from .project_model import Source
from .tables import DATE, STRING, Column, Table, category_key

BIRTH_DATE = Column(
    "birth_date", DATE, "Date of birth: turned into age at the table's date, never kept"
)


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


def map_columns(names, table: Table, source: Source, is_htcds: bool, origin: Origin):
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
                    f"{', '.join(sorted(accepted))}" + closest_hint(target, accepted),
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
                    f"{target!r} is not a column of {table.name}" + closest_hint(target, accepted),
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


def reading_mode(table: Table, target: str, source: Source) -> str:
    """How a csv column is read: 'verbatim' (text as written: ids, codes with a value map) or 'typed'."""
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
