"""Where a table came from (file, sheet, the user's column names), to say where each problem is."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import Problem
from .convert import plain_value

MAX_LISTED = 20  # rows listed per column and rule; the rest are counted


@dataclass
class Origin:
    """Where a table came from, to say where each problem is."""

    file: str
    sheet: str | None = None
    columns: dict[str, str] = field(
        default_factory=dict
    )  # standard column -> the user's column name

    def label(self, standard: str) -> str:
        theirs = self.columns.get(standard, standard)
        return standard if theirs == standard else f"{theirs} ({standard})"

    def problem(self, message: str, **where) -> Problem:
        return Problem(message, file=self.file, sheet=self.sheet, **where)

    def row_problems(
        self, mask, values: pd.Series, column: str, rule: str, message, severity="error"
    ):
        """One problem per offending row (the first MAX_LISTED), then one counting the others."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return []
        listed = values[mask].iloc[:MAX_LISTED]
        problems = [
            self.problem(
                message(value),
                row=int(row),
                column=self.label(column),
                value=plain_value(value),
                rule=rule,
                severity=severity,
            )
            for row, value in listed.items()
        ]
        more = int(mask.sum()) - len(listed)
        if more > 0:
            problems.append(
                self.problem(
                    f"and {more} more row(s) with the same problem",
                    column=self.label(column),
                    rule=rule,
                    severity=severity,
                )
            )
        return problems


@dataclass
class TableOrigin:
    """Where each row of a standard table came from: its part (one file, or one sheet) and, in the
    table's index, its row in that part. A table read from one file has one part."""

    parts: list[Origin]
    part_of_row: np.ndarray  # row position -> index in parts

    @classmethod
    def combine(cls, origins: list[Origin], lengths: list[int]) -> TableOrigin:
        return cls(list(origins), np.repeat(np.arange(len(origins)), lengths))

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(part.file for part in self.parts))

    def problem(self, message: str, **where) -> Problem:
        """A problem of the whole table: named by its first part when it has only one."""
        if len(self.parts) == 1:
            return self.parts[0].problem(message, **where)
        return Problem(message, file=", ".join(self.files), **where)

    def row_problems(
        self, mask, values: pd.Series, column: str, rule: str, message, severity="error"
    ):
        """As `Origin.row_problems`, each row named by its own file and sheet."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        listed = {int(p): message(values.iloc[p]) for p in positions[:MAX_LISTED]}
        return self.row_messages(listed, values, column, rule, severity, len(positions))

    def row_messages(
        self,
        messages: dict[int, str],
        values: pd.Series,
        column: str,
        rule: str,
        severity="error",
        count: int | None = None,
    ):
        """One problem per row position and its message (the first MAX_LISTED), then one counting
        the others (`count`: how many rows in all, when more than the messages)."""
        problems = []
        for position in sorted(messages)[:MAX_LISTED]:
            part = (
                self.parts[self.part_of_row[position]] if len(self.part_of_row) else self.parts[0]
            )
            value = values.iloc[position]
            problems.append(
                part.problem(
                    messages[position],
                    row=int(values.index[position]),
                    column=part.label(column),
                    value=plain_value(value),
                    rule=rule,
                    severity=severity,
                )
            )
        more = (len(messages) if count is None else count) - len(problems)
        if more > 0:
            problems.append(
                self.problem(
                    f"and {more} more row(s) with the same problem",
                    column=self.parts[0].label(column) if len(self.parts) == 1 else column,
                    rule=rule,
                    severity=severity,
                )
            )
        return problems
