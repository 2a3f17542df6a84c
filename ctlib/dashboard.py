"""The donor dashboard: a Voilà server that shows one notebook and nothing else.

The server (`serve`) binds to 127.0.0.1, strips sources, hides tracebacks, serves no file (its
`/voila/files/` handler denies every path) and, in single-notebook mode, has no tree or contents
API. Its `donor` template (ctlib/jupyter/voila/templates/donor) is Voilà's lab template without the
CDN links, so the browser asks nothing of other hosts. The data folder reaches the kernel through
the `CTLIB_DATA_DIR` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ProjectError

DATA_DIR_ENV = "CTLIB_DATA_DIR"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "donor_dashboard.ipynb"
TEMPLATES_ROOT = Path(__file__).resolve().parent / "jupyter"  # a Jupyter data dir holding voila/templates/donor


def voila_arguments(notebook: Path, port: int, token: str | None = None) -> list[str]:
    """Voilà's command line: one notebook on 127.0.0.1, no sources, no tracebacks, no files."""
    arguments = [
        str(notebook), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0",
        "--VoilaConfiguration.template=donor",
        "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.file_denylist=.*",  # /voila/files/... answers 403 for every path
    ]
    if token:
        arguments.append(f"--Voila.token={token}")
    return arguments


def serve(data_dir: str | Path, port: int = 8866, token: str | None = None, notebook: Path = NOTEBOOK) -> None:
    """Serve `notebook` with Voilà until interrupted; its kernel reads `data_dir` from CTLIB_DATA_DIR."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise ProjectError(f"No data folder at {data_dir}: give the folder that holds the project folders")
    if not notebook.is_file():
        raise ProjectError(f"The dashboard notebook is missing: {notebook}")
    os.environ[DATA_DIR_ENV] = str(data_dir)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES_ROOT), os.environ.get("JUPYTER_PATH")]))
    from voila.app import Voila

    Voila.launch_instance(argv=voila_arguments(notebook, port, token))
