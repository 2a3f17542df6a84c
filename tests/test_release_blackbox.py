"""Black-box checks of donor reports on every sample project, from the outside: `ctlib report` runs
for the project's last four quarters in order (the first approved with `--approve`), as a team
would run them, and only the published files are then read.

- No hidden count comes back: every pair of published figures of the four reports' indicators.csv
  (life of project now minus before, a year to date minus a quarter, a total minus a category) is
  subtracted, again and again while that tells something new, and nothing hidden that is not zero
  is recovered (the true figures, computed here, say what a derived figure would give away).
- No file of a donor report (report.html, report.ipynb, indicators.csv, iptt.xlsx, manifest.json)
  holds an identifier of the data, a path of this machine or a date a data problem quotes (one
  victim of the justice sample is dated before the project began: a warning quoting its date).

The twenty reports run once for the module, two at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CTLIB, NO_LEDGER, REPO, SAMPLE_DIR

from ctlib._compute.engine import compute
from ctlib._compute.periods import ReportingCalendar
from ctlib._compute.quality import check_quality
from ctlib._compute.targets import missing_explanations
from ctlib._data.ingest import load_project_data
from ctlib._publish.releases import release_periods

pytestmark = pytest.mark.notebook
SAMPLES = sorted(p.name for p in SAMPLE_DIR.iterdir() if (p / "project.yaml").is_file())
QUARTERS = 4
EARLY_CASE = (
    "justice_for_survivors",
    "victims.csv",
    "V-000001,2023-03-15,",
    "V-000001,2022-11-17,",
)
SPAN = ["indicator_id", "period_start_date", "period_end_date", "dimension", "category"]
COUNTS = ("count", "count_distinct", "sum", "reported")  # measures whose value is a count
REPORT_FILES = ("indicators.csv", "iptt.xlsx", "manifest.json", "report.html", "report.ipynb")


def last_quarters(project_dir: Path, n: int = QUARTERS) -> list[str]:
    data = load_project_data(project_dir)
    calendar = ReportingCalendar(data.project)
    latest = calendar.latest(data)
    return [p.label for p in calendar.periods() if p.end_date <= latest.end_date][-n:]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, list[Path]]:
    """Per sample (a copy), the folders of its four donor reports, in order."""
    data_dir, out_dir = tmp_path_factory.mktemp("samples"), tmp_path_factory.mktemp("reports")
    chains = {}
    for name in SAMPLES:
        shutil.copytree(SAMPLE_DIR / name, data_dir / name, ignore=NO_LEDGER)
    project, file, old, new = EARLY_CASE
    cases = data_dir / project / file
    assert old in cases.read_text()
    cases.write_text(cases.read_text().replace(old, new, 1))
    for name in SAMPLES:
        chains[name] = last_quarters(data_dir / name)
    env = {k: v for k, v in os.environ.items() if k != "CTLIB_LEDGER_URL"}

    def run_chain(name: str) -> None:
        for n, label in enumerate(chains[name]):
            approve = ["--approve", "--by", "M&E officer"] if n == 0 else []
            command = [CTLIB, "report", data_dir / name, "--period", label, "--out", out_dir]
            done = subprocess.run(
                [str(c) for c in [*command, *approve]], capture_output=True, text=True, env=env
            )
            assert done.returncode == 0, f"{name} {label}: {done.stderr}"

    with ThreadPoolExecutor(2) as pool:  # the machine's two cores, a kernel each
        list(pool.map(run_chain, SAMPLES))
    return {
        "data_dir": data_dir,
        "out_dir": out_dir,
        **{name: [out_dir / name / label for label in chains[name]] for name in SAMPLES},
    }


# -- the attack --------------------------------------------------------------------------------
def published_files(folders: list[Path]) -> list[pd.DataFrame]:
    tables = []
    for folder in folders:
        table = pd.read_csv(folder / "indicators.csv", keep_default_na=False, na_values=[""])
        for column in ("period_start_date", "period_end_date"):
            table[column] = pd.to_datetime(table[column]).dt.date
        tables.append(table)
    return tables


def additive(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose value is an exact count of people or cases that adds up over the categories
    of its breakdown (one category per person); `is_summed`: over periods too (a flow)."""
    keep = (
        table["unit"].eq("count")
        & table["measure"].isin(COUNTS)
        & table["counts"].isin(["people", "cases"])
        & ~table["has_overlapping_categories"].astype(bool)
        & table["value_state"].isna()
    )
    return table[keep].assign(is_summed=table["rollup"].eq("sum"))


def relations(cells: set[tuple], summed: set[tuple]) -> list[tuple[tuple, list[tuple]]]:
    """(whole, parts) that the arithmetic of counts gives among `cells` (SPAN keys): a total and
    its categories; among the `summed` ones (flows), for every pair of cells of one group whose
    periods nest and share a start or an end, the longer one as the shorter one plus the cell of
    the difference (when published or hidden), and a period as the quarters that tile it."""
    found = []
    by_period = defaultdict(lambda: defaultdict(list))
    by_group = defaultdict(list)
    for cell in cells:
        if cell[3] != "total":
            by_period[cell[:3]][cell[3]].append(cell)
        if cell in summed:
            by_group[(cell[0], cell[3], cell[4])].append(cell)
    for period, dimensions in by_period.items():
        total = (*period, "total", "total")
        if total in cells:
            found += [(total, parts) for parts in dimensions.values()]
    day = dt.timedelta(days=1)
    for (indicator, dimension, category), members in by_group.items():
        spans = {(c[1], c[2]) for c in members}
        for start, end in spans:
            for other_start, other_end in spans:
                if (start, end) == (other_start, other_end):
                    continue
                if start == other_start and other_end < end:
                    rest = (other_end + day, end)
                elif end == other_end and other_start > start:
                    rest = (start, other_start - day)
                else:
                    continue
                if rest in spans:
                    whole = (indicator, start, end, dimension, category)
                    part = (indicator, other_start, other_end, dimension, category)
                    found.append((whole, [part, (indicator, *rest, dimension, category)]))
        quarters = sorted(c for c in members if (c[2] - c[1]).days < 93)
        for whole in members:
            parts = [q for q in quarters if q != whole and whole[1] <= q[1] and q[2] <= whole[2]]
            days = sum((q[2] - q[1]).days + 1 for q in parts)
            if len(parts) > 1 and days == (whole[2] - whole[1]).days + 1:
                found.append((whole, parts))
    return found


def recovered(tables: list[pd.DataFrame]) -> dict[tuple, float]:
    """What repeated subtraction works out of the hidden cells of all the tables together."""
    known, hidden, summed = {}, set(), set()
    for table in map(additive, tables):
        for row in table.itertuples():
            cell = tuple(getattr(row, c) for c in SPAN)
            if row.is_summed:
                summed.add(cell)
            if row.suppressed:
                hidden.add(cell)
            else:
                known[cell] = float(row.value)
    hidden -= set(known)  # published in another release (a changed figure): known
    found, progress = {}, True
    arithmetic = relations(set(known) | hidden, summed)
    while progress:
        progress = False
        for whole, parts in arithmetic:
            members = [whole, *parts]
            unknown = [m for m in members if m not in known and m not in found]
            if len(unknown) != 1:
                continue
            value = {**known, **found}
            cell = unknown[0]
            if cell == whole:
                found[cell] = sum(value[p] for p in parts)
            else:
                found[cell] = value[whole] - sum(value[p] for p in parts if p != cell)
            progress = True
    return {cell: figure for cell, figure in found.items() if cell in hidden}


def true_figures(project_dir: Path, labels: list[str]) -> dict[tuple, float]:
    """Every cell the releases of `labels` hold, as computed from the data (internal)."""
    data = load_project_data(project_dir)
    figures = {}
    for label in labels:
        table = compute(data, periods=release_periods(data, label)).table
        for row in table.itertuples():
            cell = (
                row.indicator_id,
                row.period_start_date.date(),
                row.period_end_date.date(),
                row.dimension,
                row.category,
            )
            figures[cell] = float(row.value)
    return figures


@pytest.mark.parametrize("name", SAMPLES)
def test_no_hidden_count_is_recovered_from_the_four_reports(reports, name):
    tables = published_files(reports[name])
    hidden = sum(int(additive(t)["suppressed"].sum()) for t in tables)
    figures = true_figures(reports["data_dir"] / name, [f.name for f in reports[name]])
    worked_out = recovered(tables)
    given_away = {
        cell: figure
        for cell, figure in worked_out.items()
        if np.isclose(figure, figures[cell]) and figures[cell] != 0
    }
    assert given_away == {}, f"{len(given_away)} of {hidden} hidden counts recovered"
    # the approved first quarter stands in the later reports (a category first met later is a
    # draft: it was not approved)
    first = reports[name][0].name
    shown = [
        t[t["period"] == first].set_index(["indicator_id", "dimension", "category"]) for t in tables
    ]
    for later in shown[1:]:
        approved = later.loc[shown[0].index]
        assert not approved["is_draft"].any()
        pd.testing.assert_series_equal(approved["value"], shown[0]["value"], check_names=False)


def test_the_subtraction_finds_what_reports_suppressed_alone_give_away(reports):
    """The attack works: on the four quarters' results suppressed each on its own (what the
    reports did before releases), it recovers hidden counts of coast_outreach's tally sheets."""
    from ctlib._compute.privacy import suppress

    project_dir = reports["data_dir"] / "coast_outreach"
    data = load_project_data(project_dir)
    labels = [f.name for f in reports["coast_outreach"]]
    alone = []
    for label in labels:
        k = data.project.privacy.min_cell_size
        table = suppress(compute(data, periods=release_periods(data, label)), k, "donor").table
        alone.append(
            table.assign(
                period_start_date=table["period_start_date"].dt.date,
                period_end_date=table["period_end_date"].dt.date,
            )
        )
    figures = true_figures(project_dir, labels)
    worked_out = recovered(alone)
    assert sum(np.isclose(v, figures[c]) and figures[c] != 0 for c, v in worked_out.items()) > 5


# -- what no donor file holds ------------------------------------------------------------------
def file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(n).decode("utf-8") for n in book.namelist())
    return path.read_text(encoding="utf-8")


def identifiers(project_dir: Path) -> set[str]:
    """Every identifier of the project's records (case, person, activity, ... ids)."""
    tables = load_project_data(project_dir).tables
    return {
        str(value)
        for frame in tables.values()
        for column in frame.columns
        if column.endswith("_id") and column not in ("indicator_id", "project_id")
        for value in frame[column].dropna().unique()
    }


def problem_dates(project_dir: Path, labels: list[str]) -> set[str]:
    """The dates the project's data problems quote (ISO and as reports write dates), but not the
    periods' own first and last days, which every report shows."""
    data = load_project_data(project_dir)
    results = compute(data, periods=release_periods(data, labels[-1]))
    problems = [
        *data.warnings,
        *check_quality(data).problems,
        *missing_explanations(results, data.project),
        *results.problems,
    ]
    said = " ".join(f"{p} {p.value}" for p in problems)
    calendar = ReportingCalendar(data.project)
    boundaries = {d for p in calendar.periods() for d in (p.start_date, p.end_date)}
    boundaries |= {data.project.project.start_date, data.project.project.end_date}
    dates = set()
    for text in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", said):
        day = dt.date.fromisoformat(text)
        if day not in boundaries:
            dates |= {text, f"{day:%d %b %Y}"}
    return dates


def test_no_donor_file_holds_an_identifier_a_path_or_a_problems_date(reports):
    paths = {str(reports["data_dir"]), str(reports["out_dir"]), str(REPO), sys.prefix, "/tmp/"}
    checked = {"ids": 0, "dates": set()}
    for name in SAMPLES:
        ids = identifiers(reports["data_dir"] / name)
        dates = problem_dates(reports["data_dir"] / name, [f.name for f in reports[name]])
        checked["ids"] += len(ids)
        checked["dates"] |= dates
        for folder in reports[name]:
            assert sorted(p.name for p in folder.iterdir()) == list(REPORT_FILES)
            for file in REPORT_FILES:
                text = file_text(folder / file)
                words = set(re.split(r"[^\w-]+", text))  # an identifier is a word of its own
                assert not words & ids, f"{folder.name}/{file}: {sorted(words & ids)[:3]}"
                assert not [d for d in dates if d in text], f"{folder.name}/{file}"
                assert not [p for p in paths if p in text], f"{folder.name}/{file}"
    assert checked["ids"] > 5000 and {"2022-11-17", "17 Nov 2022"} <= checked["dates"]
