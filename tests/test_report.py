"""Report runs: one batch of two sample projects and a broken one (run once per session), its
artefacts checked against the engine, atomic replacement, and bad input."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_DIR, one_cell_notebook

from ctlib._cli import main
from ctlib._compute.engine import RESULT_COLUMNS
from ctlib._data.ingest import load_project_data
from ctlib._errors import ReportError
from ctlib._publish import releases, report
from ctlib._publish.report_sections import prepare
from ctlib._publish.views import iptt

PROJECTS = ("safe_journeys", "shelter_and_recovery")
BROKEN = "broken_project"
_batch = {}


def sample_batch(tmp_path_factory) -> dict:
    """`ctlib report --all` over copies of two sample projects and a broken one,
    once per session."""
    if not _batch:
        data_dir = tmp_path_factory.mktemp("data")
        for name in PROJECTS:
            shutil.copytree(SAMPLE_DIR / name, data_dir / name)
        (data_dir / BROKEN).mkdir()
        (data_dir / BROKEN / "project.yaml").write_text("project: {id: broken_project}\n")
        out_dir = tmp_path_factory.mktemp("reports")
        result = CliRunner().invoke(
            main,
            [
                "report",
                "--all",
                str(data_dir),
                "--period",
                "latest",
                "--jobs",
                "2",
                "--out",
                str(out_dir),
            ],
        )
        _batch.update(
            data_dir=data_dir,
            out_dir=out_dir,
            result=result,
            folders={
                name: next((out_dir / name).iterdir())
                for name in PROJECTS
                if (out_dir / name).is_dir()
            },
        )
    return _batch


@pytest.fixture(scope="session")
def batch(tmp_path_factory):
    return sample_batch(tmp_path_factory)


pytestmark = pytest.mark.notebook


def test_batch_reports_the_good_projects_and_fails_for_the_broken_one(batch):
    result = batch["result"]
    assert result.exit_code == 1, result.output
    assert set(batch["folders"]) == set(PROJECTS)
    for folder in batch["folders"].values():
        names = sorted(p.name for p in folder.iterdir())
        assert names == [
            "indicators.csv",
            "iptt.xlsx",
            "manifest.json",
            "report.html",
            "report.ipynb",
        ]
    lines = result.stdout.splitlines()
    assert re.match(r"project\s+period\s+status\s+seconds", lines[0])
    broken = next(line for line in lines if line.startswith(BROKEN))
    assert "FAILED" in broken and "project.yaml" in broken
    assert sum(" ok " in line for line in lines) == 2
    assert not list(batch["out_dir"].glob("*/.*building*"))


def test_latest_is_resolved_before_the_run(batch):
    assert batch["folders"]["safe_journeys"].name == "2026-Q3"
    assert batch["folders"]["shelter_and_recovery"].name == "FY2026-Q4"
    book = nbformat.read(batch["folders"]["safe_journeys"] / "report.ipynb", as_version=4)
    injected = next(c for c in book.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'period = "2026-Q3"' in injected.source and 'audience = "donor"' in injected.source


def test_the_last_cell_writes_the_files_and_shows_nothing(batch):
    folder = batch["folders"]["shelter_and_recovery"]
    book = nbformat.read(folder / "report.ipynb", as_version=4)
    last = book.cells[-1]
    assert last.source == "report.write_files()" and last.outputs == []
    assert "results_sha256" not in (folder / "report.ipynb").read_text()  # report.json's facts
    assert {"indicators.csv", "iptt.xlsx"} <= {f.name for f in folder.iterdir()}


def test_index_links_every_report_with_its_status(batch):
    page = (batch["out_dir"] / "index.html").read_text()
    for name, folder in batch["folders"].items():
        assert f'href="{name}/{folder.name}/report.html"' in page
    assert re.search(
        rf"{BROKEN}</td><td>latest</td><td class=\"failed\">failed: [^<]*project.yaml", page
    )
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


@pytest.mark.parametrize("name", PROJECTS)
def test_indicators_csv_is_the_release_the_ledger_recorded(batch, name):
    folder = batch["folders"][name]
    project_dir = batch["data_dir"] / name
    listed = releases.listing(project_dir)
    assert listed["period"].tolist() == [folder.name] and listed["kind"].tolist() == ["report"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["release"] == {
        "release_id": int(listed["release_id"].iloc[0]),
        "ledger_state": releases.ledger_state(project_dir),
    }
    expected = releases.published(project_dir).table
    written = pd.read_csv(folder / "indicators.csv", keep_default_na=False, na_values=[""])
    assert len(written) == len(expected)
    assert list(written.columns) == [*RESULT_COLUMNS, "is_draft"]
    assert written["is_draft"].all()  # not approved
    for column in ("indicator_id", "period", "dimension", "category", "status"):
        assert written[column].astype(str).tolist() == expected[column].astype(str).tolist()
    for column in ("numerator", "denominator", "value", "target", "achievement"):
        pd.testing.assert_series_equal(
            written[column].astype(float),
            expected[column].astype(float),
            check_names=False,
            rtol=1e-12,
        )
    assert written["suppressed"].tolist() == expected["suppressed"].tolist()
    assert written["suppression"].fillna("").tolist() == expected["suppression"].fillna("").tolist()
    assert set(written["audience"]) == {"donor"}
    again = prepare(project_dir, folder.name).results.table  # a report now: the same figures
    assert again["value"].equals(expected["value"].astype(again["value"].dtype))


def test_iptt_xlsx_has_the_pillar_sheets_and_the_engine_values(batch):
    folder = batch["folders"]["shelter_and_recovery"]
    prepared = prepare(batch["data_dir"] / "shelter_and_recovery", folder.name)
    expected = iptt(prepared.results, prepared.data.catalogue).set_index("indicator_id")
    book = openpyxl.load_workbook(folder / "iptt.xlsx")
    assert book.sheetnames == ["Prevention", "Protection", "Prosecution", "Partnership", "Notes"]
    period = folder.name
    checked = 0
    for sheet in book.worksheets[:4]:
        header = [c.value for c in sheet[1]]
        if "indicator_id" not in header:
            continue
        for row in sheet.iter_rows(min_row=2, values_only=True):
            cells = dict(zip(header, row))
            want = expected.loc[cells["indicator_id"]]
            if want[f"{period} status"] == "suppressed":
                why = want[f"{period} hidden because"]
                assert cells[f"{period} actual"] == prepared.presentation.hidden(want["unit"], why)
                assert cells[f"{period} actual"] in ("<5", "hidden", "hidden (<5)")
            elif pd.isna(want[f"{period} actual"]):
                assert cells[f"{period} actual"] is None  # no data: an empty cell
            else:
                assert cells[f"{period} actual"] == pytest.approx(want[f"{period} actual"])
            assert cells[f"{period} status"] == want[f"{period} status"]
            checked += 1
    assert checked == len(expected)
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert notes["Period"].startswith(period) and notes["Audience"] == "donor"
    assert notes["Catalogue version"] == prepared.data.catalogue.version


@pytest.mark.parametrize("name", PROJECTS)
def test_manifest_hashes_match_the_input_files(batch, name):
    folder = batch["folders"][name]
    manifest = json.loads((folder / "manifest.json").read_text())
    data = load_project_data(batch["data_dir"] / name)
    expected = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in data.input_files
    }
    assert manifest["inputs"] == expected
    assert "project.yaml" in expected
    assert manifest["parameters"] == {
        "project": name,
        "period": folder.name,
        "audience": "donor",
        "min_cell_size": None,
        "period_requested": "latest",
    }
    assert set(manifest["step_seconds"]) == {"notebook", "html"}
    # one source of truth: the csv the kernel wrote is the table the manifest hashes
    csv_hash = hashlib.sha256((folder / "indicators.csv").read_bytes()).hexdigest()
    assert manifest["results_sha256"] == csv_hash
    assert manifest["catalogue_version"] == data.catalogue.version
    assert manifest["started"] <= manifest["finished"]


@pytest.mark.parametrize(
    "name, table, column",
    [
        ("shelter_and_recovery", "cases", "case_id"),
        ("safe_journeys", "participants", "participant_id"),
    ],
)
def test_report_html_is_self_contained_and_holds_no_case_ids(batch, name, table, column):
    page = (batch["folders"][name] / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\bsrc=", page) and not re.search(
        r"<link[^>]*stylesheet", page
    )
    ids = load_project_data(batch["data_dir"] / name).tables[table][column].dropna()
    assert len(ids) > 20
    assert not [i for i in ids if i in page]


@pytest.mark.parametrize("name", PROJECTS)
def test_a_donor_report_holds_no_server_path(batch, name):
    folder = batch["folders"][name]
    for file in ("report.ipynb", "manifest.json", "report.html"):
        text = (folder / file).read_text()
        assert str(batch["data_dir"]) not in text and str(batch["out_dir"]) not in text
        assert "/tmp/" not in text and "building-" not in text


def test_report_html_shows_no_code_prompts_or_tracebacks(batch):
    page = (batch["folders"]["shelter_and_recovery"] / "report.html").read_text()
    body = page[page.index("<main>") :]
    for text in (
        "sections.prepare",
        "import ",
        "Traceback",
        "hl-ipython3",
        'class="jp-InputPrompt',
        'class="jp-OutputPrompt',
        "hide-in-report",
        "Quarterly report (workbook)",
        "stderr",
    ):
        assert text not in body
    for heading in (
        "Executive summary",
        "Indicator performance tracking table",
        "Results by pillar",
        "Disaggregations",
        "Annex A: revisions to earlier periods",
        "Annex B: data quality",
        "Annex C: methodology",
        "Annex D: provenance",
    ):
        assert heading in page
    svgs = re.findall(r"<svg [^>]*>", page)
    assert len(svgs) >= 6 and all('role="img"' in s and 'aria-label="' in s for s in svgs)
    assert "Furthest ahead of target" in page and "Furthest behind target" in page


def test_report_html_reads_as_nbconvert_writes_it(batch, tmp_path):
    """report.html is nbconvert's HTMLExporter page without its BeautifulSoup pass: the same page
    once parsed (outputs focusable, images given alt text), its SVG as vl-convert wrote it."""
    import jinja2
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    book = nbformat.read(batch["folders"]["shelter_and_recovery"] / "report.ipynb", as_version=4)
    book.cells[-1].outputs.append(
        nbformat.v4.new_output("display_data", {"text/html": '<img src="a.png"><img alt="b">'})
    )
    options = dict(
        extra_loaders=[jinja2.DictLoader({"ctlib_report.html.j2": report.HTML_TEMPLATE})],
        template_file="ctlib_report.html.j2",
        exclude_input=True,
    )
    theirs, _ = HTMLExporter(**options).from_notebook_node(book)
    ours, _ = report._report_exporter()(**options).from_notebook_node(book)
    assert ours != theirs and "viewBox" in ours and 'tabindex="0"' in ours
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    assert ours.count(report.NO_ALT_TEXT) == 1


def test_a_page_loading_from_another_server_is_refused(tmp_path):
    """Also when the reference is written with character references (as a browser decodes them)."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    page = '<a href="&#47;&#47;example.org/x">x</a>'
    book.cells[0].outputs = [nbformat.v4.new_output("display_data", {"text/html": page})]
    nbformat.write(book, tmp_path / "report.ipynb")
    with pytest.raises(ReportError, match="another server"):
        report.export_html(tmp_path / "report.ipynb", tmp_path / "report.html")


def _failing_notebook(path: Path) -> Path:
    book = nbformat.read(report.NOTEBOOK, as_version=4)
    book.cells.insert(3, nbformat.v4.new_code_cell('raise ValueError("the chart server is down")'))
    nbformat.write(book, path)
    return path


def test_a_failing_cell_keeps_the_previous_report_and_names_the_error(batch, tmp_path):
    out_dir = tmp_path / "reports"
    good = batch["folders"]["safe_journeys"]
    shutil.copytree(good, out_dir / "safe_journeys" / good.name)
    before = (out_dir / "safe_journeys" / good.name / "report.html").read_bytes()
    data_dir = tmp_path / "data"
    shutil.copytree(batch["data_dir"] / "safe_journeys", data_dir / "safe_journeys")
    outcomes = report.run_batch(
        data_dir,
        "latest",
        out_dir,
        progress=False,
        notebook=_failing_notebook(tmp_path / "failing.ipynb"),
    )
    assert len(outcomes) == 1 and not outcomes[0].ok
    assert outcomes[0].error == "a notebook cell failed: ValueError: the chart server is down"
    assert outcomes[0].directory == out_dir / "safe_journeys" / good.name
    assert (out_dir / "safe_journeys" / good.name / "report.html").read_bytes() == before
    assert sorted(p.name for p in (out_dir / "safe_journeys").iterdir()) == [good.name]
    assert "previous report kept" in (out_dir / "index.html").read_text()


def test_publish_replaces_a_report_whole(tmp_path):
    destination = tmp_path / "p" / "2026-Q1"
    destination.mkdir(parents=True)
    (destination / "report.html").write_text("old")
    (destination / "stale.csv").write_text("old")
    built = tmp_path / "p" / ".building"
    built.mkdir()
    (built / "report.html").write_text("new")
    report.publish(built, destination)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["2026-Q1"]
    assert [p.name for p in destination.iterdir()] == ["report.html"]
    assert (destination / "report.html").read_text() == "new"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["nowhere"], "nowhere: give the folder of a project"),
        (
            [str(SAMPLE_DIR / "safe_journeys"), "--period", "2031-Q1"],
            "period '2031-Q1' is outside the project span",
        ),
        (
            [str(SAMPLE_DIR / "safe_journeys"), "--period", "FY2026-Q1"],
            "is not a label of this project's calendar",
        ),
        (["--all", "nowhere"], "no folder nowhere: give the folder that holds the project folders"),
    ],
)
def test_bad_input_is_one_line_saying_what_to_fix(arguments, message, tmp_path):
    result = CliRunner().invoke(main, ["report", *arguments, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_invalid_data_is_one_line(tmp_path):
    project = tmp_path / "safe_journeys"
    shutil.copytree(SAMPLE_DIR / "safe_journeys", project)
    text = (project / "activities.csv").read_text().splitlines()
    text[1] = re.sub(r"\d{4}-\d{2}-\d{2}", "someday", text[1], count=1)
    (project / "activities.csv").write_text("\n".join(text) + "\n")
    result = CliRunner().invoke(main, ["report", str(project), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "activities.csv" in result.stderr and "someday" in result.stderr


def test_ensure_kernel_runs_this_python():
    from jupyter_client.kernelspec import KernelSpecManager

    name = report.ensure_kernel()
    assert KernelSpecManager().get_kernel_spec(name).argv[0] == sys.executable


def test_pdf_says_why_when_chromium_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(report, "chromium", lambda: None)
    assert "Chromium is not installed" in report.print_pdf(tmp_path / "r.html", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_a_kernel_that_fails_to_start_is_retried_once(monkeypatch, tmp_path):
    import papermill

    real, calls = papermill.execute_notebook, []

    def flaky(*args, **kwargs):
        calls.append(kwargs["kernel_name"])
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    one_cell_notebook(tmp_path / "one.ipynb", "x = 6 * 7\nx")
    report.execute_notebook(tmp_path / "one.ipynb", tmp_path / "out.ipynb", {}, cwd=tmp_path)
    assert calls == ["ctlib", "ctlib"]
    assert (
        nbformat.read(tmp_path / "out.ipynb", as_version=4)
        .cells[-1]
        .outputs[0]["data"]["text/plain"]
        == "42"
    )


def test_a_kernel_failing_twice_is_a_report_error(monkeypatch, tmp_path):
    import papermill

    def dead(*args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", dead)
    with pytest.raises(
        ReportError, match="the notebook's kernel failed twice: RuntimeError: Kernel died"
    ):
        report.execute_notebook(tmp_path / "one.ipynb", tmp_path / "out.ipynb", {}, cwd=tmp_path)


def test_the_methodology_annex_prints_each_reference_sheet():

    report = prepare(SAMPLE_DIR / "shelter_and_recovery", "FY2026-Q4")
    text = html.unescape(re.sub(r"<[^>]+>", " ", report.methodology_annex().data))
    flat = " ".join(text.split())
    for heading in (
        "Counting unit and double counting",
        "Collected by",
        "Reported by",
        "Collection timing",
        "Reporting lag",
        "Known data limitations",
        "Baseline timeframe",
        "Rationale for targets",
        "Data-quality assessments",
        "Change log",
    ):
        assert flat.count(heading) == len(report.data.project.indicators), heading
    # the catalogue's guidance, or the project's own rationale; the project's assessment dates
    assert "The caseload the funded case workers can hold (25 each)." in flat
    assert "last: 15 Jun 2025; next: 15 Jun 2026" in flat
    assert "One unit: one victim who received a service. People are counted by person_id" in flat
    assert "PROT-28 · Share of closed cases followed by re-trafficking within 12 months" in flat
