"""Benchmark of the indicator engine on a generated project.

The project: 1,000,000 cases, 3,000,000 services, 8 quarters.

(a) Five representative indicators (people counted once by a single and a multi-valued column, a
    filtered count_distinct across a link, a share, a median, a pre/post change), two
    disaggregations each, 8 quarters + life of project: the engine's time against
    hand-written pandas computing the same numbers (checked equal) in the same run.
    Target ≤ 1.5× each.
(b) The whole project: every catalogue indicator on cases or services with all its
    disaggregations, 8 quarters + life of project, in a fresh process: wall time and peak memory.
    Target < 10 s, ≤ 3 GB.

The data is generated once into benchmarks/.data/ (seeded) and reused. The last line printed is a
JSON object with the figures. Run: .venv/bin/python benchmarks/bench_engine.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib._catalogue import load_catalogue
from ctlib._compute.engine import compute
from ctlib._data.derive import derive_linked, standard_frame
from ctlib._data.project_data import ProjectData
from ctlib._data.project_model import Project
from ctlib._data.tables import (
    CASE_STATUS,
    CLOSURE_REASONS,
    EXPLOITATION_TYPES,
    IDENTIFIED_BY,
    PANDAS_DTYPES,
    SERVICE_TYPES,
    STATUS_DECISION_BODY,
    TABLES,
)

N_CASES, N_SERVICES, SEED = 1_000_000, 3_000_000, 2026
START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31")
DATA_DIR = Path(__file__).with_name(".data")
REPEATS = 3
REPRESENTATIVE = {  # indicator → two disaggregations
    # distinct people identified as victims, by sex and by every form of exploitation (multi-valued)
    "PROT-02": ["sex", "exploitation_types"],
    "PROT-10": [
        "sex",
        "age_group",
    ],  # distinct victims given shelter (services, filtered; person and dimensions from cases)
    "PROT-09": ["sex", "exploitation_type"],  # share with a needs assessment
    "PROT-08": ["sex", "age_group"],  # median days from referral to acceptance
    "PROT-15": ["sex", "age_group"],  # share whose wellbeing improved (pre/post)
}


# -- data -----------------------------------------------------------------------------------------
def _pick(rng, values, size, weights=None) -> np.ndarray:
    weights = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=size, p=weights)]


def _days(rng, low, high, size) -> pd.TimedeltaIndex:
    return pd.to_timedelta(rng.integers(low, high, size), unit="D")


PROJECT = Project.model_validate(
    {
        "project": {
            "id": "bench",
            "name": "Benchmark",
            "organisation": "NGO",
            "donor": "Donor",
            "country": "TH",
            "start_date": START.date(),
            "end_date": END.date(),
        },
        "context": {"population": 70_000_000},
        "results_chain": {"objective": "Benchmark"},
    }
)


def _standard(name: str, columns: dict) -> pd.DataFrame:
    """The table as ingestion leaves it: input columns typed, derived columns derived by ctlib."""
    index = pd.RangeIndex(len(columns[TABLES[name].key]))
    typed = {
        c.name: pd.Series(columns[c.name], index=index, dtype=PANDAS_DTYPES[c.kind])
        for c in TABLES[name].input_columns
        if c.name in columns
    }
    return standard_frame(typed, TABLES[name], PROJECT, index)


def generate_cases(rng) -> pd.DataFrame:
    n = N_CASES
    identified = START + _days(rng, 0, (END - START).days + 1, n)
    age = pd.Series(rng.integers(6, 70, n), dtype="Int64").mask(rng.random(n) < 0.03)
    nationality = _pick(
        rng,
        ["TH", "MM", "KH", "LA", "VN", "CN", "ID", "PH", "NP", "BD", "UZ", "NG"],
        n,
        [40, 20, 12, 8, 6, 3, 3, 2, 2, 2, 1, 1],
    )
    is_referred = rng.random(n) < 0.7
    referral = pd.Series(identified + _days(rng, 0, 30, n)).where(is_referred)
    accepted = (referral + _days(rng, 0, 40, n)).where(rng.random(n) < 0.9)
    status = _pick(rng, CASE_STATUS, n, [4, 2, 3, 1])
    is_closed = np.isin(status, ["closed", "closed_referred"])
    intake = pd.Series(rng.uniform(0, 100, n).round(1)).mask(rng.random(n) < 0.1)
    exit_score = (
        (intake + rng.normal(5, 15, n).round(1))
        .clip(0, 100)
        .mask(~is_closed | (rng.random(n) < 0.2))
    )
    case_ids = np.array([f"C{i:07d}" for i in range(n)], dtype=object)
    again = rng.random(n) < 0.05  # a person identified before, under an earlier case
    person = np.where(again, case_ids[(np.arange(n) * rng.random(n)).astype(int)], case_ids)
    main_form = _pick(rng, EXPLOITATION_TYPES, n, [30, 30, 5, 6, 5, 1, 1, 4, 1, 1, 5, 3, 8])
    two_forms = (rng.random(n) < 0.15) & (main_form == "sexual_exploitation")
    return _standard(
        "cases",
        {
            "case_id": case_ids,
            "person_id": person,
            "identification_date": identified,
            "sex": _pick(rng, ["female", "male", "other", "unknown"], n, [55, 40, 1, 4]),
            "age": age,
            "is_possibly_child": pd.Series(rng.random(n) < 0.4).where(age.isna()),
            "nationality": nationality,
            "country_of_exploitation": _pick(
                rng, ["TH", "MY", "SG", "JP", "KR", "AE", "SA", "TW"], n
            ),
            "location": _pick(rng, [f"D{i:02d}" for i in range(1, 21)], n),
            "exploitation_type": main_form,
            "exploitation_types": np.where(
                two_forms, "sexual_exploitation;forced_labour", main_form
            ),
            "identified_by": _pick(rng, IDENTIFIED_BY, n),
            "trafficking_status": _pick(rng, ["possible", "actual", "not_a_victim"], n, [3, 6, 1]),
            "status_decided_by": pd.Series(_pick(rng, STATUS_DECISION_BODY, n)).mask(
                rng.random(n) < 0.2
            ),
            "has_consent": rng.random(n) < 0.9,
            "is_referred": is_referred,
            "referral_date": referral,
            "referral_accepted_date": accepted,
            "has_needs_assessment": rng.random(n) < 0.8,
            "has_guardian": rng.random(n) < 0.6,
            "has_reflection_period": rng.random(n) < 0.5,
            "wellbeing_intake_score": intake,
            "wellbeing_exit_score": exit_score,
            "case_status": status,
            "closure_date": pd.Series(identified + _days(rng, 30, 300, n)).where(is_closed),
            "closure_reason": pd.Series(_pick(rng, CLOSURE_REASONS, n, [5, 2, 1, 1, 1, 1])).where(
                is_closed
            ),
        },
    )


def generate_services(rng, cases: pd.DataFrame) -> pd.DataFrame:
    n = N_SERVICES
    case = rng.integers(0, N_CASES, n)
    service_type = _pick(rng, SERVICE_TYPES, n, [20, 15, 15, 10, 5, 3, 4, 8, 5, 3, 4, 3, 1, 1, 3])
    start = pd.Series(cases["identification_date"].to_numpy()[case] + _days(rng, 0, 120, n))
    planned = start + _days(rng, 30, 180, n)
    end = (start + _days(rng, 20, 200, n)).where(rng.random(n) < 0.7)
    is_shelter = service_type == "shelter"
    return _standard(
        "services",
        {
            "service_id": [f"S{i:07d}" for i in range(n)],
            "case_id": cases["case_id"].to_numpy()[case],
            "service_type": service_type,
            "start_date": start,
            "planned_end_date": planned,
            "end_date": end,
            "is_completed": end.notna(),
            "nights": pd.Series(rng.integers(1, 90, n), dtype="Int64").where(is_shelter),
            "provider": _pick(rng, [f"provider_{i:02d}" for i in range(15)], n),
            "is_satisfied": pd.Series(rng.random(n) < 0.8).where(rng.random(n) < 0.6),
        },
    )


def load_tables() -> dict[str, pd.DataFrame]:
    """The generated tables, made and saved on first use."""
    paths = {
        name: DATA_DIR / f"{name}-{size}-{SEED}-v2.parquet"
        for name, size in (("cases", N_CASES), ("services", N_SERVICES))
    }
    if not all(p.exists() for p in paths.values()):
        DATA_DIR.mkdir(exist_ok=True)
        rng = np.random.default_rng(SEED)
        started = time.perf_counter()
        cases = generate_cases(rng)
        services = generate_services(rng, cases)
        tables = derive_linked({"cases": cases, "services": services}, PROJECT)
        cases, services = tables["cases"], tables["services"]
        cases.to_parquet(paths["cases"])
        services.to_parquet(paths["services"])
        print(f"generated the data in {time.perf_counter() - started:.1f} s into {DATA_DIR}")
    return {name: pd.read_parquet(path) for name, path in paths.items()}


def make_data(tables, selected: dict[str, list[str]]) -> ProjectData:
    indicators = [
        {"id": i, "disaggregations": dims, "targets": {"life_of_project": 100}}
        for i, dims in selected.items()
    ]
    project = PROJECT.model_validate({**PROJECT.model_dump(), "indicators": indicators})
    return ProjectData(DATA_DIR, project, load_catalogue(), tables)


# -- hand-written pandas ---------------------------------------------------------------------------
def _quarter(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 10 + dates.dt.quarter


def _in_span(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[(frame[column] >= START) & (frame[column] <= END)]


def _by_groups(rows: pd.DataFrame, date: str, dims: list[str], aggregate) -> dict:
    """{(period, dimension, category): number} for the total, each dimension, quarters and LoP; a
    multi-valued dimension counts a row in each of its categories."""
    rows = _in_span(rows, date)
    out = {}
    for dim in [None, *dims]:
        grouped = rows
        if dim in TABLES["cases"].multiple_columns:
            grouped = rows.assign(**{dim: rows[dim].str.split(";")}).explode(dim)
        quarter = _quarter(grouped[date]).rename("quarter")
        keys = [quarter] if dim is None else [quarter, grouped[dim]]
        for key, number in aggregate(grouped.groupby(keys, observed=True)).items():
            key = key if isinstance(key, tuple) else (key,)
            out[(f"{key[0] // 10}-Q{key[0] % 10}", dim or "total", key[1] if dim else "total")] = (
                number
            )
        whole = grouped[dim] if dim else np.zeros(len(grouped), dtype=int)
        life = aggregate(grouped.groupby(whole))
        out.update(
            {
                ("life_of_project", dim or "total", key if dim else "total"): n
                for key, n in life.items()
            }
        )
    return out


def hand_people(tables, dims):
    cases = tables["cases"]
    rows = cases[cases["trafficking_status"].isin(["possible", "actual"])]
    return _by_groups(rows, "identification_date", dims, lambda g: g["person_id"].nunique())


def hand_distinct(tables, dims):
    services = tables["services"]
    rows = services[services["service_type"] == "shelter"]
    linked = tables["cases"][["case_id", "person_id", "trafficking_status", *dims]]
    rows = rows.merge(linked, on="case_id", how="left")
    rows = rows[rows["trafficking_status"].isin(["possible", "actual"])]
    return _by_groups(rows, "start_date", dims, lambda g: g["person_id"].nunique())


def hand_share(tables, dims):
    cases = tables["cases"]
    rows = cases[cases["trafficking_status"].isin(["possible", "actual"])]
    rows = rows.assign(assessed=rows["has_needs_assessment"].fillna(False).astype(bool))
    return _by_groups(rows, "identification_date", dims, lambda g: g["assessed"].mean() * 100)


def hand_median(tables, dims):
    cases = tables["cases"]
    victims = cases["trafficking_status"].isin(["possible", "actual"])
    rows = cases[cases["is_referred"].fillna(False).astype(bool) & victims]
    return _by_groups(
        rows, "referral_date", dims, lambda g: g["days_to_referral_acceptance"].median()
    )


def hand_change(tables, dims):
    cases = tables["cases"]
    rows = cases[cases["wellbeing_intake_score"].notna() & cases["wellbeing_exit_score"].notna()]
    rows = rows.assign(improved=rows["wellbeing_exit_score"] > rows["wellbeing_intake_score"])
    return _by_groups(rows, "closure_date", dims, lambda g: g["improved"].mean() * 100)


HAND = {
    "PROT-02": hand_people,
    "PROT-10": hand_distinct,
    "PROT-09": hand_share,
    "PROT-08": hand_median,
    "PROT-15": hand_change,
}


def engine_numbers(data: ProjectData, indicator_id: str) -> dict:
    table = compute(data, periods="all", indicators=[indicator_id]).table
    return {
        k: v
        for k, v in zip(zip(table["period"], table["dimension"], table["category"]), table["value"])
    }


def best_time(function, *args):
    times, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - started)
    return min(times), result


def assert_same(engine: dict, hand: dict, indicator_id: str) -> None:
    missing = set(hand) - set(engine)
    assert not missing, f"{indicator_id}: the engine lacks {sorted(missing)[:5]}"
    extra = {k for k, v in engine.items() if k not in hand and not (np.isnan(v) or v == 0)}
    assert not extra, f"{indicator_id}: the engine has more non-zero cells: {sorted(extra)[:5]}"
    keys = sorted(hand)
    np.testing.assert_allclose(
        [engine[k] for k in keys], [float(hand[k]) for k in keys], rtol=1e-9, err_msg=indicator_id
    )


def representative(tables) -> dict:
    data = make_data(tables, REPRESENTATIVE)
    figures = {}
    for indicator_id, dims in REPRESENTATIVE.items():
        engine_seconds, engine = best_time(engine_numbers, data, indicator_id)
        pandas_seconds, hand = best_time(HAND[indicator_id], tables, dims)
        assert_same(engine, hand, indicator_id)
        ratio = engine_seconds / pandas_seconds
        figures[indicator_id] = {
            "engine_s": round(engine_seconds, 3),
            "pandas_s": round(pandas_seconds, 3),
            "ratio": round(ratio, 2),
            "cells": len(hand),
        }
        print(
            f"(a) {indicator_id} by {' and '.join(dims):<24} engine {engine_seconds:6.3f} s · "
            f"pandas {pandas_seconds:6.3f} s · ratio {ratio:4.2f} · {len(hand)} cells equal"
        )
    return figures


# -- the whole project -----------------------------------------------------------------------------
def whole_project() -> dict:
    """Run in a fresh process: load, compute every applicable indicator.

    Report time and peak memory.
    """
    started = time.perf_counter()
    tables = load_tables()
    load_seconds = time.perf_counter() - started
    rss_loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    catalogue = load_catalogue()
    selected = {i.id: list(i.disaggregations) for i in catalogue if i.method.table in tables}
    data = make_data(tables, selected)
    started, cpu_started = time.perf_counter(), time.process_time()
    results = compute(data, periods="all")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "indicators": len(selected),
        "rows": len(results.table),
        "problems": len(results.problems),
        "load_s": round(load_seconds, 2),
        "compute_s": round(seconds, 2),
        "compute_cpu_s": round(cpu_seconds, 2),
        "rss_after_load_mb": round(rss_loaded_mb),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    if sys.argv[1:] == ["--whole"]:
        print(json.dumps(whole_project()))
        return
    tables = load_tables()
    figures = {"representative": representative(tables)}
    del tables
    child = subprocess.run(
        [sys.executable, __file__, "--whole"], capture_output=True, text=True, check=True
    )
    whole = json.loads(child.stdout.strip().splitlines()[-1])
    figures["whole_project"] = whole
    print(
        f"(b) whole project: {whole['indicators']} indicators, {whole['rows']} result rows, "
        f"compute {whole['compute_s']} s wall, {whole['compute_cpu_s']} s CPU (load "
        f"{whole['load_s']} s), peak memory {whole['peak_rss_mb']} MB"
    )
    ratios = [f["ratio"] for f in figures["representative"].values()]
    figures["targets_met"] = {
        "ratio_le_1_5": max(ratios) <= 1.5,
        "whole_lt_10_s": whole["compute_s"] < 10,
        "peak_le_3_gb": whole["peak_rss_mb"] <= 3 * 1024,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
