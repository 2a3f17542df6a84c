"""Suppression or rounding: what each policy costs donors on the sample projects.

Figures for notes.

For each sample project, quarterly releases are made in order (release n shows the project's first
n quarters and life of project to date; up to 12 releases), each knowing the releases before it:
- suppression (`privacy.suppress` with `known_cells`): cells hidden per release, and of them
  primary;
- rounding to base 3 (`rounding.round_counts`): cells hidden (means of few values), cells whose
  figure the rounding changed, and the mean absolute change of those.
Counts are of rows with counts of people (totals and categories).

The last line printed is a JSON object with the figures.
Run: .venv/bin/python benchmarks/bench_release_policies.py
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ctlib._compute.engine import compute
from ctlib._compute.periods import ReportingCalendar
from ctlib._compute.privacy import counts, known_cells, suppress
from ctlib._compute.rounding import round_counts
from ctlib._compute.targets import status_bands
from ctlib._data.ingest import load_project_data

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p.parent for p in (REPO / "data" / "sample").glob("*/project.yaml"))
RELEASES = 12


def releases_of(project_dir: Path) -> dict:
    data = load_project_data(project_dir)
    calendar = ReportingCalendar(data.project)
    latest = calendar.latest(data)
    labels = [p.label for p in calendar.periods() if p.end_date <= latest.end_date][:RELEASES]
    k = data.project.privacy.min_cell_size
    bands_of = status_bands(data.project)
    secret = secrets.token_hex(32)
    released, figures = [], []
    for n in range(1, len(labels) + 1):
        table = compute(data, periods=labels[:n]).table
        with_counts = np.any([applies for applies, _ in counts(table).values()], axis=0)
        start = time.perf_counter()
        earlier = known_cells(pd.concat(released, ignore_index=True)) if released else None
        suppressed = suppress(table, k, earlier=earlier)
        seconds = time.perf_counter() - start
        released.append(suppressed)
        rounded = round_counts(table, 3, secret, k, bands_of)
        changed = with_counts & ~np.isclose(
            rounded["value"].to_numpy(dtype=float),
            table["value"].to_numpy(dtype=float),
            equal_nan=True,
        )
        difference = np.abs(rounded["value"] - table["value"])[changed & (table["unit"] == "count")]
        figures.append(
            {
                "release": labels[n - 1],
                "cells": int(with_counts.sum()),
                "suppression_hidden": int(suppressed["suppressed"].sum()),
                "suppression_primary": int((suppressed["suppression"] == "primary").sum()),
                "suppression_seconds": round(seconds, 2),
                "rounding_hidden": int(rounded["suppressed"].sum()),
                "rounding_changed": int(changed.sum()),
                "rounding_mean_change_of_counts": round(float(difference.mean()), 2)
                if len(difference)
                else 0.0,
            }
        )
        print(project_dir.name, figures[-1], file=sys.stderr, flush=True)
    return {"k": k, "releases": figures}


def main() -> dict:
    results = {p.name: releases_of(p) for p in SAMPLES}
    for name, project in results.items():
        rows = project["releases"]
        print(
            f"{name} (k={project['k']}, {len(rows)} releases, {rows[-1]['cells']} cells with "
            "counts in the last): suppression hides "
            f"{', '.join(str(r['suppression_hidden']) for r in rows)} (primary "
            f"{', '.join(str(r['suppression_primary']) for r in rows)}); rounding hides "
            f"{', '.join(str(r['rounding_hidden']) for r in rows)} and changes "
            f"{', '.join(str(r['rounding_changed']) for r in rows)}"
        )
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
