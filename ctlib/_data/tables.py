"""The standard tables: columns, types, required fields and allowed categories, declared once.

Ingestion validates against these declarations, the catalogue checks its recipes against them,
and `ctlib new` writes blank templates from them. Categories follow the HTCDS v2 picklists and
UNODC usage, written in snake_case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

# Column kinds: how a column is stored once ingested.
STRING, INTEGER, NUMBER, DATE, BOOLEAN, CATEGORY = (
    "string",
    "integer",
    "number",
    "date",
    "boolean",
    "category",
)

SEX = ("female", "male", "other", "unknown")
AGE_GROUPS = ("0-11", "12-17", "18-24", "25-34", "35-49", "50+", "unknown")
CHILD_ADULT = ("child", "adult", "unknown")
CHILD_AGE_LIMIT = 18  # a person under 18 is a child (Palermo Protocol, UNODC)
EXPLOITATION_TYPES = (
    "sexual_exploitation",
    "forced_labour",
    "child_labour",
    "forced_marriage",
    "servitude",
    "forced_military",
    "organ_removal",
    "forced_begging",
    "forced_adoption",
    "surrogacy",
    "forced_criminality",
    "other",
    "unknown",
)
IDENTIFIED_BY = (
    "police",
    "border_officials",
    "labour_inspection",
    "immigration",
    "ngo",
    "health_services",
    "social_services",
    "hotline",
    "community",
    "self_identified",
    "private_sector",
    "other",
    "unknown",
)
TRAFFICKING_STATUS = ("possible", "actual", "not_a_victim")
STATUS_DECISION_BODY = (
    "police",
    "ngo",
    "court_or_prosecution",
    "government_other",
    "other",
    "unknown",
)
CASE_STATUS = ("active", "follow_up", "closed", "closed_referred")
CLOSURE_REASONS = (
    "goals_met",
    "referred",
    "lost_contact",
    "declined_services",
    "relocated",
    "other",
)
SERVICE_TYPES = (
    "shelter",
    "medical",
    "psychosocial",
    "legal_aid",
    "interpretation",
    "residence_permit",
    "return_assistance",
    "reintegration_plan",
    "education",
    "financial",
    "livelihood",
    "social_care",
    "guardianship",
    "family_tracing",
    "other",
)
ACTIVITY_TYPES = (
    "awareness_event",
    "media_campaign",
    "safe_migration_session",
    "training",
    "hotline_operation",
    "livelihood_support",
    "labour_inspection",
    "research_publication",
    "coordination_meeting",
    "joint_operation",
    "other",
)
TARGET_GROUPS = (
    "general_public",
    "students",
    "potential_migrants",
    "returnees",
    "survivors",
    "first_responders",
    "police",
    "border_officials",
    "prosecutors",
    "judges",
    "labour_inspectors",
    "social_workers",
    "health_workers",
    "ngo_staff",
    "government_officials",
    "employers",
    "recruitment_agencies",
    "community_leaders",
    "other",
)
PILLARS = ("prevention", "protection", "prosecution", "partnership")
LEGAL_STAGES = ("investigation", "prosecution", "trial", "verdict", "appeal", "closed")
VERDICTS = ("convicted", "acquitted", "dismissed", "pending")
SURVEY_ROUNDS = ("baseline", "midline", "endline", "follow_up")
MILESTONE_TYPES = (
    "law_enacted",
    "law_amended",
    "policy_adopted",
    "national_action_plan",
    "sop_adopted",
    "nrm_established",
    "agreement_signed",
    "data_sharing_agreement",
    "coordination_body_established",
    "coordination_body_action",
    "budget_allocated",
    "survivor_advisory_body",
    "other",
)


# joins the values of a multi-valued cell of a standard table: "forced_labour;sexual_exploitation"
MULTIPLE_SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    """One column of a standard table."""

    name: str
    kind: str
    description: str
    required: bool = False  # must be present in the source and non-empty in every row
    categories: tuple[str, ...] = ()  # allowed values of a CATEGORY column
    multiple: bool = False  # a CATEGORY column holding several categories per row (select_multiple)
    derived: bool = False  # computed by ingestion, never read from a file
    minimum: float | None = None  # lowest allowed value of a number (e.g. 0 for counts)
    references: str = ""  # HTCDS field(s) or other standard it aligns with


@dataclass(frozen=True)
class Table:
    """A standard table: its columns, key and links to other tables."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str  # the column whose values must be unique
    date_columns_in_period: tuple[str, ...] = ()  # dates checked against the project span
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> "table.column"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.derived)

    @property
    def categorical_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == CATEGORY)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == DATE)


def _c(name, kind, description, **kw) -> Column:
    return Column(name, kind, description, **kw)


def _person_columns(prefix: str = "") -> tuple[Column, ...]:
    """Sex, age and the two derived age columns, shared by every table about people."""
    return (
        _c(
            f"{prefix}sex",
            CATEGORY,
            "Sex or gender as recorded",
            categories=SEX,
            references="prs_Gender",
        ),
        _c(
            f"{prefix}age",
            INTEGER,
            "Age in years at identification or at the event",
            minimum=0,
            references="vic_AgeWhenTrafficked / prs_Birthdate",
        ),
        _c(
            f"{prefix}age_group",
            CATEGORY,
            "Age band, derived from age",
            categories=AGE_GROUPS,
            derived=True,
        ),
        _c(
            f"{prefix}child_adult",
            CATEGORY,
            "Child (under 18) or adult, derived from age",
            categories=CHILD_ADULT,
            derived=True,
        ),
    )


CASES = Table(
    "cases",
    "One row per person identified as a (possible) victim of trafficking; pseudonymous.",
    (
        _c(
            "case_id",
            STRING,
            "Pseudonymous case identifier (never a name or document number)",
            required=True,
            references="cas_Id",
        ),
        _c(
            "identification_date",
            DATE,
            "Date the person was identified or registered",
            required=True,
            references="cas_CaseOpenDate",
        ),
        *_person_columns(),
        _c(
            "nationality",
            STRING,
            "Citizenship, ISO 3166 alpha-2 code",
            references="prs_Citizenship",
        ),
        _c(
            "is_foreign_national",
            BOOLEAN,
            "Citizen of another country than the project country",
            derived=True,
        ),
        _c("country_of_exploitation", STRING, "ISO 3166 alpha-2 code", references="hte_Country"),
        _c("location", STRING, "Region or district where the case was identified"),
        _c(
            "exploitation_type",
            CATEGORY,
            "Main form of exploitation",
            categories=EXPLOITATION_TYPES,
            references="vic_TypeOfExploitation",
        ),
        _c(
            "exploitation_types",
            CATEGORY,
            "Every form of exploitation recorded (several per case)",
            categories=EXPLOITATION_TYPES,
            multiple=True,
            references="vic_TypeOfExploitation",
        ),
        _c(
            "exploitation_types_count",
            INTEGER,
            "How many forms of exploitation were recorded (multi-select)",
            minimum=0,
            references="vic_TypeOfExploitation",
        ),
        _c("identified_by", CATEGORY, "Who identified the person", categories=IDENTIFIED_BY),
        _c(
            "trafficking_status",
            CATEGORY,
            "Possible, actual or not a victim",
            categories=TRAFFICKING_STATUS,
            references="vic_TraffickingStatus",
        ),
        _c(
            "status_decided_by",
            CATEGORY,
            "Body that decided the trafficking status",
            categories=STATUS_DECISION_BODY,
            references="vic_TraffickingStatusDecisionMakingOrg",
        ),
        _c("has_consent", BOOLEAN, "Informed consent documented", references="con_Consent"),
        _c("is_referred", BOOLEAN, "Referred to another organisation for services"),
        _c(
            "referral_date",
            DATE,
            "Date of the outgoing referral",
            references="cas_OutgoingReferralDate",
        ),
        _c("referral_accepted_date", DATE, "Date the receiving organisation took the referral"),
        _c(
            "days_to_referral_acceptance", INTEGER, "Days from referral to acceptance", derived=True
        ),
        _c("has_needs_assessment", BOOLEAN, "A needs assessment was done"),
        _c("has_guardian", BOOLEAN, "A guardian was appointed (children)"),
        _c(
            "has_reflection_period",
            BOOLEAN,
            "Granted a recovery and reflection period or residence permit",
        ),
        _c("wellbeing_intake_score", NUMBER, "Wellbeing score at intake (0-100)", minimum=0),
        _c("wellbeing_exit_score", NUMBER, "Wellbeing score at exit (0-100)", minimum=0),
        _c(
            "case_status",
            CATEGORY,
            "Current status of the case",
            categories=CASE_STATUS,
            references="cas_Status",
        ),
        _c("closure_date", DATE, "Date the case was closed", references="cas_CaseCloseDate"),
        _c(
            "closure_reason",
            CATEGORY,
            "Why the case was closed",
            categories=CLOSURE_REASONS,
            references="cas_ReasonForCaseClosure",
        ),
    ),
    key="case_id",
    date_columns_in_period=("identification_date",),
)

SERVICES = Table(
    "services",
    "One row per service or support plan given to a case.",
    (
        _c("service_id", STRING, "Identifier of the service record", required=True),
        _c("case_id", STRING, "The case that received the service", required=True),
        _c(
            "service_type",
            CATEGORY,
            "Kind of service or support plan",
            required=True,
            categories=SERVICE_TYPES,
            references="spl_Type",
        ),
        _c(
            "start_date",
            DATE,
            "Date the service started",
            required=True,
            references="spl_StartDate",
        ),
        _c("planned_end_date", DATE, "Planned end date", references="spl_PlannedEndDate"),
        _c("end_date", DATE, "Actual end date", references="spl_ActualEndDate"),
        _c("is_completed", BOOLEAN, "Service or plan completed"),
        _c("is_completed_on_time", BOOLEAN, "Completed by the planned end date", derived=True),
        _c("nights", INTEGER, "Shelter nights provided", minimum=0),
        _c("provider", STRING, "Organisation that provided the service"),
        _c("is_satisfied", BOOLEAN, "Satisfied with the service (exit interview)"),
        _c("has_stable_housing_income", BOOLEAN, "Stable housing and income at follow-up"),
    ),
    key="service_id",
    date_columns_in_period=("start_date",),
    foreign_keys={"case_id": "cases.case_id"},
)

ACTIVITIES = Table(
    "activities",
    "Prevention, capacity-building and coordination events, with participants by sex.",
    (
        _c("activity_id", STRING, "Identifier of the activity", required=True),
        _c("activity_date", DATE, "Date the activity took place", required=True),
        _c("activity_type", CATEGORY, "Kind of activity", required=True, categories=ACTIVITY_TYPES),
        _c("pillar", CATEGORY, "Pillar the activity serves", categories=PILLARS),
        _c("target_group", CATEGORY, "Main group reached", categories=TARGET_GROUPS),
        _c("location", STRING, "Region or district"),
        _c("channel", STRING, "Channel (in person, radio, social media, ...)"),
        _c("participants_female", INTEGER, "Female participants", minimum=0),
        _c("participants_male", INTEGER, "Male participants", minimum=0),
        _c("participants_total", INTEGER, "All participants (derived when missing)", minimum=0),
        _c("reach", INTEGER, "People reached by media (estimated audience)", minimum=0),
        _c("contacts", INTEGER, "Hotline contacts handled", minimum=0),
        _c("contacts_trafficking", INTEGER, "Hotline contacts about trafficking", minimum=0),
        _c(
            "inspections_with_screening",
            INTEGER,
            "Labour inspections that screened for trafficking",
            minimum=0,
        ),
        _c("has_action_taken", BOOLEAN, "The body took a concrete action (coordination meetings)"),
    ),
    key="activity_id",
    date_columns_in_period=("activity_date",),
)

PARTICIPANTS = Table(
    "participants",
    "People trained or supported, one row each, with pre/post test scores.",
    (
        _c("participant_id", STRING, "Pseudonymous participant identifier", required=True),
        _c("activity_id", STRING, "The training or activity attended"),
        _c(
            "completion_date",
            DATE,
            "Date the person completed the learning event or support",
            required=True,
        ),
        *_person_columns(),
        _c("target_group", CATEGORY, "Profession or group", categories=TARGET_GROUPS),
        _c("institution", STRING, "Institution or employer"),
        _c("location", STRING, "Region or district"),
        _c(
            "curriculum",
            STRING,
            "Curriculum (e.g. tip_prevention, victim_identification, investigation)",
        ),
        _c("has_completed", BOOLEAN, "Completed the whole learning event"),
        _c("pre_score", NUMBER, "Pre-test score (0-100)", minimum=0),
        _c("post_score", NUMBER, "Post-test score (0-100)", minimum=0),
        _c("has_income_at_followup", BOOLEAN, "Earning an income at the 6-month follow-up"),
    ),
    key="participant_id",
    date_columns_in_period=("completion_date",),
    foreign_keys={"activity_id": "activities.activity_id"},
)

LEGAL_CASES = Table(
    "legal_cases",
    "One row per defendant in a trafficking case, followed from investigation to verdict.",
    (
        _c("legal_case_id", STRING, "Identifier of the defendant's case record", required=True),
        _c("investigation_date", DATE, "Date the investigation opened", required=True),
        _c("defendant_sex", CATEGORY, "Sex of the defendant", categories=SEX),
        _c("defendant_nationality", STRING, "ISO 3166 alpha-2 code"),
        _c(
            "exploitation_type",
            CATEGORY,
            "Form of exploitation charged",
            categories=EXPLOITATION_TYPES,
        ),
        _c("stage", CATEGORY, "Furthest stage reached", categories=LEGAL_STAGES),
        _c("prosecution_date", DATE, "Date charges were filed"),
        _c("verdict_date", DATE, "Date of the first-instance verdict"),
        _c("verdict", CATEGORY, "Outcome", categories=VERDICTS),
        _c("sentence_months", INTEGER, "Custodial sentence in months", minimum=0),
        _c(
            "is_cross_border",
            BOOLEAN,
            "Involved a mutual legal assistance or joint investigation request",
        ),
        _c(
            "has_financial_investigation",
            BOOLEAN,
            "A parallel financial investigation or asset seizure",
        ),
        _c("victims_count", INTEGER, "Victims taking part in proceedings", minimum=0),
        _c("victims_supported", INTEGER, "Victim-witnesses given protection or support", minimum=0),
        _c(
            "victims_compensated", INTEGER, "Victims awarded compensation or restitution", minimum=0
        ),
        _c(
            "victims_penalised",
            INTEGER,
            "Victims penalised for offences caused by their trafficking",
            minimum=0,
        ),
    ),
    key="legal_case_id",
    date_columns_in_period=("investigation_date",),
)

SURVEYS = Table(
    "surveys",
    "Survey responses from the target population at baseline, endline or follow-up.",
    (
        _c("response_id", STRING, "Identifier of the response", required=True),
        _c("survey_date", DATE, "Date of the interview", required=True),
        _c("survey_round", CATEGORY, "Round", required=True, categories=SURVEY_ROUNDS),
        *_person_columns(),
        _c("location", STRING, "Region or district"),
        _c("target_group", CATEGORY, "Group surveyed", categories=TARGET_GROUPS),
        _c(
            "risk_signs_named",
            INTEGER,
            "How many trafficking warning signs the respondent named",
            minimum=0,
        ),
        _c("knows_hotline", BOOLEAN, "Knows a hotline or service and how to reach it"),
        _c("has_regular_channel_access", BOOLEAN, "Has access to a regular migration channel"),
        _c(
            "would_discourage_irregular",
            BOOLEAN,
            "Would not encourage a friend to migrate irregularly",
        ),
        _c(
            "forced_labour_indicators",
            INTEGER,
            "ILO forced-labour indicators present (worker screening)",
            minimum=0,
        ),
    ),
    key="response_id",
    date_columns_in_period=("survey_date",),
)

MILESTONES = Table(
    "milestones",
    "Laws, policies, SOPs, agreements and other milestones, with the date achieved.",
    (
        _c("milestone_id", STRING, "Identifier of the milestone", required=True),
        _c(
            "milestone_type",
            CATEGORY,
            "Kind of milestone",
            required=True,
            categories=MILESTONE_TYPES,
        ),
        _c("description", STRING, "What was achieved"),
        _c("pillar", CATEGORY, "Pillar", categories=PILLARS),
        _c("achieved_date", DATE, "Date achieved (empty while not achieved)"),
        _c("target_date", DATE, "Date by which it should be achieved"),
        _c("partner_type", STRING, "Partner (government, NGO, private sector, foreign government)"),
        _c("score", NUMBER, "Assessment score when the milestone is a self-assessment", minimum=0),
    ),
    key="milestone_id",
    date_columns_in_period=("achieved_date",),
)

REPORTED_VALUES = Table(
    "reported_values",
    "Aggregates the project reports directly (tally sheets), one row per indicator, period and category.",
    (
        _c("indicator_id", STRING, "Catalogue id of the indicator", required=True),
        _c("period", STRING, "Period label, e.g. 2026-Q1 or FY2026-Q1", required=True),
        _c("dimension", STRING, "Disaggregation dimension (empty for the total)"),
        _c("category", STRING, "Category within the dimension (empty for the total)"),
        _c("value", NUMBER, "Reported value", required=True),
        _c("numerator", NUMBER, "Numerator, for shares and rates"),
        _c("denominator", NUMBER, "Denominator, for shares and rates"),
        _c("comment", STRING, "Note on the figure"),
    ),
    key="",  # uniqueness is (indicator_id, period, dimension, category), checked by ingestion
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CASES,
        SERVICES,
        ACTIVITIES,
        PARTICIPANTS,
        LEGAL_CASES,
        SURVEYS,
        MILESTONES,
        REPORTED_VALUES,
    )
}


def table(name: str) -> Table:
    """The standard table of that name; a clear KeyError listing the known ones otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(
            f"unknown table {name!r}; standard tables are: {', '.join(TABLES)}"
        ) from None


def category_key(text) -> str:
    """The form in which names and category values are compared: lower-case letters and digits only.

    "Sexual exploitation", "SexualExploitation" and "sexual_exploitation" share the key "sexualexploitation".
    """
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def age_group(age: pd.Series) -> pd.Series:
    """Age bands of AGE_GROUPS from ages in years ("unknown" when missing)."""
    bins = [-1, 11, 17, 24, 34, 49, 200]
    groups = pd.cut(age, bins=bins, labels=list(AGE_GROUPS[:-1])).astype("string")
    return groups.fillna("unknown")


def child_adult(age: pd.Series) -> pd.Series:
    """'child' under 18, 'adult' from 18, 'unknown' when age is missing."""
    result = pd.Series("unknown", index=age.index, dtype="string")
    is_child = (age < CHILD_AGE_LIMIT).fillna(False).astype(bool)
    is_adult = (age >= CHILD_AGE_LIMIT).fillna(False).astype(bool)
    result = result.mask(is_child, "child").mask(is_adult, "adult")
    return result


def empty_frame(name: str) -> pd.DataFrame:
    """An empty DataFrame with the standard columns and dtypes of a table."""
    return pd.DataFrame(
        {c.name: pd.Series(dtype=PANDAS_DTYPES[c.kind]) for c in table(name).columns}
    )


PANDAS_DTYPES = {
    STRING: "string",
    CATEGORY: "string",
    INTEGER: "Int64",
    NUMBER: "Float64",
    DATE: "datetime64[ns]",
    BOOLEAN: "boolean",
}
