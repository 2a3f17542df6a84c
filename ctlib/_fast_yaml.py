"""YAML read fast: libyaml's parser, its scalars resolved and built as ruamel.yaml reads YAML 1.2
(`no` and `NO` are words, `010` is ten, `1:30` is text).

ruamel's loaders, which keep comments and lines for edits and messages, take ten times as long;
every command and report reads project.yaml and the catalogue's files, so they are read with this
first. `load` gives the plain dicts, lists and scalars ruamel's loader gives, or raises `Unsure`
where it would not build them the same way (a repeated key, a merge, a time of day, a tag, a
directive such as `%YAML 1.1`, anything libyaml refuses): the caller reads the text with ruamel
then, which also says what is wrong and where.
"""

from __future__ import annotations

import re

import yaml
from ruamel.yaml.resolver import implicit_resolvers

MERGE = "tag:yaml.org,2002:merge"
TAG = re.compile(r"(?:^|[\s\[{,])!")  # where a tag may start (ruamel keeps tagged values its way)
DIRECTIVE = re.compile(r"^%", re.MULTILINE)  # %YAML 1.1 makes ruamel read YAML 1.1


class Unsure(Exception):
    """The text is not read here the way ruamel.yaml reads it."""


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2's plain scalars, by ruamel's own patterns."""


for _versions, _tag, _pattern, _first in implicit_resolvers:
    if (1, 2) in _versions:
        _Resolver.add_implicit_resolver(_tag, _pattern, _first)


class _Constructor(yaml.constructor.SafeConstructor):
    """Scalars as ruamel builds YAML 1.2's; a mapping with a repeated key is unsure."""

    def construct_mapping(self, node, deep=False):
        if any(key.tag == MERGE for key, _ in node.value):
            raise Unsure("a merge (<<)")  # ruamel puts the mapping's own keys first
        keys = [self.construct_object(key) for key, _ in node.value]
        if len(keys) != len(set(keys)):
            raise Unsure("a key is repeated")
        if any(isinstance(key, float) for key in keys):
            raise Unsure("a number with a point as a key")  # ruamel names it as written (1.50)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_bool(self, node):
        value = self.construct_scalar(node).lower()
        if value not in ("true", "false"):
            raise Unsure(f"not a YAML 1.2 boolean: {value}")
        return value == "true"

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if digits.startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)  # a leading zero is decimal in YAML 1.2

    def construct_yaml_float(self, node):
        text = self.construct_scalar(node).replace("_", "").lower()
        if text.lstrip("+-") == ".inf":
            return float(text.replace(".inf", "inf"))
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_yaml_timestamp(self, node):
        parts = self.timestamp_regexp.match(node.value)
        if parts is None or parts["hour"] is not None:
            raise Unsure("a time of day")  # ruamel builds its own kind of datetime
        return super().construct_yaml_timestamp(node)

    def construct_unsure(self, node):
        raise Unsure(f"the tag {node.tag}")


for _tag in ("bool", "int", "float", "timestamp"):
    _Constructor.add_constructor(
        f"tag:yaml.org,2002:{_tag}", getattr(_Constructor, f"construct_yaml_{_tag}")
    )
for _tag in ("binary", "omap", "pairs", "set", "value"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.construct_unsure)
_Constructor.add_constructor(None, _Constructor.construct_unsure)


_Loader = None
if yaml.__with_libyaml__:

    class _Loader(yaml.cyaml.CParser, _Constructor, _Resolver):
        def __init__(self, stream):
            yaml.cyaml.CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


def load(text: str):
    """The YAML document in `text` as plain Python values; Unsure when ruamel should read it."""
    if _Loader is None:
        raise Unsure("PyYAML was built without libyaml")
    if TAG.search(text):
        raise Unsure("a tag")
    if DIRECTIVE.search(text):
        raise Unsure("a directive")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe constructor of its own)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as error:
        raise Unsure(str(error)) from None
