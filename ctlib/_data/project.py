"""Load, validate, edit and save project.yaml; scaffold new projects.

Editing and saving keep the user's comments and key order.

Loading reports every problem at once, each with the YAML path
(e.g. `indicators[2].targets.2026-Q1`) and the line. Checks beyond the schema: indicator ids exist
in the catalogue (with the team's own file), each indicator's result is in the results chain,
disaggregations are ones the indicator supports, sources name standard tables and existing files.
Period labels are checked by `ctlib.periods`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import os
import re
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from .. import _fast_yaml as fast_yaml
from .._catalogue import Catalogue, load_catalogue
from .._errors import Problem, ProjectError
from . import templates
from .paths import allowed_folders, expand, is_inside, outside_message
from .project_model import CROSS, Project, Source
from .tables import TABLES

PROJECT_FILE = "project.yaml"
MAX_PROJECT_BYTES = 1 << 20  # a large project.yaml has a few dozen KiB
MAX_EXPANDED_NODES = 100_000  # values once aliases are expanded (a large project: a few thousand)


@dataclass
class ProjectFile:
    """project.yaml as loaded.

    The validated model, its text, the commented map of that text (`data`, read with ruamel on
    first use: for edits, saves and the lines of problems), and its catalogue.
    """

    path: Path
    text: str
    project: Project
    catalogue: Catalogue
    indent: tuple[int, int, int] = (
        2,
        4,
        2,
    )  # mapping, sequence, dash offset (as the user wrote them)
    commented: CommentedMap | None = dataclasses.field(default=None, repr=False)

    @property
    def data(self) -> CommentedMap:
        if self.commented is None:
            self.commented = _yaml().load(self.text)
        return self.commented

    @property
    def directory(self) -> Path:
        return self.path.parent

    def set(self, yaml_path: str, value) -> None:
        """Set one value, e.g. `set("indicators[0].targets.2026-Q1", 40)`, and re-validate.

        An index one past the end of a list appends. On a validation error the file object is
        left unchanged and ProjectError is raised.
        """
        data = copy.deepcopy(self.data)
        keys = _parse_yaml_path(yaml_path)
        parent = data
        for key in keys[:-1]:
            parent = parent[_existing_key(parent, key)]
        if isinstance(parent, list) and keys[-1] == len(parent):
            parent.append(value)
        else:
            parent[_existing_key(parent, keys[-1])] = value
        self.project, self.catalogue = _validate(data, self.path)
        self.commented = data

    def save(self, path: str | Path | None = None) -> None:
        save_project(self, path or self.path)

    def located(self, problem: Problem) -> Problem:
        """A problem of project.yaml (by its YAML path, `entry`) with the line it is on."""
        if problem.file != PROJECT_FILE or problem.row is not None or not problem.entry:
            return problem
        return dataclasses.replace(
            problem, row=_line(self.data, _entry_keys(self.data, problem.entry))
        )


def load_project(project_dir: str | Path) -> Project:
    """The validated project of a folder holding project.yaml."""
    return load_project_file(project_dir).project


def load_project_file(project_dir: str | Path, with_data_files: bool = True) -> ProjectFile:
    """project.yaml of a folder, validated, with its commented map kept for a faithful save.

    `with_data_files=False`: the data files it names are not looked for (a page that shows only
    releases never touches them)."""
    path = Path(project_dir) / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(
            f"no {PROJECT_FILE} in {Path(project_dir)}: create one with `ctlib new {project_dir}`"
        )
    if path.stat().st_size > MAX_PROJECT_BYTES:
        raise ProjectError(
            f"{path} cannot be read",
            [
                Problem(
                    f"the file is larger than {MAX_PROJECT_BYTES // 1024} KiB: a project.yaml "
                    "describes the project and points at its data files, it never holds the data",
                    file=str(path),
                    rule="yaml",
                )
            ],
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ProjectError(
            f"{path} cannot be read",
            [
                Problem(
                    f"not UTF-8 text ({error.reason} at byte {error.start})",
                    file=str(path),
                    rule="yaml",
                )
            ],
        ) from None
    try:  # read fast; with ruamel when unsure or wrong (its problems say where)
        fast = fast_yaml.load(text)
        if isinstance(fast, dict) and _expanded_size(fast) <= MAX_EXPANDED_NODES:
            project, catalogue = _validate(fast, path, with_data_files)
            return ProjectFile(path, text, project, catalogue, _guess_indent(text))
    except (fast_yaml.Unsure, ProjectError, RecursionError):  # too deep to validate: as below
        pass
    try:
        data = _yaml().load(text)
    except RecursionError:
        raise ProjectError(
            f"{path} cannot be read",
            [Problem("the YAML is nested too deeply", file=str(path), rule="yaml")],
        ) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        where = f" (line {line}, column {mark.column + 1})" if mark else ""
        message = f"not valid YAML{where}: {error.problem or error.context}"
        raise ProjectError(
            f"{path} cannot be read", [Problem(message, file=str(path), row=line, rule="yaml")]
        ) from None
    except ReaderError as error:  # a character YAML does not allow, such as NUL or BEL
        line = text[: error.position].count("\n") + 1
        message = (
            f"not valid YAML (line {line}): the character U+{error.character:04X} is not allowed "
            "in a YAML file"
        )
        raise ProjectError(
            f"{path} cannot be read", [Problem(message, file=str(path), row=line, rule="yaml")]
        ) from None
    except ValueError as error:  # a value of its own kind that does not exist, e.g. 2023-02-30
        message = f"a value cannot be read: {error} (a date that does not exist?)"
        raise ProjectError(
            f"{path} cannot be read", [Problem(message, file=str(path), rule="yaml")]
        ) from None
    if _expanded_size(data) > MAX_EXPANDED_NODES:
        raise ProjectError(
            f"{path} cannot be read",
            [
                Problem(
                    f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values: "
                    "write the values out, or use fewer aliases",
                    file=str(path),
                    rule="yaml aliases",
                )
            ],
        )
    if not isinstance(data, CommentedMap):
        raise ProjectError(
            f"{path} cannot be read",
            [
                Problem(
                    "expected a mapping of sections (project:, results_chain:, ...)",
                    file=str(path),
                    rule="yaml",
                )
            ],
        )
    project, catalogue = _validate(data, path, with_data_files)
    return ProjectFile(path, text, project, catalogue, _guess_indent(text), data)


def save_project(project: ProjectFile | CommentedMap | Project, path: str | Path) -> None:
    """Write project.yaml atomically (temporary file, then rename).

    A ProjectFile or CommentedMap keeps its comments and key order; a bare Project model is written
    without comments, leaving out default values.
    """
    indent = (2, 4, 2)
    if isinstance(project, ProjectFile):
        data, indent = project.data, project.indent
    elif isinstance(project, Project):
        data = _yaml_ready(project.model_dump(exclude_defaults=True))
    else:
        data = project
    yaml = _yaml()
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as handle:
        temporary = Path(handle.name)
        try:
            yaml.dump(data, handle)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
    os.chmod(temporary, mode)
    os.replace(temporary, path)


GITIGNORE = """\
# The release ledger (ctlib release): what donors were shown and which periods are approved.
# Back it up with the data; it is a database, not a file to merge.
.ctlib/
"""


def new_project(
    project_dir: str | Path,
    name: str | None = None,
    indicator_ids=(),
    today: dt.date | None = None,
    forms: bool = False,
) -> list[Path]:
    """Scaffold a project: a commented project.yaml and blank csv/xlsx templates.

    Returns the files written.

    Refuses to overwrite an existing project.yaml or data file. With `forms`, project.yaml says how
    to read the exports of the XLSForms that `ctlib new --xlsform` writes.
    """
    directory = Path(project_dir)
    target = directory / PROJECT_FILE
    if target.exists():
        raise ProjectError(
            f"{target} already exists; `ctlib new` never overwrites a project: edit it, "
            "or choose another folder"
        )
    catalogue = load_catalogue()
    unknown = [i for i in indicator_ids if i not in catalogue.ids]
    if unknown:
        raise ProjectError(
            "unknown indicator ids",
            [
                Problem(
                    f"{i!r} is not in the catalogue" + _closest(i, catalogue.ids),
                    rule="indicator id",
                )
                for i in unknown
            ],
        )
    indicators = [catalogue.get(i) for i in indicator_ids]
    tables = templates.tables_needed(indicators)
    files = [directory / "data" / f"{t}.{suffix}" for t in tables for suffix in ("csv", "xlsx")]
    existing = [str(f) for f in files if f.exists()]
    if existing:
        raise ProjectError(f"template files already exist, not overwritten: {', '.join(existing)}")
    project_name = name or directory.resolve().name.replace("_", " ").replace("-", " ").title()
    project_id = (
        re.sub(r"[^a-z0-9_-]+", "-", directory.resolve().name.lower()).strip("-_") or "project"
    )
    (directory / "data").mkdir(parents=True, exist_ok=True)
    for table_name in tables:
        templates.write_csv_template(table_name, directory / "data" / f"{table_name}.csv")
        templates.write_xlsx_template(table_name, directory / "data" / f"{table_name}.xlsx")
    start = dt.date((today or dt.date.today()).year, 1, 1)
    text = templates.project_yaml(
        project_id,
        project_name,
        start,
        start.replace(year=start.year + 2, month=12, day=31),
        indicators,
        tables,
        forms,
    )
    save_project(_yaml().load(text), target)
    load_project(directory)  # the scaffold must load as written
    ignore = directory / ".gitignore"
    written = [target, *files]
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
        written.append(ignore)
    return written


# -- validation ------------------------------------------------------------------------------------


def _validate(
    data: CommentedMap, path: Path, with_data_files: bool = True
) -> tuple[Project, Catalogue]:
    try:
        project = Project.model_validate(_plain(data))
    except ValidationError as error:
        problems = [_schema_problem(e, data, path) for e in error.errors()]
        raise ProjectError(
            f"{path} does not match the project.yaml layout ({len(problems)} problem(s))", problems
        ) from None
    catalogue_path = path.parent / project.catalogue if project.catalogue else None
    folders = allowed_folders(path.parent, project.data_folders)
    if catalogue_path and catalogue_path.is_file() and not is_inside(catalogue_path, folders):
        raise ProjectError(
            f"{path} names a catalogue file outside the project",
            [
                Problem(
                    outside_message(project.catalogue, folders),
                    file=str(path),
                    entry="catalogue",
                    row=_line(data, ("catalogue",)),
                    value=project.catalogue,
                    rule="inside the project",
                )
            ],
        )
    if catalogue_path and not catalogue_path.is_file():
        raise ProjectError(
            f"{path} names a catalogue file that does not exist",
            [
                Problem(
                    f"no file {project.catalogue!r} next to project.yaml",
                    file=str(path),
                    entry="catalogue",
                    row=_line(data, ("catalogue",)),
                    value=project.catalogue,
                    rule="file exists",
                )
            ],
        )
    catalogue = load_catalogue(extra=[catalogue_path] if catalogue_path else ())
    problems = [
        Problem(
            message,
            file=str(path),
            entry=_yaml_path(loc),
            row=_line(data, loc),
            value=value,
            rule=rule,
        )
        for loc, message, value, rule in _semantic_problems(
            project, catalogue, path.parent, with_data_files
        )
    ]
    if problems:
        raise ProjectError(f"{path} is inconsistent ({len(problems)} problem(s))", problems)
    return project, catalogue


def _semantic_problems(
    project: Project, catalogue: Catalogue, directory: Path, with_data_files: bool = True
):
    """(loc, message, value, rule) for everything the schema alone cannot check (the data files
    and folders it names too, `with_data_files`)."""
    result_ids = project.results_chain.result_ids()
    for index, result_id in enumerate(result_ids):
        if result_id in result_ids[:index]:
            yield (
                ("results_chain",),
                f"result id {result_id!r} is used twice",
                result_id,
                "unique result id",
            )
    seen = set()
    for i, selected in enumerate(project.indicators):
        if selected.id in seen:
            yield (
                ("indicators", i, "id"),
                f"indicator {selected.id!r} is selected twice",
                selected.id,
                "unique",
            )
        seen.add(selected.id)
        if selected.id not in catalogue.ids:
            yield (
                ("indicators", i, "id"),
                f"{selected.id!r} is not in the catalogue" + _closest(selected.id, catalogue.ids),
                selected.id,
                "indicator id",
            )
            continue
        if selected.result is not None and selected.result not in result_ids:
            yield (
                ("indicators", i, "result"),
                f"result {selected.result!r} is not in the results chain; "
                f"results: {', '.join(result_ids) or 'none'}",
                selected.result,
                "result id",
            )
        allowed = catalogue.get(selected.id).disaggregations
        for j, dimension in enumerate(selected.disaggregations):
            if not set(dimension.split(CROSS)) <= set(allowed):
                yield (
                    ("indicators", i, "disaggregations", j),
                    f"{selected.id} cannot be disaggregated by "
                    f"{dimension!r}; it supports: {', '.join(allowed) or 'none'}",
                    dimension,
                    "disaggregation",
                )
    folders = allowed_folders(directory, project.data_folders)
    for index, folder in enumerate(project.data_folders):
        if with_data_files and not (directory / folder).is_dir():
            yield (("data_folders", index), f"no folder {folder!r}", folder, "folder exists")
    for table_name, sources in project.sources.items():
        if table_name not in TABLES:
            yield (
                ("sources", table_name),
                f"{table_name!r} is not a standard table; tables: "
                f"{', '.join(TABLES)}" + _closest(table_name, TABLES),
                table_name,
                "standard table",
            )
            continue
        for position, source in enumerate(project.source_list(table_name)):
            loc = ("sources", table_name) + ((position,) if isinstance(sources, list) else ())
            yield from _source_problems(
                source, TABLES[table_name], loc, project, directory, folders, with_data_files
            )


def _source_problems(
    source: Source, table, loc, project: Project, directory: Path, folders, with_data_files=True
):
    """(loc, message, value, rule) for one source's files (`with_data_files`) and layout options."""
    for index, written in enumerate(source.files if with_data_files else ()):
        where = loc + (("file", index) if isinstance(source.file, list) else ("file",))
        _, problem = expand(written, directory, folders)
        if problem:
            rule = "inside the project" if "outside" in problem else "file exists"
            yield where, problem, written, rule
    inputs = {c.name for c in table.input_columns}
    mapped = set(source.columns.values())
    for name in source.constants:
        if name not in inputs:
            yield (
                loc + ("constants", name),
                f"{name!r} is not a column of {table.name}" + _closest(name, inputs),
                name,
                "constant",
            )
        elif name in mapped:
            yield (
                loc + ("constants", name),
                f"{name!r} comes from a column of the file (columns) and from constants: keep one",
                name,
                "constant",
            )
    has = set(table.column_names)
    if source.wide and not {"dimension", "category"} <= has:
        yield (
            loc + ("wide",),
            f"wide tables are unpivoted into dimension and category rows, which {table.name} "
            "does not have: use wide for reported_values",
            None,
            "wide",
        )
    if source.period and "period" not in has:
        yield (
            loc + ("period",),
            f"{table.name} has no period column: period columns are for reported_values",
            None,
            "period",
        )
    multiple = {c.name for c in table.columns if c.multiple}
    for option in ("separators", "options"):
        for name in getattr(source, option):
            if name not in multiple:
                yield (
                    loc + (option, name),
                    f"{name!r} is not a multi-valued column of {table.name}; multi-valued: "
                    f"{', '.join(sorted(multiple)) or 'none'}",
                    name,
                    option,
                )
    for name, separators in source.separators.items():
        if not separators or any(c.isalnum() or c == "_" for c in separators):
            yield (
                loc + ("separators", name),
                "separators are the characters between values, such as ';', ',' or ' '",
                separators,
                "separators",
            )
    is_export = source.format in ("kobo", "odk")
    for option in ("repeat_of", "group_separator", "include_rejected"):
        if getattr(source, option) not in (None, False) and not is_export:
            yield (
                loc + (option,),
                f"{option} is an option of KoboToolbox and ODK Central exports (format: kobo or "
                "odk)",
                getattr(source, option),
                option,
            )
    if source.repeat_of:
        links = {target.split(".")[0] for target in table.foreign_keys.values()}
        if source.repeat_of not in links:
            yield (
                loc + ("repeat_of",),
                f"{table.name} rows do not belong to {source.repeat_of!r}; "
                f"{table.name} links to: {', '.join(sorted(links)) or 'no table'}",
                source.repeat_of,
                "repeat_of",
            )
        elif source.repeat_of not in project.sources:
            yield (
                loc + ("repeat_of",),
                f"no source for {source.repeat_of!r}, the table this repeat group belongs to",
                source.repeat_of,
                "repeat_of",
            )


def _schema_problem(error: dict, data: CommentedMap, path: Path) -> Problem:
    loc = error["loc"]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = f"missing required key {loc[-1]!r}"
    elif error["type"] == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        message = f"unknown key {loc[-1]!r}" + _closest(str(loc[-1]), allowed)
    value = (
        error.get("input") if isinstance(error.get("input"), (str, int, float, dt.date)) else None
    )
    return Problem(
        message,
        file=str(path),
        entry=_yaml_path(loc),
        row=_line(data, loc),
        value=value,
        rule="schema",
    )


def _fields_at(loc: tuple) -> list[str]:
    """The keys allowed in the mapping at `loc` of project.yaml (for 'did you mean')."""
    annotation = Project
    for key in loc:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(key))
            if field is None:
                return []
            annotation = field.annotation
        else:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[-1] if args else None
    while not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return []
        annotation = args[0]
    return list(annotation.model_fields)


def _closest(word: str, candidates) -> str:
    match = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


# -- YAML helpers ----------------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML()  # round trip: keeps comments, key order, quotes and flow style
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def _expanded_size(node) -> int:
    """How many values the document holds once its aliases are expanded (counted without
    expanding them: each shared node is sized once; a node that contains itself is unbounded)."""
    sizes: dict[int, int] = {}

    def size(item) -> int:
        if not isinstance(item, (dict, list)):
            return 1
        if id(item) in sizes:
            if sizes[id(item)] < 0:
                return MAX_EXPANDED_NODES + 1  # an alias to a node that contains it
            return sizes[id(item)]
        sizes[id(item)] = -1
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                break
        sizes[id(item)] = total
        return total

    try:
        return size(node)
    except RecursionError:
        return MAX_EXPANDED_NODES + 1


def _plain(node):
    """Plain Python values for pydantic.

    Mapping keys as strings, so `2026:` is the label '2026'.
    """
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, ScalarBoolean):
        return bool(node)
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _yaml_ready(node):
    """A model dump with tuples as lists, for the YAML writer."""
    if isinstance(node, dict):
        return {key: _yaml_ready(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_yaml_ready(value) for value in node]
    return node


def _yaml_path(loc) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _parse_yaml_path(text: str) -> list:
    return [
        int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text)
    ]


def _entry_keys(data, entry: str) -> list:
    """The keys of a YAML path as the file holds them: `sources.cases[1].values.sex.f.` is
    sources, cases, 1, values, sex and "f." (a key may hold dots: the longest key that fits)."""
    keys, node, rest = [], data, entry
    while rest:
        index = re.match(r"\[(\d+)\]", rest)
        if index and isinstance(node, list):
            keys.append(int(index.group(1)))
            node = node[int(index.group(1))] if int(index.group(1)) < len(node) else None
            rest = rest[index.end() :].removeprefix(".")
            continue
        names = [str(k) for k in node] if isinstance(node, dict) else []
        fitting = [k for k in names if rest == k or rest.startswith((f"{k}.", f"{k}["))]
        key = max(fitting, key=len) if fitting else re.split(r"[.\[]", rest, maxsplit=1)[0]
        keys.append(key)
        node = node.get(_existing_key(node, key)) if isinstance(node, dict) else None
        rest = rest[len(key) :].removeprefix(".")
    return keys


def _existing_key(node, key):
    """The key of a mapping as written in the file.

    `2026:` is the int 2026, named "2026" in paths.
    """
    if isinstance(node, dict):
        return next((k for k in node if str(k) == str(key)), key)
    return key


def _line(data, loc) -> int | None:
    """The 1-based line of the deepest part of `loc` found in the commented map."""
    node, line = data, None
    for key in loc:
        if isinstance(node, CommentedMap):
            match = _existing_key(node, key)
            if match not in node or match not in node.lc.data:  # not there, or merged (<<)
                break
            line = node.lc.key(match)[0] + 1
            node = node[match]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as first used in the text.

    2, 4, 2 otherwise.
    """
    mapping, offset = None, None
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for previous, line in zip(lines, lines[1:]):
        depth = len(line) - len(line.lstrip(" "))
        parent = len(previous) - len(previous.lstrip(" "))
        if (
            not previous.rstrip().endswith(":")
            or previous.lstrip().startswith("- ")
            or depth < parent
        ):
            continue
        if line.lstrip().startswith("- "):
            offset = depth - parent if offset is None else offset
        elif depth > parent:
            mapping = depth - parent if mapping is None else mapping
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, offset + 2, offset
