"""The API's JSON parser: DRF's, with a limit on nesting.

Python's decoder recurses once per level, so a body of `[[[[…]]]]` a few thousand deep raises
RecursionError (a 500); a body a few hundred deep parses, and then every recursive walk over it
(validation, error flattening, the idempotency fingerprint) is at risk. No request Kesu accepts is
nested more than a few levels, so anything deeper than MAX_DEPTH is a parse error (400)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def depth(value: object) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = depth(data) > MAX_DEPTH
        if too_deep:
            raise ParseError(_("JSON 嵌套过深（最多 %(n)s 层）。") % {"n": MAX_DEPTH})
        return data
