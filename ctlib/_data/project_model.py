"""The typed model of project.yaml.

Identity, reporting, results chain, indicators, sources, privacy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .convert import UNAVAILABLE_MARKERS

LIFE_OF_PROJECT = "life_of_project"  # the key of the life-of-project target and period
CROSS = (
    " × "  # joins the dimensions of a cross-disaggregation ("sex × age_group") and its categories
)
FISCAL_YEAR_PRESETS = {  # the month a government's fiscal year starts
    "usg": 10,  # United States Government (USAID, State Department): October–September
    "uk": 4,
    "canada": 4,
    "india": 4,
    "japan": 4,  # April–March
    "australia": 7,
    "kenya": 7,
    "uganda": 7,
    "tanzania": 7,
    "pakistan": 7,
    "egypt": 7,
    "bangladesh": 7,  # July–June
    "thailand": 10,  # October–September
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identity(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    organisation: str
    donor: str
    country: str = Field(description="ISO 3166 alpha-2 code of the project country")
    start_date: dt.date
    end_date: dt.date

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.end_date <= self.start_date:
            raise ValueError("end_date must come after start_date")
        return self


class Reporting(_Strict):
    frequency: Literal["quarterly", "semester", "annual"] = "quarterly"
    calendar: Literal["calendar", "fiscal"] = "calendar"
    # a fiscal calendar's first month: 1-12, or a preset of FISCAL_YEAR_PRESETS such as usg
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    status_bands: tuple[float, float] = (85.0, 115.0)  # on track within these % of target
    # ISO 4217 code of the amounts in the project's tables (budgets, compensation)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    deviation_threshold: float = Field(10.0, ge=0)  # % off the target to date that needs a comment
    data_as_of: dt.date | None = None  # when the data were extracted (default: its latest date)

    @field_validator("fiscal_year_start_month", mode="before")
    @classmethod
    def _preset(cls, value):
        if isinstance(value, str) and not value.isdigit():
            if value.casefold() not in FISCAL_YEAR_PRESETS:
                presets = ", ".join(f"{k} ({v})" for k, v in FISCAL_YEAR_PRESETS.items())
                raise ValueError(f"{value!r} is not a month number (1-12) or a preset: {presets}")
            return FISCAL_YEAR_PRESETS[value.casefold()]
        return value

    @model_validator(mode="after")
    def _fiscal_needs_its_month(self):
        if self.calendar == "fiscal" and self.fiscal_year_start_month is None:
            raise ValueError(
                "calendar: fiscal needs fiscal_year_start_month: the month the fiscal year starts "
                "(1-12) or a preset such as usg (October)"
            )
        if self.calendar == "calendar" and self.fiscal_year_start_month not in (None, 1):
            raise ValueError(
                "a calendar year starts in January: remove fiscal_year_start_month, or set "
                "calendar: fiscal"
            )
        low, high = self.status_bands
        if not 0 <= low <= 100 <= high:
            raise ValueError(
                "status_bands must be [low, high] with low <= 100 <= high, e.g. [85, 115]"
            )
        return self

    @property
    def start_month(self) -> int:
        """The first month of the project's year: January for a calendar year."""
        return self.fiscal_year_start_month if self.calendar == "fiscal" else 1


class Result(_Strict):
    id: str
    statement: str


class Outcome(Result):
    outputs: list[Result] = Field(default_factory=list)


class ResultsChain(_Strict):
    objective: str
    outcomes: list[Outcome] = Field(default_factory=list)

    def result_ids(self) -> list[str]:
        ids = []
        for outcome in self.outcomes:
            ids.append(outcome.id)
            ids += [o.id for o in outcome.outputs]
        return ids


def _with_categories(value, known: set[str]):
    """A mapping of `known` keys whose other keys are dimensions ({category: number}), gathered
    under `categories` (so that `sex: {female: 24}` sits beside `total: 40`)."""
    if not isinstance(value, dict):
        return value
    known = {k: v for k, v in value.items() if k in known}
    dimensions = {k: v for k, v in value.items() if k not in known}
    return {**known, "categories": dimensions} if dimensions else known


class Baseline(_Strict):
    """The baseline: a value and its date; `sex: {female: 12}` beside them sets a category's."""

    value: float | None = None
    date: dt.date | None = None
    categories: dict[str, dict[str, float]] = Field(default_factory=dict)  # dimension -> category

    @model_validator(mode="before")
    @classmethod
    def _dimensions(cls, value):
        return _with_categories(value, {"value", "date", "categories"})


class Target(_Strict):
    """One period's target: a number (`total`) or a range (`between: [85, 95]`), and targets of
    categories beside it (`sex: {female: 24}`). In project.yaml a plain number is the total."""

    total: float | None = None
    between: tuple[float, float] | None = None
    categories: dict[str, dict[str, float]] = Field(default_factory=dict)  # dimension -> category

    @model_validator(mode="before")
    @classmethod
    def _number_or_mapping(cls, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"total": value}
        return _with_categories(value, {"total", "between", "categories"})

    @model_validator(mode="after")
    def _one_kind(self):
        if self.total is not None and self.between is not None:
            raise ValueError("a target is a number (total) or a range (between), not both")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between takes [low, high] with low <= high")
        return self


class DataQualityAssessment(_Strict):
    """The project's data-quality assessments of one indicator (a PIRS field)."""

    last_date: dt.date | None = None
    next_date: dt.date | None = None


class SelectedIndicator(_Strict):
    id: str
    result: str | None = None  # the outcome or output it measures (an id of the results chain)
    baseline: Baseline = Field(default_factory=Baseline)
    targets: dict[str, Target] = Field(default_factory=dict)  # period label or life_of_project
    # dimensions, or lists of dimensions crossed (["sex", "age_group"] reads "sex × age_group")
    disaggregations: list[str] = Field(default_factory=list)
    comments: dict[str, str] = Field(default_factory=dict)  # period label -> comment
    target_rationale: str | None = None  # why these targets (the catalogue's guidance otherwise)
    data_quality_assessment: DataQualityAssessment = Field(default_factory=DataQualityAssessment)
    direction: Literal["increase", "decrease", "none"] | None = None  # overrides the catalogue's
    status_bands: tuple[float, float] | None = None  # overrides reporting.status_bands

    @field_validator("disaggregations", mode="before")
    @classmethod
    def _crossed(cls, value):
        if not isinstance(value, list):
            return value
        return [CROSS.join(map(str, d)) if isinstance(d, list) else d for d in value]

    def target(self, label: str) -> float | None:
        """The total target of a period (None when it has none or a range)."""
        target = self.targets.get(label)
        return None if target is None else target.total


class Numbers(_Strict):
    """How a source writes numbers (see `convert`)."""

    decimal: Literal[".", ","] = "."  # the decimal mark; the other one may group thousands
    source_suppressed: list[str] = Field(default_factory=list)  # markers besides <N, e.g. x, c
    unavailable: list[str] = Field(
        default_factory=lambda: list(UNAVAILABLE_MARKERS)
    )  # replaces the defaults when given


class Wide(_Strict):
    """One column per category: each row of the file becomes one row per listed column."""

    categories: dict[str, dict[str, str]] = Field(
        default_factory=dict
    )  # dimension -> {their column: category}
    total: str | None = None  # their column holding the total (dimension and category empty)
    value: Literal["value", "numerator", "denominator"] = "value"  # where the cells go

    @model_validator(mode="after")
    def _some_columns(self):
        if not self.categories and not self.total:
            raise ValueError("name the category columns (categories) or the total column (total)")
        return self

    def columns(self) -> dict[str, tuple[str, str]]:
        """Their column -> (dimension, category); the total's dimension and category are ''."""
        found = {name: ("", "") for name in [self.total] if name}
        for dimension, categories in self.categories.items():
            found.update({name: (dimension, category) for name, category in categories.items()})
        return found


class PeriodColumns(_Strict):
    """The period written over columns: a year, and a quarter or semester within it."""

    year: str  # their column holding the year (2025, FY2025)
    quarter: str | None = None  # their column holding the quarter (1-4, Q1-Q4)
    semester: str | None = None  # their column holding the semester (1-2, S1-S2)
    fiscal_year_start_month: int | None = Field(
        None, ge=1, le=12
    )  # the source's own year; default: the project's

    def columns(self) -> list[str]:
        return [c for c in (self.year, self.quarter, self.semester) if c]

    @model_validator(mode="after")
    def _one_part(self):
        if self.quarter and self.semester:
            raise ValueError("give a quarter or a semester column, not both")
        return self


class Source(_Strict):
    file: str | list[str]  # a path, a pattern (data/q*.csv) or a list of them, in the project
    format: Literal["auto", "csv", "xlsx", "parquet", "htcds", "kobo", "odk"] = "auto"
    sheet: str | list[str] | None = None  # a sheet, a list of sheets, or "*" for every sheet
    header_row: int = Field(1, ge=1)  # 1-based row holding the column names
    encoding: str | None = None  # csv: detected when empty
    delimiter: str | None = None  # csv: detected when empty
    columns: dict[str, str] = Field(
        default_factory=dict
    )  # the project's column name -> standard name
    values: dict[str, dict[str, Any]] = Field(
        default_factory=dict
    )  # standard column -> {their code: standard}
    internal_only_columns: list[str] = Field(
        default_factory=list
    )  # identifier-like columns allowed in
    constants: dict[str, Any] = Field(
        default_factory=dict
    )  # standard column -> the value of every row
    filter: dict[str, Any] = Field(
        default_factory=dict
    )  # their column -> the value (or list of values) of the rows to keep
    wide: Wide | None = None
    period: PeriodColumns | None = None
    numbers: Numbers = Field(default_factory=Numbers)
    date_order: Literal["auto", "DMY", "MDY", "YMD"] = "auto"
    separators: dict[str, str] = Field(
        default_factory=dict
    )  # multi-valued standard column -> characters between its values in a cell
    options: dict[str, dict[str, str]] = Field(
        default_factory=dict
    )  # multi-valued standard column -> {their 0/1 column: category}
    repeat_of: str | None = None  # kobo/odk: the table whose rows this repeat group belongs to
    group_separator: str | None = None  # kobo/odk: between group and field names (/ and -)
    include_rejected: bool = False  # kobo/odk: keep submissions marked not approved / rejected

    @property
    def files(self) -> list[str]:
        return [self.file] if isinstance(self.file, str) else list(self.file)

    @property
    def sheets(self) -> list[str | None]:
        return [self.sheet] if self.sheet is None or isinstance(self.sheet, str) else self.sheet


class ContextValue(_Strict):
    """A context figure with its breakdowns, e.g. the population by sex and by age group, so that a
    rate's disaggregated cells divide by their own population."""

    total: float
    by: dict[str, dict[str, float]] = Field(default_factory=dict)  # dimension -> category -> value
    # dimensions whose every category divides by the total (the whole population can be exploited
    # in any form, so a rate by form of exploitation divides by all of it)
    total_for: list[str] = Field(default_factory=list)


class Privacy(_Strict):
    min_cell_size: int = Field(5, ge=1)
    policy: Literal["suppression", "rounding"] = "suppression"  # how donor releases protect counts
    rounding_base: Literal[3, 5] = 3  # with policy: rounding


class Releases(_Strict):
    database: str | None = None  # the release ledger's SQLAlchemy URL; default beside the data


IATI_ORGANISATION_TYPES = {  # IATI's OrganisationType codelist
    "10": "Government",
    "11": "Local Government",
    "15": "Other Public Sector",
    "21": "International NGO",
    "22": "National NGO",
    "23": "Regional NGO",
    "24": "Partner Country based NGO",
    "30": "Public Private Partnership",
    "40": "Multilateral",
    "60": "Foundation",
    "70": "Private Sector",
    "71": "Private Sector in Provider Country",
    "72": "Private Sector in Aid Recipient Country",
    "73": "Private Sector in Third Country",
    "80": "Academic, Training and Research",
    "90": "Other",
}


class IatiOrganisation(_Strict):
    ref: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*-[A-Za-z0-9._-]+$")  # e.g. XM-DAC-47066
    type: str  # a code of IATI's OrganisationType codelist, e.g. 21 (International NGO)
    name: str

    @field_validator("type", mode="before")
    @classmethod
    def _code_as_text(cls, value):
        return str(value) if isinstance(value, int) else value  # type: 21 as well as '21'

    @model_validator(mode="after")
    def _known_type(self):
        if self.type not in IATI_ORGANISATION_TYPES:
            codes = ", ".join(f"{c} {n}" for c, n in IATI_ORGANISATION_TYPES.items())
            raise ValueError(f"type {self.type!r} is not an IATI organisation type ({codes})")
        return self


class Iati(_Strict):
    """How the project is published to IATI (`ctlib export iati`)."""

    identifier: str  # the activity's IATI identifier: the reporting org's ref, "-", its own id
    reporting_org: IatiOrganisation

    @model_validator(mode="after")
    def _identifier_starts_with_the_org(self):
        if not self.identifier.startswith(f"{self.reporting_org.ref}-"):
            raise ValueError(
                f"identifier {self.identifier!r} must start with the reporting org's ref and a "
                f"hyphen ({self.reporting_org.ref}-...), as IATI requires"
            )
        if any(character.isspace() for character in self.identifier):
            raise ValueError(f"identifier {self.identifier!r} must not contain spaces")
        return self


class Project(_Strict):
    project: Identity
    reporting: Reporting = Field(default_factory=Reporting)
    # e.g. population, for rates: a number, or {total, by: {sex: {female: ..., male: ...}}}
    context: dict[str, float | ContextValue] = Field(default_factory=dict)
    results_chain: ResultsChain
    indicators: list[SelectedIndicator] = Field(default_factory=list)
    sources: dict[str, Source | list[Source]] = Field(
        default_factory=dict
    )  # standard table name -> its source, or a list of sources appended
    data_folders: list[str] = Field(
        default_factory=list
    )  # folders outside the project that sources may read (shared data); the project's own always

    catalogue: str | None = (
        None  # a YAML file of the team's own indicators, relative to the project
    )
    privacy: Privacy = Field(default_factory=Privacy)
    iati: Iati | None = None  # publishing results to IATI (optional)
    releases: Releases = Field(default_factory=Releases)
    quality_rules: list[dict[str, Any]] = Field(default_factory=list)  # validated by ctlib.quality

    @property
    def id(self) -> str:
        return self.project.id

    def source_list(self, table: str) -> list[Source]:
        """The sources of a table, as a list (one source or several appended)."""
        sources = self.sources.get(table, [])
        return [sources] if isinstance(sources, Source) else list(sources)

    def indicator(self, indicator_id: str) -> SelectedIndicator:
        for selected in self.indicators:
            if selected.id == indicator_id:
                return selected
        raise KeyError(indicator_id)
