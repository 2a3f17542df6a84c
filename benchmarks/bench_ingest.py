"""Benchmark: ingest and validate a `cases` table with a column and value map, from a csv and
from an xlsx workbook.

The file uses a project's own column names and codes (day-first dates, "F"/"M", "Oui"/"Non", ...),
so the whole mapping path runs. Two cases:

- csv: 1,000,000 rows against a bare `pandas.read_csv` of the same file; target at most 3x;
- xlsx: 200,000 rows against `pandas.read_excel` of the same workbook with the fastest engine
  installed (python-calamine); target at most 1.5x.

Each measurement runs in its own Python process, so that its peak memory (maxrss) is its own, and
imports (pandas; ctlib) happen before its timer. Baseline and ingestion alternate --repeat times
and the fastest run of each counts, as the machine may be shared. Peak memory: at most 2 GB.

    .venv/bin/python benchmarks/bench_ingest.py [--case csv|xlsx|all] [--rows N] [--repeat 3]

The data is generated once into benchmarks/.data/ (git-ignored) and reused. The last line printed
is a JSON object with the figures of every case run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).parent / ".data"
CASES = {  # case -> (default rows, target ratio, the baseline's reader)
    "csv": (1_000_000, 3.0, "pandas.read_csv"),
    "xlsx": (200_000, 1.5, 'pandas.read_excel(engine="calamine")'),
}
TARGET_PEAK_MB = 2048

PROJECT_YAML = """\
project:
  id: bench-ingest
  name: Ingestion benchmark
  organisation: Benchmark NGO
  donor: Benchmark donor
  country: NG
  start_date: 2020-01-01
  end_date: 2025-12-31
results_chain:
  objective: Measure ingestion speed.
sources:
  cases:
    file: cases.csv
    columns:
      "Case No": case_id
      "Date registered": identification_date
      Sexe: sex
      Age: age
      Nationality: nationality
      District: location
      Exploitation: exploitation_type
      "Identified by": identified_by
      Status: trafficking_status
      Consent: has_consent
      Referred: is_referred
      "Referral date": referral_date
      "Accepted on": referral_accepted_date
      "Case status": case_status
      "Closed on": closure_date
      Closure: closure_reason
    values:
      sex: {F: female, M: male, X: other, U: unknown}
      exploitation_type: {SE: sexual_exploitation, FL: forced_labour, CL: child_labour,
                          FM: forced_marriage, FB: forced_begging, OT: other}
      identified_by: {POL: police, NGO: ngo, HL: hotline, COM: community, SELF: self_identified}
      trafficking_status: {P: possible, A: actual, N: not_a_victim}
      has_consent: {Oui: true, Non: false}
      case_status: {A: active, F: follow_up, C: closed, CR: closed_referred}
      closure_reason: {GM: goals_met, LC: lost_contact, REF: referred, DEC: declined_services}
"""


def synthetic_cases(rows: int) -> pd.DataFrame:
    """A seeded synthetic cases table with the project's own names and codes (no real person);
    dates as datetime64 (NaT when empty), ages as numbers (NaN when empty)."""
    rng = np.random.default_rng(20260101)
    start = np.datetime64("2020-01-01")
    identified = start + rng.integers(0, 6 * 365, rows).astype("timedelta64[D]")
    referred = rng.random(rows) < 0.6
    referral = identified + rng.integers(0, 30, rows).astype("timedelta64[D]")
    accepted = referral + rng.integers(0, 15, rows).astype("timedelta64[D]")
    closed = rng.random(rows) < 0.4
    ages = rng.integers(8, 60, rows).astype(float)
    ages[rng.random(rows) < 0.05] = np.nan

    def pick(values, p=None):
        return np.asarray(values, dtype=object)[rng.choice(len(values), rows, p=p)]

    def dates(values, keep=True):
        return pd.Series(values).where(np.broadcast_to(keep, rows))

    return pd.DataFrame(
        {
            "Case No": [f"NG-{i:07d}" for i in range(1, rows + 1)],
            "Date registered": dates(identified),
            "Sexe": pick(["F", "M", "X", "U"], [0.62, 0.34, 0.01, 0.03]),
            "Age": ages,
            "Nationality": pick(
                ["NG", "BJ", "TG", "GH", "NE", "CM"], [0.7, 0.1, 0.05, 0.05, 0.05, 0.05]
            ),
            "District": pick([f"District {n}" for n in range(1, 31)]),
            "Exploitation": pick(["SE", "FL", "CL", "FM", "FB", "OT"]),
            "Identified by": pick(["POL", "NGO", "HL", "COM", "SELF"]),
            "Status": pick(["P", "A", "N"], [0.5, 0.45, 0.05]),
            "Consent": pick(["Oui", "Non"], [0.9, 0.1]),
            "Referred": np.where(referred, "yes", "no"),
            "Referral date": dates(referral, referred),
            "Accepted on": dates(accepted, referred),
            "Case status": np.where(closed, "C", pick(["A", "F"])),
            "Closed on": dates(identified + 90, closed),
            "Closure": np.where(closed, pick(["GM", "LC", "REF", "DEC"]), None),
        }
    )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The csv as a case system exports it: day-first dates of registration and closure, ISO
    dates of referral, empty cells for missing values."""
    text = frame.assign(
        **{name: frame[name].dt.strftime("%d/%m/%Y") for name in ("Date registered", "Closed on")},
        **{name: frame[name].dt.strftime("%Y-%m-%d") for name in ("Referral date", "Accepted on")},
        Age=frame["Age"].astype("Int64"),
    )
    text.to_csv(path, index=False)


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """The workbook as Excel users keep it: a title row above the header, date cells, numbers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Cases")
    sheet.append(["Case register (synthetic, for the ingestion benchmark)"])
    sheet.append(list(frame.columns))
    columns = [
        [None if pd.isna(v) else v for v in frame[name].astype(object).tolist()]
        for name in frame.columns
    ]
    for row in zip(*columns):
        sheet.append(row)
    book.save(path)


def generate(case: str, rows: int) -> Path:
    """The case's data file and project.yaml, written once into benchmarks/.data/."""
    directory = DATA_DIR / f"ingest-{case}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"cases.{case}"
    temporary = path.with_name(f".cases.tmp.{case}")
    (write_csv if case == "csv" else write_xlsx)(synthetic_cases(rows), temporary)
    temporary.replace(path)
    (directory / "project.yaml").write_text(PROJECT_YAML.replace("cases.csv", path.name))
    (directory / "rows").write_text(str(rows))
    return path


def is_generated(case: str, rows: int) -> bool:
    directory = DATA_DIR / f"ingest-{case}"
    marker = directory / "rows"
    return (
        (directory / f"cases.{case}").exists()
        and marker.exists()
        and marker.read_text() == str(rows)
    )


def measure(case: str, what: str) -> dict:
    """Run in a child process: time one ingestion (or the baseline read) and report peak memory.

    Ingestion is timed after a first load of project.yaml, whose cost (parsing the indicator
    catalogue once per process, whatever the data) is reported apart as `fixed_seconds`; the timed
    call still reads and validates project.yaml again, as every ingestion does.
    """
    directory = DATA_DIR / f"ingest-{case}"
    path = directory / f"cases.{case}"
    fixed = 0.0
    if what == "baseline":
        began, cpu = time.perf_counter(), _cpu_seconds()
        if case == "csv":
            rows = len(pd.read_csv(path))
        else:
            rows = len(pd.read_excel(path, engine="calamine", header=1))
    else:
        from ctlib._data.ingest import load_project_data
        from ctlib._data.project import load_project_file

        began = time.perf_counter()
        load_project_file(directory)
        fixed = time.perf_counter() - began
        began, cpu = time.perf_counter(), _cpu_seconds()
        rows = len(load_project_data(directory).tables["cases"])
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "fixed_seconds": round(fixed, 3),
        "peak_mb": round(peak_mb, 1),
    }


def fastest(runs: list[dict]) -> dict:
    """The run with the least wall time; its peak memory is the highest of all runs."""
    best = min(runs, key=lambda run: run["seconds"])
    return {
        **best,
        "peak_mb": max(run["peak_mb"] for run in runs),
        "all_seconds": [run["seconds"] for run in runs],
    }


def _cpu_seconds() -> float:
    """CPU time of this process (all threads): less disturbed than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def in_child(case: str, what: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", case, what],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_case(case: str, rows: int, repeat: int) -> dict:
    """Baseline and ingestion of one case, alternating; the figures printed and returned."""
    _, target, reader = CASES[case]
    if not is_generated(case, rows):
        print(f"generating {rows:,} rows into {DATA_DIR / f'ingest-{case}'} ...", flush=True)
        generate(case, rows)
    path = DATA_DIR / f"ingest-{case}" / f"cases.{case}"
    runs = {"baseline": [], "ingest": []}
    for _ in range(repeat):
        for what, found in runs.items():
            found.append(in_child(case, what))
    baseline, ingest = fastest(runs["baseline"]), fastest(runs["ingest"])
    ratio = ingest["seconds"] / baseline["seconds"]
    with_fixed = (ingest["seconds"] + ingest["fixed_seconds"]) / baseline["seconds"]
    cpu_ratio = ingest["cpu_seconds"] / baseline["cpu_seconds"]
    print(f"== {case}: {path} ({path.stat().st_size / 2**20:.0f} MiB, {ingest['rows']:,} rows)")
    for name, run in ((reader, baseline), ("ctlib load_project_data", ingest)):
        print(
            f"{name:38} {run['seconds']:6.2f} s   cpu {run['cpu_seconds']:5.2f} s   "
            f"peak {run['peak_mb']:6.0f} MB"
        )
    print(f"  all runs (s): baseline {baseline['all_seconds']}, ingest {ingest['all_seconds']}")
    print(
        f"  + first project.yaml/catalogue {ingest['fixed_seconds']:6.2f} s"
        "   (once per process, any data size)"
    )
    print(
        f"ratio {ratio:.2f} (target <= {target:g}; {with_fixed:.2f} with the first catalogue "
        f"load); peak {ingest['peak_mb']:.0f} MB (target <= {TARGET_PEAK_MB}); "
        f"cpu-time ratio {cpu_ratio:.2f}",
        flush=True,
    )
    return {
        "rows": ingest["rows"],
        "repeat": repeat,
        "baseline": reader,
        "baseline_seconds": baseline["seconds"],
        "ingest_seconds": ingest["seconds"],
        "baseline_cpu_seconds": baseline["cpu_seconds"],
        "ingest_cpu_seconds": ingest["cpu_seconds"],
        "fixed_seconds": ingest["fixed_seconds"],
        "ratio": round(ratio, 2),
        "target_ratio": target,
        "ratio_with_fixed": round(with_fixed, 2),
        "cpu_ratio": round(cpu_ratio, 2),
        "baseline_peak_mb": baseline["peak_mb"],
        "peak_memory_mb": ingest["peak_mb"],
        "meets_target": ratio <= target and ingest["peak_mb"] <= TARGET_PEAK_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--rows", type=int, help="rows of the file (default: the case's own)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternating runs of each; the fastest counts"
    )
    parser.add_argument("--measure", nargs=2, metavar=("CASE", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    cases = list(CASES) if args.case == "all" else [args.case]
    figures = {case: run_case(case, args.rows or CASES[case][0], args.repeat) for case in cases}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
