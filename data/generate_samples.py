"""Write the synthetic sample projects under data/sample/, one folder each.

Each folder holds project.yaml + data files.

Seeded and deterministic: running it again writes byte-identical files. No real person's data:
people are pseudonymous counters (C-000123), and no names, phone numbers or document numbers exist.

    python data/generate_samples.py [OUTPUT_DIR]      # default: data/sample beside this script
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sys
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ctlib._compute.periods import ReportingCalendar
from ctlib._data.project_model import Project
from ctlib._data.tables import ILO_INVOLUNTARINESS, ILO_MENACE_OF_PENALTY, TABLES

SEED = 20260101
OUT_DIR = Path(__file__).resolve().parent / "sample"
FILE_TIME = dt.datetime(2026, 10, 1)  # the timestamp written into every xlsx file
HEADER = "# Synthetic sample project written by data/generate_samples.py: no real person's data.\n"

INSTITUTIONS = {
    "police": "National Police",
    "border_officials": "Border Police",
    "prosecutors": "Prosecution Service",
    "judges": "Courts",
    "labour_inspectors": "Labour Inspectorate",
    "social_workers": "Social Welfare Department",
    "health_workers": "District hospitals",
    "ngo_staff": "Partner NGOs",
    "government_officials": "Local government",
    "employers": "Employers' federation",
    "community_leaders": "Community councils",
    "recruitment_agencies": "Licensed recruitment agencies",
}


# ---------------------------------------------------------------- random building blocks


def quarters(first: str, count: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(start, end) of `count` consecutive quarters from the quarter starting on `first`."""
    starts = pd.date_range(first, periods=count + 1, freq="3MS")
    return [(start, end - pd.Timedelta(days=1)) for start, end in zip(starts[:-1], starts[1:])]


def dates_in(rng, quarter_spans, counts) -> pd.Series:
    """Sorted random dates: counts[i] of them inside quarter_spans[i]."""
    days = [
        start + pd.to_timedelta(rng.integers(0, (end - start).days + 1, n), unit="D")
        for (start, end), n in zip(quarter_spans, counts)
    ]
    return pd.Series(np.sort(np.concatenate(days)), dtype="datetime64[ns]")


def pick(rng, weights: dict, n: int) -> np.ndarray:
    """n draws from the keys of `weights`, with probabilities proportional to the values."""
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(np.array(list(weights), dtype=object), size=n, p=p / p.sum())


def ages(rng, n: int, mean: float, sd: float, low: int, high: int) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd, n)), low, high).astype(int)


def scores(rng, n: int, mean: float, sd: float) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd, n)), 0, 100)


def blank(rng, values, share: float) -> pd.Series:
    """The values with a random `share` of them emptied (missing in the source)."""
    series = pd.Series(values).convert_dtypes()
    return series.mask(rng.random(len(series)) < share)


def days_after(rng, dates: pd.Series, low: int, high: int) -> pd.Series:
    return dates + pd.to_timedelta(rng.integers(low, high + 1, len(dates)), unit="D")


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(1, n + 1)]


def ramp(base: float, n: int, first_share: float = 0.5) -> np.ndarray:
    """Expected volume per quarter.

    The first quarter at `first_share` of base (start-up), then base.
    """
    expected = np.full(n, float(base))
    expected[0] *= first_share
    return expected


# ---------------------------------------------------------------- activities and learning events


def events(
    rng,
    quarter_spans,
    per_quarter,
    *,
    activity_type,
    pillar,
    target_groups,
    size,
    female_share,
    locations,
    id_prefix,
    channel="in_person",
) -> pd.DataFrame:
    """Events with participants counted by sex (no individual records).

    Awareness events, meetings.
    """
    dates = dates_in(rng, quarter_spans, rng.poisson(per_quarter))
    n = len(dates)
    total = rng.integers(size[0], size[1] + 1, n)
    female = rng.binomial(total, female_share)
    return pd.DataFrame(
        {
            "activity_id": ids(id_prefix, n),
            "activity_date": dates,
            "activity_type": activity_type,
            "pillar": pillar,
            "target_group": pick(rng, target_groups, n),
            "location": pick(rng, locations, n),
            "channel": channel,
            "participants_female": female,
            "participants_male": total - female,
            "participants_total": total,
        }
    )


def learning_events(
    rng,
    quarter_spans,
    per_quarter,
    *,
    activity_type,
    pillar,
    target_groups,
    curricula,
    size,
    female_share,
    age,
    pre,
    gain,
    locations,
    id_prefix,
    institutions=INSTITUTIONS,
):
    """Trainings or sessions, one row per participant with pre/post test scores.

    Returns (activities, participants).

    The activity's participant counts are those of its participant rows, so the two tables agree.
    """
    activities = events(
        rng,
        quarter_spans,
        per_quarter,
        activity_type=activity_type,
        pillar=pillar,
        target_groups=target_groups,
        size=size,
        female_share=female_share,
        locations=locations,
        id_prefix=id_prefix,
    )
    sizes = activities["participants_total"].to_numpy()
    n = int(sizes.sum())
    rows = np.repeat(np.arange(len(activities)), sizes)
    completed = rng.random(n) < 0.93
    pre_score = scores(rng, n, *pre)
    post_score = np.clip(pre_score + np.round(rng.normal(*gain, n)), 0, 100)
    participants = pd.DataFrame(
        {
            "participant_id": ids(id_prefix + "P", n),
            "activity_id": activities["activity_id"].to_numpy()[rows],
            "completion_date": activities["activity_date"].to_numpy()[rows],
            "sex": np.where(rng.random(n) < female_share, "female", "male"),
            "age": blank(rng, ages(rng, n, *age), 0.03),
            "target_group": activities["target_group"].to_numpy()[rows],
            "location": activities["location"].to_numpy()[rows],
            "curriculum": pick(rng, curricula, len(activities))[rows],
            "has_completed": completed,
            "pre_score": blank(rng, pre_score, 0.02),
            "post_score": pd.Series(post_score).where(completed),
        }
    )
    participants.insert(6, "institution", participants["target_group"].map(institutions))
    female = np.bincount(
        rows, weights=participants["sex"].eq("female").to_numpy(), minlength=len(sizes)
    )
    activities["participants_female"] = female.astype(int)
    activities["participants_male"] = sizes - activities["participants_female"]
    return activities, participants


# ---------------------------------------------------------------- writing files deterministically


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n").encode("utf-8")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def xlsx_bytes(workbook: Workbook) -> bytes:
    """The workbook as xlsx bytes with fixed timestamps (in the document and in the zip entries)."""
    workbook.properties.created = workbook.properties.modified = FILE_TIME
    raw = io.BytesIO()
    ExcelWriter(workbook, ZipFile(raw, "w", ZIP_DEFLATED)).save()
    out = io.BytesIO()
    with ZipFile(raw) as source, ZipFile(out, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(
                ZipInfo(info.filename, FILE_TIME.timetuple()[:6]),
                source.read(info.filename),
                compress_type=ZIP_DEFLATED,
            )
    return out.getvalue()


def cell_value(value):
    """A value openpyxl can store: missing values become empty cells, timestamps become dates."""
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
        or value is pd.NaT
    ):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if isinstance(value, np.generic) else value


def put(sheet, row: int, column: int, value) -> None:
    """One cell; dates shown as YYYY-MM-DD."""
    cell = sheet.cell(row, column, cell_value(value))
    if isinstance(cell.value, dt.date):
        cell.number_format = "yyyy-mm-dd"


def fill_sheet(sheet, frame: pd.DataFrame, first_row: int = 1, first_column: int = 1) -> None:
    """Write the frame's header and rows into the sheet from (first_row, first_column)."""
    for j, name in enumerate(frame.columns, start=first_column):
        put(sheet, first_row, j, name)
    for i, row in enumerate(frame.itertuples(index=False), start=first_row + 1):
        for j, value in enumerate(row, start=first_column):
            put(sheet, i, j, value)


def flow_style(node):
    """The document with short lists and filter conditions written on one line.

    E.g. `[sex, location]`.
    """
    if isinstance(node, dict):
        mapping = CommentedMap((key, flow_style(value)) for key, value in node.items())
        if set(node) == {"column", "op", "value"}:
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(node, list):
        sequence = CommentedSeq(flow_style(item) for item in node)
        if all(not isinstance(item, (dict, list)) for item in node):
            sequence.fa.set_flow_style()
        return sequence
    return node


def yaml_bytes(document) -> bytes:
    yaml = YAML()
    yaml.width = 4096  # no folded lines
    text = io.StringIO()
    yaml.dump(flow_style(document), text)
    return (HEADER + text.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- the projects' data

NP_DISTRICTS = {"Sindhupalchok": 3, "Makwanpur": 2, "Nuwakot": 2, "Dhading": 2, "Kavrepalanchok": 1}


def prevention_data(rng, spans) -> dict[str, pd.DataFrame]:
    """The prevention data of Safe Journeys.

    Events, media, a hotline, safer-migration sessions, trainings, district meetings, a survey.
    """
    n = len(spans)
    awareness = events(
        rng,
        spans,
        ramp(14, n),
        activity_type="awareness_event",
        pillar="prevention",
        target_groups={"general_public": 5, "students": 3, "community_leaders": 1},
        size=(25, 180),
        female_share=0.55,
        locations=NP_DISTRICTS,
        id_prefix="AW",
    )
    media = events(
        rng,
        spans,
        ramp(2, n),
        activity_type="media_campaign",
        pillar="prevention",
        target_groups={"general_public": 3, "potential_migrants": 2},
        size=(0, 0),
        female_share=0.5,
        locations=NP_DISTRICTS,
        id_prefix="MC",
    )
    media["channel"] = pick(rng, {"radio": 3, "social_media": 2, "television": 1}, len(media))
    media["reach"] = np.round(rng.lognormal(10, 0.6, len(media)), -2).astype(int)
    media[["participants_female", "participants_male", "participants_total"]] = pd.NA
    months = pd.date_range(spans[0][0], spans[-1][1], freq="ME")
    hotline = pd.DataFrame(
        {
            "activity_id": ids("HL", len(months)),
            "activity_date": months,
            "activity_type": "hotline_operation",
            "pillar": "prevention",
            "target_group": "general_public",
            "location": "Kathmandu",
            "channel": "phone",
            "contacts": rng.poisson(np.linspace(160, 320, len(months))),
        }
    )
    hotline["contacts_trafficking"] = rng.binomial(hotline["contacts"], 0.08)
    meetings = events(
        rng,
        spans,
        np.full(n, 4.0),
        activity_type="coordination_meeting",
        pillar="partnership",
        target_groups={"government_officials": 1},
        size=(8, 20),
        female_share=0.35,
        locations=NP_DISTRICTS,
        id_prefix="CM",
    )
    meetings["has_action_taken"] = rng.random(len(meetings)) < 0.6
    sessions, migrants = learning_events(
        rng,
        spans,
        ramp(10, n),
        activity_type="safe_migration_session",
        pillar="prevention",
        target_groups={"potential_migrants": 5, "returnees": 1},
        curricula={"safe_migration": 1},
        size=(12, 35),
        female_share=0.38,
        age=(26, 7, 16, 55),
        pre=(41, 15),
        gain=(17, 13),
        locations=NP_DISTRICTS,
        id_prefix="SM",
    )
    trainings, trainees = learning_events(
        rng,
        spans,
        ramp(3, n),
        activity_type="training",
        pillar="prevention",
        target_groups={"ngo_staff": 2, "government_officials": 2, "community_leaders": 2},
        curricula={"tip_prevention": 1},
        size=(14, 28),
        female_share=0.47,
        age=(36, 9, 20, 64),
        pre=(52, 13),
        gain=(21, 11),
        locations=NP_DISTRICTS,
        id_prefix="TR",
    )
    fair_recruitment, recruiters = learning_events(
        rng,
        spans,
        ramp(1.2, n),
        activity_type="training",
        pillar="prevention",
        target_groups={"recruitment_agencies": 2, "employers": 1},
        curricula={"fair_recruitment": 1},
        size=(10, 22),
        female_share=0.3,
        age=(41, 9, 22, 66),
        pre=(48, 12),
        gain=(18, 10),
        locations={"Kathmandu": 1},
        id_prefix="FR",
    )
    activities, participants = renumber(
        pd.concat([awareness, media, hotline, meetings, sessions, trainings, fair_recruitment]),
        pd.concat([migrants, trainees, recruiters]),
        "EV",
    )
    participants = with_people(rng, participants)
    trained = set(activities.loc[activities["activity_type"].eq("training"), "activity_id"])
    participants = training_followups(rng, participants, trained, spans[-1][1])
    survey = prevention_survey(rng, spans)
    livelihood, supported = livelihood_support(rng, spans)
    surveys = [survey, returnee_screening(rng, spans), child_labour_module(rng, spans)]
    return {
        "activities": pd.concat([activities, livelihood], ignore_index=True),
        "participants": pd.concat([participants, supported], ignore_index=True),
        "surveys": pd.concat(surveys, ignore_index=True),
    }


def livelihood_support(rng, spans) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vocational courses for returnees and young people at risk, kept in the livelihood team's own
    register (appended after the outreach register, LV ids); income checked six months after the
    course."""
    courses, people = learning_events(
        rng,
        spans[1:],
        np.full(len(spans) - 1, 2.0),
        activity_type="livelihood_support",
        pillar="prevention",
        target_groups={"returnees": 2, "potential_migrants": 1},
        curricula={"livelihood": 1},
        size=(10, 18),
        female_share=0.6,
        age=(24, 5, 17, 45),
        pre=(45, 12),
        gain=(10, 8),
        locations=NP_DISTRICTS,
        id_prefix="LV",
    )
    n = len(people)
    followup = people["completion_date"] + pd.to_timedelta(rng.integers(120, 300, n), unit="D")
    followed_up = people["has_completed"] & (rng.random(n) < 0.85) & (followup <= spans[-1][1])
    people["followup_date"] = followup.where(followed_up)
    people["has_income_at_followup"] = pd.Series(rng.random(n) < 0.58).where(followed_up)
    people["person_id"] = people["participant_id"]
    return courses, people


ILO_SHARES = {  # how often each ILO indicator is present among screened returnees
    "ilo_abuse_of_vulnerability": 0.12,
    "ilo_deception": 0.2,
    "ilo_restriction_of_movement": 0.08,
    "ilo_isolation": 0.05,
    "ilo_physical_sexual_violence": 0.04,
    "ilo_intimidation_threats": 0.1,
    "ilo_retention_of_documents": 0.15,
    "ilo_withholding_of_wages": 0.14,
    "ilo_debt_bondage": 0.09,
    "ilo_abusive_conditions": 0.1,
    "ilo_excessive_overtime": 0.22,
}


def returnee_screening(rng, spans) -> pd.DataFrame:
    """Returned migrant workers screened on the eleven ILO forced-labour indicators during the
    endline fieldwork; workers found in forced labour are mostly referred. Recruitment channel asked
    too."""
    start, end = spans[-1]
    n = 120
    exploited = rng.random(n) < 0.35  # a worker in a bad job shows several indicators
    flags = {
        name: rng.random(n) < np.where(exploited, 2.2 * share, 0.3 * share)
        for name, share in ILO_SHARES.items()
    }
    forced = np.any([flags[k] for k in ILO_INVOLUNTARINESS], axis=0) & np.any(
        [flags[k] for k in ILO_MENACE_OF_PENALTY], axis=0
    )
    return pd.DataFrame(
        {
            "response_id": ids("W", n),
            "survey_date": dates_in(rng, [(start + pd.Timedelta(days=30), end)], [n]),
            "survey_round": "follow_up",
            "sex": np.where(rng.random(n) < 0.3, "female", "male"),
            "age": ages(rng, n, 31, 7, 18, 60),
            "location": pick(rng, NP_DISTRICTS, n),
            "target_group": "returnees",
            "has_used_regular_channel": rng.random(n) < 0.45,
            **flags,
            "is_referred": forced & (rng.random(n) < 0.6),
        }
    )


def child_labour_module(rng, spans) -> pd.DataFrame:
    """Children of 5 to 17 in the surveyed households, at baseline and endline: hours of economic
    activity in the reference week (fewer children working long hours at endline)."""
    frames = []
    for name, (start, _), working in (("baseline", spans[0], 0.32), ("endline", spans[-1], 0.22)):
        n = 160
        age = rng.integers(5, 18, n)
        works = rng.random(n) < working
        hours = np.where(works, np.round(rng.gamma(2.0, 9 + age, n)), 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "survey_date": dates_in(
                        rng, [(start + pd.Timedelta(days=30), start + pd.Timedelta(days=60))], [n]
                    ),
                    "survey_round": name,
                    "sex": np.where(rng.random(n) < 0.5, "female", "male"),
                    "age": age,
                    "location": pick(rng, NP_DISTRICTS, n),
                    "target_group": "students",
                    "economic_activity_hours": blank(rng, hours, 0.03),
                }
            )
        )
    children = pd.concat(frames, ignore_index=True)
    children.insert(0, "response_id", ids("K", len(children)))
    return children


def prevention_survey(rng, spans) -> pd.DataFrame:
    """Baseline in the first quarter, endline in the last: knowledge and intentions improve."""
    rounds = [
        (
            "baseline",
            spans[0],
            420,
            dict(signs=1.7, hotline=0.31, channel=0.38, discourage=0.47, participants=0.08),
        ),
        (
            "endline",
            spans[-1],
            410,
            dict(signs=2.9, hotline=0.58, channel=0.52, discourage=0.66, participants=0.55),
        ),
    ]
    frames = []
    for name, (start, end), n, p in rounds:
        fieldwork = (start + pd.Timedelta(days=30), min(end, start + pd.Timedelta(days=60)))
        frames.append(
            pd.DataFrame(
                {
                    "survey_date": dates_in(rng, [fieldwork], [n]),
                    "survey_round": name,
                    "sex": np.where(rng.random(n) < 0.52, "female", "male"),
                    "age": blank(rng, ages(rng, n, 27, 8, 16, 60), 0.02),
                    "location": pick(rng, NP_DISTRICTS, n),
                    "target_group": pick(rng, {"potential_migrants": 3, "general_public": 2}, n),
                    "risk_signs_named": rng.poisson(p["signs"], n),
                    "knows_hotline": rng.random(n) < p["hotline"],
                    "has_regular_channel_access": rng.random(n) < p["channel"],
                    "would_discourage_irregular": blank(rng, rng.random(n) < p["discourage"], 0.04),
                    "is_project_participant": rng.random(n) < p["participants"],
                }
            )
        )
    survey = pd.concat(frames, ignore_index=True)
    survey.insert(0, "response_id", ids("R", len(survey)))
    return survey


TH_PROVINCES = {"Bangkok": 4, "Chon Buri": 2, "Songkhla": 3, "Tak": 2, "Chiang Mai": 2}
CASE_PROFILE = {  # column: weights of its categories for a typical case of the protection project
    "sex": {"female": 62, "male": 37, "unknown": 1},
    "nationality": {"TH": 35, "MM": 35, "KH": 15, "LA": 10, "VN": 5},
    "country_of_exploitation": {"TH": 95, "MY": 5},
    "location": TH_PROVINCES,
    "exploitation_type": {
        "sexual_exploitation": 36,
        "forced_labour": 40,
        "forced_begging": 5,
        "child_labour": 6,
        "forced_criminality": 8,
        "forced_marriage": 2,
        "other": 2,
        "unknown": 1,
    },
    "identified_by": {
        "police": 30,
        "ngo": 25,
        "labour_inspection": 10,
        "immigration": 10,
        "hotline": 10,
        "social_services": 8,
        "community": 5,
        "self_identified": 2,
    },
    "trafficking_status": {"actual": 58, "possible": 37, "not_a_victim": 5},
}
# a labour raid on fishing vessels: adult men from Myanmar, identified by inspectors
RAID_PROFILE = {
    **CASE_PROFILE,
    "sex": {"male": 1},
    "nationality": {"MM": 4, "KH": 1},
    "location": {"Songkhla": 1},
    "exploitation_type": {"forced_labour": 1},
    "identified_by": {"labour_inspection": 2, "police": 1},
    "trafficking_status": {"actual": 3, "possible": 1},
}
CLOSURE_WEIGHTS = {
    "goals_met": 55,
    "referred": 15,
    "lost_contact": 12,
    "declined_services": 8,
    "relocated": 7,
    "other": 3,
}


def case_profiles(rng, dates: pd.Series, profile: dict, child_share: float) -> pd.DataFrame:
    """Who the cases are: one row per date, categories drawn from the profile's weights."""
    n = len(dates)
    cases = pd.DataFrame({"identification_date": dates.to_numpy()})
    for column, weights in profile.items():
        cases[column] = pick(rng, weights, n)
    is_child = rng.random(n) < child_share
    cases["age"] = np.where(is_child, ages(rng, n, 15, 2.5, 8, 17), ages(rng, n, 28, 8, 18, 60))
    return cases


def protection_cases(rng, spans, data_end, raid_quarter: int) -> pd.DataFrame:
    """Several hundred cases.

    Identification, referral, consent, guardians, wellbeing scores, closure.
    """
    n_quarters = len(spans)
    regular = case_profiles(
        rng, dates_in(rng, spans, rng.poisson(ramp(42, n_quarters, 0.6))), CASE_PROFILE, 0.22
    )
    start, _ = spans[raid_quarter]
    raid_days = (start + pd.Timedelta(days=40), start + pd.Timedelta(days=46))
    raid = case_profiles(rng, dates_in(rng, [raid_days], [55]), RAID_PROFILE, 0.05)
    cases = pd.concat([regular, raid]).sort_values("identification_date", ignore_index=True)
    n = len(cases)
    identified = cases["identification_date"]
    progress = np.linspace(0, 1, n)  # practice improves as the project goes on
    cases.insert(0, "case_id", ids("C", n))
    cases["age"] = blank(rng, cases["age"], 0.03)
    is_child = cases["age"].lt(18).fillna(False).to_numpy()
    is_foreign = cases["nationality"].ne("TH").to_numpy()
    actual = cases["trafficking_status"].eq("actual").to_numpy()
    cases["status_decided_by"] = np.where(
        actual,
        pick(rng, {"police": 50, "court_or_prosecution": 15, "government_other": 25, "ngo": 10}, n),
        pick(rng, {"ngo": 60, "police": 25, "unknown": 15}, n),
    )
    cases["has_consent"] = blank(rng, rng.random(n) < 0.94, 0.02)
    referred = rng.random(n) < 0.68
    referral = days_after(rng, identified, 0, 21).where(referred)
    accepted = days_after(rng, referral, 1, 1) + pd.to_timedelta(
        rng.geometric(0.12 + 0.1 * progress), unit="D"
    )
    cases["is_referred"] = referred
    cases["referral_date"] = referral.where(referral <= data_end)
    cases["referral_accepted_date"] = accepted.where((rng.random(n) < 0.9) & (accepted <= data_end))
    cases["has_needs_assessment"] = rng.random(n) < 0.75 + 0.2 * progress
    cases["has_guardian"] = pd.Series(rng.random(n) < 0.8).convert_dtypes().where(is_child)
    cases["has_reflection_period"] = (
        pd.Series(rng.random(n) < 0.55).convert_dtypes().where(is_foreign)
    )
    tool_in_use = (
        identified >= spans[min(2, n_quarters - 1)][0]
    )  # the wellbeing scale came in the third quarter
    intake = scores(rng, n, 41, 11)
    cases["wellbeing_intake_score"] = blank(rng, intake, 0.05).where(
        tool_in_use | (rng.random(n) < 0.3)
    )
    closed = days_after(rng, identified, 60, 420)
    is_closed = closed <= data_end
    reason = pd.Series(pick(rng, CLOSURE_WEIGHTS, n)).where(is_closed)
    cases["case_status"] = np.select(
        [reason.eq("referred").fillna(False), is_closed, closed - data_end < pd.Timedelta(days=90)],
        ["closed_referred", "closed", "follow_up"],
        "active",
    )
    cases["closure_date"] = closed.where(is_closed)
    cases["closure_reason"] = reason
    improved = reason.isin(["goals_met", "referred"]) & cases["wellbeing_intake_score"].notna()
    exit_score = np.clip(intake + np.round(rng.normal(14, 12, n)), 0, 100)
    cases["wellbeing_exit_score"] = pd.Series(exit_score).where(improved & (rng.random(n) < 0.85))
    cases["person_id"] = people_identified_again(rng, cases)
    cases["age_when_trafficked"] = (cases["age"] - rng.integers(0, 3, n)).clip(lower=0)
    cases["is_possibly_child"] = (
        pd.Series(rng.random(n) < 0.4).convert_dtypes().where(cases["age"].isna())
    )
    cases["nationalities"] = (
        cases["nationality"]
        .where(rng.random(n) > 0.03, cases["nationality"] + ";TH")
        .where(cases["nationality"].ne("TH"), cases["nationality"])
    )
    cases["exploitation_types"] = several_forms(rng, cases["exploitation_type"])
    cases["services_needed"] = needed_services(rng, n)
    trained_may_find = cases["identified_by"].isin(
        ["labour_inspection", "police", "social_services"]
    )
    cases["is_identified_by_trained_stakeholder"] = trained_may_find & (
        rng.random(n) < 0.25 + 0.4 * progress
    )
    cases["referring_organisation"] = cases["identified_by"].map(REFERRING_ORGANISATIONS)
    cases["is_referred_through_nrm"] = rng.random(n) < 0.35 + 0.45 * progress
    decided = cases["status_decided_by"].ne("unknown")
    cases["status_decision_date"] = days_after(rng, identified, 0, 60).where(decided)
    cases["status_decision_date"] = cases["status_decision_date"].where(
        cases["status_decision_date"] <= data_end
    )
    cases["has_residence_permit"] = (
        pd.Series(rng.random(n) < 0.3).convert_dtypes().where(is_foreign)
    )
    penalised = rng.random(n) < 0.03
    cases["is_penalised"] = penalised
    cases["penalised_date"] = (
        identified - pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    ).where(penalised)
    return cases


# Multi-valued cells are written once ingestion reads them (issue 10, select_multiple cells):
# until then the cases' several forms, citizenships and needs are drawn but left out of cases.csv.
UNREADABLE_YET = ["exploitation_types", "nationalities", "services_needed"]
REFERRING_ORGANISATIONS = {
    "police": "Provincial police",
    "labour_inspection": "Labour protection office",
    "immigration": "Immigration bureau",
    "hotline": "Hotline 1300",
    "social_services": "Provincial social development office",
    "ngo": "Partner NGO",
    "community": "Community volunteers",
    "self_identified": "Self-referred",
}
LABOUR_SECOND_FORMS = {"forced_labour": 3, "forced_criminality": 1, "forced_begging": 1}


def several_forms(rng, main: pd.Series) -> pd.Series:
    """Every form of exploitation: the main one, and for about one case in seven a second one
    (sexual exploitation with forced labour, as CTDC often records), joined in declared order."""
    n = len(main)
    second = np.where(
        main.eq("sexual_exploitation"),
        pick(rng, LABOUR_SECOND_FORMS, n),
        "sexual_exploitation",
    )
    has_second = (rng.random(n) < 0.15) & main.ne("unknown") & main.ne(second)
    order = {
        form: i for i, form in enumerate(TABLES["cases"].column("exploitation_types").categories)
    }
    both = [
        ";".join(sorted((a, b), key=order.get)) if two else a
        for a, b, two in zip(main, second, has_second)
    ]
    return pd.Series(both, index=main.index, dtype="string")


NEEDS = {"shelter": 0.6, "medical": 0.7, "psychosocial": 0.65, "legal_aid": 0.5, "livelihood": 0.3}


def needed_services(rng, n: int) -> list:
    """The services each needs assessment found necessary, in declared order (none: empty)."""
    chosen = {kind: rng.random(n) < share for kind, share in NEEDS.items()}
    order = [k for k in TABLES["cases"].column("services_needed").categories if k in NEEDS]
    return [";".join(k for k in order if chosen[k][i]) or None for i in range(n)]


def people_identified_again(rng, cases: pd.DataFrame) -> pd.Series:
    """Person ids with repeats: about one case in twenty is a person identified before, either again
    after their earlier case closed (re-trafficked) or twice within a month by two partners."""
    person = cases["case_id"].copy()
    identified, closed = cases["identification_date"], cases["closure_date"]
    later = rng.choice(np.arange(len(cases) // 4, len(cases)), size=len(cases) // 20, replace=False)
    for position in np.sort(later):
        when, sex = identified.iloc[position], cases["sex"].iloc[position]
        same_sex = cases["sex"].eq(sex).to_numpy()
        if rng.random() < 0.7:  # identified again after the earlier case closed
            gap = (when - closed).dt.days
            earlier = np.flatnonzero(same_sex & gap.between(30, 700).to_numpy())
        else:  # two partners registered the same person within a month
            gap = (when - identified).dt.days
            earlier = np.flatnonzero(same_sex & gap.between(1, 30).to_numpy())
        earlier = earlier[person.iloc[earlier].eq(cases["case_id"].iloc[earlier]).to_numpy()]
        if len(earlier):
            person.iloc[position] = person.iloc[rng.choice(earlier)]
    return person


def follow_ups(rng, cases: pd.DataFrame, data_end) -> pd.DataFrame:
    """Follow-up visits or calls 3, 6, 12 and 24 months after each closed case.

    Up to the data's end.
    """
    closed = cases[cases["closure_date"].notna()]
    frames = []
    for days in (90, 182, 365, 730):
        due = closed["closure_date"] + pd.to_timedelta(
            days + rng.integers(-10, 40, len(closed)), unit="D"
        )
        held = (due <= data_end).to_numpy() & (rng.random(len(closed)) < 0.85)
        n = int(held.sum())
        reached = rng.random(n) < 0.8
        housing = rng.random(n) < 0.6 + days / 4000
        frames.append(
            pd.DataFrame(
                {
                    "case_id": closed["case_id"].to_numpy()[held],
                    "follow_up_date": due.to_numpy()[held],
                    "is_reached": reached,
                    "has_stable_housing": pd.Series(housing).where(reached),
                    "has_regular_income": pd.Series(
                        housing & (rng.random(n) < 0.75) | (rng.random(n) < 0.1)
                    ).where(reached),
                    "is_reintegration_sustained": pd.Series(housing & (rng.random(n) < 0.8)).where(
                        reached
                    ),
                }
            )
        )
    visits = pd.concat(frames).sort_values(["follow_up_date", "case_id"], ignore_index=True)
    visits.insert(0, "follow_up_id", ids("F", len(visits)))
    return visits


# service type: (days from identification to start, days it lasts, planned length)
SERVICE_PLANS = {
    "shelter": ((0, 3), (5, 150), None),
    "medical": ((0, 10), (0, 0), None),
    "psychosocial": ((3, 30), (45, 160), 120),
    "legal_aid": ((7, 60), (30, 240), None),
    "interpretation": ((0, 5), (0, 30), None),
    "return_assistance": ((30, 120), (1, 14), None),
    "reintegration_plan": ((20, 60), (110, 300), 180),
    "livelihood": ((60, 150), (60, 180), 150),
}
PROVIDERS = {
    "shelter": "Partner shelter",
    "medical": "Provincial hospital",
    "psychosocial": "Counselling centre",
    "legal_aid": "Legal aid clinic",
    "interpretation": "Interpreters pool",
    "return_assistance": "Return partner",
    "reintegration_plan": "Case management team",
    "livelihood": "Vocational training centre",
}


def protection_services(rng, cases: pd.DataFrame, data_end) -> pd.DataFrame:
    """Services and support plans given to the cases, up to the end of the data."""
    child_or_woman = (cases["age"].lt(18).fillna(False) | cases["sex"].eq("female")).to_numpy()
    foreign = cases["nationality"].ne("TH").to_numpy()
    likelihood = {
        "shelter": np.where(child_or_woman, 0.7, 0.4),
        "medical": 0.72,
        "psychosocial": 0.63,
        "legal_aid": 0.38,
        "interpretation": 0.55 * foreign,
        "return_assistance": 0.2 * foreign,
        "reintegration_plan": 0.46,
        "livelihood": 0.15,
    }
    frames = []
    for kind, (start_days, length, planned) in SERVICE_PLANS.items():
        chosen = cases[rng.random(len(cases)) < likelihood[kind]]
        start = days_after(rng, chosen["identification_date"], *start_days)
        frames.append(
            pd.DataFrame(
                {
                    "case_id": chosen["case_id"].to_numpy(),
                    "service_type": kind,
                    "start_date": start.to_numpy(),
                    "planned_end_date": (start + pd.Timedelta(days=planned)).to_numpy()
                    if planned
                    else pd.NaT,
                    "end_date": days_after(rng, start, *length).to_numpy(),
                }
            )
        )
    services = pd.concat(frames).sort_values(
        ["start_date", "case_id", "service_type"], ignore_index=True
    )
    services = services[services["start_date"] <= data_end].reset_index(drop=True)
    n = len(services)
    ended = services["end_date"] <= data_end
    services["end_date"] = services["end_date"].where(ended)
    services["is_completed"] = ended
    nights = (services["end_date"].fillna(data_end) - services["start_date"]).dt.days
    services["nights"] = (
        pd.Series(nights).convert_dtypes().where(services["service_type"].eq("shelter"))
    )
    services["provider"] = services["service_type"].map(PROVIDERS)
    answered = ended & (rng.random(n) < 0.7)
    services["is_satisfied"] = pd.Series(rng.random(n) < 0.86).convert_dtypes().where(answered)
    services.insert(0, "service_id", ids("S", n))
    return services


MD_DISTRICTS = {"Chisinau": 5, "Balti": 2, "Cahul": 1, "Ungheni": 1, "Comrat": 1}


def legal_cases(rng, spans, data_end, per_quarter: float) -> pd.DataFrame:
    """Case files from investigation to verdict, one row per defendant: co-defendants share their
    file's dates; a few defendants are public officials, a few are charged again in a later file."""
    opened = dates_in(rng, spans, rng.poisson(ramp(per_quarter / 1.7, len(spans), 0.7)))
    files = len(opened)
    sizes = np.minimum(1 + rng.poisson(0.7, files), 4)
    file_of = np.repeat(np.arange(files), sizes)
    n = len(file_of)
    investigation = opened.to_numpy()[file_of]
    charged_file = days_after(rng, opened, 60, 300).where(rng.random(files) < 0.62)
    charged_file = charged_file.where(charged_file <= data_end)
    prosecution = pd.Series(charged_file.to_numpy()[file_of]).where(rng.random(n) < 0.92)
    verdict_file = days_after(rng, charged_file, 120, 480).where(rng.random(files) < 0.85)
    verdict_date = pd.Series(verdict_file.to_numpy()[file_of]).where(prosecution.notna())
    verdict_date = verdict_date.where(verdict_date <= data_end)
    has_verdict = verdict_date.notna().to_numpy()
    verdict = np.where(
        has_verdict,
        pick(rng, {"convicted": 68, "acquitted": 22, "dismissed": 10}, n),
        np.where(prosecution.notna(), "pending", None),
    )
    convicted = verdict == "convicted"
    investigated = pd.Series(investigation)
    dropped = (
        prosecution.isna()
        & (data_end - investigated > pd.Timedelta(days=300))
        & (rng.random(n) < 0.7)
    )
    on_trial = prosecution.notna() & (data_end - prosecution > pd.Timedelta(days=90))
    appealed = has_verdict & (rng.random(n) < 0.12)
    stage = np.select(
        [appealed, has_verdict, on_trial, prosecution.notna(), dropped],
        ["appeal", "verdict", "trial", "prosecution", "closed"],
        "investigation",
    )
    sentence_type = np.where(
        convicted, pick(rng, {"custodial": 65, "suspended": 25, "fine": 10}, n), None
    )
    months = np.clip(np.round(rng.lognormal(np.log(40), 0.7, n)), 3, 240).astype(int)
    with_months = np.isin(sentence_type, ["custodial", "suspended"])
    defendant = np.array(ids("D", n), dtype=object)
    again = np.flatnonzero(rng.random(n) < 0.04)
    for position in again[again > 10]:  # charged again in a later file
        defendant[position] = defendant[rng.integers(0, position - 5)]
    frame = pd.DataFrame(
        {
            "legal_case_id": ids("L", n),
            "case_file_id": [f"CF-{i + 1:05d}" for i in file_of],
            "defendant_id": defendant,
            "investigation_date": investigation,
            "defendant_sex": pick(rng, {"male": 74, "female": 26}, n),
            "defendant_nationality": pick(rng, {"MD": 82, "UA": 6, "RO": 5, "TR": 4, "RU": 3}, n),
            "is_public_official": rng.random(n) < 0.05,
            "exploitation_type": pick(
                rng,
                {
                    "sexual_exploitation": 52,
                    "forced_labour": 33,
                    "forced_begging": 6,
                    "forced_criminality": 6,
                    "other": 3,
                },
                files,
            )[file_of],
            "stage": stage,
            "prosecution_date": prosecution,
            "verdict_date": verdict_date,
            "verdict": verdict,
            "conviction_statute": np.where(
                convicted, pick(rng, {"trafficking": 8, "other_offence": 2}, n), None
            ),
            "sentence_type": sentence_type,
            "sentence_months": pd.Series(months).convert_dtypes().where(with_months),
            "is_cross_border": (rng.random(files) < 0.22)[file_of],
            "has_financial_investigation": (
                rng.random(files) < 0.15 + 0.35 * np.linspace(0, 1, files)
            )[file_of],
        }
    )
    return frame


def victims_in_proceedings(rng, defendants: pd.DataFrame, data_end, start) -> tuple:
    """The victims of each case file (their own rows, not counts on each defendant) and the
    project's register of them as cases; returns (cases, victim_participation)."""
    files = defendants.groupby("case_file_id", sort=True).agg(
        opened=("investigation_date", "min"),
        verdict=("verdict_date", "min"),
        convicted=("verdict", lambda v: (v == "convicted").any()),
    )
    sizes = 1 + rng.poisson(1.0, len(files))
    file_of = np.repeat(np.arange(len(files)), sizes)
    n = len(file_of)
    progress = np.linspace(0, 1, n)
    opened = files["opened"].to_numpy()[file_of]
    joined = pd.Series(opened) + pd.to_timedelta(rng.integers(10, 90, n), unit="D")
    keep = (joined <= data_end).to_numpy()
    file_of, progress, joined = file_of[keep], progress[keep], joined[keep].reset_index(drop=True)
    n = len(file_of)
    verdict = pd.Series(files["verdict"].to_numpy()[file_of])
    withdrew = (rng.random(n) < 0.18 - 0.1 * progress) & (
        verdict.isna() | (verdict - joined > pd.Timedelta(days=30))
    )
    until = verdict.fillna(data_end)
    withdrawal = joined + pd.to_timedelta(
        rng.random(n) * (until - joined).dt.days.clip(lower=1), unit="D"
    ).dt.floor("D")
    concluded = verdict.where(~withdrew)
    awarded = (
        files["convicted"].to_numpy()[file_of]
        & concluded.notna()
        & (rng.random(n) < 0.2 + 0.25 * progress)
    )
    amount = np.round(rng.lognormal(np.log(60000), 0.6, n), -2)
    paid_share = pick(rng, {0.0: 4, 0.3: 2, 1.0: 4}, n).astype(float)
    person = np.array(ids("V", n), dtype=object)
    again = np.flatnonzero(rng.random(n) < 0.05)
    for position in again[again > 10]:  # a victim who testifies in a second case file
        person[position] = person[rng.integers(0, position - 5)]
    sex = pick(rng, {"female": 70, "male": 30}, n)
    age = ages(rng, n, 27, 8, 15, 60)
    participation = pd.DataFrame(
        {
            "participation_id": ids("VP", n),
            "case_file_id": files.index.to_numpy()[file_of],
            "case_id": person,
            "person_id": person,
            "sex": sex,
            "age": age,
            "role": pick(rng, {"witness": 5, "injured_party": 3, "civil_party": 2}, n),
            "joined_date": joined,
            "has_protection_support": rng.random(n) < 0.45 + 0.4 * progress,
            "has_withdrawn": withdrew,
            "withdrawal_date": withdrawal.where(withdrew),
            "concluded_date": concluded,
            "compensation_awarded_date": concluded.where(awarded),
            "compensation_awarded_amount": pd.Series(amount).where(awarded),
            "compensation_paid_amount": pd.Series(amount * paid_share).where(awarded),
        }
    )
    first = participation.drop_duplicates("person_id")
    identified = (
        first["joined_date"] - pd.to_timedelta(rng.integers(5, 60, len(first)), unit="D")
    ).clip(lower=start)
    m = len(first)
    penalised = rng.random(m) < 0.06
    cases = pd.DataFrame(
        {
            "case_id": first["case_id"].to_numpy(),
            "person_id": first["person_id"].to_numpy(),
            "identification_date": identified.to_numpy(),
            "sex": first["sex"].to_numpy(),
            "age": first["age"].to_numpy(),
            "nationality": pick(rng, {"MD": 90, "UA": 6, "RO": 4}, m),
            "exploitation_type": pick(
                rng, {"sexual_exploitation": 55, "forced_labour": 35, "forced_begging": 10}, m
            ),
            "identified_by": pick(rng, {"police": 6, "ngo": 3, "hotline": 1}, m),
            "trafficking_status": pick(rng, {"actual": 9, "possible": 1}, m),
            "status_decided_by": "court_or_prosecution",
            "is_penalised": penalised,
            "penalised_date": pd.Series(
                identified.to_numpy() - pd.to_timedelta(rng.integers(0, 30, m), unit="D")
            ).where(penalised),
        }
    )
    return cases, participation


def milestones(rows: list[tuple], **columns) -> pd.DataFrame:
    """Milestones from (type, description, pillar, achieved, target, partner) rows; ids in order.
    `columns` are further columns, as {row number: value} (the others empty)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "milestone_type",
            "description",
            "pillar",
            "achieved_date",
            "target_date",
            "partner_type",
        ],
    )
    for name, values in columns.items():
        frame[name] = pd.Series(values, index=list(values), dtype=object).reindex(frame.index)
    for column in ("achieved_date", "target_date", "valid_until_date"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    frame.insert(0, "milestone_id", [f"M-{i:02d}" for i in range(1, len(frame) + 1)])
    return frame


def prosecution_data(rng, spans, data_end) -> dict[str, pd.DataFrame]:
    """Justice for Survivors.

    Law-enforcement and judicial trainings, legal cases, legal milestones.
    """
    trainings, trainees = learning_events(
        rng,
        spans,
        ramp(4, len(spans)),
        activity_type="training",
        pillar="prosecution",
        target_groups={
            "police": 4,
            "prosecutors": 2,
            "judges": 1,
            "labour_inspectors": 1,
            "border_officials": 1,
        },
        curricula={
            "investigation": 3,
            "victim_centred_prosecution": 2,
            "financial_investigation": 1,
        },
        size=(12, 26),
        female_share=0.34,
        age=(38, 8, 24, 62),
        pre=(50, 14),
        gain=(19, 11),
        locations=MD_DISTRICTS,
        id_prefix="TR",
    )
    task_force = monthly_meetings(
        rng,
        spans,
        location="Chisinau",
        target_group="prosecutors",
        action_share=0.55,
        id_prefix="TF",
    )
    activities, participants = renumber(pd.concat([trainings, task_force]), trainees, "ACT")
    participants = with_people(rng, participants)
    defendants = legal_cases(rng, spans, data_end, per_quarter=14)
    victims, participation = victims_in_proceedings(rng, defendants, data_end, spans[0][0])
    inspections = joint_inspections(np.random.default_rng([SEED, 2, 1]), spans)
    return {
        "activities": pd.concat([activities, inspections], ignore_index=True),
        "participants": participants,
        "legal_cases": defendants,
        "victim_participation": participation,
        "cases": victims,
        "milestones": milestones(
            [
                (
                    "sop_adopted",
                    "SOP on victim-centred interviews adopted by the prosecution service",
                    "prosecution",
                    "2023-11-20",
                    "2023-12-31",
                    "government",
                ),
                (
                    "law_amended",
                    "Criminal Code amended: non-punishment of victims, higher penalties",
                    "prosecution",
                    "2024-05-16",
                    "2024-06-30",
                    "government",
                ),
                (
                    "agreement_signed",
                    "Cooperation agreement between prosecutors and victim-support NGOs",
                    "partnership",
                    "2025-03-12",
                    "2025-06-30",
                    "NGO",
                ),
                (
                    "agreement_ratified",
                    "Bilateral agreement on joint investigation teams in force",
                    "prosecution",
                    "2025-09-01",
                    "2025-12-31",
                    "foreign government",
                ),
                (
                    "policy_adopted",
                    "Guidelines on financial investigations in trafficking cases",
                    "prosecution",
                    "2025-10-08",
                    "2025-12-31",
                    "government",
                ),
                (
                    "data_sharing_agreement",
                    "Data-sharing protocol between police and prosecution",
                    "partnership",
                    None,
                    "2026-12-31",
                    "government",
                ),
            ],
            is_palermo_compliant={1: True},
        ),
    }


def joint_inspections(rng, spans) -> pd.DataFrame:
    """Joint labour inspections with the labour inspectorate, kept in the inspectorate's own log
    (appended after the register, LI ids; their own generator, so the register's draws stay as
    they were): the sector inspected, and how many of the quarter's inspections screened workers
    for trafficking."""
    n = len(spans)
    return pd.DataFrame(
        {
            "activity_id": ids("LI", n),
            "activity_date": [start + (end - start) / 2 for start, end in spans],
            "activity_type": "labour_inspection",
            "pillar": "prosecution",
            "target_group": "labour_inspectors",
            "location": pick(rng, MD_DISTRICTS, n),
            "channel": "in_person",
            "sector": pick(
                rng,
                {"agriculture_forestry_fishing": 3, "construction": 2, "manufacturing": 1},
                n,
            ),
            "inspections_with_screening": rng.poisson(np.linspace(4, 12, n)),
        }
    )


def monthly_meetings(
    rng, spans, *, location, target_group, action_share, id_prefix
) -> pd.DataFrame:
    """A coordination body meeting on the last day of every month.

    Sometimes agreeing on an action.
    """
    months = pd.date_range(spans[0][0], spans[-1][1], freq="ME")
    n = len(months)
    total = rng.integers(8, 19, n)
    female = rng.binomial(total, 0.45)
    return pd.DataFrame(
        {
            "activity_id": ids(id_prefix, n),
            "activity_date": months,
            "activity_type": "coordination_meeting",
            "pillar": "partnership",
            "target_group": target_group,
            "location": location,
            "channel": "in_person",
            "participants_female": female,
            "participants_male": total - female,
            "participants_total": total,
            "has_action_taken": rng.random(n) < action_share,
        }
    )


def renumber(activities: pd.DataFrame, participants: pd.DataFrame, prefix: str):
    """Activity and participant ids in date order, as a register numbers them."""
    activities = activities.sort_values(["activity_date", "activity_id"], ignore_index=True)
    new_ids = dict(zip(activities["activity_id"], ids(prefix, len(activities))))
    activities["activity_id"] = activities["activity_id"].map(new_ids)
    participants = participants.assign(activity_id=participants["activity_id"].map(new_ids))
    participants = participants.sort_values(
        ["completion_date", "activity_id", "participant_id"], ignore_index=True
    )
    participants["participant_id"] = ids("P", len(participants))
    return activities, participants


def with_people(rng, participants: pd.DataFrame, share: float = 0.1) -> pd.DataFrame:
    """Person ids for the participation records: about `share` of them are a person who already took
    part (same sex and group), so that people trained twice are counted once."""
    person = np.array(ids("N", len(participants)), dtype=object)
    groups = participants["target_group"].astype(str) + "/" + participants["sex"].astype(str)
    first_of = {}
    for position, group in enumerate(groups):
        earlier = first_of.setdefault(group, [])
        if earlier and rng.random() < share:
            person[position] = person[earlier[rng.integers(0, len(earlier))]]
        earlier.append(position)
    return participants.assign(person_id=person)


def training_followups(rng, participants: pd.DataFrame, trainings: set, data_end) -> pd.DataFrame:
    """A follow-up call to most trainees two to seven months after the training.

    Do they apply it?
    """
    trained = participants["activity_id"].isin(trainings) & participants["has_completed"]
    n = len(participants)
    date = participants["completion_date"] + pd.to_timedelta(rng.integers(60, 210, n), unit="D")
    called = trained & (rng.random(n) < 0.6) & (date <= data_end)
    return participants.assign(
        followup_date=date.where(called),
        is_applying_skills=pd.Series(rng.random(n) < 0.55).where(called),
    )


# ---------------------------------------------------------------- project.yaml


def calendar_labels(document: dict) -> list[str]:
    """The project's quarter labels, from ctlib's own reporting calendar."""
    project = Project.model_validate({**document, "results_chain": {"objective": "-"}})
    return [period.label for period in ReportingCalendar(project).periods()]


def per_quarter(labels: list[str], value: float, first: float | None = None) -> dict[str, float]:
    """The same target every quarter; `first` for the start-up quarter."""
    targets = dict.fromkeys(labels, value)
    if first is not None:
        targets[labels[0]] = first
    return targets


def indicator(
    indicator_id: str,
    result: str,
    baseline: float | None,
    baseline_date: str,
    targets: dict,
    life_of_project: float,
    disaggregations=(),
    comments=None,
    target_rationale: str | None = None,
    data_quality_assessment: dict | None = None,
) -> dict:
    entry = {
        "id": indicator_id,
        "result": result,
        "baseline": {"value": baseline, "date": dt.date.fromisoformat(baseline_date)},
        "targets": {**targets, "life_of_project": life_of_project},
        "disaggregations": list(disaggregations),
    }
    if comments:
        entry["comments"] = comments
    if target_rationale:
        entry["target_rationale"] = target_rationale
    if data_quality_assessment:
        entry["data_quality_assessment"] = {
            key: dt.date.fromisoformat(value) for key, value in data_quality_assessment.items()
        }
    return entry


def results_chain(objective: str, outcomes: list[tuple[str, str, list[tuple[str, str]]]]) -> dict:
    return {
        "objective": objective,
        "outcomes": [
            {
                "id": oid,
                "statement": text,
                "outputs": [{"id": pid, "statement": out} for pid, out in outputs],
            }
            for oid, text, outputs in outcomes
        ],
    }


def identity(
    project_id, name, organisation, donor, country, start, end, iati_org, **reporting
) -> dict:
    """project.yaml's identity; iati_org = (ref, organisation type) of a made-up IATI publisher."""
    ref, org_type = iati_org
    return {
        "project": {
            "id": project_id,
            "name": name,
            "organisation": organisation,
            "donor": donor,
            "country": country,
            "start_date": dt.date.fromisoformat(start),
            "end_date": dt.date.fromisoformat(end),
        },
        "iati": {
            "identifier": f"{ref}-{project_id}",
            "reporting_org": {"ref": ref, "type": org_type, "name": organisation},
        },
        "reporting": {"frequency": "quarterly", "calendar": "calendar", **reporting},
    }


def aggregate(
    table: str,
    date: str | None,
    *conditions: tuple,
    measure: str = "count",
    column: str | None = None,
) -> dict:
    """One side of a quality rule; conditions are (column, op, value)."""
    side = {"table": table, "measure": measure}
    if column:
        side["column"] = column
    if date:
        side["date"] = date
    if conditions:
        side["filter"] = [{"column": c, "op": op, "value": v} for c, op, v in conditions]
    return side


def rule(
    name, description, left, operator, right, strategy="skip_if_any_missing", severity="error"
) -> dict:
    return {
        "name": name,
        "description": description,
        "left": left,
        "operator": operator,
        "right": right,
        "missing_value_strategy": strategy,
        "severity": severity,
    }


PARTICIPANTS_ADD_UP = rule(
    "participants_by_sex_add_up",
    "women and men together cannot exceed all participants",
    [
        aggregate("activities", "activity_date", measure="sum", column="participants_female"),
        aggregate("activities", "activity_date", measure="sum", column="participants_male"),
    ],
    "<=",
    aggregate("activities", "activity_date", measure="sum", column="participants_total"),
)


def own_format(frame: pd.DataFrame, source: dict) -> pd.DataFrame:
    """A standard table written the project's own way.

    The inverse of the source's column and value maps.
    """
    frame = frame.copy()
    for column, codes in source.get("values", {}).items():
        frame[column] = (
            frame[column]
            .map({standard: own for own, standard in codes.items()})
            .fillna(frame[column])
        )
    return frame.rename(
        columns={standard: own for own, standard in source.get("columns", {}).items()}
    )


def standard(frame: pd.DataFrame, table_name: str) -> pd.DataFrame:
    """The frame with its standard columns in the declared order and nullable dtypes."""
    return frame[
        [c for c in TABLES[table_name].column_names if c in frame.columns]
    ].convert_dtypes()


# ---------------------------------------------------------------- the five projects


def safe_journeys(rng) -> tuple[dict, dict[str, bytes]]:
    """(a) Prevention in Nepal; calendar quarters.

    Outreach, safer-migration sessions, trainings, a hotline.
    """
    document = identity(
        "safe_journeys",
        "Safe Journeys: safer labour migration from five hill districts",
        "Safe Journeys Alliance (synthetic)",
        "Global Fund for Safer Migration (synthetic)",
        "NP",
        "2024-07-01",
        "2027-06-30",
        ("XX-SYNTH-SJA", "22"),
    )
    labels = calendar_labels(document)
    tables = prevention_data(rng, quarters("2024-07-01", 9))
    baseline, endline = labels[0], labels[8]
    survey_dis = ["survey_round", "sex", "location"]
    document.update(
        {
            "results_chain": results_chain(
                "Fewer people from the five hill districts are trafficked when they migrate for "
                "work.",
                [
                    (
                        "OC1",
                        "Potential migrants and their families know the risks of trafficking "
                        "and how to migrate safely",
                        [
                            (
                                "OP1.1",
                                "Community awareness events and media campaigns are delivered",
                            ),
                            (
                                "OP1.2",
                                "Safer-migration information sessions are held for potential "
                                "migrants",
                            ),
                        ],
                    ),
                    (
                        "OC2",
                        "Local officials, NGO staff and community leaders prevent trafficking "
                        "and help people at risk",
                        [
                            ("OP2.1", "Local actors are trained in trafficking prevention"),
                            (
                                "OP2.2",
                                "A hotline answers questions about safe migration and trafficking",
                            ),
                            ("OP2.3", "District anti-trafficking committees meet and act"),
                        ],
                    ),
                ],
            ),
            "indicators": [
                indicator(
                    "PREV-01",
                    "OP1.1",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 1600, 800),
                    18000,
                    ["target_group", "location"],
                    {"2025-Q3": "Monsoon floods cancelled events in Sindhupalchok for six weeks."},
                ),
                indicator(
                    "PREV-02",
                    "OP1.1",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 60000, 30000),
                    650000,
                    ["channel"],
                ),
                indicator(
                    "PREV-07",
                    "OP1.2",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 12, 6),
                    135,
                    ["location"],
                    {"2024-Q3": "Start-up quarter: facilitators recruited and trained in August."},
                ),
                indicator(
                    "PREV-03", "OC1", 24, "2024-08-15", {baseline: 24, endline: 50}, 50, survey_dis
                ),
                indicator(
                    "PREV-04", "OC1", 31, "2024-08-15", {baseline: 31, endline: 60}, 60, survey_dis
                ),
                indicator(
                    "PREV-05",
                    "OC1",
                    38,
                    "2024-08-15",
                    {baseline: 38, endline: 55},
                    55,
                    ["survey_round", "sex"],
                ),
                indicator(
                    "PREV-06", "OC1", 47, "2024-08-15", {baseline: 47, endline: 80}, 80, survey_dis
                ),
                indicator(
                    "PREV-08",
                    "OP2.1",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 60, 30),
                    690,
                    ["sex", "target_group"],
                ),
                indicator(
                    "PREV-16",
                    "OP2.1",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 20, 10),
                    230,
                    ["sex", "target_group"],
                ),
                indicator(
                    "PREV-09",
                    "OC2",
                    30,
                    "2024-07-01",
                    per_quarter(labels, 40),
                    45,
                    ["sex", "curriculum"],
                ),
                indicator(
                    "PREV-10",
                    "OC2",
                    12,
                    "2024-06-30",
                    per_quarter(labels, 16),
                    16,
                    ["sex", "activity_type"],
                ),
                indicator(
                    "PREV-11",
                    "OP2.2",
                    450,
                    "2024-06-30",
                    per_quarter(labels, 600),
                    7200,
                    ["channel"],
                    {"2026-Q1": "Second hotline line opened in January; more calls answered."},
                ),
                indicator("PREV-12", "OP2.2", 7, "2024-06-30", per_quarter(labels, 10), 10),
                indicator(
                    "PART-03", "OP2.3", 0, "2024-07-01", per_quarter(labels, 3), 36, ["location"]
                ),
                indicator("PART-04", "OP2.3", 40, "2024-06-30", per_quarter(labels, 50), 50),
                indicator(
                    "PREV-25",
                    "OP1.2",
                    0,
                    "2024-07-01",
                    per_quarter(labels, 220, 110),
                    2300,
                    ["sex", "location"],
                ),
                indicator(
                    "PREV-21",
                    "OC2",
                    35,
                    "2024-06-30",
                    per_quarter(labels, 55),
                    60,
                    ["sex", "target_group"],
                    target_rationale="Half of the trainees applying what they learned within six "
                    "months is what the partners' earlier trainings reached at best.",
                ),
                indicator("PREV-23", "OC1", 30, "2024-06-30", {endline: 45}, 45, ["sex"]),
                indicator("PREV-18", "OC1", 12, "2024-06-30", {endline: 8}, 8, ["sex"]),
                indicator("PREV-22", "OC1", 40, "2024-06-30", {endline: 70}, 70),
                indicator(
                    "PREV-24",
                    "OC1",
                    18,
                    "2024-08-15",
                    {baseline: 18, endline: 12},
                    12,
                    ["sex", "child_age_band"],
                    data_quality_assessment={"last_date": "2024-09-30", "next_date": "2027-04-30"},
                ),
            ],
            "sources": {
                "activities": {
                    "file": "activities.csv",
                    "columns": {
                        "event_id": "activity_id",
                        "date": "activity_date",
                        "event_type": "activity_type",
                        "audience": "target_group",
                        "district": "location",
                        "women": "participants_female",
                        "men": "participants_male",
                        "total": "participants_total",
                        "estimated_reach": "reach",
                        "calls": "contacts",
                        "calls_about_trafficking": "contacts_trafficking",
                        "action_agreed": "has_action_taken",
                    },
                    "values": {
                        "activity_type": {
                            "Awareness": "awareness_event",
                            "Media": "media_campaign",
                            "Hotline": "hotline_operation",
                            "Committee": "coordination_meeting",
                            "Safe migration": "safe_migration_session",
                            "Training": "training",
                        }
                    },
                },
                "participants": {"file": "participants.csv"},
                "surveys": {"file": "surveys.parquet"},
            },
            "privacy": {"min_cell_size": 5},
            "quality_rules": [
                PARTICIPANTS_ADD_UP,
                rule(
                    "post_tests_not_above_pre_tests",
                    "every post-test needs a pre-test",
                    aggregate("participants", "completion_date", ("post_score", "is_null", False)),
                    "<=",
                    aggregate("participants", "completion_date", ("pre_score", "is_null", False)),
                    severity="warning",
                ),
                rule(
                    "survey_sample_size",
                    "a survey round needs at least 384 respondents (±5 % at 95 %)",
                    aggregate("surveys", "survey_date"),
                    ">=",
                    384,
                    severity="warning",
                ),
            ],
        }
    )
    sources = document["sources"]
    return document, {
        "activities.csv": csv_bytes(
            own_format(standard(tables["activities"], "activities"), sources["activities"])
        ),
        "participants.csv": csv_bytes(standard(tables["participants"], "participants")),
        "surveys.parquet": parquet_bytes(standard(tables["surveys"], "surveys")),
    }


SERVICE_CODES = {
    "SHEL": "shelter",
    "MED": "medical",
    "PSY": "psychosocial",
    "LEG": "legal_aid",
    "INT": "interpretation",
    "RET": "return_assistance",
    "REINT": "reintegration_plan",
    "LIV": "livelihood",
}


def shelter_and_recovery(rng) -> tuple[dict, dict[str, bytes]]:
    """(b) Protection in Thailand; US fiscal year (October).

    Cases, services, referrals, reintegration.
    """
    document = identity(
        "shelter_and_recovery",
        "Shelter and Recovery: assistance to survivors of trafficking",
        "Mekong Survivor Support Network (synthetic)",
        "Office for Survivor Assistance (synthetic)",
        "TH",
        "2023-10-01",
        "2026-09-30",
        ("XX-SYNTH-MSSN", "23"),
        calendar="fiscal",
        fiscal_year_start_month=10,
    )
    labels = calendar_labels(document)
    spans = quarters("2023-10-01", 12)
    data_end = spans[-1][1]
    cases = protection_cases(rng, spans, data_end, raid_quarter=6)
    services = protection_services(rng, cases, data_end)
    visits = follow_ups(rng, cases, data_end)
    meetings = monthly_meetings(
        rng,
        spans,
        location="Bangkok",
        target_group="social_workers",
        action_share=0.7,
        id_prefix="CC",
    )
    document.update(
        {
            "results_chain": results_chain(
                "Survivors of trafficking identified in Thailand recover and rebuild their "
                "lives in safety.",
                [
                    (
                        "OC1",
                        "Survivors are identified early and reach the services they need",
                        [
                            (
                                "OP1.1",
                                "Partners identify and register presumed victims with their "
                                "consent",
                            ),
                            (
                                "OP1.2",
                                "Referrals are made and accepted promptly, and case conferences "
                                "follow them up",
                            ),
                        ],
                    ),
                    (
                        "OC2",
                        "Survivors recover physically and emotionally",
                        [
                            ("OP2.1", "Shelter, medical care and counselling are provided"),
                            (
                                "OP2.2",
                                "Legal aid, interpretation and return assistance are provided",
                            ),
                        ],
                    ),
                    (
                        "OC3",
                        "Survivors reintegrate with stable housing and income",
                        [("OP3.1", "Individual reintegration plans are agreed and followed")],
                    ),
                ],
            ),
            "indicators": [
                indicator(
                    "PROT-02",
                    "OP1.1",
                    150,
                    "2023-09-30",
                    per_quarter(labels, 45, 30),
                    520,
                    ["sex", "child_adult", "nationality", "exploitation_type"],
                    {
                        "FY2025-Q3": (
                            "A labour inspection of fishing vessels in Songkhla "
                            "identified 55 men at once."
                        )
                    },
                ),
                indicator(
                    "PROT-26", "OP1.1", 85, "2023-09-30", per_quarter(labels, 95), 95, ["location"]
                ),
                indicator("PROT-24", "OC1", 70, "2023-09-30", per_quarter(labels, 90), 90, ["sex"]),
                indicator(
                    "PROT-06",
                    "OP1.2",
                    100,
                    "2023-09-30",
                    per_quarter(labels, 35, 20),
                    400,
                    ["sex", "exploitation_type"],
                ),
                indicator(
                    "PROT-07", "OP1.2", 60, "2023-09-30", per_quarter(labels, 80), 85, ["location"]
                ),
                indicator("PART-03", "OP1.2", 0, "2023-10-01", per_quarter(labels, 3), 36),
                indicator(
                    "PROT-09",
                    "OC1",
                    70,
                    "2023-09-30",
                    per_quarter(labels, 90),
                    90,
                    ["sex", "nationality"],
                ),
                indicator(
                    "PROT-10",
                    "OP2.1",
                    80,
                    "2023-09-30",
                    per_quarter(labels, 30, 15),
                    345,
                    ["sex", "child_adult"],
                ),
                indicator(
                    "PROT-11",
                    "OP2.1",
                    6000,
                    "2023-09-30",
                    per_quarter(labels, 2200, 1100),
                    25000,
                    ["child_adult"],
                ),
                indicator(
                    "PROT-13", "OP2.1", 45, "2023-09-30", per_quarter(labels, 50), 70, ["sex"]
                ),
                indicator(
                    "PROT-14", "OP2.1", 70, "2023-09-30", per_quarter(labels, 30, 15), 345, ["sex"]
                ),
                indicator(
                    "PROT-15",
                    "OC2",
                    60,
                    "2023-09-30",
                    per_quarter(labels, 75),
                    75,
                    ["sex"],
                    {
                        "FY2024-Q1": (
                            "The wellbeing scale is used from FY2024-Q3; earlier "
                            "intakes lack a score."
                        )
                    },
                ),
                indicator(
                    "PROT-16",
                    "OP2.2",
                    25,
                    "2023-09-30",
                    per_quarter(labels, 40),
                    40,
                    ["nationality"],
                ),
                indicator(
                    "PROT-18",
                    "OP2.2",
                    20,
                    "2023-09-30",
                    per_quarter(labels, 6, 3),
                    70,
                    ["nationality"],
                ),
                indicator(
                    "PROT-23",
                    "OC2",
                    80,
                    "2023-09-30",
                    per_quarter(labels, 85),
                    85,
                    ["service_type"],
                ),
                indicator(
                    "PROT-19",
                    "OP3.1",
                    60,
                    "2023-09-30",
                    per_quarter(labels, 28, 14),
                    320,
                    ["service_type", "sex"],
                ),
                indicator(
                    "PROT-20",
                    "OC3",
                    40,
                    "2023-09-30",
                    per_quarter(labels, 60),
                    60,
                    ["service_type"],
                ),
                indicator("PROT-21", "OC3", 45, "2023-09-30", per_quarter(labels, 50), 55, ["sex"]),
                indicator(
                    "PROT-27",
                    "OP2.1",
                    120,
                    "2023-09-30",
                    per_quarter(labels, 60, 40),
                    480,
                    ["new_or_continuing", "sex", "child_adult"],
                    target_rationale="Shelter places, counsellors and case workers funded per "
                    "quarter; continuing survivors take part of the capacity from the second "
                    "year.",
                ),
                indicator(
                    "PROT-31",
                    "OC1",
                    6,
                    "2023-09-30",
                    per_quarter(labels, 3),
                    3,
                    ["sex"],
                    target_rationale="The referral SOP asks for a first service within three days.",
                ),
                indicator("PROT-32", "OC1", 70, "2023-09-30", per_quarter(labels, 85), 85, ["sex"]),
                indicator(
                    "PROT-33", "OC2", 20, "2023-09-30", per_quarter(labels, 30), 30, ["nationality"]
                ),
                indicator(
                    "PROT-34",
                    "OP1.2",
                    30,
                    "2023-09-30",
                    per_quarter(labels, 60),
                    70,
                    ["identified_by"],
                ),
                indicator(
                    "PROT-37",
                    "OP1.2",
                    140,
                    "2023-09-30",
                    per_quarter(labels, 150),
                    150,
                    ["child_adult"],
                    target_rationale="The caseload the funded case workers can hold (25 each).",
                ),
                indicator(
                    "PROT-28",
                    "OC3",
                    8,
                    "2023-09-30",
                    {label: 5 for label in labels if label.endswith("Q4")},
                    5,
                    ["sex"],
                    target_rationale="Partners' re-identification records of the two years before "
                    "the project; the target halves re-trafficking within 12 months.",
                ),
                indicator(
                    "PROT-30",
                    "OC3",
                    45,
                    "2023-09-30",
                    per_quarter(labels, 55),
                    60,
                    ["sex"],
                    data_quality_assessment={"last_date": "2025-06-15", "next_date": "2026-06-15"},
                ),
            ],
            "sources": {
                "cases": {"file": "cases.csv"},
                "services": {"file": "services.csv", "values": {"service_type": SERVICE_CODES}},
                "follow_ups": {"file": "follow_ups.csv"},
                "activities": {"file": "case_conferences.csv"},
            },
            "privacy": {"min_cell_size": 5},
            "quality_rules": [
                rule(
                    "accepted_not_above_referred",
                    "referrals accepted cannot outnumber referrals made",
                    aggregate(
                        "cases", "referral_date", ("referral_accepted_date", "is_null", False)
                    ),
                    "<=",
                    aggregate("cases", "referral_date", ("is_referred", "equals", True)),
                ),
                rule(
                    "exit_scores_not_above_closures",
                    "exit wellbeing scores are taken at closure",
                    aggregate("cases", "closure_date", ("wellbeing_exit_score", "is_null", False)),
                    "<=",
                    aggregate("cases", "closure_date"),
                    severity="warning",
                ),
            ],
        }
    )
    return document, {
        "cases.csv": csv_bytes(standard(cases.drop(columns=UNREADABLE_YET), "cases")),
        "services.csv": csv_bytes(
            own_format(standard(services, "services"), document["sources"]["services"])
        ),
        "follow_ups.csv": csv_bytes(standard(visits, "follow_ups")),
        "case_conferences.csv": csv_bytes(standard(meetings, "activities")),
    }


def justice_for_survivors(rng) -> tuple[dict, dict[str, bytes]]:
    """(c) Prosecution in Moldova.

    Justice-sector training, legal cases to verdict, legal milestones.
    """
    document = identity(
        "justice_for_survivors",
        "Justice for Survivors: prosecuting trafficking, protecting witnesses",
        "Centre for Justice Sector Reform (synthetic)",
        "European Justice Facility (synthetic)",
        "MD",
        "2023-01-01",
        "2026-12-31",
        ("XX-SYNTH-CJSR", "21"),
        currency="MDL",
    )
    labels = calendar_labels(document)
    spans = quarters("2023-01-01", 15)
    tables = prosecution_data(rng, spans, spans[-1][1])
    document.update(
        {
            "results_chain": results_chain(
                "Traffickers in Moldova are held to account while victims' rights are respected "
                "in criminal proceedings.",
                [
                    (
                        "OC1",
                        "The legal framework on trafficking meets international standards",
                        [
                            (
                                "OP1.1",
                                "Laws, SOPs, guidelines and agreements are drafted with the "
                                "justice sector",
                            )
                        ],
                    ),
                    (
                        "OC2",
                        "Police and prosecutors investigate and prosecute trafficking effectively",
                        [
                            ("OP2.1", "Police, prosecutors, judges and inspectors are trained"),
                            (
                                "OP2.2",
                                "A joint task force of police and prosecutors meets every month",
                            ),
                        ],
                    ),
                    (
                        "OC3",
                        "Victim-witnesses are protected and compensated",
                        [("OP3.1", "Victim-witnesses receive support during proceedings")],
                    ),
                ],
            ),
            "indicators": [
                indicator("PROS-01", "OP1.1", 0, "2023-01-01", {}, 4, ["milestone_type"]),
                indicator("PART-11", "OP1.1", 0, "2023-01-01", {}, 1),
                indicator(
                    "PROS-02",
                    "OC1",
                    0,
                    "2022-12-31",
                    {"2024-Q2": 1},
                    1,
                    comments={
                        "2024-Q2": "Parliament adopted the Criminal Code amendment on 16 May 2024."
                    },
                ),
                indicator(
                    "PROS-03",
                    "OP2.1",
                    0,
                    "2023-01-01",
                    per_quarter(labels, 60, 30),
                    870,
                    ["sex", "target_group"],
                ),
                indicator(
                    "PROS-04",
                    "OP2.1",
                    85,
                    "2022-12-31",
                    per_quarter(labels, 90),
                    90,
                    ["target_group"],
                ),
                indicator("PART-03", "OP2.2", 0, "2023-01-01", per_quarter(labels, 3), 48),
                indicator(
                    "PROS-05",
                    "OC2",
                    40,
                    "2022-12-31",
                    per_quarter(labels, 12, 8),
                    200,
                    ["defendant_sex", "exploitation_type"],
                ),
                indicator(
                    "PROS-07",
                    "OC2",
                    25,
                    "2022-12-31",
                    per_quarter(labels, 10, 5),
                    140,
                    ["defendant_sex"],
                ),
                indicator("PROS-08", "OC2", 50, "2022-12-31", per_quarter(labels, 55), 60),
                indicator(
                    "PROS-09",
                    "OC2",
                    15,
                    "2022-12-31",
                    per_quarter(labels, 6, 0),
                    80,
                    ["defendant_sex"],
                    {"2024-Q4": "Courts cleared a backlog of trials before the judicial recess."},
                ),
                indicator("PROS-10", "OC2", 0.6, "2022-12-31", per_quarter(labels, 0.7), 0.7),
                indicator("PROS-11", "OC2", 85, "2022-12-31", per_quarter(labels, 90), 90),
                indicator("PROS-12", "OC2", 36, "2022-12-31", per_quarter(labels, 48), 48),
                indicator(
                    "PROS-16",
                    "OC2",
                    5,
                    "2022-12-31",
                    per_quarter(labels, 3, 1),
                    45,
                    ["exploitation_type"],
                ),
                indicator("PROS-17", "OC2", 10, "2022-12-31", per_quarter(labels, 30), 40),
                indicator(
                    "PROS-13",
                    "OP3.1",
                    45,
                    "2022-12-31",
                    per_quarter(labels, 70),
                    80,
                    ["sex", "role"],
                ),
                indicator(
                    "PROS-14", "OC3", 10, "2022-12-31", per_quarter(labels, 25), 30, ["role"]
                ),
                indicator("PROS-15", "OC3", 6, "2022-12-31", per_quarter(labels, 1), 10),
                indicator(
                    "PROS-18",
                    "OC2",
                    540,
                    "2022-12-31",
                    per_quarter(labels, 450),
                    450,
                    target_rationale="The prosecution service's plan to bring first-instance "
                    "trafficking trials under 15 months.",
                ),
                indicator("PROS-19", "OC2", 35, "2022-12-31", per_quarter(labels, 50), 50),
                indicator("PROS-20", "OP3.1", 20, "2022-12-31", per_quarter(labels, 10), 10),
                indicator("PROS-21", "OC2", 1, "2022-12-31", {}, 6),
                indicator("PROS-23", "OC2", 0, "2022-12-31", {}, 2),
                indicator("PROS-24", "OC2", 70, "2022-12-31", per_quarter(labels, 85), 85),
                indicator(
                    "PROS-25",
                    "OC3",
                    0,
                    "2022-12-31",
                    {},
                    1_500_000,
                    data_quality_assessment={"last_date": "2025-03-20", "next_date": "2026-03-20"},
                ),
                indicator("PROS-26", "OC3", 20, "2022-12-31", per_quarter(labels, 50), 50),
            ],
            "sources": {
                "activities": {"file": "activities.csv"},
                "participants": {"file": "participants.csv"},
                "legal_cases": {"file": "legal_cases.xlsx", "sheet": "Defendants"},
                "victim_participation": {"file": "legal_cases.xlsx", "sheet": "Victims"},
                "cases": {"file": "victims.csv"},
                "milestones": {"file": "milestones.csv"},
            },
            "privacy": {"min_cell_size": 5},
            "quality_rules": [
                rule(
                    "paid_within_awarded",
                    "compensation paid cannot exceed compensation awarded",
                    aggregate(
                        "victim_participation",
                        "compensation_awarded_date",
                        measure="sum",
                        column="compensation_paid_amount",
                    ),
                    "<=",
                    aggregate(
                        "victim_participation",
                        "compensation_awarded_date",
                        measure="sum",
                        column="compensation_awarded_amount",
                    ),
                ),
                PARTICIPANTS_ADD_UP,
            ],
        }
    )
    workbook = Workbook()
    fill_sheet(workbook.active, standard(tables["legal_cases"], "legal_cases"))
    workbook.active.title = "Defendants"
    fill_sheet(
        workbook.create_sheet("Victims"),
        standard(tables["victim_participation"], "victim_participation"),
    )
    return document, {
        "activities.csv": csv_bytes(standard(tables["activities"], "activities")),
        "participants.csv": csv_bytes(standard(tables["participants"], "participants")),
        "legal_cases.xlsx": xlsx_bytes(workbook),
        "victims.csv": csv_bytes(standard(tables["cases"], "cases")),
        "milestones.csv": csv_bytes(standard(tables["milestones"], "milestones")),
    }


GT_DEPARTMENTS = {
    "Guatemala": 5,
    "Quetzaltenango": 2,
    "Escuintla": 2,
    "Petén": 1,
    "Huehuetenango": 1,
    "San Marcos": 1,
    "Izabal": 1,
}
GT_INSTITUTIONS = {
    "police": "Policía Nacional Civil",
    "prosecutors": "Ministerio Público",
    "judges": "Organismo Judicial",
    "labour_inspectors": "Inspección General de Trabajo",
    "social_workers": "Secretaría de Bienestar Social",
    "health_workers": "Ministerio de Salud",
    "first_responders": "Bomberos y socorristas",
}
GT_CASE_PROFILE = {
    "sex": {"female": 62, "male": 36, "other": 1, "unknown": 1},
    "nationality": {"GT": 70, "HN": 12, "SV": 10, "NI": 5, "MX": 3},
    "country_of_exploitation": {"GT": 9, "MX": 1},
    "exploitation_type": {
        "sexual_exploitation": 50,
        "forced_labour": 22,
        "forced_begging": 6,
        "forced_marriage": 5,
        "child_labour": 8,
        "forced_military": 2,
        "forced_criminality": 4,
        "other": 3,
    },
    "trafficking_status": {"actual": 55, "possible": 40, "not_a_victim": 5},
}
# (field name, label): the HTCDS v2 Excel template's order, then the fields this team added
HTCDS_COLUMNS = (
    ("prs_FirstName", "First Name"),
    ("prs_SecondName", "Second Name"),
    ("con_Consent", "Consent"),
    ("prs_Gender", "Gender"),
    ("prs_Citizenship", "Citizenship"),
    ("vic_TraffickingStatus", "Trafficking Status"),
    ("vic_TraffickinStatusDecisionMakingOrg", "Trafficking Status Decision Making Organization"),
    ("vic_MethodOfRecruitment", "Method of Recruitment"),
    ("vic_MethodsOfControl", "Methods of Control"),
    ("vic_TypeOfExploitation", "Type of Exploitation"),
    ("vic_ForcedLabourIndustry", "Forced Labour Industry"),
    ("vic_TypeOfSexExploitation", "Type of Sex Exploitation"),
    ("cas_Status", "Status"),
    ("cas_ReferringOrganisation", "Referring Organisation"),
    ("cas_IncomingReferralDate", "Incoming Referral Date"),
    ("cas_ReferredOrganisation", "Referred Organisation"),
    (None, "Reason for Outgoing Referral"),
    ("cas_OutgoingReferralDate", "Outgoing Referral Date"),
    ("cas_ReasonForCaseClosure", "Reason for Case Closure"),
    ("cas_Id", "Case Id"),
    ("cas_CaseOpenDate", "Case Open Date"),
    ("cas_CaseCloseDate", "Case Close Date"),
    ("vic_AgeWhenTrafficked", "Age when Trafficked"),
    ("prs_Birthdate", "Birthdate"),
    ("hte_Country", "Country"),
    ("is_referred_through_nrm", "Referred through the NRM"),
    ("is_identified_by_trained_stakeholder", "Identified by a trained officer"),
)
HTCDS_NAMES = {  # HTCDS picklist value names that are not simply our category in CamelCase
    "ngo": "NGO",
    "government_other": "NonPoliceGovernmentalOrganization",
    "forced_military": "ForcedMilitaryByNonStateActors",
    "actual": "ActualVictimOfTrafficking",
    "possible": "PossibleVictimOfTrafficking",
    "not_a_victim": "NotAVictimOfTrafficking",
}
HTCDS_GENDERS = {
    "female": "Feminine",
    "male": "Masculine",
    "other": "NonConforming",
    "unknown": "NonSpecifiedUnknown",
}
CLOSURE_TEXTS = {
    "Goals met": 50,
    "Referred": 15,
    "Lost contact": 12,
    "Declined services": 8,
    "Relocated": 6,
    "Returned to family in country of origin": 9,
}
CONTROL_METHODS = (
    "FalsePromises",
    "Threats",
    "DebtBondage",
    "TakesEarnings",
    "WithholdsDocuments",
    "RestrictsMovement",
    "PsychologicalAbuse",
    "PhysicalAbuse",
)
RECRUITMENT = {
    "Through online social networks": 4,
    "Through friends or social events": 3,
    "Through family or family events": 2,
    "At work": 1,
    "Other": 1,
}


def htcds_name(category) -> str | None:
    """Our category as an HTCDS picklist value name (SexualExploitation); None stays None."""
    if category is None or category is pd.NA:
        return None
    return HTCDS_NAMES.get(category, "".join(part.capitalize() for part in category.split("_")))


def htcds_cases(rng, spans, data_end) -> pd.DataFrame:
    """Cases as an HTCDS case sheet holds them.

    Field names as columns, picklist value names, some multi-select.
    """
    cases = case_profiles(
        rng, dates_in(rng, spans, rng.poisson(ramp(25, len(spans), 0.6))), GT_CASE_PROFILE, 0.35
    )
    n = len(cases)
    opened = cases["identification_date"]
    exploitation = cases["exploitation_type"].map(htcds_name)
    second = pd.Series(pick(rng, {"ForcedLabour": 1, "ForcedCriminality": 1}, n))
    exploitation = exploitation.where(rng.random(n) > 0.04, exploitation + ";" + second)
    exploitation = exploitation.where(
        rng.random(n) > 0.05, cases["exploitation_type"].str.replace("_", " ").str.capitalize()
    )  # a few typed as the template's labels
    referred_out = days_after(rng, opened, 0, 30).where(rng.random(n) < 0.55)
    referred_in = rng.random(n) < 0.3
    closed = days_after(rng, opened, 90, 500)
    is_closed = closed <= data_end
    reason = pd.Series(pick(rng, CLOSURE_TEXTS, n)).where(is_closed)
    status = np.select(
        [reason.eq("Referred").fillna(False), is_closed],
        ["ClosedReferred", "Closed"],
        np.where(rng.random(n) < 0.3, "FollowUp", "Active"),
    )
    sexual = cases["exploitation_type"].eq("sexual_exploitation")
    labour = cases["exploitation_type"].isin(["forced_labour", "child_labour"])
    return pd.DataFrame(
        {
            "prs_FirstName": None,
            "prs_SecondName": None,
            "con_Consent": rng.random(n) < 0.9,
            "prs_Gender": cases["sex"].map(HTCDS_GENDERS),
            "prs_Citizenship": cases["nationality"].where(
                rng.random(n) > 0.01, cases["nationality"] + ";MX"
            ),
            "vic_TraffickingStatus": cases["trafficking_status"].map(htcds_name),
            "vic_TraffickinStatusDecisionMakingOrg": pd.Series(
                pick(
                    rng,
                    {"police": 35, "court_or_prosecution": 25, "government_other": 25, "ngo": 15},
                    n,
                )
            ).map(htcds_name),
            "vic_MethodOfRecruitment": blank(rng, pick(rng, RECRUITMENT, n), 0.2),
            "vic_MethodsOfControl": [
                ";".join(rng.choice(CONTROL_METHODS, rng.integers(1, 4), replace=False))
                for _ in range(n)
            ],
            "vic_TypeOfExploitation": exploitation,
            "vic_ForcedLabourIndustry": pd.Series(
                pick(
                    rng,
                    {
                        "Agriculture, forestry and fishing": 5,
                        "Construction": 2,
                        "Manufacturing": 2,
                        "Activities of households as employers": 3,
                    },
                    n,
                )
            ).where(labour),
            "vic_TypeOfSexExploitation": pd.Series(
                pick(rng, {"Prostitution": 6, "Pornography": 1, "PrivateSexualServices": 2}, n)
            ).where(sexual),
            "cas_Status": status,
            "cas_ReferringOrganisation": pd.Series(
                pick(
                    rng,
                    {
                        "Policía Nacional Civil": 4,
                        "Ministerio Público": 4,
                        "Procuraduría General de la Nación": 2,
                        "Inspección General de Trabajo": 1,
                        "Partner NGO": 2,
                    },
                    n,
                )
            ).where(referred_in),
            "cas_IncomingReferralDate": opened.where(referred_in),
            "cas_ReferredOrganisation": pd.Series(
                pick(rng, {"Specialised shelter": 3, "Health centre": 2, "Legal aid office": 1}, n)
            ).where(referred_out.notna()),
            None: pd.Series("AdditionalServicesRequired", index=cases.index).where(
                referred_out.notna()
            ),
            "cas_OutgoingReferralDate": referred_out.where(referred_out <= data_end),
            "cas_ReasonForCaseClosure": reason,
            "cas_Id": ids("C", n),
            "cas_CaseOpenDate": opened,
            "cas_CaseCloseDate": closed.where(is_closed),
            "vic_AgeWhenTrafficked": blank(rng, cases["age"] - rng.integers(0, 3, n), 0.04),
            "prs_Birthdate": blank(
                rng,
                opened
                - pd.to_timedelta(
                    cases["age"] * 365.25 + rng.integers(1, 360, n), unit="D"
                ).dt.floor("D"),
                0.05,
            ),
            "hte_Country": cases["country_of_exploitation"],
            "is_referred_through_nrm": referred_in
            & (rng.random(n) < 0.5 + 0.4 * np.linspace(0, 1, n)),
            "is_identified_by_trained_stakeholder": rng.random(n) < 0.3,
        }
    )


def htcds_workbook(cases: pd.DataFrame) -> Workbook:
    """The HTCDS v2 template layout.

    Hidden row 1 of field names, row 2 labels, row numbers in column A.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Case Sheet"
    names, labels = zip(*HTCDS_COLUMNS)
    fill_sheet(sheet, cases[list(names)].set_axis(labels, axis=1), first_row=2, first_column=2)
    for j, name in enumerate(names, start=2):
        put(sheet, 1, j, name)
    sheet.row_dimensions[1].hidden = True
    for i in range(3, len(cases) + 3):
        put(sheet, i, 1, i - 2)
    return workbook


def titled_workbook(frame: pd.DataFrame, sheet_name: str, title: str) -> Workbook:
    """One sheet: a merged title row, an empty row, then the table from row 3."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    sheet.cell(1, 1, title)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(frame.columns))
    fill_sheet(sheet, frame, first_row=3)
    return workbook


def programa_nacional(rng) -> tuple[dict, dict[str, bytes]]:
    """(d) A multi-pillar national programme in Guatemala.

    HTCDS cases, a Spanish training register, milestones.
    """
    document = identity(
        "programa_nacional",
        "Programa Nacional contra la Trata de Personas (national programme)",
        "Comisión Interinstitucional contra la Trata (synthetic)",
        "Joint donor basket fund (synthetic)",
        "GT",
        "2024-01-01",
        "2026-12-31",
        ("XX-SYNTH-CITP", "10"),
    )
    document["reporting"]["currency"] = "GTQ"
    document["context"] = {
        "population": {  # projections of the national statistics institute (synthetic)
            "total": 18_100_000,
            "by": {
                "sex": {"female": 9_240_000, "male": 8_860_000},
                "child_adult": {"child": 7_200_000, "adult": 10_900_000},
                "age_group": {
                    "0-11": 4_900_000,
                    "12-17": 2_300_000,
                    "18-24": 2_400_000,
                    "25-34": 2_900_000,
                    "35-49": 2_900_000,
                    "50+": 2_700_000,
                },
            },
            "total_for": ["exploitation_group"],
        }
    }
    labels = calendar_labels(document)
    spans = quarters("2024-01-01", 11)
    n = len(spans)
    responders, responder_trainees = learning_events(
        rng,
        spans,
        ramp(2, n),
        activity_type="training",
        pillar="protection",
        target_groups={"social_workers": 2, "health_workers": 2, "first_responders": 1},
        curricula={"victim_identification": 1},
        size=(12, 30),
        female_share=0.68,
        age=(35, 9, 21, 63),
        pre=(47, 14),
        gain=(20, 12),
        locations=GT_DEPARTMENTS,
        id_prefix="FR",
        institutions=GT_INSTITUTIONS,
    )
    justice, justice_trainees = learning_events(
        rng,
        spans,
        ramp(3, n),
        activity_type="training",
        pillar="prosecution",
        target_groups={"police": 3, "prosecutors": 2, "judges": 1, "labour_inspectors": 1},
        curricula={"investigation": 2, "victim_centred_prosecution": 1},
        size=(12, 30),
        female_share=0.36,
        age=(37, 8, 23, 62),
        pre=(51, 13),
        gain=(18, 11),
        locations=GT_DEPARTMENTS,
        id_prefix="JU",
        institutions=GT_INSTITUTIONS,
    )
    campaigns = events(
        rng,
        spans,
        ramp(8, n),
        activity_type="awareness_event",
        pillar="prevention",
        target_groups={"general_public": 3, "students": 2},
        size=(30, 250),
        female_share=0.56,
        locations=GT_DEPARTMENTS,
        id_prefix="AW",
    )
    commission = monthly_meetings(
        rng,
        spans,
        location="Guatemala",
        target_group="government_officials",
        action_share=0.7,
        id_prefix="NC",
    )
    networks = events(
        rng,
        spans,
        np.full(n, 5.0),
        activity_type="coordination_meeting",
        pillar="partnership",
        target_groups={"government_officials": 2, "ngo_staff": 1},
        size=(8, 25),
        female_share=0.5,
        locations={k: v for k, v in GT_DEPARTMENTS.items() if k != "Guatemala"},
        id_prefix="DN",
    )
    networks["has_action_taken"] = rng.random(len(networks)) < 0.5
    activities, participants = renumber(
        pd.concat([responders, justice, campaigns, commission, networks]),
        pd.concat([responder_trainees, justice_trainees]),
        "ACT",
    )
    participants = with_people(rng, participants)
    cases = htcds_cases(rng, spans, spans[-1][1])
    document.update(
        {
            "results_chain": results_chain(
                "Guatemala prevents trafficking, protects its victims and prosecutes "
                "traffickers through a coordinated national response.",
                [
                    (
                        "OC1",
                        "People at risk know how trafficking happens and where to get help",
                        [("OP1.1", "Awareness campaigns are run in every department")],
                    ),
                    (
                        "OC2",
                        "Victims are identified, referred and assisted with their consent",
                        [
                            (
                                "OP2.1",
                                "Social, health and emergency workers are trained to identify "
                                "victims",
                            ),
                            ("OP2.2", "Identified victims are referred to specialised services"),
                        ],
                    ),
                    (
                        "OC3",
                        "Justice officials investigate and prosecute trafficking cases competently",
                        [("OP3.1", "Police, prosecutors, judges and inspectors are trained")],
                    ),
                    (
                        "OC4",
                        "Institutions coordinate through a national referral mechanism and "
                        "shared data",
                        [
                            (
                                "OP4.1",
                                "The national commission and departmental networks meet and act",
                            ),
                            (
                                "OP4.2",
                                "Procedures and agreements for referral and data sharing are "
                                "adopted",
                            ),
                            ("OP4.3", "Survivors advise the programme"),
                        ],
                    ),
                ],
            ),
            "indicators": [
                indicator(
                    "PREV-01",
                    "OP1.1",
                    0,
                    "2024-01-01",
                    per_quarter(labels, 1300, 650),
                    15000,
                    ["target_group", "location"],
                ),
                indicator(
                    "PROT-01",
                    "OP2.1",
                    0,
                    "2024-01-01",
                    per_quarter(labels, 40, 20),
                    460,
                    ["sex", "target_group"],
                ),
                indicator(
                    "PROT-02",
                    "OC2",
                    80,
                    "2023-12-31",
                    per_quarter(labels, 25, 15),
                    290,
                    ["sex", "child_adult", "nationality", "exploitation_type"],
                ),
                indicator(
                    "PROT-03",
                    "OC2",
                    0.5,
                    "2023-12-31",
                    {label: 0.45 for label in labels if label.endswith("Q4")},
                    1.4,
                    ["sex", "age_group", "exploitation_group"],
                ),
                indicator(
                    "PROT-06",
                    "OP2.2",
                    40,
                    "2023-12-31",
                    per_quarter(labels, 15, 8),
                    170,
                    ["sex", "child_adult"],
                ),
                indicator("PROT-26", "OP2.2", 75, "2023-12-31", per_quarter(labels, 95), 95),
                indicator(
                    "PROS-03",
                    "OP3.1",
                    0,
                    "2024-01-01",
                    per_quarter(labels, 50, 25),
                    575,
                    ["sex", "institution"],
                ),
                indicator(
                    "PROS-04",
                    "OC3",
                    80,
                    "2023-12-31",
                    per_quarter(labels, 90),
                    90,
                    ["target_group"],
                ),
                indicator(
                    "PART-03", "OP4.1", 0, "2024-01-01", per_quarter(labels, 8), 96, ["location"]
                ),
                indicator("PART-04", "OC4", 45, "2023-12-31", per_quarter(labels, 60), 60),
                indicator("PART-01", "OP4.1", 0, "2024-01-01", {}, 2),
                indicator(
                    "PART-02",
                    "OC4",
                    0,
                    "2024-01-01",
                    {},
                    4,
                    comments={
                        "2025-Q3": "The commission secured a budget line for specialised shelters."
                    },
                ),
                indicator("PART-07", "OC4", 0, "2023-12-31", {"2025-Q1": 1}, 1),
                indicator("PART-08", "OP4.2", 0, "2023-12-31", {"2024-Q3": 1}, 1),
                indicator("PART-10", "OP4.2", 1, "2023-12-31", {}, 3, ["partner_type"]),
                indicator("PART-11", "OP4.2", 0, "2023-12-31", {"2025-Q4": 1}, 1),
                indicator("PART-05", "OC4", 0, "2023-12-31", {"2026-Q4": 1}, 1),
                indicator(
                    "PART-13",
                    "OP4.3",
                    0,
                    "2023-12-31",
                    {"2026-Q3": 1},
                    1,
                    comments={"2026-Q3": "Members selected; the first meeting moved to November."},
                ),
                indicator("PART-06", "OC4", 1, "2023-12-31", {}, 1),
                indicator(
                    "PART-15",
                    "OC4",
                    38_000_000,
                    "2023-12-31",
                    {"2024-Q1": 42_000_000, "2025-Q1": 45_000_000, "2026-Q1": 48_000_000},
                    135_000_000,
                    ["institution"],
                    target_rationale="The multi-year budget framework agreed with the Ministry of "
                    "Finance for SVET.",
                ),
                indicator("PART-16", "OC4", 80, "2023-12-31", {"2024-Q4": 85, "2025-Q4": 90}, 90),
                indicator("PROT-34", "OC4", 10, "2023-12-31", per_quarter(labels, 30), 40),
                indicator("PROT-35", "OC4", 2, "2023-12-31", per_quarter(labels, 4), 5),
                indicator(
                    "PROT-36",
                    "OP2.1",
                    0,
                    "2024-01-01",
                    per_quarter(labels, 6, 3),
                    70,
                    ["sex", "identified_by"],
                ),
            ],
            "sources": {
                "cases": {"file": "casos_htcds.xlsx", "format": "htcds", "sheet": "Case Sheet"},
                "participants": {
                    "file": "participantes.xlsx",
                    "sheet": "Registro",
                    "header_row": 3,
                    "columns": {
                        "No. participante": "participant_id",
                        "Código actividad": "activity_id",
                        "Fecha": "completion_date",
                        "Sexo": "sex",
                        "Edad": "age",
                        "Grupo": "target_group",
                        "Institución": "institution",
                        "Departamento": "location",
                        "Currículo": "curriculum",
                        "Completó": "has_completed",
                        "Nota inicial": "pre_score",
                        "Nota final": "post_score",
                    },
                    "values": {
                        "sex": {"F": "female", "M": "male"},
                        "target_group": {
                            "PNC": "police",
                            "MP": "prosecutors",
                            "OJ": "judges",
                            "IGT": "labour_inspectors",
                            "TS": "social_workers",
                            "SALUD": "health_workers",
                            "SOC": "first_responders",
                        },
                        "has_completed": {"Sí": True, "No": False},
                    },
                },
                "activities": {"file": "actividades.csv"},
                "milestones": {"file": "hitos.csv"},
                "budgets": {"file": "presupuesto.csv"},
            },
            "privacy": {"min_cell_size": 11},
            "quality_rules": [
                PARTICIPANTS_ADD_UP,
                rule(
                    "commission_meets_monthly",
                    "the national commission meets every month",
                    aggregate(
                        "activities",
                        "activity_date",
                        ("activity_type", "equals", "coordination_meeting"),
                        ("location", "equals", "Guatemala"),
                    ),
                    ">=",
                    3,
                    strategy="never_skip",
                    severity="warning",
                ),
            ],
        }
    )
    register = own_format(
        standard(participants, "participants"), document["sources"]["participants"]
    )
    title = (
        "Registro de participantes en capacitaciones - Programa Nacional contra la Trata "
        "(datos sintéticos)"
    )
    return document, {
        "casos_htcds.xlsx": xlsx_bytes(htcds_workbook(cases)),
        "participantes.xlsx": xlsx_bytes(titled_workbook(register, "Registro", title)),
        "actividades.csv": csv_bytes(standard(activities, "activities")),
        "hitos.csv": csv_bytes(
            standard(
                milestones(
                    [
                        (
                            "coordination_body_established",
                            "Departmental networks set up in Petén and Izabal",
                            "partnership",
                            "2024-05-20",
                            "2024-06-30",
                            "government",
                        ),
                        (
                            "sop_adopted",
                            "Inter-agency SOP for identification and referral adopted",
                            "partnership",
                            "2024-09-12",
                            "2024-12-31",
                            "government",
                        ),
                        (
                            "nrm_established",
                            "National referral mechanism launched with a case-management protocol",
                            "protection",
                            "2025-02-27",
                            "2025-03-31",
                            "government",
                        ),
                        (
                            "agreement_signed",
                            "Bilateral agreement on the return of child victims",
                            "partnership",
                            "2025-06-18",
                            "2025-06-30",
                            "foreign government",
                        ),
                        (
                            "coordination_body_action",
                            "Commission secured a budget line for specialised shelters",
                            "partnership",
                            "2025-08-14",
                            None,
                            "government",
                        ),
                        (
                            "data_sharing_agreement",
                            "HTCDS case data shared with the national observatory",
                            "partnership",
                            "2025-11-05",
                            "2025-12-31",
                            "NGO",
                        ),
                        (
                            "coordination_body_action",
                            "Commission issued a protocol on child victims",
                            "protection",
                            "2026-03-10",
                            None,
                            "government",
                        ),
                        (
                            "agreement_signed",
                            "Code of conduct agreed with the hotel association",
                            "prevention",
                            "2026-05-22",
                            "2026-06-30",
                            "private sector",
                        ),
                        (
                            "survivor_advisory_body",
                            "Survivor advisory council set up",
                            "partnership",
                            None,
                            "2026-09-30",
                            "NGO",
                        ),
                        (
                            "national_action_plan",
                            "National action plan 2027-2031 adopted",
                            "partnership",
                            None,
                            "2026-12-31",
                            "government",
                        ),
                        (
                            "national_action_plan",
                            "National public policy against trafficking 2020-2024",
                            "partnership",
                            "2024-01-01",
                            None,
                            "government",
                        ),
                        (
                            "coordination_body_action",
                            "Petén network launched a referral pathway for migrant children",
                            "protection",
                            "2025-10-20",
                            None,
                            "government",
                        ),
                    ],
                    coordination_body={
                        4: "Comisión Interinstitucional",
                        6: "Comisión Interinstitucional",
                        11: "Red departamental de Petén",
                    },
                    valid_until_date={9: "2031-12-31", 10: "2024-12-31"},
                ),
                "milestones",
            )
        ),
        "presupuesto.csv": csv_bytes(standard(public_budget(), "budgets")),
    }


def public_budget() -> pd.DataFrame:
    """Anti-trafficking lines of the national and two municipal budgets.

    One row per line and year.
    """
    rows = [
        ("SVET", 2024, 42_000_000, 37_380_000),
        ("SVET", 2025, 45_500_000, 41_860_000),
        ("SVET", 2026, 48_000_000, 30_240_000),
        ("Municipalidad de Guatemala", 2025, 1_200_000, 1_020_000),
        ("Municipalidad de Flores", 2026, 400_000, None),
    ]
    frame = pd.DataFrame(rows, columns=["institution", "year", "allocated_amount", "spent_amount"])
    frame.insert(0, "budget_id", [f"B-{i:02d}" for i in range(1, len(frame) + 1)])
    frame["budget_year_start_date"] = pd.to_datetime(frame["year"].astype(str) + "-01-01")
    frame["budget_year_end_date"] = pd.to_datetime(frame["year"].astype(str) + "-12-31")
    frame["description"] = "Victim services, shelters and prevention campaigns"
    return frame.drop(columns="year")


def team_indicator(
    indicator_id,
    name,
    pillar,
    area,
    definition,
    disaggregations,
    counts,
    counting_unit,
    double_counting,
) -> dict:
    """An entry of the NGO's own catalogue file: a count it reports from its tally sheets."""
    return {
        "id": indicator_id,
        "name": name,
        "pillar": pillar,
        "area": area,
        "level": "output",
        "unit": "count",
        "direction": "increase",
        "definition": definition,
        "rationale": (
            "Required by the donor's quarterly report; counted on the organisation's tally sheets."
        ),
        "data_source": "Quarterly tally sheet signed by the programme coordinator.",
        "frequency": "quarterly",
        "disaggregations": disaggregations,
        "references": ["Coast Survivors Outreach M&E plan"],
        "iati_measure": "unit",
        "counts": counts,
        "counting_unit": counting_unit,
        "double_counting": double_counting,
        "collected_by": "Centre staff and community facilitators, on the tally sheets",
        "reported_by": "The programme coordinator, who signs the quarterly tally sheet",
        "collection_timing": "Tallied daily, totalled at the end of each quarter",
        "reporting_lag": "15 days after the end of the quarter",
        "data_limitations": (
            "Tally sheets hold no names, so a person counted twice cannot be found."
        ),
        "target_rationale": "The centre's staffing and the donor's agreed workplan.",
        "baseline_timeframe": "The last quarter before the grant.",
        "change_log": [{"date": dt.date(2024, 9, 15), "change": "Added for the small grant."}],
        "method": {"measure": "reported"},
        "rollup": "sum",
    }


TEAM_CATALOGUE = [
    team_indicator(
        "CSO-01",
        "Survivors assisted at the drop-in centre",
        "protection",
        "case management",
        "People identified as (possible) victims of trafficking who received at least one "
        "service at the drop-in centre during the quarter, counted once per quarter.",
        ["sex", "child_adult"],
        "people",
        "one survivor assisted",
        "A survivor is ticked once per quarter on the centre's register.",
    ),
    team_indicator(
        "CSO-02",
        "Community dialogues on trafficking held",
        "prevention",
        "awareness raising",
        "Facilitated community meetings on recruitment risks and safe work abroad.",
        ["location"],
        "events",
        "one community dialogue",
        "Each dialogue has one sign-in sheet.",
    ),
    team_indicator(
        "CSO-03",
        "People reached by community dialogues",
        "prevention",
        "awareness raising",
        "Attendance at the community dialogues, from the sign-in sheets.",
        ["sex"],
        "people",
        "one attendance at a dialogue",
        "A person attending two dialogues is counted twice (attendances).",
    ),
]
KE_WARDS = {"Mombasa": 4, "Kilifi": 3, "Kwale": 2}


def tally_rows(rng, spans, labels) -> pd.DataFrame:
    """Quarterly tally-sheet figures: totals and a few breakdowns per reported indicator."""
    rows = []

    def add(
        indicator_id,
        period,
        value,
        dimension=None,
        category=None,
        numerator=None,
        denominator=None,
        comment=None,
    ):
        rows.append(
            (indicator_id, period, dimension, category, value, numerator, denominator, comment)
        )

    organisations = (2, 2, 3, 3, 4, 4, 5, 5)
    core_fields = (40, 45, 55, 60, 70, 75, 80, 85)
    for number, ((start, end), period) in enumerate(zip(spans, labels)):
        bed_nights = 12 * ((end - start).days + 1)
        used = int(bed_nights * rng.uniform(0.62, 0.95))
        add(
            "PROT-12",
            period,
            round(100 * used / bed_nights, 1),
            numerator=used,
            denominator=bed_nights,
            comment="Shelter closed two weeks for repairs." if number == 3 else None,
        )
        leaders = {"female": int(rng.poisson(4)), "male": int(rng.poisson(1.5))}
        add("PART-14", period, sum(leaders.values()))
        for sex, count in leaders.items():
            add("PART-14", period, count, "sex", sex)
        add("PREV-17", period, int(rng.poisson(1.5)))
        add("PART-12", period, organisations[number])
        add(
            "PREV-20",
            period,
            core_fields[number],
            numerator=round(core_fields[number] * 0.2),
            denominator=20,
        )
        assisted = {"female": int(rng.poisson(14)), "male": int(rng.poisson(6))}
        children = int(rng.binomial(sum(assisted.values()), 0.25))
        add("CSO-01", period, sum(assisted.values()))
        for sex, count in assisted.items():
            add("CSO-01", period, count, "sex", sex)
        add("CSO-01", period, children, "child_adult", "child")
        add("CSO-01", period, sum(assisted.values()) - children, "child_adult", "adult")
        dialogues = {ward: int(rng.poisson(weight + 1)) for ward, weight in KE_WARDS.items()}
        add("CSO-02", period, sum(dialogues.values()))
        for ward, count in dialogues.items():
            add("CSO-02", period, count, "location", ward)
        if number != 2:  # the sign-in sheets of one quarter were lost
            reached = {"female": int(rng.poisson(230)), "male": int(rng.poisson(160))}
            add("CSO-03", period, sum(reached.values()))
            for sex, count in reached.items():
                add("CSO-03", period, count, "sex", sex)
    return pd.DataFrame(
        rows,
        columns=[
            "indicator_id",
            "period",
            "dimension",
            "category",
            "value",
            "numerator",
            "denominator",
            "comment",
        ],
    )


def coast_outreach(rng) -> tuple[dict, dict[str, bytes]]:
    """(e) A small NGO in Kenya that only keeps quarterly tally sheets; calendar quarters.

    The tally sheets give reported values.
    """
    document = identity(
        "coast_outreach",
        "Coast Survivors Outreach: drop-in centre and community dialogues",
        "Coast Survivors Outreach (synthetic)",
        "Small Grants Facility (synthetic)",
        "KE",
        "2024-10-01",
        "2026-09-30",
        ("XX-SYNTH-CSO", "24"),
    )
    labels = calendar_labels(document)
    spans = quarters("2024-10-01", 8)
    quarter_names = {
        f"{start:%b}-{end:%b} {end:%Y}": label for (start, end), label in zip(spans, labels)
    }
    document.update(
        {
            "results_chain": results_chain(
                "Survivors of trafficking on the coast are safe and supported, and communities "
                "recognise recruitment risks.",
                [
                    (
                        "OC1",
                        "Survivors use safe shelter and support services",
                        [("OP1.1", "The drop-in centre and the small shelter assist survivors")],
                    ),
                    (
                        "OC2",
                        "Communities and businesses act against exploitative recruitment",
                        [
                            ("OP2.1", "Community dialogues are held in three counties"),
                            ("OP2.2", "Local businesses adopt fair-recruitment policies"),
                        ],
                    ),
                    (
                        "OC3",
                        "Survivors and partners shape the response",
                        [
                            ("OP3.1", "Survivor leaders take part in the programme"),
                            ("OP3.2", "Case data are recorded to the HTCDS and shared"),
                        ],
                    ),
                ],
            ),
            "catalogue": "coast_indicators.yaml",
            "indicators": [
                indicator(
                    "CSO-01",
                    "OP1.1",
                    60,
                    "2024-09-30",
                    per_quarter(labels, 22),
                    176,
                    ["sex", "child_adult"],
                ),
                indicator(
                    "PROT-12",
                    "OC1",
                    70,
                    "2024-09-30",
                    per_quarter(labels, 80),
                    80,
                    comments={
                        "2025-Q3": "Two weeks without residents while the roof was repaired."
                    },
                ),
                indicator(
                    "CSO-02", "OP2.1", 20, "2024-09-30", per_quarter(labels, 10), 80, ["location"]
                ),
                indicator(
                    "CSO-03",
                    "OP2.1",
                    1200,
                    "2024-09-30",
                    per_quarter(labels, 400),
                    3200,
                    ["sex"],
                    {
                        "2025-Q2": (
                            "Sign-in sheets for April to June were lost when the office moved."
                        )
                    },
                ),
                indicator("PREV-17", "OP2.2", 0, "2024-09-30", per_quarter(labels, 2), 12),
                indicator("PART-14", "OP3.1", 2, "2024-09-30", per_quarter(labels, 5), 40, ["sex"]),
                indicator("PART-12", "OP3.2", 1, "2024-09-30", {labels[3]: 3, labels[-1]: 5}, 5),
                indicator(
                    "PREV-20", "OP3.2", 35, "2024-09-30", {labels[3]: 60, labels[-1]: 90}, 90
                ),
            ],
            "sources": {
                "reported_values": {
                    "file": "tally_sheets.xlsx",
                    "sheet": "Tally",
                    "columns": {
                        "Indicator": "indicator_id",
                        "Quarter": "period",
                        "Breakdown": "dimension",
                        "Group": "category",
                        "Figure": "value",
                        "Count": "numerator",
                        "Out of": "denominator",
                        "Notes": "comment",
                    },
                    "values": {
                        "period": quarter_names,
                        "dimension": {"Sex": "sex", "Age": "child_adult", "County": "location"},
                        "category": {
                            "Women": "female",
                            "Men": "male",
                            "Children": "child",
                            "Adults": "adult",
                        },
                    },
                }
            },
            "privacy": {"min_cell_size": 5},
            "quality_rules": [
                rule(
                    "occupancy_at_most_full",
                    "shelter occupancy cannot exceed 100 %",
                    aggregate(
                        "reported_values",
                        None,
                        ("indicator_id", "equals", "PROT-12"),
                        ("dimension", "is_null", True),
                        measure="sum",
                        column="value",
                    ),
                    "<=",
                    100,
                ),
                rule(
                    "women_leaders_within_total",
                    "women survivor leaders are part of the total",
                    aggregate(
                        "reported_values",
                        None,
                        ("indicator_id", "equals", "PART-14"),
                        ("category", "equals", "female"),
                        measure="sum",
                        column="value",
                    ),
                    "<=",
                    aggregate(
                        "reported_values",
                        None,
                        ("indicator_id", "equals", "PART-14"),
                        ("dimension", "is_null", True),
                        measure="sum",
                        column="value",
                    ),
                ),
            ],
        }
    )
    tally = own_format(
        standard(tally_rows(rng, spans, labels), "reported_values"),
        document["sources"]["reported_values"],
    )
    workbook = Workbook()
    fill_sheet(workbook.active, tally)
    workbook.active.title = "Tally"
    return document, {
        "coast_indicators.yaml": yaml_bytes(TEAM_CATALOGUE),
        "tally_sheets.xlsx": xlsx_bytes(workbook),
    }


# ---------------------------------------------------------------- main

PROJECTS = (
    safe_journeys,
    shelter_and_recovery,
    justice_for_survivors,
    programa_nacional,
    coast_outreach,
)


def main(out_dir: Path = OUT_DIR) -> None:
    """Write every sample project into its own folder under out_dir.

    Its old files are removed first.
    """
    for number, build in enumerate(PROJECTS):
        document, files = build(np.random.default_rng([SEED, number]))
        folder = Path(out_dir) / document["project"]["id"]
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, content in {"project.yaml": yaml_bytes(document), **files}.items():
            (folder / name).write_bytes(content)
        print(f"{folder}: {', '.join(sorted(files))}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR)
