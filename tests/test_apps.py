"""The App base: every callback of every App goes through the on-screen error handler."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
from conftest import SAMPLE_DIR, released_samples
from traitlets.traitlets import ObserveHandler

from ctlib import DonorDashboardApp, ExploreApp, PickIndicatorsApp
from ctlib._errors import ProjectError


def reachable(app) -> list[widgets.Widget]:
    """Every widget of an App: its tree, and the widgets it keeps aside (tabs' spare contents)."""
    found, pending = {}, [app.widget, *_held(vars(app).values())]
    while pending:
        widget = pending.pop()
        if id(widget) in found:
            continue
        found[id(widget)] = widget
        pending += [w for w in getattr(widget, "children", ()) if isinstance(w, widgets.Widget)]
    return list(found.values())


def _held(values) -> list[widgets.Widget]:
    held = []
    for value in values:
        if isinstance(value, widgets.Widget):
            held.append(value)
        elif isinstance(value, (list, tuple)):
            held += _held(value)
        elif isinstance(value, dict):
            held += _held(value.values())
    return held


def app_callbacks(widget: widgets.Widget) -> list:
    """The callbacks an App registered on a widget (not the widget class's own observers)."""
    callbacks = [
        handler
        for names in widget._trait_notifiers.values()
        for handler in names.get("change", [])
        if not isinstance(handler, ObserveHandler)
        and getattr(handler, "__self__", None) is not widget
    ]
    if isinstance(widget, widgets.Button):
        callbacks += widget._click_handlers.callbacks
    return callbacks


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    released = released_samples(
        tmp_path_factory.mktemp("released"), ["coast_outreach", "safe_journeys"]
    )
    return {
        "picker": PickIndicatorsApp(SAMPLE_DIR / "shelter_and_recovery"),
        "explorer": ExploreApp(SAMPLE_DIR, project="shelter_and_recovery"),
        "dashboard": DonorDashboardApp(released),
    }


@pytest.mark.parametrize("name", ["picker", "explorer", "dashboard"])
def test_every_callback_is_behind_the_on_screen_error_handler(apps, name):
    app = apps[name]
    if name == "picker":  # the picker builds its later steps' widgets as it is used
        app.steps.selected_index = 3
        app.steps.selected_index = 4
    callbacks = [c for w in reachable(app) for c in app_callbacks(w)]
    assert len(callbacks) >= 5
    unguarded = [
        getattr(c, "__qualname__", repr(c))
        for c in callbacks
        if not getattr(c, "is_on_screen", False)
    ]
    assert unguarded == []


def test_an_error_in_a_callback_becomes_a_message_not_a_traceback(apps):
    app = apps["dashboard"]

    def fails(change):
        raise ProjectError("the value is 'C-000560'", [])

    app.on(app.period, fails)
    app.period.value = next(v for _, v in app.period.options if v != app.period.value)
    assert "ctlib-message-error" in app.message.value
    assert "C-000560" not in app.message.value  # donors read no value
    assert "Something could not be shown" in app.message.value
