"""A very small vector PDF writer: filled rectangles, lines and text in the standard fonts.

Enough for a sheet of ticket labels, whose QR modules must print crisp at any resolution, and
for a drawer's receipt, in English, Spanish or Chinese. No dependency and no font file: Latin
text is in the standard 14 fonts (Helvetica, Courier; WinAnsiEncoding, so cp1252's accents),
Chinese in Adobe's standard CJK font STSong-Light (a Type0 font over a CIDFontType0 of the
Adobe-GB1 character collection, encoding UniGB-UCS2-H: two bytes of UCS-2 a character), which
every PDF reader supplies from a font of its own (poppler: the CMaps of poppler-data and a CJK
font found by fontconfig, such as fonts-droid-fallback). A `/ToUnicode` map keeps that text
copyable. `rich_text()` writes any text, each run in the font that has its characters.

Content streams are zlib-compressed. Coordinates are PDF points (1/72 inch) from the
bottom-left corner of the page.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from fieldapp.tickets.font_widths import HELVETICA, HELVETICA_BOLD

#: Resource names of the fonts every PDF carries, and their advance width per point of size
#: where it is one number (Courier is monospaced; Helvetica-Bold digits and "#" are 0.556).
FONTS = {"F1": "Helvetica-Bold", "F2": "Courier"}
COURIER_ADVANCE = 0.6
HELVETICA_BOLD_DIGIT_ADVANCE = 0.556
#: Fonts a PDF carries only when one of its pages uses them: Helvetica, and Chinese.
BOLD, MONO, REGULAR, CHINESE = "F1", "F2", "F3", "F4"
EXTRA_FONTS = {REGULAR: "Helvetica", CHINESE: "STSong-Light"}
#: Every character of Adobe-GB1 that UniGB-UCS2-H reaches is a full-width glyph here: Latin
#: text never goes to this font (rich_text writes it in Helvetica).
CJK_ADVANCE = 1.0
#: A character beyond UCS-2 (an emoji in a name) has no code in UniGB-UCS2-H.
REPLACEMENT = "?"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _pdf_string(text: str) -> str:
    raw = text.encode("cp1252", errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _ucs2_hex(text: str) -> str:
    """Text for the Chinese font: UTF-16BE (UCS-2: characters beyond it are replaced) in hex."""
    text = "".join(c if ord(c) < 0x10000 else REPLACEMENT for c in text)
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _info_string(text: str) -> str:
    """A document-information string: PDFDocEncoding's cp1252 subset, else UTF-16BE with BOM."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return "<FEFF" + text.encode("utf-16-be", errors="replace").hex().upper() + ">"
    return _pdf_string(text)


def is_latin(char: str) -> bool:
    """Whether Helvetica (WinAnsiEncoding) has this character."""
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def runs(text: str) -> list[tuple[bool, str]]:
    """The text in runs of (latin, characters): Helvetica's, or the Chinese font's."""
    found: list[tuple[bool, str]] = []
    for char in text:
        latin = is_latin(char) or ord(char) >= 0x10000
        char = char if ord(char) < 0x10000 else REPLACEMENT
        if found and found[-1][0] == latin:
            found[-1] = (latin, found[-1][1] + char)
        else:
            found.append((latin, char))
    return found


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The advance of `text` as rich_text() draws it, in points."""
    table = HELVETICA_BOLD if bold else HELVETICA
    total = 0.0
    for latin, run in runs(text):
        if latin:
            total += sum(table[b - 32] if b >= 32 else 0 for b in run.encode("cp1252")) / 1000
        else:
            total += CJK_ADVANCE * len(run)
    return total * size


#: Punctuation that must not begin a line (it stays with what it follows) or end one.
_NO_LINE_START = set("!),.:;?]}¢°·’”…‰›℃∶、。〃々〉》」』】〕〗〞︰！＂％＇），．：；？］｝～")
_NO_LINE_END = set("([{£¥‘“‹〈《「『【〔〖〝（［｛")
_WORDS = re.compile(r"\s+|[^\s]")


def _pieces(line: str) -> list[str]:
    """A line cut where it may break: at spaces, and between two Chinese characters."""
    pieces: list[str] = []
    for token in _WORDS.findall(line):
        last = pieces[-1] if pieces else ""
        if last and not last.isspace() and not token.isspace():
            inside_word = is_latin(token) and is_latin(last[-1])
            if inside_word or token in _NO_LINE_START or last[-1] in _NO_LINE_END:
                pieces[-1] += token
                continue
        pieces.append(token)
    return pieces


def wrap_text(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """`text` in lines no wider than `width` points: broken at spaces, between Chinese
    characters (never before a closing mark), and inside a word only when it is wider than a
    line itself (a link, a hash). A newline in `text` always breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for piece in _pieces(paragraph):
            if piece.isspace():
                if current:
                    current += " "
                continue
            if text_width(current + piece, size, bold=bold) <= width:
                current += piece
                continue
            if current.strip():
                lines.append(current.rstrip())
                current = ""
            while text_width(piece, size, bold=bold) > width:
                cut = 1
                while cut < len(piece) and text_width(piece[: cut + 1], size, bold=bold) <= width:
                    cut += 1
                lines.append(piece[:cut])
                piece = piece[cut:]
            current = piece
        lines.append(current.rstrip())
    return lines


@dataclass
class Page:
    """One page's drawing operations, in the order they are painted."""

    width: float
    height: float
    ops: list[str] = field(default_factory=list)
    fonts: set[str] = field(default_factory=set)  # of EXTRA_FONTS, those it uses

    def fill_rects(self, rects: Iterable[tuple[float, float, float, float]], gray: float = 0):
        """Fill (x, y, width, height) rectangles as one path, so shared edges leave no seams."""
        path = [f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re" for x, y, w, h in rects]
        if path:
            self.ops.append(f"{_num(gray)} g\n" + "\n".join(path) + "\nf")

    def line(self, x1, y1, x2, y2, *, width: float = 0.3, gray: float = 0.7, dash=(2, 2)):
        pattern = " ".join(_num(d) for d in dash)
        self.ops.append(
            f"q {_num(gray)} G {_num(width)} w [{pattern}] 0 d "
            f"{_num(x1)} {_num(y1)} m {_num(x2)} {_num(y2)} l S Q"
        )

    def text(self, x: float, y: float, text: str, *, font: str, size: float, gray: float = 0):
        """`text` with its baseline starting at (x, y); `font` is a key of FONTS or
        EXTRA_FONTS (whose characters it must have: see rich_text)."""
        if font in EXTRA_FONTS:
            self.fonts.add(font)
        shown = _ucs2_hex(text) if font == CHINESE else _pdf_string(text)
        self.ops.append(
            f"BT {_num(gray)} g /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td {shown} Tj ET"
        )

    def rich_text(
        self, x: float, y: float, text: str, *, size: float, bold: bool = False, gray: float = 0
    ):
        """Any text, Latin runs in Helvetica (bold: Helvetica-Bold), the others in Chinese (bold:
        its outline stroked too). Its width is text_width(text, size, bold=bold)."""
        parts = [f"BT {_num(gray)} g {_num(gray)} G {_num(x)} {_num(y)} Td"]
        for latin, run in runs(text):
            if latin:
                font = BOLD if bold else REGULAR
                parts.append(f"/{font} {_num(size)} Tf 0 Tr {_pdf_string(run)} Tj")
            else:
                font = CHINESE
                mode = f"2 Tr {_num(size * 0.04)} w" if bold else "0 Tr"
                parts.append(f"/{font} {_num(size)} Tf {mode} {_ucs2_hex(run)} Tj")
            if font in EXTRA_FONTS:
                self.fonts.add(font)
        self.ops.append(" ".join(parts) + " ET")


def write_pdf(pages: list[Page], *, title: str) -> bytes:
    """The pages as a complete PDF 1.4 file."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    used = set().union(*(page.fonts for page in pages))
    font_refs = {
        name: add(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>".encode()
        )
        for name, base in [*FONTS.items(), *((REGULAR, EXTRA_FONTS[REGULAR]),) * (REGULAR in used)]
    }
    if CHINESE in used:
        font_refs[CHINESE] = _add_chinese_font(add)
    fonts = " ".join(f"/{name} {ref} 0 R" for name, ref in font_refs.items())
    kids = []
    for page in pages:
        content = zlib.compress("\n".join(page.ops).encode("latin-1"))
        stream = add(
            f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode()
            + content
            + b"\nendstream"
        )
        kids.append(
            add(
                f"<< /Type /Page /Parent {tree} 0 R "
                f"/MediaBox [0 0 {_num(page.width)} {_num(page.height)}] "
                f"/Resources << /Font << {fonts} >> >> /Contents {stream} 0 R >>".encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()
    objects[tree - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    info = add(f"<< /Title {_info_string(title)} /Producer (fieldapp) >>".encode())

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _add_chinese_font(add) -> int:
    """STSong-Light as a Type0 font: not embedded (the reader supplies it), text in UCS-2."""
    descriptor = add(
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>"
    )
    descendant = add(
        f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        f"/FontDescriptor {descriptor} 0 R /DW 1000 >>".encode()
    )
    cmap = zlib.compress(_UCS2_TO_UNICODE.encode("ascii"))
    to_unicode = add(
        f"<< /Length {len(cmap)} /Filter /FlateDecode >>\nstream\n".encode() + cmap + b"\nendstream"
    )
    return add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        f"/DescendantFonts [{descendant} 0 R] /ToUnicode {to_unicode} 0 R >>".encode()
    )


def _to_unicode_cmap() -> str:
    """The ToUnicode CMap of UCS-2 codes: each code is its own character (surrogates excepted).

    One range per high byte (a range may change only its last byte), 100 ranges a block.
    """
    ranges = [f"<{high:02X}00> <{high:02X}FF> <{high:02X}00>" for high in range(256)]
    ranges = [r for r in ranges if not 0xD8 <= int(r[1:3], 16) <= 0xDF]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            "<0000> <FFFF>",
            "endcodespacerange",
            *blocks,
            "endcmap",
            "CMapName currentdict /CMapName get exch defineresource pop",
            "end",
            "end",
        ]
    )


_UCS2_TO_UNICODE = _to_unicode_cmap()
