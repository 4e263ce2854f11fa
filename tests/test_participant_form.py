"""The participant page sums the drawer's choices up and sets no cookie; the choices page one tap
away holds the form, which must carry a working CSRF token and keep what the drawer typed when a
POST is refused."""

from __future__ import annotations

import re

from fieldapp.consent.forms import ChoicesForm
from fieldapp.participants.forms import CHOICE_WORDS
from tests.factories import make_encounter, small_jpeg, token_of


def inputs(html: str) -> dict[str, list[str]]:
    """name -> the <input> tags of that name, in the choices form."""
    form = re.search(r'<form method="post" action="/p/[^"]+/choices".*?</form>', html, re.S)
    found: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(0)):
        found.setdefault(re.search(r'name="([^"]+)"', tag).group(1), []).append(tag)
    return found


def summary(html: str) -> dict[str, str]:
    """label -> "Yes" or "No", as the participant page sums the choices up."""
    block = re.search(r'<ul class="choice-summary">.*?</ul>', html, re.S).group(0)
    return {
        label.strip(): answer
        for answer, label in re.findall(r'<span class="answer \w+">(\w+)</span>([^<]+)</li>', block)
    }


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_participant_page_sums_the_choices_up_sets_no_cookie_and_links_the_form(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    response = client.get(f"/p/{token}")
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []  # nothing a stranger's phone keeps
    assert "<form" not in response.text and "csrf_token" not in response.text
    labels = dict(CHOICE_WORDS.toggles)
    assert summary(response.text) == {
        labels["gallery"]: "Yes",
        labels["training"]: "No",
        labels["social"]: "No",
        CHOICE_WORDS.credit_by_name: "Yes",
    }
    assert f'href="/p/{token}/choices">Change my choices</a>' in response.text


def test_the_choices_page_has_every_field_of_choices_form_filled_in(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    html = client.get(f"/p/{token}/choices").text
    fields = inputs(html)
    with app.test_request_context():
        expected = {f.name for f in ChoicesForm()}
    assert set(fields) == expected
    assert "checked" in fields["gallery"][0] and "checked" not in fields["training"][0]
    assert [("checked" in tag) for tag in fields["credit"]] == [False, True]
    assert 'value="Ana Lima"' in fields["credit_name"][0]
    assert len(csrf_of(html)) >= 20


def test_the_token_of_the_choices_page_is_accepted_and_the_summary_follows(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    html = client.get(f"/p/{token}/choices").text
    response = client.post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf_of(html), "training": "y", "credit": "name", "credit_name": "Bo"},
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{token}"
    page = client.get(f"/p/{token}").text
    assert "Saved. Your new choices apply from now on." in page
    labels = dict(CHOICE_WORDS.toggles)
    assert summary(page)[labels["gallery"]] == "No"
    assert summary(page)[labels["training"]] == "Yes"
    fields = inputs(client.get(f"/p/{token}/choices").text)
    assert "checked" in fields["training"][0] and "checked" not in fields["gallery"][0]
    assert 'value="Bo"' in fields["credit_name"][0]


def test_a_refused_post_shows_what_was_sent_and_the_error(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    html = client.get(f"/p/{token}/choices").text
    name = "x" * 101 + '"><script>'
    response = client.post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf_of(html), "social": "y", "credit": "name", "credit_name": name},
    )
    assert response.status_code == 422
    fields = inputs(response.text)
    assert "checked" in fields["social"][0] and "checked" not in fields["gallery"][0]
    assert [("checked" in tag) for tag in fields["credit"]] == [False, True]
    assert "&#34;&gt;&lt;script&gt;" in fields["credit_name"][0]
    assert '<div class="field has-error">' in response.text
    assert "<script>" not in response.text.split("<main", 1)[1]


def test_choices_that_can_no_longer_change_lead_back_to_the_page(app, client):
    not_kept = {"version": 1, "keep": False, "gallery": False, "training": False, "social": False}
    token = token_of(app, make_encounter(app, consent=not_kept))
    response = client.get(f"/p/{token}/choices")
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{token}"
    assert "These choices can no longer change." in client.get(f"/p/{token}").text
    assert "choice-summary" not in client.get(f"/p/{token}").text


def test_time_limits_read_as_words_on_the_participant_page(app, client):
    from fieldapp.encounters.views import duration

    assert [duration(s) for s in (None, 45, 120, 90)] == ["no limit", "45 s", "2 min", "1 min 30 s"]
    token = token_of(app, make_encounter(app, photo=small_jpeg(), time_limit_seconds=90))
    assert "<dt>Time limit</dt><dd>1 min 30 s</dd>" in client.get(f"/p/{token}").text
