"""A project loaded for computing: its settings, catalogue and validated standard tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._errors import Problem
from .origin import TableOrigin
from .project_model import Project

if TYPE_CHECKING:
    from .._catalogue import Catalogue


@dataclass
class ProjectData:
    """What `ingest.load_project_data` returns and the engine, quality checks and reports read."""

    directory: Path
    project: Project
    catalogue: Catalogue
    tables: dict[str, pd.DataFrame]
    warnings: list[Problem] = field(default_factory=list)
    input_files: list[Path] = field(default_factory=list)
    origins: dict[str, TableOrigin] = field(
        default_factory=dict
    )  # where each table's rows came from
    provided: dict[str, frozenset[str]] | None = None  # the columns the sources gave (None: all)

    def provides(self, table: str, column: str) -> bool:
        """Whether the project's sources give this column of the table (read or derived)."""
        if table not in self.tables:
            return False
        if self.provided is None or table not in self.provided:
            return column in self.tables[table]
        return column in self.provided[table]

    @property
    def project_id(self) -> str:
        return self.project.id
