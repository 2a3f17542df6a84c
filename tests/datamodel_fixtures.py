"""Small hand-made projects for the data-model and catalogue-fix tests, built through the real
derivations (`derive.standard_frame`, `derive.derive_linked`) so that derived columns are ctlib's
own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import PIRS_FIELDS

from ctlib._catalogue import Catalogue, load_catalogue
from ctlib._catalogue.model import Indicator
from ctlib._compute.engine import compute
from ctlib._data.derive import derive_linked, standard_frame
from ctlib._data.project_data import ProjectData
from ctlib._data.project_model import Project
from ctlib._data.tables import PANDAS_DTYPES, TABLES

VICTIM = "actual"


def project(start="2025-01-01", end="2025-12-31", **settings) -> Project:
    return Project.model_validate(
        {
            "project": {
                "id": "fixture",
                "name": "Fixture",
                "organisation": "NGO",
                "donor": "Donor",
                "country": "TH",
                "start_date": start,
                "end_date": end,
            },
            "results_chain": {"objective": "Fewer people trafficked"},
            **settings,
        }
    )


def tables(the_project: Project, **rows) -> dict[str, pd.DataFrame]:
    """Standard tables from lists of dicts.

    Input columns typed, derived columns derived by ctlib.
    """
    frames = {}
    for name, records in rows.items():
        table = TABLES[name]
        frame = pd.DataFrame(records)
        typed = {
            c.name: pd.Series(list(frame[c.name]), dtype=PANDAS_DTYPES[c.kind])
            for c in table.input_columns
            if c.name in frame
        }
        frames[name] = standard_frame(typed, table, the_project, pd.RangeIndex(len(frame)))
    return derive_linked(frames, the_project)


def old_recipe(indicator_id: str, **changes) -> Indicator:
    """The catalogue entry with its recipe (or other fields) as they were before a fix."""
    entry = load_catalogue().get(indicator_id).model_dump()
    entry.update(changes)
    return Indicator.model_validate({**PIRS_FIELDS, **entry, "id": indicator_id + "-OLD"})


def results(
    indicators,
    the_project: Project | None = None,
    disaggregations=(),
    periods="all",
    **rows,
):
    """compute() of `indicators` (ids of the catalogue, or Indicator objects) over the tables,
    each due every quarter (these fixtures check recipes, not frequencies: a semester or annual
    indicator's quarters are otherwise "not due" and show no value)."""
    the_project = the_project or project()
    chosen = [
        (load_catalogue().get(i) if isinstance(i, str) else i).model_copy(
            update={"frequency": "quarterly"}
        )
        for i in indicators
    ]
    selected = [{"id": i.id, "disaggregations": list(disaggregations)} for i in chosen]
    the_project = Project.model_validate({**the_project.model_dump(), "indicators": selected})
    data = ProjectData(
        Path("."), the_project, Catalogue(chosen, "test"), tables(the_project, **rows)
    )
    return compute(data, periods=periods)


def value(result, indicator_id, period="life_of_project", dimension="total", category="total"):
    table = result.table
    row = table[
        (table["indicator_id"] == indicator_id)
        & (table["period"] == period)
        & (table["dimension"] == dimension)
        & (table["category"] == category)
    ]
    assert len(row) == 1, (indicator_id, period, dimension, category, table)
    return row.iloc[0]["value"]


def by_period(result, indicator_id, dimension="total", category="total") -> dict:
    table = result.table
    rows = table[
        (table["indicator_id"] == indicator_id)
        & (table["dimension"] == dimension)
        & (table["category"] == category)
    ]
    return dict(zip(rows["period"], rows["value"]))
