"""Time from a filter or selection change to the redrawn output, driving the workbook Apps directly.

For each sample project: the picker (search, filters, selecting an indicator, typing a target) and
the explorer (indicator, period, span of periods, rows behind, cross-tab, comparison), the explorer
with its caches emptied before each change so that every figure includes computing the results and
building the charts. Each interaction alternates between two values so that every change redraws;
the figure is the median over the repetitions. Target: 300 ms at the median. The last line printed
is a JSON object.

    python benchmarks/bench_widgets.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from ctlib import ExploreApp, PickIndicatorsApp
from ctlib._apps.explorer import project_folders

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
TARGET_MS = 300.0


def timed(change, repeat: int) -> float:
    """Median milliseconds of `change(i)` over `repeat` calls; `change` may be a (prepare, change)
    pair whose untimed `prepare(i)` runs first."""
    prepare, change = change if isinstance(change, tuple) else (lambda i: None, change)
    times = []
    for i in range(repeat):
        prepare(i)
        start = time.perf_counter()
        change(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def picker_interactions(project_dir: Path) -> dict:
    app = PickIndicatorsApp(project_dir)
    free = next(i.id for i in app.catalogue if i.id not in app.selected)
    selected = next(iter(app.selected))
    label = app.period_labels[0]

    def toggle(widget, values):
        return lambda i: setattr(widget, "value", values[i % 2])

    return {
        "pick: search": toggle(app.search, ["shelter", "training"]),
        "pick: level filter": toggle(app.level_filter, ["outcome", ""]),
        "pick: only computable": toggle(app.computable_filter, [True, False]),
        "pick: select indicator": toggle(app.card(free)[1], [True, False]),
        "pick: type a target": toggle(app.target_cell(selected, label), ["12", "15"]),
    }


def explorer_interactions(app: ExploreApp, folder: str) -> dict:
    app.project.value = folder
    indicators = [value for _, value in app.indicator.options]
    periods = list(app.period.options)
    labels = list(app.first_period.options)
    mine = {value for _, value in app.indicator.options}
    sharing = [
        f
        for f in app.project.options
        if f != folder and mine & {s.id for s in app.data(f).project.indicators}
    ]

    def on_tab(tab, widget, values, before=None):
        def prepare(i):
            app.tabs.selected_index = tab
            if before is not None:
                widget.value = before
            app._results.clear()  # nothing computed nor drawn before: the cost of a first look
            app._charts.clear()

        return prepare, lambda i: setattr(widget, "value", values[i % len(values)])

    interactions = {
        "explore: indicator": on_tab(0, app.indicator, indicators[:2]),
        "explore: period": on_tab(0, app.period, periods[-3:-1]),
        "explore: span of periods": on_tab(0, app.first_period, labels[:2]),
        "explore: rows behind": on_tab(1, app.indicator, indicators[:2]),
    }
    if sharing:
        interactions["explore: compare"] = on_tab(3, app.other_project, sharing[:2], before="")
    if (
        app.crosstab_table_name.options
    ):  # a project that keeps only tally sheets has nothing to cross
        interactions["explore: cross-tab"] = on_tab(
            2, app.crosstab_columns, list(app.crosstab_columns.options)[:2]
        )
    return interactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="repetitions per interaction")
    repeat = parser.parse_args().repeat
    folders = project_folders(SAMPLE_DIR)
    explorer = ExploreApp(SAMPLE_DIR)
    medians: dict[str, list[float]] = {}
    for folder in folders:
        interactions = {
            **picker_interactions(SAMPLE_DIR / folder),
            **explorer_interactions(explorer, folder),
        }
        for name, change in interactions.items():
            median = timed(change, repeat)
            medians.setdefault(name, []).append(median)
            print(f"{folder:24} {name:32} {median:8.1f} ms")
    worst = {name: round(max(values), 1) for name, values in medians.items()}
    print(
        json.dumps(
            {
                "target_ms": TARGET_MS,
                "repeat": repeat,
                "projects": folders,
                "median_ms_worst_project": worst,
                "max_median_ms": max(worst.values()),
                "within_target": max(worst.values()) <= TARGET_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
