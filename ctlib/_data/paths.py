"""The files a project may read: inside its own folder, or in the shared folders it names.

A source's `file` (and the team catalogue) is a path relative to the project folder, or a
pattern such as `data/2025-Q*.csv`. Whatever the path says (an absolute path, `../`, a symbolic
link), the file it reaches must lie inside the project folder or inside one of the folders
listed under `data_folders` in project.yaml: the explicit opt-in for a data folder shared by
several projects. Anything else is refused, so a project.yaml cannot make a report read (and
publish) a file from elsewhere on the machine.
"""

from __future__ import annotations

import glob
from pathlib import Path


def allowed_folders(directory: Path, data_folders=()) -> list[Path]:
    """The project folder and its shared data folders, resolved (symbolic links followed)."""
    return [directory.resolve(), *((directory / folder).resolve() for folder in data_folders)]


def is_inside(path: Path, folders: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == folder or resolved.is_relative_to(folder) for folder in folders)


def outside_message(written: str, folders: list[Path]) -> str:
    where = "the project folder" + (
        " or its data_folders (" + ", ".join(str(f) for f in folders[1:]) + ")"
        if len(folders) > 1
        else ""
    )
    return (
        f"{written!r} is outside {where}: sources read only files inside the project; "
        "to share a data folder between projects, list it under data_folders in project.yaml"
    )


def expand(written: str, directory: Path, folders: list[Path]) -> tuple[list[Path], str | None]:
    """The files a source's `file` entry names, in name order.

    And why none can be read (or None).
    """
    path = directory / written
    if glob.has_magic(written):
        matches = sorted(Path(found) for found in glob.glob(str(path), recursive=True))
        matches = [found for found in matches if found.is_file()]
        if not matches:
            return [], f"no file matches {written!r} in {directory}"
    elif path.is_file():
        matches = [path]
    else:
        return [], f"data file {written!r} not found in {directory}"
    outside = [found for found in matches if not is_inside(found, folders)]
    if outside:
        return [], outside_message(str(outside[0]) if glob.has_magic(written) else written, folders)
    return matches, None


def shown(path: Path, directory: Path) -> str:
    """A file as messages name it: relative to the project folder when inside it."""
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)
