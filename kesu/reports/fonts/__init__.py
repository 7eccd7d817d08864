"""The vendored CJK font (Kesu CJK Sans, an OFL subset of Noto Sans CJK SC; see OFL.txt).

Reports must show real Chinese glyphs on any machine with only Python, so PDF and chart renderers
use these files, never a system font and never a download. The subset holds GB 2312 + ASCII; a
character outside it is drawn as 〓, the mark Chinese typesetting uses for a missing character, so
a rare character in a complainant's words is visibly marked rather than silently dropped.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent
REGULAR = FONT_DIR / "KesuCJKSans-Regular.ttf"
BOLD = FONT_DIR / "KesuCJKSans-Bold.ttf"
FAMILY = "Kesu CJK Sans"
MISSING = "〓"


@lru_cache(maxsize=1)
def _codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(REGULAR), lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(text: str) -> str:
    """`text` with every character the font lacks replaced by 〓 (line breaks and tabs kept)."""
    cps = _codepoints()
    return "".join(ch if ord(ch) in cps or ch in "\n\t" else MISSING for ch in text)
