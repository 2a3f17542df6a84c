"""Every catalogue entry computes on the sample data: each recipe runs on every sample project
that holds its table and gives the columns it reads (with every disaggregation the catalogue
offers), and yields values."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import SAMPLE_DIR

from ctlib._catalogue import load_catalogue
from ctlib._compute.engine import compute, data_needed
from ctlib._data.ingest import load_project_data
from ctlib._data.project_model import SelectedIndicator
from ctlib._data.tables import TABLES


@pytest.fixture(scope="module")
def sample_data():
    return [
        load_project_data(folder)
        for folder in sorted(SAMPLE_DIR.iterdir())
        if (folder / "project.yaml").is_file()
    ]


def with_every_indicator(data, indicators):
    """The project's data with `indicators` selected, each with every disaggregation it supports."""
    selected = [
        SelectedIndicator(id=i.id, disaggregations=list(i.disaggregations)) for i in indicators
    ]
    project = data.project.model_copy(update={"indicators": selected})
    return dataclasses.replace(data, project=project)


def needed_context(indicator) -> set[str]:
    """Project context values (e.g. population) a recipe divides by."""
    parts = (indicator.method.numerator, indicator.method.denominator)
    return {part.project_value for part in parts if part is not None and part.project_value}


def gives_its_columns(data, indicator) -> bool:
    """Whether the project's sources give every column the recipe reads (in its table or in a
    table it links to): one whose column no source gives is refused, never counted as empty."""
    table, columns = data_needed(indicator)
    linked = [table, *(t.split(".")[0] for t in TABLES[table].foreign_keys.values())]
    return all(any(data.provides(name, column) for name in linked) for column in columns)


def test_every_indicator_runs_on_the_sample_projects_that_have_its_table(sample_data):
    catalogue = load_catalogue()
    ran, valued = set(), set()
    for data in sample_data:
        runnable = [
            i
            for i in catalogue
            if (i.method.table or "reported_values") in data.tables
            and needed_context(i) <= set(data.project.context)
            and gives_its_columns(data, i)
        ]
        results = compute(with_every_indicator(data, runnable), periods="all")
        assert not [p for p in results.problems if p.severity == "error"], (
            data.project_id,
            results.problems,
        )
        table = results.table
        for indicator in runnable:
            rows = table[table["indicator_id"] == indicator.id]
            assert set(rows["period"]) >= {p.label for p in results.periods}, indicator.id
            ran.add(indicator.id)
            if rows["value"].notna().any():
                valued.add(indicator.id)
    # every entry ran on at least one sample project, and every one computed from data gave
    # values there
    assert ran == set(catalogue.ids)
    assert valued >= {i.id for i in catalogue if i.method.measure != "reported"}
