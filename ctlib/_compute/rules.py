"""Consistency rules of a project's data, in the style of DHIS2 validation rules.

A rule has a left and a right side, each one aggregate (or a list of aggregates and numbers, added
up) compared with an operator in every period. An aggregate's filter and measure are read as the
engine reads a recipe's part (`engine.part_per_group`). Rules come from project.yaml
(`quality_rules`) and from built-in defaults for the tables present (a project rule with the same
name replaces a default); `quality` evaluates them.
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .._catalogue.model import Condition
from .._data.project_data import ProjectData
from .._data.tables import CATEGORY, DATE, INTEGER, NUMBER, TABLES
from .._errors import Problem, ProjectError

OPERATORS = {
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "!=": operator.ne,
}

PERIOD_LABEL_TABLE = "reported_values"  # placed in periods by its `period` label, not by a date


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Aggregate(_Strict):
    """One aggregate of a standard table per period.

    Count rows, count distinct values or sum a column.
    """

    table: str
    measure: Literal["count", "count_distinct", "sum"] = "count"
    column: str | None = None
    date: str | None = (
        None  # the date column that places a record in a period (reported_values: none)
    )
    filter: list[Condition] = Field(default_factory=list)
    cumulative: bool = False  # every record up to the end of the period, not only those within it

    @model_validator(mode="after")
    def _fits_table(self):
        if self.table not in TABLES:
            raise ValueError(
                f"unknown table {self.table!r}; standard tables are: {', '.join(TABLES)}"
            )
        table = TABLES[self.table]
        if self.measure != "count" and self.column is None:
            raise ValueError(f"measure {self.measure!r} needs a column")
        if (self.date is None) != (self.table == PERIOD_LABEL_TABLE):
            raise ValueError(
                "reported_values is placed by its period label and takes no date"
                if self.table == PERIOD_LABEL_TABLE
                else f"a rule on {self.table} needs a date column"
            )
        _check_column(table, self.date, (DATE,))
        _check_column(table, self.column, (INTEGER, NUMBER) if self.measure == "sum" else None)
        for condition in self.filter:
            column = _check_column(table, condition.column)
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if column.kind == CATEGORY and condition.op in ("equals", "in", "not"):
                unknown = [v for v in values if v not in column.categories]
                if unknown:
                    raise ValueError(
                        f"{unknown[0]!r} is not a category of {column.name!r}; "
                        f"allowed: {', '.join(column.categories)}"
                    )
        return self


def _check_column(table, name: str | None, kinds: tuple[str, ...] | None = None):
    if name is None:
        return None
    if name not in table.column_names:
        raise ValueError(f"table {table.name!r} has no column {name!r}")
    column = table.column(name)
    if kinds and column.kind not in kinds:
        raise ValueError(f"column {name!r} is {column.kind}, expected {' or '.join(kinds)}")
    return column


Item = Annotated[
    Annotated[Aggregate, Tag("aggregate")] | Annotated[float, Tag("number")],
    Discriminator(lambda value: "number" if isinstance(value, (int, float)) else "aggregate"),
]


class Rule(_Strict):
    """A consistency rule: left operator right, checked in every period."""

    name: str
    description: str = ""
    left: list[Item]
    operator: Literal["<=", "<", "==", ">=", ">", "!="]
    right: list[Item]
    missing_value_strategy: Literal["skip_if_any_missing", "skip_if_all_missing", "never_skip"] = (
        "skip_if_any_missing"
    )
    severity: Literal["error", "warning"] = "error"

    @field_validator("left", "right", mode="before")
    @classmethod
    def _as_list(cls, side):
        return side if isinstance(side, list) else [side]


def _count_rule(
    name: str, description: str, table: str, left: tuple[str, list], right: tuple[str, list]
) -> Rule:
    """A built-in rule: left rows so far <= right rows so far.

    Each counted by its own date, cumulatively.
    """
    sides = [
        Aggregate(table=table, date=date, filter=conditions, cumulative=True)
        for date, conditions in (left, right)
    ]
    return Rule(name=name, description=description, left=sides[:1], operator="<=", right=sides[1:])


_CONVICTED = [Condition(column="verdict", op="equals", value="convicted")]
_PROSECUTED = [Condition(column="prosecution_date", op="is_null", value=False)]
DEFAULT_RULES = (
    _count_rule(
        "convictions_not_above_prosecutions",
        "people convicted so far cannot outnumber people prosecuted so far",
        "legal_cases",
        ("verdict_date", _CONVICTED),
        ("prosecution_date", _PROSECUTED),
    ),
    _count_rule(
        "prosecutions_not_above_investigations",
        "people prosecuted so far cannot outnumber people investigated so far",
        "legal_cases",
        ("prosecution_date", _PROSECUTED),
        ("investigation_date", []),
    ),
    _count_rule(
        "referred_not_above_identified",
        "people referred so far cannot outnumber people identified so far",
        "cases",
        ("referral_date", [Condition(column="is_referred", op="equals", value=True)]),
        ("identification_date", []),
    ),
)


def load_rules(data: ProjectData) -> list[Rule]:
    """The project's quality rules and the built-in defaults for its tables.

    ProjectError listing bad rules.
    """
    rules, problems = [], []
    for position, raw in enumerate(data.project.quality_rules):
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(
                    str(part) for part in detail["loc"] if part not in ("aggregate", "number")
                )
                name = raw.get("name", "") if isinstance(raw, dict) else ""
                problems.append(
                    Problem(
                        detail["msg"].removeprefix("Value error, "),
                        file="project.yaml",
                        entry=f"quality_rules[{position}]{f' ({name})' if name else ''}"
                        f"{f'.{where}' if where else ''}",
                        rule="quality rule",
                    )
                )
    if problems:
        raise ProjectError(f"project.yaml: {len(problems)} problem(s) in quality_rules", problems)
    names = {rule.name for rule in rules}
    defaults = [rule for rule in DEFAULT_RULES if rule.name not in names and _has_data(rule, data)]
    return defaults + rules


def _has_data(rule: Rule, data: ProjectData) -> bool:
    """Whether the project's sources give every table and column a (default) rule reads."""
    return all(
        data.provides(item.table, column)
        for item in rule.left + rule.right
        if isinstance(item, Aggregate)
        for column in [
            TABLES[item.table].key or "indicator_id",
            item.date,
            item.column,
            *(c.column for c in item.filter),
        ]
        if column
    )
