"""The public gallery: only what drawers allowed, credited as they chose, never a token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fieldapp.extensions import db
from fieldapp.gallery.services import gallery_page
from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.helpers import post_choices


def consent(**choices) -> dict:
    return {"version": 1, "keep": True, "gallery": True, "training": False, "social": False} | (
        choices
    )


def shown_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/gallery/(\d+)"', html)]


def test_only_kept_gallery_drawings_not_withdrawn_are_shown(app, client):
    shown = make_encounter(app, photo=small_jpeg((1 * 50, 0, 0)), credit_name="Ana Lima")
    anonymous = make_encounter(app, photo=small_jpeg((2 * 50, 0, 0)))
    not_for_gallery = make_encounter(
        app, photo=small_jpeg((3 * 50, 0, 0)), consent=consent(gallery=False)
    )
    withdrawn = make_encounter(app, photo=small_jpeg((4 * 50, 0, 0)), withdrawn=True)
    not_kept = make_encounter(app, consent=consent(keep=False, gallery=False))
    make_encounter(app, declined=True)
    page = client.get("/gallery")
    assert page.status_code == 200
    assert sorted(shown_numbers(page.text)) == sorted(
        [number_of(app, shown), number_of(app, anonymous)]
    )
    assert "Ana Lima" in page.text and "Anonymous" in page.text
    # The same URLs answer for a drawing that is in the gallery...
    for number in shown_numbers(page.text):
        for path in ("", "/thumb.jpg", "/display.jpg"):
            assert client.get(f"/gallery/{number}{path}").status_code == 200, (number, path)
    # ...and 404 for the numbers of the drawings that are not, which exist: the drawer of the
    # one kept out of the gallery still sees it, the withdrawn one keeps its number.
    assert client.get(f"/p/{token_of(app, not_for_gallery)}/drawing.jpg").status_code == 200
    hidden_numbers = [number_of(app, uuid) for uuid in (not_for_gallery, withdrawn, not_kept)]
    assert None not in hidden_numbers and len(set(hidden_numbers)) == 3
    assert not set(hidden_numbers) & set(shown_numbers(page.text))
    for hidden in hidden_numbers:
        assert client.get(f"/gallery/{hidden}").status_code == 404, hidden
        assert client.get(f"/gallery/{hidden}/thumb.jpg").status_code == 404, hidden
        assert client.get(f"/gallery/{hidden}/display.jpg").status_code == 404, hidden


def test_gallery_pages_and_images_never_show_a_token_or_uuid(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima")
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    index = client.get("/gallery").text
    item = client.get(f"/gallery/{number}")
    assert item.status_code == 200
    for html in (index, item.text):
        assert token not in html and client_uuid not in html and "/p/" not in html
    assert "Ana Lima" in item.text and f"Drawing #{number}" in item.text
    assert re.search(f'src="/gallery/{number}/display.jpg\\?v=[0-9a-f]{{16}}"', item.text)
    for variant in ("display", "thumb"):
        image = client.get(f"/gallery/{number}/{variant}.jpg")
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
        assert "no-cache" in image.headers["Cache-Control"]
    assert client.get(f"/gallery/{number}/archive.jpg").status_code == 404


def test_thumbnails_are_lazy_with_their_size(app, client):
    for shade in range(6):
        make_encounter(app, photo=small_jpeg((40 * shade, 0, 0)))
    html = client.get("/gallery").text
    images = re.findall(r"<img [^>]+>", html)
    assert len(images) == 6
    assert all('width="300" height="400"' in img for img in images)
    assert ['loading="lazy"' in img for img in images] == [False] * 4 + [True] * 2


def test_newest_first_and_keyset_pages_cover_everything_once(app, client):
    start = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    made = [
        number_of(
            app,
            make_encounter(
                app, photo=small_jpeg((0, 30 * shade, 0)), started_at=start + timedelta(hours=shade)
            ),
        )
        for shade in range(7)
    ]
    newest_first = list(reversed(made))
    with app.app_context():
        seen, before = [], None
        while True:
            page = gallery_page(db.session, before=before, per_page=3)
            seen += [item.number for item in page.items]
            if page.next_before is None:
                break
            before = page.next_before
    assert seen == newest_first
    assert shown_numbers(client.get("/gallery").text) == newest_first
    assert (
        shown_numbers(client.get(f"/gallery?before={newest_first[2]}").text) == (newest_first[3:])
    )
    assert shown_numbers(client.get("/gallery?before=nonsense").text) == newest_first


def test_a_changed_choice_applies_at_once(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    number = number_of(app, client_uuid)
    assert client.get(f"/gallery/{number}").status_code == 200
    assert client.get(f"/gallery/{number}/thumb.jpg").status_code == 200
    assert number in shown_numbers(client.get("/gallery").text)
    post_choices(client, token_of(app, client_uuid), training="y", credit="anonymous")
    assert client.get(f"/gallery/{number}").status_code == 404
    assert client.get(f"/gallery/{number}/thumb.jpg").status_code == 404
    assert number not in shown_numbers(client.get("/gallery").text)
