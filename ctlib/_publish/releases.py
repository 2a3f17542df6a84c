"""Donor releases of a project: record, approve, revise and list them (`ctlib release`).

Each function opens the project's ledger (`_data.ledger.ledger_url`: the `ledger` argument, else
CTLIB_LEDGER_URL, else project.yaml's `releases.database`, else `<project>/.ctlib/releases.sqlite`)
and works inside one transaction with the project locked, so what it reads of earlier releases is
what it records against.

- `record(project_dir, period)`: compute the period's results (every reporting period up to it and
  life of project to date), make them a donor release (`_compute.releases.for_donors`: locked
  figures, drafts, protection consistent with every earlier release) and record it;
- `approve(project_dir, period, by)`: lock the period's figures as its latest release showed them;
- `revise(project_dir, period, note, by)`: publish the period again from today's data, approved,
  with a note; every later release lists the changes (`revisions`);
- `listing(project_dir)`: the releases, newest last.
"""

from __future__ import annotations

import contextlib
import getpass
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import __version__
from .._compute.engine import Results, compute
from .._compute.periods import ReportingCalendar
from .._compute.releases import Protection, for_donors
from .._compute.targets import status_bands
from .._data.ingest import load_project_data
from .._data.ledger import Ledger, LedgerError, Release, ledger_url
from .._data.project_data import ProjectData
from .._data.project_model import LIFE_OF_PROJECT
from .._errors import CtlibError
from .report_sections import input_hashes


@dataclass
class Recorded:
    """A release just recorded: its id and what it shows."""

    release_id: int
    period: str
    results: Results


def open_ledger(project_dir: Path | str, data: ProjectData, option: str | None = None) -> Ledger:
    return Ledger(ledger_url(project_dir, data.project.releases.database, option))


def protection(data: ProjectData, min_cell_size: int | None = None) -> Protection:
    privacy = data.project.privacy
    return Protection(min_cell_size or privacy.min_cell_size, privacy.policy, privacy.rounding_base)


def period_labels(data: ProjectData, period: str) -> list[str]:
    """The reporting periods a release of `period` shows (up to it); `latest` resolved."""
    calendar = ReportingCalendar(data.project)
    chosen = calendar.latest(data) if period == "latest" else calendar.parse(period)
    if chosen.label == LIFE_OF_PROJECT:
        raise CtlibError("a release is of a period such as 2026-Q2, not of life_of_project")
    return [p.label for p in calendar.periods(chosen.kind) if p.end_date <= chosen.end_date]


def donor_results(data: ProjectData, labels: list[str], history: pd.DataFrame, secret, k=None):
    """Fresh results for `labels` as a donor release shows them, knowing `history`."""
    return for_donors(
        compute(data, periods=labels),
        history,
        protection(data, k),
        secret,
        status_bands(data.project),
    )


def record(
    project_dir: Path | str,
    period: str = "latest",
    approve_by: str | None = None,
    ledger: str | None = None,
    min_cell_size: int | None = None,
) -> Recorded:
    """Compute, protect and record a donor release of `period` (approved when `approve_by`)."""
    data = load_project_data(project_dir)
    labels = period_labels(data, period)
    opened = open_ledger(project_dir, data, ledger)
    try:
        with opened.recording(data.project_id) as recording:
            results = donor_results(
                data, labels, recording.cells(), recording.secret(), min_cell_size
            )
            release = _release(data, labels[-1], results, min_cell_size, approved_by=approve_by)
            release_id = recording.record(release, results.table)
    finally:
        opened.close()
    return Recorded(release_id, labels[-1], results)


def _release(
    data: ProjectData, label: str, results: Results, k: int | None = None, **extra
) -> Release:
    """What to record of a release of `label`; approved now, its own cells are no draft."""
    period = next(p for p in results.periods if p.label == label)
    if extra.get("approved_by"):
        table = results.table
        own = table["period_end_date"] == pd.Timestamp(period.end_date)
        table.loc[own, "is_draft"] = False
    return Release(
        project_id=data.project_id,
        period=label,
        period_start_date=period.start_date,
        period_end_date=period.end_date,
        ctlib_version=__version__,
        catalogue_version=data.catalogue.version,
        input_hashes=input_hashes(data),
        min_cell_size=protection(data, k).min_cell_size,
        policy=data.project.privacy.policy,
        **extra,
    )


def approve(
    project_dir: Path | str, period: str, by: str | None = None, ledger: str | None = None
) -> int:
    """Approve the latest donor release of `period`, locking its figures; its id."""
    data = load_project_data(project_dir)
    label = period_labels(data, period)[-1]
    with _recording(project_dir, data, ledger) as recording:
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
                f'to change its figures: ctlib release revise {project_dir} --period {label} --note "why"'
            )
        release_id = int(mine["release_id"].iloc[-1])
        recording.approve(release_id, by or _who())
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
    labels = period_labels(data, period)
    with _recording(project_dir, data, ledger) as recording:
        history = recording.cells()
        standing = history[
            (history["release_period"] == labels[-1]) & history["approved_at"].notna()
        ]
        if standing.empty:
            raise CtlibError(
                f"{labels[-1]} is not approved: nothing to revise (`ctlib release approve` locks it)"
            )
        lifted = history.copy()  # the period's figures stay known, but no longer locked
        lifted.loc[lifted["release_period"] == labels[-1], "approved_at"] = pd.NaT
        results = donor_results(data, labels, lifted, recording.secret())
        release = _release(
            data,
            labels[-1],
            results,
            kind="revision",
            approved_by=by or _who(),
            note=note.strip(),
            revises=int(standing["release_id"].max()),
        )
        release_id = recording.record(release, results.table)
    return Recorded(release_id, labels[-1], results)


def listing(project_dir: Path | str, ledger: str | None = None) -> pd.DataFrame:
    """The project's releases, oldest first: id, period, kind, audience, when, approval, hidden
    cells by reason, note."""
    data = load_project_data(project_dir)
    opened = open_ledger(project_dir, data, ledger)
    try:
        releases = opened.releases(data.project_id)
        cells = opened.cells(data.project_id)
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


@contextlib.contextmanager
def _recording(project_dir, data: ProjectData, ledger: str | None):
    opened = open_ledger(project_dir, data, ledger)
    try:
        with opened.recording(data.project_id) as recording:
            yield recording
    finally:
        opened.close()


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError) as error:
        raise LedgerError("say who approves with --by NAME") from error
