"""Serving a workbook with Voilà: one notebook on 127.0.0.1, offline, no sources, no files.

The `offline` template (ctlib/_apps/jupyter/voila/templates/offline) is Voilà's lab template without
its CDN links (Font Awesome, mermaid), so the browser asks nothing of other hosts. In
single-notebook mode Voilà has no tree or contents API, and the file denylist makes its
`/voila/files/` handler answer 403 for every path. The server is `voila_guards.GuardedVoila`:
closed pages release their kernel, unused kernels are shut down and `KernelLimits` caps them; it
answers only its own names and pages (`voila_access`). A server that shows case-level data
requires a token: `serve(token_required=True)` makes one when none is given and prints the
address with it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._errors import ProjectError
from .._resources import JUPYTER_DATA

TEMPLATE = "offline"
PREHEAT = ["--preheat_kernel=True", "--pool_size=1"]  # a kernel waits with the notebook already run
MAX_CULL_INTERVAL_S = 60


@dataclass(frozen=True)
class KernelLimits:
    """How many visitors' kernels a server runs at once, and how long an unused one lives."""

    max_kernels: int = 8
    idle_timeout_s: int = 600  # no page connected: closed without notice, or never opened
    open_idle_timeout_s: int = 4 * 3600  # a page connected but unused (0: never)

    def arguments(self) -> list[str]:
        """The kernel manager's settings on Voilà's command line."""
        timeouts = [t for t in (self.idle_timeout_s, self.open_idle_timeout_s) if t > 0]
        interval = max(1, min(MAX_CULL_INTERVAL_S, min(timeouts) // 5))
        return [
            f"--GuardedKernelManager.max_kernels={self.max_kernels}",
            f"--GuardedKernelManager.open_idle_timeout={self.open_idle_timeout_s}",
            f"--GuardedKernelManager.cull_idle_timeout={self.idle_timeout_s}",
            f"--GuardedKernelManager.cull_interval={interval}",
        ]


DEFAULT_LIMITS = KernelLimits()


def voila_arguments(
    notebook: Path,
    port: int,
    token: str | None = None,
    limits: KernelLimits = DEFAULT_LIMITS,
    public_urls: Sequence[str] = (),
) -> list[str]:
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
    arguments += [f"--GuardedVoila.public_urls={url}" for url in public_urls]
    return [*arguments, *limits.arguments()]


def voila_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """`environ` (default: this process's) with the offline template on JUPYTER_PATH."""
    environ = dict(os.environ if environ is None else environ)
    environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(JUPYTER_DATA), environ.get("JUPYTER_PATH")])
    )
    return environ


def address_line(port: int, token: str | None, is_token_shown: bool) -> str:
    """What a server prints on start: its address, with the token when it made it."""
    query = f"?token={token if is_token_shown else '…'}" if token else ""
    return f"Open http://127.0.0.1:{port}/{query}"


def serve(
    notebook: Path,
    port: int,
    token: str | None = None,
    preheat: bool = False,
    variables: dict[str, str] | None = None,
    limits: KernelLimits = DEFAULT_LIMITS,
    token_required: bool = False,
    public_urls: Sequence[str] = (),
) -> None:
    """Serve `notebook` with Voilà until interrupted; `variables` reach its kernel as environment.

    With `token_required` and no `token`, a token is made; the address printed on start holds
    it (a token given is not printed: it may come from the environment to stay private).
    """
    if not notebook.is_file():
        raise ProjectError(f"The workbook is missing: {notebook}")
    is_token_made = token_required and not token
    token = secrets.token_urlsafe(32) if is_token_made else token
    print(address_line(port, token, is_token_made), flush=True)
    os.environ.update(voila_environment({**os.environ, **(variables or {})}))
    from .voila_guards import GuardedVoila

    arguments = voila_arguments(notebook, port, token, limits, public_urls)
    GuardedVoila.launch_instance(argv=[*arguments, *(PREHEAT if preheat else [])])
