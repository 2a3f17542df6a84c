"""Serving a workbook with Voilà: one notebook on 127.0.0.1, offline, no sources, no files.

The `offline` template (ctlib/_apps/jupyter/voila/templates/offline) is Voilà's lab template without
its CDN links (Font Awesome, mermaid), so the browser asks nothing of other hosts. In
single-notebook mode Voilà has no tree or contents API, and the file denylist makes its
`/voila/files/` handler answer 403 for every path.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import ProjectError
from .._resources import JUPYTER_DATA

TEMPLATE = "offline"
PREHEAT = ["--preheat_kernel=True", "--pool_size=1"]  # a kernel waits with the notebook already run


def voila_arguments(notebook: Path, port: int, token: str | None = None) -> list[str]:
    """Voilà's command line: one notebook on 127.0.0.1, no sources, no tracebacks, no files."""
    arguments = [
        str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--VoilaConfiguration.template={TEMPLATE}",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.file_denylist=.*",  # /voila/files/... answers 403 for every path
    ]
    if token:
        arguments.append(f"--Voila.token={token}")
    return arguments


def voila_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """`environ` (default: this process's) with the offline template on JUPYTER_PATH."""
    environ = dict(os.environ if environ is None else environ)
    environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(JUPYTER_DATA), environ.get("JUPYTER_PATH")])
    )
    return environ


def serve(
    notebook: Path,
    port: int,
    token: str | None = None,
    preheat: bool = False,
    variables: dict[str, str] | None = None,
) -> None:
    """Serve `notebook` with Voilà until interrupted; `variables` reach its kernel as environment."""
    if not notebook.is_file():
        raise ProjectError(f"The workbook is missing: {notebook}")
    os.environ.update(voila_environment({**os.environ, **(variables or {})}))
    from voila.app import Voila

    Voila.launch_instance(
        argv=[*voila_arguments(notebook, port, token), *(PREHEAT if preheat else [])]
    )
