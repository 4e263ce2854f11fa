"""AI-training signals: headers, meta tags, XMP in the bytes served, tdmrep.json and ai.txt."""

from __future__ import annotations

import io
import json
import re

import jsonschema
import pytest
from PIL import Image

from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.media.xmp import (
    DMI_ALLOWED,
    DMI_PROHIBITED_AIMLTRAINING,
    XmpTooLarge,
    jpeg_with_xmp,
    rights_xmp,
    with_rights,
)
from fieldapp.signals.services import training_allowed
from tests import photo_corpus as corpus
from tests.factories import make_encounter, number_of, small_jpeg
from tests.helpers import assert_no_camera_metadata, consent, jpeg_xmp, rights_in

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PLUS = "{http://ns.useplus.org/ldf/xmp/1.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
RESERVED_META = (
    '<meta name="robots" content="noai, noimageai">',
    '<meta name="tdm-reservation" content="1">',
)
ALLOWED_META = '<meta name="tdm-reservation" content="0">'
TRICKY_NAME = 'Ana "<&> Lima'

# The shape of /.well-known/tdmrep.json in the W3C TDMRep Final Community Group Report.
TDMREP_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["location", "tdm-reservation"],
        "properties": {
            "location": {"type": "string", "pattern": "^/"},
            "tdm-reservation": {"enum": [0, 1]},
            "tdm-policy": {"type": "string", "format": "uri"},
        },
        "additionalProperties": False,
    },
}


def drawing(app, *, training: bool, name: str | None = None, photo: bytes | None = None) -> str:
    """A completed encounter with a photo; returns its UUID."""
    credit = {"name": name} if name is not None else {"anonymous": True}
    return make_encounter(
        app, photo=photo or small_jpeg(), consent=consent(training=training), credit=credit
    )


def token_of(app, client_uuid: str) -> str:
    with app.app_context():
        return encounter_by_uuid(db.session, client_uuid).token


def set_training(app, client_uuid: str, allowed: bool) -> None:
    with app.app_context():
        encounter_by_uuid(db.session, client_uuid).training = allowed
        db.session.commit()


def content_usage(response) -> dict[str, str]:
    """The `Content-Usage` header read as the IETF AI-preferences draft reads it: a Structured
    Field Dictionary (RFC 9651 section 4.2.2, without inner lists), member parameters dropped."""
    members = {}
    for member in response.headers["Content-Usage"].split(","):
        key, _, value = member.strip().partition("=")
        assert re.fullmatch(r"[a-z*][a-z0-9_.*-]*", key), member
        members[key] = value.split(";")[0] or "?1"  # a bare key is the Boolean true
    return members


def assert_reserved(response) -> None:
    assert response.headers["tdm-reservation"] == "1"
    assert content_usage(response)["train-ai"] == "n"
    directives = [d.strip() for d in response.headers["X-Robots-Tag"].split(",")]
    assert {"noai", "noimageai"} <= set(directives)


def assert_allowed(response) -> None:
    assert response.headers["tdm-reservation"] == "0"
    assert content_usage(response)["train-ai"] == "y"
    assert "noai" not in response.headers.get("X-Robots-Tag", "")


# Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/pamphlet", "/p/no-such-token", "/healthz"])
def test_pages_of_no_particular_drawing_reserve_by_default(auth, client, path):
    auth.create_collector()
    response = client.get(path)
    assert_reserved(response)
    if response.mimetype == "text/html":
        for meta in RESERVED_META:
            assert meta in response.text
        assert ALLOWED_META not in response.text


def test_the_collectors_pages_of_many_drawings_reserve(app, logged_in, client):
    drawing(app, training=True)
    for path in ("/", "/encounters"):
        response = client.get(path)
        assert response.status_code == 200
        assert_reserved(response)
        assert RESERVED_META[1] in response.text


@pytest.mark.parametrize("training", [False, True])
def test_participant_page_states_the_drawers_choice(app, client, training):
    token = token_of(app, drawing(app, training=training))
    response = client.get(f"/p/{token}")
    assert response.status_code == 200
    if training:
        assert_allowed(response)
        assert ALLOWED_META in response.text
        assert RESERVED_META[1] not in response.text and "noai" not in response.text
    else:
        assert_reserved(response)
        assert all(meta in response.text for meta in RESERVED_META)
    # The participant page's own directives survive next to the signal.
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_ticket_whose_drawing_has_not_arrived_reserves(client, api_token):
    ticket = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"][0]
    assert_reserved(client.get(f"/p/{ticket['token']}"))


def test_the_collectors_detail_page_states_the_drawers_choice(app, logged_in, client):
    allowed = drawing(app, training=True, photo=small_jpeg((255, 0, 0)))
    reserved = drawing(app, training=False, photo=small_jpeg((0, 0, 255)))
    assert_allowed(client.get(f"/encounters/{allowed}"))
    assert_reserved(client.get(f"/encounters/{reserved}"))


def test_the_gallery_reserves_and_its_drawing_pages_state_their_drawers_choice(app, client):
    allowing = number_of(app, drawing(app, training=True, photo=small_jpeg((255, 0, 0))))
    refusing = number_of(app, drawing(app, training=False, photo=small_jpeg((0, 0, 255))))
    index = client.get("/gallery")
    assert index.status_code == 200
    assert_reserved(index)  # many people's drawings on one page
    for number, assert_choice in ((allowing, assert_allowed), (refusing, assert_reserved)):
        for path in ("", "/display.jpg", "/thumb.jpg"):
            response = client.get(f"/gallery/{number}{path}")
            assert response.status_code == 200, path
            assert_choice(response)


def test_content_usage_is_exactly_the_drafts_dictionary(app, client):
    token = token_of(app, drawing(app, training=True))
    assert client.get(f"/p/{token}").headers["Content-Usage"] == "train-ai=y"
    assert client.get("/pamphlet").headers["Content-Usage"] == "train-ai=n"


# Images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("suffix", ["drawing.jpg", "thumb.jpg"])
def test_participant_images_carry_the_choice_in_headers_and_xmp(app, client, training, suffix):
    token = token_of(app, drawing(app, training=training, name="Ana Lima"))
    response = client.get(f"/p/{token}/{suffix}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    (assert_allowed if training else assert_reserved)(response)
    mining, creators = rights_in(jpeg_xmp(response.data))
    assert mining == (DMI_ALLOWED if training else DMI_PROHIBITED_AIMLTRAINING)
    assert creators == ["Ana Lima"]
    assert_no_camera_metadata(response.data)
    assert "no-store" in response.headers["Cache-Control"] or (
        "no-cache" in response.headers["Cache-Control"]
    )


def test_an_anonymous_drawing_names_no_creator(app, client):
    token = token_of(app, drawing(app, training=False))
    data = client.get(f"/p/{token}/drawing.jpg").data
    assert rights_in(jpeg_xmp(data)) == (DMI_PROHIBITED_AIMLTRAINING, [])
    assert b"dc:creator" not in data


def test_a_credit_name_with_markup_characters_is_escaped(app, client):
    token = token_of(app, drawing(app, training=True, name=TRICKY_NAME))
    packet = jpeg_xmp(client.get(f"/p/{token}/drawing.jpg").data)
    assert TRICKY_NAME.encode() not in packet
    assert rights_in(packet) == (DMI_ALLOWED, [TRICKY_NAME])


def test_a_camera_photo_is_served_with_rights_and_without_its_gps(app, client):
    photo = corpus.camera_jpeg(orientation=6, gps=True, size=(800, 600))
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825), "the fixture has GPS"
    token = token_of(app, drawing(app, training=False, photo=photo))
    for suffix in ("drawing.jpg", "thumb.jpg"):
        data = client.get(f"/p/{token}/{suffix}").data
        assert_no_camera_metadata(data)
        assert rights_in(jpeg_xmp(data))[0] == DMI_PROHIBITED_AIMLTRAINING


@pytest.mark.parametrize("variant", ["archive", "display", "thumb"])
def test_the_collectors_photo_route_is_signed_too(app, logged_in, client, variant):
    client_uuid = drawing(app, training=True, name="Ana Lima")
    response = client.get(f"/encounters/{client_uuid}/photo/{variant}")
    assert response.status_code == 200
    assert_allowed(response)
    assert rights_in(jpeg_xmp(response.data)) == (DMI_ALLOWED, ["Ana Lima"])
    assert_no_camera_metadata(response.data)
    assert "no-cache" in response.headers["Cache-Control"]


def test_a_png_archive_carries_the_xmp_in_an_itxt_chunk(app, logged_in, client):
    client_uuid = drawing(app, training=False, name="Ana Lima", photo=corpus.png_bytes((300, 400)))
    response = client.get(f"/encounters/{client_uuid}/photo/archive")
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.load()  # a broken chunk (bad CRC) would fail here
    packet = image.info["XML:com.adobe.xmp"].encode()
    assert rights_in(packet) == (DMI_PROHIBITED_AIMLTRAINING, ["Ana Lima"])
    assert len(image.getexif()) == 0
    assert_reserved(response)


# A change of mind -------------------------------------------------------------------------


def test_a_change_of_training_consent_flips_every_signal_on_the_next_request(app, client):
    client_uuid = drawing(app, training=False)
    token = token_of(app, client_uuid)
    before = client.get(f"/p/{token}/drawing.jpg")
    assert_reserved(before)
    assert client.get(
        f"/p/{token}/drawing.jpg", headers={"If-None-Match": before.headers["ETag"]}
    ).status_code == 304  # fmt: skip

    set_training(app, client_uuid, True)
    after = client.get(f"/p/{token}/drawing.jpg", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "a cached copy must not hide the change"
    assert_allowed(after)
    assert rights_in(jpeg_xmp(after.data))[0] == DMI_ALLOWED
    assert after.headers["ETag"] != before.headers["ETag"]
    page = client.get(f"/p/{token}")
    assert_allowed(page)
    assert ALLOWED_META in page.text


def test_training_counts_only_while_the_drawing_is_kept(app):
    assert training_allowed(Encounter(keep=True, training=True))
    assert not training_allowed(Encounter(keep=False, training=True))
    assert not training_allowed(Encounter(keep=True, training=None))
    assert not training_allowed(None)


# Site-wide files --------------------------------------------------------------------------


def test_tdmrep_json_is_the_w3c_shape_and_reserves_the_site(client):
    response = client.get("/.well-known/tdmrep.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    rules = json.loads(response.data)
    jsonschema.validate(rules, TDMREP_SCHEMA)
    assert rules[0] == {"location": "/", "tdm-reservation": 1}


def test_ai_txt_is_plain_text_and_disallows_images_and_the_site(client):
    response = client.get("/ai.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = [line.strip() for line in response.text.splitlines()]
    assert "User-Agent: *" in lines
    assert {"Disallow: *.jpg", "Disallow: *.png", "Disallow: /"} <= set(lines)


# The XMP functions, on their own ----------------------------------------------------------


def test_injection_drops_any_exif_already_in_the_jpeg():
    camera = corpus.camera_jpeg(orientation=1, gps=True, size=(200, 150))
    signed = with_rights(camera, training_allowed=False, creator=None)
    assert_no_camera_metadata(signed)
    assert Image.open(io.BytesIO(signed)).size == (200, 150)
    # Signing twice leaves one packet, not two.
    twice = with_rights(signed, training_allowed=True, creator="B")
    assert twice.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
    assert rights_in(jpeg_xmp(twice)) == (DMI_ALLOWED, ["B"])


def test_the_xmp_follows_the_jfif_header():
    signed = with_rights(small_jpeg(), training_allowed=False, creator=None)
    assert signed[2:4] == b"\xff\xe0" and signed[6:11] == b"JFIF\x00"
    assert Image.open(io.BytesIO(signed)).info["jfif"]


def test_fill_bytes_before_a_marker_are_allowed_and_a_truncated_header_is_not():
    plain = small_jpeg()
    padded = plain[:2] + b"\xff\xff" + plain[2:]
    assert rights_in(jpeg_xmp(with_rights(padded, training_allowed=True, creator=None)))[0] == (
        DMI_ALLOWED
    )
    with pytest.raises(ValueError):
        with_rights(b"\xff\xd8\xff\xd9", training_allowed=True, creator=None)
    with pytest.raises(ValueError):
        with_rights(plain[:20], training_allowed=True, creator=None)


def test_a_packet_too_large_for_one_segment_is_refused():
    with pytest.raises(XmpTooLarge):
        jpeg_with_xmp(small_jpeg(), b"x" * 65_505)
    jpeg_with_xmp(small_jpeg(), b"x" * (65_533 - 29))  # the largest that fits


def test_characters_xml_cannot_hold_are_dropped_from_the_name():
    packet = rights_xmp(training_allowed=True, creator="Ana\x00\x08 Lima")
    assert rights_in(packet) == (DMI_ALLOWED, ["Ana Lima"])


def test_bytes_that_are_not_an_image_are_refused():
    with pytest.raises(ValueError):
        with_rights(b"GIF89a...", training_allowed=False, creator=None)
