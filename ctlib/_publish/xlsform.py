"""XLSForms to collect a project's standard tables with KoboToolbox or ODK (`ctlib new --xlsform`).

One form per standard table the project's indicators need, one question per column a user fills
in, named as the column, so that the submissions load with `format: kobo` (KoboToolbox's xlsx or
csv export, "XML values and headers") or `format: odk` (ODK Central's csv) and no column map:

- types follow the column's kind: `text`, `integer` and `decimal` (the column's minimum and
  maximum as a constraint), `date`, `select_one yes_no` for a yes/no column, `select_one` of the
  column's categories (`select_multiple` for a multi-valued column), and countries as their
  ISO 3166 codes with the English name as label;
- the count of a multi-valued column's choices (`exploitation_types_count`) is calculated;
- required columns are required questions; each question's hint is the column's description;
- the tally form (`reported_values`) offers the project's own reported indicators, its periods,
  the disaggregations project.yaml selects for the chosen indicator and, where each of them has
  declared categories, those categories (filtered by the dimension).

Every form is converted by pyxform before it is written: a form pyxform refuses is never written,
and a form on disk is never replaced (`write_forms` keeps it and says so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from .._compute.periods import ReportingCalendar
from .._data.countries import country_choices
from .._data.project import load_project_file
from .._data.project_model import CROSS, Project
from .._data.tables import (
    BOOLEAN,
    CATEGORY,
    COUNTRY,
    DATE,
    INTEGER,
    NUMBER,
    STRING,
    TABLES,
    Column,
    Table,
    dimension_categories,
)
from .._data.templates import BOOLEAN_CHOICES, FORMS_FOLDER, tables_needed
from .._errors import ProjectError
from .presentation import readable

SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "choice_filter",
    "appearance",
)
COUNTRY_LIST, YES_NO_LIST = "countries", "yes_no"
SHARE_UNITS = ("percent", "ratio", "rate")  # reported with their numerator and denominator
COUNT_SUFFIX = "_count"  # an integer column counting a multi-valued column's choices


@dataclass
class Form:
    """An XLSForm's three sheets, as rows of {column: text}."""

    title: str
    form_id: str
    survey: list[dict] = field(default_factory=list)
    choices: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def add_list(self, list_name: str, items, **extra) -> str:
        """Choices (name, label) under `list_name`, once; returns the list's name."""
        if not any(c["list_name"] == list_name for c in self.choices):
            self.choices += [
                {"list_name": list_name, "name": name, "label": label, **extra}
                for name, label in items
            ]
        return list_name

    def sheets(self) -> dict[str, list[dict]]:
        settings = {"form_title": self.title, "form_id": self.form_id, **self.settings}
        return {"survey": self.survey, "choices": self.choices, "settings": [settings]}


def label(code: str) -> str:
    """A name or category in words, capitalised: 'sexual_exploitation' → 'Sexual exploitation'."""
    words = readable(code)
    return words[:1].upper() + words[1:]


def table_form(table_name: str, project: Project, catalogue, today: dt.date) -> Form:
    """The XLSForm of one standard table for a project."""
    table = TABLES[table_name]
    form = Form(
        title=f"{project.project.name}: {table_name.replace('_', ' ')}",
        form_id=f"{project.id}_{table_name}",
        settings={"version": today.strftime("%Y%m%d")},
    )
    form.survey += [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    if table_name == "reported_values":
        _tally_questions(form, project, catalogue)
    else:
        for column in table.input_columns:
            form.survey.append(_question(form, column, table))
        if table.key:
            form.settings["instance_name"] = f"concat('{table_name} ', ${{{table.key}}})"
    return form


def _question(form: Form, column: Column, table: Table) -> dict:
    """The question that fills one column."""
    question = _described(column)
    if column.required:
        question["required"] = "yes"
    counted = column.name.removesuffix(COUNT_SUFFIX)
    if (
        column.kind == INTEGER
        and counted != column.name
        and counted in table.column_names
        and table.column(counted).multiple
    ):
        reference = f"${{{counted}}}"
        return {
            "type": "calculate",
            "name": column.name,
            "calculation": f"if({reference} = '', '', count-selected({reference}))",
        }
    if column.kind in (INTEGER, NUMBER):
        question["type"] = "integer" if column.kind == INTEGER else "decimal"
        question.update(_range_constraint(column))
    elif column.kind == DATE:
        question["type"] = "date"
    elif column.kind == BOOLEAN:
        choices = [(word, label(word)) for word in BOOLEAN_CHOICES]
        question["type"] = f"select_one {form.add_list(YES_NO_LIST, choices)}"
    elif column.kind in (CATEGORY, COUNTRY):
        if column.kind == COUNTRY:
            list_name = form.add_list(COUNTRY_LIST, country_choices())
            question["appearance"] = "autocomplete"
        else:
            list_name = _category_list(form, column, table)
        select = "select_multiple" if column.multiple else "select_one"
        question["type"] = f"{select} {list_name}"
    else:
        assert column.kind == STRING, column.kind
        question["type"] = "text"
    return question


def _category_list(form: Form, column: Column, table: Table) -> str:
    """The choice list of a category column, shared by the columns with the same categories."""
    first = next(c.name for c in table.columns if c.categories == column.categories)
    return form.add_list(first, [(c, label(c)) for c in column.categories])


def _range_constraint(column: Column) -> dict:
    """The column's minimum and maximum as a constraint, and its message."""
    low, high = column.minimum, column.maximum
    parts = [f". {op} {bound:g}" for op, bound in ((">=", low), ("<=", high)) if bound is not None]
    if not parts:
        return {}
    if low is not None and high is not None:
        words = f"from {low:g} to {high:g}"
    else:
        words = f"of at least {low:g}" if low is not None else f"of at most {high:g}"
    return {"constraint": " and ".join(parts), "constraint_message": f"A number {words}."}


def _tally_questions(form: Form, project: Project, catalogue) -> None:
    """Indicator, period, dimension, category and the figures of one row of reported_values."""
    reported = [
        (selected, catalogue.get(selected.id))
        for selected in project.indicators
        if catalogue.get(selected.id).method.measure == "reported"
    ]
    if not reported:
        raise ProjectError(
            "no tally form: project.yaml selects no indicator whose value is reported by hand"
        )
    columns = {c.name: c for c in TABLES["reported_values"].input_columns}
    indicators = [(i.id, f"{i.id} {i.name}") for _, i in reported]
    form.survey.append(
        {
            **_described(columns["indicator_id"]),
            "type": f"select_one {form.add_list('indicators', indicators)}",
            "required": "yes",
        }
    )
    calendar = ReportingCalendar(project)
    periods = calendar.periods() + (calendar.periods("year") if calendar.kind != "year" else [])
    form.survey.append(
        {
            **_described(columns["period"]),
            "type": f"select_one {form.add_list('periods', [(p.label, p.label) for p in periods])}",
            "required": "yes",
        }
    )
    dimensions = {
        selected.id: [d for d in selected.disaggregations if CROSS not in d]
        for selected, _ in reported
    }
    if any(dimensions.values()):
        _dimension_questions(form, dimensions, columns)
    form.survey.append(
        {
            **_described(columns["value"]),
            "hint": "The indicator's figure for the period (and the category, if one is chosen)",
            "type": "decimal",
            "required": "yes",
        }
    )
    shares = [indicator.id for _, indicator in reported if indicator.unit in SHARE_UNITS]
    if shares:
        relevant = _one_of("indicator_id", shares)
        for name in ("numerator", "denominator"):
            form.survey.append(
                {**_described(columns[name]), "type": "decimal", "relevant": relevant}
            )
    form.survey.append({**_described(columns["comment"]), "type": "text"})
    form.settings["instance_name"] = "concat(${indicator_id}, ' ', ${period})"


def _dimension_questions(form: Form, dimensions: dict[str, list[str]], columns) -> None:
    """A dimension among the chosen indicator's disaggregations (empty: the total), and its
    category: chosen from the dimension's categories when every dimension has declared ones."""
    form.choices += [
        {"list_name": "dimensions", "name": d, "label": label(d), "indicator": indicator_id}
        for indicator_id, ids in dimensions.items()
        for d in ids
    ]
    with_dimensions = [indicator_id for indicator_id, ids in dimensions.items() if ids]
    form.survey.append(
        {
            **_described(columns["dimension"]),
            "type": "select_one dimensions",
            "choice_filter": "indicator=${indicator_id}",
            "relevant": _one_of("indicator_id", with_dimensions),
        }
    )
    every = sorted({d for ids in dimensions.values() for d in ids})
    categories = {d: dimension_categories(d) for d in every}
    category = {
        **_described(columns["category"]),
        "required": "yes",
        "relevant": "${dimension} != ''",
    }
    if all(categories.values()):
        form.choices += [
            {"list_name": "categories", "name": c, "label": label(c), "dimension": d}
            for d in every
            for c in categories[d]
        ]
        category.update(type="select_one categories", choice_filter="dimension=${dimension}")
    else:
        category["type"] = "text"
    form.survey.append(category)
    names = [(c["list_name"], c["name"]) for c in form.choices]
    if len(set(names)) < len(names):
        form.settings["allow_choice_duplicates"] = "yes"


def _described(column: Column) -> dict:
    return {"name": column.name, "label": label(column.name), "hint": column.description}


def _one_of(name: str, values: list[str]) -> str:
    return " or ".join(f"${{{name}}} = '{value}'" for value in values)


# -- writing ---------------------------------------------------------------------------------------


def checked(form: Form) -> Form:
    """The form once pyxform converts it to an XForm; ProjectError with pyxform's message if not."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        convert(_as_workbook_dict(form))
    except PyXFormError as error:
        raise ProjectError(f"the form {form.form_id!r} cannot be written: {error}") from None
    return form


def _as_workbook_dict(form: Form) -> dict:
    """The form as pyxform reads a workbook: each sheet a list of rows of {column: text}."""
    return {name: [dict(row) for row in rows] for name, rows in form.sheets().items()}


def write_form(form: Form, path: Path) -> None:
    """The form as an xlsx workbook: survey, choices and settings sheets, bold frozen headers."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in form.sheets().items():
        sheet = book.create_sheet(name)
        header = list(SURVEY_COLUMNS) if name == "survey" else _columns(rows)
        header = [h for h in header if any(row.get(h) for row in rows)]
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(h, "") for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for letter, width in zip("ABCD", (24, 28, 36, 60)):
            sheet.column_dimensions[letter].width = width
    temporary = path.with_name(f".{path.name}.tmp")
    book.save(temporary)
    temporary.replace(path)


def _columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


@dataclass
class WrittenForm:
    table: str
    path: Path
    is_new: bool  # False: a file of that name was there and is kept


def write_forms(project_dir: str | Path, today: dt.date | None = None) -> list[WrittenForm]:
    """An XLSForm per standard table the project's selected indicators need, in `forms/`;
    a form already there is kept, never replaced."""
    project_file = load_project_file(project_dir)
    project, catalogue = project_file.project, project_file.catalogue
    needed = tables_needed([catalogue.get(selected.id) for selected in project.indicators])
    folder = Path(project_dir) / FORMS_FOLDER
    forms, written = {}, []
    for table_name in needed:
        path = folder / f"{table_name}.xlsx"
        if path.exists():
            written.append(WrittenForm(table_name, path, False))
            continue
        forms[table_name] = checked(
            table_form(table_name, project, catalogue, today or dt.date.today())
        )
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise ProjectError(f"cannot write the forms into {folder}: {error.strerror}") from None
    for table_name, form in forms.items():
        path = folder / f"{table_name}.xlsx"
        write_form(form, path)
        written.append(WrittenForm(table_name, path, True))
    return sorted(written, key=lambda w: needed.index(w.table))
