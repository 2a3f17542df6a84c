"""What both Apps share: the page style, page parameters, on-screen errors and the App base class."""

from __future__ import annotations

import contextlib
import functools
import html
import os
from urllib.parse import parse_qs

import ipywidgets as widgets

from .._errors import CtlibError, Problem

MAX_PROBLEMS_SHOWN = 8

STYLE = """<style>
.ctlib-app { max-width: 1100px; --jp-widgets-horizontal-tab-width: auto; }  /* tabs as wide as their titles */
.ctlib-app .ctlib-message-error { background: #fdecea; border-left: 4px solid #D55E00; padding: 6px 10px; }
.ctlib-app .ctlib-message-ok { background: #e8f5ee; border-left: 4px solid #009E73; padding: 6px 10px; }
.ctlib-app .ctlib-message-info { background: #eef4fb; border-left: 4px solid #0072B2; padding: 6px 10px; }
.ctlib-app .ctlib-guide { color: #333; margin: 4px 0 8px 0; }
.ctlib-card { border: 1px solid #ccc; border-radius: 4px; padding: 4px 10px; margin: 4px 0; }
.ctlib-card-selected { border: 2px solid #0072B2; background: #f5f9fd; }
.ctlib-badge { display: inline-block; border: 1px solid #999; border-radius: 3px; padding: 0 5px;
               margin-right: 4px; font-size: 90%; }
.ctlib-area { font-weight: bold; margin: 10px 0 0 0; border-bottom: 1px solid #ddd; }
.ctlib-table { border-collapse: collapse; margin: 4px 0 10px 0; }
.ctlib-table th, .ctlib-table td { border: 1px solid #ccc; padding: 3px 8px; text-align: left;
                                   vertical-align: top; }
.ctlib-table th { background: #f0f0f0; }
.ctlib-ok { color: #006b4f; }
.ctlib-warn { color: #a34400; }
.ctlib-grid-head { font-weight: bold; white-space: nowrap; font-size: 90%; }
.ctlib-app .widget-html-content { line-height: 1.4; }
.ctlib-scroll { overflow-x: auto; max-width: 100%; }
.ctlib-scroll td, .ctlib-scroll th { white-space: nowrap; }
</style>"""


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


def _on_screen(method):
    """Run a callback; show a CtlibError or OSError as a message in the page instead of raising."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except CtlibError as error:
            self.show_message(_error_html(error.summary, error.problems), "error")
        except OSError as error:
            where = f" {error.filename}" if error.filename else ""
            self.show_message(
                f"Cannot use{html.escape(where)}: {html.escape(error.strerror or str(error))}. "
                "Choose a folder you may write to, or ask whoever manages this computer "
                "for access.",
                "error",
            )

    return wrapper


def _error_html(summary: str, problems: list[Problem]) -> str:
    items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        items += f"<li>… and {more} more</li>"
    return f"<b>{html.escape(summary)}</b>" + (f"<ul>{items}</ul>" if items else "")


def _guide(text: str) -> widgets.HTML:
    """A line of plain-language guidance at the top of a step."""
    return widgets.HTML(f"<div class='ctlib-guide'>{text}</div>")


class _App:
    """What both Apps share: the root widget, the message line and `display(app)`."""

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show `text` (HTML) above the app: kind is "error", "ok" or "info"; empty text clears it."""
        self.message.value = f"<div class='ctlib-message-{kind}'>{text}</div>" if text else ""

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    _is_quiet = False

    @contextlib.contextmanager
    def _quiet(self):
        """A context in which widget changes made by the app itself do not call back."""
        self._is_quiet = True
        try:
            yield
        finally:
            self._is_quiet = False

    @_on_screen
    def _on_change(self, change=None) -> None:
        if not self._is_quiet:
            self._redraw()
