"""The indicator catalogue: the model, every shipped entry, the API, and bad custom catalogues."""

from __future__ import annotations

import re

import pytest
from conftest import PIRS_FIELDS
from pydantic import ValidationError
from ruamel.yaml import YAML

from ctlib._catalogue import (
    BUILTIN_FILES,
    describe_condition,
    describe_method,
    load_catalogue,
    recipe_columns,
)
from ctlib._catalogue.model import Condition, Indicator, Method
from ctlib._data.tables import DATE, PILLARS, TABLES
from ctlib._errors import CatalogueError, UnknownIndicatorError

PREFIXES = {
    "prevention": "PREV",
    "protection": "PROT",
    "prosecution": "PROS",
    "partnership": "PART",
}
# The sub-areas issue 2 asks the catalogue to cover, as they are named in the `area` field.
REQUIRED_AREAS = {
    "prevention": {
        "awareness raising",
        "safer migration",
        "capacity building",
        "economic empowerment",
        "hotlines",
        "labour and demand side",
        "research and data",
    },
    "protection": {
        "identification",
        "referral",
        "shelter",
        "medical care",
        "psychosocial support",
        "legal aid",
        "residence status",
        "return",
        "reintegration",
        "case management",
        "children",
        "consent",
    },
    "prosecution": {
        "legislation",
        "law-enforcement and judicial training",
        "investigation",
        "prosecution",
        "conviction",
        "sentencing",
        "victim-witness support",
        "remedies",
        "non-punishment",
        "cross-border cooperation",
        "financial investigation",
    },
    "partnership": {
        "coordination bodies",
        "national referral mechanism",
        "agreements",
        "data sharing",
        "survivor inclusion",
    },
}


def valid_entry(**changes) -> dict:
    """A complete, valid custom indicator (as YAML would give it), with some fields changed."""
    entry = {
        "id": "TEAM-01",
        "name": "Victims sheltered, by sex",
        "pillar": "protection",
        "area": "shelter",
        "level": "output",
        "unit": "count",
        "direction": "increase",
        "definition": "Different victims who began a shelter stay.",
        "rationale": "Shows shelter reach.",
        "data_source": "Shelter register.",
        "frequency": "quarterly",
        "disaggregations": ["sex"],
        "references": ["team"],
        "iati_measure": "unit",
        "method": {
            "measure": "count_distinct",
            "table": "services",
            "date": "start_date",
            "column": "case_id",
            "filter": [{"column": "service_type", "op": "equals", "value": "shelter"}],
        },
        "rollup": "recompute",
        **PIRS_FIELDS,
    }
    entry.update(changes)
    return entry


def write_yaml(path, entries) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with open(path, "w", encoding="utf-8") as stream:
        yaml.dump(entries, stream)
    return str(path)


def load_error(*paths) -> CatalogueError:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(extra=paths)
    return caught.value


def raw_entries() -> list[tuple[str, dict]]:
    yaml = YAML(typ="safe", pure=True)
    return [
        (path.stem, entry)
        for path in BUILTIN_FILES
        for entry in yaml.load(path.read_text(encoding="utf-8"))
    ]


# --- the model ------------------------------------------------------------------------------------


def test_model_accepts_a_complete_entry():
    indicator = Indicator.model_validate(valid_entry())
    assert indicator.method.filter[0] == Condition(
        column="service_type", op="equals", value="shelter"
    )
    assert indicator.method.numerator is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"unit": "people"}, "Input should be 'count'"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"id": "team 1"}, "String should match pattern"),
        (
            {"method": {"measure": "share", "table": "cases", "date": "identification_date"}},
            "needs numerator",
        ),
        ({"method": {"measure": "count", "table": "cases"}}, "needs date"),
        (
            {
                "method": {
                    "measure": "count",
                    "table": "cases",
                    "date": "identification_date",
                    "filter": [{"column": "sex", "op": "in", "value": "female"}],
                }
            },
            "'in' takes a list",
        ),
        (
            {
                "method": {
                    "measure": "count",
                    "table": "cases",
                    "date": "identification_date",
                    "filter": [{"column": "age", "op": "range", "value": [1]}],
                }
            },
            "'range' takes [low, high]",
        ),
    ],
)
def test_model_rejects_bad_entries(change, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        Indicator.model_validate(valid_entry(**change))


# --- the shipped entries --------------------------------------------------------------------------


def test_every_shipped_entry_writes_every_field_and_sits_in_its_pillar_file():
    fields = set(Indicator.model_fields)
    for pillar, entry in raw_entries():
        assert set(entry) == fields, entry["id"]
        assert entry["pillar"] == pillar, entry["id"]
        assert entry["iati_measure"], entry["id"]
        assert (
            entry["definition"].strip()
            and entry["rationale"].strip()
            and entry["data_source"].strip()
        )


def test_counts_per_pillar_and_total():
    catalogue = load_catalogue()
    counts = {pillar: len(catalogue.filter(pillar=pillar)) for pillar in PILLARS}
    assert all(count >= 10 for count in counts.values()), counts
    assert len(catalogue) == sum(counts.values()) >= 60


def test_ids_are_numbered_per_pillar_without_gaps():
    catalogue = load_catalogue()
    for pillar, prefix in PREFIXES.items():
        ids = [i.id for i in catalogue.filter(pillar=pillar)]
        assert ids == [f"{prefix}-{n:02d}" for n in range(1, len(ids) + 1)]


def test_every_issue_sub_area_is_covered():
    catalogue = load_catalogue()
    for pillar, areas in REQUIRED_AREAS.items():
        covered = {i.area for i in catalogue.filter(pillar=pillar)}
        assert areas <= covered, areas - covered


def named_columns(indicator) -> set[str]:
    """Every column a recipe or its disaggregations name (walked independently of the checker); a
    dimension the table holds as count columns (participants by sex) names those columns."""
    method = indicator.method
    split = TABLES[method.table].counts_by
    dimensions = {d for d in indicator.disaggregations if d not in split}
    split_columns = {
        c for d in indicator.disaggregations if d in split for c in split[d][1].values()
    }
    names = {method.date, method.end, method.until, method.column, method.before, method.after}
    names |= dimensions | split_columns
    names |= {c.column for c in method.filter}
    for part in (method.numerator, method.denominator):
        if part is not None:
            names |= {part.column} | {c.column for c in part.filter}
    return names - {None}


def test_every_shipped_recipe_names_existing_tables_and_columns():
    for indicator in load_catalogue():
        method = indicator.method
        if method.measure == "reported":
            continue
        assert method.table in TABLES, indicator.id
        columns = recipe_columns(method.table)
        assert named_columns(indicator) <= set(columns), (
            indicator.id,
            named_columns(indicator) - set(columns),
        )
        assert columns[method.date].kind == DATE, indicator.id
        for condition in method.filter:
            if columns[condition.column].categories and condition.op in ("equals", "in", "not"):
                values = condition.value if isinstance(condition.value, list) else [condition.value]
                assert set(values) <= set(columns[condition.column].categories), indicator.id


def test_shipped_units_and_rollups_follow_the_measure():
    for indicator in load_catalogue():
        measure = indicator.method.measure
        if measure == "share":
            # only survey shares may describe the population at the latest round;
            # others are recomputed
            rollups = (
                ("recompute", "latest") if indicator.method.table == "surveys" else ("recompute",)
            )
            assert (indicator.unit, indicator.iati_measure) == ("percent", "percentage"), (
                indicator.id
            )
            assert indicator.rollup in rollups, indicator.id
        elif measure in ("ratio", "rate", "mean", "median", "change"):
            assert indicator.rollup == "recompute", indicator.id
        elif measure == "milestone":
            assert (indicator.unit, indicator.rollup) == ("yes_no", "latest"), indicator.id
        elif indicator.method.until:  # a stock at the period's end
            assert (indicator.unit, indicator.rollup) == ("count", "latest"), indicator.id
        elif measure in ("count", "sum", "days_in_period"):
            assert indicator.unit in ("count", "currency"), indicator.id
            assert indicator.rollup == "sum", indicator.id
        elif measure == "count_distinct":  # people counted once over the life of the project
            assert (indicator.unit, indicator.rollup) == ("count", "recompute"), indicator.id


def test_every_shipped_entry_says_what_it_counts_and_has_a_full_reference_sheet():
    catalogue = load_catalogue()
    texts = (
        "counting_unit",
        "double_counting",
        "collected_by",
        "reported_by",
        "collection_timing",
        "reporting_lag",
        "data_limitations",
        "target_rationale",
        "baseline_timeframe",
    )
    for indicator in catalogue:
        assert all(getattr(indicator, name).strip() for name in texts), indicator.id
        assert indicator.change_log, indicator.id
        assert set(indicator.mandatory_disaggregations) <= set(indicator.disaggregations)
        if indicator.unit == "currency":
            assert indicator.counts == "money", indicator.id
    counts = {i.id: i.counts for i in catalogue}
    # public facts are shown; people and cases are what small counts are hidden of
    assert counts["PART-03"] == "events" and counts["PROS-01"] == "documents"
    assert counts["PROT-02"] == "people" and counts["PROS-16"] == "cases"
    # the standards' own disaggregations are mandatory
    assert catalogue.get("PREV-08").mandatory_disaggregations == ["sex"]
    assert set(catalogue.get("PROT-03").mandatory_disaggregations) == {
        "sex",
        "age_group",
        "exploitation_group",
    }


def test_a_few_indicators_are_reported_directly():
    reported = [i.id for i in load_catalogue() if i.method.measure == "reported"]
    assert 3 <= len(reported) <= 8, reported


def test_the_standard_donor_indicators():
    catalogue = load_catalogue()
    by_reference = {ref: i for i in catalogue for ref in i.references}
    assert {
        code: by_reference[code].pillar
        for code in ("PS.5.1-28", "PS.5.1-29", "PS.5.2-23", "PS.5.3-15")
    } == {
        "PS.5.1-28": "protection",
        "PS.5.1-29": "protection",
        "PS.5.2-23": "prosecution",
        "PS.5.3-15": "prevention",
    }
    sdg = by_reference["SDG 16.2.2"]
    assert (sdg.unit, sdg.level, sdg.method.measure, sdg.method.factor) == (
        "rate",
        "impact",
        "rate",
        100000,
    )
    assert sdg.method.denominator.project_value == "population"
    prevention_training = by_reference["PS.5.3-15"].method
    assert {(c.column, c.value) for c in prevention_training.filter} == {
        ("curriculum", "tip_prevention"),
        ("has_completed", True),
    }
    assert prevention_training.date == "completion_date"
    [forced_labour] = catalogue.search("involuntary menace penalty screened")
    assert (forced_labour.id, forced_labour.direction) == ("PREV-18", "decrease")
    child_labour = by_reference["SDG 8.7.1"]
    assert (child_labour.unit, child_labour.method.table) == ("percent", "surveys")
    assert child_labour.mandatory_disaggregations == ["sex", "child_age_band"]
    assert [i.id for i in catalogue if "penalised" in i.name.lower()] == ["PROS-15"]
    assert catalogue.get("PROS-15").direction == "decrease"


# --- the API --------------------------------------------------------------------------------------


def test_the_builtin_load_is_cached_and_versioned():
    catalogue = load_catalogue()
    assert load_catalogue() is catalogue
    assert re.fullmatch(r"[0-9a-f]{12}", catalogue.version)
    assert catalogue.ids[0] == "PREV-01" and "PART-01" in catalogue


def test_get_is_case_insensitive():
    assert load_catalogue().get(" prot-06 ").name == "Victims referred to protection services"


def test_get_unknown_id_suggests_the_closest():
    with pytest.raises(UnknownIndicatorError) as caught:
        load_catalogue().get("PROT-3")
    message = str(caught.value)
    assert message.startswith("Unknown indicator 'PROT-3'; did you mean PROT-03")
    assert isinstance(caught.value, KeyError)
    with pytest.raises(UnknownIndicatorError, match="ctlib catalogue list"):
        load_catalogue().get("XYZ")


def test_filter_by_pillar_area_level_unit():
    catalogue = load_catalogue()
    assert [i.id for i in catalogue.filter(pillar="prosecution", area="sentencing")] == [
        "PROS-11",
        "PROS-12",
    ]
    assert [i.id for i in catalogue.filter(unit="rate")] == ["PROT-03"]
    assert [i.id for i in catalogue.filter(level="impact")] == ["PREV-24", "PROT-03", "PROT-04"]
    assert [i.id for i in catalogue.filter(unit="currency")] == ["PROS-25", "PART-15"]
    assert [i.id for i in catalogue.filter(unit="days")] == ["PROT-08", "PROT-31", "PROS-18"]
    assert [i.id for i in catalogue.filter(pillar="Partnership", unit="yes_no")] == [
        "PART-05",
        "PART-06",
        "PART-07",
        "PART-08",
        "PART-13",
    ]
    assert catalogue.filter(area="no such area") == []


def test_search_matches_every_word_in_id_name_definition_area_references():
    catalogue = load_catalogue()
    assert [i.id for i in catalogue.search("ps.5.1-29")] == ["PROT-06"]
    assert [i.id for i in catalogue.search("referral 14 days")] == ["PROT-07"]
    assert [i.id for i in catalogue.search("SDG 16.2.2")] == ["PROT-03", "PROT-25"]
    assert {i.id for i in catalogue.search("non-punishment")} == {"PROS-15"}
    assert catalogue.search("zebra") == []


def test_describe_method_in_plain_words():
    catalogue = load_catalogue()
    assert describe_method(catalogue.get("PROT-06")) == (
        "Number of distinct person_id over rows in cases where is_referred is true and "
        "trafficking_status is one of possible, actual, placed in a period by referral_date; "
        "life of project: recomputed over all records of the project"
    )
    assert describe_method(catalogue.get("PROT-03")) == (
        "Rate over rows in cases where trafficking_status is one of possible, actual: (distinct "
        "person_id) ÷ (the project's population (from project.yaml context)) × 100,000, placed "
        "in a period by identification_date; life of project: recomputed over all records of "
        "the project"
    )
    assert describe_method(catalogue.get("PROS-02")) == (
        "Yes when a row in milestones where milestone_type is one of law_enacted, law_amended and "
        "is_palermo_compliant is true has achieved_date on or before the end of the period, "
        "otherwise no; life of project: value of the latest period"
    )
    assert describe_method(catalogue.get("PROT-11")).startswith(
        "Days from start_date to end_date that fall in the period, summed over rows in services"
    )
    assert describe_method(catalogue.get("PROT-37")) == (
        "Count of rows in cases where trafficking_status is one of possible, actual, at the end of "
        "the period: rows with identification_date on or before it and closure_date empty or on or "
        "after it; life of project: value of the latest period"
    )
    assert describe_method(catalogue.get("PREV-10")).startswith(
        "Mean of post_score minus pre_score over rows in participants that have both pre_score"
    )
    assert describe_method(catalogue.get("PART-09")).startswith("Reported directly by the project")


@pytest.mark.parametrize(
    "op, value, words",
    [
        ("equals", True, "x is true"),
        ("in", ["a", "b"], "x is one of a, b"),
        ("not", "a", "x is not a"),
        ("not", ["a", "b"], "x is none of a, b"),
        ("range", [0, 14], "x is between 0 and 14"),
        ("range", [70, None], "x is at least 70"),
        ("range", [None, 5], "x is at most 5"),
        ("is_null", True, "x is empty"),
        ("is_null", False, "x is filled in"),
    ],
)
def test_describe_condition(op, value, words):
    assert describe_condition(Condition(column="x", op=op, value=value)) == words


# --- a team's own catalogue -----------------------------------------------------------------------


def test_a_team_file_adds_its_indicators(tmp_path):
    path = write_yaml(tmp_path / "team.yaml", [valid_entry()])
    catalogue = load_catalogue(extra=[path])
    builtin = load_catalogue()
    assert len(catalogue) == len(builtin) + 1
    assert catalogue.ids[-1] == "TEAM-01"
    assert catalogue.get("TEAM-01").disaggregations == ["sex"]  # a column of the linked cases table
    assert catalogue.version != builtin.version
    assert (
        load_catalogue(extra=path).ids == catalogue.ids
    )  # one path alone is not split into characters


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("- id: TEAM-01\n  name: [unclosed\n  pillar: protection\n", encoding="utf-8")
    error = load_error(path)
    [problem] = error.problems
    assert problem.file == str(path)
    assert re.search(r"malformed YAML at line \d+", problem.message)


def test_a_file_that_is_not_a_list(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("id: TEAM-01\nname: x\n", encoding="utf-8")
    [problem] = load_error(path).problems
    assert "expected a list of indicators" in problem.message and "found a dict" in problem.message


def test_a_missing_file(tmp_path):
    [problem] = load_error(tmp_path / "missing.yaml").problems
    assert problem.message == "file not found"


def test_duplicate_ids_within_a_file_and_with_the_builtin_catalogue(tmp_path):
    path = write_yaml(
        tmp_path / "team.yaml", [valid_entry(), valid_entry(), valid_entry(id="PROT-03")]
    )
    problems = load_error(path).problems
    assert [(p.entry, p.rule) for p in problems] == [
        ("TEAM-01", "unique id"),
        ("PROT-03", "unique id"),
    ]
    assert f"already used in {path} (entry 1)" in problems[0].message
    assert "already used in the built-in catalogue" in problems[1].message


def test_duplicate_ids_across_two_team_files(tmp_path):
    first = write_yaml(tmp_path / "a.yaml", [valid_entry()])
    second = write_yaml(tmp_path / "b.yaml", [valid_entry()])
    [problem] = load_error(first, second).problems
    assert (problem.file, problem.entry) == (second, "TEAM-01")


@pytest.mark.parametrize(
    "change, field, value, allowed",
    [
        ({"pillar": "policy"}, "field pillar", "policy", "'prevention'"),
        ({"unit": "people"}, "field unit", "people", "'percent'"),
        (
            {"method": {"measure": "average", "table": "cases", "date": "identification_date"}},
            "field method.measure",
            "average",
            "'median'",
        ),
    ],
)
def test_unknown_pillar_unit_or_measure(tmp_path, change, field, value, allowed):
    path = write_yaml(tmp_path / "team.yaml", [valid_entry(**change)])
    [problem] = load_error(path).problems
    assert (problem.file, problem.entry, problem.value) == (path, "TEAM-01", value)
    assert problem.message.startswith(f"{field}: Input should be") and allowed in problem.message


def test_unknown_table(tmp_path):
    method = {"measure": "count", "table": "victims", "date": "identification_date"}
    path = write_yaml(tmp_path / "team.yaml", [valid_entry(method=method, rollup="sum")])
    [problem] = load_error(path).problems
    assert problem.entry == "TEAM-01"
    assert problem.message.startswith(
        "field method.table: unknown table 'victims'; standard tables are: cases"
    )


def test_filter_on_a_column_the_table_lacks(tmp_path):
    method = {
        "measure": "count",
        "table": "cases",
        "date": "identification_date",
        "filter": [{"column": "gender", "op": "equals", "value": "female"}],
    }
    path = write_yaml(tmp_path / "team.yaml", [valid_entry(method=method, rollup="sum")])
    [problem] = load_error(path).problems
    assert (problem.entry, problem.column, problem.rule) == ("TEAM-01", "gender", "known column")
    assert problem.message == "field method.filter[0].column: table 'cases' has no column 'gender'"


def test_missing_required_field(tmp_path):
    entry = valid_entry()
    del entry["rationale"]
    path = write_yaml(tmp_path / "team.yaml", [entry])
    [problem] = load_error(path).problems
    assert (problem.file, problem.entry, problem.message) == (
        path,
        "TEAM-01",
        "field rationale: Field required",
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"method": {"measure": "count", "table": "cases", "date": "closure_reason"}},
            "field method.date: column 'closure_reason' is category, expected date",
        ),
        (
            {
                "method": {
                    "measure": "count",
                    "table": "cases",
                    "date": "identification_date",
                    "filter": [{"column": "sex", "op": "equals", "value": "f"}],
                }
            },
            "field method.filter[0].value: 'f' is not a category of 'sex'; allowed: female, "
            "male, other, unknown",
        ),
        ({"unit": "percent"}, "field unit: measure 'count_distinct' gives count, not 'percent'"),
        (
            {"disaggregations": ["sector"]},
            "field disaggregations[0]: table 'services' has no column 'sector'",
        ),
        (
            {
                "method": {
                    "measure": "mean",
                    "table": "legal_cases",
                    "date": "verdict_date",
                    "column": "verdict",
                }
            },
            "field method.column: column 'verdict' is category, expected integer or number",
        ),
    ],
)
def test_recipe_checks_against_the_tables(tmp_path, change, message):
    path = write_yaml(tmp_path / "team.yaml", [valid_entry(**change)])
    assert message in [p.message for p in load_error(path).problems]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    entry_without_name = valid_entry(id="TEAM-02")
    del entry_without_name["name"]
    first = write_yaml(
        tmp_path / "a.yaml",
        [
            valid_entry(),  # valid: still nothing is loaded
            valid_entry(id="TEAM-01", pillar="policy"),
            entry_without_name,
            valid_entry(
                id="TEAM-03",
                method={
                    "measure": "count",
                    "table": "cases",
                    "date": "identification_date",
                    "filter": [{"column": "colour", "op": "equals", "value": 1}],
                },
                rollup="sum",
            ),
        ],
    )
    second = tmp_path / "b.yaml"
    second.write_text("- id: [\n", encoding="utf-8")
    error = load_error(first, second)
    where = [(p.file, p.entry) for p in error.problems]
    assert where == [
        (first, "TEAM-01"),
        (first, "TEAM-01"),
        (first, "TEAM-02"),
        (first, "TEAM-03"),
        (str(second), None),
    ]
    assert error.summary == "The indicator catalogue cannot be loaded (5 problem(s))"
    text = str(error)
    assert "field pillar" in text and "field name: Field required" in text and "'colour'" in text
    assert "malformed YAML" in text


def test_reported_and_linked_columns_need_no_table_of_their_own(tmp_path):
    reported = valid_entry(
        id="TEAM-02",
        unit="percent",
        rollup="latest",
        disaggregations=["shelter"],
        method={"measure": "reported"},
    )
    linked = valid_entry(
        id="TEAM-03",
        method={
            "measure": "share",
            "table": "participants",
            "date": "completion_date",
            "filter": [{"column": "activity_type", "op": "equals", "value": "training"}],
            "numerator": {"filter": [{"column": "post_score", "op": "range", "value": [70, None]}]},
        },
        unit="percent",
        disaggregations=["channel"],
    )
    catalogue = load_catalogue(extra=[write_yaml(tmp_path / "team.yaml", [reported, linked])])
    assert catalogue.get("TEAM-03").method.filter[0].column == "activity_type"


def test_there_is_no_function_measure():
    """Every indicator is a declared recipe; what a recipe cannot say is a derived column."""
    with pytest.raises(ValidationError, match="measure"):
        Method.model_validate({"measure": "function", "function": "my_module.compute"})


def test_the_built_in_files_read_the_same_with_libyaml_as_in_yaml_1_2():
    """The catalogue's files are parsed with the fast loader, as YAML 1.2 reads them."""
    from ctlib import _fast_yaml as fast_yaml
    from ctlib._catalogue import BUILTIN_FILES

    for path in BUILTIN_FILES:
        text = path.read_text(encoding="utf-8")
        assert fast_yaml.load(text) == YAML(typ="safe", pure=True).load(text)


def test_a_team_file_reads_no_as_a_word(tmp_path):
    """YAML 1.2 for a team's files: `no` and `yes` stay words, as the catalogue's fields expect."""
    from ctlib._catalogue import _parse
    from ctlib._errors import Problems

    entries = _parse("team.yaml", "- id: T-1\n  answer: no\n", Problems())
    assert entries == [{"id": "T-1", "answer": "no"}]
