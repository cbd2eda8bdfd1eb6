"""One-off: builds assets/fonts/ from Debian's Noto packages, so demo images draw every script.

Why a subset: the full Noto Sans CJK collection is 19 MB; the demo only needs the characters people
commonly write. The CJK face keeps GB2312 level 1 (3,755 common Chinese characters), JIS X 0208
level 1 (2,965 common kanji), KS X 1001 Hangul (2,350 common syllables), kana, CJK punctuation and
full-width forms. Noto Sans (Latin, Cyrillic, Greek) and Noto Sans Arabic are kept whole minus
hinting. All three are SIL Open Font License 1.1 (assets/fonts/OFL.txt).

Usage (not a project dependency; run again only to change the character set):
    apt-get download fonts-noto-core fonts-noto-cjk && for d in *.deb; do dpkg-deb -x "$d" x; done
    python -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
    /tmp/ft/bin/python scripts/subset_fonts.py x/usr/share/fonts
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

OUT = Path(__file__).resolve().parent.parent / "assets" / "fonts"
CJK_FACE = 2  # Noto Sans CJK SC in NotoSansCJK-Regular.ttc (0 JP, 1 KR, 2 SC, 3 TC, 4 HK)


def _double_byte_range(codec: str, rows: range, cells: range) -> set[int]:
    """Every character a two-byte legacy code page defines in the given rows and cells."""
    found: set[int] = set()
    for row in rows:
        for cell in cells:
            try:
                found.update(ord(ch) for ch in bytes([row, cell]).decode(codec))
            except UnicodeDecodeError:
                continue
    return found


def cjk_characters() -> set[int]:
    chars = _double_byte_range("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))  # GB2312 level 1
    chars |= _double_byte_range("euc_jp", range(0xB0, 0xD0), range(0xA1, 0xFF))  # JIS level 1
    chars |= _double_byte_range("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF))  # KS X 1001
    for start, end in ((0x3000, 0x303F), (0x3040, 0x30FF), (0xFF00, 0xFFEF), (0x20, 0x7E)):
        chars.update(range(start, end + 1))
    return chars


def _options() -> subset.Options:
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = False
    options.layout_features = ["*"]  # Arabic joining forms live in GSUB features
    options.name_IDs = ["*"]
    options.notdef_outline = True
    return options


def _write(font: TTFont, unicodes: set[int] | None, name: str) -> None:
    subsetter = subset.Subsetter(_options())
    cmap = font.getBestCmap()
    subsetter.populate(unicodes=sorted(set(cmap) & unicodes) if unicodes else sorted(cmap))
    subsetter.subset(font)
    font.save(OUT / name)
    print(f"{name}: {(OUT / name).stat().st_size / 1024:.0f} KB")


def main(root: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _write(TTFont(root / "truetype/noto/NotoSans-Regular.ttf"), None, "NotoSans-Regular.ttf")
    _write(
        TTFont(root / "truetype/noto/NotoSansArabic-Regular.ttf"),
        None,
        "NotoSansArabic-Regular.ttf",
    )
    cjk = TTCollection(root / "opentype/noto/NotoSansCJK-Regular.ttc").fonts[CJK_FACE]
    _write(cjk, cjk_characters(), "NotoSansCJKsc-Common.otf")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts"))
