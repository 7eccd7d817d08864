"""Chinese full-text search: words, not just substrings ("电梯 坏了" finds "电梯困人……一直坏着").

The complaint's text is cut into words with jieba (search mode) when it is registered and kept,
space-separated and space-padded, in `Complaint.search_text`; a query is cut the same way and every
word must occur, as a word or inside the text. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from types import ModuleType

from django.db.models import Q

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


def search_q(query: str) -> Q:
    """A filter matching complaints whose text contains every word of the query."""
    q = Q()
    for w in [w for w in words(query) if w not in _STOP][:12]:
        q &= Q(search_text__contains=f" {w} ") | Q(content__icontains=w)
    return q
