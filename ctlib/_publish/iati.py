"""The project's results as an IATI 2.03 activity file (`ctlib export iati`).

One `iati-activity` per project: identity from project.yaml (`iati:` section), one `result` per
outcome or output of the results chain that has indicators, each `indicator` with its IATI
measure (from the catalogue), `ascending` (from its direction), baseline, and one `period` per
reporting period up to the one asked for, with the target and the actual value (totals, and one
actual per disaggregation category as a `dimension`).

Only what the project published for donors is written: the figures as its reports released them,
read from the release ledger (`releases.published`: approved periods as approved or revised, the
others drafts, whose actuals say "Draft" in their comment), never computed here. A suppressed
cell, a cell not final yet (provisional, not due, or any state this module does not know) and a
cell without data are left out with an XML comment saying why: never a "<5".
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from lxml import etree

from .._catalogue import Catalogue
from .._catalogue.model import Indicator
from .._compute.engine import Results
from .._compute.periods import ReportingCalendar
from .._compute.targets import GRADED
from .._data.project import load_project_file
from .._data.project_model import Project
from .._errors import ProjectError, ReportError
from .._format import data_number, is_missing
from .releases import published

IATI_VERSION = "2.03"
MEASURE_CODES = {"unit": "1", "percentage": "2", "nominal": "3", "ordinal": "4", "qualitative": "5"}
RESULT_TYPE_CODES = {"output": "1", "outcome": "2", "impact": "3", "other": "9"}
FINAL_STATUSES = {*GRADED, "no target", "monitor only"}  # states of a value that is final
REPORTING_ORG_VOCABULARY = "99"  # result and indicator references in the publisher's own codes
RESULTS_DOCUMENT = "A08"  # document category: results, outcomes and outputs
ROLE_FUNDING, ROLE_IMPLEMENTING = "1", "4"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Publication:
    """What an IATI file publishes: a project's released results of one period (`period`)."""

    project: Project
    catalogue: Catalogue
    results: Results
    period: str

    def iati_periods(self, indicator: Indicator) -> list:
        """The released periods an IATI `period` can be of, for one indicator: the periods of its
        own frequency (years for semester and annual indicators, else the release's quarters),
        whole ones only (a year to date is not), so that no two overlap."""
        calendar = ReportingCalendar(self.project)
        kind = (
            "year"
            if indicator.frequency in ("semester", "annual")
            else next(p.kind for p in self.results.periods if p.label == self.period)
        )
        return [
            p
            for p in self.results.periods
            if p.kind == kind and p.end_date == calendar.parse(p.label).end_date
        ]


def publication(project_dir: Path | str, period: str, ledger: str | None = None) -> Publication:
    """The project's published results of `period` (`latest`: of the last period released)."""
    loaded = load_project_file(project_dir, with_data_files=False)
    if loaded.project.iati is None:
        raise ProjectError(
            f"{loaded.path} has no iati section: add iati: identifier and reporting_org "
            "{ref, type, name} (see `ctlib new` for a commented example)"
        )
    results = published(project_dir, loaded.project, period, ledger)
    if results is None:
        which = "" if period == "latest" else f" of {period}"
        raise ReportError(
            f"no donor release{which} of {Path(project_dir).name} yet: `ctlib report "
            f"{project_dir}` publishes one; the IATI file holds what the reports published"
        )
    return Publication(loaded.project, loaded.catalogue, results, results.release.period)


def export_iati(
    project_dir: Path | str,
    period: str,
    out_file: Path | str,
    report_url: str = "report.html",
    ledger: str | None = None,
) -> Path:
    """Write the IATI activity file of a project's published results up to `period`; its path."""
    check_report_url(report_url)
    found = publication(project_dir, period, ledger)
    document = iati_document(found, report_url, dt.datetime.now(dt.UTC).replace(microsecond=0))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out_file.name}.", dir=out_file.parent)
    os.close(handle)
    try:
        document.write(temporary, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out_file)  # a failed run leaves an earlier file as it was
    finally:
        Path(temporary).unlink(missing_ok=True)
    return out_file


def check_report_url(url: str) -> None:
    """The report's address: a web address or one relative to the XML file, never a local path."""
    parsed = urlparse(url)
    if parsed.scheme not in ("", "http", "https") or url.startswith(("/", "\\")) or ".." in url:
        raise ProjectError(
            f"--report-url {url!r}: give the address where donors read the report "
            "(https://...) or one relative to the XML file (e.g. report.html), not a local path"
        )


def iati_document(
    report: Publication, report_url: str, generated: dt.datetime
) -> etree._ElementTree:
    """The `iati-activities` document of one project's published results (`publication`)."""
    project = report.project
    stamp = generated.isoformat()
    root = etree.Element("iati-activities", version=IATI_VERSION)
    root.set("generated-datetime", stamp)
    activity = etree.SubElement(root, "iati-activity")
    activity.set("last-updated-datetime", stamp)
    activity.set(XML_LANG, "en")
    _identity(activity, project, report)
    _document_link(activity, report, report_url)
    for result_type, title, ids in result_groups(project, report.catalogue):
        _result(activity, report, result_type, title, ids)
    return etree.ElementTree(root)


def _narrative(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    etree.SubElement(element, "narrative").text = text
    return element


def _comment(parent: etree._Element, text: str) -> None:
    """An XML comment (IATI readers skip it): why something is left out."""
    parent.append(etree.Comment(f" {text.replace('--', '-')} "))


def _identity(activity: etree._Element, project: Project, report: Publication) -> None:
    identity, iati = project.project, project.iati
    etree.SubElement(activity, "iati-identifier").text = iati.identifier
    org = iati.reporting_org
    etree.SubElement(
        etree.SubElement(activity, "reporting-org", ref=org.ref, type=org.type), "narrative"
    ).text = org.name
    _narrative(activity, "title", identity.name)
    _narrative(activity, "description", project.results_chain.objective).set("type", "1")
    funding = etree.SubElement(activity, "participating-org", role=ROLE_FUNDING)
    etree.SubElement(funding, "narrative").text = identity.donor
    implementing = etree.SubElement(
        activity, "participating-org", role=ROLE_IMPLEMENTING, ref=org.ref, type=org.type
    )
    etree.SubElement(implementing, "narrative").text = org.name
    finished = report.results.periods[-1].end_date >= identity.end_date
    etree.SubElement(activity, "activity-status", code="3" if finished else "2")
    for code, date in (("1", identity.start_date), ("3", identity.end_date)):  # planned start, end
        etree.SubElement(activity, "activity-date", type=code).set("iso-date", date.isoformat())
    etree.SubElement(activity, "recipient-country", code=identity.country, percentage="100")


def _document_link(activity: etree._Element, report: Publication, report_url: str) -> None:
    link = etree.SubElement(activity, "document-link", url=report_url, format="text/html")
    name = report.project.project.name
    _narrative(link, "title", f"Quarterly report {report.period}: {name}")
    etree.SubElement(link, "category", code=RESULTS_DOCUMENT)
    etree.SubElement(link, "language", code="en")


def result_groups(project: Project, catalogue) -> list[tuple[str, str, list[str]]]:
    """(IATI result type, title, indicator ids) per outcome and output that has indicators, in the
    order of the results chain; indicators linked to no result go under the objective (impact
    level) or under "Other indicators"."""
    by_result: dict[str | None, list[str]] = {}
    for selected in project.indicators:
        by_result.setdefault(selected.result, []).append(selected.id)
    groups = []
    for outcome in project.results_chain.outcomes:
        for result, kind in [(outcome, "outcome"), *((o, "output") for o in outcome.outputs)]:
            if by_result.get(result.id):
                groups.append((kind, result.statement, by_result.pop(result.id)))
    unlinked = [i for ids in by_result.values() for i in ids]
    impact = [i for i in unlinked if catalogue.get(i).level == "impact"]
    other = [i for i in unlinked if i not in impact]
    if impact:
        groups.append(("impact", project.results_chain.objective, impact))
    if other:
        groups.append(("other", "Other indicators of the project", other))
    return groups


def _result(
    activity: etree._Element,
    report: Publication,
    kind: str,
    title: str,
    indicator_ids: list[str],
) -> None:
    result = etree.Element("result", type=RESULT_TYPE_CODES[kind])
    _narrative(result, "title", title)
    for indicator_id in indicator_ids:
        indicator = report.catalogue.get(indicator_id)
        if indicator.iati_measure is None:
            _comment(result, f"{indicator_id} left out: the catalogue gives it no IATI measure")
            continue
        _indicator(result, report, indicator)
    if result.find("indicator") is not None:
        activity.append(result)
    else:
        activity.append(etree.Comment(f" result left out, no indicator to publish: {title} "))


def _indicator(result: etree._Element, report: Publication, indicator: Indicator) -> None:
    element = etree.SubElement(
        result,
        "indicator",
        measure=MEASURE_CODES[indicator.iati_measure],
        ascending="1" if indicator.direction == "increase" else "0",
    )
    _narrative(element, "title", indicator.name)
    _narrative(element, "description", indicator.definition)
    etree.SubElement(element, "reference", vocabulary=REPORTING_ORG_VOCABULARY, code=indicator.id)
    selected = report.project.indicator(indicator.id)
    baseline = selected.baseline
    if baseline.value is not None:
        year = (baseline.date or report.project.project.start_date).year
        attributes = {"year": str(year), "value": data_number(baseline.value, indicator.unit)}
        if baseline.date is not None:
            attributes["iso-date"] = baseline.date.isoformat()
        etree.SubElement(element, "baseline", attributes)
    table = report.results.table
    rows = table[table["indicator_id"] == indicator.id]
    for period in report.iati_periods(indicator):
        _period(element, rows[rows["period"] == period.label], period, selected, indicator.unit)


def _period(indicator: etree._Element, rows: pd.DataFrame, period, selected, unit: str) -> None:
    total = rows[rows["dimension"] == "total"]
    target = total["target"].iloc[0] if len(total) else float("nan")
    element = etree.Element("period")
    etree.SubElement(element, "period-start").set("iso-date", period.start_date.isoformat())
    etree.SubElement(element, "period-end").set("iso-date", period.end_date.isoformat())
    if not is_missing(target):
        etree.SubElement(element, "target", value=data_number(target, unit))
    comment = selected.comments.get(period.label)
    for row in rows.itertuples():
        where = "total" if row.dimension == "total" else f"{row.dimension} {row.category}"
        why = left_out_because(row)
        if why:
            _comment(element, f"actual {period.label} {where} left out: {why}")
            continue
        actual = etree.SubElement(element, "actual", value=data_number(row.value, unit))
        if row.dimension != "total":
            etree.SubElement(actual, "dimension", name=row.dimension, value=row.category)
        said = [
            *(["Draft: not approved yet, may still change."] if row.is_draft else []),
            *([f"Revised: {row.revision_note}."] if not is_missing(row.revision_note) else []),
            *([comment] if comment and row.dimension == "total" else []),
        ]
        if said:
            _narrative(actual, "comment", " ".join(said))
    if element.find("target") is not None or element.find("actual") is not None:
        indicator.append(element)
    else:
        _comment(indicator, f"period {period.label} left out: no target and no actual to publish")


def left_out_because(row) -> str | None:
    """Why a results row's value is not published (None: it is)."""
    if row.suppressed or row.status == "suppressed":
        return "suppressed (a small count of people)"
    if row.status in ("provisional", "not due"):
        return f"{row.status}, not final yet"
    if is_missing(row.value) or row.status == "no data":
        return "no data"
    if row.status not in FINAL_STATUSES:
        return f"status {row.status!r} is not a final value"
    return None
