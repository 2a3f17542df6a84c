"""A Dask cluster as the executor of a report batch (`ctlib report --all --scheduler ...`).

Needs the `dask` extra (`pip install 'ctlib[dask]'`). Every worker needs ctlib and the same paths
to the data and report folders (a shared file system); see docs/scheduling.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from importlib import import_module

from .._errors import ReportError

CONNECT_TIMEOUT_SECONDS = 30
PRELOAD = "ctlib._publish.report"  # what runs a report (its kernel imports the rest, `kernels`)


@contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """A concurrent.futures executor on the Dask scheduler at `address` (tcp://HOST:8786)."""
    try:
        from distributed import Client
    except ImportError:
        raise ReportError(
            "--scheduler needs Dask's distributed package: pip install 'ctlib[dask]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise ReportError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    with client:
        try:  # as the local pool's preload: each worker imports ctlib once, before any report
            client.run(import_module, PRELOAD)
        except ImportError as error:
            raise ReportError(
                f"a Dask worker cannot import ctlib ({error}): install it on every worker"
            ) from None
        yield client.get_executor(pure=False)  # every submission runs, none is deduplicated
