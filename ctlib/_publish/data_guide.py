"""The data guide's reference parts, from ctlib's own declarations, for `docs/data.md` and
`ctlib tables`.

What a user needs to know about the standard tables (each column's type, whether it is required,
its allowed values, what it means, which indicators use it) and the lists the readers apply (the
markers of unavailable figures, the words read as yes and no, the metadata columns of form
exports, the catalogue's vocabulary) are generated here, so that the guide cannot drift from the
code: `docs/data.md` holds the hand-written explanations with generated regions between
`<!-- generated: NAME -->` and `<!-- end generated: NAME -->`; `update_guide` rewrites those
regions and a test checks that the committed guide is what it writes (`make docs`).
"""

from __future__ import annotations

import re
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path

from .._catalogue import Catalogue, load_catalogue
from .._catalogue.model import Condition, Indicator, Method, Part
from .._compute.engine import data_needed
from .._data import forms, htcds
from .._data.convert import FALSE_WORDS, MULTIPLE_SEPARATORS, TRUE_WORDS, UNAVAILABLE_MARKERS
from .._data.derive import DERIVED_FROM
from .._data.project_model import FISCAL_YEAR_PRESETS
from .._data.readers import NULL_MARKERS
from .._data.tables import MULTIPLE_SEPARATOR, TABLES, Column, Table, table
from .._data.templates import KIND_HINTS

GENERATED = re.compile(
    r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
    re.DOTALL,
)


# -- what is said about each column ----------------------------------------------------------------


@dataclass(frozen=True)
class ColumnFacts:
    """One standard column as the guide shows it."""

    name: str
    kind: str  # the type, in words
    required: bool
    allowed: str  # the allowed values or range, in words ("" when any)
    description: str
    derived_from: str  # derived columns: the columns they are computed from
    references: str  # HTCDS field(s)
    used_by: tuple[str, ...]  # indicator ids


def column_facts(table_name: str, catalogue: Catalogue) -> list[ColumnFacts]:
    """Every column of a standard table, input columns first, with the indicators using it."""
    declared = table(table_name)
    users = _users(catalogue)
    ordered = [c for c in declared.columns if not c.derived] + [
        c for c in declared.columns if c.derived
    ]
    return [
        ColumnFacts(
            name=column.name,
            kind=_kind(column),
            required=column.required,
            allowed=_allowed(column),
            description=column.description,
            derived_from=_derived_from(column) if column.derived else "",
            references=column.references,
            used_by=tuple(sorted(users.get((table_name, column.name), ()), key=_id_order)),
        )
        for column in ordered
    ]


def _kind(column: Column) -> str:
    """The column's type in words: text, whole number, number, date, yes / no, category, country;
    several values; derived (computed by ctlib, never read from a file)."""
    kind = "category" if column.kind == "category" else KIND_HINTS[column.kind]
    kind = kind.split(":")[0].split(" (")[0]
    if column.multiple:
        kind += ", several values"
    return f"{kind}, derived" if column.derived else kind


def _allowed(column: Column) -> str:
    if column.categories:
        return ", ".join(column.categories)
    if column.kind == "country":
        return "ISO 3166 alpha-2 codes, or country names"
    low, high = column.minimum, column.maximum
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else ""


def _derived_from(column: Column) -> str:
    """The columns a derived column is computed from ("" for one from other tables: its
    description says which)."""
    needs = DERIVED_FROM.get(column.name, ())
    return " or ".join(" and ".join(f"`{n}`" for n in need) for need in needs)


def _users(catalogue: Catalogue) -> dict[tuple[str, str], set[str]]:
    """(table, column) -> ids of the indicators whose recipe or disaggregations name the column,
    directly, through a linked table, or through a derived column computed from it."""
    users: dict[tuple[str, str], set[str]] = {}
    for indicator in catalogue:
        table_name, columns = data_needed(indicator)
        if table_name is None:
            continue
        if table_name == "reported_values" and indicator.disaggregations:
            columns = [*columns, "dimension", "category"]
        for name in [*columns, *indicator.disaggregations]:
            owner = _owner(table_name, name)
            if owner:
                users.setdefault((owner, name), set()).add(indicator.id)
            if owner and owner != table_name:  # read through the link
                for key, target in TABLES[table_name].foreign_keys.items():
                    if target.split(".")[0] == owner:
                        users.setdefault((table_name, key), set()).add(indicator.id)
    changed = True
    while changed:  # a derived column's users use the columns it comes from
        changed = False
        for (owner, name), ids in list(users.items()):
            column = TABLES[owner].column(name)
            if not column.derived:
                continue
            for need in DERIVED_FROM.get(name, ()):
                for source in need:
                    if source in TABLES[owner].column_names and source != name:
                        known = users.setdefault((owner, source), set())
                        if not ids <= known:
                            known |= ids
                            changed = True
    return users


def _owner(table_name: str, column: str) -> str | None:
    """The table holding a recipe's column: its own, or a table it links to."""
    if column in TABLES[table_name].column_names:
        return table_name
    for target in TABLES[table_name].foreign_keys.values():
        linked = target.split(".")[0]
        if column in TABLES[linked].column_names:
            return linked
    return None


def _id_order(indicator_id: str):
    prefix, _, number = indicator_id.partition("-")
    return (prefix, int(number) if number.isdigit() else 0, indicator_id)


def compact_ids(ids) -> str:
    """Indicator ids grouped by prefix, consecutive numbers as ranges: 'PROT-02–04, 09; PART-14'."""
    groups: dict[str, list] = {}
    for indicator_id in ids:
        prefix, _, number = indicator_id.rpartition("-")
        if number.isdigit() and prefix:
            groups.setdefault(prefix, []).append(number)
        else:
            groups.setdefault(indicator_id, [])
    parts = []
    for prefix, numbers in groups.items():
        if not numbers:
            parts.append(prefix)
            continue
        runs, start = [], 0
        for i in range(1, len(numbers) + 1):
            if i == len(numbers) or int(numbers[i]) != int(numbers[i - 1]) + 1:
                first, last = numbers[start], numbers[i - 1]
                runs.append(first if first == last else f"{first}–{last}")
                start = i
        parts.append(f"{prefix}-{', '.join(runs)}")
    return "; ".join(parts)


def tables_using(catalogue: Catalogue) -> dict[str, list[str]]:
    """Each standard table -> the indicators whose recipe reads it, in catalogue order."""
    found = {name: [] for name in TABLES}
    for indicator in catalogue:
        table_name, _ = data_needed(indicator)
        if table_name:
            found[table_name].append(indicator.id)
    return found


# -- markdown --------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tables_markdown(catalogue: Catalogue) -> str:
    """The overview of the standard tables and each table's columns, as markdown."""
    using = tables_using(catalogue)
    lines = [
        "| table | one row per … | key | links to | read by |",
        "|---|---|---|---|---|",
    ]
    for name, declared in TABLES.items():
        links = ", ".join(f"`{c}` → `{t}`" for c, t in declared.foreign_keys.items())
        key = f"`{declared.key}`" if declared.key else "indicator, period, dimension, category"
        lines.append(
            f"| [`{name}`](#table-{name.replace('_', '-')}) | {_cell(declared.description)} | "
            f"{key} | {links or '—'} | {len(using[name])} indicators |"
        )
    for name in TABLES:
        lines += ["", table_markdown(name, catalogue)]
    return "\n".join(lines)


def table_markdown(table_name: str, catalogue: Catalogue) -> str:
    """One table's section: what a row is, its key and links, and a row per column."""
    declared = table(table_name)
    lines = [f'### Table `{table_name}` <a id="table-{table_name.replace("_", "-")}"></a>', ""]
    lines += [_about(declared), ""]
    lines += [
        "| column | type | required | allowed values | meaning | used by |",
        "|---|---|---|---|---|---|",
    ]
    for facts in column_facts(table_name, catalogue):
        meaning = facts.description
        if facts.derived_from:
            meaning += f" — from {facts.derived_from}"
        if facts.references:
            meaning += f" (HTCDS: {facts.references})"
        lines.append(
            f"| `{facts.name}` | {facts.kind} | {'yes' if facts.required else ''} | "
            f"{_cell(facts.allowed)} | {_cell(meaning)} | {compact_ids(facts.used_by)} |"
        )
    return "\n".join(lines)


def _about(declared: Table) -> str:
    parts = [declared.description]
    if declared.key:
        parts.append(f"Each `{declared.key}` is used once.")
    else:
        parts.append("Each indicator, period, dimension and category has one row.")
    for column, target in declared.foreign_keys.items():
        linked, key = target.split(".")
        parts.append(f"`{column}` is the `{key}` of a row of `{linked}`.")
    if declared.date_columns_in_period:
        dates = ", ".join(f"`{d}`" for d in declared.date_columns_in_period)
        parts.append(f"Dated by {dates}: rows outside the project's span are warned about.")
    if declared.multiple_columns:
        parts.append(
            f"Several values in one cell are written apart by {MULTIPLE_SEPARATOR!r} in the "
            "standard table."
        )
    return " ".join(parts)


def tally_markdown(catalogue: Catalogue) -> str:
    """The indicators whose values the project reports directly (`measure: reported`)."""
    lines = ["| indicator | name | unit | disaggregations it supports |", "|---|---|---|---|"]
    for indicator in catalogue:
        if indicator.method.measure == "reported":
            lines.append(
                f"| `{indicator.id}` | {_cell(indicator.name)} | {indicator.unit} | "
                f"{', '.join(indicator.disaggregations) or '—'} |"
            )
    return "\n".join(lines)


def htcds_markdown() -> str:
    """The HTCDS case-sheet fields ctlib reads, and the standard column each one fills."""
    lines = ["| HTCDS field | standard column |", "|---|---|"]
    lines += [f"| `{field}` | `{column}` |" for field, column in htcds.FIELDS.items()]
    lines.append(
        f"| `{htcds.IDENTIFICATION_FALLBACK}` | `identification_date`, only in a sheet with "
        "neither `cas_CaseOpenDate` nor `cas_CreatedDate` (with a warning) |"
    )
    return "\n".join(lines)


def _words(values) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _choices(annotation) -> tuple[str, ...]:
    """The values of a Literal field (also inside `X | None`)."""
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return tuple(v for part in typing.get_args(annotation) for v in _choices(part))


CATALOGUE_MODELS = {
    "an entry": Indicator,
    "`method`": Method,
    "a `numerator` or `denominator`": Part,
}
CATALOGUE_MODELS |= {"a `filter` condition": Condition}


def catalogue_vocabulary() -> str:
    """Each field of a catalogue entry (and of its recipe) that takes one of a list of words."""
    lines = []
    for where, model in CATALOGUE_MODELS.items():
        for name, info in model.model_fields.items():
            if _choices(info.annotation):
                lines.append(f"- {where}: `{name}`: {_words(_choices(info.annotation))}")
    required = [n for n, f in Indicator.model_fields.items() if f.is_required()]
    optional = [n for n, f in Indicator.model_fields.items() if not f.is_required()]
    lines.append(f"- required fields of an entry: {_words(required)}")
    lines.append(f"- optional fields of an entry: {_words(optional)}")
    return "\n".join(lines)


def generated_sections(catalogue: Catalogue) -> dict[str, str]:
    """The guide's generated regions by name."""
    presets = ", ".join(f"`{name}` ({month})" for name, month in FISCAL_YEAR_PRESETS.items())
    return {
        "tables": tables_markdown(catalogue),
        "tally-indicators": tally_markdown(catalogue),
        "unavailable-markers": _words(UNAVAILABLE_MARKERS),
        "null-markers": _words(m for m in NULL_MARKERS if m) + " and empty cells",
        "yes-no-words": f"yes: {_words(sorted(TRUE_WORDS))}; no: {_words(sorted(FALSE_WORDS))}",
        "multiple-separators": _words(MULTIPLE_SEPARATORS),
        "fiscal-presets": presets,
        "kobo-metadata": (
            "every column whose name starts with `_`, and the form's own "
            f"{_words(sorted(forms.FORM_METADATA))}"
        ),
        "htcds-fields": htcds_markdown(),
        "odk-metadata": _words(sorted(forms.ODK_METADATA)) + ", and the form's own as above",
        "catalogue-vocabulary": catalogue_vocabulary(),
    }


def render_guide(text: str, catalogue: Catalogue) -> str:
    """The guide with every generated region rewritten; a region the generator lacks is an error."""
    sections = generated_sections(catalogue)

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in sections:
            raise KeyError(f"the guide has a generated region {name!r} that ctlib does not write")
        return f"{match.group(1)}{sections[name]}\n{match.group(4)}"

    return GENERATED.sub(replace, text)


def update_guide(path: str | Path) -> bool:
    """Rewrite the generated regions of the guide at `path`; True when it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    updated = render_guide(text, load_catalogue())
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


# -- text for the terminal -------------------------------------------------------------------------


def tables_text(catalogue: Catalogue, width: int = 100) -> str:
    """The standard tables, one paragraph each, for `ctlib tables`."""
    using = tables_using(catalogue)
    blocks = []
    for name, declared in TABLES.items():
        head = f"{name}  (key: {declared.key or 'indicator, period, dimension, category'}; "
        head += (
            f"{len(declared.input_columns)} columns to fill; read by {len(using[name])} indicators)"
        )
        blocks.append(head + "\n" + _wrapped(declared.description, width, "    "))
    blocks.append(
        "`ctlib tables NAME` lists a table's columns; docs/data.md says how to map files."
    )
    return "\n\n".join(blocks)


def table_text(table_name: str, catalogue: Catalogue, width: int = 100) -> str:
    """One table's columns for the terminal: the same facts as the guide's section."""
    declared = table(table_name)
    lines = [table_name, _wrapped(_about(declared), width, ""), ""]
    for facts in column_facts(table_name, catalogue):
        kind = facts.kind + (", required" if facts.required else "")
        lines.append(f"  {facts.name}  ({kind})")
        details = [facts.description]
        if facts.allowed:
            details.append(f"allowed: {facts.allowed}")
        if facts.derived_from:
            details.append(f"from {facts.derived_from}")
        if facts.references:
            details.append(f"HTCDS: {facts.references}")
        if facts.used_by:
            details.append(f"used by: {compact_ids(facts.used_by)}")
        lines += [_wrapped(detail, width, "      ") for detail in details]
    return "\n".join(lines)


def _wrapped(text: str, width: int, indent: str) -> str:
    return textwrap.fill(
        text, width=max(width, 40), initial_indent=indent, subsequent_indent=indent + "  "
    )
