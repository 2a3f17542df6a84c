"""`--resume`: a report whose inputs, parameters and code are unchanged since its last success
is not built again.

The published report's manifest.json says what it was made from; a new run would be made from
the same when the same files (project.yaml and every file it names, all by sha256) meet the same
parameters, the same ctlib (version and sha256 of its code, catalogue and notebook), the same
package versions and, for a donor report, a release ledger in which nothing was recorded or
approved since its release. Nothing is computed to find that out: files are hashed, and the
ledger is asked how many releases and approvals it holds.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .environment import code_sha256, dependency_versions, file_sha256
from .layout import file_names, report_folder

DECIDING_PARAMETERS = ("project", "audience", "min_cell_size")


def previous_manifests(project_out: Path, period: str, audience: str) -> list[Path]:
    """The manifests of the project's published reports that a run for `period` would replace:
    the period's own, or for "latest" every report that was asked for as latest (newest first)."""
    if period != "latest":
        return [project_out / report_folder(period, audience) / "manifest.json"]
    found = []
    for manifest in project_out.glob("*/manifest.json"):
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if document.get("parameters", {}).get("period_requested") == "latest":
            found.append((document.get("finished", ""), manifest))
    return [manifest for _, manifest in sorted(found, reverse=True)]


def changes_since(
    manifest: dict, project_dir: Path, wanted: dict, notebook: Path, ledger: str | None = None
) -> list[str]:
    """What differs between the report a manifest describes and a run with `wanted` parameters
    now, in words (empty: nothing, the report would come out the same)."""
    changes = [
        f"{name} was {manifest['parameters'].get(name)!r}, is {wanted[name]!r}"
        for name in DECIDING_PARAMETERS
        if manifest["parameters"].get(name) != wanted[name]
    ]
    for relative, digest in manifest.get("inputs", {}).items():
        path = project_dir / relative
        if not path.is_file():
            changes.append(f"{relative} is gone")
        elif file_sha256(path) != digest:
            changes.append(f"{relative} changed")
    environment = manifest.get("environment", {})
    if manifest.get("ctlib_version") != __version__:
        changes.append(f"ctlib {manifest.get('ctlib_version')} made it, this is {__version__}")
    if environment.get("ctlib_code_sha256") != code_sha256():
        changes.append("ctlib's code, catalogue or notebooks changed")
    if environment.get("notebook_sha256") != file_sha256(notebook):
        changes.append(f"the notebook {notebook.name} changed")
    if environment.get("dependencies") != dependency_versions():
        changes.append("the installed packages changed")
    if wanted["audience"] == "donor":
        changes += _ledger_changes(manifest, project_dir, ledger)
    return changes


def _ledger_changes(manifest: dict, project_dir: Path, ledger: str | None) -> list[str]:
    """A donor report comes out the same only if the ledger is as its release left it."""
    from .releases import ledger_state

    before = manifest.get("release", {}).get("ledger_state")
    if before is None:
        return ["the report was not recorded as a release"]
    now = ledger_state(project_dir, ledger)
    return [] if now == before else [f"the release ledger changed ({before}, now {now})"]


def unchanged_report(
    project_dir: Path,
    period: str,
    out_dir: Path,
    wanted: dict,
    notebook: Path,
    pdf: bool,
    ledger: str | None = None,
) -> Path | None:
    """The folder of the last published report, if a run now would make it again unchanged."""
    names = file_names(wanted["audience"])
    for manifest_file in previous_manifests(out_dir / project_dir.name, period, wanted["audience"])[
        :1
    ]:
        folder = manifest_file.parent
        if not (folder / names["report"]).is_file() or (
            pdf and not (folder / names["report_pdf"]).is_file()
        ):
            continue
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not changes_since(manifest, project_dir, wanted, notebook, ledger):
            return folder
    return None
