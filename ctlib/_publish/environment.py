"""What a report was made with, for its manifest: Python, platform, packages, lock file, code.

A year later these say how to rebuild the same environment (the lock file's hash and the installed
versions of every package ctlib depends on, directly or not) and whether the code that made the
report has changed since (sha256 of the notebook and of ctlib's own files).
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._resources import PACKAGE

NOT_INSTALLED = "not installed"
LOCK_FILE = "requirements-lock.txt"  # exported from uv.lock; `make` installs from it
SOURCE_SUFFIXES = {".py", ".yaml", ".ipynb", ".j2", ".json"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(data) -> dict[str, str]:
    """sha256 of every input file of a loaded project (`ProjectData`: project.yaml and data
    files), keyed by path within the project."""
    return {
        Path(os.path.relpath(path, data.directory)).as_posix(): file_sha256(path)
        for path in data.input_files
    }


def _requirements(name: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """The requirements of an installed distribution that apply here (with the extras asked for)."""
    found = []
    for line in distribution(name).requires or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
            found.append((requirement.name, frozenset(requirement.extras)))
    return found


@functools.cache
def dependency_versions(root: str = "ctlib") -> dict[str, str]:
    """Installed version of every distribution `root` needs, directly or not, by normalised name."""
    versions: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = _requirements(root, frozenset())
    while pending:
        name, extras = pending.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        try:
            versions[canonicalize_name(name)] = distribution(name).version
        except PackageNotFoundError:
            versions[canonicalize_name(name)] = NOT_INSTALLED
            continue
        pending += _requirements(name, extras)
    return dict(sorted(versions.items()))


def lock_file() -> Path | None:
    """The lock file of the checkout ctlib runs from; None for an installed wheel (none shipped)."""
    candidate = PACKAGE.parent / LOCK_FILE
    return (
        candidate if (PACKAGE.parent / "pyproject.toml").is_file() and candidate.is_file() else None
    )


def locked_versions(path: Path) -> dict[str, str]:
    """name → version of the lock's entries that apply to this Python and platform."""
    locked = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " #-":
            continue
        try:
            requirement = Requirement(line.rstrip(" \\"))
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate():
            locked[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return locked


def lock_differences(path: Path, installed: dict[str, str]) -> list[str]:
    """Where the installed packages ctlib needs differ from the lock, in words.

    Empty: they match. A package neither installed nor locked (one the lock leaves out, e.g.
    rfc3987-syntax, pyproject.toml's [tool.uv] override-dependencies) is no difference.
    """
    locked = locked_versions(path)
    return [
        f"{name} {version} installed, {locked.get(name, 'not')} locked"
        for name, version in installed.items()
        if locked.get(name, NOT_INSTALLED) != version
    ]


@functools.cache
def code_sha256() -> str:
    """sha256 over ctlib's own files (code, catalogue, notebooks, templates), names included."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.suffix in SOURCE_SUFFIXES):
        if "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def environment_facts(notebook: Path) -> dict:
    """The manifest's record of the environment a report ran in."""
    installed = dependency_versions()
    lock = lock_file()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "notebook_sha256": file_sha256(notebook),
        "ctlib_code_sha256": code_sha256(),
        "lock_file": None if lock is None else lock.name,
        "lock_file_sha256": None if lock is None else file_sha256(lock),
        "lock_differences": None if lock is None else lock_differences(lock, installed),
        "dependencies": installed,
    }
