"""Donor releases: approved figures that stand, drafts, revisions, and protection across releases.

`for_donors(results, history, ...)` turns freshly computed results into what a new donor release
shows, given every earlier donor release of the project (`history`: the ledger's cells,
`Ledger.cells`):

- locked figures: the cells of an approved period (the period itself and whatever else ends with it,
  such as life of project to its end) show what its latest approved release published, whatever
  the data say now; a revision is an approved release too, so a revised period shows the revision;
- drafts: every other row is a draft (`is_draft`), to be labelled as such;
- protection, the project's policy: suppression consistent with every earlier release
  (`privacy.suppress` with `known_cells(history)`), or fixed random rounding
  (`rounding.round_counts`, keyed by the project's secret so that a figure rounds the same way in
  every release). A project keeps the policy of its first release: mixing them would let the
  exact figures of one give away the other's.

`revisions(history)` lists, for the "Revisions to earlier periods" annex, every cell a revision
changed: old and new figures (or hidden), the note and the date.

`released(project_id, history)` is what donors have been shown, as it stands, for the pages that
show releases instead of computing (the dashboard, `ctlib results`, IATI): the cells of the latest
release of the last period released, each approved period's standing figures in place (those of
a revision recorded later), `is_draft` where no approval locks a cell and `revision_note` where a
revision changed it. Every figure comes from a release, so showing them tells nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import CtlibError
from .engine import RESULT_COLUMNS, Results
from .periods import Period
from .privacy import known_cells, suppress
from .relations import CELL_KEY, cell_positions
from .rounding import round_counts

POLICIES = ("suppression", "rounding")
KIND_ORDER = {
    "quarter": 0,
    "semester": 1,
    "year": 2,
    "life_of_project": 3,
}  # same end: shorter first
LOCKED_COLUMNS = [
    "numerator",
    "denominator",
    "value",
    "baseline",
    "target",
    "achievement",
    "status",
    "suppression",
]
REVISION_COLUMNS = [
    "period",
    "period_start_date",
    "period_end_date",
    "period_kind",
    "indicator_id",
    "dimension",
    "category",
    "old_value",
    "new_value",
    "old_suppression",
    "new_suppression",
    "note",
    "revised_at",
]


@dataclass(frozen=True)
class Protection:
    """How a project protects small counts in donor releases (project.yaml `privacy`)."""

    min_cell_size: int
    policy: str = "suppression"
    rounding_base: int = 3


@dataclass
class ReleaseState:
    """What a donor release knows of the ledger, for the pages that show it."""

    policy: str
    rounding_base: int | None
    approved: pd.DataFrame  # period, release_id, approved_by, approved_at, kind
    revisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REVISION_COLUMNS))
    period: str = ""  # of the release shown (`released`)
    release_id: int | None = None  # the release shown


def for_donors(
    results: Results,
    history: pd.DataFrame,
    protection: Protection,
    secret: str | None = None,
    bands_of: dict[str, tuple[float, float]] | None = None,
) -> Results:
    """`results` as a new donor release shows them (module docstring)."""
    earlier_policy = set(history["policy"]) if "policy" in history else set()
    if earlier_policy - {protection.policy}:
        raise CtlibError(
            f"the project's donor releases so far used {', '.join(sorted(earlier_policy))}; "
            f"it cannot switch to {protection.policy} (the figures of one would give away the "
            "other's): set privacy.policy back in project.yaml"
        )
    table, is_locked, locked_reasons = _with_locks(results.table, locked_cells(history))
    if protection.policy == "rounding":
        if secret is None:
            raise CtlibError("rounding needs the project's secret from the release ledger")
        protected = round_counts(
            table,
            protection.rounding_base,
            secret,
            protection.min_cell_size,
            bands_of or {},
        )
        problems = results.problems
    else:
        suppressed = suppress(
            dataclasses.replace(results, table=table),
            protection.min_cell_size,
            "donor",
            earlier=known_cells(history) if len(history) else None,
        )
        protected, problems = suppressed.table, suppressed.problems
    keep = (
        is_locked & protected["suppressed"].to_numpy(dtype=bool) & locked_reasons.notna().to_numpy()
    )
    protected.loc[keep, "suppression"] = locked_reasons[keep]
    protected["is_draft"] = ~is_locked
    state = ReleaseState(
        protection.policy,
        protection.rounding_base if protection.policy == "rounding" else None,
        approved_periods(history),
        revisions(history),
    )
    return dataclasses.replace(results, table=protected, problems=problems, release=state)


def locked_cells(history: pd.DataFrame) -> pd.DataFrame:
    """The cells that approved periods lock: per approved period, the cells of its latest approved
    release that end with it."""
    if history.empty:
        return history
    approved = history[history["approved_at"].notna()]
    latest = approved.groupby("release_period", sort=False)["release_id"].transform("max")
    mine = approved[approved["release_id"] == latest]
    return mine[mine["period_end_date"] == mine["release_period_end_date"]]


def _with_locks(table: pd.DataFrame, locked: pd.DataFrame):
    """The table with locked cells' figures in place; (table, is locked, the lock's suppression)."""
    if locked.empty:
        return (
            table,
            np.zeros(len(table), dtype=bool),
            pd.Series(pd.NA, index=table.index, dtype="string"),
        )
    position = cell_positions(table, locked)
    is_locked = position >= 0
    source = locked.iloc[position[is_locked]]
    table = table.copy()
    hidden = source["suppression"].notna().to_numpy()
    for column in LOCKED_COLUMNS[:-1]:
        # a cell hidden in the lock has no stored figures: it keeps today's, to be hidden again
        current = table.loc[is_locked, column].to_numpy()
        table.loc[is_locked, column] = np.where(hidden, current, source[column].to_numpy())
    reasons = pd.Series(pd.NA, index=table.index, dtype="string")
    reasons[is_locked] = source["suppression"].to_numpy()
    return table, is_locked, reasons


def approved_periods(history: pd.DataFrame) -> pd.DataFrame:
    """Per approved period, its standing release:
    period, release_id, kind, approved_by, approved_at."""
    columns = ["period", "release_id", "kind", "approved_by", "approved_at"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    releases = history.drop_duplicates("release_id")
    releases = releases[releases["approved_at"].notna()]
    standing = releases.sort_values("release_id").drop_duplicates("release_period", keep="last")
    return standing.rename(columns={"period": "cell_period", "release_period": "period"})[
        columns
    ].reset_index(drop=True)


def revisions(history: pd.DataFrame) -> pd.DataFrame:
    """Every locked cell a revision changed: its period, key, old and new value (NaN when hidden)
    and suppression, the revision's note and date, oldest first."""
    if history.empty or not (history["kind"] == "revision").any():
        return pd.DataFrame(columns=REVISION_COLUMNS)
    found = []
    own = history[history["period_end_date"] == history["release_period_end_date"]]
    for _, revision in own[own["kind"] == "revision"].groupby("release_id", sort=True):
        before = own[own["release_id"] == revision["revises"].iloc[0]]
        pair = before.merge(revision, on=CELL_KEY, how="outer", suffixes=("_old", "_new"))
        changed = ~np.isclose(
            pair["value_old"].to_numpy(dtype=float),
            pair["value_new"].to_numpy(dtype=float),
            equal_nan=True,
        ) | (pair["suppression_old"].fillna("") != pair["suppression_new"].fillna(""))
        rows = pair[changed]
        found.append(
            pd.DataFrame(
                {
                    "period": rows["period_new"].fillna(rows["period_old"]),
                    "period_start_date": rows["period_start_date"],
                    "period_end_date": rows["period_end_date"],
                    "period_kind": rows["period_kind"],
                    "indicator_id": rows["indicator_id"],
                    "dimension": rows["dimension"],
                    "category": rows["category"],
                    "old_value": rows["value_old"],
                    "new_value": rows["value_new"],
                    "old_suppression": rows["suppression_old"],
                    "new_suppression": rows["suppression_new"],
                    "note": revision["note"].iloc[0],
                    "revised_at": revision["released_at"].iloc[0],
                }
            )
        )
    return pd.concat(found, ignore_index=True)[REVISION_COLUMNS]


def released(
    project_id: str, history: pd.DataFrame, period_end_date: dt.date | None = None
) -> Results | None:
    """What donors have been shown of the project, as it stands (module docstring), from the
    latest release of the last period released (of the period ending on `period_end_date`);
    None before its first release (of that period)."""
    ends = history["release_period_end_date"]
    own = history if period_end_date is None else history[ends == pd.Timestamp(period_end_date)]
    if own.empty:
        return None
    last_end = own["release_period_end_date"].max()
    base_id = own.loc[own["release_period_end_date"] == last_end, "release_id"].max()
    base = history[history["release_id"] == base_id].reset_index(drop=True)
    locked = locked_cells(history)
    position = cell_positions(base, locked)
    is_locked = position >= 0
    standing = locked.iloc[position[is_locked]].set_axis(np.flatnonzero(is_locked))
    table = pd.concat([base[~is_locked], standing]).sort_index()
    table = table.assign(
        project_id=project_id,
        audience="donor",
        suppressed=table["suppression"].notna(),
        is_draft=~is_locked,
        revision_note=_revision_notes(table, history),
    ).reindex(columns=[*RESULT_COLUMNS, "is_draft", "revision_note"])
    periods = sorted(
        (
            Period(label, kind, start.date(), end.date())
            for label, kind, start, end in table[
                ["period", "period_kind", "period_start_date", "period_end_date"]
            ]
            .drop_duplicates()
            .itertuples(index=False)
        ),
        key=lambda p: (p.end_date, KIND_ORDER.get(p.kind, 0), p.start_date),
    )
    state = ReleaseState(  # the release's own, not the ledger's columns
        base["policy"].iloc[0],
        None,
        approved_periods(history),
        revisions(history),
        base["release_period"].iloc[0],
        int(base_id),
    )
    return Results(project_id, periods, table, [], state)


def _revision_notes(table: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Per row, the note of the last revision that changed its cell; NA when none did."""
    notes = revisions(history).drop_duplicates(CELL_KEY, keep="last").reset_index(drop=True)
    found = cell_positions(table, notes)
    text = pd.Series(pd.NA, index=table.index, dtype="string")
    text[found >= 0] = notes["note"].to_numpy()[found[found >= 0]]
    return text
