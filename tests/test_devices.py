"""Signed-in devices and API tokens: named, listed on /account, revocable one by one or all at
once ("lost phone"), cut off at once by a revocation or a new password; and the `token` CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from fieldapp.auth.devices import ago, device_name, revoke_device
from fieldapp.auth.models import ApiToken, Collector, Device, Role
from fieldapp.database import utcnow, write_transaction
from fieldapp.extensions import db
from tests.conftest import PASSWORD, AuthActions, csrf_token_from

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
NEW_PASSWORD = "a brand new password"


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (IPHONE, "Safari on iPhone"),
        (PIXEL, "Chrome on Android"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
         "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/17.4 Safari/605.1.15", "Safari on Mac"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
         "Firefox on Linux"),
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
         " Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPad"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)  # fmt: skip
def test_a_device_is_named_as_people_say_it(agent, name):
    assert device_name(agent) == name


def test_times_read_at_a_glance():
    now = utcnow()
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert ago(now - timedelta(minutes=59), now) == "59 minutes ago"
    assert ago(now - timedelta(hours=3), now) == "3 hours ago"
    assert ago(now - timedelta(days=1, hours=2), now) == "yesterday"
    assert ago(now - timedelta(days=12), now) == "12 days ago"
    assert ago(now - timedelta(days=90), now).startswith("on ")


def login_as(app, agent: str = PIXEL, username: str = "max", password: str = PASSWORD):
    """A new browser (test client) logged in through the real form; returns (client, auth)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    auth = AuthActions(app, client)
    response = auth.login(username, password)
    assert response.status_code == 302, response.text
    return client, auth


def devices_of(app, username: str = "max") -> list[Device]:
    with app.app_context():
        collector = db.session.scalar(select(Collector).where(Collector.username == username))
        return list(db.session.scalars(select(Device).where(Device.collector_id == collector.id)))


def make_token(app, label: str = "Laptop import script", username: str = "max") -> str:
    from fieldapp.auth.services import create_api_token

    with app.app_context():
        collector = db.session.scalar(select(Collector).where(Collector.username == username))
        token = create_api_token(db.session, collector, label=label)
        db.session.commit()
    return token


def api_status(client, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return client.get("/api/v1/consent/current", headers=headers).status_code


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


# Login makes a device; logout revokes it ------------------------------------------------------


def test_login_records_the_device_and_names_the_session_after_it(app, auth):
    auth.create_collector()
    client, _ = login_as(app, IPHONE)
    [device] = devices_of(app)
    assert device.name == "Safari on iPhone" and device.revoked_at is None
    with client.session_transaction() as session:
        collector_id, generation, device_id = session["_user_id"].split(".")
    assert int(device_id) == device.id


def test_logout_revokes_only_that_device(app, auth):
    auth.create_collector()
    phone, phone_auth = login_as(app, PIXEL)
    laptop, _ = login_as(app, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0")
    phone.post("/logout", data={"csrf_token": phone_auth.csrf_token()})
    assert not signed_in(phone)
    assert signed_in(laptop)  # another device's login is its own
    revoked = [device.name for device in devices_of(app) if device.revoked_at is not None]
    assert revoked == ["Chrome on Android"]


def test_a_session_from_before_devices_becomes_a_device_of_its_own(app, auth, client):
    """An "id.generation" cookie of the current generation is adopted as a device (listed and
    revocable): an update does not send the artist back to the login form in the field."""
    collector_id = auth.create_collector()
    client.environ_base["HTTP_USER_AGENT"] = IPHONE
    with client.session_transaction() as session:
        session["_user_id"] = f"{collector_id}.0"
        session["_fresh"] = True
    assert signed_in(client)
    with client.session_transaction() as session:
        assert session["_user_id"].count(".") == 2
    assert "Safari on iPhone" in client.get("/account").text
    assert signed_in(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Device)) == 1
    # Revoked like any device: the cookie is refused at once.
    with app.app_context():
        device_id = db.session.scalar(select(Device.id))
        with write_transaction(db.session):
            revoke_device(db.session, collector_id, device_id)
    assert not signed_in(client)


def test_a_session_from_before_a_logout_is_not_adopted(app, auth, client):
    collector_id = auth.create_collector()
    with app.app_context(), write_transaction(db.session):
        db.session.get(Collector, collector_id).login_generation += 1
    with client.session_transaction() as session:
        session["_user_id"] = f"{collector_id}.0"
        session["_fresh"] = True
    assert not signed_in(client)


# The account page -------------------------------------------------------------------------


def test_the_account_page_lists_devices_and_tokens_and_marks_this_one(app, auth):
    auth.create_collector()
    login_as(app, IPHONE)
    phone, _ = login_as(app, PIXEL)
    make_token(app, "Laptop import script")
    page = phone.get("/account")
    assert page.status_code == 200
    html = page.text
    assert "Safari on iPhone" in html and "Chrome on Android" in html
    assert html.count('class="badge">This device') == 1
    this = html.index('class="badge">This device')
    assert html.rindex("Chrome on Android", 0, this) > html.rfind("Safari on iPhone", 0, this)
    assert "Laptop import script" in html and "never used" in html
    assert "Signed in just now" in html
    assert "Sign out everywhere else" in html
    # Linked from the menu.
    assert 'href="/account"' in phone.get("/").text


def test_revoking_a_device_ends_its_session_at_once(app, auth):
    auth.create_collector()
    stolen, _ = login_as(app, IPHONE)
    mine, mine_auth = login_as(app, PIXEL)
    remember = stolen.get_cookie("remember_token").value
    [iphone] = [device for device in devices_of(app) if device.name == "Safari on iPhone"]
    response = mine.post(
        f"/account/devices/{iphone.id}/revoke", data={"csrf_token": mine_auth.csrf_token()}
    )
    assert response.status_code == 302
    assert not signed_in(stolen)
    # Nor does its remember cookie bring it back.
    stolen.delete_cookie("session")
    stolen.set_cookie("remember_token", remember)
    assert not signed_in(stolen)
    assert signed_in(mine)
    assert "Safari on iPhone" not in mine.get("/account").text


def test_nobody_revokes_another_accounts_device_or_token(app, auth):
    auth.create_collector()
    auth.create_collector("ana", PASSWORD)
    ana, _ = login_as(app, IPHONE, username="ana")
    ana_token = make_token(app, "Ana's script", username="ana")
    max_client, max_auth = login_as(app, PIXEL)
    [ana_device] = devices_of(app, "ana")
    with app.app_context():
        ana_token_id = db.session.scalar(
            select(ApiToken.id).where(ApiToken.label == "Ana's script")
        )
    csrf = {"csrf_token": max_auth.csrf_token()}
    assert max_client.post(f"/account/devices/{ana_device.id}/revoke", data=csrf).status_code == 404
    assert max_client.post(f"/account/tokens/{ana_token_id}/revoke", data=csrf).status_code == 404
    assert signed_in(ana) and api_status(max_client, ana_token) == 200
    assert "Ana" not in max_client.get("/account").text


def test_revoking_a_token_refuses_it_at_once(app, logged_in, client):
    token = make_token(app, "Old laptop")
    assert api_status(client, token) == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    page = client.get("/account")
    assert f"/account/tokens/{token_id}/revoke" in page.text
    client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token_from(page.text)}
    )
    assert api_status(app.test_client(), token) == 401
    assert "Old laptop" not in client.get("/account").text


def test_sign_out_everywhere_else_cuts_off_every_other_device_and_token(app, auth):
    auth.create_collector()
    lost, _ = login_as(app, IPHONE)
    laptop, _ = login_as(app, "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Safari/537.36")
    token = make_token(app)
    mine, mine_auth = login_as(app, PIXEL)
    response = mine.post("/account/sign-out-elsewhere", data={"csrf_token": mine_auth.csrf_token()})
    assert response.status_code == 302
    assert "2 devices and 1 API token cut off" in mine.get("/account").text
    assert not signed_in(lost) and not signed_in(laptop)
    assert api_status(app.test_client(), token) == 401
    assert signed_in(mine)
    assert [d.name for d in devices_of(app) if d.revoked_at is None] == ["Chrome on Android"]


def test_changing_the_password_keeps_this_device_and_cuts_off_the_rest(app, auth):
    auth.create_collector()
    other, _ = login_as(app, IPHONE)
    token = make_token(app)
    mine, mine_auth = login_as(app, PIXEL)
    response = mine.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": mine_auth.csrf_token(),
        },
    )
    assert response.status_code == 302
    assert signed_in(mine)
    assert not signed_in(other)
    assert api_status(app.test_client(), token) == 401
    assert AuthActions(app, app.test_client()).login().status_code == 400  # the old one
    login_as(app, IPHONE, password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", NEW_PASSWORD, NEW_PASSWORD, "The current password is wrong."),
        (PASSWORD, "short", "short", "Use at least 10 characters."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The passwords differ."),
        ("", NEW_PASSWORD, NEW_PASSWORD, "This field is required."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, logged_in, client, current, new, confirm, message
):
    from tests.helpers import database_snapshot

    token = make_token(app)
    before = database_snapshot(app)
    response = client.post(
        "/account/password",
        data={
            "current": current,
            "password": new,
            "confirm": confirm,
            "csrf_token": logged_in.csrf_token(),
        },
    )
    assert response.status_code == 400
    assert message in response.text
    after = database_snapshot(app)
    after.pop("login_failures"), before.pop("login_failures")  # a wrong guess is counted
    assert after == before
    assert signed_in(client) and api_status(client, token) == 200


def test_a_helper_changes_its_own_password_and_sees_its_own_devices(app, auth):
    auth.create_collector()
    helper_id = auth.create_collector("lu", PASSWORD)
    with app.app_context():
        db.session.execute(
            update(Collector).where(Collector.id == helper_id).values(role=Role.HELPER)
        )
        db.session.commit()
    helper, helper_auth = login_as(app, IPHONE, username="lu")
    login_as(app, PIXEL)  # the collector's own phone
    page = helper.get("/account")
    assert page.status_code == 200
    assert "Safari on iPhone" in page.text and "Chrome on Android" not in page.text
    assert 'href="/account"' in helper.get("/").text  # in a helper's menu too
    response = helper.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token_from(page.text),
        },
    )
    assert response.status_code == 302 and helper.get("/account").status_code == 200
    login_as(app, PIXEL, username="lu", password=NEW_PASSWORD)
    login_as(app, PIXEL)  # the collector's password did not change


# Last seen and last used: written now and then, not on every request -------------------------


def test_last_seen_is_written_at_most_every_few_minutes(app, logged_in, client):
    [device] = devices_of(app)
    first_seen = device.last_seen_at
    for _ in range(3):
        assert signed_in(client)
    assert devices_of(app)[0].last_seen_at == first_seen
    a_while_ago = utcnow() - timedelta(minutes=6)
    with app.app_context():
        db.session.execute(update(Device).values(last_seen_at=a_while_ago))
        db.session.commit()
    assert signed_in(client)
    assert devices_of(app)[0].last_seen_at > a_while_ago + timedelta(minutes=5)


def test_a_tokens_last_use_is_noted_now_and_then(app, api_token, client):
    def last_used():
        with app.app_context():
            return db.session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    assert api_status(client, api_token) == 200
    first = last_used()
    assert first is not None
    assert api_status(client, api_token) == 200
    assert last_used() == first
    with app.app_context():
        db.session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=6)))
        db.session.commit()
    assert api_status(client, api_token) == 200
    assert last_used() > first - timedelta(minutes=1)


# flask --app fieldapp token ... ------------------------------------------------------------


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_token_create_with_a_label_then_list_and_revoke(app, auth, client):
    auth.create_collector()
    created = run(app, "token", "create", "max", "--label", "Laptop import script")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert api_status(client, token) == 200
    listed = run(app, "token", "list", "max")
    assert listed.exit_code == 0
    header, row = listed.stdout.strip().splitlines()
    assert header.split() == ["ID", "CREATED", "LAST", "USED", "LABEL"]
    token_id = row.split()[0]
    assert row.endswith("Laptop import script") and utcnow().strftime("%Y-%m-%d") in row
    assert "never" not in row  # it was just used
    revoked = run(app, "token", "revoke", token_id)
    assert revoked.exit_code == 0 and f"Revoked API token {token_id}." in revoked.output
    assert api_status(client, token) == 401
    assert "has no API tokens" in run(app, "token", "list", "max").output


def test_token_revoke_all_of_a_user(app, auth, client):
    auth.create_collector()
    auth.create_collector("ana", PASSWORD)
    tokens = [make_token(app, f"script {n}") for n in range(2)]
    anas = make_token(app, "ana's", username="ana")
    result = run(app, "token", "revoke", "--all", "max")
    assert result.exit_code == 0 and "Revoked 2 API token(s) of 'max'." in result.output
    assert [api_status(client, token) for token in tokens] == [401, 401]
    assert api_status(client, anas) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "list", "nobody"), "No collector or helper named 'nobody'."),
        (("token", "create", "nobody", "--label", "x"), "No collector or helper named 'nobody'."),
        (("token", "revoke", "999"), "No API token with id 999."),
        (("token", "revoke", "abc"), "'abc' is not a token id"),
        (("token", "revoke", "--all", "nobody"), "No collector or helper named 'nobody'."),
        (("token", "create", "max", "--label", "x" * 101), "at most 100 characters"),
    ],
)
def test_token_commands_refuse_unknown_users_and_ids_clearly(app, auth, args, message):
    auth.create_collector()
    result = run(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's clean exit, not a crash


# The page on a phone ------------------------------------------------------------------------

SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"


@pytest.mark.browser
@pytest.mark.parametrize("device", ["360x640", "Pixel 7"])
def test_the_account_page_on_a_phone(browser, playwright, live_app, live_server, device):
    from playwright.sync_api import expect

    AuthActions(live_app, live_app.test_client()).create_collector()
    login_as(live_app, IPHONE)
    make_token(live_app, "Laptop import script")
    if device == "Pixel 7":
        options = {**playwright.devices["Pixel 7"]}
    else:
        options = {
            "viewport": {"width": 360, "height": 640},
            "has_touch": True,
            "user_agent": PIXEL,
        }
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("link", name="Account").click()
    page.wait_for_url(f"{live_server}/account")
    expect(page.get_by_text("This device", exact=True)).to_be_visible()
    name = device.replace(" ", "-").lower()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"account-{name}.png"), full_page=True)
    # Every control is a thumb's target, and nothing runs off the screen.
    width = page.viewport_size["width"]
    for control in page.locator("main button, main summary, main input").all():
        box = control.bounding_box()
        if box is None:  # inside a closed confirmation
            continue
        assert box["height"] >= 44, control.evaluate("e => e.outerHTML")
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    # A stray tap is not enough to cut a device off: it asks first.
    page.get_by_text("Sign out…").first.click()
    expect(page.get_by_text("Cancel").first).to_be_visible()
    page.screenshot(path=str(SCREENS / f"account-{name}-confirm.png"), full_page=True)
    page.get_by_role("button", name="Yes, sign out Safari on iPhone").click()
    expect(page.get_by_text("That device is signed out.")).to_be_visible()
    expect(page.get_by_text("Safari on iPhone")).to_have_count(0)
    context.close()
