"""A very small vector PDF writer: filled rectangles, lines and text in the standard fonts.

Enough for a sheet of ticket labels, whose QR modules must print crisp at any resolution.
No dependency: the standard 14 fonts need no embedding, content streams are zlib-compressed.
Coordinates are PDF points (1/72 inch) from the bottom-left corner of the page.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Resource names of the fonts every page may use, and their advance width per point of size
#: where it is one number (Courier is monospaced; Helvetica-Bold digits and "#" are 0.556).
FONTS = {"F1": "Helvetica-Bold", "F2": "Courier"}
COURIER_ADVANCE = 0.6
HELVETICA_BOLD_DIGIT_ADVANCE = 0.556


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _pdf_string(text: str) -> str:
    raw = text.encode("cp1252", errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


@dataclass
class Page:
    """One page's drawing operations, in the order they are painted."""

    width: float
    height: float
    ops: list[str] = field(default_factory=list)

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
        """`text` with its baseline starting at (x, y); `font` is a key of FONTS."""
        self.ops.append(
            f"BT {_num(gray)} g /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td "
            f"{_pdf_string(text)} Tj ET"
        )


def write_pdf(pages: list[Page], *, title: str) -> bytes:
    """The pages as a complete PDF 1.4 file."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    font_refs = {
        name: add(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>".encode()
        )
        for name, base in FONTS.items()
    }
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
    info = add(f"<< /Title {_pdf_string(title)} /Producer (fieldapp) >>".encode())

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
