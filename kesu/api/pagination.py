"""Cursor pagination: stable pages while complaints keep arriving, and no COUNT(*) over big tables."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("无效的分页游标。")
    invalid_page_size_message = _("每页条数须为 1 至 %(max)s 之间的整数。")

    def _issued(self, cursor) -> str:
        query = urlsplit(self.encode_cursor(cursor)).query
        return parse_qs(query).get(self.cursor_query_param, [""])[0]

    def get_page_size(self, request) -> int:
        # Exactly the schema's integer 1…max_page_size; empty is the default. (DRF's own falls back
        # to the default for anything it cannot read, and silently caps a size over the maximum.)
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= self.max_page_size):
            message = self.invalid_page_size_message % {"max": self.max_page_size}
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        # What get_page_size and decode_cursor accept; an empty value is the first page / the default.
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "allowEmptyValue": True,
                "description": "Page cursor: only a value taken from `next` or `previous`; any other is a 400.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "allowEmptyValue": True,
                "description": f"Results per page (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def parse_position(self, position: str) -> bool:
        return True

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
            ok = False
        else:
            position = None if cursor is None else cursor.position
            ok = position is None or ("\x00" not in position and self.parse_position(position))
            # Only a token this class issues: DRF's decoder skips stray characters and caps offsets,
            # so a mangled cursor would otherwise be read as some other page.
            ok = ok and (
                cursor is None or self._issued(cursor) == request.query_params[self.cursor_query_param]
            )
        if not ok:
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor


class ComplaintCursor(Cursor):
    ordering = ("-received_at", "-id")

    def parse_position(self, position: str) -> bool:
        try:
            value = parse_datetime(position)
        except ValueError:
            return False
        return value is not None and value.tzinfo is not None and 1970 <= value.year <= 2999


class CodeCursor(Cursor):
    ordering = ("code",)
    page_size = 100


class IdCursor(Cursor):
    ordering = ("id",)
    page_size = 100

    def parse_position(self, position: str) -> bool:
        return position.isascii() and position.isdigit() and len(position) < 19
