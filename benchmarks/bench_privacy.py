"""Benchmark of suppression consistent across releases (figures for the notes; not a timed test).

A synthetic project of 30 indicators (counts, distinct counts, shares and means) with 8
disaggregations each (33 categories and the total), reported quarterly: release n publishes
quarters 1..n and life of project to date. The figure is the time to suppress release 12 knowing
the 11 releases before it (`suppress(..., earlier=known_cells(...))`), against the same release
suppressed on its own (the single-release suppression ctlib did before releases were recorded).
Target: at most 3 times, and under 2 seconds.

The last line printed is a JSON object with the figures.
Run: .venv/bin/python benchmarks/bench_privacy.py
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from ctlib._compute.engine import RESULT_COLUMNS
from ctlib._compute.privacy import known_cells, suppress

QUARTERS = 12
K = 5
REPEATS = 5
DIMENSIONS = {  # 8 disaggregations, 33 categories
    "sex": 3,
    "age_group": 5,
    "child_adult": 2,
    "nationality": 6,
    "exploitation_type": 5,
    "identified_by": 4,
    "location": 6,
    "disability": 2,
}
MEASURES = ["count"] * 18 + ["count_distinct"] * 3 + ["share"] * 6 + ["mean"] * 3


def quarter_spans() -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    spans = []
    for n in range(QUARTERS):
        start = pd.Timestamp("2024-01-01") + pd.DateOffset(months=3 * n)
        spans.append(
            (f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, start + pd.offsets.QuarterEnd(0))
        )
    return spans


def project_figures(rng: np.random.Generator) -> dict:
    """Per indicator and quarter: per dimension the (numerator, denominator) of each category."""
    figures = {}
    for number in range(len(MEASURES)):
        scale = rng.choice([40, 120, 400, 1500])
        for quarter in range(QUARTERS):
            total = int(rng.poisson(scale))
            positives = int(rng.binomial(total, rng.uniform(0.3, 0.95)))
            cells = {("total", "total"): (positives, total)}
            for dimension, size in DIMENSIONS.items():
                shares = rng.dirichlet(np.full(size, 0.8))
                sizes = rng.multinomial(total, shares)
                parts = rng.multivariate_hypergeometric(sizes, positives)
                for c in range(size):
                    cells[(dimension, f"{dimension}_{c}")] = (int(parts[c]), int(sizes[c]))
            figures[(number, quarter)] = cells
    return figures


def release(figures: dict, quarters: int) -> pd.DataFrame:
    """The results release `quarters` publishes: quarters 1..n and life of project to date."""
    spans = quarter_spans()
    periods = [(*spans[q], "quarter", [q]) for q in range(quarters)]
    periods.append(
        ("life_of_project", spans[0][1], spans[quarters - 1][2], "life_of_project", range(quarters))
    )
    rows = []
    for number, measure in enumerate(MEASURES):
        for label, start, end, kind, inside in periods:
            for dimension, category in figures[(number, 0)]:
                numerator = sum(figures[(number, q)][(dimension, category)][0] for q in inside)
                denominator = sum(figures[(number, q)][(dimension, category)][1] for q in inside)
                if measure == "share":
                    value, unit = (
                        (100 * numerator / denominator if denominator else np.nan),
                        "percent",
                    )
                elif measure == "mean":
                    value, unit, numerator = (
                        (3.5 if denominator else np.nan),
                        "score",
                        3.5 * denominator,
                    )
                else:
                    value, unit, numerator, denominator = (
                        float(denominator),
                        "count",
                        float(denominator),
                        np.nan,
                    )
                rows.append(
                    (
                        f"IND-{number:02d}",
                        label,
                        start,
                        end,
                        dimension,
                        category,
                        numerator,
                        denominator,
                        value,
                        kind,
                        measure,
                        unit,
                        "recompute" if measure in ("share", "mean", "count_distinct") else "sum",
                    )
                )
    table = pd.DataFrame(
        rows,
        columns=[
            "indicator_id",
            "period",
            "period_start_date",
            "period_end_date",
            "dimension",
            "category",
            "numerator",
            "denominator",
            "value",
            "period_kind",
            "measure",
            "unit",
            "rollup",
        ],
    )
    return table.assign(
        project_id="bench",
        baseline=np.nan,
        target=np.nan,
        achievement=np.nan,
        status="no target",
        suppressed=False,
        suppression=pd.NA,
        audience="internal",
        counts="people",
        currency="",
        has_overlapping_categories=False,
    ).reindex(columns=RESULT_COLUMNS)  # no targets, value states or the like


def fastest(work) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> dict:
    figures = project_figures(np.random.default_rng(2026))
    released, history_seconds = [], []
    for quarters in range(1, QUARTERS):
        table = release(figures, quarters)
        earlier = known_cells(pd.concat(released, ignore_index=True)) if released else None
        start = time.perf_counter()
        released.append(suppress(table, K, earlier=earlier))
        history_seconds.append(time.perf_counter() - start)
    last = release(figures, QUARTERS)
    earlier = known_cells(pd.concat(released, ignore_index=True))
    alone = fastest(lambda: suppress(last, K))
    with_history = fastest(lambda: suppress(last, K, earlier=earlier))
    hidden_alone = int(suppress(last, K)["suppressed"].sum())
    hidden_history = int(suppress(last, K, earlier=earlier)["suppressed"].sum())
    ratio = with_history / alone
    print(
        f"release {QUARTERS} of {len(MEASURES)} indicators x {len(DIMENSIONS)} disaggregations "
        f"({len(last)} rows, {len(earlier)} cells released before): on its own {alone:.3f} s "
        f"({hidden_alone} hidden); knowing the {QUARTERS - 1} releases before {with_history:.3f} s "
        f"({hidden_history} hidden) = {ratio:.2f} x (target <= 3, and under 2 s)"
    )
    figures = {
        "rows": len(last),
        "earlier_cells": len(earlier),
        "alone_seconds": round(alone, 4),
        "with_history_seconds": round(with_history, 4),
        "ratio": round(ratio, 2),
        "hidden_alone": hidden_alone,
        "hidden_with_history": hidden_history,
        "earlier_release_seconds": [round(s, 3) for s in history_seconds],
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
