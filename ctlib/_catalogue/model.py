"""The typed model of one catalogue entry: its reference sheet and its recipe (`method`).

The recipe is a small declarative vocabulary; nothing from YAML is ever evaluated as code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Pillar = Literal["prevention", "protection", "prosecution", "partnership"]
Level = Literal["process", "output", "outcome", "impact"]
Unit = Literal["count", "percent", "ratio", "rate", "yes_no", "score"]
Direction = Literal["increase", "decrease"]
Rollup = Literal["sum", "latest", "recompute"]
Measure = Literal[
    "count",
    "count_distinct",
    "sum",
    "mean",
    "median",
    "share",
    "ratio",
    "rate",
    "milestone",
    "change",
    "reported",
    "function",
]
Operator = Literal["equals", "in", "not", "range", "is_null"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One filter condition on a column of the recipe's table.

    equals: value == v · in: value in [v, ...] · not: value != v (or not in a list) ·
    range: lo <= value <= hi (either bound may be null) · is_null: true/false.
    """

    column: str
    op: Operator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_operator(self):
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("'in' takes a list of values")
        if self.op == "range" and not (isinstance(self.value, list) and len(self.value) == 2):
            raise ValueError("'range' takes [low, high] (null for an open end)")
        if self.op == "is_null" and not isinstance(self.value, bool):
            raise ValueError("'is_null' takes true or false")
        return self


class Part(_Strict):
    """Numerator or denominator of a share, ratio or rate.

    Rows are the recipe's rows narrowed by `filter`; they are aggregated by `aggregate`
    (count rows, count distinct values of `column`, or sum `column`). A rate's denominator may
    instead come from the project's context (`project_value`, e.g. population).
    """

    filter: list[Condition] = Field(default_factory=list)
    aggregate: Literal["count", "count_distinct", "sum"] = "count"
    column: str | None = None
    project_value: str | None = None

    @model_validator(mode="after")
    def _column_when_needed(self):
        if (
            self.aggregate in ("count_distinct", "sum")
            and not self.column
            and not self.project_value
        ):
            raise ValueError(f"aggregate {self.aggregate!r} needs a column")
        return self


class Method(_Strict):
    """How to compute an indicator from the standard tables."""

    measure: Measure
    table: str | None = None  # the standard table the recipe reads (not for 'function')
    date: str | None = None  # the date column that places a record in a period
    filter: list[Condition] = Field(default_factory=list)  # narrows the rows for every part
    column: str | None = None  # count_distinct / sum / mean / median: the column aggregated
    numerator: Part | None = None  # share, ratio, rate
    denominator: Part | None = None  # share, ratio, rate
    factor: float | None = None  # share: 100 (default); rate: e.g. 100000; ratio: 1
    before: str | None = None  # change: the column measured before
    after: str | None = None  # change: the column measured after
    statistic: Literal["share_improved", "mean_change"] = "share_improved"  # change
    cumulative: bool = True  # milestone: achieved by the end of the period (not only within it)
    function: str | None = None  # function: name of a registered Python function

    @model_validator(mode="after")
    def _fields_fit_measure(self):
        needs = {
            "count_distinct": ("column",),
            "sum": ("column",),
            "mean": ("column",),
            "median": ("column",),
            "share": ("numerator",),
            "ratio": ("numerator", "denominator"),
            "rate": ("numerator", "denominator"),
            "change": ("before", "after"),
            "function": ("function",),
        }.get(self.measure, ())
        missing = [f for f in needs if getattr(self, f) is None]
        if self.measure not in ("function", "reported") and not self.table:
            missing.insert(0, "table")
        if self.measure not in ("function", "reported") and not self.date:
            missing.append("date")
        if missing:
            raise ValueError(f"measure {self.measure!r} needs {', '.join(missing)}")
        return self


class Indicator(_Strict):
    """One catalogue entry: identity, meaning and recipe."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*-[A-Z0-9][A-Z0-9.-]*$")
    name: str
    pillar: Pillar
    area: str
    level: Level
    unit: Unit
    direction: Direction
    definition: str
    rationale: str
    data_source: str
    frequency: Literal["monthly", "quarterly", "semester", "annual", "end_of_project"]
    disaggregations: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    iati_measure: Literal["unit", "percentage", "nominal", "ordinal", "qualitative"] | None = None
    method: Method
    rollup: Rollup
