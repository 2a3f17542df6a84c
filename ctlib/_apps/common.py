"""What every App shares: page parameters, on-screen errors and the App base class."""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import os
import re
import sys
from typing import TextIO
from urllib.parse import parse_qs

import ipywidgets as widgets

from .._errors import CtlibError, Problem
from .._publish.presentation import Presentation

MAX_PROBLEMS_SHOWN = 8


def page_parameters(**defaults):
    """The notebook's parameters, each replaced by the page's query string when Voilà serves it.

    Voilà puts the request's query string in the kernel's QUERY_STRING variable, so
    `.../pick_indicators.ipynb?project_dir=/data/my_project` opens that folder (a pre-heated
    kernel waits for the visit to know it). Values take the type of their default (str, int or
    float).
    """
    query = parse_qs(_query_string())
    return {
        name: type(value)(query[name][-1]) if name in query else value
        for name, value in defaults.items()
    }


def _query_string() -> str:
    if not is_served_by_voila():  # not under Voilà, or a test setting QUERY_STRING
        return os.environ.get("QUERY_STRING", "")
    from voila.utils import get_query_string

    from .voila_access import kernel_query_url

    return get_query_string(kernel_query_url()) or ""


def is_served_by_voila() -> bool:
    """Whether this kernel was started by Voilà for a page (VOILA_PREHEAT is set for them all)."""
    return "VOILA_PREHEAT" in os.environ


PAGE_ERROR = "This could not be done; the server's log says why."


def keep_tracebacks_off_the_page() -> None:
    """In a kernel Voilà serves, an exception that a page's message raises (a widget given a state
    it refuses, a callback failing) reaches the page as its type and `PAGE_ERROR`: its traceback,
    with the server's paths and maybe values of the data, goes to the server's log instead, and
    so do the kernel's log records and warnings.

    ipywidgets reports such exceptions with the shell's `showtraceback`, and ipykernel's comm
    manager logs them, both to every client of the kernel; Voilà's show_tracebacks=False covers
    only the notebook's own cells.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if not is_served_by_voila() or shell is None or getattr(shell, "is_page_quiet", False):
        return
    server_log = _server_log()
    handler = logging.StreamHandler(server_log)
    handler.setFormatter(logging.Formatter("[%(name)s] %(levelname)s | %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.captureWarnings(True)
    send = shell._showtraceback

    def to_the_log(etype, _evalue, structured_traceback):
        server_log.write(_ANSI_COLOURS.sub("", "\n".join(structured_traceback)) + "\n")
        send(etype, PAGE_ERROR, [])

    shell._showtraceback = to_the_log
    shell.is_page_quiet = True


_ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def _server_log() -> TextIO:
    """The kernel process's own stderr, which the server's log gets. ipykernel points file
    descriptor 2 at the page's stream; its stderr's fileno() is the saved original."""
    try:
        descriptor = sys.stderr.fileno()
    except (AttributeError, OSError):  # io.UnsupportedOperation: a stream without a descriptor
        descriptor = sys.__stderr__.fileno()
    return open(  # noqa: SIM115 (open for the kernel's life)
        descriptor, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False
    )


def on_screen(method):
    """A public action of an App (save, reload, open …) that shows a CtlibError or OSError as a
    message in the page instead of raising, also when called from notebook code."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.errors_on_screen():
            return method(self, *args, **kwargs)

    return wrapper


def _guide(text: str) -> widgets.HTML:
    """A line of plain-language guidance at the top of a step."""
    return widgets.HTML(f"<div class='ctlib-guide'>{text}</div>")


class App:
    """The base of every App, the workbooks' and the dashboard's.

    It owns the root widget's display, the message line and how errors read there, and it is the
    only way an App registers a callback: `on(control, handler)` and `on_click(button, handler)`
    wrap every handler in `errors_on_screen` (a CtlibError or OSError becomes a message in the
    page, never a traceback) and skip it while the App changes its own widgets (`quiet`). Under
    Voilà, any other exception a page's message raises reaches the page without its traceback
    (`keep_tracebacks_off_the_page`).
    """

    audience = "internal"  # how problems read in the message line (the dashboard: "donor")
    widget: widgets.Widget
    message: widgets.HTML

    def __new__(cls, *_args, **_kwargs):
        keep_tracebacks_off_the_page()  # before any of its widgets exists
        return super().__new__(cls)

    # -- callbacks --------------------------------------------------------------------------------
    def on(self, control: widgets.Widget, handler, names: str = "value") -> None:
        """Call `handler(change)` when `names` of `control` changes (not while quiet)."""

        def guarded(change):
            if not self._is_quiet:
                with self.errors_on_screen():
                    handler(change)

        guarded.is_on_screen = True
        control.observe(guarded, names)

    def on_click(self, button: widgets.Button, handler) -> None:
        """Call `handler()` when `button` is clicked."""

        def guarded(_button):
            with self.errors_on_screen():
                handler()

        guarded.is_on_screen = True
        button.on_click(guarded)

    @contextlib.contextmanager
    def errors_on_screen(self):
        """A CtlibError or OSError inside becomes a message in the page."""
        try:
            yield
        except CtlibError as error:
            self.show_message(self.error_html(error.summary, error.problems), "error")
        except OSError as error:
            where = f" {error.filename}" if error.filename else ""
            self.show_message(
                f"Cannot use{html.escape(where)}: {html.escape(error.strerror or str(error))}. "
                "Choose a folder you may write to, or ask whoever manages this computer "
                "for access.",
                "error",
            )

    _is_quiet = False

    @contextlib.contextmanager
    def _quiet(self):
        """A context in which widget changes made by the app itself do not call back."""
        self._is_quiet = True
        try:
            yield
        finally:
            self._is_quiet = False

    def _on_change(self, change=None) -> None:
        self._redraw()

    # -- the page ---------------------------------------------------------------------------------
    def show_message(self, text: str, kind: str = "info") -> None:
        """Show `text` (HTML) above the app.

        `kind` is "error", "ok" or "info"; empty text clears it.
        """
        self.message.value = f"<div class='ctlib-message-{kind}'>{text}</div>" if text else ""

    def error_html(self, summary: str, problems: list[Problem]) -> str:
        """A summary and its problems, as this App's audience may read them."""
        said = Presentation(self.audience).problems(problems)
        items = "".join(f"<li>{html.escape(p)}</li>" for p in said[:MAX_PROBLEMS_SHOWN])
        more = len(said) - MAX_PROBLEMS_SHOWN
        if more > 0:
            items += f"<li>… and {more} more</li>"
        summary = summary if self.audience == "internal" else "Something could not be shown."
        return f"<b>{html.escape(summary)}</b>" + (f"<ul>{items}</ul>" if items else "")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
