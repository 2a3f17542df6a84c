"""YAML read fast (`_fast_yaml`) reads as ruamel.yaml reads it, or is left to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctlib import _fast_yaml as fast_yaml
from ctlib._data.project import _plain, _yaml, load_project_file
from ctlib._errors import ProjectError

REPO = Path(__file__).resolve().parents[1]

SCALARS = [
    # YAML 1.1's booleans are words in 1.2 (Norway is NO)
    *("yes", "no", "NO", "No", "on", "off", "y", "n", "true", "True", "FALSE"),
    *("~", "null", "Null", ""),
    # a leading zero is decimal; 0o, 0x, 0b and underscores as ruamel reads them
    *("010", "017", "08", "0o10", "-0o17", "0x1F", "0x_1F", "0b101", "1_000", "-12", "+5", "0"),
    *("1.5", "1.50", "1e3", "1.0e+3", "1e-3", ".5", "+.5", "3.", "-1_000.5", "-0.0"),
    *(".inf", "-.inf", "+.inf", "inf", "NaN", "nan", "1e", "_1", "0b", "0o"),
    *("1:30", "12:30:45", "2026-01-01", "2026-1-1", "2026", "2026-Q1", "FY2026"),
    *("'010'", '"no"', "[1, no, 010]", "{a: 1, b: NO}", "|\n  text\n", ">\n  folded\n  line\n"),
    *("Stop it!", "&anchor 1", "a # comment", "'a # not a comment'"),
]
UNSURE = [  # ruamel builds these its own way (or refuses them): read with ruamel
    "k: 2026-01-01 10:00:00\n",  # a time of day
    "k: =\n",
    "k: !!str 010\n",  # ruamel keeps a tagged value as a TaggedScalar
    "k: !custom x\n",
    "k: a !b\n",  # could be a tag: unsure costs only time
    "a: 1\na: 2\n",  # a repeated key (ruamel refuses it)
    "base: &b {x: 1}\nk:\n  <<: *b\n  y: 3\n",  # a merge: ruamel puts own keys first
    "1.50: a\n",  # ruamel names the key as written
    "%YAML 1.1\n---\nk: no\n",  # ruamel reads YAML 1.1 then
    "k: 2026-02-30\n",
    "a: [1, 2\n",
    "--- a\n--- b\n",
]


def _ruamel(text: str) -> str:
    """As project.yaml's own round-trip loader reads it, in order (NaN as NaN)."""
    return json.dumps(_plain(_yaml().load(text)), default=repr)


@pytest.mark.parametrize("value", SCALARS)
def test_a_value_reads_as_ruamel_reads_yaml_1_2(value):
    text = f"k: {value}\n"
    assert json.dumps(_plain(fast_yaml.load(text)), default=repr) == _ruamel(text)


@pytest.mark.parametrize("text", UNSURE)
def test_what_ruamel_builds_its_own_way_is_left_to_it(text):
    with pytest.raises(fast_yaml.Unsure):
        fast_yaml.load(text)


def test_every_yaml_file_of_the_project_reads_the_same_in_order():
    files = [
        f
        for pattern in ("data/**/*.yaml", "tests/**/*.yaml", "ctlib/**/*.yaml")
        for f in REPO.glob(pattern)
    ]
    assert len(files) > 8
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert json.dumps(_plain(fast_yaml.load(text)), default=repr) == _ruamel(text), file


def test_a_project_loads_the_same_either_way_and_its_problems_keep_their_lines(
    monkeypatch, tmp_path
):
    sample = REPO / "data" / "sample" / "shelter_and_recovery"
    fast = load_project_file(sample)
    assert fast.commented is None  # the commented map is read only when needed
    assert fast.data["project"]["id"] == fast.project.id
    monkeypatch.setattr(fast_yaml, "load", lambda text: (_ for _ in ()).throw(fast_yaml.Unsure()))
    slow = load_project_file(sample)
    assert slow.project.model_dump() == fast.project.model_dump()
    assert slow.indent == fast.indent
    monkeypatch.undo()
    broken = tmp_path / "broken"
    broken.mkdir()
    text = (sample / "project.yaml").read_text(encoding="utf-8")
    (broken / "project.yaml").write_text(
        text.replace("min_cell_size:", "min_cell_sizes:", 1), encoding="utf-8"
    )
    with pytest.raises(ProjectError) as refused:
        load_project_file(broken, with_data_files=False)
    problem = refused.value.problems[0]
    assert "min_cell_sizes" in problem.entry and problem.row is not None


@pytest.mark.parametrize("depth", [500, 900, 5000])
def test_a_document_nested_too_deeply_is_refused_with_a_reason(tmp_path, depth):
    """libyaml reads what ruamel cannot; validating it would overflow the stack: ruamel's reading
    says why, as it did before."""
    (tmp_path / "project.yaml").write_text(f"project: {'[' * depth}{']' * depth}\n")
    with pytest.raises(ProjectError) as refused:
        load_project_file(tmp_path)
    assert refused.value.problems[0].message == "the YAML is nested too deeply"
