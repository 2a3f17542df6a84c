"""The one HTML table builder of the reports, the dashboard and the workbooks."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Collection[int] = (),
    css_class: str = "ctlib-table",
    caption: str = "",
) -> str:
    """A table of trusted cells (escape values before); columns in `numeric` get class `num`."""
    number, scope = ' class="num"', ' scope="col"'

    def cells(tag: str, values: Sequence[str]) -> str:
        extra = scope if tag == "th" else ""
        return "".join(
            f"<{tag}{extra}{number if i in numeric else ''}>{v}</{tag}>"
            for i, v in enumerate(values)
        )

    head = f"<thead><tr>{cells('th', header)}</tr></thead>" if header else ""
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    caption = f"<caption>{caption}</caption>" if caption else ""
    return f'<table class="{css_class}">{caption}{head}<tbody>{body}</tbody></table>'
