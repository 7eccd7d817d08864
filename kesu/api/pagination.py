"""Cursor pagination: stable pages while complaints keep arriving, and no COUNT(*) over big tables."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("无效的分页游标。")

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
