"""The standard frame of a table: declared columns and dtypes, and the columns ctlib derives.

`standard_frame` derives what a table's own columns give (age bands, days between two dates, the
ILO elements of forced labour, ...); `derive_linked` then derives what needs another table (a
case's services, a service's fiscal year of first assistance, the days since a case's closure).
Identifiers a table may leave empty take the record's own id (a case without a person id is its
own person), so that counting distinct people never drops a record.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .convert import taken
from .maps import BIRTH_DATE
from .origin import Origin
from .project_model import Project
from .tables import (
    CHILD_AGE_BANDS,
    CHILD_AGE_LIMIT,
    CHILD_LABOUR_HOURS,
    ILO_INDICATOR_NAMES,
    ILO_INVOLUNTARINESS,
    ILO_MENACE_OF_PENALTY,
    LABOUR_FORMS,
    MULTIPLE_SEPARATOR,
    PANDAS_DTYPES,
    SERVICE_TYPES,
    Table,
    age_group,
    child_adult,
)
from .threads import in_threads
from .validate import increasing

VICTIM_STATUSES = ("possible", "actual")
# columns whose derived columns are computed once per distinct value (see `standard_frame`)
BY_DISTINCT = ("age", "nationality", "exploitation_type", "exploitation_types")
# identifier -> the record's own id it takes when empty, per table
OWN_ID_WHEN_EMPTY = {
    "cases": {"person_id": "case_id"},
    "participants": {"person_id": "participant_id"},
    "legal_cases": {"case_file_id": "legal_case_id", "defendant_id": "legal_case_id"},
}
# derived column -> (later date, earlier date): whole days between them, per table
DAYS_BETWEEN = {
    "cases": {"days_to_referral_acceptance": ("referral_accepted_date", "referral_date")},
    "participants": {"days_to_followup": ("followup_date", "completion_date")},
    "legal_cases": {
        "days_to_verdict": ("verdict_date", "investigation_date"),
        "days_from_charges_to_verdict": ("verdict_date", "prosecution_date"),
    },
}

# -- derived columns -------------------------------------------------------------------------------


def standard_frame(
    typed: dict, table: Table, project: Project, index: pd.Index, distinct=()
) -> pd.DataFrame:
    """Every standard column in declared order and dtype, derived ones filled.

    The ones the source lacks are empty. `distinct`: (array, codes, distinct values) of typed
    columns of BY_DISTINCT whose distinct values conversion found (`convert.Converted.distinct`),
    so that derived columns need not find them again.
    """
    empty = _empty_columns(index)
    columns = {
        c.name: typed[c.name].astype(PANDAS_DTYPES[c.kind]) if c.name in typed else empty(c.kind)
        for c in table.columns
        if not c.derived or c.name in typed  # value states come from ingestion
    }
    columns.update(_derive(columns, table, project, distinct))
    for c in table.columns:  # derived from another table by `derive_linked`: empty until then
        if c.name not in columns:
            columns[c.name] = empty(c.kind)
    frame = pd.DataFrame({c.name: columns[c.name] for c in table.columns}, index=index, copy=False)
    frame.index.name = "row"
    return frame


def _empty_columns(index: pd.Index):
    """kind -> an empty column of its dtype; the text ones share one Arrow array of nulls (an Arrow
    array never changes: pandas replaces it on assignment)."""
    text = functools.cache(lambda: pa.nulls(len(index), pa.large_string()))
    return lambda kind: empty_column(PANDAS_DTYPES[kind], index, text)


def empty_column(dtype: str, index: pd.Index, text=None) -> pd.Series:
    """A column of missing values of a standard dtype, built without a value per row (`text`: a
    function giving the Arrow array of nulls of a text column)."""
    size = len(index)
    arrays = {
        "string": lambda: pd.array(
            text() if text else pa.nulls(size, pa.large_string()), dtype="string"
        ),
        "Int64": lambda: pd.arrays.IntegerArray(np.zeros(size, dtype="int64"), _missing(size)),
        "Float64": lambda: pd.arrays.FloatingArray(np.zeros(size), _missing(size)),
        "boolean": lambda: pd.arrays.BooleanArray(np.zeros(size, dtype=bool), _missing(size)),
        "datetime64[ns]": lambda: np.full(size, np.datetime64("NaT"), dtype="datetime64[ns]"),
    }
    return pd.Series(arrays[dtype](), index=index, dtype=dtype, copy=False)


def _missing(size: int) -> np.ndarray:
    return np.ones(size, dtype=bool)


def _derive(columns: dict, table: Table, project: Project, distinct=()) -> dict:
    """The derived columns of a table from its other columns.

    Also participants_total where it is missing.
    """
    names = table.column_names
    derived = {
        name: filled(columns[name], columns[own])
        for name, own in OWN_ID_WHEN_EMPTY.get(table.name, {}).items()
    }
    jobs = [  # the costly ones, each giving some derived columns: a few at a time on threads
        lambda name=name, later=later, earlier=earlier: {
            name: days_between(columns[later], columns[earlier])
        }
        for name, (later, earlier) in DAYS_BETWEEN.get(table.name, {}).items()
    ]
    if "age_group" in names:
        jobs.append(
            lambda: dict(
                zip(
                    ("age_group", "child_adult"),
                    _by_distinct(columns["age"], distinct, age_group, child_adult),
                )
            )
        )
    if "is_foreign_national" in names:
        country = project.project.country.upper()
        jobs.append(
            lambda: {
                "is_foreign_national": _by_distinct(
                    columns["nationality"],
                    distinct,
                    lambda codes: (codes.str.upper() != country).astype("boolean"),
                )[0]
            }
        )
    if table.name == "cases":
        jobs.append(lambda: _case_columns(columns, derived["person_id"], distinct))
    for _, found in in_threads(lambda job: job(), [(job,) for job in jobs]):
        derived.update(found)
    if "is_completed_on_time" in names:
        on_time = (columns["end_date"] <= columns["planned_end_date"]).astype("boolean")
        on_time = on_time.mask(columns["end_date"].isna() | columns["planned_end_date"].isna())
        derived["is_completed_on_time"] = on_time.mask(
            columns["is_completed"].eq(False).fillna(False), False
        )
    if "participants_total" in names:
        female, male = columns["participants_female"], columns["participants_male"]
        both_missing = female.isna() & male.isna()
        derived["participants_total"] = columns["participants_total"].fillna(
            (female.fillna(0) + male.fillna(0)).mask(both_missing)
        )
    if "participation_end_date" in names:
        withdrew = columns["has_withdrawn"].eq(True).fillna(False)
        derived["participation_end_date"] = columns["withdrawal_date"].where(
            withdrew, columns["concluded_date"]
        )
    if "is_forced_labour" in names:
        derived.update(_forced_labour_columns(columns))
    if "is_child_labour" in names:
        derived.update(_child_labour_columns(columns["age"], columns["economic_activity_hours"]))
    return derived


def filled(values: pd.Series, other: pd.Series) -> pd.Series:
    """`values.fillna(other)`, without the work when nothing or everything is missing (a column no
    source gives is missing whole)."""
    missing = values.isna()
    if not missing.any():
        return values
    if missing.all():
        return other.astype(values.dtype)
    return values.fillna(other)


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole days from `earlier` to `later` (rounded down like Timedelta.days).

    Missing stays missing.
    """
    days = (later.to_numpy() - earlier.to_numpy()).astype("timedelta64[D]")
    days = pd.arrays.IntegerArray(days.view("int64"), np.isnat(days))
    return pd.Series(days, index=later.index, copy=False)


def _case_columns(columns: dict, person_id: pd.Series, distinct=()) -> dict:
    """A case's forms of exploitation (the main form when no other is recorded), their group, the
    presumption of minority, and the days from closure to the person's next identification."""
    forms = filled(columns["exploitation_types"], columns["exploitation_type"])
    presumed = (columns["age"] < CHILD_AGE_LIMIT).fillna(False) | columns["is_possibly_child"].eq(
        True
    ).fillna(False)
    return {
        "exploitation_types": forms,
        "exploitation_group": _by_distinct(
            forms, distinct, lambda cells: cells.map(exploitation_group)
        )[0],
        "is_presumed_child": presumed.astype("boolean"),
        "days_to_reidentification": _days_to_reidentification(columns, person_id),
    }


def exploitation_group(cell) -> str:
    """The group of a multi-valued cell of forms: both sexual and labour exploitation is 'mixed'."""
    if cell is None or cell is pd.NA:
        return "unknown"
    forms = set(str(cell).split(MULTIPLE_SEPARATOR)) - {"unknown"}
    sexual, labour = "sexual_exploitation" in forms, bool(forms & set(LABOUR_FORMS))
    if sexual and labour:
        return "mixed"
    if sexual:
        return "sexual_exploitation"
    if labour:
        return "labour_exploitation"
    return "other" if forms else "unknown"


def _days_to_reidentification(columns: dict, person_id: pd.Series) -> pd.Series:
    """Days from each closed case's closure to the same person's next identification, after it, as a
    possible or actual victim; missing when the person was not identified again. Only people with
    more than one case can be (most have one: they are left out before matching)."""
    index = columns["case_id"].index
    result = empty_column("Int64", index)
    repeated = _repeated(person_id)
    if not repeated.any():
        return result
    person = person_id.array
    at = np.flatnonzero(repeated)
    closed = pd.DataFrame(
        {"person": person[at], "closure": columns["closure_date"].array[at], "at": at}
    ).dropna(subset=["closure"])
    is_victim = columns["trafficking_status"].isin(VICTIM_STATUSES).fillna(False).to_numpy()
    again_at = np.flatnonzero(repeated & is_victim)
    again = pd.DataFrame(
        {"person": person[again_at], "identified": columns["identification_date"].array[again_at]}
    ).dropna()
    if closed.empty or again.empty:
        return result
    matched = pd.merge_asof(
        closed.sort_values("closure"),
        again.sort_values("identified"),
        left_on="closure",
        right_on="identified",
        by="person",
        direction="forward",
        allow_exact_matches=False,
    )
    days = days_between(matched["identified"], matched["closure"])
    result.iloc[matched["at"].to_numpy()] = days.to_numpy()
    return result


def _repeated(values: pd.Series) -> np.ndarray:
    """Whether each value occurs more than once (a missing value never does), by sorting: faster
    than hashing a column of (almost) unique identifiers. None is in a register in id order."""
    repeated = np.zeros(len(values), dtype=bool)
    if len(values) < 2 or (not values.hasnans and increasing(values)):
        return repeated
    array = pa.array(values.array)  # an Arrow-backed column: its own chunks, not copied
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    order = pc.sort_indices(array).to_numpy()
    ordered = array.take(order)
    same = pc.fill_null(pc.equal(ordered[1:], ordered[:-1]), False).to_numpy(zero_copy_only=False)
    repeated[order] = np.concatenate([[False], same]) | np.concatenate([same, [False]])
    return repeated


def _forced_labour_columns(columns: dict) -> dict:
    """How many of the eleven ILO indicators are present, and the two elements of forced labour."""
    flags = pd.DataFrame({name: columns[name] for name in ILO_INDICATOR_NAMES})
    screened = flags.notna().any(axis=1)
    involuntary = flags[list(ILO_INVOLUNTARINESS)].eq(True).any(axis=1)
    menace = flags[list(ILO_MENACE_OF_PENALTY)].eq(True).any(axis=1)
    return {
        "forced_labour_indicators": flags.eq(True).sum(axis=1).astype("Int64").where(screened),
        "is_involuntary_work": involuntary.astype("boolean").where(screened),
        "is_under_menace_of_penalty": menace.astype("boolean").where(screened),
        "is_forced_labour": (involuntary & menace).astype("boolean").where(screened),
    }


def _child_labour_columns(age: pd.Series, hours: pd.Series) -> dict:
    """The SDG 8.7.1 age band of each respondent and whether a child of 5-17 is in child labour."""
    band = pd.Series("unknown", index=age.index, dtype="string")
    threshold = pd.Series(np.nan, index=age.index, dtype="Float64")
    band = band.mask(age.notna(), "outside_5_17")
    for (low, high, limit), label in zip(CHILD_LABOUR_HOURS, CHILD_AGE_BANDS):
        inside = ((age >= low) & (age <= high)).fillna(False)
        band, threshold = band.mask(inside, label), threshold.mask(inside, limit)
    return {
        "child_age_band": band,
        "is_child_labour": (hours >= threshold).astype("boolean").mask(threshold.isna()),
    }


# -- derived columns that need another table -------------------------------------------------------


def derive_linked(tables: dict[str, pd.DataFrame], project: Project) -> dict[str, pd.DataFrame]:
    """The tables with the columns derived across tables: a case's services (kinds received, first
    service, days to it), a service's new or continuing person, a follow-up's days since closure and
    a victim's person in proceedings. A table not in `tables` derives nothing."""
    tables = dict(tables)
    cases, services = tables.get("cases"), tables.get("services")
    if cases is not None and services is not None:
        tables["cases"] = cases = cases.assign(**_services_of_cases(cases, services))
    if services is not None:
        tables["services"] = services.assign(
            new_or_continuing=_new_or_continuing(services, cases, project)
        )
    if "follow_ups" in tables and cases is not None:
        follow_ups = tables["follow_ups"]
        closure = _looked_up(follow_ups["case_id"], cases, "closure_date")
        tables["follow_ups"] = follow_ups.assign(
            days_since_closure=days_between(follow_ups["follow_up_date"], closure)
        )
    if "victim_participation" in tables:
        victims = tables["victim_participation"]
        person = victims["person_id"]
        if cases is not None:
            person = person.fillna(_looked_up(victims["case_id"], cases, "person_id"))
        tables["victim_participation"] = victims.assign(
            person_id=person.fillna(victims["case_id"]).fillna(victims["participation_id"])
        )
    return tables


def _looked_up(keys: pd.Series, cases: pd.DataFrame, column: str) -> pd.Series:
    """`column` of the case each key names (missing when the case is not in the table)."""
    positions = pd.Index(cases["case_id"]).get_indexer(keys)
    values = cases[column].array.take(positions, allow_fill=True)
    return pd.Series(values, index=keys.index, copy=False)


def _services_of_cases(cases: pd.DataFrame, services: pd.DataFrame) -> dict:
    """Each case's first service and every kind of service it received (one bit per kind, joined
    once per distinct combination)."""
    positions = pd.Index(cases["case_id"]).get_indexer(services["case_id"])
    kinds = pd.Index(SERVICE_TYPES).get_indexer(services["service_type"])
    known = positions >= 0
    typed = known & (kinds >= 0)
    bits = np.zeros(len(cases), dtype=np.int64)
    np.bitwise_or.at(bits, positions[typed], np.left_shift(1, kinds[typed]))
    first = np.full(len(cases), np.datetime64("NaT"), dtype="datetime64[ns]")
    np.fmin.at(first, positions[known], services["start_date"].to_numpy()[known])
    masks, inverse = np.unique(bits, return_inverse=True)
    cells = [
        MULTIPLE_SEPARATOR.join(k for i, k in enumerate(SERVICE_TYPES) if mask >> i & 1) or None
        for mask in masks
    ]
    first_date = pd.Series(first, index=cases.index, copy=False)
    received = pd.Series(np.array(cells, dtype=object)[inverse], index=cases.index, copy=False)
    return {
        "services_received": received.astype("string"),
        "first_service_date": first_date,
        "days_to_first_service": days_between(first_date, cases["identification_date"]),
    }


def _new_or_continuing(
    services: pd.DataFrame, cases: pd.DataFrame | None, project: Project
) -> pd.Series:
    """'new' for services in the fiscal year of the person's first service, else 'continuing'."""
    person = services["case_id"]
    if cases is not None:
        person = _looked_up(services["case_id"], cases, "person_id").fillna(person)
    start = services["start_date"]
    reporting = project.reporting
    first_month = reporting.fiscal_year_start_month if reporting.calendar == "fiscal" else 1
    year = start.dt.year + ((start.dt.month >= first_month) & (first_month > 1)).astype("Int64")
    first_year = year.groupby(person.to_numpy()).transform("min")
    status = pd.Series("continuing", index=services.index, dtype="string")
    return status.mask(year.eq(first_year).fillna(False), "new").mask(start.isna())


def _by_distinct(values: pd.Series, known, *functions) -> list[pd.Series]:
    """Each function(values), computed once per distinct value (ages and codes repeat a lot);
    `known`: (array, codes, distinct values) of columns whose distinct values are known."""
    codes, distinct = next(
        ((codes, found) for array, codes, found in known if array is values.array), (None, None)
    )
    if codes is None:
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
    distinct = pd.Series(distinct, dtype=values.dtype)
    return [
        pd.Series(taken(function(distinct).array, codes), index=values.index, copy=False)
        for function in functions
    ]


def empty_standard_frame(table: Table, project: Project) -> pd.DataFrame:
    return standard_frame({}, table, project, pd.Index([], dtype="int64"))


def age_from_birth_date(typed: dict, table: Table, origin: Origin):
    """Fill missing ages from the birth date at the table's date; the birth date is then dropped."""
    birth = typed.pop(BIRTH_DATE.name)
    on = typed.get(table.date_columns_in_period[0]) if table.date_columns_in_period else None
    if on is None:
        return [
            origin.problem(
                "a birth date needs the table's date to give an age",
                column=origin.label(BIRTH_DATE.name),
                rule="birth date",
            )
        ]
    before_birthday = (on.dt.month < birth.dt.month) | (
        (on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day)
    )
    age = (
        on.dt.year.astype("Int64") - birth.dt.year.astype("Int64") - before_birthday.astype("Int64")
    )
    negative = (age < 0).fillna(False)
    typed["age"] = typed["age"].fillna(age.mask(negative)) if "age" in typed else age.mask(negative)
    return origin.row_problems(
        negative,
        birth,
        BIRTH_DATE.name,
        "birth date",
        lambda _: "birth date after the table's date",
    )


DERIVED_FROM = {  # a derived column -> the columns it needs (any one of the tuples, all of one)
    "age_group": (("age",),),
    "child_adult": (("age",),),
    "is_presumed_child": (("age",), ("is_possibly_child",)),
    "is_foreign_national": (("nationality",),),
    "exploitation_types": (("exploitation_types",), ("exploitation_type",)),
    "exploitation_group": (("exploitation_types",), ("exploitation_type",)),
    "days_to_referral_acceptance": (("referral_date", "referral_accepted_date"),),
    "days_to_reidentification": (("closure_date", "trafficking_status"),),
    "is_completed_on_time": (("end_date", "planned_end_date"), ("is_completed",)),
    "participants_total": (
        ("participants_total",),
        ("participants_female",),
        ("participants_male",),
    ),
    "days_to_followup": (("followup_date", "completion_date"),),
    "days_to_verdict": (("verdict_date", "investigation_date"),),
    "days_from_charges_to_verdict": (("verdict_date", "prosecution_date"),),
    "participation_end_date": (("withdrawal_date",), ("concluded_date",)),
    "forced_labour_indicators": tuple((name,) for name in ILO_INDICATOR_NAMES),
    "is_involuntary_work": tuple((name,) for name in ILO_INVOLUNTARINESS),
    "is_under_menace_of_penalty": tuple((name,) for name in ILO_MENACE_OF_PENALTY),
    "is_forced_labour": tuple((name,) for name in ILO_INDICATOR_NAMES),
    "child_age_band": (("age",),),
    "is_child_labour": (("age", "economic_activity_hours"),),
    "value_state": (("value",),),
    "value_as_written": (("value",),),
}


def provided_columns(read: set[str], table: Table) -> frozenset[str]:
    """The table's columns a source gives: the ones read, the identifiers that take the record's
    own id when empty (`OWN_ID_WHEN_EMPTY`), and the derived ones it can compute (DERIVED_FROM;
    one derived from another table, such as a case's services, counts as given)."""
    provided = (set(read) & set(table.column_names)) | set(OWN_ID_WHEN_EMPTY.get(table.name, {}))
    if table.name == "victim_participation":
        provided.add("person_id")  # the person of the case, else the participation (derive_linked)
    for column in table.columns:
        needs = DERIVED_FROM.get(column.name)
        if needs is None:
            if column.derived:
                provided.add(column.name)
        elif any(set(need) <= provided for need in needs):
            provided.add(column.name)
    return frozenset(provided)
