"""Framing: the sheet found at ingest and straightened, the log's "needs framing", the
artist's corrections on the encounter page, and `flask media reframe` for older photos."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.media.framing import (
    DETECTOR_VERSION,
    WHOLE_PHOTO,
    FramingRefused,
    parse_corners,
    quarter_turn,
    rectify,
)
from fieldapp.media.images import process_photo
from fieldapp.media.models import Photo
from tests.conftest import csrf_token_from
from tests.dataset_fixtures import MIME, actions_of, export, read, rows_of
from tests.factories import (
    encounter_data,
    make_encounter,
    put_encounter,
    stored_files,
    token_of,
)
from tests.framing_photos import TILTED, flat_sheet, no_sheet_photo, sheet_photo
from tests.helpers import changes_of, form_post

A4 = 2**0.5


def _photo_row(app, uuid: str) -> Photo:
    with app.app_context():
        photo = encounter_by_uuid(db.session, uuid).photo
        db.session.expunge(photo)
        return photo


def _display(app, photo: Photo) -> Image.Image:
    image = Image.open(Path(app.config["MEDIA_DIR"]) / photo.display_name)
    image.load()
    return image


def _paper_share(image: Image.Image) -> float:
    """The share of light, unsaturated pixels: paper, not table."""
    small = image.convert("HSV").resize((80, 80))
    return sum(1 for h, s, v in small.get_flattened_data() if v > 170 and s < 60) / (80 * 80)


def _red_dot_corner(image: Image.Image) -> str:
    """Which quarter of the image holds most red: where the sheet's top-left dot ended up
    (the face is in the middle, the dot in a corner)."""
    small = image.convert("RGB").resize((40, 40))
    quarters = {"top-left": 0, "top-right": 0, "bottom-right": 0, "bottom-left": 0}
    for index, (r, g, b) in enumerate(small.get_flattened_data()):
        x, y = index % 40, index // 40
        if not (x < 8 or x >= 32) or not (y < 8 or y >= 32):
            continue  # only the corners of the image
        if r > 150 and g < 90 and b < 90:
            key = ("top" if y < 20 else "bottom") + "-" + ("left" if x < 20 else "right")
            quarters[key] += 1
    return max(quarters, key=quarters.get)


# Pure functions -----------------------------------------------------------------------------


def test_rectify_straightens_the_sheet_at_its_own_aspect_ratio_with_nothing_of_the_table():
    photo = Image.open(io.BytesIO(sheet_photo()))
    framed = rectify(photo, TILTED, 2016)
    assert framed.height / framed.width == pytest.approx(A4, rel=0.04)
    assert _paper_share(framed) > 0.8  # the table is gone: paper and red lines only
    assert _red_dot_corner(framed) == "top-left"
    # Never larger than the sheet is in the photo.
    assert framed.height <= 0.8 * photo.height


def test_a_quarter_turn_turns_the_result_clockwise():
    photo = Image.open(io.BytesIO(sheet_photo()))
    turned = rectify(photo, quarter_turn(TILTED), 2016)
    assert turned.width / turned.height == pytest.approx(A4, rel=0.04)
    assert _red_dot_corner(turned) == "top-right"
    assert quarter_turn(TILTED, 4) == TILTED


@pytest.mark.parametrize(
    ("orientation", "to_stored"),
    [
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_90),  # stored sideways: the camera turns it back with 6
        (8, Image.Transpose.ROTATE_270),
        (2, Image.Transpose.FLIP_LEFT_RIGHT),
        (5, Image.Transpose.TRANSPOSE),
    ],
)
def test_a_photo_stored_sideways_is_framed_as_it_is_seen(orientation, to_stored):
    upright = Image.open(io.BytesIO(sheet_photo())).convert("RGB")
    stored = upright.transpose(to_stored)
    expected = rectify(upright, TILTED, 800)
    framed = rectify(stored, TILTED, 800, orientation=orientation)
    assert framed.size == expected.size
    difference = sum(
        abs(a - b)
        for a, b in zip(
            framed.convert("L").resize((40, 56)).get_flattened_data(),
            expected.convert("L").resize((40, 56)).get_flattened_data(),
            strict=True,
        )
    ) / (40 * 56)
    assert difference < 6


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "could not be read"),
        ("[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]", "exactly four corners"),
        ("[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]", "cross"),
        ("[[0.1, 0.1], [0.1, 0.9], [0.9, 0.9], [0.9, 0.1]]", "cross"),  # counter-clockwise
        ("[[0.1, 0.1], [1.6, 0.1], [0.9, 0.9], [0.1, 0.9]]", "outside the photo"),
        ("[[0.5, 0.5], [0.55, 0.5], [0.55, 0.55], [0.5, 0.55]]", "too small"),
        ("[[1.01, 0], [1.05, 0], [1.05, 1], [1.01, 1]]", "off the photo"),
        ('[[0.1, 0.1], [0.9, 0.1], [0.9, "NaN"], [0.1, 0.9]]', "four corners"),
        ('{"a": 1}', "could not be read"),
    ],
)
def test_corners_that_cannot_frame_a_drawing_are_refused_with_a_reason(raw, message):
    with pytest.raises(FramingRefused, match=message):
        parse_corners(raw)


def test_corners_a_little_past_the_edge_are_accepted():
    corners = parse_corners("[[-0.02, 0], [1.03, 0.01], [1, 1], [0, 1.02]]")
    assert corners[1] == (1.03, 0.01)
    assert parse_corners(json.dumps(WHOLE_PHOTO)) == WHOLE_PHOTO


# Ingest ------------------------------------------------------------------------------------


def test_an_uploaded_photo_of_a_sheet_is_shown_framed_and_the_archive_keeps_the_whole_photo(
    app, client, api_token
):
    data = sheet_photo()
    response = put_encounter(client, api_token, "a1f4c1a8-0000-4000-8000-000000000001",
                             encounter_data(), data)  # fmt: skip
    assert response.status_code == 201
    assert response.json["photo"]["framing"] == "auto"
    assert (response.json["photo"]["width"], response.json["photo"]["height"]) == (1600, 1200)
    photo = _photo_row(app, "a1f4c1a8-0000-4000-8000-000000000001")
    assert photo.framing == "auto" and photo.framing_detector == DETECTOR_VERSION
    for found, true in zip(photo.corners, TILTED, strict=True):
        assert found == pytest.approx(true, abs=0.01)
    display = _display(app, photo)
    assert display.height / display.width == pytest.approx(A4, rel=0.04)
    assert _paper_share(display) > 0.8
    archive = Image.open(Path(app.config["MEDIA_DIR"]) / photo.archive_name)
    assert archive.size == (1600, 1200)


def test_a_photo_with_no_sheet_is_shown_whole_and_listed_as_needing_framing(
    app, client, api_token, logged_in
):
    uuid = "a1f4c1a8-0000-4000-8000-000000000002"
    response = put_encounter(client, api_token, uuid, encounter_data(), no_sheet_photo())
    assert response.json["photo"]["framing"] == "none"
    photo = _photo_row(app, uuid)
    assert photo.corners is None and (photo.display_width, photo.display_height) == (1600, 1200)
    framed = make_encounter(app, photo=sheet_photo(seed=5))
    log = client.get("/encounters?photo=needs_framing").text
    number = encounter_by_uuid_number(app, uuid)
    assert f'data-number="{number}"' in log
    assert f'data-number="{encounter_by_uuid_number(app, framed)}"' not in log
    assert "needs framing" in log
    everything = client.get("/encounters").text
    assert re.search(r'id="needs-framing"[^>]*>1 drawing needs framing<', everything)
    page = client.get(f"/encounters/{uuid}").text
    assert "No sheet was found" in page


def encounter_by_uuid_number(app, uuid: str) -> int:
    with app.app_context():
        return encounter_by_uuid(db.session, uuid).number


def test_process_photo_frames_a_camera_jpeg_turned_by_its_exif_orientation():
    upright = Image.open(io.BytesIO(sheet_photo())).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=90, exif=exif)
    processed = process_photo(out.getvalue(), max_pixels=50_000_000)
    assert (processed.archive.width, processed.archive.height) == (1600, 1200)
    assert processed.framing == "auto"
    display = Image.open(io.BytesIO(processed.display.data))
    assert display.height / display.width == pytest.approx(A4, rel=0.04)
    assert _red_dot_corner(display) == "top-left"


# The framing editor's server side ---------------------------------------------------------------


def _post_framing(client, uuid: str, **fields):
    page = client.get(f"/encounters/{uuid}").text
    token = csrf_token_from(page)
    data = {"framing-csrf_token": token, **{f"framing-{k}": v for k, v in fields.items()}}
    return client.post(f"/encounters/{uuid}/framing", data=data)


def _history(app, uuid: str) -> list[tuple]:
    """The framing changes of the edit history: (kind, reason, old, new)."""
    return [(k, r, o, n) for k, r, _who, _f, o, n in changes_of(app, uuid) if k == "framing"]


def test_the_artist_frames_a_drawing_by_hand_and_the_old_files_go(app, client, logged_in):
    uuid = make_encounter(app, photo=no_sheet_photo())
    before = _photo_row(app, uuid)
    page = client.get(f"/encounters/{uuid}").text
    old_version = re.search(r"/photo/display\?v=(\w+)", page).group(1)
    response = _post_framing(client, uuid, how="corners", corners=json.dumps(TILTED))
    assert response.status_code == 302 and response.location.endswith("#framing")
    after = _photo_row(app, uuid)
    assert after.framing == "manual" and after.archive_name == before.archive_name
    assert after.display_name != before.display_name
    names = {p.relative_to(app.config["MEDIA_DIR"]).as_posix() for p in stored_files(app)}
    assert before.display_name not in names and before.thumb_name not in names
    assert {after.archive_name, after.display_name, after.thumb_name} <= names
    page = client.get(f"/encounters/{uuid}").text
    assert "Framing saved." in page and "Framed by hand" in page
    assert re.search(r"/photo/display\?v=(\w+)", page).group(1) != old_version
    [(kind, reason, old, new)] = _history(app, uuid)
    assert reason == "Framed by hand." and old == "none (whole photo)"
    assert new.startswith("manual: 0.381 0.192")
    served = client.get(f"/encounters/{uuid}/photo/display")
    assert Image.open(io.BytesIO(served.data)).size == (after.display_width, after.display_height)


def test_the_whole_photo_turned_and_reset_to_automatic(app, client, logged_in):
    uuid = make_encounter(app, photo=sheet_photo())
    turned = json.dumps(quarter_turn(WHOLE_PHOTO))
    assert _post_framing(client, uuid, how="whole", corners=turned).status_code == 302
    photo = _photo_row(app, uuid)
    assert photo.framing == "manual"
    assert (photo.display_width, photo.display_height) == (1200, 1600)  # turned a quarter
    assert _post_framing(client, uuid, how="whole").status_code == 302
    assert (_photo_row(app, uuid).display_width, _photo_row(app, uuid).display_height) == (
        1600,
        1200,
    )
    assert _post_framing(client, uuid, how="auto").status_code == 302
    photo = _photo_row(app, uuid)
    assert photo.framing == "auto"
    assert [new for *_, new in _history(app, uuid)][-1].startswith("auto: ")


def test_a_framing_that_cannot_be_made_is_refused_and_nothing_changes(app, client, logged_in):
    uuid = make_encounter(app, photo=sheet_photo())
    before = _photo_row(app, uuid)
    files = stored_files(app)
    crossed = "[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]"
    response = _post_framing(client, uuid, how="corners", corners=crossed)
    assert response.status_code == 422
    assert "The corners cross" in response.text
    assert _post_framing(client, uuid, how="corners").status_code == 422  # no corners
    assert _post_framing(client, uuid, how="sideways").status_code == 422
    forged = client.post(f"/encounters/{uuid}/framing", data={"framing-how": "auto"})
    assert forged.status_code == 400
    token = csrf_token_from(client.get(f"/encounters/{uuid}").text)
    unknown = client.post("/encounters/no-such-uuid/framing", data={"framing-csrf_token": token})
    assert unknown.status_code == 404
    assert _photo_row(app, uuid).display_name == before.display_name
    assert stored_files(app) == files and _history(app, uuid) == []


def test_a_withdrawn_drawing_cannot_be_framed(app, client, logged_in):
    uuid = make_encounter(app, photo=sheet_photo(), withdrawn=True)
    response = _post_framing(client, uuid, how="auto")
    assert response.status_code == 409
    assert stored_files(app) == []


def test_a_reframed_drawing_withdrawn_leaves_no_file(app, client, logged_in):
    uuid = make_encounter(app, photo=sheet_photo(size=(3200, 2400)))
    _post_framing(client, uuid, how="corners", corners=json.dumps(TILTED))
    # A reduced copy of the new framing, as a phone asks for it.
    token = token_of(app, uuid)
    assert client.get(f"/p/{token}/drawing.jpg?w=720").status_code == 200
    assert len(stored_files(app)) == 4
    with app.app_context():
        from fieldapp.media.services import media_store
        from fieldapp.withdrawal.services import withdraw

        withdraw(db.session, media_store(), encounter_by_uuid(db.session, uuid).ticket)
    assert stored_files(app) == []


# flask media reframe --------------------------------------------------------------------------


def _as_before_framing(app, *uuids: str) -> None:
    """Make these photos look stored before framing existed: shown whole, never looked at."""
    from fieldapp.media.services import (
        apply_framing,
        frame_archive,
        media_store,
        remove_unreferenced,
    )

    with app.app_context():
        store, replaced = media_store(), []
        for uuid in uuids:
            photo = encounter_by_uuid(db.session, uuid).photo
            whole = frame_archive(store, photo.archive_name, None, "none")
            replaced += apply_framing(db.session, store, photo, whole).replaced
            db.session.execute(
                update(Photo).where(Photo.id == photo.id).values(framing_detector=None)
            )
        db.session.commit()
        remove_unreferenced(db.session, store, replaced)


def test_reframe_frames_older_photos_once_and_never_a_framing_made_by_hand(app, client, logged_in):
    sheet, table_only, by_hand = (
        make_encounter(app, photo=sheet_photo(seed=7)),
        make_encounter(app, photo=no_sheet_photo(seed=8)),
        make_encounter(app, photo=sheet_photo(seed=9)),
    )
    _as_before_framing(app, sheet, table_only, by_hand)
    _post_framing(client, by_hand, how="whole")
    hand_display = _photo_row(app, by_hand).display_name
    runner = app.test_cli_runner()
    result = runner.invoke(args=["media", "reframe", "--needs-framing"])
    assert result.exit_code == 0, result.output
    assert "Looked at 2 photo(s): 1 framed, 1 still need framing by hand." in result.output
    assert _photo_row(app, sheet).framing == "auto"
    assert _photo_row(app, table_only).framing == "none"
    assert _photo_row(app, by_hand).display_name == hand_display
    assert _history(app, sheet)[-1][1] == "Framed by `flask media reframe`."
    again = runner.invoke(args=["media", "reframe", "--all"])
    assert "nothing to do" in again.output
    files = stored_files(app)
    assert len(files) == 9  # three photos, three files each: the replaced ones are gone
    usage = runner.invoke(args=["media", "reframe"])
    assert usage.exit_code == 2 and "--all or --needs-framing" in usage.output


def test_the_backlog_import_lists_the_photos_it_could_not_frame(app, client, logged_in):
    from tests.factories import batch_fields

    fields = batch_fields(client)
    fields["files"] = [
        (io.BytesIO(sheet_photo(seed=11)), "sheet.jpg"),
        (io.BytesIO(no_sheet_photo(seed=12)), "table.jpg"),
    ]
    page = client.post("/encounters/import", data=fields, content_type="multipart/form-data")
    assert page.status_code == 200
    assert "1 could not be framed" in page.text
    with app.app_context():
        table_photo = db.session.scalar(select(Photo).where(Photo.framing == "none"))
        uuid = table_photo.encounter.uuid
    assert f'href="/encounters/{uuid}#framing"' in page.text
    assert page.text.count("needs framing") == 1


def test_the_api_describes_the_framing_of_a_stored_photo(app, client, api_token):
    uuid = "a1f4c1a8-0000-4000-8000-000000000003"
    put_encounter(client, api_token, uuid, encounter_data(), sheet_photo(seed=3))
    got = client.get(f"/api/v1/encounters/{uuid}", headers={"Authorization": f"Bearer {api_token}"})
    assert got.json["photo"]["framing"] == "auto"


def test_flat_sheet_has_its_marker_top_left():
    assert _red_dot_corner(flat_sheet()) == "top-left"


def test_the_editor_is_shown_the_whole_photo_reduced_with_its_rights(app, client, logged_in):
    from tests.helpers import assert_no_camera_metadata, jpeg_xmp

    uuid = make_encounter(app, photo=sheet_photo(size=(4032, 3024)))
    whole = client.get(f"/encounters/{uuid}/photo/whole")
    assert whole.status_code == 200 and whole.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(whole.data)).size == (2016, 1512)
    assert jpeg_xmp(whole.data) is not None
    assert_no_camera_metadata(whole.data)
    assert whole.headers["Cache-Control"] == "private, no-cache"
    declined = make_encounter(app, declined=True)
    assert client.get(f"/encounters/{declined}/photo/whole").status_code == 404
    stranger = app.test_client()  # not logged in: sent to the login page, no photo
    refused = stranger.get(f"/encounters/{uuid}/photo/whole")
    assert refused.status_code == 302 and "/login" in refused.location


def test_an_export_shows_the_framed_drawings_and_says_how_each_was_framed(
    app, client, logged_in, tmp_path
):
    found = make_encounter(app, photo=sheet_photo(seed=21))
    unframed = make_encounter(app, photo=no_sheet_photo(seed=22))
    by_hand = make_encounter(app, photo=sheet_photo(seed=23))
    _post_framing(client, by_hand, how="corners", corners=json.dumps(TILTED))
    images = export(app, tmp_path / "archive", "--archive")
    rows = {row["portrait_number"]: row for row in rows_of(images)}
    expected = {found: "auto", unframed: "none", by_hand: "manual"}
    for uuid, framing in expected.items():
        row = rows[encounter_by_uuid_number(app, uuid)]
        assert row["framing"] == framing
        data = (images / row["file_name"]).read_bytes()
        manifest, *_ = read(data, MIME[Path(row["file_name"]).suffix])
        edited = actions_of(manifest).get("c2pa.edited")
        assert (edited is None) == (framing == "none")
        exported = Image.open(io.BytesIO(data))
        if framing == "none":
            assert exported.size == (1600, 1200)  # the whole photo
        else:
            assert exported.height / exported.width == pytest.approx(A4, rel=0.04)
            assert _paper_share(exported) > 0.8


def test_a_replaced_photo_is_framed_again_from_scratch(app, client, logged_in):
    uuid = make_encounter(app, photo=no_sheet_photo(seed=41))
    _post_framing(client, uuid, how="whole", corners=json.dumps(quarter_turn(WHOLE_PHOTO)))
    assert _photo_row(app, uuid).framing == "manual"
    retake = {
        "retake-photo": (io.BytesIO(sheet_photo(seed=42)), "new.jpg"),
        "retake-reason": "daylight",
    }
    replaced = form_post(client, uuid, "photo", retake, content_type="multipart/form-data")
    assert replaced.status_code == 302
    photo = _photo_row(app, uuid)
    assert photo.framing == "auto"  # the new photo's own sheet, not the old photo's framing
    assert photo.display_height / photo.display_width == pytest.approx(A4, rel=0.04)
