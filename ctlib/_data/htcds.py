"""The built-in map from the Human Trafficking Case Data Standard (HTCDS v2) case sheet to `cases`.

A team that keeps its cases in the HTCDS Excel template (row 1 field names such as `prs_Gender`,
row 2 labels, data from row 3) maps nothing by hand. Picklist cells may hold the value names
(`SexualExploitation`) or the labels the template offers (`Sexual exploitation`): both compare
through `tables.category_key`, so only the names that differ from ours are listed in VALUES.

Decisions:
- Direct identifiers (names, contact details, identity numbers, mailing address, caseworkers) are
  never read; a warning names the fields that were left out.
- prs_Gender: TransgenderFeminine counts as female and TransgenderMasculine as male (gender
  identity, as HTCDS records it; a separate category would also create small, re-identifiable
  cells); NonConforming is `other`, NonSpecifiedUnknown `unknown`.
- Multi-select cells (`;` or `,` between values): every type of exploitation goes to the
  multi-valued `exploitation_types`; the first value is the main exploitation type or
  nationality; `exploitation_types_count` keeps how many types were recorded.
- Ages: vic_AgeWhenTrafficked is the age when the trafficking began (`age_when_trafficked`); the
  age at identification (`age`) comes from prs_Birthdate (the birth date itself is not kept).
- cas_ReferringOrganisation: the organisation that referred the case (`referring_organisation`).
- prs_Citizenship: IOM's picklist writes country names ("Bolivia (Plurinational State of)"); they
  are read into ISO 3166 codes (`countries`).
- identification_date: the case's own open date, the day the organisation registered the case:
  cas_CaseOpenDate, or cas_CreatedDate as a Salesforce-based system exports the Case's creation
  date. HTCDS v2 itself has no such field; a sheet without one (like the bare template) uses
  cas_IncomingReferralDate, the day the organisation accepted the case from a referring one,
  and says so: a case the organisation identified itself has no incoming referral and must then
  have its open date added.
- referral_date: cas_OutgoingReferralDate; is_referred: an outgoing referral date or the status
  ClosedReferred.
- case_id: cas_Id or cas_CaseNumber; a sheet without either gets `row-<n>` from its row numbers.
- cas_ReasonForCaseClosure is free text in HTCDS: a reason that is not one of ours counts as
  `other`.
"""

from __future__ import annotations

import pandas as pd

from .countries import country_code
from .tables import category_key

PREFIXES = ("org_", "prs_", "vic_", "per_", "cas_", "cco_", "hte_", "spl_", "con_")
CASE_SHEET = "Case Sheet"  # the template's data sheet

FIELDS = {
    "cas_Id": "case_id",
    "cas_CaseNumber": "case_id",
    "cas_CaseOpenDate": "identification_date",
    "cas_CreatedDate": "identification_date",
    "cas_CaseCloseDate": "closure_date",
    "cas_ClosedDate": "closure_date",
    "cas_Status": "case_status",
    "cas_ReasonForCaseClosure": "closure_reason",
    "cas_OutgoingReferralDate": "referral_date",
    "prs_Gender": "sex",
    "prs_Birthdate": "birth_date",
    "vic_AgeWhenTrafficked": "age_when_trafficked",
    "cas_ReferringOrganisation": "referring_organisation",
    "prs_Citizenship": "nationality",
    "hte_Country": "country_of_exploitation",
    "vic_TypeOfExploitation": "exploitation_type",
    "vic_TraffickingStatus": "trafficking_status",
    "vic_TraffickingStatusDecisionMakingOrg": "status_decided_by",
    "vic_TraffickinStatusDecisionMakingOrg": "status_decided_by",  # the template's own spelling
    "con_Consent": "has_consent",
}
IDENTIFICATION_FALLBACK = "cas_IncomingReferralDate"

IDENTIFIER_FIELDS = frozenset(
    {
        "prs_Salutation",
        "prs_FirstName",
        "prs_MiddleName",
        "prs_SecondName",
        "prs_IdentityNumber",
        "prs_Email",
        "prs_HomePhone",
        "prs_MobilePhone",
        "prs_MailingCity",
        "prs_MailingCountry",
        "prs_MailingState",
        "prs_MailingStreet",
        "prs_MailingPostalCode",
        "prs_MailingLongitude",
        "prs_MailingLatitude",
        "cas_CaseOwner",
        "cas_ReferringPrimaryCaseWorker",
        "cas_ReferredPrimaryCaseWorker",
    }
)

VALUES = {
    "sex": {
        "Feminine": "female",
        "Masculine": "male",
        "TransgenderFeminine": "female",
        "TransgenderMasculine": "male",
        "NonConforming": "other",
        "NonSpecifiedUnknown": "unknown",
    },
    "exploitation_type": {"ForcedMilitaryByNonStateActors": "forced_military"},
    "exploitation_types": {"ForcedMilitaryByNonStateActors": "forced_military"},
    "trafficking_status": {
        "PossibleVictimOfTrafficking": "possible",
        "ActualVictimOfTrafficking": "actual",
        "NotAVictimOfTrafficking": "not_a_victim",
    },
    "status_decided_by": {"NonPoliceGovernmentalOrganization": "government_other"},
}
OTHER_WHEN_UNKNOWN = {
    "closure_reason": "other"
}  # free-text fields: a reason not in our list is 'other'


def is_htcds_field(name) -> bool:
    return isinstance(name, str) and name.startswith(PREFIXES)


def looks_like_htcds(names) -> bool:
    """A header row of HTCDS field names (at least two of them)."""
    return sum(is_htcds_field(name) for name in names) >= 2


def field_map(names) -> dict[str, str]:
    """HTCDS field -> standard column for the fields of this header: where two fields give one
    column (cas_CaseOpenDate and cas_CreatedDate), the first in FIELDS."""
    fields = dict(FIELDS)
    if not any(FIELDS.get(name) == "identification_date" for name in names):
        fields[IDENTIFICATION_FALLBACK] = "identification_date"
    found = {}
    for field in fields:
        if field in names and fields[field] not in found.values():
            found[field] = fields[field]
    return found


def identification_note(names) -> str | None:
    """What the identification date is taken from, when it is not the case's open date."""
    if IDENTIFICATION_FALLBACK in field_map(names) and IDENTIFICATION_FALLBACK in names:
        return (
            "no case open date field (cas_CaseOpenDate): identification dates are the incoming "
            "referral dates (cas_IncomingReferralDate); add the open date for cases the "
            "organisation identified itself"
        )
    return None


def is_label_row(names, cells) -> bool:
    """The row under the field names holds their labels (`prs_Gender` over `Gender`)."""
    pairs = [
        (name, cell)
        for name, cell in zip(names, cells)
        if is_htcds_field(name) and cell is not None
    ]
    matches = sum(category_key(name.split("_", 1)[1]) == category_key(cell) for name, cell in pairs)
    return bool(pairs) and matches * 2 >= len(pairs)


def prepare(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Raw HTCDS cells made ready for typing, with notes for the user.

    Standard column names, index = sheet rows.
    """
    frame, notes = frame.copy(), []
    if "case_id" not in frame:
        frame["case_id"] = "row-" + frame.index.astype("string")
        notes.append(
            "no cas_Id or cas_CaseNumber field: case ids are the sheet's row numbers (row-3, "
            "row-4, ...)"
        )
    if "exploitation_type" in frame:
        frame["exploitation_types"] = frame["exploitation_type"]  # every type; converted as such
        parts = frame["exploitation_type"].astype("string").str.strip().str.split(r"\s*[;,]\s*")
        frame["exploitation_type"] = parts.str[0]
        frame["exploitation_types_count"] = parts.str.len().astype("Int64")
    if "nationality" in frame:
        frame["nationality"] = frame["nationality"].map(_first_country, na_action="ignore")
    return frame, notes


def _first_country(cell) -> str:
    """The first country of a multi-select cell: values are separated by ";" (commas belong to
    names such as "Congo, Democratic Republic of the", unless every part is a country)."""
    text = str(cell).strip()
    if ";" in text:
        return text.split(";")[0].strip()
    parts = [part.strip() for part in text.split(",")]
    return parts[0] if len(parts) > 1 and all(map(country_code, parts)) else text


def complete(columns: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Columns HTCDS implies once typed.

    is_referred from the outgoing referral or a ClosedReferred status.
    """
    if "is_referred" not in columns and ("referral_date" in columns or "case_status" in columns):
        referred = columns["referral_date"].notna() if "referral_date" in columns else False
        if "case_status" in columns:
            referred = referred | columns["case_status"].eq("closed_referred").fillna(False)
        columns = {**columns, "is_referred": referred.astype("boolean")}
    return columns
