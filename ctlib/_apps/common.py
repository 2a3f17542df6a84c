"""What every App shares: page parameters, on-screen errors and the App base class."""

from __future__ import annotations

import contextlib
import functools
import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from .._errors import CtlibError, Problem
from .._publish.presentation import Presentation

MAX_PROBLEMS_SHOWN = 8


def page_parameters(**defaults):
    """The notebook's parameters, each replaced by the page's query string when Voilà serves it.

    Voilà puts the request's query string in the kernel's QUERY_STRING variable, so
    `.../pick_indicators.ipynb?project_dir=/data/my_project` opens that folder (a pre-heated
    kernel waits for the visit to know it). Values take the type of their default (str, int or float).
    """
    query = parse_qs(_query_string())
    return {
        name: type(value)(query[name][-1]) if name in query else value
        for name, value in defaults.items()
    }


def _query_string() -> str:
    if "VOILA_PREHEAT" not in os.environ:  # not under Voilà, or a test setting QUERY_STRING
        return os.environ.get("QUERY_STRING", "")
    from voila.utils import get_query_string

    return get_query_string() or ""


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
    page, never a traceback) and skip it while the App changes its own widgets (`quiet`).
    """

    audience = "internal"  # how problems read in the message line (the dashboard: "donor")
    widget: widgets.Widget
    message: widgets.HTML

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
        """Show `text` (HTML) above the app: kind is "error", "ok" or "info"; empty text clears it."""
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
