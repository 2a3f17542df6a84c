"""ctlib: performance indicators for counter-trafficking projects.

The public API, for notebooks and scripts (everything under a `_`-named module is internal)::

    import ctlib

    data = ctlib.load_project_data("projects/safe_journeys")   # project.yaml + its files, validated
    results = ctlib.compute(data, periods="all")                # indicators × periods × categories
    donor = ctlib.suppress(results, k=5)                        # small counts hidden for donors
    ctlib.iptt(donor, data.catalogue)                           # the IPTT as a DataFrame
    ctlib.run_report("projects/safe_journeys", period="latest", out_dir="reports")

Names are imported on first use, so `import ctlib` stays light (no pandas, no Jupyter).
"""

from __future__ import annotations

__version__ = "0.1.0"

_PUBLIC = {  # name -> the internal module that defines it
    # errors
    "CtlibError": "_errors",
    "CatalogueError": "_errors",
    "UnknownIndicatorError": "_errors",
    "ProjectError": "_errors",
    "DataError": "_errors",
    "PeriodError": "_errors",
    "ComputeError": "_errors",
    "ReportError": "_errors",
    "Problem": "_errors",
    # the catalogue
    "Catalogue": "_catalogue",
    "load_catalogue": "_catalogue",
    # projects and their data
    "Project": "_data.project_model",
    "load_project": "_data.project",
    "save_project": "_data.project",
    "new_project": "_data.project",
    "ProjectData": "_data.project_data",
    "load_project_data": "_data.ingest",
    # computing
    "ReportingCalendar": "_compute.periods",
    "Period": "_compute.periods",
    "Results": "_compute.engine",
    "compute": "_compute.engine",
    "suppress": "_compute.privacy",
    "check_quality": "_compute.quality",
    "check_project": "_publish.check",
    # publishing
    "iptt": "_publish.views",
    "pillar_summary": "_publish.views",
    "portfolio": "_publish.views",
    "run_report": "_publish.report",
    "run_batch": "_publish.report",
    "open_report": "_publish.report_sections",
    "Presentation": "_publish.presentation",
    # the apps behind the workbooks and the dashboard
    "PickIndicatorsApp": "_apps.picker",
    "ExploreApp": "_apps.explorer",
    "DonorDashboardApp": "_apps.dashboard",
    "page_parameters": "_apps.common",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ctlib' has no attribute {name!r}")
    from ._fresh_stack import import_module  # altair's import is slow deep in a kernel's stack

    value = getattr(import_module(f"ctlib.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
