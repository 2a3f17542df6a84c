"""Benchmark of the quarterly reports (figures for the notes; not a timed test).

1. One report's wall time (`run_report`, every step: load, compute, exports, notebook, HTML)
   against the floor: papermill running a one-cell notebook on the same kernel, in the same run.
   Target: at most 2.5 times the floor.
2. A batch of every sample project with --jobs 2 against --jobs 1. Target: a speed-up of 1.6.

The last line printed is a JSON object with the figures. Run: .venv/bin/python benchmarks/bench_report.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import nbformat

from ctlib._publish.report import execute_notebook, run_batch, run_report

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
PROJECT = SAMPLE_DIR / "shelter_and_recovery"  # the largest sample project
REPEATS = 2


def seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def one_cell_notebook(path: Path) -> Path:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, path)
    return path


def main() -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        floor_notebook = one_cell_notebook(scratch / "floor.ipynb")

        def floor():
            execute_notebook(floor_notebook, scratch / "floor-out.ipynb", {}, cwd=scratch)

        def floor_papermill_defaults():  # for context: papermill's own kernel manager and shutdown
            import papermill

            papermill.execute_notebook(
                str(floor_notebook),
                str(scratch / "floor-out.ipynb"),
                kernel_name="ctlib",
                progress_bar=False,
                cwd=str(scratch),
            )

        floor()  # warm-up: imports and kernelspec
        floor_seconds = min(seconds(floor) for _ in range(REPEATS + 1))
        defaults_seconds = min(seconds(floor_papermill_defaults) for _ in range(REPEATS))
        report_seconds = min(
            seconds(lambda: run_report(PROJECT, "latest", scratch / "one")) for _ in range(REPEATS)
        )
        print(
            f"floor (one-cell notebook, the runner's kernel settings): {floor_seconds:.2f} s "
            f"(papermill's defaults: {defaults_seconds:.2f} s); one report: {report_seconds:.2f} s "
            f"= {report_seconds / floor_seconds:.2f} x the floor (target <= 2.5)"
        )
        serial = seconds(
            lambda: run_batch(SAMPLE_DIR, "latest", scratch / "serial", jobs=1, progress=False)
        )
        parallel = seconds(
            lambda: run_batch(SAMPLE_DIR, "latest", scratch / "parallel", jobs=2, progress=False)
        )
        projects = len(list(SAMPLE_DIR.glob("*/project.yaml")))
        print(
            f"batch of {projects} projects: --jobs 1 {serial:.1f} s, --jobs 2 {parallel:.1f} s, "
            f"speed-up {serial / parallel:.2f} (target >= 1.6)"
        )
    return {
        "floor_seconds": round(floor_seconds, 2),
        "floor_papermill_defaults_seconds": round(defaults_seconds, 2),
        "report_seconds": round(report_seconds, 2),
        "report_vs_floor": round(report_seconds / floor_seconds, 2),
        "report_vs_floor_target": 2.5,
        "projects": projects,
        "batch_jobs1_seconds": round(serial, 1),
        "batch_jobs2_seconds": round(parallel, 1),
        "batch_speedup": round(serial / parallel, 2),
        "batch_speedup_target": 1.6,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
