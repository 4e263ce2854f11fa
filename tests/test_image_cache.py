"""Images at versioned URLs are kept by browsers for a year, never by shared caches, and a
change of choice or a withdrawal takes effect at once anyway."""

from __future__ import annotations

import re
from contextlib import contextmanager

from flask import template_rendered

from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.helpers import post_choices, withdraw_through_the_page

YEAR = "max-age=31536000"


def image_url(html: str, suffix: str) -> str:
    match = re.search(rf'src="([^"]+/{re.escape(suffix)}\?v=[0-9a-f]{{16}})"', html)
    assert match, f"no versioned {suffix} in the page"
    return match.group(1)


def directives(response) -> set[str]:
    return {d.strip() for d in response.headers["Cache-Control"].split(",")}


def test_gallery_images_at_their_versioned_url_are_immutable_and_private(app, client):
    number = number_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    for page, suffix in ((client.get("/gallery").text, "thumb.jpg"),
                         (client.get(f"/gallery/{number}").text, "display.jpg")):  # fmt: skip
        response = client.get(image_url(page, suffix))
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert directives(response) == {"private", YEAR, "immutable"}
        assert "public" not in response.headers["Cache-Control"]


def test_unversioned_or_stale_image_urls_are_revalidated_every_time(app, client):
    number = number_of(app, make_encounter(app, photo=small_jpeg()))
    for url in (f"/gallery/{number}/thumb.jpg", f"/gallery/{number}/thumb.jpg?v=0123456789abcdef"):
        response = client.get(url)
        assert response.status_code == 200
        assert directives(response) == {"private", "no-cache"}


def test_a_changed_choice_gives_the_image_a_new_url(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    before = image_url(client.get(f"/p/{token}").text, "drawing.jpg")
    assert post_choices(client, token, gallery="y", credit="anonymous").status_code == 302
    after = image_url(client.get(f"/p/{token}").text, "drawing.jpg")
    assert after != before
    assert directives(client.get(after)) == {"private", YEAR, "immutable"}
    assert "no-cache" in directives(client.get(before))  # the old URL is not kept any more
    assert b"Ana Lima" not in client.get(before).data  # ...and serves the current bytes


def test_a_withdrawn_drawing_is_gone_at_every_versioned_url_at_once(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    thumb = image_url(client.get("/gallery").text, "thumb.jpg")
    display = image_url(client.get(f"/gallery/{number}").text, "display.jpg")
    drawing = image_url(client.get(f"/p/{token}").text, "drawing.jpg")
    assert withdraw_through_the_page(client, token).status_code == 302
    assert client.get(thumb).status_code == 404
    assert client.get(display).status_code == 404
    assert client.get(drawing).status_code == 410


def test_collector_log_thumbnails_are_versioned_too(app, client, logged_in):
    make_encounter(app, photo=small_jpeg())
    page = client.get("/encounters").text
    match = re.search(r'src="(/encounters/[^"]+/photo/thumb\?v=[0-9a-f]{16})"', page)
    assert match
    assert directives(client.get(match.group(1))) == {"private", YEAR, "immutable"}


@contextmanager
def templates_rendered(app):
    """The names of the templates `app` renders inside the block, through Flask's own
    `template_rendered` signal."""
    names: list[str] = []

    def note(sender, template, context, **extra):
        names.append(template.name)

    with template_rendered.connected_to(note, app):
        yield names


def test_the_reused_gallery_page_shows_a_changed_credit_and_a_withdrawal_at_once(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima")
    token, visitor = token_of(app, client_uuid), app.test_client()
    first = visitor.get("/gallery").text
    assert "Ana Lima" in first
    with templates_rendered(app) as rendered:
        again = visitor.get("/gallery").text
    assert rendered == [] and again == first  # the same page, reused: no template rendered
    with templates_rendered(app) as rendered:  # another input: rendered, the signal is heard
        assert "Ana Lima" in visitor.get("/gallery?before=nonsense").text
    assert rendered == ["gallery/index.html"]
    assert post_choices(client, token, gallery="y", credit="anonymous").status_code == 302
    changed = visitor.get("/gallery").text
    assert "Ana Lima" not in changed and "Anonymous" in changed
    assert withdraw_through_the_page(client, token).status_code == 302
    assert "No drawing is in the gallery yet." in visitor.get("/gallery").text


def test_a_collectors_gallery_page_is_never_reused_for_a_visitor(app, client, logged_in):
    make_encounter(app, photo=small_jpeg())
    for _ in range(2):  # rendered for the collector every time, never kept
        with templates_rendered(app) as rendered:
            assert "Log out" in client.get("/gallery").text
        assert rendered == ["gallery/index.html"]
    visitor = app.test_client()
    assert "Log out" not in visitor.get("/gallery").text
    with templates_rendered(app) as rendered:
        assert "Log out" not in visitor.get("/gallery").text
    assert rendered == []  # the visitor's page is kept, the collector's was not
