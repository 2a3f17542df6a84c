"""The guided indicator picker (PickIndicatorsApp) and the helpers that write its project.yaml."""

from __future__ import annotations

import base64
import copy
import functools
import html
import re
import shutil
import tempfile
import typing
from pathlib import Path

import ipywidgets as widgets
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .._catalogue import describe_recipe, load_catalogue
from .._catalogue.model import Indicator, Unit
from .._compute.engine import data_needed
from .._compute.periods import ReportingCalendar
from .._data.project import PROJECT_FILE, load_project_file, new_project, save_project
from .._data.project_model import LIFE_OF_PROJECT, Project
from .._data.tables import PILLARS
from .._data.templates import tables_needed, write_csv_template, write_xlsx_template
from .._errors import Problem, ProjectError
from .._publish.html_table import html_table
from .._publish.presentation import PAGE_STYLE
from .common import App, _guide, on_screen

SEX_AND_AGE = ("sex", ("age_group", "child_adult"))
LEVELS = ("process", "output", "outcome", "impact")
UNITS = typing.get_args(Unit)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _number(text: str) -> float | None:
    """A typed number, None when blank; ProjectError saying what to type otherwise."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ProjectError(
            f"{text!r} is not a number: type digits such as 40 or 12.5, or leave it empty"
        ) from None


def _download_link(path: Path, label: str) -> str:
    """An <a download> link holding the file's bytes.

    Works offline and in Voilà, no server route needed.
    """
    mime = (
        "text/csv"
        if path.suffix == ".csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<a download='{path.name}' href='data:{mime};base64,{payload}'>{html.escape(label)}</a>"


@functools.cache
def _template_links(table_name: str) -> str:
    """Download links of the blank csv and xlsx templates of a standard table."""
    with tempfile.TemporaryDirectory() as folder:
        csv_path, xlsx_path = (
            Path(folder) / f"{table_name}.csv",
            Path(folder) / f"{table_name}.xlsx",
        )
        write_csv_template(table_name, csv_path)
        write_xlsx_template(table_name, xlsx_path)
        return (
            f"{_download_link(xlsx_path, f'{table_name}.xlsx')} · "
            f"{_download_link(csv_path, f'{table_name}.csv')}"
        )


class PickIndicatorsApp(App):
    """The guided indicator picker: six steps from the project's identity to a saved project.yaml.

    1 project (open a folder, or start a new one) · 2 results chain · 3 indicators per pillar ·
    4 checklist · 5 baselines and targets · 6 review and save.
    """

    STEPS = (
        "1 Project",
        "2 Results chain",
        "3 Indicators",
        "4 Checklist",
        "5 Baselines & targets",
        "6 Review & save",
    )

    def __init__(self, project_dir: str | Path = ""):
        self.catalogue = load_catalogue()  # with the project's own indicators once it is opened
        self.project_file = (
            None  # the opened project.yaml (ProjectFile), None before Open or Create
        )
        self.chain: list[
            dict
        ] = []  # outcomes: {"id", "statement", "outputs": [{"id", "statement"}]}
        self.selected: dict[
            str, dict
        ] = {}  # indicator id -> its SelectedIndicator fields, in order
        self._cards: dict[str, tuple[widgets.VBox, widgets.Checkbox, widgets.Dropdown]] = {}
        self._checks: dict[str, tuple[widgets.VBox, widgets.HTML, list[widgets.Checkbox]]] = {}
        self._grid_rows: dict[tuple, list[widgets.Widget]] = {}
        self.period_labels: list[
            str
        ] = []  # of the project's span, then life_of_project; empty while dates are invalid
        self._build()
        self.folder.value = str(project_dir)
        if project_dir and (Path(project_dir) / PROJECT_FILE).is_file():
            self.open_project()
        else:
            self._redraw()

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message = widgets.HTML()
        self.steps = widgets.Tab(
            children=[
                self._build_project(),
                self._build_chain(),
                self._build_browser(),
                self._build_checklist(),
                self._build_targets(),
                self._build_review(),
            ],
            titles=self.STEPS,
        )
        self.back_button = widgets.Button(description="← Back")
        self.next_button = widgets.Button(description="Next step →", button_style="primary")
        self.on(self.steps, self._on_change, "selected_index")
        self.on_click(self.back_button, lambda: self._go(-1))
        self.on_click(self.next_button, lambda: self._go(+1))
        self.widget = widgets.VBox(
            [
                widgets.HTML(PAGE_STYLE),
                self.message,
                self.steps,
                widgets.HBox([self.back_button, self.next_button]),
            ]
        )
        self.widget.add_class("ctlib-app")

    def _build_project(self) -> widgets.VBox:
        wide = widgets.Layout(width="520px")
        style = {"description_width": "150px"}
        self.folder = widgets.Text(
            description="Project folder",
            placeholder="e.g. ../data/my_project",
            layout=wide,
            style=style,
        )
        self.open_button = widgets.Button(description="Open project")
        self.create_button = widgets.Button(
            description="Start a new project", button_style="success"
        )
        self.on(self.folder, self._on_folder, "value")
        self.on_click(self.open_button, self.open_project)
        self.on_click(self.create_button, self.create_project)
        self.identity = {
            "id": widgets.Text(
                description="Short id", placeholder="a-z, 0-9, - and _", layout=wide, style=style
            ),
            "name": widgets.Text(description="Project name", layout=wide, style=style),
            "organisation": widgets.Text(description="Organisation", layout=wide, style=style),
            "donor": widgets.Text(description="Donor", layout=wide, style=style),
            "country": widgets.Text(
                description="Country", placeholder="two letters, e.g. NG", layout=wide, style=style
            ),
            "start_date": widgets.DatePicker(description="Start date", style=style),
            "end_date": widgets.DatePicker(description="End date", style=style),
        }
        self.reporting = {
            "frequency": widgets.Dropdown(
                description="Report every",
                options=[
                    ("quarter", "quarterly"),
                    ("semester (6 months)", "semester"),
                    ("year", "annual"),
                ],
                style=style,
            ),
            "calendar": widgets.Dropdown(
                description="Calendar",
                options=[("calendar year (January)", "calendar"), ("fiscal year", "fiscal")],
                style=style,
            ),
            "fiscal_year_start_month": widgets.Dropdown(
                description="Fiscal year starts",
                options=[(m, n) for n, m in enumerate(MONTHS, 1)],
                style=style,
            ),
        }
        for field in [*self.identity.values(), *self.reporting.values()]:
            self.on(field, self._on_change, "value")
        return widgets.VBox(
            [
                _guide(
                    "Type the folder of your project. If it already holds a "
                    "<code>project.yaml</code>, press <b>Open project</b>. To start a new project, "
                    "fill in the form below and press <b>Start a new project</b>: the folder is "
                    "created with a project.yaml and a data folder."
                ),
                self.folder,
                widgets.HBox([self.open_button, self.create_button]),
                widgets.HTML("<b>About the project</b>"),
                *self.identity.values(),
                widgets.HTML("<b>Reporting periods</b> (targets are set per period)"),
                *self.reporting.values(),
            ]
        )

    def _build_chain(self) -> widgets.VBox:
        self.objective = widgets.Textarea(
            description="Objective",
            placeholder="The change the project contributes to",
            layout=widgets.Layout(width="700px", height="60px"),
            continuous_update=False,
        )
        self.on(self.objective, self._on_change, "value")
        self.chain_box = widgets.VBox()
        self.add_outcome_button = widgets.Button(description="Add an outcome")
        self.on_click(self.add_outcome_button, self.add_outcome)
        return widgets.VBox(
            [
                _guide(
                    "Write the results chain: the <b>objective</b>, the <b>outcomes</b> (changes "
                    "the project expects among people or institutions) and under each outcome the "
                    "<b>outputs</b> (what the project delivers). Each indicator you pick in step 3 "
                    "measures one of them."
                ),
                self.objective,
                self.chain_box,
                self.add_outcome_button,
            ]
        )

    def _build_browser(self) -> widgets.VBox:
        self.search = widgets.Text(
            description="Search",
            placeholder="words, e.g. referral shelter",
            layout=widgets.Layout(width="320px"),
        )
        self.level_filter = widgets.Dropdown(
            description="Level",
            options=[("any", ""), *[(x, x) for x in LEVELS]],
            layout=widgets.Layout(width="190px"),
        )
        self.unit_filter = widgets.Dropdown(
            description="Unit",
            options=[("any", ""), *[(x, x) for x in UNITS]],
            layout=widgets.Layout(width="190px"),
        )
        self.computable_filter = widgets.Checkbox(
            description="Only indicators my data can compute", indent=False
        )
        for control in (self.search, self.level_filter, self.unit_filter, self.computable_filter):
            self.on(control, self._on_change, "value")
        self.pillar_boxes = {pillar: widgets.VBox() for pillar in PILLARS}
        self.pillar_tabs = widgets.Tab(
            children=list(self.pillar_boxes.values()), titles=[p.capitalize() for p in PILLARS]
        )
        self._area_headings: dict[tuple[str, str], widgets.HTML] = {}
        self._use_catalogue(self.catalogue)
        return widgets.VBox(
            [
                _guide(
                    "Browse the catalogue pillar by pillar. Open <i>More</i> on a card to see the "
                    "data it needs. Tick <b>Select</b> on the indicators your project will report "
                    "and choose the outcome or output each one measures."
                ),
                widgets.HBox([self.search, self.level_filter, self.unit_filter]),
                self.computable_filter,
                self.pillar_tabs,
            ]
        )

    def _use_catalogue(self, catalogue) -> None:
        """Browse `catalogue`.

        The built-in one, with the project's own indicators when it has a team file.
        """
        self.catalogue = catalogue
        for indicator in catalogue:
            if indicator.id not in self._cards:
                self._cards[indicator.id] = self._card(indicator)
            self._area_headings.setdefault(
                (indicator.pillar, indicator.area),
                widgets.HTML(f"<div class='ctlib-area'>{html.escape(indicator.area)}</div>"),
            )

    def _card(
        self, indicator: Indicator
    ) -> tuple[widgets.VBox, widgets.Checkbox, widgets.Dropdown]:
        use = widgets.Checkbox(
            description=f"Select {indicator.id}", indent=False, layout=widgets.Layout(width="160px")
        )
        result = widgets.Dropdown(
            description="Measures",
            options=[("(choose later)", "")],
            layout=widgets.Layout(width="520px"),
        )
        self.on(use, lambda change: self._on_select(indicator.id, change["new"]), "value")
        self.on(result, lambda change: self._on_result(indicator.id, change["new"]), "value")
        card = widgets.VBox([widgets.HTML(self._card_html(indicator)), widgets.HBox([use, result])])
        card.add_class("ctlib-card")
        return card, use, result

    def _card_html(self, indicator: Indicator) -> str:
        table, columns = data_needed(indicator)
        better = "higher is better" if indicator.direction == "increase" else "lower is better"
        badges = "".join(
            f"<span class='ctlib-badge'>{html.escape(b)}</span>"
            for b in (indicator.level, indicator.unit, better, indicator.frequency)
        )
        facts = html_table(
            [],
            [
                [
                    "Data needed",
                    f"table <b>{html.escape(table or 'none')}</b>: "
                    f"{html.escape(', '.join(columns))}",
                ],
                ["How it is computed", html.escape(describe_recipe(indicator))],
                ["Means of verification", html.escape(indicator.data_source)],
                ["Disaggregations", html.escape(", ".join(indicator.disaggregations) or "none")],
                ["Why it matters", html.escape(indicator.rationale)],
                ["References", html.escape("; ".join(indicator.references) or "none")],
            ],
        )
        return (
            f"<div><b>{indicator.id}</b> · {html.escape(indicator.name)}</div><div>{badges}"
            f"</div><div>{html.escape(indicator.definition)}</div>"
            "<details><summary>More: data needed, disaggregations, references</summary>"
            f"{facts}</details>"
        )

    def _build_checklist(self) -> widgets.VBox:
        self.checklist_summary = widgets.HTML()
        self.checklist_box = widgets.VBox()
        return widgets.VBox(
            [
                _guide(
                    "A good indicator has a baseline, a target for every period, a source of data, "
                    "and is reported by sex and age when it counts people. Tick the breakdowns to "
                    "report; the warnings say what is still missing."
                ),
                self.checklist_summary,
                self.checklist_box,
            ]
        )

    def _build_targets(self) -> widgets.VBox:
        self.targets_note = widgets.HTML()
        self.targets_grid = widgets.GridBox()
        return widgets.VBox(
            [
                _guide(
                    "Type the <b>baseline</b> (the value before the project, and when it was "
                    "measured) and the <b>target</b> of each period. Leave a cell empty when there "
                    "is no target. Press Enter or click elsewhere after typing. Scroll sideways "
                    "for later periods."
                ),
                self.targets_note,
                widgets.Box([self.targets_grid], layout=widgets.Layout(overflow="auto")),
            ]
        )

    def _build_review(self) -> widgets.VBox:
        self.review_status = widgets.HTML()
        self.review = widgets.HTML()
        self.save_button = widgets.Button(
            description="Save project.yaml",
            button_style="success",
            layout=widgets.Layout(width="180px"),
        )
        self.on_click(self.save_button, self.save)
        return widgets.VBox(
            [
                _guide(
                    "Check the summary, download blank templates for the tables your project must "
                    "collect, then save. The previous project.yaml is kept as "
                    "<code>project.yaml.bak</code>; nothing is written while the project has a "
                    "problem."
                ),
                self.save_button,
                self.review_status,
                self.review,
            ]
        )

    # -- project: open, create, build, save ------------------------------------------------------
    @on_screen
    def open_project(self) -> None:
        """Load project.yaml from the folder and fill every step from it."""
        folder = Path(self.folder.value.strip())
        if not (folder / PROJECT_FILE).is_file():
            raise ProjectError(
                f"There is no {PROJECT_FILE} in {folder}: correct the folder, or fill in the form "
                "and press Start a new project"
            )
        project_file = load_project_file(folder)
        self.project_file = project_file
        self._use_catalogue(project_file.catalogue)
        self._fill(project_file.project)
        self.show_message(f"Opened {html.escape(str(project_file.path))}.", "ok")

    @on_screen
    def create_project(self) -> None:
        """Scaffold a new project in the folder, then save the form into it.

        Never over an existing one.
        """
        folder = self.folder.value.strip()
        if not folder:
            raise ProjectError(
                "Type the folder for the new project first (it is created if missing)"
            )
        self.build_project()  # the form must be valid before anything is written
        new_project(folder, name=self.identity["name"].value or None)
        self.project_file = load_project_file(folder)
        if not self.chain and not self.objective.value:
            self._fill_chain(
                self.project_file.project
            )  # start from the scaffold's example outcome and output
        self._write()
        self.show_message(
            f"Created {html.escape(str(self.project_file.path))}. Next: write the results chain.",
            "ok",
        )

    def _on_folder(self, change) -> None:
        """Suggest the folder's name as the short id of a new project."""
        if not self.identity["id"].value and not self.project_file:
            self.identity["id"].value = re.sub(
                r"[^a-z0-9_-]+", "-", Path(change["new"]).name.lower()
            ).strip("-_")

    def _fill(self, project: Project) -> None:
        """Put a loaded project's values into the widgets and state."""
        self._grid_rows.clear()  # cells hold the values of the project they were made for
        with self._quiet():
            for name, field in self.identity.items():
                field.value = getattr(project.project, name)
            for name, field in self.reporting.items():
                field.value = getattr(project.reporting, name)
            self.selected = {s.id: s.model_dump() for s in project.indicators}
        self._fill_chain(project)

    def _fill_chain(self, project: Project) -> None:
        with self._quiet():
            self.objective.value = project.results_chain.objective
        self.chain = [
            {
                "id": o.id,
                "statement": o.statement,
                "outputs": [{"id": p.id, "statement": p.statement} for p in o.outputs],
            }
            for o in project.results_chain.outcomes
        ]
        self._draw_chain()
        self._redraw()

    def _sections(self) -> dict:
        """The sections of project.yaml the picker edits, as plain values."""
        chain = {
            "objective": self.objective.value.strip(),
            "outcomes": [
                {
                    "id": o["id"],
                    "statement": o["statement"],
                    "outputs": [dict(p) for p in o["outputs"]],
                }
                for o in self.chain
            ],
        }
        return {
            "project": {
                name: (field.value.strip() if isinstance(field.value, str) else field.value)
                for name, field in self.identity.items()
            },
            "reporting": {name: field.value for name, field in self.reporting.items()},
            "results_chain": chain,
            "indicators": [self._indicator_entry(entry) for entry in self.selected.values()],
        }

    @staticmethod
    def _indicator_entry(entry: dict) -> dict:
        """An indicator's project.yaml entry: what the picker edits, and whatever else the loaded
        project set (direction, bands, reference-sheet fields) as it was."""
        kept = {k: v for k, v in _compact(entry).items() if k not in ("comments",)}
        result = {
            **kept,
            "id": entry["id"],
            "result": entry["result"] or None,
            "baseline": {
                **_compact(entry["baseline"]),
                "value": _plain_number(entry["baseline"]["value"]),
                "date": entry["baseline"].get("date"),
            },
            "targets": {label: _target_entry(value) for label, value in entry["targets"].items()},
            "disaggregations": list(entry["disaggregations"]),
        }
        if entry.get("comments"):
            result["comments"] = dict(entry["comments"])
        return result

    def build_project(self) -> Project:
        """The project as the widgets describe it, checked against the model.

        ProjectError lists what to fix. Links between sections (an indicator's result, catalogue
        ids) are checked when saving.
        """
        base = self.project_file.project.model_dump() if self.project_file else {}
        try:
            return Project.model_validate({**base, **self._sections()})
        except ValueError as error:  # pydantic's ValidationError
            problems = [
                Problem(
                    detail["msg"].removeprefix("Value error, "),
                    entry=".".join(str(part) for part in detail["loc"]),
                )
                for detail in error.errors()
            ]
            raise ProjectError(
                "Some answers need fixing before the project can be saved", problems
            ) from None

    @on_screen
    def save(self) -> None:
        """Validate and write project.yaml atomically.

        The previous file is kept as project.yaml.bak.
        """
        if self.project_file is None:
            raise ProjectError(
                "Open the project folder, or start a new project, in step 1 before saving"
            )
        self._write()
        self.show_message(
            f"Saved {html.escape(str(self.project_file.path))} "
            f"({len(self.selected)} indicator(s)); the previous version is in project.yaml.bak.",
            "ok",
        )

    def _write(self) -> None:
        """Apply the sections to a fresh copy of project.yaml, validate, then write.

        Comments are kept.
        """
        self.build_project()
        project_file = load_project_file(self.project_file.directory)
        _lift_trailing_comments(project_file.data)
        sections = self._sections()
        merged = {
            key: _merge(copy.deepcopy(project_file.data.get(key)), value)
            for key, value in sections.items()
        }
        project_file.set(
            "indicators", []
        )  # detach first: indicators may name results not yet in the chain
        for key, value in merged.items():
            project_file.set(key, value)
        problems = ReportingCalendar(project_file.project).validate_targets(project_file.project)
        if problems:
            raise ProjectError("Some targets are for periods outside the project", problems)
        path = project_file.path
        shutil.copy2(path, path.with_name(PROJECT_FILE + ".bak"))
        save_project(project_file, path)
        self.project_file = project_file

    # -- results chain -----------------------------------------------------------------------------
    def add_outcome(self) -> None:
        """A new empty outcome with one empty output.

        Numbered the way the chain already is (OC2, outcome-2).
        """
        ids = [o["id"] for o in self.chain]
        outcome = {"id": _next_id(ids, _id_prefix(ids, "outcome-")), "statement": "", "outputs": []}
        self.chain.append(outcome)
        self.add_output(outcome["id"])

    def add_output(self, outcome_id: str) -> None:
        """A new empty output under the outcome, numbered after it (OP2.1 or output-2.1)."""
        outcome = next(o for o in self.chain if o["id"] == outcome_id)
        prefix = _id_prefix([p["id"] for o in self.chain for p in o["outputs"]], "output-")
        prefix += re.sub(r"^\D*", "", outcome_id) + "."
        outcome["outputs"].append(
            {"id": _next_id([p["id"] for p in outcome["outputs"]], prefix), "statement": ""}
        )
        self._draw_chain()
        self._redraw()

    def remove_result(self, result_id: str) -> None:
        """Remove an outcome (with its outputs) or an output.

        Indicators that measured it are unlinked.
        """
        removed = {result_id}
        for outcome in list(self.chain):
            if outcome["id"] == result_id:
                removed |= {p["id"] for p in outcome["outputs"]}
                self.chain.remove(outcome)
            outcome["outputs"] = [p for p in outcome["outputs"] if p["id"] != result_id]
        for entry in self.selected.values():
            if entry["result"] in removed:
                entry["result"] = None
        self._draw_chain()
        self._redraw()

    def _draw_chain(self) -> None:
        old, rows = self.chain_box.children, []
        for outcome in self.chain:
            rows.append(self._chain_row(outcome, "Outcome", indent=0))
            rows += [self._chain_row(output, "Output", indent=40) for output in outcome["outputs"]]
            add = widgets.Button(
                description="Add an output", layout=widgets.Layout(margin="0 0 0 40px")
            )
            self.on_click(add, lambda outcome_id=outcome["id"]: self.add_output(outcome_id))
            rows.append(add)
        self.chain_box.children = rows
        for row in old:
            _close(row)

    def _chain_row(self, result: dict, kind: str, indent: int) -> widgets.HBox:
        statement = widgets.Text(
            value=result["statement"],
            placeholder=f"{kind} statement",
            layout=widgets.Layout(width="560px"),
            continuous_update=False,
        )
        self.on(statement, lambda change: self._on_statement(result, change["new"]), "value")
        remove = widgets.Button(description="Remove", layout=widgets.Layout(width="90px"))
        self.on_click(remove, lambda: self.remove_result(result["id"]))
        label = widgets.HTML(
            f"<b>{kind}</b> <code>{html.escape(result['id'])}</code>",
            layout=widgets.Layout(width="170px"),
        )
        return widgets.HBox(
            [label, statement, remove], layout=widgets.Layout(margin=f"0 0 0 {indent}px")
        )

    def _on_statement(self, result: dict, text: str) -> None:
        result["statement"] = text.strip()
        self._redraw()

    # -- selection, checklist and targets ----------------------------------------------------------
    def _on_select(self, indicator_id: str, is_selected: bool) -> None:
        if is_selected and indicator_id not in self.selected:
            indicator = self.catalogue.get(indicator_id)
            result = self._cards[indicator_id][2].value or None
            self.selected[indicator_id] = {
                "id": indicator_id,
                "result": result,
                "baseline": {"value": None, "date": None},
                "targets": {},
                "disaggregations": [
                    d for d in indicator.disaggregations if d in ("sex", "age_group")
                ],
                "comments": {},
            }
        elif not is_selected:
            self.selected.pop(indicator_id, None)
        self._redraw()

    def _on_result(self, indicator_id: str, result_id: str) -> None:
        if indicator_id in self.selected:
            self.selected[indicator_id]["result"] = result_id or None
            self._redraw()

    def check_row(
        self, indicator_id: str
    ) -> tuple[widgets.VBox, widgets.HTML, list[widgets.Checkbox]]:
        """A selected indicator's box in step 4: the checklist text and a checkbox per breakdown."""
        if indicator_id not in self._checks:
            indicator = self.catalogue.get(indicator_id)
            boxes = []
            for dimension in indicator.disaggregations:
                box = widgets.Checkbox(
                    description=dimension, indent=False, layout=widgets.Layout(width="auto")
                )
                self.on(
                    box,
                    lambda change, d=dimension: self._on_disaggregation(
                        indicator_id, d, change["new"]
                    ),
                    "value",
                )
                boxes.append(box)
            checks = widgets.HTML()
            row = widgets.VBox(
                [
                    checks,
                    widgets.HBox([widgets.HTML("Report by:&nbsp;"), *boxes])
                    if boxes
                    else widgets.HTML("<i>No breakdowns available.</i>"),
                ]
            )
            row.add_class("ctlib-card")
            self._checks[indicator_id] = (row, checks, boxes)
        row, checks, boxes = self._checks[indicator_id]
        with self._quiet():
            for box in boxes:
                box.value = box.description in self.selected[indicator_id]["disaggregations"]
        return row, checks, boxes

    def _on_disaggregation(self, indicator_id: str, dimension: str, is_on: bool) -> None:
        if indicator_id not in self.selected:
            return
        chosen = self.selected[indicator_id]["disaggregations"]
        if is_on and dimension not in chosen:
            chosen.append(dimension)
        elif not is_on and dimension in chosen:
            chosen.remove(dimension)
        self._redraw()

    def checklist(self, indicator_id: str) -> list[tuple[str, bool, str]]:
        """(question, passed, what to do) for one selected indicator, in plain words."""
        entry = self.selected[indicator_id]
        indicator = self.catalogue.get(indicator_id)
        labels = self.period_labels
        missing_targets = [label for label in labels if entry["targets"].get(label) is None]
        sources = self.project_file.project.sources if self.project_file else {}
        missing_tables = [t for t in tables_needed([indicator]) if t not in sources]
        sex, ages = SEX_AND_AGE
        supports = sex in indicator.disaggregations and any(
            a in indicator.disaggregations for a in ages
        )
        reports = sex in entry["disaggregations"] and any(
            a in entry["disaggregations"] for a in ages
        )
        return [
            (
                "Measures an outcome or output",
                bool(entry["result"]),
                "Choose the outcome or output it measures (step 3), so readers see why it is "
                "tracked.",
            ),
            (
                "Has a baseline",
                entry["baseline"].get("value") is not None,
                "Type the value before the project started, and when it was measured (step 5).",
            ),
            (
                "Has a target for every period",
                bool(labels) and not missing_targets,
                "Without a target, progress cannot be judged. Missing: "
                + ", ".join(missing_targets or ["all"])
                + " (step 5).",
            ),
            (
                "Has a source of data",
                not missing_tables,
                f"The project has no {' or '.join(missing_tables)} table yet: download the blank "
                "template in step 6 and add it under sources in project.yaml.",
            ),
            (
                "Reported by sex and age",
                reports or not supports,
                "Tick sex and an age breakdown above: survivors' needs differ by sex and age, and "
                "donors ask for it.",
            ),
        ]

    def _period_labels(self) -> list[str]:
        """Period labels of the project span plus life of project.

        Empty while the dates are invalid.
        """
        try:
            project = self.build_project()
        except ProjectError:
            return []
        return [p.label for p in ReportingCalendar(project).periods()] + [LIFE_OF_PROJECT]

    def _grid_row(self, indicator_id: str, labels: list[str]) -> list[widgets.Widget]:
        key = (indicator_id, tuple(labels))
        if key not in self._grid_rows:
            entry = self.selected[indicator_id]
            name = html.escape(self.catalogue.get(indicator_id).name)
            cells = [
                widgets.HTML(f"<b>{indicator_id}</b> {name}"),
                widgets.Text(value=_text(entry["baseline"].get("value")), placeholder="baseline"),
                widgets.DatePicker(value=entry["baseline"].get("date")),
            ]
            self.on(cells[1], lambda c: self._on_baseline(indicator_id, c), "value")
            self.on(cells[2], lambda c: self._on_baseline_date(indicator_id, c), "value")
            for label in labels:
                cell = widgets.Text(
                    value=_text(entry["targets"].get(label)),
                    placeholder="–",
                    continuous_update=False,
                )
                cell.add_class(f"ctlib-target-{indicator_id}-{label}")
                self.on(
                    cell, lambda c, label=label: self._on_target(indicator_id, label, c), "value"
                )
                cells.append(cell)
            cells[1].continuous_update = False
            for cell in cells[1:]:
                cell.layout.width = "auto"
            self._grid_rows[key] = cells
        return self._grid_rows[key]

    def _on_baseline(self, indicator_id: str, change) -> None:
        self.selected[indicator_id]["baseline"]["value"] = _number(change["new"])
        self.show_message("")
        self._redraw()

    def _on_baseline_date(self, indicator_id: str, change) -> None:
        self.selected[indicator_id]["baseline"]["date"] = change["new"]
        self._redraw()

    def _on_target(self, indicator_id: str, label: str, change) -> None:
        value = _number(change["new"])
        targets = self.selected[indicator_id]["targets"]
        if value is None:
            targets.pop(label, None)
        else:
            targets[label] = value
        self.show_message("")
        self._redraw()

    # -- redraw ------------------------------------------------------------------------------------
    def _go(self, step: int) -> None:
        self.steps.selected_index = min(
            max(self.steps.selected_index + step, 0), len(self.STEPS) - 1
        )

    def _redraw(self) -> None:
        """Redraw everything that depends on the state.

        Cards, checklist, targets grid and review.
        """
        self.back_button.disabled = not self.steps.selected_index
        self.next_button.disabled = self.steps.selected_index == len(self.STEPS) - 1
        self.reporting["fiscal_year_start_month"].disabled = (
            self.reporting["calendar"].value != "fiscal"
        )
        self.period_labels = self._period_labels()
        self._draw_cards()
        self._draw_checklist()
        self._draw_targets()
        self._draw_review()

    def visible_cards(self, pillar: str) -> list[str]:
        """Ids of the indicator cards shown in a pillar's tab, grouped by area."""
        return list(self._shown[pillar])

    def card(self, indicator_id: str) -> tuple[widgets.VBox, widgets.Checkbox, widgets.Dropdown]:
        """An indicator's card, its Select checkbox and its "Measures" dropdown."""
        return self._cards[indicator_id]

    def baseline_cells(self, indicator_id: str) -> tuple[widgets.Text, widgets.DatePicker]:
        """The grid cells (step 5) of an indicator's baseline value and date."""
        return tuple(self._grid_row(indicator_id, self.period_labels)[1:3])

    def target_cell(self, indicator_id: str, period: str) -> widgets.Text:
        """The grid cell (step 5) of an indicator's target for a period label or life_of_project."""
        return self._grid_row(indicator_id, self.period_labels)[
            3 + self.period_labels.index(period)
        ]

    def _source_files(self, table_name: str) -> list[str]:
        project = self.project_file.project
        return [name for source in project.source_list(table_name) for name in source.files]

    def _matching(self) -> list[Indicator]:
        text = self.search.value.strip()
        found = self.catalogue.search(text) if text else list(self.catalogue)
        level, unit = self.level_filter.value, self.unit_filter.value
        sources = set(self.project_file.project.sources) if self.project_file else set()
        return [
            i
            for i in found
            if (not level or i.level == level)
            and (not unit or i.unit == unit)
            and (not self.computable_filter.value or set(tables_needed([i])) <= sources)
        ]

    def _draw_cards(self) -> None:
        options = [("(choose later)", "")] + [
            (f"{r['id']}: {r['statement'][:60] or '(no statement yet)'}", r["id"])
            for o in self.chain
            for r in [o, *o["outputs"]]
        ]
        by_area: dict[tuple[str, str], list[str]] = {}
        for indicator in self._matching():
            by_area.setdefault((indicator.pillar, indicator.area), []).append(indicator.id)
        self._shown = {pillar: [] for pillar in PILLARS}
        children = {pillar: [] for pillar in PILLARS}
        for (pillar, area), ids in by_area.items():
            children[pillar] += [
                self._area_headings[(pillar, area)],
                *(self._cards[i][0] for i in ids),
            ]
            self._shown[pillar] += ids
        with self._quiet():
            for indicator_id, (card, use, result) in self._cards.items():
                entry = self.selected.get(indicator_id)
                if tuple(result.options) != tuple(options):
                    result.options = options
                result.value = (entry or {}).get("result") or ""
                result.disabled = entry is None
                use.value = entry is not None
                if entry is None:
                    card.remove_class("ctlib-card-selected")
                else:
                    card.add_class("ctlib-card-selected")
        for pillar, box in self.pillar_boxes.items():
            box.children = children[pillar] or [
                widgets.HTML("<i>No indicator matches the search and filters.</i>")
            ]
        counts = {p: sum(self.catalogue.get(i).pillar == p for i in self.selected) for p in PILLARS}
        self.pillar_tabs.titles = [
            f"{p.capitalize()} ({len(self._shown[p])}, {counts[p]} selected)" for p in PILLARS
        ]

    def _draw_checklist(self) -> None:
        rows, problems = [], 0
        for indicator_id in self.selected:
            row, checks, _ = self.check_row(indicator_id)
            items = self.checklist(indicator_id)
            problems += sum(not passed for _, passed, _ in items)
            name = html.escape(self.catalogue.get(indicator_id).name)
            checks.value = (
                f"<b>{indicator_id}</b> · {name}<ul>"
                + "".join(
                    f"<li class='ctlib-ok'>✓ {question}</li>"
                    if passed
                    else f"<li class='ctlib-warn'>⚠ {question}: {html.escape(todo)}</li>"
                    for question, passed, todo in items
                )
                + "</ul>"
            )
            rows.append(row)
        self.checklist_box.children = rows
        self.checklist_summary.value = (
            "<i>Select indicators in step 3 first.</i>"
            if not self.selected
            else f"<span class='ctlib-ok'>All {len(self.selected)} indicator(s) "
            "pass every check.</span>"
            if not problems
            else f"<span class='ctlib-warn'>{problems} point(s) to improve across "
            f"{len(self.selected)} indicator(s).</span>"
        )

    def _draw_targets(self) -> None:
        labels = self.period_labels
        if not labels:
            self.targets_note.value = "<i>Set valid start and end dates in step 1 first.</i>"
            self.targets_grid.children = []
            return
        self.targets_note.value = (
            "" if self.selected else "<i>Select indicators in step 3 first.</i>"
        )
        header = [
            "Indicator",
            "Baseline",
            "Baseline date",
            *[("Life of project" if x == LIFE_OF_PROJECT else x) for x in labels],
        ]
        cells = [widgets.HTML(f"<span class='ctlib-grid-head'>{h}</span>") for h in header]
        for indicator_id in self.selected:
            cells += self._grid_row(indicator_id, labels)
        self.targets_grid.layout.grid_template_columns = (
            f"260px 80px 150px repeat({len(labels)}, 84px)"
        )
        self.targets_grid.layout.grid_gap = "2px 6px"
        self.targets_grid.children = cells if self.selected else []

    def _draw_review(self) -> None:
        chosen = [self.catalogue.get(i) for i in self.selected]
        summary = []
        for pillar in PILLARS:
            ids = [i for i in chosen if i.pillar == pillar]
            listed = (
                "<br>".join(
                    f"{i.id} {html.escape(i.name)} → "
                    f"{self.selected[i.id]['result'] or 'no result yet'}"
                    for i in ids
                )
                or "<i>none</i>"
            )
            summary.append([pillar.capitalize(), str(len(ids)), listed])
        sources = self.project_file.project.sources if self.project_file else {}
        tables = []
        for table_name in tables_needed(chosen):
            users = ", ".join(i.id for i in chosen if table_name in tables_needed([i]))
            have = (
                f"<span class='ctlib-ok'>✓ "
                f"{html.escape(', '.join(self._source_files(table_name)))}</span>"
                if table_name in sources
                else "<span class='ctlib-warn'>not yet</span>"
            )
            tables.append([f"<b>{table_name}</b>", users, have, _template_links(table_name)])
        where = (
            html.escape(str(self.project_file.path))
            if self.project_file
            else "(open or create it in step 1)"
        )
        results = [r for o in self.chain for r in [o, *o["outputs"]]]
        todo = [
            f"{len(ids)} {what} (step {step})"
            for ids, what, step in (
                ([r for r in results if not r["statement"]], "result(s) without a statement", 2),
                (
                    [i for i in self.selected.values() if not i["result"]],
                    "indicator(s) not linked to a result",
                    3,
                ),
                (
                    [1 for i in self.selected for _, passed, _ in self.checklist(i) if not passed],
                    "checklist point(s)",
                    4,
                ),
            )
            if ids
        ]
        self.review_status.value = f"Saving writes <code>{where}</code>. " + (
            f"<span class='ctlib-warn'>Still to do: {', '.join(todo)}.</span>"
            if todo
            else "<span class='ctlib-ok'>Every check passes.</span>"
        )
        self.review.value = (
            "<h4>Indicators per pillar</h4>"
            + html_table(["Pillar", "Selected", "Indicators → result"], summary)
            + "<h4>Tables the project must collect</h4>"
            + (
                html_table(
                    ["Table", "Needed by", "Source in project.yaml", "Blank template"], tables
                )
                if tables
                else "<i>Select indicators to see the tables they need.</i>"
            )
        )


def _close(widget: widgets.Widget) -> None:
    """Close a widget and everything in it (frees them in the kernel and the page)."""
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()


def _merge(node, value):
    """`value` written into the existing YAML node.

    Comments and styles of what stays are kept. List items are matched by their `id`; new mappings
    and lists of plain values are written in flow style (`targets: {2026-Q1: 10}`), as `ctlib new`
    writes them.
    """
    if isinstance(node, dict) and isinstance(value, dict):
        for key in [k for k in node if k not in value]:
            del node[key]
        for key, item in value.items():
            node[key] = _merge(node[key], item) if key in node else _new_node(item)
        return node
    if isinstance(node, list) and isinstance(value, list):
        by_id = {item.get("id"): item for item in node if isinstance(item, dict)}
        node[:] = [
            _merge(by_id[item["id"]], item)
            if isinstance(item, dict) and item.get("id") in by_id
            else _new_node(item)
            for item in value
        ]
        return node
    return node if node == value and type(node) is type(value) else _new_node(value)


def _new_node(value):
    """A YAML node for a new value: collections of plain values in flow style."""
    if not isinstance(value, (dict, list)):
        return value
    items = value.values() if isinstance(value, dict) else value
    node = (CommentedMap if isinstance(value, dict) else CommentedSeq)()
    if isinstance(value, dict):
        node.update({key: _new_node(item) for key, item in value.items()})
    else:
        node.extend(_new_node(item) for item in value)
    if not any(isinstance(item, (dict, list)) for item in items):
        node.fa.set_flow_style()
    return node


def _tail_comment(node):
    """The comment token after a node's last value: ruamel keeps there the lines that follow it."""
    if isinstance(node, CommentedMap) and node:
        key = list(node)[-1]
        tokens = node.ca.items.get(key)
        return (tokens[2] if tokens and tokens[2] else None) or _tail_comment(node[key])
    if isinstance(node, CommentedSeq) and node:
        tokens = node.ca.items.get(len(node) - 1)
        return (tokens[0] if tokens and tokens[0] else None) or _tail_comment(node[-1])
    return None


def _lift_trailing_comments(data: CommentedMap) -> None:
    """Move the comment lines that end each top-level section to before the next one.

    Otherwise they stay glued to the section's last item, and move or vanish when it is edited.
    """
    keys = list(data)
    for key, next_key in zip(keys, keys[1:]):
        token = _tail_comment(data[key])
        if token is None or "\n" not in token.value.rstrip("\n"):
            continue
        end_of_line, rest = token.value.split("\n", 1)
        token.value = end_of_line + "\n"
        lines = [line.removeprefix("#").removeprefix(" ") for line in rest.rstrip("\n").split("\n")]
        data.yaml_set_comment_before_after_key(next_key, before="\n".join(lines))


def _id_prefix(ids: list[str], default: str) -> str:
    """The letters before the number of the last id (OC of OC3), or `default` when there is none."""
    return re.match(r"\D*", ids[-1]).group() if ids else default


def _next_id(ids: list[str], prefix: str) -> str:
    """`prefix` and the number after the highest one among `ids` that have that prefix."""
    numbers = [
        int(i[len(prefix) :]) for i in ids if i.startswith(prefix) and i[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _plain_number(value: float | None) -> float | int | None:
    """10.0 as 10, for a tidy YAML file."""
    return int(value) if value is not None and float(value).is_integer() else value


def _text(value) -> str:
    """A number or a target as the grid shows it: 10 · 85–95 (a range) · the total."""
    if isinstance(value, dict):
        if value.get("between"):
            low, high = value["between"]
            return f"{low:g}–{high:g}"
        value = value.get("total")
    return "" if value is None else f"{value:g}"


def _compact(mapping: dict) -> dict:
    """A dumped model without its unset fields (None, empty mappings and lists)."""
    return {k: v for k, v in mapping.items() if v is not None and v != {} and v != []}


def _target_entry(value):
    """A target as project.yaml writes it: a plain number for a total alone, else its mapping."""
    if isinstance(value, dict):
        compact = _compact(value)
        if set(compact) <= {"total"}:
            return _plain_number(compact.get("total"))
        return compact
    return _plain_number(value)
