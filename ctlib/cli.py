"""The `ctlib` command: catalogue, projects, checks, results, reports and the dashboard.

Every command turns a CtlibError into a short message on stderr and exit code 2; a user never
sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import sys

import click

from . import __version__
from .errors import CtlibError


def friendly_errors(command):
    """Print a CtlibError as its message and exit 2, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CtlibError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctlib")
def main():
    """ctlib: performance indicators for counter-trafficking projects."""


@main.command()
@click.argument("data_dir", default="data/sample", type=click.Path(file_okay=False))
@click.option("--port", default=8866, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
@click.option("--token", default=None, envvar="CTLIB_DASHBOARD_TOKEN",
              help="Require this token (?token=... once; env CTLIB_DASHBOARD_TOKEN keeps it out of `ps`).")
@friendly_errors
def dashboard(data_dir, port, token):
    """Serve the donor dashboard of every project in DATA_DIR with Voilà, on 127.0.0.1 only."""
    from .dashboard import serve

    serve(data_dir, port=port, token=token)
