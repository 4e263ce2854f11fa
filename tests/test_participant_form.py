"""The choices form of the participant page is plain template HTML on GET: it must still be
exactly the form ChoicesForm validates, carry a working CSRF token, and keep what the drawer typed
when a POST is refused."""

from __future__ import annotations

import re

from fieldapp.consent.forms import ChoicesForm
from fieldapp.participants.forms import CHOICE_WORDS
from tests.factories import make_encounter, small_jpeg, token_of


def inputs(html: str) -> dict[str, list[str]]:
    """name -> the <input> tags of that name, in the choices form."""
    form = re.search(r'<form method="post" action="/p/[^"]+/choices".*?</form>', html, re.S).group(
        0
    )
    found: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        found.setdefault(re.search(r'name="([^"]+)"', tag).group(1), []).append(tag)
    return found


def test_the_plain_form_has_every_field_of_choices_form_and_its_words(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    html = client.get(f"/p/{token}").text
    fields = inputs(html)
    with app.test_request_context():
        expected = {f.name for f in ChoicesForm()}
    assert set(fields) == expected
    for _name, label in CHOICE_WORDS.toggles:
        assert f"<span>{label}</span>" in html
    for _value, label in CHOICE_WORDS.credit_options:
        assert f"<span>{label}</span>" in html
    assert "checked" in fields["gallery"][0] and "checked" not in fields["training"][0]
    assert [("checked" in tag) for tag in fields["credit"]] == [False, True]
    assert 'value="Ana Lima"' in fields["credit_name"][0]
    assert re.search(r'name="csrf_token" type="hidden" value="[^"]{20,}"', html)


def test_the_token_of_the_plain_form_is_accepted(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    html = client.get(f"/p/{token}").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf, "training": "y", "credit": "name", "credit_name": "Bo"},
    )
    assert response.status_code == 302
    fields = inputs(client.get(f"/p/{token}").text)
    assert "checked" in fields["training"][0] and "checked" not in fields["gallery"][0]
    assert 'value="Bo"' in fields["credit_name"][0]


def test_a_refused_post_shows_what_was_sent_and_the_error(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    html = client.get(f"/p/{token}").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    name = "x" * 101 + '"><script>'
    response = client.post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf, "social": "y", "credit": "name", "credit_name": name},
    )
    assert response.status_code == 422
    fields = inputs(response.text)
    assert "checked" in fields["social"][0] and "checked" not in fields["gallery"][0]
    assert [("checked" in tag) for tag in fields["credit"]] == [False, True]
    assert "&#34;&gt;&lt;script&gt;" in fields["credit_name"][0]
    assert '<div class="field has-error">' in response.text
    assert "<script>" not in response.text.split("<main", 1)[1]
