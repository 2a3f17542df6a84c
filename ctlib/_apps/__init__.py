"""The Apps behind the interactive workbooks and the donor dashboard, and the Voilà server.

Each App builds its widgets in one place (`_build`), keeps its state in plain attributes and has
one redraw path (`_redraw`); `app.widget` is the root to display (`display(app)` works too).
Every callback goes through `_on_screen`: a CtlibError or OSError becomes a short message in the
page saying what to do, never a traceback.

`common` holds what the Apps share, `picker` the PickIndicatorsApp, `explorer` the ExploreApp,
`dashboard` the DonorDashboardApp, `voila_server` how a workbook is served.
"""
