"""The release ledger on SQLite and on a real PostgreSQL server (CTLIB_TEST_POSTGRES_URL, which
scripts/test-environment sets; without it the PostgreSQL half skips, in one summary line)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from test_release_suppression import release_table

from ctlib._compute.privacy import suppress
from ctlib._data.ledger import (
    LEDGER_ENV,
    SCHEMA_2_COLUMNS,
    SCHEMA_VERSION,
    Ledger,
    LedgerError,
    Release,
    ledger_url,
    no_history,
    state_text,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, tmp_path):
    """An empty ledger: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        opened = Ledger(f"sqlite:///{tmp_path / 'releases.sqlite'}")
        yield opened
        opened.close()
        return
    server = sa.engine.make_url(request.getfixturevalue("postgres_url"))  # conftest.py
    server = server.set(drivername="postgresql+psycopg")
    name = f"ctlib_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    opened = Ledger(server.set(database=name).render_as_string(hide_password=False))
    yield opened
    opened.close()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


def a_release(**changes) -> Release:
    fields = dict(
        project_id="p",
        period="2025-Q2",
        period_start_date=dt.date(2025, 4, 1),
        period_end_date=dt.date(2025, 6, 30),
        ctlib_version="0.1.0",
        catalogue_version="abc123",
        input_hashes={"project.yaml": "f" * 64, "data/cases.csv": "0" * 64},
        min_cell_size=5,
        policy="suppression",
    )
    return Release(**(fields | changes))


def published_table() -> pd.DataFrame:
    cross = {(0, "f", "a"): 2, (0, "m", "a"): 9, (1, "f", "a"): 6, (1, "m", "a"): 7}
    return suppress(release_table(cross, 2, False), 5)


def test_a_release_and_its_cells_read_back(ledger):
    table = published_table()
    with ledger.recording("p") as recording:
        release_id = recording.record(a_release(), table)
    releases = ledger.releases("p")
    assert releases["release_id"].tolist() == [release_id]
    first = releases.iloc[0]
    assert (first.period, first.kind, first.audience, first.min_cell_size) == (
        "2025-Q2",
        "report",
        "donor",
        5,
    )
    assert first.input_hashes == {"project.yaml": "f" * 64, "data/cases.csv": "0" * 64}
    assert first.approved_by is None and pd.isna(first.approved_at)
    history = ledger.cells("p")
    assert len(history) == len(table)
    cells = history.set_index(["period", "dimension", "category"])
    # Q1 female 2 is hidden (primary) and male 9 with it; nothing hidden is stored
    assert cells.loc[("2025-Q1", "sex", "f"), "suppression"] == "primary"
    assert cells.loc[("2025-Q1", "sex", "m"), "suppression"] == "complementary"
    hidden = history[history["suppression"].notna()]
    assert hidden[["value", "numerator", "denominator", "achievement"]].isna().all().all()
    assert cells.loc[("2025-Q2", "total", "total"), "value"] == 13.0
    assert cells.loc[("life_of_project", "total", "total"), "value"] == 24.0
    assert history["period_end_date"].dtype == "datetime64[ns]"
    assert set(history["release_period"]) == {"2025-Q2"}
    assert ledger.secret("p") and len(ledger.secret("p")) == 64


def test_a_failed_recording_records_nothing(ledger):
    with pytest.raises(RuntimeError, match="the report failed"):
        with ledger.recording("p") as recording:
            recording.record(a_release(), published_table())
            raise RuntimeError("the report failed")
    assert ledger.releases("p").empty and ledger.cells("p").empty


def test_two_runs_of_one_project_record_one_after_the_other(ledger):
    entered, order = threading.Event(), []

    def first():
        with ledger.recording("p") as recording:
            entered.set()
            time.sleep(1.0)
            recording.record(a_release(), published_table())
            order.append("first recorded")

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(10)
    with ledger.recording("p") as recording:
        order.append("second began")
        seen = len(recording.releases())  # inside the lock: the first release is there
        recording.record(a_release(period="2025-Q3"), published_table())
    thread.join()
    assert order == ["first recorded", "second began"] and seen == 1
    assert ledger.releases("p")["period"].tolist() == ["2025-Q2", "2025-Q3"]


def test_approval_is_recorded(ledger):
    with ledger.recording("p") as recording:
        release_id = recording.record(a_release(), published_table())
    with ledger.recording("p") as recording:
        recording.approve(release_id, "M&E officer")
    release = ledger.releases("p").iloc[0]
    assert release.approved_by == "M&E officer" and not pd.isna(release.approved_at)
    assert ledger.cells("p")["approved_by"].eq("M&E officer").all()


def test_projects_are_kept_apart(ledger):
    with ledger.recording("p") as recording:
        recording.record(a_release(), published_table())
    assert ledger.cells("other").empty and ledger.releases("other").empty


def test_where_the_ledger_lives(tmp_path, monkeypatch):
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    default = ledger_url(tmp_path / "project")
    assert (
        default == f"sqlite:///{(tmp_path / 'project' / '.ctlib' / 'releases.sqlite').as_posix()}"
    )
    assert ledger_url(tmp_path, configured="postgresql://db/ledger") == "postgresql://db/ledger"
    monkeypatch.setenv(LEDGER_ENV, "sqlite:////elsewhere.sqlite")
    assert (
        ledger_url(tmp_path, configured="postgresql://db/ledger") == "sqlite:////elsewhere.sqlite"
    )
    assert ledger_url(tmp_path, option="sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    opened = Ledger(default)
    assert (tmp_path / "project" / ".ctlib" / "releases.sqlite").is_file()
    opened.close()


def test_a_ledger_that_cannot_be_opened_says_so(tmp_path):
    with pytest.raises(LedgerError, match="is not a database URL"):
        Ledger("not a url")
    with pytest.raises(LedgerError, match="cannot open the release ledger at postgresql"):
        Ledger(f"postgresql://nobody@/nowhere?host={tmp_path}")
    (tmp_path / "newer.sqlite").write_bytes(b"")
    newer = Ledger(f"sqlite:///{tmp_path / 'newer.sqlite'}")
    with newer.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE ledger_info SET value = '99'")
    newer.close()
    with pytest.raises(LedgerError, match="schema version 99"):
        Ledger(f"sqlite:///{tmp_path / 'newer.sqlite'}")


def test_hidden_figures_never_reach_the_ledger(ledger):
    table = published_table()
    leaked = table.assign(value=np.where(table["suppressed"], 2.0, table["value"]))
    with ledger.recording("p") as recording:
        recording.record(a_release(), leaked)
    stored = ledger.cells("p")
    assert stored.loc[stored["suppression"].notna(), "value"].isna().all()


def test_a_schema_1_ledger_is_upgraded_in_place(ledger):
    with ledger.recording("p") as recording:
        recording.record(a_release(), published_table())
    with ledger.engine.begin() as connection:  # the ledger as schema 1 made it
        for column in SCHEMA_2_COLUMNS:
            connection.exec_driver_sql(f"ALTER TABLE cells DROP COLUMN {column}")
        connection.exec_driver_sql("UPDATE ledger_info SET value = '1'")
    ledger.close()
    upgraded = Ledger(ledger.url)
    try:
        before = upgraded.cells("p")
        assert len(before) == len(published_table()) and before["value_as_written"].isna().all()
        table = published_table().assign(value_state="source_suppressed", value_as_written="<5")
        with upgraded.recording("p") as recording:
            recording.record(a_release(period="2025-Q3"), table)
        after = upgraded.cells("p")
        assert after.loc[after["release_period"] == "2025-Q3", "value_as_written"].eq("<5").all()
        with upgraded.engine.connect() as connection:
            version = connection.exec_driver_sql(
                "SELECT value FROM ledger_info WHERE key = 'schema_version'"
            ).scalar()
        assert version == SCHEMA_VERSION == "2"
    finally:
        upgraded.close()


def test_the_state_changes_with_every_release_and_approval_and_a_withdrawal_undoes_one(ledger):
    assert ledger.state("p") == state_text(0, 0)
    assert list(no_history().columns) == list(ledger.cells("p").columns)
    with ledger.recording("p") as recording:
        first = recording.record(a_release(), published_table())
    with ledger.recording("p") as recording:
        recording.approve(first, "M&E officer")
        second = recording.record(a_release(period="2025-Q3"), published_table())
        assert recording.state() == state_text(second, 1)
    ledger.withdraw(second, "p")
    assert ledger.releases("p")["release_id"].tolist() == [first]
    assert set(ledger.cells("p")["release_id"]) == {first}
    with pytest.raises(LedgerError, match="no release 99 to withdraw"):
        ledger.withdraw(99, "p")
    with pytest.raises(LedgerError, match="no release"):
        ledger.withdraw(first, "other project")
