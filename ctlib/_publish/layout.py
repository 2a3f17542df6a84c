"""Where a report's files go: its folder under OUT/<project>/ and its file names, by audience.

Internal reports never share a donor report's path: their folder ends in `-internal` and so do
their files' names.
"""

from __future__ import annotations

RESULTS_FILE = "report.json"  # the notebook writes it beside its files: resolved period, hashes
ERROR_FILE = "error.json"  # the notebook writes it instead when the project cannot be reported


def file_names(audience: str) -> dict[str, str]:
    """The files of a report folder for an audience: internal ones say so in their names."""
    suffix = "-internal" if audience == "internal" else ""
    return {
        name: f"{stem}{suffix}.{ext}"
        for name, stem, ext in (
            ("report", "report", "html"),
            ("indicators", "indicators", "csv"),
            ("iptt", "iptt", "xlsx"),
            ("report_pdf", "report", "pdf"),
        )
    }


def report_folder(period: str, audience: str) -> str:
    """The folder of a report under OUT/<project>/: internal reports never share a donor's path."""
    return f"{period}-internal" if audience == "internal" else period
