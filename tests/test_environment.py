"""The dependencies are declared in step: environment.yml (conda) lists the same ones, with the same
ranges, as pyproject.toml; uv.lock was resolved from them, and requirements-lock.txt (what `make`
installs, hashes checked) is its export."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
CONDA_ONLY = {"python", "pip"}  # the interpreter and installer, not package dependencies
CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*$")


def pyproject_requirements(text: str) -> dict[str, SpecifierSet]:
    """Runtime dependencies and those of every extra (dev, dask), by normalised name."""
    project = tomllib.loads(text)["project"]
    lines = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r.specifier for r in requirements}


def conda_requirements(text: str) -> dict[str, SpecifierSet]:
    """Conda dependencies, by normalised name.

    The nested `pip:` list and python/pip themselves left out.
    """
    specs = {}
    for item in YAML(typ="safe", pure=True).load(text)["dependencies"]:
        if isinstance(item, dict):
            continue
        name, spec = CONDA_SPEC.match(item).groups()
        if name not in CONDA_ONLY:
            specs[canonicalize_name(name)] = SpecifierSet(spec.replace(" ", ""))
    return specs


def drift(pyproject_text: str, environment_text: str) -> list[str]:
    """Every difference in names and ranges between the two files, in words."""
    pip, conda = pyproject_requirements(pyproject_text), conda_requirements(environment_text)
    problems = [
        f"{name} is in pyproject.toml but not in environment.yml"
        for name in sorted(pip.keys() - conda)
    ]
    problems += [
        f"{name} is in environment.yml but not in pyproject.toml"
        for name in sorted(conda.keys() - pip)
    ]
    problems += [
        f"{name}: pyproject.toml has '{pip[name]}', environment.yml has '{conda[name]}'"
        for name in sorted(pip.keys() & conda.keys())
        if pip[name] != conda[name]
    ]
    return problems


def read(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


def test_environment_yml_matches_pyproject():
    assert drift(read("pyproject.toml"), read("environment.yml")) == []


def test_python_versions_match():
    python = next(
        item
        for item in YAML(typ="safe", pure=True).load(read("environment.yml"))["dependencies"]
        if isinstance(item, str) and CONDA_SPEC.match(item).group(1) == "python"
    )
    requires = tomllib.loads(read("pyproject.toml"))["project"]["requires-python"]
    assert SpecifierSet(CONDA_SPEC.match(python).group(2)) == SpecifierSet(requires)


def test_environment_installs_ctlib_itself_with_pip():
    pip_items = [
        item["pip"]
        for item in YAML(typ="safe", pure=True).load(read("environment.yml"))["dependencies"]
        if isinstance(item, dict)
    ]
    assert pip_items == [["-e ."]]


def test_drift_is_found():
    pyproject = read("pyproject.toml")
    environment = read("environment.yml")
    changed = environment.replace("pandas>=3.0,<4", "pandas >=2.2,<4").replace(
        "  - tqdm>=4.66,<5\n", ""
    )
    changed += "  - requests>=2\n"
    assert drift(pyproject, changed) == [
        "tqdm is in pyproject.toml but not in environment.yml",
        "requests is in environment.yml but not in pyproject.toml",
        "pandas: pyproject.toml has '<4,>=3.0', environment.yml has '<4,>=2.2'",
    ]


def test_names_are_compared_normalised():
    pyproject = (
        '[project]\ndependencies = ["ruamel.yaml>=0.18,<0.20", "Vl_Convert-Python>=1.7"]\n'
        "[project.optional-dependencies]\ndev = []\n"
    )
    environment = (
        "dependencies:\n  - python>=3.11\n  - ruamel-yaml >=0.18,<0.20\n"
        "  - vl-convert-python>=1.7\n"
    )
    assert drift(pyproject, environment) == []


def locked_project(lock_text: str) -> dict:
    """uv.lock's entry for ctlib itself."""
    return next(p for p in tomllib.loads(lock_text)["package"] if p["name"] == "ctlib")


def test_uv_lock_was_resolved_from_pyproject():
    """After a change of pyproject.toml's dependencies, `make lock` resolves and exports again."""
    project = tomllib.loads(read("pyproject.toml"))["project"]
    declared = {
        (canonicalize_name(r.name), str(r.specifier), extra)
        for extra, lines in [
            ("", project["dependencies"]),
            *project["optional-dependencies"].items(),
        ]
        for r in map(Requirement, lines)
    }
    locked = {
        (
            canonicalize_name(item["name"]),
            str(SpecifierSet(item.get("specifier", ""))),
            re.search(r"extra == '([^']*)'", item.get("marker", "extra == ''")).group(1),
        )
        for item in locked_project(read("uv.lock"))["metadata"]["requires-dist"]
    }
    assert declared == locked


def test_requirements_lock_is_the_export_of_uv_lock_with_hashes():
    versions = {
        canonicalize_name(p["name"]): p["version"]
        for p in tomllib.loads(read("uv.lock"))["package"]
        if p["name"] != "ctlib"
    }
    exported = {}
    for entry in re.split(r"\n(?=\S)", read("requirements-lock.txt")):
        if entry.startswith("#"):
            continue
        requirement = Requirement(entry.split(" \\")[0])
        assert "--hash=sha256:" in entry, f"{requirement.name} has no hash"
        exported[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix(
            "=="
        )
    assert exported and all(versions.get(name) == version for name, version in exported.items())
    assert "ctlib" not in exported and {"pandas", "pytest", "distributed"} <= exported.keys()
