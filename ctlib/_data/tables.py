"""The standard tables: columns, types, required fields and allowed categories, declared once.

Ingestion validates against these declarations, the catalogue checks its recipes against them,
and `ctlib new` writes blank templates from them. Categories follow the HTCDS v2 picklists and
UNODC usage, written in snake_case.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import pandas as pd

# Column kinds: how a column is stored once ingested.
STRING, INTEGER, NUMBER, DATE, BOOLEAN, CATEGORY, COUNTRY = (
    "string",
    "integer",
    "number",
    "date",
    "boolean",
    "category",
    "country",  # an ISO 3166-1 alpha-2 code, stored as text; country names are read into it
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
    "agreement_ratified",
    "data_sharing_agreement",
    "coordination_body_established",
    "coordination_body_action",
    "budget_allocated",
    "survivor_advisory_body",
    "other",
)


# Forms of exploitation in UNODC's groups, with CTDC's "sexual and labour" for a person exploited in
# both: derived from every form recorded (see `exploitation_group`).
EXPLOITATION_GROUPS = ("sexual_exploitation", "labour_exploitation", "mixed", "other", "unknown")
LABOUR_FORMS = ("forced_labour", "child_labour", "servitude")
# a service's person: first assisted in this fiscal year, or in an earlier one
NEW_OR_CONTINUING = ("new", "continuing")
SENTENCE_TYPES = ("custodial", "suspended", "fine", "community_service", "other")
STATUTES = ("trafficking", "other_offence")
PARTICIPATION_ROLES = ("witness", "injured_party", "civil_party", "other")
SECTORS = (  # ISIC Rev. 4 sections, as HTCDS vic_ForcedLabourIndustry lists them
    "agriculture_forestry_fishing",
    "mining_quarrying",
    "manufacturing",
    "electricity_gas",
    "water_waste",
    "construction",
    "wholesale_retail_trade",
    "transportation_storage",
    "accommodation_food_services",
    "information_communication",
    "financial_insurance",
    "real_estate",
    "professional_scientific",
    "administrative_support",
    "public_administration",
    "education",
    "health_social_work",
    "arts_entertainment",
    "other_services",
    "households_as_employers",
    "extraterritorial_organisations",
)
CHILD_AGE_BANDS = ("5-11", "12-14", "15-17", "outside_5_17", "unknown")
# The age thresholds of economic activity (hours in the reference week) that make a child's work
# child labour in the SDG 8.7.1 series on economic activity: (lowest age, highest age, hours).
CHILD_LABOUR_HOURS = ((5, 11, 1), (12, 14, 14), (15, 17, 43))
# The eleven ILO indicators of forced labour (2012), as yes/no screening fields, grouped by the two
# elements of the ILO definition (Convention No. 29, art. 2): work that is not offered voluntarily
# (involuntariness) and work exacted under the menace of a penalty. The grouping is ctlib's: the
# indicators of coercion (threats, violence, confinement, documents, wages, debt) show the menace of
# a penalty; deception, abuse of vulnerability and abusive conditions show that the work was not
# freely accepted.
ILO_INVOLUNTARINESS = (
    "ilo_abuse_of_vulnerability",
    "ilo_deception",
    "ilo_abusive_conditions",
    "ilo_excessive_overtime",
)
ILO_MENACE_OF_PENALTY = (
    "ilo_restriction_of_movement",
    "ilo_isolation",
    "ilo_physical_sexual_violence",
    "ilo_intimidation_threats",
    "ilo_retention_of_documents",
    "ilo_withholding_of_wages",
    "ilo_debt_bondage",
)
ILO_INDICATOR_NAMES = {
    "ilo_abuse_of_vulnerability": "abuse of vulnerability",
    "ilo_deception": "deception",
    "ilo_restriction_of_movement": "restriction of movement",
    "ilo_isolation": "isolation",
    "ilo_physical_sexual_violence": "physical and sexual violence",
    "ilo_intimidation_threats": "intimidation and threats",
    "ilo_retention_of_documents": "retention of identity documents",
    "ilo_withholding_of_wages": "withholding of wages",
    "ilo_debt_bondage": "debt bondage",
    "ilo_abusive_conditions": "abusive working and living conditions",
    "ilo_excessive_overtime": "excessive overtime",
}
SOURCE_SUPPRESSED, UNAVAILABLE = "source_suppressed", "unavailable"
VALUE_STATES = (SOURCE_SUPPRESSED, UNAVAILABLE)  # a figure the source hid (<5) or did not have (..)
MAXIMUM_AGE = 120  # an age above it is a typo or a code for "unknown"

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
    multiple: bool = False  # several values per row (select_multiple), joined by MULTIPLE_SEPARATOR
    derived: bool = False  # computed by ingestion, never read from a file
    minimum: float | None = None  # lowest allowed value of a number (e.g. 0 for counts)
    maximum: float | None = None  # highest allowed value of a number (e.g. 120 for ages)
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
    # A dimension the table holds as one count column per category rather than one row per
    # person: dimension -> (the total column, {category: its count column}).
    counts_by: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

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
    def multiple_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.multiple)

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
            maximum=MAXIMUM_AGE,
            references="prs_Birthdate (age at the table's date)",
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


def _person_id(record: str) -> Column:
    return _c(
        "person_id",
        STRING,
        f"Pseudonymous identifier of the person, the same on each of their {record}s (a person "
        f"met twice is one person); empty: the {record} is its own person",
        references="prs_ (the HTCDS person record)",
    )


CASES = Table(
    "cases",
    "One row per case of a person identified as a (possible) victim of trafficking; pseudonymous.",
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
        _person_id("case"),
        _c(
            "age_when_trafficked",
            INTEGER,
            "Age in years when the trafficking began",
            minimum=0,
            references="vic_AgeWhenTrafficked",
        ),
        _c(
            "is_possibly_child",
            BOOLEAN,
            "Age unknown or disputed, and there are reasons to believe the person is under 18",
        ),
        _c(
            "is_presumed_child",
            BOOLEAN,
            "Under 18, or of uncertain age and possibly a child: treated as a child for child "
            "protection (derived from age and is_possibly_child)",
            derived=True,
        ),
        _c(
            "nationality",
            COUNTRY,
            "Citizenship, ISO 3166 alpha-2 code (the first one when there are several)",
            references="prs_Citizenship",
        ),
        _c(
            "nationalities",
            COUNTRY,
            "Every citizenship, ISO 3166 alpha-2 codes (several per person)",
            multiple=True,
            references="prs_Citizenship",
        ),
        _c(
            "is_foreign_national",
            BOOLEAN,
            "Citizen of another country than the project country",
            derived=True,
        ),
        _c(
            "country_of_exploitation",
            COUNTRY,
            "Country of exploitation, ISO 3166 alpha-2 code",
            references="hte_Country",
        ),
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
            "Every form of exploitation recorded (several per case); empty: the main form",
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
        _c(
            "exploitation_group",
            CATEGORY,
            "Sexual exploitation, labour exploitation (forced or child labour, servitude), mixed "
            "(both), other or unknown, from every form recorded (derived)",
            categories=EXPLOITATION_GROUPS,
            derived=True,
        ),
        _c("identified_by", CATEGORY, "Who identified the person", categories=IDENTIFIED_BY),
        _c(
            "is_identified_by_trained_stakeholder",
            BOOLEAN,
            "Identified or referred by a person the project trained (e.g. a trained inspector)",
        ),
        _c(
            "referring_organisation",
            STRING,
            "Organisation that referred the case to the project",
            references="cas_ReferringOrganisation",
        ),
        _c(
            "is_referred_through_nrm",
            BOOLEAN,
            "Referred within the national referral mechanism (its procedures and forms)",
        ),
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
        _c("status_decision_date", DATE, "Date of the formal decision on the trafficking status"),
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
        _c(
            "services_needed",
            CATEGORY,
            "Services the needs assessment found necessary (several per case)",
            categories=SERVICE_TYPES,
            multiple=True,
        ),
        _c(
            "services_received",
            CATEGORY,
            "Every kind of service the case received (derived from services)",
            categories=SERVICE_TYPES,
            multiple=True,
            derived=True,
        ),
        _c(
            "first_service_date",
            DATE,
            "Start of the case's first service (derived from services)",
            derived=True,
        ),
        _c(
            "days_to_first_service",
            INTEGER,
            "Days from identification to the first service (derived from services)",
            derived=True,
        ),
        _c("has_guardian", BOOLEAN, "A guardian was appointed (children)"),
        _c("has_reflection_period", BOOLEAN, "Granted a recovery and reflection period"),
        _c("has_residence_permit", BOOLEAN, "Granted a residence permit as a victim"),
        _c(
            "is_penalised",
            BOOLEAN,
            "Arrested, charged, detained, fined or convicted for an offence committed as a direct "
            "consequence of being trafficked",
        ),
        _c("penalised_date", DATE, "Date of the arrest, charge, fine or conviction"),
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
        _c(
            "days_to_reidentification",
            INTEGER,
            "Days from the case's closure to the person's next identification as a possible or "
            "actual victim (re-trafficking; derived from person_id)",
            derived=True,
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
            "Date the service started (a shelter stay: the night of arrival)",
            required=True,
            references="spl_StartDate",
        ),
        _c("planned_end_date", DATE, "Planned end date", references="spl_PlannedEndDate"),
        _c(
            "end_date",
            DATE,
            "Actual end date (a shelter stay: the day of departure); empty while it runs",
            references="spl_ActualEndDate",
        ),
        _c("is_completed", BOOLEAN, "Service or plan completed"),
        _c("is_completed_on_time", BOOLEAN, "Completed by the planned end date", derived=True),
        _c(
            "nights", INTEGER, "Shelter nights of the stay, as the shelter recorded them", minimum=0
        ),
        _c("provider", STRING, "Organisation that provided the service"),
        _c("is_satisfied", BOOLEAN, "Satisfied with the service (exit interview)"),
        _c(
            "new_or_continuing",
            CATEGORY,
            "New: the person's first service in this fiscal year was their first ever; "
            "continuing: assisted in an earlier fiscal year (derived)",
            categories=NEW_OR_CONTINUING,
            derived=True,
        ),
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
        _c(
            "sector",
            CATEGORY,
            "Economic sector of the workplaces concerned (ISIC Rev. 4 section)",
            categories=SECTORS,
            references="vic_ForcedLabourIndustry",
        ),
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
    counts_by={
        "sex": (
            "participants_total",
            {"female": "participants_female", "male": "participants_male"},
        )
    },
)

PARTICIPANTS = Table(
    "participants",
    "One row per person and learning event or support completed, with pre/post test scores.",
    (
        _c("participant_id", STRING, "Identifier of the participation record", required=True),
        _person_id("participation"),
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
        _c("followup_date", DATE, "Date of the follow-up contact after the event"),
        _c(
            "days_to_followup",
            INTEGER,
            "Days from completion to the follow-up contact (derived)",
            derived=True,
        ),
        _c(
            "is_applying_skills",
            BOOLEAN,
            "At the follow-up, uses what the training taught in their work (e.g. screened or "
            "referred a presumed victim)",
        ),
        _c("has_income_at_followup", BOOLEAN, "Earning an income at the follow-up"),
    ),
    key="participant_id",
    date_columns_in_period=("completion_date",),
    foreign_keys={"activity_id": "activities.activity_id"},
)

LEGAL_CASES = Table(
    "legal_cases",
    "One row per defendant in a trafficking case file, followed from investigation to verdict.",
    (
        _c("legal_case_id", STRING, "Identifier of the defendant's record", required=True),
        _c(
            "case_file_id",
            STRING,
            "The case file (one investigation) the defendant belongs to, shared by co-defendants; "
            "empty: the defendant's own file",
        ),
        _c(
            "defendant_id",
            STRING,
            "Pseudonymous identifier of the defendant as a person, the same in each case file; "
            "empty: the record is its own person",
        ),
        _c("investigation_date", DATE, "Date the investigation opened", required=True),
        _c("defendant_sex", CATEGORY, "Sex of the defendant", categories=SEX),
        _c("defendant_nationality", COUNTRY, "Defendant's citizenship, ISO 3166 alpha-2 code"),
        _c(
            "is_public_official",
            BOOLEAN,
            "The defendant is a public official suspected of complicity in trafficking",
        ),
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
        _c(
            "conviction_statute",
            CATEGORY,
            "Offence of the conviction: the trafficking offence, or another (e.g. pimping, "
            "smuggling, a labour-law offence)",
            categories=STATUTES,
        ),
        _c("sentence_type", CATEGORY, "Kind of sentence", categories=SENTENCE_TYPES),
        _c(
            "sentence_months",
            INTEGER,
            "Length of the prison term in months (custodial or suspended)",
            minimum=0,
        ),
        _c(
            "days_to_verdict",
            INTEGER,
            "Days from the opening of the investigation to the first-instance verdict (derived)",
            derived=True,
        ),
        _c(
            "days_from_charges_to_verdict",
            INTEGER,
            "Days from the filing of charges to the first-instance verdict (derived)",
            derived=True,
        ),
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
    ),
    key="legal_case_id",
    date_columns_in_period=("investigation_date",),
)

VICTIM_PARTICIPATION = Table(
    "victim_participation",
    "One row per victim taking part in the proceedings of a case file (witness or injured party).",
    (
        _c("participation_id", STRING, "Identifier of the record", required=True),
        _c(
            "case_file_id",
            STRING,
            "The case file of the proceedings (legal_cases.case_file_id)",
            required=True,
        ),
        _c("case_id", STRING, "The victim's own case, when the project keeps one"),
        _c(
            "person_id",
            STRING,
            "Pseudonymous identifier of the victim, the same in each case file; empty: the "
            "victim's case, else the record, is the person",
        ),
        *_person_columns(),
        _c("role", CATEGORY, "Part in the proceedings", categories=PARTICIPATION_ROLES),
        _c("joined_date", DATE, "Date the victim joined the proceedings", required=True),
        _c(
            "has_protection_support",
            BOOLEAN,
            "Given protection or support during the proceedings (accompaniment, shelter, "
            "protective hearing arrangements, legal help)",
        ),
        _c("has_withdrawn", BOOLEAN, "Withdrew from the proceedings before the judgment"),
        _c("withdrawal_date", DATE, "Date the victim withdrew"),
        _c("concluded_date", DATE, "Date of the first-instance judgment in the case file"),
        _c(
            "participation_end_date",
            DATE,
            "The withdrawal, else the judgment: when the victim's part ended (derived)",
            derived=True,
        ),
        _c("compensation_awarded_date", DATE, "Date compensation or restitution was awarded"),
        _c(
            "compensation_awarded_amount",
            NUMBER,
            "Compensation or restitution awarded, in the project's currency",
            minimum=0,
        ),
        _c(
            "compensation_paid_amount",
            NUMBER,
            "Compensation actually paid to the victim so far, in the project's currency",
            minimum=0,
        ),
    ),
    key="participation_id",
    date_columns_in_period=("joined_date",),
    foreign_keys={"case_id": "cases.case_id"},
)

FOLLOW_UPS = Table(
    "follow_ups",
    "One row per follow-up contact with a survivor after their case was closed.",
    (
        _c("follow_up_id", STRING, "Identifier of the follow-up record", required=True),
        _c("case_id", STRING, "The survivor's case", required=True),
        _c("follow_up_date", DATE, "Date of the visit or call", required=True),
        _c(
            "days_since_closure",
            INTEGER,
            "Days from the case's closure to the follow-up (derived)",
            derived=True,
        ),
        _c("is_reached", BOOLEAN, "The survivor was reached and answered"),
        _c("has_stable_housing", BOOLEAN, "Has a safe, stable place to live"),
        _c("has_regular_income", BOOLEAN, "Has a regular income from work, a business or benefits"),
        _c(
            "is_reintegration_sustained",
            BOOLEAN,
            "The reintegration assessment finds the survivor's economic, social and "
            "psychosocial situation sustained",
        ),
    ),
    key="follow_up_id",
    date_columns_in_period=("follow_up_date",),
    foreign_keys={"case_id": "cases.case_id"},
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
            "is_project_participant",
            BOOLEAN,
            "The respondent took part in the project's activities",
        ),
        _c(
            "risk_signs_named",
            INTEGER,
            "How many trafficking warning signs the respondent named",
            minimum=0,
        ),
        _c("knows_hotline", BOOLEAN, "Knows a hotline or service and how to reach it"),
        _c("has_regular_channel_access", BOOLEAN, "Has access to a regular migration channel"),
        _c(
            "has_used_regular_channel",
            BOOLEAN,
            "Migrated (the last time) through a regular channel or a licensed recruiter",
        ),
        _c(
            "would_discourage_irregular",
            BOOLEAN,
            "Would not encourage a friend to migrate irregularly",
        ),
        *(
            _c(name, BOOLEAN, f"ILO forced-labour indicator present: {ILO_INDICATOR_NAMES[name]}")
            for name in ILO_INDICATOR_NAMES
        ),
        _c(
            "forced_labour_indicators",
            INTEGER,
            "How many of the eleven ILO forced-labour indicators are present (derived)",
            derived=True,
        ),
        _c(
            "is_involuntary_work",
            BOOLEAN,
            "An indicator of involuntariness is present (derived)",
            derived=True,
        ),
        _c(
            "is_under_menace_of_penalty",
            BOOLEAN,
            "An indicator of the menace of a penalty is present (derived)",
            derived=True,
        ),
        _c(
            "is_forced_labour",
            BOOLEAN,
            "Both elements of forced labour present: involuntary work under the menace of a "
            "penalty (derived)",
            derived=True,
        ),
        _c("is_referred", BOOLEAN, "Referred to services or authorities after the screening"),
        _c(
            "economic_activity_hours",
            NUMBER,
            "Hours of economic activity in the reference week (children 5-17)",
            minimum=0,
        ),
        _c(
            "child_age_band",
            CATEGORY,
            "Age band of SDG 8.7.1 (5-11, 12-14, 15-17), derived from age",
            categories=CHILD_AGE_BANDS,
            derived=True,
        ),
        _c(
            "is_child_labour",
            BOOLEAN,
            "A child of 5-17 whose economic activity reaches the SDG 8.7.1 hours for their age "
            "(1 h at 5-11, 14 h at 12-14, 43 h at 15-17; derived)",
            derived=True,
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
        _c(
            "valid_until_date",
            DATE,
            "Last day the milestone holds (a plan's last year, a decision's expiry); empty: open",
        ),
        _c("partner_type", STRING, "Partner (government, NGO, private sector, foreign government)"),
        _c("coordination_body", STRING, "The coordination body concerned (its name or code)"),
        _c(
            "is_palermo_compliant",
            BOOLEAN,
            "A legal review found the law makes every form of trafficking of the Palermo Protocol "
            "(art. 3) a crime, with a maximum penalty of at least four years",
        ),
        _c("score", NUMBER, "Assessment score when the milestone is a self-assessment", minimum=0),
    ),
    key="milestone_id",
    date_columns_in_period=("achieved_date",),
)

BUDGETS = Table(
    "budgets",
    "Public anti-trafficking budget lines: amounts allocated and spent, one row per line and year.",
    (
        _c("budget_id", STRING, "Identifier of the budget line and year", required=True),
        _c("institution", STRING, "Ministry, agency or local government holding the line"),
        _c("budget_year_start_date", DATE, "First day of the budget year", required=True),
        _c("budget_year_end_date", DATE, "Last day of the budget year", required=True),
        _c(
            "allocated_amount",
            NUMBER,
            "Amount allocated in the approved budget, in the project's currency",
            required=True,
            minimum=0,
        ),
        _c("spent_amount", NUMBER, "Amount spent by the end of the year (or so far)", minimum=0),
        _c("description", STRING, "What the line funds"),
    ),
    key="budget_id",
    date_columns_in_period=("budget_year_start_date",),
)

REPORTED_VALUES = Table(
    "reported_values",
    "Aggregates the project reports directly (tally sheets), one row per indicator, period and "
    "category.",
    (
        _c("indicator_id", STRING, "Catalogue id of the indicator", required=True),
        _c("period", STRING, "Period label, e.g. 2026-Q1 or FY2026-Q1", required=True),
        _c("dimension", STRING, "Disaggregation dimension (empty for the total)"),
        _c("category", STRING, "Category within the dimension (empty for the total)"),
        _c(
            "value",
            NUMBER,
            "Reported value; a source-suppressed (<5) or unavailable (..) figure is empty here",
            required=True,
        ),
        _c("numerator", NUMBER, "Numerator, for shares and rates"),
        _c("denominator", NUMBER, "Denominator, for shares and rates"),
        _c("comment", STRING, "Note on the figure"),
        _c(
            "value_state",
            CATEGORY,
            "source_suppressed or unavailable when the source gave no number (empty otherwise)",
            categories=VALUE_STATES,
            derived=True,
        ),
        _c(
            "value_as_written",
            STRING,
            "The value cell as the source wrote it (e.g. <5)",
            derived=True,
        ),
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
        VICTIM_PARTICIPATION,
        FOLLOW_UPS,
        SURVEYS,
        MILESTONES,
        BUDGETS,
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


@functools.cache
def dimension_categories(dimension: str) -> tuple[str, ...] | None:
    """The categories of a dimension that is a category column of a standard table (None: any)."""
    for declared in TABLES.values():
        if dimension in declared.column_names and declared.column(dimension).categories:
            return declared.column(dimension).categories
    return None


def category_key(text) -> str:
    """The form in which names and category values are compared: lower-case letters and digits only.

    "Sexual exploitation", "SexualExploitation" and "sexual_exploitation" share the key
    "sexualexploitation".
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
    COUNTRY: "string",
    INTEGER: "Int64",
    NUMBER: "Float64",
    DATE: "datetime64[ns]",
    BOOLEAN: "boolean",
}
