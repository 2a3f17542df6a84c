"""Tables for people: the IPTT, the pillar summary and the portfolio, from (suppressed) Results.

Every view reads the `total` rows of a results table, so it shows whatever the table holds: pass
suppressed Results to anything a donor sees. Columns are flat strings (easy to export to csv and
xlsx); period columns are named "<period label> <field>", e.g. "2026-Q1 actual".
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .._compute.engine import TOTAL, Results
from .._compute.privacy import SUPPRESSED
from .._compute.targets import STATUSES
from .._data.project_model import LIFE_OF_PROJECT
from .._data.tables import PILLARS
from .._errors import PeriodError
from .._format import number_text
from .presentation import Presentation

# results column -> IPTT column "<period> <name>"; the optional ones only when used
PERIOD_FIELDS = {
    "target": "target",
    "target_low": "target low",
    "target_high": "target high",
    "value": "actual",
    "achievement": "% met",
    "progress": "progress from baseline",
    "gap": "gap (points)",
    "full_target": "full target",
    "full_target_share": "% of full target",
    "status": "status",
    "suppression": "hidden because",
    "value_as_written": "as written",
}
OPTIONAL_FIELDS = (
    "target_low",
    "target_high",
    "progress",
    "gap",
    "full_target",
    "full_target_share",
    "suppression",
    "value_as_written",
)
SUMMARY_STATUSES = (*STATUSES, SUPPRESSED)
READ_COLUMNS = (
    "indicator_id",
    "period",
    "dimension",
    "category",
    "numerator",
    "denominator",
    "value",
    "value_state",
    "value_as_written",
    "target",
    "achievement",
    "status",
    "suppression",
    "unit",
)


def _totals(results: Results) -> pd.DataFrame:
    table = results.table
    return table[table["dimension"] == TOTAL]


def _indicator_columns(ids: Sequence[str], catalogue) -> pd.DataFrame:
    entries = [catalogue.get(i) for i in ids]
    return pd.DataFrame(
        {
            "indicator_id": list(ids),
            "indicator": [e.name for e in entries],
            "pillar": [e.pillar for e in entries],
            "level": [e.level for e in entries],
            "unit": [e.unit for e in entries],
            "direction": [e.direction for e in entries],
        }
    )


def iptt(results: Results, catalogue) -> pd.DataFrame:
    """The indicator performance tracking table: one row per indicator, in the project's order.

    Columns: number, indicator_id, indicator, pillar, level, unit, direction, baseline, then for
    life of project and each period in order: "<P> target", "<P> actual", "<P> % met",
    "<P> status", and where any indicator has them: target ranges ("<P> target low/high"),
    "<P> progress from baseline", "<P> gap (points)", beside a period to date its
    "<P> full target" and "<P> % of full target", and for hidden actuals "<P> hidden because"
    (primary, complementary, source) and a source's own "<P> as written" (status says
    "suppressed" or "no data" where actual is empty).
    """
    totals = _totals(results)
    ids = list(dict.fromkeys(totals["indicator_id"]))
    table = _indicator_columns(ids, catalogue)
    first = totals.groupby("indicator_id")[["baseline", "direction"]].first().reindex(ids)
    table["direction"] = first["direction"].to_numpy()
    table.insert(0, "number", range(1, len(ids) + 1))
    table["baseline"] = first["baseline"].to_numpy()
    labels = [LIFE_OF_PROJECT, *(p.label for p in results.periods if p.label != LIFE_OF_PROJECT)]
    fields = [column for column in PERIOD_FIELDS if column in totals]
    by_period = totals.set_index(["indicator_id", "period"])[fields]
    columns = {}  # joined at once: a frame grown column by column is slow to use
    for label in labels:
        period = by_period.reindex(pd.MultiIndex.from_product([ids, [label]]))
        for column in fields:
            name = PERIOD_FIELDS[column]
            values = period[column].to_numpy()
            if column not in OPTIONAL_FIELDS or pd.notna(values).any():
                columns[f"{label} {name}"] = values
    return pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)


def _period_label(results: Results, period: str) -> str:
    """'latest' → the last requested period (life of project when none);
    a label → itself if computed."""
    labels = [p.label for p in results.periods]
    if period == "latest":
        return ([label for label in labels if label != LIFE_OF_PROJECT] or [LIFE_OF_PROJECT])[-1]
    if period not in labels:
        raise PeriodError(
            f"period {period!r} was not computed for {results.project_id}; "
            f"computed: {', '.join(labels)}"
        )
    return period


def pillar_summary(results: Results, catalogue, period: str = "latest") -> pd.DataFrame:
    """Per pillar: how many indicators are on track, above, below, without target, without data
    or suppressed in `period`, and in all ("indicators")."""
    label = _period_label(results, period)
    totals = _totals(results)
    totals = totals[totals["period"] == label]
    pillars = [catalogue.get(i).pillar for i in totals["indicator_id"]]
    counts = pd.crosstab(
        pd.Series(pillars, name="pillar"), pd.Series(totals["status"].to_numpy(), name="status")
    )
    order = [p for p in PILLARS if p in counts.index]
    summary = counts.reindex(index=order, columns=list(SUMMARY_STATUSES), fill_value=0)
    summary["indicators"] = summary.sum(axis=1)
    return summary.reset_index().rename_axis(columns=None).assign(period=label)


def portfolio(results_list: Sequence[Results], catalogue, period: str = "latest") -> pd.DataFrame:
    """Projects side by side on the indicators at least two of them share (all, for one project).

    One row per indicator (pillar order); per project: "<project> period", "<project> actual",
    "<project> target", "<project> % met", "<project> status". `period`: "latest" (each project's
    last computed period, as projects may keep different calendars) or a label such as
    "life_of_project".
    """
    chosen = {r.project_id: _period_label(r, period) for r in results_list}
    rows = {
        r.project_id: _totals(r)[_totals(r)["period"] == chosen[r.project_id]].set_index(
            "indicator_id"
        )
        for r in results_list
    }
    used = pd.Series([i for frame in rows.values() for i in frame.index]).value_counts()
    shared = used[used >= min(2, len(results_list))].index
    ids = sorted(shared, key=lambda i: (PILLARS.index(catalogue.get(i).pillar), i))
    table = _indicator_columns(ids, catalogue).drop(columns="level")
    for project_id, frame in rows.items():
        table[f"{project_id} period"] = [
            chosen[project_id] if i in frame.index else None for i in ids
        ]
        for column, name in (
            ("value", "actual"),
            ("target", "target"),
            ("achievement", "% met"),
            ("status", "status"),
        ):
            table[f"{project_id} {name}"] = frame[column].reindex(ids).to_numpy()
    return table


def results_table(results: Results) -> pd.DataFrame:
    """The results table with the columns people read (no dates, flags or recipe details)."""
    return results.table[list(READ_COLUMNS)]


def formatted(table: pd.DataFrame, presentation: Presentation) -> pd.DataFrame:
    """A view as text for printing, every cell as `presentation` writes it.

    Values, targets and baselines in the row's unit (when the view has a `unit` column); "% met"
    and achievement as percentages; statuses in words; a hidden row's value, numerator and
    denominator (and "<P> actual" where "<P> status" is suppressed) as the presentation hides them,
    by why they are hidden; other numbers by `number_text`; missing values empty.
    """
    text = table.astype(object).where(table.notna(), "")
    units = table["unit"] if "unit" in table else pd.Series("count", index=table.index)
    hidden = {"status": ("", ("value", "numerator", "denominator"))}  # status: (prefix, fields)
    hidden.update(
        {
            c: (c[: -len("status")], (f"{c[: -len(' status')]} actual",))
            for c in table.columns
            if str(c).endswith(" status")
        }
    )
    for column in table.columns:
        values = table[column]
        name = str(column)
        if name == "status" or name.endswith(" status"):
            text[column] = values.map(
                lambda v: presentation.status(v) if isinstance(v, str) else ""
            )
        elif name in ("achievement", "% met") or name.endswith(" % met"):
            text[column] = values.map(presentation.achievement)
        elif name in ("value", "target", "baseline") or name.endswith((" target", " actual")):
            text[column] = [presentation.number(v, u) for v, u in zip(values, units)]
        elif pd.api.types.is_datetime64_any_dtype(values):
            text[column] = values.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            text[column] = values.map(number_text)
    missing = pd.Series(pd.NA, index=table.index)
    for status, (prefix, fields) in hidden.items():
        if status in table:
            is_hidden = (table[status] == SUPPRESSED).to_numpy()
            names = ("suppression", "value_as_written")  # the long table's, or the IPTT's
            why, written = (
                table.get(f"{prefix}{PERIOD_FIELDS[n] if prefix else n}", missing) for n in names
            )
            shown = [
                presentation.hidden(u, r if isinstance(r, str) else "primary", w)
                for u, r, w in zip(units[is_hidden], why[is_hidden], written[is_hidden])
            ]
            for field in set(fields) & set(table.columns):
                text.loc[is_hidden, field] = shown
    if "value_state" in table:
        written = table.get("value_as_written", pd.Series(pd.NA, index=table.index))
        text["value"] = [
            presentation.stated(shown, state, as_written)
            for shown, state, as_written in zip(text["value"], table["value_state"], written)
        ]
        text = text.drop(columns=[c for c in ("value_state", "value_as_written") if c in text])
    return text
