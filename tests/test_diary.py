"""The diary: Markdown rendered and sanitised, #number links that follow consent, CSRF forms."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fieldapp.diary.models import DiaryEntry
from fieldapp.diary.services import PER_PAGE, save_entry
from fieldapp.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_encounter, number_of, small_jpeg

HOSTILE = """Tonight at the fair.

<script>alert("script")</script>

<img src=x onerror=alert("img")>

[a trap](javascript:alert("link")) and [another](JaVaScRiPt:alert(1)) and
<a href="javascript:alert(2)">raw</a> and [a real link](https://example.org/a?b=1).

![tracker](https://tracker.example/pixel.gif)
"""


def add_entry(app, body: str, *, public: bool = True, day: date = date(2026, 3, 1), title=""):
    with app.app_context():
        entry = save_entry(db.session, None, entry_date=day, title=title, body=body, public=public)
        return entry.id


def test_hostile_markdown_is_inert(app, client):
    add_entry(app, HOSTILE, title="<b>Title</b>")
    html = client.get("/diary").text
    body = html.split('<main id="main">')[1]
    assert "<script" not in body
    assert not re.search(r"<img", body)
    assert not re.search(r"<[^>]+\son\w+\s*=", body)  # no event-handler attribute on any tag
    assert not re.search(r"<a\s[^>]*href=\"\s*javascript:", body, re.IGNORECASE)
    assert '<a href="https://example.org/a?b=1" rel="nofollow noopener noreferrer">' in body
    assert "&lt;b&gt;Title&lt;/b&gt;" in body  # the title is text


def test_portrait_numbers_link_only_to_public_drawings_and_never_show_a_name(app, client):
    shown = number_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Visible"))
    hidden = number_of(
        app,
        make_encounter(
            app,
            photo=small_jpeg((10, 10, 200)),
            consent={"version": 1, "keep": True, "gallery": False, "training": False,
                     "social": False},
        ),
    )  # fmt: skip
    withdrawn = number_of(app, make_encounter(app, photo=small_jpeg((10, 200, 10)), withdrawn=True))
    add_entry(app, f"Drew #{shown}, #{hidden} and #{withdrawn}; not a number: a#{shown}, #x.")
    html = client.get("/diary").text
    assert re.search(rf'<a href="/gallery/{shown}"[^>]*>#{shown}</a>', html)
    assert f">#{hidden}<" not in html and f"#{hidden} and" in html  # plain text
    assert f">#{withdrawn}<" not in html and f"#{withdrawn};" in html
    assert f"a#{shown}" in html and html.count(f'href="/gallery/{shown}"') == 1
    assert "Ana Visible" not in html  # the link shows the number only


def test_private_entries_are_never_public(app, client):
    add_entry(app, "Public words", public=True)
    add_entry(app, "Secret words about my night", public=False)
    html = client.get("/diary").text
    assert "Public words" in html and "Secret words" not in html
    assert "Secret words" not in client.get("/diary?page=2").text


def test_newest_first_in_pages(app, client):
    for day in range(1, PER_PAGE + 3):
        add_entry(app, f"Entry of day {day:02d}", day=date(2026, 1, day))
    first = client.get("/diary").text
    assert first.count('class="diary-entry"') == PER_PAGE
    assert first.index("day 12") < first.index("day 11")
    second = client.get("/diary?page=2").text
    assert second.count('class="diary-entry"') == 2 and "day 01" in second
    assert client.get("/diary?page=99").status_code == 200  # clamped to the last page
    assert client.get("/diary?page=abc").status_code == 200


def test_collector_writes_edits_and_deletes(app, logged_in, client):
    form = client.get("/diary/new")
    assert form.status_code == 200 and "Names:" in form.text and "never a name" in form.text
    token = csrf_token_from(form.text)
    created = client.post(
        "/diary/new",
        data={"entry_date": "2026-03-02", "title": "Fair", "body": "First *day*", "public": "y",
              "csrf_token": token},
    )  # fmt: skip
    assert created.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(DiaryEntry))
        entry_id = entry.id
        assert (entry.title, entry.public, entry.entry_date) == ("Fair", True, date(2026, 3, 2))
    assert "<em>day</em>" in client.get("/diary").text
    edited = client.post(
        f"/diary/{entry_id}/edit",
        data={"entry_date": "2026-03-02", "title": "Fair", "body": "Changed", "csrf_token": token},
    )
    assert edited.status_code == 302
    assert "Changed" not in client.get("/diary").text  # unticked: now private
    assert "Changed" in client.get(f"/diary/{entry_id}/edit").text
    confirm = client.get(f"/diary/{entry_id}/delete")
    assert confirm.status_code == 200 and "Delete this entry?" in confirm.text
    with app.app_context():
        assert db.session.get(DiaryEntry, entry_id) is not None  # asking deletes nothing
    assert client.post(f"/diary/{entry_id}/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(DiaryEntry)) is None


def test_bad_and_forged_forms_change_nothing(app, logged_in, client):
    entry_id = add_entry(app, "Kept as it is")
    token = csrf_token_from(client.get("/diary/new").text)
    empty = client.post("/diary/new", data={"entry_date": "", "body": "", "csrf_token": token})
    assert empty.status_code == 400 and "Write something first." in empty.text
    bad_date = client.post(
        "/diary/new", data={"entry_date": "yesterday", "body": "x", "csrf_token": token}
    )
    assert bad_date.status_code == 400
    forged = client.post(f"/diary/{entry_id}/edit", data={"entry_date": "2026-01-01", "body": "x"})
    assert forged.status_code == 400
    assert client.post(f"/diary/{entry_id}/delete").status_code == 400
    assert client.get("/diary/999/edit").status_code == 404
    assert client.post("/diary/999/delete", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert [e.body for e in db.session.scalars(select(DiaryEntry))] == ["Kept as it is"]


@pytest.mark.browser
def test_hostile_entry_runs_nothing_in_a_browser(live_app, live_server, page):
    add_entry(live_app, HOSTILE)
    events = []
    page.on("dialog", lambda dialog: (events.append(("dialog", dialog.message)), dialog.dismiss()))
    page.on("console", lambda message: events.append(("console", message.text)))
    page.on("pageerror", lambda error: events.append(("pageerror", str(error))))
    page.goto(live_server + "/diary")
    for link in page.locator(".diary-body a").all():
        assert link.get_attribute("href").startswith("https://")
    page.wait_for_load_state("networkidle")
    assert events == []
    assert page.locator(".diary-body script, .diary-body img").count() == 0
