"""The short pages a server sends instead of a workbook: busy, and the one that asks for the token.

One look for both (the colours of the reports' page style), nothing loaded from anywhere.
"""

from __future__ import annotations

import html

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{head}
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f7f9fb; color: #1a1a1a; margin: 0; }}
main {{ max-width: 34em; margin: 15vh auto; background: white; border: 1px solid #c9d3dc;
       border-left: 6px solid #0072B2; border-radius: 6px; padding: 14px 22px; }}
h1 {{ font-size: 20px; color: #0b3d5c; }}
a {{ color: #0b3d5c; }}
input {{ font: inherit; padding: 4px 6px; width: 20em; }}
button {{ font: inherit; padding: 4px 12px; }}
.error {{ color: #a3141c; }}
</style></head>
<body><main>
<h1>{title}</h1>
{body}
</main></body></html>
"""


def busy_page(limit: int, retry_s: int) -> str:
    """The page beyond the cap on kernels: it tries again by itself after `retry_s` seconds."""
    body = (
        f"<p>This server already shows this page to as many visitors as it can hold ({limit}). "
        "A place frees up when someone closes the page.</p>\n"
        '<p>This page tries again by itself in a minute, or <a href="">try again now</a>.</p>'
    )
    head = f'<meta http-equiv="refresh" content="{retry_s}">'
    return PAGE.format(head=head, title="Busy: try again in a minute", body=body)


def token_page(action: str, xsrf_field: str, is_wrong: bool) -> str:
    """The page a visitor without the token gets: what to do, and a field to paste it into
    (posted to `action` with the `xsrf_field` form field)."""
    wrong = '<p class="error">That is not this page\'s token.</p>\n' if is_wrong else ""
    body = (
        "<p>Open the address you were given, the one that ends in <code>?token=…</code> "
        "(whoever started the server has it: <code>ctlib</code> prints it when it starts), "
        "or paste the token here.</p>\n"
        f"{wrong}"
        f'<form method="post" action="{html.escape(action)}">{xsrf_field}\n'
        '<label>Token <input type="password" name="password" autocomplete="off" autofocus>'
        '</label> <button type="submit">Open</button></form>'
    )
    return PAGE.format(head="", title="This page needs its token", body=body)
