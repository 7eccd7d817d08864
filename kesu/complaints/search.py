"""Chinese full-text search: words, not just substrings ("电梯 坏了" finds "电梯困人……一直坏着").

The complaint's text (what it says and whom it is about) is cut into words with jieba (search mode)
when it is registered and kept, space-separated and space-padded, in `Complaint.search_text`; a
query is cut the same way and every word must occur, as a word or inside the text. Works the same
on SQLite and PostgreSQL.

Nothing of the complainant is in `search_text`: search must never match a field the searcher may not
see, or the person complained about could confirm a guessed address one word at a time. A word also
matches the complainant's name, phone, home or address, but only on the complaints whose complainant
the searcher may identify (kesu.complaints.scope.complainant_visible_q), so the desk finds a
caller's complaints by any of them.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from kesu.org.models import User

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
# Particles that carry no meaning in a query ("电梯坏了吗" should not require "了" and "吗").
_STOP = frozenset("的了吗呢啊吧呀嘛着过也又还很都就和与及或在是有我你他她它们这那")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> ModuleType:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:  # the dictionary loads once per process (about a second)
        jieba.initialize()
    return jieba  # type: ignore[no-any-return]


def words(text: str) -> list[str]:
    """The searchable words of a text, lower-cased, punctuation dropped, order kept, no repeats."""
    seen: dict[str, None] = {}
    for w in _jieba().cut_for_search(text or ""):
        w = w.strip().lower()
        if w and not _PUNCT.match(w):
            seen.setdefault(w, None)
    return list(seen)


def index_text(*parts: str) -> str:
    found = words(" ".join(p for p in parts if p))
    return f" {' '.join(found)} " if found else ""


def complaint_index(content: str, complained_party: str) -> str:
    """`Complaint.search_text`: the fields everyone who sees the complaint sees, never the complainant."""
    return index_text(content, complained_party)


def _complainant_q(word: str) -> Q:
    q = Q(complainant_name__icontains=word) | Q(address__icontains=word) | Q(unit__code__icontains=word)
    if word.isdigit() and len(word) >= 3:
        q |= Q(complainant_phone__contains=word)
    return q


def search_q(query: str, viewer: User | None = None) -> Q:
    """A filter matching complaints that contain every word of the query: in their text, or, where
    `viewer` may identify the complainant, in the complainant's name, phone, home or address.
    Without a viewer, the text only."""
    from .scope import complainant_visible_q

    identifiable = complainant_visible_q(viewer) if viewer is not None else None
    q = Q()
    for w in [w for w in words(query) if w not in _STOP][:12]:
        match = Q(search_text__contains=f" {w} ") | Q(content__icontains=w)
        if identifiable is not None:
            match |= identifiable & _complainant_q(w)
        q &= match
    return q
