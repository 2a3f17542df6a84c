"""Benchmark of the quarterly reports (figures for the notes; not a timed test).

1. One report's wall time (`run_report`, every step: load, compute, exports, notebook, HTML)
   against the floor: papermill running a one-cell notebook on the same kernel, in the same run.
   Each is warmed up once (imports; the report's kernel zygote and chart renderer), then the
   fastest of a few runs counts; each report run has a fresh copy of the samples, so its ledger
   is as the samples' (no earlier release). Target: at most 4 times the floor.
2. A batch of every sample project with --jobs 2 against --jobs 1. Target: a speed-up of 1.6.
3. A batch of 20 projects (the samples, four copies each) on 2 workers (--jobs 2): CPU seconds
   per report (this process and every worker and kernel, from getrusage). Target: at most 3 s.
   The same batch on a 2-worker Dask LocalCluster against --jobs 2, in the same run. Target: the
   cluster's throughput at least 0.9 times --jobs 2's.
4. --resume of that unchanged batch against its full run. Target: at most 5 % of the full run.

The last line printed is a JSON object with the figures. Run: .venv/bin/python
benchmarks/bench_report.py (--scale-out: parts 3 and 4 only).
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from ctlib._publish.report import execute_notebook, run_batch, run_report

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
PROJECT = SAMPLE_DIR / "shelter_and_recovery"  # the largest sample project
RUNS = 5  # of the floor and of one report: the fastest counts (the floor alone spreads by 40 %)
COPIES = 4  # of each sample project: a batch of 20


def seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (workers and their kernels)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_cell_notebook(path: Path) -> Path:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, path)
    return path


def twenty_projects(folder: Path) -> Path:
    for copy in range(1, COPIES + 1):
        for project in sorted(SAMPLE_DIR.glob("*/project.yaml")):
            shutil.copytree(
                project.parent,
                folder / f"{project.parent.name}_{copy}",
                ignore=shutil.ignore_patterns(".ctlib"),
            )
    return folder


def scale_out(scratch: Path) -> dict:
    """Parts 3 and 4: a Dask LocalCluster against --jobs 2, and --resume of an unchanged batch."""
    from distributed import LocalCluster

    from ctlib._publish.cluster import dask_executor

    data_dir = twenty_projects(scratch / "twenty")
    count = len(list(data_dir.iterdir()))

    def batch(out: str, **options) -> float:
        outcomes = []
        taken = seconds(
            lambda: outcomes.extend(
                run_batch(data_dir, "latest", scratch / out, progress=False, **options)
            )
        )
        assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
        return taken

    cpu_before = cpu_seconds()
    jobs2 = batch("jobs2", jobs=2)
    cpu_per_report = (cpu_seconds() - cpu_before) / count
    # before the Dask batch, which records releases of the same projects: a donor report is built
    # again once its ledger has changed, so the batch would no longer be unchanged
    resumed = batch("jobs2", jobs=2, resume=True)
    print(
        f"batch of {count} projects on 2 workers: {cpu_per_report:.2f} s of CPU per report "
        "(target <= 3 s)"
    )
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        dask_executor(cluster.scheduler_address) as executor,  # as --scheduler does
    ):
        on_dask = batch("dask", executor=executor)
    print(
        f"batch of {count} projects: --jobs 2 {jobs2:.1f} s, 2-worker Dask LocalCluster "
        f"{on_dask:.1f} s, throughput {jobs2 / on_dask:.2f} x --jobs 2's (target >= 0.9)"
    )
    print(
        f"--resume of the unchanged batch: {resumed:.2f} s = {100 * resumed / jobs2:.1f} % of the "
        "full run (target <= 5 %)"
    )
    return {
        "scale_out_projects": count,
        "cpu_seconds_per_report": round(cpu_per_report, 2),
        "cpu_seconds_per_report_target": 3.0,
        "scale_out_jobs2_seconds": round(jobs2, 1),
        "scale_out_dask_seconds": round(on_dask, 1),
        "dask_vs_jobs2_throughput": round(jobs2 / on_dask, 2),
        "dask_vs_jobs2_target": 0.9,
        "resume_seconds": round(resumed, 2),
        "resume_share_of_full_run": round(resumed / jobs2, 3),
        "resume_share_target": 0.05,
    }


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
        floor_seconds = min(seconds(floor) for _ in range(RUNS))
        defaults_seconds = min(seconds(floor_papermill_defaults) for _ in range(RUNS))

        def samples_copy(name: str) -> Path:  # releases are recorded in the copies
            return shutil.copytree(
                SAMPLE_DIR, scratch / name, ignore=shutil.ignore_patterns(".ctlib")
            )

        def one_report(name: str) -> float:  # on a copy of its own: the ledger as in the samples
            project = samples_copy(name) / PROJECT.name
            return seconds(lambda: run_report(project, "latest", scratch / "one" / name))

        one_report("warm-up")  # as the floor's: the zygote and the chart renderer start
        report_seconds = min(one_report(f"run-{n}") for n in range(RUNS))
        samples = samples_copy("samples")
        print(
            f"floor (one-cell notebook, the runner's kernel settings): {floor_seconds:.2f} s "
            f"(papermill's defaults: {defaults_seconds:.2f} s); one report: {report_seconds:.2f} s "
            f"= {report_seconds / floor_seconds:.2f} x the floor (target <= 4)"
        )
        serial = seconds(
            lambda: run_batch(samples, "latest", scratch / "serial", jobs=1, progress=False)
        )
        parallel = seconds(
            lambda: run_batch(samples, "latest", scratch / "parallel", jobs=2, progress=False)
        )
        projects = len(list(SAMPLE_DIR.glob("*/project.yaml")))
        print(
            f"batch of {projects} projects: --jobs 1 {serial:.1f} s, --jobs 2 {parallel:.1f} s, "
            f"speed-up {serial / parallel:.2f} (target >= 1.6)"
        )
        figures = scale_out(scratch)
    return {
        **figures,
        "floor_seconds": round(floor_seconds, 2),
        "floor_papermill_defaults_seconds": round(defaults_seconds, 2),
        "report_seconds": round(report_seconds, 2),
        "report_vs_floor": round(report_seconds / floor_seconds, 2),
        "report_vs_floor_target": 4,
        "projects": projects,
        "batch_jobs1_seconds": round(serial, 1),
        "batch_jobs2_seconds": round(parallel, 1),
        "batch_speedup": round(serial / parallel, 2),
        "batch_speedup_target": 1.6,
    }


if __name__ == "__main__":
    if "--scale-out" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(scale_out(Path(folder))))
    else:
        print(json.dumps(main()))
