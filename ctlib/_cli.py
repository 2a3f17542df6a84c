"""The `ctlib` command: catalogue, projects, checks, results, reports and the dashboard.

Every command turns a CtlibError into a short message on stderr and exit code 2; a user never
sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import __version__
from ._apps.voila_server import KernelLimits
from ._errors import CtlibError


def friendly_errors(command):
    """Print a CtlibError as its message and exit 2, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CtlibError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctlib")
def main():
    """ctlib: performance indicators for counter-trafficking projects."""


@main.command()
@click.argument("project_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="The project's name (default: from the folder name).")
@click.option(
    "--indicators", default="", help="Catalogue ids, comma-separated, e.g. PROT-02,PROT-10."
)
@click.option(
    "--xlsform",
    is_flag=True,
    help="Also write an XLSForm (KoboToolbox, ODK) per table the indicators need, in forms/; "
    "on an existing project, write only the forms.",
)
@friendly_errors
def new(project_dir, name, indicators, xlsform):
    """Scaffold a project: a commented project.yaml and blank data templates (csv and xlsx)."""
    from ._data.project import PROJECT_FILE, new_project

    ids = [i.strip() for i in indicators.split(",") if i.strip()]
    exists = (project_dir / PROJECT_FILE).exists()
    if exists and xlsform and (name or ids):
        raise click.UsageError(
            f"{project_dir / PROJECT_FILE} exists: --xlsform writes only its forms, for the "
            "indicators it selects; --name and --indicators are for a new project"
        )
    if not (exists and xlsform):
        for path in new_project(project_dir, name=name, indicator_ids=ids, forms=xlsform):
            click.echo(f"created {path}")
    if xlsform:
        _write_forms(project_dir)


def _write_forms(project_dir: Path) -> None:
    from ._publish.xlsform import write_forms

    written = write_forms(project_dir)
    if not written:
        click.echo("no form: project.yaml selects no indicator (add some, then run this again)")
    for form in written:
        if form.is_new:
            click.echo(f"created {form.path}")
        else:
            click.echo(
                f"kept {form.path}: a file of that name is there (move it away to write the form "
                "anew)"
            )
    if any(form.is_new for form in written):
        click.echo(
            "Upload each form to KoboToolbox or ODK Central. Export the submissions (KoboToolbox: "
            "xlsx or csv, 'XML values and headers'; ODK Central: csv) into the project and point "
            "the table's source at the export, e.g. cases: {file: data/cases-export.xlsx, "
            "format: kobo}, or format: odk: no column map is needed."
        )


@main.command()
@click.argument("project_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly_errors
def check(project_dir):
    """Validate a project's data and run the quality checks; exit 1 when there are errors."""
    from ._publish.check import check_project

    result = check_project(project_dir)
    click.echo(result.text())
    sys.exit(0 if result.passed else 1)


CATALOGUE_OPTION = click.option(
    "--catalogue",
    "catalogue_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML file of the team's own indicators, added to the built-in ones (repeatable).",
)


@main.group()
@CATALOGUE_OPTION
@click.pass_context
def catalogue(ctx, catalogue_files):
    """Browse, read and export the indicator catalogue."""
    ctx.obj = tuple(catalogue_files)


def _load_catalogue(ctx):
    from ._catalogue import load_catalogue

    return load_catalogue(ctx.obj)


@catalogue.command("list")
@click.option(
    "--pillar", type=click.Choice(["prevention", "protection", "prosecution", "partnership"])
)
@click.option("--level", type=click.Choice(["process", "output", "outcome", "impact"]))
@click.option("--area", help="Sub-area, e.g. 'referral' or 'awareness raising'.")
@click.option("--unit", type=click.Choice(["count", "percent", "ratio", "rate", "yes_no", "score"]))
@click.option("--search", help="Words to find in id, name, definition, area or references.")
@click.pass_context
@friendly_errors
def catalogue_list(ctx, pillar, level, area, unit, search):
    """List the indicators as an aligned table, with a count."""
    import shutil

    from ._catalogue import list_table

    loaded = _load_catalogue(ctx)
    chosen = loaded.filter(pillar=pillar, area=area, level=level, unit=unit)
    if search:
        found = {indicator.id for indicator in loaded.search(search)}
        chosen = [indicator for indicator in chosen if indicator.id in found]
    if chosen:
        click.echo(list_table(chosen, width=shutil.get_terminal_size((100, 24)).columns))
    pillars = {}
    for indicator in chosen:
        pillars[indicator.pillar] = pillars.get(indicator.pillar, 0) + 1
    breakdown = f" ({', '.join(f'{p} {n}' for p, n in pillars.items())})" if pillars else ""
    total = f"{len(chosen)} of {len(loaded)}" if len(chosen) < len(loaded) else f"{len(chosen)}"
    click.echo(f"{total} indicators{breakdown}")


@catalogue.command("show")
@click.argument("indicator_id")
@click.pass_context
@friendly_errors
def catalogue_show(ctx, indicator_id):
    """Print the reference sheet of one indicator."""
    import shutil

    from ._catalogue import reference_sheet

    indicator = _load_catalogue(ctx).get(indicator_id)
    click.echo(
        reference_sheet(indicator, width=min(shutil.get_terminal_size((88, 24)).columns, 100))
    )


@catalogue.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "md"]))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@click.pass_context
@friendly_errors
def catalogue_export(ctx, fmt, out):
    """Write the whole catalogue to a csv, xlsx or markdown file."""
    from ._catalogue import export_catalogue

    loaded = _load_catalogue(ctx)
    try:
        export_catalogue(loaded, out, fmt)
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"Wrote {len(loaded)} indicators to {out}")


@main.command()
@click.argument("name", required=False)
@click.option(
    "--markdown", is_flag=True, help="Print the data guide's markdown (docs/data.md) instead."
)
@CATALOGUE_OPTION
@friendly_errors
def tables(name, markdown, catalogue_files):
    """The standard tables, or one table's columns: type, required, allowed values, meaning and
    the indicators using each."""
    import shutil

    from ._catalogue import load_catalogue
    from ._data.tables import TABLES
    from ._publish.data_guide import table_markdown, table_text, tables_markdown, tables_text

    loaded = load_catalogue(catalogue_files)
    if name is not None and name not in TABLES:
        import difflib

        match = difflib.get_close_matches(name, list(TABLES), n=1)
        hint = f"; did you mean {match[0]!r}?" if match else ""
        raise click.UsageError(
            f"{name!r} is not a standard table; tables: {', '.join(TABLES)}{hint}"
        )
    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    if markdown:
        click.echo(table_markdown(name, loaded) if name else tables_markdown(loaded))
    else:
        click.echo(table_text(name, loaded, width) if name else tables_text(loaded, width))


def kernel_limit_options(max_kernels: int):
    """The --max-kernels, --idle-timeout and --open-idle-timeout options, passed on as `limits`."""
    defaults = KernelLimits()

    def decorate(command):
        @click.option(
            "--max-kernels",
            default=max_kernels,
            show_default=True,
            type=click.IntRange(1),
            help="Pages served at once (each holds a Python kernel of about 350 MB); beyond it "
            "a visitor gets a 'busy, try again in a minute' page (HTTP 503). "
            "A pre-heated kernel comes on top.",
        )
        @click.option(
            "--idle-timeout",
            default=defaults.idle_timeout_s,
            show_default=True,
            type=click.IntRange(1),
            metavar="SECONDS",
            help="Shut down a kernel that no page is connected to (closed without notice, or "
            "a request that never opened the page) after this long without activity.",
        )
        @click.option(
            "--open-idle-timeout",
            default=defaults.open_idle_timeout_s,
            show_default=True,
            type=click.IntRange(0),
            metavar="SECONDS",
            help="Shut down a kernel after this long without activity even if its page is "
            "still open; reloading the page starts a new one (0: never).",
        )
        @functools.wraps(command)
        def wrapper(*args, max_kernels, idle_timeout, open_idle_timeout, **kwargs):
            limits = KernelLimits(max_kernels, idle_timeout, open_idle_timeout)
            return command(*args, limits=limits, **kwargs)

        return wrapper

    return decorate


def token_option(envvar: str, is_required: bool):
    """The --token option of a server (from `envvar` too); a required one is made when not given."""
    made = " (default: a new one, printed with the address)" if is_required else ""
    return click.option(
        "--token",
        default=None,
        envvar=envvar,
        help=f"Require this token{made}: open the page once with ?token=... (it sets a cookie); "
        f"env {envvar} keeps it out of `ps`.",
    )


def _public_url(_ctx, _param, urls: tuple[str, ...]) -> tuple[str, ...]:
    from ._apps.voila_access import public_origin

    for url in urls:
        try:
            public_origin(url)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return urls


LEDGER_OPTION = click.option(
    "--ledger",
    "ledger",
    envvar="CTLIB_LEDGER_URL",
    help="The release ledger's database URL (default: PROJECT_DIR/.ctlib/releases.sqlite, or "
    "releases.database in project.yaml).",
)


@main.command()
@click.argument("data_dir", default="data/sample", type=click.Path(file_okay=False))
@click.option(
    "--port",
    default=8866,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1.",
)
@token_option("CTLIB_DASHBOARD_TOKEN", is_required=False)
@click.option(
    "--public-url",
    "public_urls",
    multiple=True,
    callback=_public_url,
    metavar="https://NAME",
    help="The address a reverse proxy serves the dashboard at: its name is answered as Host and "
    "its pages as Origin, besides 127.0.0.1 and localhost (repeatable).",
)
@kernel_limit_options(max_kernels=KernelLimits().max_kernels)
@friendly_errors
def dashboard(data_dir, port, token, public_urls, limits):
    """Serve the donor dashboard of every project in DATA_DIR with Voilà, on 127.0.0.1 only."""
    from ._apps.dashboard import serve

    serve(data_dir, port=port, token=token, limits=limits, public_urls=public_urls)


WORKBOOKS = {  # each workbook, and the parameter that says what it opens
    "pick_indicators": "project_dir=/path/to/project",
    "explore": "data_dir=/path/to/projects",
}
WORKBOOK_MAX_KERNELS = 4  # a workbook has one user, an evaluator, with a few pages at most


@main.command()
@click.argument("name", type=click.Choice(list(WORKBOOKS)))
@click.option(
    "--port",
    default=8867,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1.",
)
@token_option("CTLIB_WORKBOOK_TOKEN", is_required=True)
@kernel_limit_options(max_kernels=WORKBOOK_MAX_KERNELS)
@friendly_errors
def workbook(name, port, token, limits):
    """Open a workbook as a page (Voilà, offline, on 127.0.0.1 only);
    its parameters come from the URL.

    The workbooks show case-level, unsuppressed data: the page needs the token. For example
    http://127.0.0.1:8867/?token=...&project_dir=/path/to/project for pick_indicators.
    """
    from ._apps.voila_server import serve
    from ._resources import notebook

    click.echo(f"{name}: add &{WORKBOOKS[name]} to the address below.")
    serve(notebook(name), port, token, limits=limits, token_required=True)


@main.command("results")
@click.argument("project_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--period",
    default="latest",
    show_default=True,
    help="Period label (e.g. 2026-Q2), latest or all.",
)
@click.option(
    "--audience", default="donor", show_default=True, type=click.Choice(["donor", "internal"])
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", "csv"]),
    help=(
        "table: aligned text, small counts as <k; csv: the view's numbers (results: every column)."
    ),
)
@click.option(
    "--view",
    default="results",
    show_default=True,
    type=click.Choice(["results", "iptt", "summary"]),
)
@LEDGER_OPTION
@friendly_errors
def results_command(project_dir, period, audience, fmt, view, ledger):
    """Print a project's results, IPTT or pillar summary: for donors as they were published (the
    release ledger: approved figures, drafts, every report's protection), internally computed now.
    """
    from ._format import csv_safe_frame
    from ._publish.views import formatted, iptt, pillar_summary, results_table

    if audience == "donor":
        results, project, catalogue, presentation, said = _published_results(
            project_dir, period, ledger
        )
    else:
        from ._compute.engine import compute
        from ._compute.privacy import suppress
        from ._data.ingest import load_project_data
        from ._publish.presentation import Presentation

        data = load_project_data(project_dir)
        project, catalogue = data.project, data.catalogue
        presentation = Presentation.of(data, audience)
        results = suppress(compute(data, periods=period), presentation.k, audience)
        said = ", ".join(p.label for p in results.periods)
    for problem in results.problems:
        click.echo(f"{problem.severity.capitalize()}: {problem}", err=True)
    full_table = fmt == "csv"  # csv of the results view: every column, audience included
    shown = {
        "results": lambda: results.table if full_table else results_table(results),
        "iptt": lambda: iptt(results, catalogue),
        "summary": lambda: pillar_summary(results, catalogue),
    }[view]()
    if fmt == "csv":
        click.echo(csv_safe_frame(shown).to_csv(index=False), nl=False)
        return
    click.echo(f"{project.project.name} · {said} · {presentation.audience_note()}")
    click.echo(formatted(shown, presentation).to_string(index=False))


def _published_results(project_dir: Path, period: str, ledger: str | None):
    """(results, project, catalogue, presentation, what they are) of the donor figures as
    published."""
    from ._data.project import load_project_file
    from ._errors import CtlibError
    from ._publish.presentation import Presentation
    from ._publish.releases import published

    if period == "all":
        period = "latest"  # a release holds every period up to its own
    loaded = load_project_file(project_dir, with_data_files=False)
    project, catalogue = loaded.project, loaded.catalogue
    results = published(project_dir, project, period, ledger)
    if results is None:
        which = "" if period == "latest" else f" of {period}"
        raise CtlibError(
            f"no donor release{which} of {project_dir.name} yet: `ctlib report {project_dir}` "
            "publishes one (and records it); --audience internal shows the live figures"
        )
    drafted = set(results.table.loc[results.table["is_draft"], "period"])
    drafts = [p.label for p in results.periods if p.label in drafted]
    said = (
        f"as published in release {results.release.release_id} "
        f"({', '.join(p.label for p in results.periods)}"
        + (f"; draft: {', '.join(drafts)})" if len(drafts) else "; all approved)")
    )
    return results, project, catalogue, Presentation.of_project(project, catalogue), said


@main.group()
def export():
    """Write a project's results in a format other systems read (IATI)."""


@export.command("iati")
@click.argument("project_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--period",
    default="latest",
    show_default=True,
    help=(
        "The released period to publish (every period up to it is), e.g. 2026-Q2; "
        "latest: the last one released."
    ),
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The IATI activity file to write, e.g. reports/my-project/2026-Q2/iati-activities.xml.",
)
@click.option(
    "--report-url",
    default="report.html",
    show_default=True,
    help="Where donors read the report: https://... or an address relative to the XML file.",
)
@LEDGER_OPTION
@friendly_errors
def export_iati_command(project_dir, period, out_file, report_url, ledger):
    """Write PROJECT_DIR's published results as an IATI 2.03 activity file (the donor figures its
    reports released, from the release ledger)."""
    from ._publish.iati import export_iati

    written = export_iati(project_dir, period, out_file, report_url, ledger)
    click.echo(f"IATI activity file written to {written}")


@main.group()
def release():
    """Donor releases: list them, approve a period (its figures stand), revise an approved one."""


PROJECT_ARGUMENT = click.argument(
    "project_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@release.command("list")
@PROJECT_ARGUMENT
@LEDGER_OPTION
@friendly_errors
def release_list(project_dir, ledger):
    """The project's donor releases, oldest first, with approvals and hidden cells by reason."""
    from ._publish.releases import listing

    table = listing(project_dir, ledger)
    if table.empty:
        click.echo(f"No donor release of {project_dir.name} yet: `ctlib report` records one.")
        return
    shown = table.assign(
        released_at=table["released_at"].map(lambda t: f"{t:%Y-%m-%d %H:%M}"),
        approved=[
            "" if pd_isna(at) else f"{by}, {at:%Y-%m-%d}"
            for by, at in zip(table["approved_by"], table["approved_at"])
        ],
        note=table["note"].fillna(""),
    )
    columns = ["release_id", "period", "kind", "released_at", "approved"]
    columns += ["hidden_primary", "hidden_complementary", "hidden_source", "note"]
    click.echo(shown[columns].to_string(index=False))


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


@release.command("approve")
@PROJECT_ARGUMENT
@click.option("--period", required=True, help="The period to approve, e.g. 2026-Q2.")
@click.option("--by", "by", help="Who approves (default: the user's login name).")
@LEDGER_OPTION
@friendly_errors
def release_approve(project_dir, period, by, ledger):
    """Approve the latest donor release of PERIOD: later releases show its figures as they were."""
    from ._publish.releases import approve

    release_id = approve(project_dir, period, by, ledger)
    click.echo(f"Approved {period} (release {release_id}): its figures now stand until revised.")


@release.command("revise")
@PROJECT_ARGUMENT
@click.option("--period", required=True, help="The approved period to revise, e.g. 2026-Q2.")
@click.option("--note", required=True, help="Why the figures change; every later report lists it.")
@click.option("--by", "by", help="Who approves the revision (default: the user's login name).")
@LEDGER_OPTION
@friendly_errors
def release_revise(project_dir, period, note, by, ledger):
    """Publish PERIOD again from today's data, approved, with a note for the revisions annex."""
    from ._publish.releases import revise

    recorded = revise(project_dir, period, note, by, ledger)
    changed = recorded.results.release.revisions
    changed = changed[changed["period"].notna()]
    click.echo(
        f"Revised {recorded.period} (release {recorded.release_id}); "
        f"{len(changed)} figure(s) of earlier periods changed so far in this project's revisions."
    )


@main.command()
@click.argument("project_dir", required=False, type=click.Path(path_type=Path))
@click.option(
    "--all",
    "data_dir",
    type=click.Path(path_type=Path),
    help="Report every project folder in DATA_DIR.",
)
@click.option(
    "--period", default="latest", show_default=True, help="Period label, e.g. 2026-Q2, or latest."
)
@click.option(
    "--out", "out_dir", default="reports", show_default=True, type=click.Path(path_type=Path)
)
@click.option(
    "--audience", default="donor", show_default=True, type=click.Choice(["donor", "internal"])
)
@click.option(
    "--min-cell-size", type=click.IntRange(1), help="Smallest count shown (default: the project's)."
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Reports run at once (--all).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:8786",
    help="Run the batch (--all) on this Dask cluster (pip install 'ctlib[dask]').",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="A report taking longer fails (its kernel is stopped); the others go on.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Keep each report whose inputs, parameters and code are unchanged since its last success.",
)
@click.option("--pdf", is_flag=True, help="Also print report.pdf with the local Chromium.")
@click.option(
    "--approve",
    is_flag=True,
    help="Approve the report's figures: later reports show them as they are now, until revised "
    "(ctlib release revise). Donor reports only.",
)
@click.option("--by", "by", help="Who approves with --approve (default: the user's login name).")
@LEDGER_OPTION
@friendly_errors
def report(
    project_dir,
    data_dir,
    period,
    out_dir,
    audience,
    min_cell_size,
    jobs,
    scheduler,
    timeout,
    resume,
    pdf,
    approve,
    by,
    ledger,
):
    """Run the quarterly report of PROJECT_DIR, or of every project with --all DATA_DIR.

    A donor report is a release: recorded in the project's release ledger when it is published,
    its small counts hidden consistently with every earlier release (see `ctlib release`)."""
    from ._errors import ReportError
    from ._publish.report import (
        index_name,
        one_line,
        run_batch,
        run_report,
        summary_table,
        usable_out_dir,
    )

    if (project_dir is None) == (data_dir is None):
        raise click.UsageError("give either PROJECT_DIR or --all DATA_DIR")
    if scheduler and (project_dir is not None or jobs != 1):
        raise click.UsageError(
            "--scheduler runs a batch (--all) on the cluster's workers: no --jobs"
        )
    if by and not approve:
        raise click.UsageError("--by names who approves: give --approve too")
    if approve and audience != "donor":
        raise click.UsageError("--approve approves a donor report's figures: not an internal one")
    usable_out_dir(out_dir)
    options = {"audience": audience, "min_cell_size": min_cell_size, "pdf": pdf}
    options |= {"timeout": timeout, "resume": resume, "ledger": ledger}
    if approve:
        from ._publish.releases import who

        options["approved_by"] = by or who()
    if project_dir is not None:
        try:
            run = run_report(project_dir, period, out_dir, **options)
        except CtlibError as error:
            raise ReportError(one_line(error)) from None
        for note in run.notes:
            click.echo(note, err=True)
        verb = "unchanged, kept" if run.is_unchanged else "written to"
        click.echo(f"Report {verb} {run.directory}")
        return
    if scheduler:
        from ._publish.cluster import dask_executor

        with dask_executor(scheduler) as executor:
            runs = run_batch(data_dir, period, out_dir, executor=executor, **options)
    else:
        runs = run_batch(data_dir, period, out_dir, jobs=jobs, **options)
    click.echo(summary_table(runs))
    click.echo(f"Index of the reports: {Path(out_dir) / index_name(audience)}")
    if not all(r.ok for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
