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
- Multi-select cells (`;` or `,` between values): the first value is the main exploitation type or
  nationality; `exploitation_types_count` keeps how many types were recorded.
- Ages: vic_AgeWhenTrafficked is the age when the trafficking began (`age_when_trafficked`); the
  age at identification (`age`) comes from prs_Birthdate (the birth date itself is not kept).
- cas_ReferringOrganisation: the organisation that referred the case (`referring_organisation`).
- identification_date: cas_CaseOpenDate; a sheet without it (like the bare template) uses
  cas_IncomingReferralDate, the date the case reached the organisation.
- referral_date: cas_OutgoingReferralDate; is_referred: an outgoing referral date or the status
  ClosedReferred.
- case_id: cas_Id or cas_CaseNumber; a sheet without either gets `row-<n>` from its row numbers.
- cas_ReasonForCaseClosure is free text in HTCDS: a reason that is not one of ours counts as `other`.
"""

from __future__ import annotations

import pandas as pd

from .tables import category_key

PREFIXES = ("org_", "prs_", "vic_", "per_", "cas_", "cco_", "hte_", "spl_", "con_")
CASE_SHEET = "Case Sheet"  # the template's data sheet

FIELDS = {
    "cas_Id": "case_id",
    "cas_CaseNumber": "case_id",
    "cas_CaseOpenDate": "identification_date",
    "cas_CaseCloseDate": "closure_date",
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
MULTI_SELECT = ("exploitation_type", "nationality")


def is_htcds_field(name) -> bool:
    return isinstance(name, str) and name.startswith(PREFIXES)


def looks_like_htcds(names) -> bool:
    """A header row of HTCDS field names (at least two of them)."""
    return sum(is_htcds_field(name) for name in names) >= 2


def field_map(names) -> dict[str, str]:
    """HTCDS field -> standard column for the fields of this header."""
    fields = dict(FIELDS)
    if "cas_CaseOpenDate" not in names:
        fields[IDENTIFICATION_FALLBACK] = "identification_date"
    return {name: fields[name] for name in names if name in fields}


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
    """Raw HTCDS cells (standard column names, index = sheet rows) made ready for typing, with notes for the user."""
    frame, notes = frame.copy(), []
    if "case_id" not in frame:
        frame["case_id"] = "row-" + frame.index.astype("string")
        notes.append(
            "no cas_Id or cas_CaseNumber field: case ids are the sheet's row numbers (row-3, row-4, ...)"
        )
    for name in MULTI_SELECT:
        if name in frame:
            parts = frame[name].astype("string").str.strip().str.split(r"\s*[;,]\s*", regex=True)
            frame[name] = parts.str[0]
            if name == "exploitation_type":
                frame["exploitation_types_count"] = parts.str.len().astype("Int64")
    return frame, notes


def complete(columns: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Columns HTCDS implies once typed: is_referred from the outgoing referral or a ClosedReferred status."""
    if "is_referred" not in columns and ("referral_date" in columns or "case_status" in columns):
        referred = columns["referral_date"].notna() if "referral_date" in columns else False
        if "case_status" in columns:
            referred = referred | columns["case_status"].eq("closed_referred").fillna(False)
        columns = {**columns, "is_referred": referred.astype("boolean")}
    return columns
