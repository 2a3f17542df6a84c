"""The typed model of project.yaml: identity, reporting, results chain, indicators, sources, privacy."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LIFE_OF_PROJECT = "life_of_project"  # the key of the life-of-project target and period


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
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    status_bands: tuple[float, float] = (85.0, 115.0)  # on track within these % of target
    # ISO 4217 code of the amounts in the project's tables (budgets, compensation)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


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


class Baseline(_Strict):
    value: float | None = None
    date: dt.date | None = None


class DataQualityAssessment(_Strict):
    """The project's data-quality assessments of one indicator (a PIRS field)."""

    last_date: dt.date | None = None
    next_date: dt.date | None = None


class SelectedIndicator(_Strict):
    id: str
    result: str | None = None  # the outcome or output it measures (an id of the results chain)
    baseline: Baseline = Field(default_factory=Baseline)
    targets: dict[str, float] = Field(
        default_factory=dict
    )  # period label or life_of_project -> target
    disaggregations: list[str] = Field(default_factory=list)
    comments: dict[str, str] = Field(default_factory=dict)  # period label -> comment
    target_rationale: str | None = None  # why these targets (the catalogue's guidance otherwise)
    data_quality_assessment: DataQualityAssessment = Field(default_factory=DataQualityAssessment)


class Source(_Strict):
    file: str
    format: Literal["auto", "csv", "xlsx", "parquet", "htcds"] = "auto"
    sheet: str | None = None
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
    sources: dict[str, Source] = Field(default_factory=dict)  # standard table name -> source
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

    def indicator(self, indicator_id: str) -> SelectedIndicator:
        for selected in self.indicators:
            if selected.id == indicator_id:
                return selected
        raise KeyError(indicator_id)
