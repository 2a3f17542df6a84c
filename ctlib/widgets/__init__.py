"""The App classes behind the interactive workbooks: the guided indicator picker and the explorer.

Each App builds its widgets in one place (`_build`), keeps its state in plain attributes and has
one redraw path (`_redraw`); `app.widget` is the root to display (`display(app)` works too).
Every callback goes through `_on_screen`: a CtlibError or OSError becomes a short message in the
page saying what to do, never a traceback.

`common` holds what both Apps share, `picker` the PickIndicatorsApp, `explorer` the ExploreApp.
"""

from .common import page_parameters
from .explorer import ExploreApp, category_labels, crosstab, enable_offline_charts, project_folders
from .picker import PickIndicatorsApp

__all__ = [
    "ExploreApp",
    "PickIndicatorsApp",
    "category_labels",
    "crosstab",
    "enable_offline_charts",
    "page_parameters",
    "project_folders",
]
