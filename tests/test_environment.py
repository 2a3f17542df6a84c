"""environment.yml (conda) lists the same dependencies, with the same ranges, as pyproject.toml."""

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
    """Runtime dependencies and the `dev` extra, by normalised name."""
    project = tomllib.loads(text)["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r.specifier for r in requirements}


def conda_requirements(text: str) -> dict[str, SpecifierSet]:
    """Conda dependencies (the nested `pip:` list and python/pip themselves left out), by normalised name."""
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
    environment = "dependencies:\n  - python>=3.11\n  - ruamel-yaml >=0.18,<0.20\n  - vl-convert-python>=1.7\n"
    assert drift(pyproject, environment) == []
