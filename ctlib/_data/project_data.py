"""A project loaded for computing: its settings, catalogue and validated standard tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._errors import Problem
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

    @property
    def project_id(self) -> str:
        return self.project.id
