"""The error tree: every problem a user can cause is a CtlibError that says what to fix."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, and where it is."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None
    rule: str | None = None
    entry: str | None = None  # catalogue entry id or YAML path
    period: str | None = None  # the reporting period a finding is about (quality checks)
    severity: str = "error"  # "error" or "warning"

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.entry:
            parts.append(self.entry)
        if self.period:
            parts.append(self.period)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not None and repr(self.value) not in text:
            text += f" (value: {self.value!r})"
        if self.rule:
            text += f" [{self.rule}]"
        return text


class CtlibError(Exception):
    """Base of every error caused by the user's input; carries the list of problems."""

    def __init__(self, summary: str, problems: list[Problem] | None = None):
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        lines = [self.summary]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class CatalogueError(CtlibError):
    """An indicator catalogue file is malformed or inconsistent."""


class UnknownIndicatorError(CatalogueError, KeyError):
    """An indicator id that the catalogue does not hold."""

    __str__ = CtlibError.__str__


class ProjectError(CtlibError):
    """project.yaml is missing, malformed or inconsistent."""


class DataError(CtlibError):
    """A data file failed ingestion or validation."""


class PeriodError(CtlibError):
    """A period label is malformed or outside the project's span."""


class ComputeError(CtlibError):
    """An indicator cannot be computed from the project's data."""


class PrivacyError(CtlibError):
    """A table that could hold case-level rows was about to reach a chart, a page or a file."""


class ReportError(CtlibError):
    """A report run failed."""


@dataclass
class Problems:
    """Collects problems so that all of them can be reported at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where) -> None:
        self.items.append(Problem(message, **where))

    def extend(self, problems) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self, error_class: type[CtlibError], summary: str) -> None:
        if self.errors:
            raise error_class(f"{summary} ({len(self.errors)} problem(s))", self.errors)
