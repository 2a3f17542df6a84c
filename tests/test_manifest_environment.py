"""The environment each report's manifest records: Python, platform, packages, lock file, code."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version

import pytest
from conftest import REPO
from test_report import PROJECTS, sample_batch

from ctlib._publish import environment
from ctlib._resources import notebook


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.notebook
@pytest.mark.parametrize("name", PROJECTS)
def test_each_manifest_records_the_environment(tmp_path_factory, name):
    batch = sample_batch(tmp_path_factory)
    manifest = json.loads((batch["folders"][name] / "manifest.json").read_text())
    facts = manifest["environment"]
    assert facts["python"] == platform.python_version()
    assert facts["platform"] == platform.platform()
    assert facts["notebook_sha256"] == sha256(notebook("quarterly_report"))
    assert facts["lock_file"] == "requirements-lock.txt"
    assert facts["lock_file_sha256"] == sha256(REPO / "requirements-lock.txt")
    assert facts["lock_differences"] == []  # make installs the locked versions
    for package in ("pandas", "altair", "papermill", "numpy", "traitlets"):  # direct or not
        assert facts["dependencies"][package] == version(package)
    assert "pytest" not in facts["dependencies"]  # a dev tool, not something ctlib runs on
    assert len(facts["ctlib_code_sha256"]) == 64


def test_dependencies_are_followed_through_requirements_and_their_extras():
    versions = environment.dependency_versions()
    assert {"pandas", "numpy", "jupyterlab", "jupyter-server", "pydantic-core"} <= versions.keys()
    assert all(v == version(name) for name, v in versions.items() if name in ("numpy", "pyzmq"))
    assert "ctlib" not in versions and "hypothesis" not in versions


LOCK_TEXT = """\
# exported by uv
pandas==3.0.1 ; python_full_version >= '3.11' \\
    --hash=sha256:aaaa
    # via ctlib
numpy==2.3.0 \\
    --hash=sha256:bbbb
tomli==2.0.1 ; python_full_version < '3.11' \\
    --hash=sha256:cccc
"""


def test_lock_differences_say_what_differs_from_the_lock(tmp_path):
    lock = tmp_path / "requirements-lock.txt"
    lock.write_text(LOCK_TEXT)
    assert environment.locked_versions(lock) == {"pandas": "3.0.1", "numpy": "2.3.0"}
    installed = {"numpy": "2.3.0", "pandas": "3.0.2", "tomli": "2.0.1", "left-out": "not installed"}
    assert environment.lock_differences(lock, installed) == [
        "pandas 3.0.2 installed, 3.0.1 locked",
        "tomli 2.0.1 installed, not locked",  # its lock line is for Python < 3.11
    ]  # a package neither installed nor locked (left out of the lock) is no difference
    assert environment.lock_differences(lock, {"numpy": "2.3.0", "pandas": "3.0.1"}) == []


def test_the_code_hash_covers_ctlibs_files(monkeypatch, tmp_path):
    package = tmp_path / "ctlib"
    (package / "notebooks").mkdir(parents=True)
    (package / "engine.py").write_text("x = 1\n")
    (package / "notebooks" / "report.ipynb").write_text("{}")
    monkeypatch.setattr(environment, "PACKAGE", package)
    environment.code_sha256.cache_clear()
    try:
        before = environment.code_sha256()
        (package / "engine.py").write_text("x = 2\n")
        environment.code_sha256.cache_clear()
        assert environment.code_sha256() != before
    finally:
        environment.code_sha256.cache_clear()
