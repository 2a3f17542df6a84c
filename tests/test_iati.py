"""`ctlib export iati`: IATI 2.03 activity files of two sample projects, validated by the official
XSD (tests/fixtures/iati) and by the ruleset checks the XSD cannot express, and checked value by
value against the donor results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NO_LEDGER, SAMPLE_DIR
from lxml import etree

from ctlib._cli import main
from ctlib._data.project import load_project
from ctlib._data.project_model import Iati
from ctlib._data.templates import project_yaml
from ctlib._errors import ProjectError
from ctlib._format import data_number
from ctlib._publish import iati, releases

SCHEMA_DIR = Path(__file__).parent / "fixtures" / "iati"
EXPORTS = {  # project: the period asked for
    "shelter_and_recovery": "latest",  # fiscal quarters, many suppressed cells
    "justice_for_survivors": "2025-Q4",  # a decreasing indicator and yes/no (nominal) ones
}
NUMERIC_MEASURES = {"1", "2", "3", "4"}  # all but qualitative (5)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(SCHEMA_DIR / "iati-activities-schema.xsd"))


def ruleset_problems(document: etree._ElementTree) -> list[str]:
    """What IATI's rules ask beyond the XSD: identifier prefix, numeric values on numeric
    indicators, period start on or before end, periods of an indicator not overlapping."""
    problems = []
    for activity in document.iter("iati-activity"):
        identifier = activity.findtext("iati-identifier")
        ref = activity.find("reporting-org").get("ref")
        if not identifier.startswith(f"{ref}-"):
            problems.append(f"{identifier} does not start with the reporting org's ref {ref}")
        for indicator in activity.iter("indicator"):
            code = indicator.find("reference").get("code")
            spans = []
            for period in indicator.iter("period"):
                start = dt.date.fromisoformat(period.find("period-start").get("iso-date"))
                end = dt.date.fromisoformat(period.find("period-end").get("iso-date"))
                if start > end:
                    problems.append(f"{code}: period starts {start} after it ends {end}")
                spans.append((start, end))
                if indicator.get("measure") in NUMERIC_MEASURES:
                    for cell in period.findall("target") + period.findall("actual"):
                        try:
                            float(cell.get("value"))
                        except (TypeError, ValueError):
                            problems.append(
                                f"{code} {start}: {cell.tag} value {cell.get('value')!r}"
                            )
            spans.sort()
            problems += [
                f"{code}: periods overlap ({a} and {b})"
                for a, b in zip(spans, spans[1:])
                if b[0] <= a[1]
            ]
    return problems


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[etree._ElementTree, iati.Publication]]:
    """Each sample project (a copy) released by a donor report's release, exported with the
    command, and its published results."""
    data_dir, out_dir = tmp_path_factory.mktemp("projects"), tmp_path_factory.mktemp("iati")
    files = {}
    for name, period in EXPORTS.items():
        project = shutil.copytree(SAMPLE_DIR / name, data_dir / name, ignore=NO_LEDGER)
        releases.record(project, period)  # what `ctlib report` records
        out = out_dir / f"{name}.xml"
        result = CliRunner().invoke(
            main, ["export", "iati", str(project), "--period", period, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert f"IATI activity file written to {out}" in result.output
        files[name] = (etree.parse(out), iati.publication(project, period))
    return files


@pytest.mark.parametrize("name", EXPORTS)
def test_the_files_validate_against_the_iati_schema(exported, schema, name):
    document, _ = exported[name]
    assert schema.validate(document), schema.error_log
    assert ruleset_problems(document) == []


@pytest.mark.parametrize("name", EXPORTS)
def test_every_published_value_is_the_donor_result_and_every_other_cell_says_why(exported, name):
    document, report = exported[name]
    table = report.results.table
    catalogue = report.catalogue
    spans = {
        (p.start_date.isoformat(), p.end_date.isoformat()): p.label for p in report.results.periods
    }
    # an indicator's IATI periods: those of its frequency, whole ones, so that none overlap
    # (life of project overlaps them all, a year its quarters, a year to date is not a year)
    shown = {
        i: {p.label for p in report.iati_periods(catalogue.get(i))}
        for i in set(table["indicator_id"])
    }
    published, comments = {}, {}
    for indicator in document.iter("indicator"):
        code = indicator.find("reference").get("code")
        comments[code] = [c.text.strip() for c in indicator.iter(etree.Comment)]
        for period in indicator.iter("period"):
            label = spans[
                (
                    period.find("period-start").get("iso-date"),
                    period.find("period-end").get("iso-date"),
                )
            ]
            for actual in period.iter("actual"):
                dimension = actual.find("dimension")
                key = (code, label) + (
                    ("total", "total")
                    if dimension is None
                    else (dimension.get("name"), dimension.get("value"))
                )
                assert key not in published
                published[key] = actual.get("value")
    rows = table[[p in shown[i] for i, p in zip(table["indicator_id"], table["period"])]]
    assert len(rows) and rows["is_draft"].all()  # nothing approved: every actual says draft
    drafts = [a.findtext("comment/narrative") for a in document.iter("actual")]
    assert drafts and all(d.startswith("Draft: not approved yet") for d in drafts)
    for row in rows.itertuples():
        key = (row.indicator_id, row.period, row.dimension, row.category)
        where = "total" if row.dimension == "total" else f"{row.dimension} {row.category}"
        why = iati.left_out_because(row)  # suppressed, no data, not due, provisional ...
        if why:
            assert key not in published
            assert (
                f"actual {row.period} {where} left out: {why}" in comments[row.indicator_id]
                or f"period {row.period} left out: no target and no actual to publish"
                in comments[row.indicator_id]
            )
            assert why != "no data" or row.value != row.value
            assert not (row.suppressed and why != "suppressed (a small count of people)")
        else:
            unit = catalogue.get(row.indicator_id).unit
            assert published.pop(key) == data_number(row.value, unit)
    assert published == {}  # nothing published that is not a donor result
    assert "<" not in "".join(e.get("value", "") for e in document.iter(etree.Element))


def test_hand_checked_values_of_one_indicator(exported):
    """justice_for_survivors in project.yaml: PROS-15 decreases; its baseline and targets."""
    document, report = exported["justice_for_survivors"]
    selected = report.project.indicator("PROS-15")
    indicator = next(
        i for i in document.iter("indicator") if i.find("reference").get("code") == "PROS-15"
    )
    assert indicator.get("ascending") == "0"
    assert (
        indicator.get("measure") == iati.MEASURE_CODES[report.catalogue.get("PROS-15").iati_measure]
    )
    baseline = indicator.find("baseline")
    assert baseline.get("value") == data_number(selected.baseline.value, "count")
    assert baseline.get("year") == str(selected.baseline.date.year)
    targets = {
        p.find("period-end").get("iso-date"): p.find("target").get("value")
        for p in indicator.iter("period")
        if p.find("target") is not None
    }
    # PROS-15 is annual: its period is the year, whose target is its quarters' summed (a flow)
    year_target = sum(selected.target(f"2025-Q{q}") for q in range(1, 5))
    assert targets["2025-12-31"] == data_number(year_target, "count")


def test_results_follow_the_results_chain(exported):
    document, report = exported["shelter_and_recovery"]
    chain = report.project.results_chain
    kinds = {o.statement: "2" for o in chain.outcomes}
    kinds |= {p.statement: "1" for o in chain.outcomes for p in o.outputs}
    results = document.findall(".//result")
    assert results
    for result in results:
        title = result.findtext("title/narrative")
        assert result.get("type") == kinds[title]
        codes = [i.find("reference").get("code") for i in result.iter("indicator")]
        statements = {o.id: o.statement for o in chain.outcomes}
        statements |= {p.id: p.statement for o in chain.outcomes for p in o.outputs}
        assert all(statements[report.project.indicator(c).result] == title for c in codes)
    activity = document.find("iati-activity")
    project = report.project
    assert activity.findtext("iati-identifier") == project.iati.identifier
    assert activity.find("reporting-org").get("type") == project.iati.reporting_org.type
    assert activity.find("document-link").get("url") == "report.html"
    assert activity.find("recipient-country").get("code") == project.project.country


def test_provisional_not_due_and_unknown_states_are_left_out(exported, schema):
    report = exported["justice_for_survivors"][1]
    table = report.results.table.copy()
    totals = table.index[(table["dimension"] == "total") & table["value"].notna()]
    changed = dict(zip(totals[:3], ["provisional", "not due", "awaiting review"]))
    for index, status in changed.items():
        table.loc[index, "status"] = status
    report = dataclasses.replace(report, results=dataclasses.replace(report.results, table=table))
    document = iati.iati_document(report, "report.html", dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    assert schema.validate(document), schema.error_log
    reasons = {
        "provisional": "provisional, not final yet",
        "not due": "not due, not final yet",
        "awaiting review": "status 'awaiting review' is not a final value",
    }
    for index, status in changed.items():
        row = table.loc[index]
        indicator = next(
            i
            for i in document.iter("indicator")
            if i.find("reference").get("code") == row["indicator_id"]
        )
        comments = [c.text.strip() for c in indicator.iter(etree.Comment)]
        assert f"actual {row['period']} total left out: {reasons[status]}" in comments


def test_the_ruleset_checks_find_what_the_xsd_lets_through(exported, schema):
    document, _ = exported["shelter_and_recovery"]
    broken = etree.fromstring(etree.tostring(document)).getroottree()
    period = next(broken.iter("period"))
    period.find("period-start").set("iso-date", "2030-01-01")
    del next(broken.iter("actual")).attrib["value"]
    broken.find(".//iati-identifier").text = "XX-OTHER-1"
    assert schema.validate(broken)  # the XSD accepts all three
    problems = ruleset_problems(broken)
    assert any("after it ends" in p for p in problems)
    assert any("actual value None" in p for p in problems)
    assert any("does not start with the reporting org's ref" in p for p in problems)


def test_a_project_without_an_iati_section_is_refused_and_the_old_file_kept(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(SAMPLE_DIR / "safe_journeys", project)
    yaml_file = project / "project.yaml"
    text = yaml_file.read_text()
    start = text.index("iati:\n")
    end = text.index("reporting:\n")
    yaml_file.write_text(text[:start] + text[end:])
    out = tmp_path / "iati.xml"
    out.write_text("earlier file")
    result = CliRunner().invoke(main, ["export", "iati", str(project), "--out", str(out)])
    assert result.exit_code == 2
    assert "has no iati section" in result.output and "Traceback" not in result.output
    assert out.read_text() == "earlier file" and sorted(tmp_path.iterdir()) == [out, project]


@pytest.mark.parametrize(
    "url", ["/home/me/report.html", "file:///srv/report.html", "../report.html"]
)
def test_a_local_path_as_the_report_address_is_refused(tmp_path, url):
    with pytest.raises(ProjectError, match="not a local path"):
        iati.export_iati(SAMPLE_DIR / "safe_journeys", "latest", tmp_path / "x.xml", url)
    assert not list(tmp_path.iterdir())


def test_the_iati_section_is_validated():
    good = {
        "identifier": "XM-DAC-1-p",
        "reporting_org": {"ref": "XM-DAC-1", "type": 21, "name": "Org"},
    }
    assert Iati.model_validate(good).reporting_org.type == "21"
    with pytest.raises(ValueError, match="must start with the reporting org's ref"):
        Iati.model_validate({**good, "identifier": "GB-1-p"})
    with pytest.raises(ValueError, match="not an IATI organisation type"):
        Iati.model_validate({**good, "reporting_org": {**good["reporting_org"], "type": "99"}})


def test_the_new_project_template_has_an_iati_example_that_loads(tmp_path):
    text = project_yaml("p", "My project", dt.date(2026, 1, 1), dt.date(2027, 12, 31), [], [])
    lines = text.splitlines()
    start = lines.index("# iati:")
    lines[start : start + 3] = [line.removeprefix("# ") for line in lines[start : start + 3]]
    (tmp_path / "project.yaml").write_text("\n".join(lines) + "\n")
    assert load_project(tmp_path).iati.reporting_org.ref == "XM-DAC-00000"


def test_only_what_was_released_is_exported_and_drafts_say_so(tmp_path):
    project = shutil.copytree(
        SAMPLE_DIR / "justice_for_survivors", tmp_path / "p", ignore=NO_LEDGER
    )
    out = tmp_path / "iati.xml"
    before = CliRunner().invoke(main, ["export", "iati", str(project), "--out", str(out)])
    assert before.exit_code == 2 and "no donor release of p yet" in before.output
    assert not out.exists() and not (project / ".ctlib").exists()
    releases.record(project, "2025-Q3", approve_by="M&E officer")  # Q3 approved, locked
    releases.record(project, "2025-Q4")  # a draft, with Q3's locked figures
    assert iati.export_iati(project, "latest", out) == out
    said = {
        p.find("period-end").get("iso-date"): {
            (a.findtext("comment/narrative") or "").startswith("Draft") for a in p.iter("actual")
        }
        for p in etree.parse(out).iter("period")
        if p.find("actual") is not None
    }
    assert said.pop("2025-09-30") == {False} and "2025-12-31" in said
    assert all(drafts == {True} for drafts in said.values())
