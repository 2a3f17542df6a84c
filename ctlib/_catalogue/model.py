"""The typed model of one catalogue entry: its reference sheet and its recipe (`method`).

The recipe is a small declarative vocabulary; nothing from YAML is ever evaluated as code, and
there is no measure that calls a Python function: every indicator is a declared recipe over the
standard tables, so the catalogue check, the explorer's rows behind a value, privacy's knowledge of
what is a count and the plain-words method all cover every indicator. What a recipe cannot say is
derived once as a column of the data model (`_data.derive`), where it is typed and documented.

The reference sheet carries the fields of a performance indicator reference sheet (PIRS): what
one unit counted is and how double counting is avoided, the mandatory disaggregations, who collects
and who reports, when, the known limitations, how targets and baselines are set, and a change log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Pillar = Literal["prevention", "protection", "prosecution", "partnership"]
Level = Literal["process", "output", "outcome", "impact"]
Unit = Literal["count", "percent", "ratio", "rate", "yes_no", "score", "days", "months", "currency"]
# What one counted unit is: privacy hides small counts of people and cases only; events (meetings,
# trainings held), documents (laws, agreements), organisations and money are public facts.
Counts = Literal["people", "cases", "events", "documents", "organisations", "money"]
Direction = Literal["increase", "decrease", "none"]  # none: monitored, not graded
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
    "days_in_period",
    "reported",
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


class ObservationWindow(_Strict):
    """How long after its start event (the recipe's date) an outcome is known: `days` or `months`.

    A period whose end is less than this before the data's as-of date is provisional: its value
    is shown with a mark, not graded, and becomes final by itself once the window has passed.
    """

    days: int | None = Field(None, ge=1)
    months: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_length(self):
        if (self.days is None) == (self.months is None):
            raise ValueError("an observation window takes days or months (one of them)")
        return self


class Method(_Strict):
    """How to compute an indicator from the standard tables."""

    measure: Measure
    table: str | None = None  # the standard table the recipe reads (not for 'reported')
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
    end: str | None = None  # days_in_period: the date column that ends each record's span
    # A stock at the end of each period: a record counts from its `date` until this date column
    # (inclusive; empty: still open), e.g. cases open at the end of the quarter.
    until: str | None = None
    observation: ObservationWindow | None = None  # when the outcome of a record is known

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
            "days_in_period": ("end",),
        }.get(self.measure, ())
        missing = [f for f in needs if getattr(self, f) is None]
        if self.measure != "reported" and not self.table:
            missing.insert(0, "table")
        if self.measure != "reported" and not self.date:
            missing.append("date")
        if missing:
            raise ValueError(f"measure {self.measure!r} needs {', '.join(missing)}")
        return self


class Change(_Strict):
    """One entry of an indicator's change log."""

    date: dt.date
    change: str


class Indicator(_Strict):
    """One catalogue entry: identity, meaning, the PIRS fields and the recipe."""

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
    # performance indicator reference sheet (PIRS)
    counts: Counts
    counting_unit: str  # one unit counted, e.g. "one person", "one defendant", "one law"
    double_counting: str  # how the same unit is kept from being counted twice
    mandatory_disaggregations: list[str] = Field(default_factory=list)
    collected_by: str
    reported_by: str
    collection_timing: str
    reporting_lag: str
    data_limitations: str
    target_rationale: str
    baseline_timeframe: str
    change_log: list[Change] = Field(min_length=1)
    method: Method
    rollup: Rollup

    @model_validator(mode="after")
    def _mandatory_are_offered(self):
        extra = [d for d in self.mandatory_disaggregations if d not in self.disaggregations]
        if extra:
            raise ValueError(
                f"mandatory disaggregation(s) {', '.join(extra)} must be among disaggregations"
            )
        return self
