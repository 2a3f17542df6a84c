"""The indicator catalogue: load and check the YAML definitions.

Get, filter, search, describe and export its indicators.

The built-in definitions live in `ctlib/catalogue/<pillar>.yaml`; a team may add its own files.
Every problem in every file is collected and raised as one CatalogueError, so nothing is ever
partly loaded. Beyond the pydantic model, each recipe is checked against the standard tables.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
from pydantic import ValidationError
from ruamel.yaml import YAML, YAMLError

from .. import _fast_yaml as fast_yaml
from .._data.tables import BOOLEAN, CATEGORY, DATE, INTEGER, NUMBER, PILLARS, TABLES, Column
from .._errors import CatalogueError, Problems, UnknownIndicatorError
from .._format import csv_safe_frame, xlsx_cell
from .._resources import CATALOGUE_DIR
from .model import Condition, Indicator, Method, Part

BUILTIN_FILES = tuple(CATALOGUE_DIR / f"{pillar}.yaml" for pillar in PILLARS)
EXPORT_FORMATS = ("csv", "xlsx", "md")

NUMERIC = (INTEGER, NUMBER)
# The units each measure can give (a measure not listed may give any unit).
UNITS_BY_MEASURE = {
    "count": ("count",),
    "count_distinct": ("count",),
    "sum": ("count", "currency", "days", "months"),
    "mean": ("count", "score", "days", "months", "currency"),
    "median": ("count", "score", "days", "months", "currency"),
    "share": ("percent",),
    "ratio": ("ratio",),
    "rate": ("rate",),
    "milestone": ("yes_no",),
    "days_in_period": ("count",),
}
UNITS_BY_CHANGE_STATISTIC = {"share_improved": ("percent",), "mean_change": ("count", "score")}
# How periods may combine: flows sum, stocks take the latest, shares and averages are recomputed.
ROLLUPS_BY_MEASURE = {
    "count": ("sum", "latest"),
    "sum": ("sum", "latest"),
    "count_distinct": ("recompute", "sum", "latest"),
    "mean": ("recompute",),
    "median": ("recompute",),
    "share": ("recompute", "latest"),
    "ratio": ("recompute",),
    "rate": ("recompute",),
    "change": ("recompute",),
    "milestone": ("latest",),
    "days_in_period": ("sum",),
}
ROLLUP_WORDS = {
    "sum": "sum of the periods",
    "latest": "value of the latest period",
    "recompute": "recomputed over all records of the project",
}


class Catalogue:
    """The loaded indicators, in file order; immutable."""

    def __init__(self, indicators: Iterable[Indicator], version: str):
        self._by_id = {indicator.id: indicator for indicator in indicators}
        self.version = version

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} indicators, version {self.version})"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with that id (case-insensitive).

        UnknownIndicatorError naming the closest ids.
        """
        key = indicator_id.strip().upper()
        if key in self._by_id:
            return self._by_id[key]
        close = difflib.get_close_matches(key, self.ids, n=3, cutoff=0.6)
        padded = re.sub(r"-(\d)$", r"-0\1", key)  # PROT-3 -> PROT-03
        if padded in self._by_id:
            close = [padded, *(c for c in close if c != padded)][:3]
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else "; `ctlib catalogue list` shows the ids"
        )
        raise UnknownIndicatorError(f"Unknown indicator {indicator_id!r}{hint}")

    def filter(
        self,
        pillar: str | None = None,
        area: str | None = None,
        level: str | None = None,
        unit: str | None = None,
    ) -> list[Indicator]:
        """The indicators matching every criterion given (case-insensitive)."""
        wanted = {"pillar": pillar, "area": area, "level": level, "unit": unit}
        wanted = {name: value.lower() for name, value in wanted.items() if value}
        return [
            i
            for i in self
            if all(getattr(i, name).lower() == value for name, value in wanted.items())
        ]

    def search(self, text: str) -> list[Indicator]:
        """Indicators matching every word of `text`.

        Matched in their id, name, definition, area or references.
        """
        words = text.lower().split()
        return [i for i in self if all(word in _search_text(i) for word in words)]


def _search_text(indicator: Indicator) -> str:
    parts = [
        indicator.id,
        indicator.name,
        indicator.definition,
        indicator.area,
        *indicator.references,
    ]
    return " ".join(parts).lower()


# --- loading ---------------------------------------------------------------------------------


def load_catalogue(extra: Sequence[str | Path] | str | Path = ()) -> Catalogue:
    """The built-in catalogue plus a team's own YAML files.

    One CatalogueError lists every problem.
    """
    builtin = _builtin_catalogue()
    if not extra:
        return builtin
    paths = [Path(extra)] if isinstance(extra, (str, Path)) else [Path(path) for path in extra]
    problems = Problems()
    sources = _read_files(paths, problems)
    indicators = _check_sources(
        sources, problems, taken={i: "the built-in catalogue" for i in builtin.ids}
    )
    problems.raise_if_errors(CatalogueError, "The indicator catalogue cannot be loaded")
    texts = [text for _, text in _builtin_sources()] + [text for _, text in sources]
    return Catalogue([*builtin, *indicators], _version(texts))


@functools.lru_cache(maxsize=1)
def _builtin_sources() -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"ctlib/catalogue/{path.name}", path.read_text(encoding="utf-8")) for path in BUILTIN_FILES
    )


@functools.lru_cache(maxsize=1)
def _builtin_catalogue() -> Catalogue:
    problems = Problems()
    sources = _builtin_sources()
    indicators = _check_sources(sources, problems, taken={})
    problems.raise_if_errors(CatalogueError, "The built-in indicator catalogue is broken")
    return Catalogue(indicators, _version(text for _, text in sources))


def _version(texts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:12]


def _read_files(paths: list[Path], problems: Problems) -> list[tuple[str, str]]:
    """(label, text) of each readable file; a problem for each one that cannot be read."""
    sources = []
    for path in paths:
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            problems.add("file not found", file=str(path))
        except (OSError, UnicodeDecodeError) as error:
            problems.add(f"cannot read the file: {error}", file=str(path))
    return sources


def _check_sources(
    sources: Iterable[tuple[str, str]],
    problems: Problems,
    taken: dict[str, str],
) -> list[Indicator]:
    """Parse and check every entry of every source; ids in `taken` (id -> where) count as used."""
    seen = dict(taken)
    indicators = []
    for label, text in sources:
        for number, raw in enumerate(_parse(label, text, problems), start=1):
            name = _entry_name(raw, number)
            if not isinstance(raw, dict):
                problems.add(
                    "an entry must be a mapping of fields (id, name, pillar, ...)",
                    file=label,
                    entry=name,
                )
                continue
            if isinstance(raw.get("id"), str):
                if raw["id"] in seen:
                    problems.add(
                        f"duplicate id {raw['id']!r}, already used in {seen[raw['id']]}",
                        file=label,
                        entry=name,
                        rule="unique id",
                    )
                else:
                    seen[raw["id"]] = f"{label} (entry {number})"
            indicator = _validate(raw, functools.partial(problems.add, file=label, entry=name))
            if indicator is not None:
                indicators.append(indicator)
    return indicators


def _parse(label: str, text: str, problems: Problems) -> list:
    """The list of raw entries in a YAML text; a problem (with line) when it is not one.

    Read as YAML 1.2 (`no` is a word): fast (`_fast_yaml`), else by ruamel, which also says what
    is wrong and where."""
    try:
        try:
            data = fast_yaml.load(text)
        except fast_yaml.Unsure:
            data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.add(f"malformed YAML{where}: {reason}", file=label, rule="yaml")
        return []
    if not isinstance(data, list):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        problems.add(
            f"expected a list of indicators (entries starting with '- id:'), found {found}",
            file=label,
        )
        return []
    return data


def _entry_name(raw: object, number: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return raw["id"]
    return f"entry {number}"


def _validate(raw: dict, add: Callable) -> Indicator | None:
    """The Indicator, or None after reporting every schema and recipe problem through `add`."""
    try:
        indicator = Indicator.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            message = detail["msg"].removeprefix("Value error, ")
            value = detail.get("input") if detail["type"] != "missing" else None
            add(
                f"field {_field_path(detail['loc'])}: {message}",
                value=value if _is_scalar(value) else None,
                rule="schema",
            )
        return None
    found = Problems()
    check_recipe(indicator, found.add)
    for problem in found.items:
        add(problem.message, column=problem.column, value=problem.value, rule=problem.rule)
    return None if found.items else indicator


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(entry)"


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


# --- recipe checks against the standard tables ---------------------------------------------------


def recipe_columns(table_name: str) -> dict[str, Column]:
    """Columns a recipe on this table may name: its own, then those of the tables it links to."""
    table = TABLES[table_name]
    columns = {column.name: column for column in table.columns}
    for target in table.foreign_keys.values():
        for column in TABLES[target.split(".")[0]].columns:
            columns.setdefault(column.name, column)
    return columns


def check_recipe(indicator: Indicator, add: Callable) -> None:
    """Report what in the recipe does not fit the tables.

    Each problem goes through `add(message, column=, value=, rule=)`.
    """
    method = indicator.method
    units = UNITS_BY_MEASURE.get(method.measure)
    if method.measure == "change":
        units = UNITS_BY_CHANGE_STATISTIC[method.statistic]
    if units and indicator.unit not in units:
        add(
            f"field unit: measure {method.measure!r} gives {' or '.join(units)}, not "
            f"{indicator.unit!r}",
            rule="unit fits measure",
        )
    rollups = ("latest",) if method.until else ROLLUPS_BY_MEASURE.get(method.measure)
    if rollups and indicator.rollup not in rollups:
        what = "a stock (until)" if method.until else f"measure {method.measure!r}"
        add(
            f"field rollup: {what} rolls up by {' or '.join(rollups)}, not {indicator.rollup!r}",
            rule="rollup fits measure",
        )
    if (indicator.unit == "currency") != (indicator.counts == "money") and indicator.unit not in (
        "percent",
        "ratio",
    ):
        add(
            f"field counts: an indicator in {indicator.unit!r} counts "
            f"{'money' if indicator.unit == 'currency' else 'something other than money'}, "
            f"not {indicator.counts!r}",
            rule="counts fits unit",
        )
    if method.measure == "reported":
        return
    if method.table not in TABLES:
        add(
            f"field method.table: unknown table {method.table!r}; standard tables are: "
            f"{', '.join(TABLES)}",
            rule="known table",
        )
        return
    _TableCheck(method.table, add).recipe(indicator)


class _TableCheck:
    """Checks the columns and values a recipe names against one standard table (and its links)."""

    def __init__(self, table_name: str, add: Callable):
        self.table_name = table_name
        self.columns = recipe_columns(table_name)
        self.add = add

    def recipe(self, indicator: Indicator) -> None:
        method = indicator.method
        self.column("method.date", method.date, kinds=(DATE,))
        self.column("method.end", method.end, kinds=(DATE,))
        self.column("method.until", method.until, kinds=(DATE,))
        numeric = method.measure in ("sum", "mean", "median")
        self.column("method.column", method.column, kinds=NUMERIC if numeric else None)
        self.column("method.before", method.before, kinds=NUMERIC)
        self.column("method.after", method.after, kinds=NUMERIC)
        self.conditions("method.filter", method.filter)
        self.part("method.numerator", method.numerator, may_use_project=False)
        self.part(
            "method.denominator", method.denominator, may_use_project=method.measure == "rate"
        )
        counted_by = TABLES[self.table_name].counts_by
        for number, name in enumerate(indicator.disaggregations):
            total = counted_by.get(name, (None,))[0]
            if total is not None and method.measure == "sum" and method.column == total:
                continue  # a sum of the total column breaks down by the table's count columns
            self.column(f"disaggregations[{number}]", name)

    def column(
        self, field: str, name: str | None, kinds: tuple[str, ...] | None = None
    ) -> Column | None:
        if name is None:
            return None
        column = self.columns.get(name)
        if column is None:
            close = difflib.get_close_matches(name, self.columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.add(
                f"field {field}: table {self.table_name!r} has no column {name!r}{hint}",
                column=name,
                rule="known column",
            )
        elif kinds and column.kind not in kinds:
            self.add(
                f"field {field}: column {name!r} is {column.kind}, expected {' or '.join(kinds)}",
                column=name,
                rule="column type",
            )
        return column

    def part(self, field: str, part: Part | None, may_use_project: bool) -> None:
        if part is None:
            return
        self.conditions(f"{field}.filter", part.filter)
        self.column(
            f"{field}.column", part.column, kinds=NUMERIC if part.aggregate == "sum" else None
        )
        if part.project_value and not may_use_project:
            self.add(
                f"field {field}.project_value: only a rate's denominator may come from the "
                "project's context",
                rule="project value",
            )

    def conditions(self, field: str, conditions: list[Condition]) -> None:
        for number, condition in enumerate(conditions):
            where = f"{field}[{number}]"
            column = self.column(f"{where}.column", condition.column)
            if column is not None:
                self.condition_value(where, condition, column)

    def condition_value(self, field: str, condition: Condition, column: Column) -> None:
        if condition.op == "is_null":
            return
        if condition.op == "range":
            if column.kind not in (*NUMERIC, DATE):
                self.add(
                    f"field {field}.op: 'range' needs a number or date column; {column.name!r} "
                    f"is {column.kind}",
                    column=column.name,
                    rule="operator fits column",
                )
            return
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        for value in values:
            if column.kind == CATEGORY and value not in column.categories:
                self.add(
                    f"field {field}.value: {value!r} is not a category of {column.name!r}; "
                    f"allowed: {', '.join(column.categories)}",
                    column=column.name,
                    rule="known category",
                )
            elif column.kind == BOOLEAN and not isinstance(value, bool):
                self.add(
                    f"field {field}.value: {column.name!r} is true or false, not {value!r}",
                    column=column.name,
                    rule="boolean value",
                )


# --- plain words ---------------------------------------------------------------------------------


def describe_method(indicator: Indicator) -> str:
    """The recipe and roll-up in plain words, for reference sheets and exports."""
    return f"{describe_recipe(indicator)}; life of project: {ROLLUP_WORDS[indicator.rollup]}"


def describe_recipe(indicator: Indicator) -> str:
    """The recipe alone in plain words (without the roll-up)."""
    method = indicator.method
    if method.measure == "reported":
        return (
            "Reported directly by the project in the reported_values table (tally sheets or other "
            "aggregates), not computed from row-level records"
        )
    where = _where(method.filter)
    until = f" and {method.until} empty or on or after it" if method.until else ""
    if method.measure == "milestone":
        when = "on or before the end of the period" if method.cumulative else "within the period"
        return (
            f"Yes when a row in {method.table}{where} has {method.date} {when}{until}, otherwise no"
        )
    rows = f"rows in {method.table}{where}"
    if method.measure == "days_in_period":
        return (
            f"Days from {method.date} to {method.end} that fall in the period, summed over {rows} "
            "(a span still running counts to the period's end, or to the latest date recorded)"
        )
    if method.until:
        return (
            f"{_describe_measure(method, rows)}, at the end of the period: rows with {method.date} "
            f"on or before it{until}"
        )
    return f"{_describe_measure(method, rows)}, placed in a period by {method.date}"


def _describe_measure(method: Method, rows: str) -> str:
    measure = method.measure
    if measure == "count":
        return f"Count of {rows}"
    if measure == "count_distinct":
        return f"Number of distinct {method.column} over {rows}"
    if measure in ("sum", "mean", "median"):
        return f"{measure.capitalize()} of {method.column} over {rows}"
    if measure == "change":
        pair = f"{rows} that have both {method.before} (before) and {method.after} (after)"
        if method.statistic == "mean_change":
            return f"Mean of {method.after} minus {method.before} over {pair}"
        return f"Percentage of {pair} whose {method.after} is higher than {method.before}"
    numerator = _describe_part(method.numerator)
    denominator = _describe_part(method.denominator)
    if measure == "share":
        return (
            f"Percentage over {rows}: ({numerator}) ÷ ({denominator}) × {method.factor or 100:,g}"
        )
    factor = f" × {method.factor:,g}" if method.factor not in (None, 1) else ""
    return f"{measure.capitalize()} over {rows}: ({numerator}) ÷ ({denominator}){factor}"


def _describe_part(part: Part | None) -> str:
    if part is None:
        return "count of all these rows"
    if part.project_value:
        return f"the project's {part.project_value} (from project.yaml context)"
    what = {
        "count": "count of rows",
        "count_distinct": f"distinct {part.column}",
        "sum": f"sum of {part.column}",
    }[part.aggregate]
    return what + _where(part.filter)


def _where(conditions: list[Condition]) -> str:
    return " where " + " and ".join(describe_condition(c) for c in conditions) if conditions else ""


def describe_condition(condition: Condition) -> str:
    """One filter condition in plain words, e.g. 'verdict is one of convicted, acquitted'."""
    column, value = condition.column, condition.value
    if condition.op == "is_null":
        return f"{column} is {'empty' if value else 'filled in'}"
    if condition.op == "range":
        low, high = value
        if low is None:
            return f"{column} is at most {high}"
        if high is None:
            return f"{column} is at least {low}"
        return f"{column} is between {low} and {high}"
    if isinstance(value, list):
        listed = ", ".join(_word(v) for v in value)
        return f"{column} is {'one' if condition.op == 'in' else 'none'} of {listed}"
    return f"{column} is {'not ' if condition.op == 'not' else ''}{_word(value)}"


def _word(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "empty" if value is None else str(value)


# --- text for the terminal ------------------------------------------------------------------------

LIST_COLUMNS = ("id", "pillar", "area", "level", "unit", "name")
MAX_AREA_WIDTH = 24
MIN_NAME_WIDTH = 20


def list_table(indicators: Sequence[Indicator], width: int = 100) -> str:
    """An aligned table (id, pillar, area, level, unit, name).

    Areas and names cut to fit `width`.
    """
    rows = [tuple(getattr(i, name) for name in LIST_COLUMNS) for i in indicators]
    widths = [
        max([len(name), *(len(row[k]) for row in rows)]) for k, name in enumerate(LIST_COLUMNS)
    ]
    room = width - sum(widths[:2]) - sum(widths[3:5]) - 2 * (len(widths) - 1)  # for area and name
    widths[2] = min(widths[2], max(MAX_AREA_WIDTH, room - widths[-1]))
    widths[-1] = max(room - widths[2], MIN_NAME_WIDTH)
    lines = [(*LIST_COLUMNS,), *rows]
    return "\n".join(
        "  ".join(_fit(text, w).ljust(w) for text, w in zip(line, widths)).rstrip()
        for line in lines
    )


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def reference_sheet(indicator: Indicator, width: int = 88) -> str:
    """A printable reference sheet.

    Identity, meaning, recipe in plain words, roll-up and sources.
    """
    i = indicator
    title = f"{i.id}  {i.name}"
    facts = [
        ("Pillar", i.pillar),
        ("Area", i.area),
        ("Level", i.level),
        ("Unit", i.unit),
        (
            "Direction",
            f"{i.direction} ({'higher' if i.direction == 'increase' else 'lower'} is better)",
        ),
        ("Frequency", i.frequency),
        ("Roll-up", f"{i.rollup} (life of project: {ROLLUP_WORDS[i.rollup]})"),
        ("Counts", f"{i.counts} (one unit: {i.counting_unit})"),
        ("Disaggregations", ", ".join(i.disaggregations) or "none"),
        ("Mandatory", ", ".join(i.mandatory_disaggregations) or "none"),
        ("References", "; ".join(i.references) or "none"),
        ("IATI measure", i.iati_measure or "none"),
    ]
    lines = [*textwrap.wrap(title, width), "=" * min(len(title), width), ""]
    label_width = max(len(label) for label, _ in facts) + 2
    for label, value in facts:
        lines += textwrap.wrap(
            value,
            width,
            initial_indent=f"{label}:".ljust(label_width),
            subsequent_indent=" " * label_width,
        )
    for heading, text in pirs_sections(i):
        lines += [
            "",
            heading,
            *textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="  "),
        ]
    lines += ["", "Change log"]
    for change in i.change_log:
        lines += textwrap.wrap(
            f"{change.date:%Y-%m-%d}  {change.change}",
            width,
            initial_indent="  ",
            subsequent_indent="              ",
        )
    return "\n".join(lines)


def pirs_sections(indicator: Indicator) -> list[tuple[str, str]]:
    """The reference sheet's texts, headed as a performance indicator reference sheet heads them."""
    i = indicator
    return [
        ("Definition", i.definition),
        ("Rationale", i.rationale),
        ("Method", describe_recipe(i)),
        ("Counting unit and double counting", f"One unit: {i.counting_unit}. {i.double_counting}"),
        ("Data source", i.data_source),
        ("Collected by", i.collected_by),
        ("Reported by", i.reported_by),
        ("Collection timing", i.collection_timing),
        ("Reporting lag", i.reporting_lag),
        ("Known data limitations", i.data_limitations),
        ("Rationale for targets", i.target_rationale),
        ("Baseline timeframe", i.baseline_timeframe),
    ]


# --- tables and files ----------------------------------------------------------------------------


# Column widths of the xlsx export (characters); long texts wrap.
EXPORT_WIDTHS = {
    "id": 10,
    "name": 45,
    "pillar": 12,
    "area": 22,
    "level": 9,
    "unit": 8,
    "direction": 10,
    "definition": 60,
    "rationale": 60,
    "method": 60,
    "rollup": 10,
    "disaggregations": 30,
    "data_source": 40,
    "frequency": 12,
    "references": 30,
    "iati_measure": 12,
    "counts": 10,
    "counting_unit": 30,
    "double_counting": 50,
    "mandatory_disaggregations": 24,
    "collected_by": 30,
    "reported_by": 30,
    "collection_timing": 30,
    "reporting_lag": 24,
    "data_limitations": 50,
    "target_rationale": 50,
    "baseline_timeframe": 30,
    "change_log": 50,
    "recipe": 40,
}
PIRS_TEXT_FIELDS = (
    "counts",
    "counting_unit",
    "double_counting",
    "collected_by",
    "reported_by",
    "collection_timing",
    "reporting_lag",
    "data_limitations",
    "target_rationale",
    "baseline_timeframe",
)


def catalogue_frame(indicators: Iterable[Indicator]) -> pd.DataFrame:
    """One row per indicator with every field as text; `recipe` holds the method as JSON."""
    rows = [
        {
            "id": i.id,
            "name": i.name,
            "pillar": i.pillar,
            "area": i.area,
            "level": i.level,
            "unit": i.unit,
            "direction": i.direction,
            "definition": i.definition,
            "rationale": i.rationale,
            "method": describe_method(i),
            "rollup": i.rollup,
            "disaggregations": ", ".join(i.disaggregations),
            "data_source": i.data_source,
            "frequency": i.frequency,
            "references": "; ".join(i.references),
            "iati_measure": i.iati_measure or "",
            **{name: getattr(i, name) for name in PIRS_TEXT_FIELDS},
            "mandatory_disaggregations": ", ".join(i.mandatory_disaggregations),
            "change_log": "; ".join(f"{c.date:%Y-%m-%d}: {c.change}" for c in i.change_log),
            "recipe": json.dumps(i.method.model_dump(exclude_defaults=True)),
        }
        for i in indicators
    ]
    return pd.DataFrame(rows, columns=list(EXPORT_WIDTHS)).astype("string")


def export_catalogue(indicators: Iterable[Indicator], path: str | Path, fmt: str) -> Path:
    """Write the indicators as csv, xlsx (styled header, frozen, sized columns) or markdown."""
    path = Path(path)
    frame = catalogue_frame(indicators)
    if fmt == "csv":
        csv_safe_frame(frame).to_csv(path, index=False)
    elif fmt == "xlsx":
        _write_xlsx(frame, path)
    elif fmt == "md":
        path.write_text(catalogue_markdown(frame), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """The catalogue as one styled sheet: white-on-blue frozen header, sized, wrapped columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "indicators"
    for row, values in enumerate([list(frame.columns), *frame.itertuples(index=False)], start=1):
        for column, value in enumerate(values, start=1):
            xlsx_cell(sheet.cell(row, column), None if pd.isna(value) else value)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    for number, name in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = EXPORT_WIDTHS[name]
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)


def catalogue_markdown(frame: pd.DataFrame) -> str:
    """A markdown document with one table per pillar.

    Columns: id, name, area, level, unit, direction, method.
    """
    columns = ["id", "name", "area", "level", "unit", "direction", "method"]
    lines = ["# Indicator catalogue", ""]
    for pillar in PILLARS:
        rows = frame[frame["pillar"] == pillar]
        if rows.empty:
            continue
        lines += [
            f"## {pillar.capitalize()} ({len(rows)})",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "---|" * len(columns),
        ]
        for _, row in rows.iterrows():
            lines.append("| " + " | ".join(str(row[c]).replace("|", "\\|") for c in columns) + " |")
        lines.append("")
    return "\n".join(lines)
