"""KoboToolbox and ODK Central exports (`format: kobo`, `format: odk`), read as they come.

How the two servers export a form's submissions (checked against kobotoolbox/formpack and
getodk/central-backend):

- column names carry the groups a question sits in: KoboToolbox joins them with `/`
  (`intake/sex`; another separator may be chosen at export), ODK Central with `-`
  (`intake-sex`). A column is matched by its full name first (so a column map may name it), then
  without its leading groups, one at a time (`a-b-c`, `b-c`, `c`: names may hold `-` themselves);
- select_multiple: one cell of the choices' names separated by spaces, and/or one column per
  choice named `<question>/<choice>` holding 1 or 0 (empty when the question was not answered):
  both are read into the multi-valued standard column (the 0/1 columns when both are there);
- metadata: KoboToolbox's `_id`, `_uuid`, `_submission_time`, `_validation_status`,
  `__version__`, `_index`, `_parent_index`, ... (every name starting with `_`), ODK Central's
  `SubmissionDate`, `KEY`, `PARENT_KEY`, `SubmitterName`, `ReviewState`, ..., and the form's
  own `start`, `end`, `today`, `deviceid`, `meta/instanceID`: never loaded. They are used to join
  repeat groups (`_index`/`_parent_index`, `KEY`/`PARENT_KEY`), as the record id of a form that
  has none (`_uuid`, `KEY`), and to leave out the submissions a reviewer rejected
  (`_validation_status` "validation_status_not_approved", `ReviewState` "rejected"), unless
  `include_rejected: true`;
- repeat groups: KoboToolbox puts each in its own sheet of the xlsx export, ODK Central in its
  own csv (`<form>-<repeat>.csv`); a source with `repeat_of: <table>` reads one and takes the
  link to its parent row (e.g. the case of a service) from the parent's source.
"""

from __future__ import annotations

import re

KOBO, ODK = "kobo", "odk"
GROUP_SEPARATORS = {KOBO: "/", ODK: "-"}
FORM_METADATA = frozenset(
    {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username"}
    | {"audit", "instanceID", "instanceName", "formhub/uuid", "email"}
)
ODK_METADATA = frozenset(
    {
        "SubmissionDate",
        "KEY",
        "PARENT_KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    }
)
ROLES = {  # metadata columns ctlib uses, by export
    KOBO: {
        "_index": "index",
        "_parent_index": "parent_index",
        "_uuid": "record_id",
        "_validation_status": "review",
    },
    ODK: {"KEY": "index", "PARENT_KEY": "parent_index", "ReviewState": "review"},
}
INDEX_COLUMNS = {KOBO: ("_index", "_parent_index"), ODK: ("KEY", "PARENT_KEY")}
REJECTED = {KOBO: {"validation_status_not_approved", "not approved"}, ODK: {"rejected"}}


def separator(source) -> str | None:
    """Between group and field names in this source's column names (None: not an export)."""
    if source.format not in GROUP_SEPARATORS:
        return None
    return source.group_separator or GROUP_SEPARATORS[source.format]


def short_names(name: str, source) -> list[str]:
    """The names a column answers to: its own, then without its leading groups, one at a time."""
    sep = separator(source)
    names = [name]
    if sep:
        parts = name.split(sep)
        names += [sep.join(parts[i:]) for i in range(1, len(parts))]
    return names


def is_metadata(name: str, export: str) -> bool:
    if export == KOBO and name.startswith("_"):
        return True
    if export == ODK and name in ODK_METADATA:
        return True
    last = re.split(r"[/-]", name)[-1]
    return name in FORM_METADATA or last in FORM_METADATA or name.startswith(("meta/", "meta-"))


def metadata_roles(names, export: str) -> dict[str, str]:
    """Metadata columns of an export -> their role (index, parent_index, record_id, review, or
    "" for the ones only left out)."""
    if export not in GROUP_SEPARATORS:
        return {}
    roles = ROLES[export]
    return {name: roles.get(name, "") for name in names if name and is_metadata(name, export)}


def record_id_column(metadata: dict[str, str], export: str) -> str | None:
    """The column that identifies each record of an export: KoboToolbox's `_uuid`, or ODK
    Central's `KEY` (the submission's instance id; a repeat row's `uuid:…/group[n]`)."""
    wanted = "record_id" if export == KOBO else "index"
    return next((name for name, role in metadata.items() if role == wanted), None)


def is_rejected(value, export: str) -> bool:
    return str(value).strip().casefold() in REJECTED.get(export, set())
