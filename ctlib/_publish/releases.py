"""Donor releases of a project: made by reports, approved, revised, listed, and read back by the
pages that show them instead of computing (the dashboard, `ctlib results`, IATI).

Each function opens the project's ledger (`_data.ledger.ledger_url`: the `ledger` argument, else
CTLIB_LEDGER_URL, else project.yaml's `releases.database`, else `<project>/.ctlib/releases.sqlite`).
A release of a period shows every reporting period up to it, each (fiscal) year to date and life
of project to date (`release_periods`), made a donor release by `_compute.releases.for_donors`
(locked figures, drafts, protection consistent with every earlier release).

A report's release is made in two steps, since the notebook's kernel computes the report and the
runner publishes it:
- `draft(data, period)`, in the kernel: the release worked out against the ledger as it is, with
  the ledger's state it was worked out against (`Draft`), written beside the report's files
  (`write_draft`);
- `commit(project_dir, path)`, in the runner once every file of the report is built: recorded in
  one transaction with the project locked, refused when another release or approval was recorded
  meanwhile (its suppression would not know it). The report is published after that: the ledger is
  never behind what donors were shown. When publishing fails, `withdraw` removes the release again;
  a release left in the ledger that was never published only makes later releases more cautious.

- `record(project_dir, period)`: compute and record a release in one transaction (no report);
- `approve(project_dir, period, by)`: lock the period's figures as its latest release showed them;
- `revise(project_dir, period, note, by)`: publish the period again from today's data, approved,
  with a note; every later release lists the changes (`revisions`);
- `published(project_dir, project, period)`: what donors have been shown (`released`);
- `listing(project_dir)`: the releases, newest last.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import __version__
from .._compute.engine import Results, compute
from .._compute.periods import ReportingCalendar
from .._compute.releases import Protection, for_donors, released, revisions
from .._compute.targets import status_bands
from .._data.ingest import load_project_data
from .._data.ledger import (
    CELL_COLUMNS,
    DATE_COLUMNS,
    Ledger,
    LedgerError,
    Release,
    is_absent,
    ledger_url,
    no_history,
    state_text,
)
from .._data.project import load_project_file
from .._data.project_data import ProjectData
from .._data.project_model import LIFE_OF_PROJECT, Project
from .._errors import CtlibError
from .environment import input_hashes

RELEASE_FILE = "release.json"  # a report's draft release, beside its files until it is recorded


@dataclass
class Recorded:
    """A release just recorded: its id and what it shows."""

    release_id: int
    period: str
    results: Results


@dataclass
class Draft:
    """A release worked out against the ledger in `based_on` state, not recorded yet."""

    results: Results
    release: Release
    based_on: str


def open_ledger(project_dir: Path | str, project: Project, option: str | None = None) -> Ledger:
    return Ledger(ledger_url(project_dir, project.releases.database, option))


def protection(data: ProjectData, min_cell_size: int | None = None) -> Protection:
    privacy = data.project.privacy
    return Protection(min_cell_size or privacy.min_cell_size, privacy.policy, privacy.rounding_base)


def release_periods(data: ProjectData, period: str) -> list[str]:
    """The periods a release of `period` shows: the reporting periods up to it (`period`, with
    `latest` resolved, last), then each (fiscal) year to date. CtlibError for life of project."""
    calendar = ReportingCalendar(data.project)
    chosen = calendar.latest(data) if period == "latest" else calendar.parse(period)
    if chosen.label == LIFE_OF_PROJECT:
        raise CtlibError(
            "a report or release is of a period such as 2026-Q2, not of life_of_project "
            "(life of project to date is in every one)"
        )
    labels = [p.label for p in calendar.periods(chosen.kind) if p.end_date <= chosen.end_date]
    if chosen.kind != "year":  # and each (fiscal) year to date: the year of the release is partial
        labels += [p.label for p in calendar.periods("year") if p.start_date <= chosen.end_date]
    return labels


def draft(
    data: ProjectData,
    period: str,
    approved_by: str | None = None,
    ledger: str | None = None,
    min_cell_size: int | None = None,
) -> Draft:
    """The donor release of `period` (approved by `approved_by` when given), worked out against
    every release the ledger holds now."""
    labels = release_periods(data, period)
    is_rounded = data.project.privacy.policy == "rounding"  # its secret is made with the ledger
    url = ledger_url(data.directory, data.project.releases.database, ledger)
    if not is_rounded and is_absent(url):
        based_on, history, secret = state_text(0, 0), no_history(), None  # made when recorded
    else:
        opened = open_ledger(data.directory, data.project, ledger)
        try:
            based_on = opened.state(data.project_id)  # before the cells: a release in between
            history = opened.cells(data.project_id)  # is then seen by `commit`
            secret = opened.project_secret(data.project_id) if is_rounded else None
        finally:
            opened.close()
    results, release = _donor_release(data, labels, history, secret, min_cell_size, approved_by)
    return Draft(results, release, based_on)


def write_draft(found: Draft, path: Path) -> None:
    """The draft's release and cells as JSON (no figure of a hidden cell: they are NaN already)."""
    cells = found.results.table.reindex(columns=[*CELL_COLUMNS, "suppressed"])
    for column in DATE_COLUMNS:
        cells[column] = pd.to_datetime(cells[column]).dt.strftime("%Y-%m-%d")
    names = list(cells.columns)
    values = [cells[c].to_numpy(dtype=object, na_value=None).tolist() for c in names]
    document = {
        "based_on": found.based_on,
        "release": dataclasses.asdict(found.release),
        "cells": [dict(zip(names, row)) for row in zip(*values)],
    }
    path.write_text(json.dumps(document, default=_iso_date) + "\n", encoding="utf-8")


def _iso_date(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def read_draft(path: Path) -> tuple[Release, pd.DataFrame, str]:
    """(release, its cells, the ledger state it was worked out against) from `write_draft`."""
    document = json.loads(path.read_text(encoding="utf-8"))
    fields = document["release"]
    for name in ("period_start_date", "period_end_date"):
        fields[name] = dt.date.fromisoformat(fields[name])
    cells = pd.DataFrame(document["cells"], columns=[*CELL_COLUMNS, "suppressed"])
    for column in DATE_COLUMNS:
        cells[column] = pd.to_datetime(cells[column])
    return Release(**fields), cells, document["based_on"]


def commit(
    project_dir: Path | str, path: Path, ledger: str | None = None, project: Project | None = None
) -> tuple[int, str]:
    """Record the draft release at `path` (`write_draft`): its id and the ledger's state with it.
    LedgerError, recording nothing, when the ledger changed since the draft was worked out.
    `project`: project.yaml as the report run read it (else read now)."""
    release, cells, based_on = read_draft(path)
    project = project or load_project_file(project_dir, with_data_files=False).project
    with _recording(project_dir, project, ledger) as recording:
        now = recording.state()
        if now != based_on:
            raise LedgerError(
                f"the release ledger changed while this report ran ({based_on}, now {now}): "
                "another report or approval of the project was recorded meanwhile; run the "
                "report again"
            )
        release_id = recording.record(release, cells)
        return release_id, recording.state()


def withdraw(project_dir: Path | str, release_id: int, ledger: str | None = None) -> None:
    """Remove a recorded release that could not be published."""
    project = load_project_file(project_dir, with_data_files=False).project
    opened = open_ledger(project_dir, project, ledger)
    try:
        opened.withdraw(release_id, project.project.id)
    finally:
        opened.close()


def ledger_state(project_dir: Path | str, ledger: str | None = None) -> str:
    """The project's releases and approvals so far, in a few words (`Ledger.state`)."""
    project = load_project_file(project_dir, with_data_files=False).project
    if is_absent(ledger_url(project_dir, project.releases.database, ledger)):
        return state_text(0, 0)
    opened = open_ledger(project_dir, project, ledger)
    try:
        return opened.state(project.project.id)
    finally:
        opened.close()


def record(
    project_dir: Path | str,
    period: str = "latest",
    approve_by: str | None = None,
    ledger: str | None = None,
    min_cell_size: int | None = None,
) -> Recorded:
    """Compute, protect and record a donor release of `period` (approved when `approve_by`), in
    one transaction: what a report records, without the report."""
    data = load_project_data(project_dir)
    labels = release_periods(data, period)
    with _recording(project_dir, data.project, ledger) as recording:
        results, release = _donor_release(
            data, labels, recording.cells(), recording.secret(), min_cell_size, approve_by
        )
        release_id = recording.record(release, results.table)
    return Recorded(release_id, release.period, results)


def _donor_release(
    data: ProjectData,
    labels: list[str],
    history: pd.DataFrame,
    secret: str | None,
    min_cell_size: int | None,
    approved_by: str | None,
    **extra,
) -> tuple[Results, Release]:
    """Fresh results of `labels` as a donor release shows them, knowing `history`, and what to
    record of the release (approved now: its own cells are no draft)."""
    label = release_period(data, labels)
    approved = history[history["approved_at"].notna() & (history["release_period"] == label)]
    if approved_by and not approved.empty and extra.get("kind") != "revision":
        last = approved.iloc[-1]
        raise CtlibError(
            f"{label} was approved on {last.approved_at:%d %b %Y} by {last.approved_by}: its "
            f"figures stand; to change them: ctlib release revise {data.directory.name} --period "
            f'{label} --note "why"'
        )
    results = for_donors(
        compute(data, periods=labels),
        history,
        protection(data, min_cell_size),
        secret,
        status_bands(data.project),
    )
    period = next(p for p in results.periods if p.label == label)
    if approved_by:
        own = results.table["period_end_date"] == pd.Timestamp(period.end_date)
        results.table.loc[own, "is_draft"] = False
    release = Release(
        project_id=data.project_id,
        period=period.label,
        period_start_date=period.start_date,
        period_end_date=period.end_date,
        ctlib_version=__version__,
        catalogue_version=data.catalogue.version,
        input_hashes=input_hashes(data),
        min_cell_size=protection(data, min_cell_size).min_cell_size,
        policy=data.project.privacy.policy,
        approved_by=approved_by,
        **extra,
    )
    return results, release


def approve(
    project_dir: Path | str, period: str, by: str | None = None, ledger: str | None = None
) -> int:
    """Approve the latest donor release of `period`, locking its figures; its id."""
    project = load_project_file(project_dir, with_data_files=False).project
    label = ReportingCalendar(project).parse(period).label
    with _recording(project_dir, project, ledger) as recording:
        releases = recording.releases()
        mine = releases[(releases["period"] == label) & (releases["audience"] == "donor")]
        if mine.empty:
            raise CtlibError(
                f"no donor release of {label} yet: run `ctlib report {project_dir} --period "
                f"{label}` first (or with --approve)"
            )
        approved = mine[mine["approved_at"].notna()]
        if not approved.empty:
            last = approved.iloc[-1]
            raise CtlibError(
                f"{label} was approved on {last.approved_at:%d %b %Y} by {last.approved_by}; "
                f"to change its figures: ctlib release revise {project_dir} "
                f'--period {label} --note "why"'
            )
        release_id = int(mine["release_id"].iloc[-1])
        recording.approve(release_id, by or who())
    return release_id


def revise(
    project_dir: Path | str,
    period: str,
    note: str,
    by: str | None = None,
    ledger: str | None = None,
) -> Recorded:
    """Publish `period` again from today's data, approved, with `note`; later releases list the
    changes in their revisions annex."""
    if not note.strip():
        raise CtlibError("a revision needs a note saying why the figures change (--note)")
    data = load_project_data(project_dir)
    labels = release_periods(data, period)
    label = release_period(data, labels)
    with _recording(project_dir, data.project, ledger) as recording:
        history = recording.cells()
        standing = history[(history["release_period"] == label) & history["approved_at"].notna()]
        if standing.empty:
            raise CtlibError(
                f"{label} is not approved: nothing to revise (`ctlib release approve` locks it)"
            )
        lifted = history.copy()  # the period's figures stay known, but no longer locked
        lifted.loc[lifted["release_period"] == label, "approved_at"] = pd.NaT
        results, release = _donor_release(
            data,
            labels,
            lifted,
            recording.secret(),
            None,
            by or who(),
            kind="revision",
            note=note.strip(),
            revises=int(standing["release_id"].max()),
        )
        release_id = recording.record(release, results.table)
        results.release.revisions = revisions(recording.cells())  # this one's too
    return Recorded(release_id, label, results)


def published(
    project_dir: Path | str,
    project: Project | None = None,
    period: str = "latest",
    ledger: str | None = None,
) -> Results | None:
    """What donors have been shown of the project as it stands (`_compute.releases.released`):
    from the latest release of `period` (`latest`: of the last period released); None before
    the first one. Reads project.yaml (when `project` is not given) and the ledger, nothing else."""
    project = project or load_project_file(project_dir, with_data_files=False).project
    end = None if period == "latest" else ReportingCalendar(project).parse(period).end_date
    if is_absent(ledger_url(project_dir, project.releases.database, ledger)):
        return None  # nothing was ever recorded: the ledger is not made by reading it
    opened = open_ledger(project_dir, project, ledger)
    try:
        history = opened.cells(project.project.id)
    finally:
        opened.close()
    return released(project.project.id, history, end)


def listing(project_dir: Path | str, ledger: str | None = None) -> pd.DataFrame:
    """The project's releases, oldest first: id, period, kind, audience, when, approval, hidden
    cells by reason, note."""
    project = load_project_file(project_dir, with_data_files=False).project
    opened = open_ledger(project_dir, project, ledger)
    try:
        releases = opened.releases(project.project.id)
        cells = opened.cells(project.project.id)
    finally:
        opened.close()
    reasons = (
        cells.groupby(["release_id", "suppression"]).size().unstack(fill_value=0)
        if len(cells)
        else pd.DataFrame()
    )
    columns = ["release_id", "period", "kind", "released_at", "approved_by", "approved_at", "note"]
    table = releases[columns].copy()
    for reason in ("primary", "complementary", "source"):
        hidden = reasons[reason] if reason in reasons else pd.Series(dtype=int)
        table[f"hidden_{reason}"] = table["release_id"].map(hidden).fillna(0).astype(int)
    return table.reset_index(drop=True)


def release_period(data: ProjectData, labels: list[str]) -> str:
    """The period a release of `labels` (`release_periods`) is of: the last of its kind listed."""
    calendar = ReportingCalendar(data.project)
    kind = calendar.parse(labels[0]).kind
    return [label for label in labels if calendar.parse(label).kind == kind][-1]


@contextlib.contextmanager
def _recording(project_dir, project: Project, ledger: str | None):
    opened = open_ledger(project_dir, project, ledger)
    try:
        with opened.recording(project.project.id) as recording:
            yield recording
    finally:
        opened.close()


def who() -> str:
    """Who approves when no name is given: the user's login name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError) as error:
        raise LedgerError("say who approves with --by NAME") from error
