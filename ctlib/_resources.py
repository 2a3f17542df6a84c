"""The files shipped inside the package: workbooks, the built-in catalogue, the Voilà template.

Found with `importlib.resources`, so they are where the package is installed, checkout or wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = Path(str(files("ctlib")))
NOTEBOOKS = PACKAGE / "notebooks"  # the workbooks (notebooks/ of a checkout links here)
CATALOGUE_DIR = PACKAGE / "_catalogue" / "indicators"  # one YAML file per pillar
JUPYTER_DATA = PACKAGE / "_apps" / "jupyter"  # a Jupyter data dir holding voila/templates/offline


def notebook(name: str) -> Path:
    """The path of a packaged workbook, e.g. notebook("quarterly_report")."""
    return NOTEBOOKS / f"{name}.ipynb"
