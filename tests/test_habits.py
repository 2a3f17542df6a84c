"""The habits of a maintained project, checked in the suite (and so in CI): ruff reports nothing,
the notebooks hold no outputs, and the pre-commit hooks that do the same before a commit are
valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing_to_fix():
    lint = run(str(BIN / "ruff"), "check", "--no-fix", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_ruff_finds_nothing_to_format():
    formatting = run(str(BIN / "ruff"), "format", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted(
        str(p.relative_to(REPO)) for p in (REPO / "ctlib" / "notebooks").glob("*.ipynb")
    )
    assert len(notebooks) >= 5
    stripped = run(str(BIN / "nbstripout"), "--keep-id", "--verify", *notebooks)
    assert stripped.returncode == 0, stripped.stdout + stripped.stderr


def test_the_pre_commit_hooks_are_valid_and_use_the_venvs_tools():
    valid = run(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    text = (REPO / ".pre-commit-config.yaml").read_text()
    for tool in ("ruff check", "ruff format", "nbstripout --keep-id"):
        assert f"entry: .venv/bin/{tool}" in text
