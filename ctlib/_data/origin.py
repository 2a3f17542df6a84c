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
