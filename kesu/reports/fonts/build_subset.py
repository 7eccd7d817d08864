"""Rebuild the vendored CJK font subset (developer tool; not run by Kesu itself).

    .venv/bin/python kesu/reports/fonts/build_subset.py [/usr/share/fonts/opentype/noto]

Takes Noto Sans CJK SC (SIL Open Font License 1.1; Debian's fonts-noto-cjk) and keeps only the
GB 2312 character set (6,763 hanzi and its symbols, full-width forms), printable ASCII and a few
typographic marks, converting the CFF outlines to TrueType (quadratic) outlines so that every PDF
library (reportlab needs glyf outlines) and matplotlib can embed it. The result is a few MB
instead of 20 and is committed under kesu/reports/fonts/ beside OFL.txt.

A character outside the subset is drawn as 〓 (the 缺字 mark of Chinese typesetting) by the
renderers, never as an empty box (see kesu/reports/fonts/__init__.py).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

HERE = Path(__file__).resolve().parent
SC_INDEX = 2  # Noto Sans CJK SC inside the .ttc collection
EXTRA = "·—–‘’“”…、。〈〉《》「」『』【】〔〕（）！，．：；？～￥℃‰§№☆★○●◎◇◆□■△▲→←↑↓〓×÷±≤≥≠≈∞%‰·•▪●・"


def gb2312() -> str:
    chars = []
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.append(bytes([hi, lo]).decode("gb2312"))
    return "".join(chars)


def charset() -> str:
    ascii_ = "".join(chr(c) for c in range(0x20, 0x7F))
    return "".join(sorted(set(gb2312() + ascii_ + EXTRA)))


def to_truetype(font) -> None:
    """CFF (cubic) outlines to glyf (quadratic), after fontTools' Snippets/otf2ttf.py."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"] = newTable("maxp")
    font["maxp"].tableVersion = 0x00010000
    for attr in (  # noqa: SIM905
        "maxZones maxTwilightPoints maxStorage maxFunctionDefs maxInstructionDefs maxStackElements "
        "maxSizeOfInstructions maxComponentElements"
    ).split():
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font["post"].glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"
    font.recalcBBoxes = True


def build(src_dir: Path, weight: str) -> Path:
    font = TTCollection(str(src_dir / f"NotoSansCJK-{weight}.ttc")).fonts[SC_INDEX]
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=charset())
    subsetter.subset(font)
    to_truetype(font)
    # Name it as what it is, so nobody mistakes the subset for the full font.
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = f"Kesu CJK Sans {weight}" if rec.nameID == 4 else "Kesu CJK Sans"
        elif rec.nameID == 6:
            rec.string = f"KesuCJKSans-{weight}"
    out = HERE / f"KesuCJKSans-{weight}.ttf"
    font.save(str(out))
    return out


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto")
    for weight in ("Regular", "Bold"):
        out = build(src, weight)
        print(f"{out.name}: {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
