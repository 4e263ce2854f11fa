"""The drawer's AI-training choice and credit, written into image bytes as XMP.

Stored files carry no metadata at all (see images.py); consent can change at any time, so the
rights are injected into a copy of the stored bytes each time a file leaves the server. These
are pure functions on bytes, so the dataset export can sign its files the same way. On the way
out they also keep only what draws the picture (and its colour profile): whatever else a file
might hold (one stored by an older version, say) never leaves the server.

Vocabulary: IPTC Photo Metadata 2023.1 / PLUS `plus:DataMining`, whose value is one of the
PLUS controlled-vocabulary URIs (written as text, as ExifTool writes it).
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.sax.saxutils import escape

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
DMI_ALLOWED = "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"
DMI_PROHIBITED_AIMLTRAINING = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"

#: APP1 identifier of an XMP packet in a JPEG (XMP Specification Part 3, 1.1.3).
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
#: A segment's length field counts itself (2 bytes) and holds at most 0xFFFF.
JPEG_SEGMENT_MAX_PAYLOAD = 0xFFFF - 2
#: iTXt keyword of an XMP packet in a PNG (XMP Specification Part 3, 1.1.5).
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: JPEG segments kept before the image data, besides the tables and frame headers (which hold
#: no text): APP2 only when it is a piece of the ICC profile, APP14 "Adobe" (its colour
#: transform flag changes how the pixels decode). Comments (COM), every other APPn (Exif and
#: camera XMP in APP1, the MP index in APP2, IPTC in APP13, makers' own) are dropped.
_JPEG_ICC_HEADER = b"ICC_PROFILE\x00"
_JPEG_ADOBE_HEADER = b"Adobe"
#: A JFIF APP0 without an embedded thumbnail is 16 bytes long; a longer one carries pixels
#: of another picture (or anything) and is dropped. JFXX (thumbnails only) too.
_JFIF_PLAIN_LENGTH = 16
#: PNG chunks kept: the picture and how to colour it. Text (tEXt, zTXt, iTXt), eXIf, tIME,
#: pHYs, animation chunks and private chunks are dropped.
_PNG_KEPT = frozenset(
    (b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT")
    + (b"cICP", b"mDCV", b"cLLI")
)

# Characters XML 1.0 does not allow at all, even escaped: dropped from the name.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class XmpTooLarge(ValueError):
    """The packet does not fit in one JPEG APP1 segment."""


def rights_xmp(*, training_allowed: bool, creator: str | None) -> bytes:
    """An XMP packet (UTF-8) stating the training choice and, if given, the creator's name.

    `creator` is the name the drawer chose to be credited by; None (anonymous) writes no
    creator at all. Nothing else goes in: no dates, places or devices.
    """
    mining = DMI_ALLOWED if training_allowed else DMI_PROHIBITED_AIMLTRAINING
    creator_xml = ""
    if creator is not None:
        name = escape(_NOT_XML.sub("", creator), {'"': "&quot;"})
        creator_xml = f"\n   <dc:creator><rdf:Seq><rdf:li>{name}</rdf:li></rdf:Seq></dc:creator>"
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:plus="{PLUS_NS}"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"   <plus:DataMining>{mining}</plus:DataMining>{creator_xml}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    )
    return packet.encode("utf-8")


def jpeg_with_xmp(jpeg: bytes, xmp: bytes) -> bytes:
    """The JPEG with `xmp` as its only APP1 segment, placed after SOI and any JFIF APP0.

    Only the segments that decode the picture and the ICC profile are kept: every APP1
    already there (Exif, XMP, extended XMP), comments and other application segments are
    dropped, so the result never carries camera metadata even if the input did. Raises
    XmpTooLarge when the packet does not fit in one segment, ValueError when the bytes are
    not a JPEG.
    """
    payload = JPEG_XMP_HEADER + xmp
    if len(payload) > JPEG_SEGMENT_MAX_PAYLOAD:
        raise XmpTooLarge(f"XMP packet of {len(xmp)} bytes does not fit in a JPEG APP1 segment")
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG: no SOI marker")
    app0: list[bytes] = []
    kept: list[bytes] = []
    position = 2
    while True:
        if position + 4 > len(jpeg) or jpeg[position] != 0xFF:
            raise ValueError("damaged JPEG: no marker where a segment should start")
        marker = jpeg[position + 1]
        if marker == 0xFF:  # a fill byte before the marker
            position += 1
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data follows, copied untouched
            break
        if marker == 0xD9 or 0xD0 <= marker <= 0xD8 or marker == 0x01:
            raise ValueError("damaged JPEG: a marker without length before the image data")
        (length,) = struct.unpack(">H", jpeg[position + 2 : position + 4])
        segment = jpeg[position : position + 2 + length]
        if marker == 0xE0:
            if not kept and not app0 and _is_plain_jfif(segment):
                app0.append(segment)
        elif _decodes_the_picture(marker, segment[4:]):
            kept.append(segment)
        position += 2 + length
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return b"".join([b"\xff\xd8", *app0, app1, *kept, jpeg[position:]])


def _is_plain_jfif(segment: bytes) -> bool:
    return len(segment) == 2 + _JFIF_PLAIN_LENGTH and segment[4:9] == b"JFIF\x00"


def _decodes_the_picture(marker: int, payload: bytes) -> bool:
    """Whether a JPEG segment before the image data is needed to show the picture as meant."""
    if 0xC0 <= marker <= 0xCF or marker in (0xDB, 0xDC, 0xDD):  # SOFn, DHT, DAC; DQT, DNL, DRI
        return True
    if marker == 0xE2:
        return payload.startswith(_JPEG_ICC_HEADER)
    if marker == 0xEE:
        return payload.startswith(_JPEG_ADOBE_HEADER)
    return False  # COM, APP0-APP15 otherwise, and anything unknown


def png_with_xmp(png: bytes, xmp: bytes) -> bytes:
    """The PNG with `xmp` in an uncompressed iTXt chunk right after IHDR.

    Only the chunks that draw and colour the picture are kept: every text chunk (tEXt,
    zTXt, iTXt, camera XMP included), eXIf, tIME and private chunks are dropped.
    """
    if png[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG: wrong signature")
    chunks: list[bytes] = []
    position = 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunk = png[position : position + 12 + length]
        if kind in _PNG_KEPT:
            chunks.append(chunk)
        position += 12 + length
        if kind == b"IEND":
            break
    if not chunks or chunks[0][4:8] != b"IHDR":
        raise ValueError("damaged PNG: IHDR is not the first chunk")
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword
    itxt = PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp
    chunk = (
        struct.pack(">I", len(itxt))
        + b"iTXt"
        + itxt
        + struct.pack(">I", zlib.crc32(b"iTXt" + itxt) & 0xFFFFFFFF)
    )
    return b"".join([PNG_SIGNATURE, chunks[0], chunk, *chunks[1:]])


def with_rights(data: bytes, *, training_allowed: bool, creator: str | None) -> bytes:
    """JPEG or PNG bytes carrying the rights XMP (the format is read from the bytes)."""
    xmp = rights_xmp(training_allowed=training_allowed, creator=creator)
    if data.startswith(PNG_SIGNATURE):
        return png_with_xmp(data, xmp)
    return jpeg_with_xmp(data, xmp)
