"""The release ledger: the record of everything a project published for donors (SQLAlchemy).

Per release: project, period, audience, kind (`report`, or `revision` of an approved period), time,
ctlib and catalogue versions, the sha256 of every input file, the minimum cell size and protection
policy, who approved it and when, and a note (a revision's reason). Per release, every published
cell: its figures, or NULL figures and why it was hidden (`suppression`: primary, complementary,
source). Hidden figures are never stored, so the ledger holds nothing a donor may not see.

Where it lives (`ledger_url`): the `--ledger` option, else the CTLIB_LEDGER_URL environment
variable, else `releases.database` in project.yaml, else one SQLite file beside the project's data,
`<project>/.ctlib/releases.sqlite`, shared by every output of the project whatever its folder. Any
SQLAlchemy URL works; `postgresql://…` uses psycopg.

Writes are transactions (`Ledger.recording`): a release and all its cells are recorded together or
not at all, and the project's row is locked meanwhile (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT
… FOR UPDATE), so two runs for one project record one after the other, each knowing the other's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._errors import CtlibError

LEDGER_ENV = "CTLIB_LEDGER_URL"
DEFAULT_FOLDER = ".ctlib"
DEFAULT_FILE = "releases.sqlite"
SCHEMA_VERSION = "2"
KINDS = ("report", "revision")
READING = "ctlib_reading"  # execution option of a connection that only reads

metadata = sa.MetaData()
ledger_info = sa.Table(
    "ledger_info",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("project_id", sa.String(100), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("secret", sa.String(64), nullable=False),  # keys the fixed random rounding
)
releases = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.ForeignKey("projects.project_id"), nullable=False, index=True),
    sa.Column("period", sa.String(40), nullable=False),
    sa.Column("period_start_date", sa.Date, nullable=False),
    sa.Column("period_end_date", sa.Date, nullable=False),
    sa.Column("audience", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ctlib_version", sa.String(40), nullable=False),
    sa.Column("catalogue_version", sa.String(40), nullable=False),
    sa.Column("input_hashes", sa.JSON, nullable=False),
    sa.Column("min_cell_size", sa.Integer, nullable=False),
    sa.Column("policy", sa.String(40), nullable=False),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("note", sa.Text),
    sa.Column("revises", sa.ForeignKey("releases.release_id")),
)
cells = sa.Table(
    "cells",
    metadata,
    sa.Column("release_id", sa.ForeignKey("releases.release_id"), primary_key=True),
    sa.Column("indicator_id", sa.String(100), primary_key=True),
    sa.Column("period_start_date", sa.Date, primary_key=True),
    sa.Column("period_end_date", sa.Date, primary_key=True),
    sa.Column("dimension", sa.String(100), primary_key=True),
    sa.Column("category", sa.String(200), primary_key=True),
    sa.Column("period_kind", sa.String(20), primary_key=True),
    sa.Column("period", sa.String(40), nullable=False),
    sa.Column("numerator", sa.Float),
    sa.Column("denominator", sa.Float),
    sa.Column("value", sa.Float),
    sa.Column("baseline", sa.Float),
    sa.Column("target", sa.Float),
    sa.Column("achievement", sa.Float),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("suppression", sa.String(20)),  # NULL when published; primary, complementary, source
    sa.Column("measure", sa.String(30), nullable=False),
    sa.Column("unit", sa.String(20), nullable=False),
    sa.Column("rollup", sa.String(20), nullable=False),
    sa.Column("counts", sa.String(20)),
    # schema 2: what the pages need to show a cell as it was published
    sa.Column("value_state", sa.String(30)),
    sa.Column("value_as_written", sa.String(100)),  # a source's own "<5" or ".."
    sa.Column("target_low", sa.Float),
    sa.Column("target_high", sa.Float),
    sa.Column("full_target", sa.Float),
    sa.Column("full_target_share", sa.Float),
    sa.Column("progress", sa.Float),
    sa.Column("gap", sa.Float),
    sa.Column("direction", sa.String(20)),
    sa.Column("currency", sa.String(3)),
    sa.Column("has_overlapping_categories", sa.Boolean),
    sa.Column("position", sa.Integer),  # the cell's row in its release, which keeps their order
)
CELL_COLUMNS = [c.name for c in cells.columns if c.name != "release_id"]
RELEASE_COLUMNS = [c.name for c in releases.columns]
DATE_COLUMNS = ("period_start_date", "period_end_date")
HISTORY_DATES = (*DATE_COLUMNS, "release_period_end_date")
TARGET_COLUMNS = ("baseline", "target", "target_low", "target_high", "full_target")
HIDDEN_FIGURES = (  # never stored for a hidden cell: what would tell its count
    "numerator",
    "denominator",
    "value",
    "achievement",
    "full_target_share",
    "progress",
    "gap",
)
FIGURE_COLUMNS = (*HIDDEN_FIGURES, *TARGET_COLUMNS)
SCHEMA_2_COLUMNS = CELL_COLUMNS[CELL_COLUMNS.index("value_state") :]  # cells' columns since 2


class LedgerError(CtlibError):
    """The release ledger cannot be opened, read or written."""


@dataclass(frozen=True)
class Release:
    """What is recorded about one release besides its cells."""

    project_id: str
    period: str
    period_start_date: dt.date
    period_end_date: dt.date
    ctlib_version: str
    catalogue_version: str
    input_hashes: dict[str, str]
    min_cell_size: int
    policy: str
    audience: str = "donor"
    kind: str = "report"
    approved_by: str | None = None
    note: str | None = None
    revises: int | None = None


def ledger_url(
    project_dir: Path | str, configured: str | None = None, option: str | None = None
) -> str:
    """The ledger's URL: `option`, else CTLIB_LEDGER_URL, else project.yaml's `configured`, else the
    SQLite file beside the project's data."""
    url = option or os.environ.get(LEDGER_ENV) or configured
    if url:
        return url
    return f"sqlite:///{(Path(project_dir).absolute() / DEFAULT_FOLDER / DEFAULT_FILE).as_posix()}"


def is_absent(url: str) -> bool:
    """Whether `url` is a SQLite file that does not exist yet: a ledger nothing was recorded in
    (reading it need not create it)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return False
    return (
        parsed.get_backend_name() == "sqlite"
        and bool(parsed.database)
        and parsed.database != ":memory:"
        and not Path(parsed.database).exists()
    )


def _engine(url: str) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as error:
        raise LedgerError(
            f"the release ledger's URL {url!r} is not a database URL: {error}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _connect(connection, _record):
            connection.isolation_level = None  # transactions begin as below, not on first write
            connection.execute("PRAGMA foreign_keys = ON")

        @sa.event.listens_for(engine, "begin")
        def _begin(connection):
            if connection.get_execution_options().get(READING):
                connection.exec_driver_sql("BEGIN")  # a reader waits for no writer
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock from the start

        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as error:
        raise LedgerError(f"cannot use the release ledger at {parsed!r}: {error}") from None


class Ledger:
    """A project's release ledger at `url` (created on first use)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _engine(url)
        try:
            with self.engine.begin() as connection:
                metadata.create_all(connection, checkfirst=True)
                version = connection.execute(
                    sa.select(ledger_info.c.value).where(ledger_info.c.key == "schema_version")
                ).scalar()
                if version is None:
                    connection.execute(
                        ledger_info.insert().values(key="schema_version", value=SCHEMA_VERSION)
                    )
                elif version == "1":
                    _upgrade_from_1(connection)
                elif version != SCHEMA_VERSION:
                    raise LedgerError(
                        f"the release ledger at {self.where} has schema version {version}; "
                        f"this ctlib reads version {SCHEMA_VERSION}: upgrade ctlib"
                    )
        except sa.exc.SQLAlchemyError as error:
            raise LedgerError(
                f"cannot open the release ledger at {self.where}: {_reason(error)}"
            ) from None

    @property
    def where(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # -- reading ----------------------------------------------------------------------------------
    def releases(self, project_id: str) -> pd.DataFrame:
        """Every release of the project, oldest first (RELEASE_COLUMNS)."""
        with self._reading() as connection:
            return _releases(connection, project_id)

    def cells(self, project_id: str, audience: str = "donor") -> pd.DataFrame:
        """Every cell of the project's releases for `audience` (`history`)."""
        with self._reading() as connection:
            return _history(connection, project_id, audience)

    def secret(self, project_id: str) -> str | None:
        """The project's rounding secret; None before its first release."""
        with self._reading() as connection:
            return _secret(connection, project_id)

    def project_secret(self, project_id: str) -> str:
        """The project's rounding secret, the project being added to the ledger when new."""
        self._ensure_project(project_id)
        return self.secret(project_id)

    def state(self, project_id: str) -> str:
        """What a release recorded later must not have changed (`Recording.state`)."""
        with self._reading() as connection:
            return _state(connection, project_id)

    def withdraw(self, release_id: int, project_id: str) -> None:
        """Remove a release that could not be published (its cells too), in one transaction."""
        with self.recording(project_id) as recording:
            recording.withdraw(release_id)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect().execution_options(**{READING: True}) as connection:
                yield connection
        except sa.exc.SQLAlchemyError as error:
            raise LedgerError(
                f"cannot read the release ledger at {self.where}: {_reason(error)}"
            ) from None

    # -- writing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def recording(self, project_id: str) -> Iterator[Recording]:
        """A transaction holding the project's lock; committed when the block ends without an error,
        rolled back (nothing recorded) otherwise."""
        self._ensure_project(project_id)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.select(projects.c.project_id)
                    .where(projects.c.project_id == project_id)
                    .with_for_update()
                )
                yield Recording(connection, project_id)
        except sa.exc.SQLAlchemyError as error:
            raise LedgerError(
                f"cannot write the release ledger at {self.where}: {_reason(error)}"
            ) from None

    def _ensure_project(self, project_id: str) -> None:
        try:
            with self.engine.begin() as connection:
                exists = connection.execute(
                    sa.select(projects.c.project_id).where(projects.c.project_id == project_id)
                ).first()
                if exists is None:
                    connection.execute(
                        projects.insert().values(
                            project_id=project_id,
                            created_at=dt.datetime.now(dt.UTC),
                            secret=secrets.token_hex(32),
                        )
                    )
        except sa.exc.IntegrityError:
            pass  # another run added it meanwhile
        except sa.exc.SQLAlchemyError as error:
            raise LedgerError(
                f"cannot write the release ledger at {self.where}: {_reason(error)}"
            ) from None


class Recording:
    """Reads and writes inside one `Ledger.recording` transaction (the project locked)."""

    def __init__(self, connection: Connection, project_id: str):
        self.connection, self.project_id = connection, project_id

    def releases(self) -> pd.DataFrame:
        return _releases(self.connection, self.project_id)

    def cells(self, audience: str = "donor") -> pd.DataFrame:
        return _history(self.connection, self.project_id, audience)

    def secret(self) -> str:
        return _secret(self.connection, self.project_id)

    def state(self) -> str:
        """The project's releases and approvals so far, as one string: a release worked out
        against this state may be recorded while it is unchanged."""
        return _state(self.connection, self.project_id)

    def withdraw(self, release_id: int) -> None:
        mine = (releases.c.release_id == release_id) & (releases.c.project_id == self.project_id)
        if self.connection.execute(sa.select(releases.c.release_id).where(mine)).first() is None:
            raise LedgerError(f"{self.project_id} has no release {release_id} to withdraw")
        self.connection.execute(cells.delete().where(cells.c.release_id == release_id))
        self.connection.execute(releases.delete().where(mine))

    def record(self, release: Release, table: pd.DataFrame) -> int:
        """Record a release and its cells (results-shaped rows; hidden figures are not stored); the
        release's id."""
        if release.project_id != self.project_id:
            raise LedgerError(
                f"recording {release.project_id!r} in {self.project_id!r}'s transaction"
            )
        if release.kind not in KINDS:
            raise LedgerError(
                f"unknown release kind {release.kind!r}; use one of {', '.join(KINDS)}"
            )
        now = dt.datetime.now(dt.UTC)
        values = asdict(release) | {
            "released_at": now,
            "approved_at": now if release.approved_by else None,
        }
        release_id = self.connection.execute(
            releases.insert().values(**values)
        ).inserted_primary_key[0]
        rows = _cell_rows(table)
        if rows:
            self.connection.execute(
                cells.insert(), [{**row, "release_id": release_id} for row in rows]
            )
        return int(release_id)

    def approve(self, release_id: int, approved_by: str) -> None:
        self.connection.execute(
            releases.update()
            .where(releases.c.release_id == release_id)
            .values(approved_by=approved_by, approved_at=dt.datetime.now(dt.UTC))
        )


def _upgrade_from_1(connection: Connection) -> None:
    """Schema 1 → 2: the cells' columns that show a cell as published (NULL in older cells)."""
    for column in (c for c in cells.columns if c.name in SCHEMA_2_COLUMNS):
        kind = column.type.compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE cells ADD COLUMN {column.name} {kind}")
    connection.execute(
        ledger_info.update()
        .where(ledger_info.c.key == "schema_version")
        .values(value=SCHEMA_VERSION)
    )


def _releases(connection: Connection, project_id: str) -> pd.DataFrame:
    query = (
        sa.select(releases)
        .where(releases.c.project_id == project_id)
        .order_by(releases.c.release_id)
    )
    frame = pd.DataFrame(connection.execute(query).mappings().all(), columns=RELEASE_COLUMNS)
    return _with_dates(frame)


HISTORY_RELEASE = [
    releases.c.period.label("release_period"),
    releases.c.period_end_date.label("release_period_end_date"),
    releases.c.kind,
    releases.c.released_at,
    releases.c.approved_by,
    releases.c.approved_at,
    releases.c.note,
    releases.c.revises,
    releases.c.policy,
]
HISTORY_COLUMNS = ["release_id", *CELL_COLUMNS, *(c.name for c in HISTORY_RELEASE)]


def _history(connection: Connection, project_id: str, audience: str) -> pd.DataFrame:
    """Every cell of the project's releases for `audience`, oldest release first, each with its
    release's id, period, kind, time, approval, note, the release it revises and policy."""
    query = (
        sa.select(cells, *HISTORY_RELEASE)
        .join(releases)
        .where(releases.c.project_id == project_id, releases.c.audience == audience)
        .order_by(releases.c.release_id, cells.c.position)
    )
    rows = connection.execute(query).mappings().all()
    frame = _with_dates(pd.DataFrame(rows, columns=HISTORY_COLUMNS), HISTORY_DATES)
    frame["suppressed"] = frame["suppression"].notna()
    return frame.astype({c: "float64" for c in FIGURE_COLUMNS})


def _state(connection: Connection, project_id: str) -> str:
    last, approved = connection.execute(
        sa.select(sa.func.max(releases.c.release_id), sa.func.count(releases.c.approved_at)).where(
            releases.c.project_id == project_id
        )
    ).one()
    return state_text(last or 0, approved)


def state_text(last_release: int, approved: int) -> str:
    """A ledger's state for a project: its last release and how many are approved."""
    return f"last release {last_release}, {approved} approved"


def no_history() -> pd.DataFrame:
    """The history (`Ledger.cells`) of a project that has no release."""
    frame = _with_dates(pd.DataFrame(columns=HISTORY_COLUMNS), HISTORY_DATES)
    frame["suppressed"] = pd.Series(dtype=bool)
    return frame.astype({c: "float64" for c in FIGURE_COLUMNS})


def _secret(connection: Connection, project_id: str) -> str | None:
    return connection.execute(
        sa.select(projects.c.secret).where(projects.c.project_id == project_id)
    ).scalar()


def _cell_rows(table: pd.DataFrame) -> list[dict]:
    """The rows to store: each cell's published figures, or none when hidden."""
    frame = table.reindex(columns=CELL_COLUMNS).assign(position=range(len(table)))
    hidden = table["suppressed"].to_numpy(dtype=bool)
    for column in FIGURE_COLUMNS:
        frame[column] = frame[column].astype("float64")
    for column in HIDDEN_FIGURES:
        frame[column] = frame[column].where(~hidden)
    for column in DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def _with_dates(frame: pd.DataFrame, columns=DATE_COLUMNS) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def _reason(error: sa.exc.SQLAlchemyError) -> str:
    original = getattr(error, "orig", None)
    return str(original or error).strip().splitlines()[0]
