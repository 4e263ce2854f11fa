"""Two app servers on different ports, sharing one PostgreSQL database and one S3 bucket, behave
as one app: a drawing uploaded through one is read, changed and withdrawn through the other,
the login limit counts across both, and what each process keeps for itself never shows a
visitor something the other server would not.

What each process keeps, and why a second server cannot make it wrong:
- the gallery's rendered HTML (fieldapp/web/rendered.py): keyed by the rows its query returns on
  every request, so a withdrawal or a changed choice is a new key on every server at once
  (test_a_drawing_uploaded_through_one_server_...: both servers had the page before);
- links and fragments (fieldapp/web/templating.py): keyed by endpoint, values and prefix, which
  are the same on every server of one deployment; consent texts (participants.consent_shown):
  keyed by the version's id and SHA-256, and a published version never changes (database
  triggers); built queries, icons, the OpenAPI document and the service worker's precache
  list (@cache): made from the code and static files alone. test_every_server_gives_the_same_...
  shows their pages are byte for byte the same on both servers;
- the S3 client (media/s3.py) and the login limit's storage (auth/login_limit.py): connections
  to the shared services, not data.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid as uuidlib

import pytest
import requests
import yaml

from fieldapp.media.xmp import DMI_ALLOWED, DMI_PROHIBITED_AIMLTRAINING
from tests.app_cluster import CADDYFILE, AppCluster, Visitor, app_cluster
from tests.conftest import csrf_token_from
from tests.factories import encounter_data
from tests.helpers import (
    BROWSER_PASSWORD,
    ROOT,
    assert_no_camera_metadata,
    jpeg_xmp,
    multipart,
    rights_in,
    taken_jpeg,
    withdraw_through_the_page,
)
from tests.seaweed import SeaweedServer, start_seaweed

LOGIN_LIMIT = 3


@pytest.fixture(scope="module")
def seaweed():
    server = start_seaweed()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def new_database(postgres_server, migrated_postgres):
    """A function making a fresh migrated PostgreSQL database; returns its URL."""
    return lambda: postgres_server.create_database(
        f"servers_{uuidlib.uuid4().hex}", template=migrated_postgres
    )


#: The servers stand behind a load balancer (here: the test), which passes the client's address
#: on in X-Forwarded-For; the login limit is small.
BEHIND_A_BALANCER = {
    "FIELDAPP_PROXY_HOPS": "1",
    "FIELDAPP_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per 15 minutes",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, new_database, seaweed):
    """Two servers counting failed logins in their database, the default."""
    with app_cluster(
        tmp_path_factory.mktemp("two-servers"),
        database_url=new_database(),
        seaweed=seaweed,
        env=BEHIND_A_BALANCER,
    ) as running:
        yield running


@pytest.fixture(params=["database", "redis"])
def counting_cluster(request, tmp_path, new_database, seaweed):
    """The two servers above, or two counting failed logins in a Redis of their own."""
    if request.param == "database":
        yield request.getfixturevalue("cluster")
        return
    with app_cluster(
        tmp_path, database_url=new_database(), seaweed=seaweed, redis=True, env=BEHIND_A_BALANCER
    ) as running:
        yield running


#: A colour for each photo: the same photo twice would be refused as another's drawing.
COLOURS = ((40 * n % 256, 90, 255 - 40 * n % 256) for n in itertools.count())


def upload(server, **fields) -> dict:
    """A drawing sent by the phone to `server` (the API), its photo with EXIF and GPS."""
    photo = taken_jpeg("2026:05:17 13:00:00", color=next(COLOURS))
    body = multipart(encounter_data(**fields), photo)
    status, answer = server.put(str(uuidlib.uuid4()), body)
    assert status == 201, answer
    return answer


def fresh(server, path: str, **kwargs) -> requests.Response:
    """One request on a new connection (no keep-alive): each may reach another worker."""
    return requests.get(server.url + path, allow_redirects=False, timeout=30, **kwargs)


def image_urls(html: str, token: str) -> list[str]:
    """The participant page's image URLs (src and srcset), versioned by the drawer's choices."""
    found = re.findall(rf"/p/{token}/drawing\.jpg\?v=[0-9a-f]+(?:&amp;w=\d+)?", html)
    assert found, "no drawing on the participant page"
    return sorted({url.replace("&amp;", "&") for url in found})


def gallery_lists(server, number: int, times: int = 6) -> set[bool]:
    """Whether the gallery page lists drawing #number, asked `times` over new connections, which
    the server's workers take turns at accepting (fieldapp/web/workers.py): each worker keeps
    rendered pages of its own."""
    return {f'href="/gallery/{number}"' in fresh(server, "/gallery").text for _ in range(times)}


def test_a_drawing_uploaded_through_one_server_is_read_changed_and_withdrawn_through_the_other(
    cluster: AppCluster,
):
    a, b = cluster.servers
    kept = upload(b, credit={"name": "Ines Duarte"})  # another drawing, which stays
    objects_of_kept = cluster.objects()
    assert objects_of_kept, "the photo should be in the bucket"

    answer = upload(a, credit={"name": "Ana Lima"})
    token, number = answer["token"], answer["number"]
    assert answer["participant_url"] == f"{a.url}/p/{token}"  # no public URL set: the host's

    # Read through B: the page, and the image with the drawer's rights in its XMP.
    page = fresh(b, f"/p/{token}")
    assert page.status_code == 200 and "Ana Lima" in page.text
    image = fresh(b, image_urls(page.text, token)[0])
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert rights_in(jpeg_xmp(image.content)) == (DMI_PROHIBITED_AIMLTRAINING, ["Ana Lima"])
    assert_no_camera_metadata(image.content)
    for server in (a, b):  # the workers of both servers render the gallery with it
        assert gallery_lists(server, number) == {True}
        assert gallery_lists(server, kept["number"]) == {True}

    # Changed through B, by a phone whose form came from A (one browser, balanced between them:
    # the same secret key signs its session and CSRF token on both).
    phone = requests.Session()
    form = Visitor(phone, a.url).get(f"/p/{token}/choices")
    saved = Visitor(phone, b.url).post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf_token_from(form.text), "gallery": "y", "training": "y",
              "credit": "name", "credit_name": "Ana L."},
    )  # fmt: skip
    assert saved.status_code == 302, saved.text
    page = fresh(a, f"/p/{token}")
    assert "Ana L." in page.text and "Ana Lima" not in page.text
    for url in image_urls(page.text, token):  # new URLs: the choices are in their version
        assert rights_in(jpeg_xmp(fresh(a, url).content)) == (DMI_ALLOWED, ["Ana L."])
    for server in (a, b):
        shown = {fresh(server, "/gallery").text for _ in range(6)}
        assert all("Ana L." in html and "Ana Lima" not in html for html in shown)
    old_urls = image_urls(page.text, token)

    # Withdrawn through B: at once gone from A, and from every worker's gallery on both.
    assert withdraw_through_the_page(Visitor(phone, b.url), token).status_code == 302
    assert "Withdrawn" in fresh(a, f"/p/{token}").text
    for url in old_urls:
        assert fresh(a, url).status_code == 410  # the participant's link says it was withdrawn
    assert fresh(a, f"/gallery/{number}").status_code == 404
    assert fresh(a, f"/gallery/{number}/display.jpg").status_code == 404
    assert fresh(a, f"/gallery/{number}/thumb.jpg").status_code == 404
    for server in (a, b):
        assert gallery_lists(server, number) == {False}
        assert gallery_lists(server, kept["number"]) == {True}
    # Its photos are deleted from the shared bucket within the request; the other's stay, and
    # no server kept a copy of either on its own disk.
    assert cluster.objects() == objects_of_kept
    assert cluster.local_media_files() == []


def test_a_collector_logged_in_through_one_server_is_logged_in_on_the_other(
    cluster: AppCluster,
):
    a, b = cluster.servers
    browser = requests.Session()
    login = Visitor(browser, a.url).get("/login")
    signed_in = Visitor(browser, b.url).post(
        "/login",
        data={"username": "max", "password": BROWSER_PASSWORD,
              "csrf_token": csrf_token_from(login.text)},
    )  # fmt: skip
    assert signed_in.status_code == 302, signed_in.text
    for server in (a, b):
        page = Visitor(browser, server.url).get("/encounters")
        assert page.status_code == 200  # not sent to /login
        assert "Log out" in page.text


def test_every_server_gives_the_same_bytes_for_what_it_keeps_per_process(cluster: AppCluster):
    """Pages and files made from per-process memos are byte for byte the same on both servers:
    a phone balanced between them sees one app. A service worker script that differed would
    make the phone reinstall the app whenever it reached the other server."""
    a, b = cluster.servers
    token = upload(a, credit={"name": "Lou Marchetti"})["token"]
    paths = [
        f"/p/{token}", "/gallery", "/sw.js", "/manifest.webmanifest", "/icons/icon-192.png",
        "/api/v1/openapi.json", "/pamphlet", "/offline",
    ]  # fmt: skip
    # The Host a load balancer passes on: the participant link is made from it (no public URL).
    visitor = {"headers": {"Host": "portraits.example.org"}}
    for path in paths:
        first = fresh(a, path, **visitor)
        assert first.status_code == 200, path
        for server in (a, b, b):
            assert fresh(server, path, **visitor).content == first.content, path


def test_the_login_limit_counts_failures_on_both_servers_together(counting_cluster):
    """Wrong passwords from one address, sent to the two servers in turn, are refused after the
    limit in total, not per server: counted in the shared database by default, or in Redis when
    FIELDAPP_RATELIMIT_STORAGE_URI is set (then nothing is written to the database)."""
    servers = counting_cluster.servers
    address = {"X-Forwarded-For": "198.51.100.7"}

    def log_in(index: int, password: str) -> int:
        visitor = Visitor(requests.Session(), servers[index % 2].url)
        form = visitor.get("/login", headers=address)
        answer = visitor.post(
            "/login",
            headers=address,
            data={"username": "max", "password": password,
                  "csrf_token": csrf_token_from(form.text)},
        )  # fmt: skip
        return answer.status_code

    statuses = [log_in(index, "not the password") for index in range(LOGIN_LIMIT + 3)]
    # 400: checked, and wrong. The fourth goes to B, which had seen one failure of the three.
    assert statuses == [400] * LOGIN_LIMIT + [429] * 3
    assert [log_in(index, BROWSER_PASSWORD) for index in (0, 1)] == [429, 429]
    in_database = counting_cluster.count("login_failures")
    assert in_database == (0 if counting_cluster.redis_url else LOGIN_LIMIT)


# compose.yaml and docs/DEPLOY.md run what these tests run ---------------------------------------

DEPLOY = (ROOT / "docs" / "DEPLOY.md").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_two_servers_sharing_what_the_tests_share():
    services = COMPOSE["services"]
    app, app2, storage, proxy = (services[n] for n in ("app", "app2", "storage", "proxy"))
    # One definition for both: the same database, bucket, keys, secret key and proxy.
    assert app2["environment"] == app["environment"] and app2["build"] == app["build"]
    assert app2["profiles"] == ["two-servers"] and set(storage["profiles"]) >= {"two-servers"}
    assert app2["depends_on"]["app"] == {"condition": "service_healthy"}  # after the migrations
    # Every variable the test servers are given is set by compose, and explained in the docs.
    seaweed = SeaweedServer()
    try:
        shared = {"FIELDAPP_SECRET_KEY", "FIELDAPP_MEDIA_URL", "FIELDAPP_DATABASE_URL",
                  "FIELDAPP_RATELIMIT_STORAGE_URI", "FIELDAPP_PROXY_HOPS", "FIELDAPP_PUBLIC_URL",
                  *seaweed.env()}  # fmt: skip
        s3_json = json.loads(seaweed.config.read_text())
    finally:
        shutil.rmtree(seaweed.root)
    assert shared <= set(app["environment"])
    for name in shared | {"FIELDAPP_UPSTREAMS", "FIELDAPP_C2PA_DIR"}:
        assert f"`{name}" in DEPLOY, name
    # The store: SeaweedFS as tests/seaweed.py runs it, its s3.json of the same shape.
    assert storage["image"].startswith("chrislusf/seaweedfs:")
    words = storage["command"].split()
    (config,) = storage["configs"]
    assert words[0] == "server" and {"-s3", "-filer", f"-s3.config={config['target']}"} <= set(
        words
    )
    content = COMPOSE["configs"][config["source"]]["content"]
    written = json.loads(re.sub(r"\$\{(\w+):-\}", r"\1", content))
    assert written["identities"][0]["actions"] == s3_json["identities"][0]["actions"]
    assert written["identities"][0]["credentials"] == [
        {"accessKey": "AWS_ACCESS_KEY_ID", "secretKey": "AWS_SECRET_ACCESS_KEY"}
    ]
    # Caddy shares requests among FIELDAPP_UPSTREAMS, as in the docs' two-servers step.
    assert proxy["environment"]["FIELDAPP_UPSTREAMS"] == "${FIELDAPP_UPSTREAMS:-app:8000}"
    assert "reverse_proxy {$FIELDAPP_UPSTREAMS:app:8000}" in CADDYFILE.read_text()
    assert 'FIELDAPP_UPSTREAMS="app:8000 app2:8000"' in DEPLOY
    example = (ROOT / "docker" / "env.example").read_text()
    for name in ("FIELDAPP_MEDIA_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert f"#{name}=" in example


def test_the_docs_command_creates_the_bucket(seaweed):
    """The bucket is created once, by the command of docs/DEPLOY.md, run as the app container
    would run it (its environment, the app's own S3 client settings)."""
    (command,) = re.findall(
        r'docker compose exec app python -c ("[^"]*create_bucket[^"]*")', DEPLOY
    )
    environment = {**os.environ, **seaweed.env()}
    subprocess.run(
        [sys.executable, "-c", *shlex.split(command)], env=environment, check=True, timeout=60
    )
    assert "fieldapp" in {bucket["Name"] for bucket in seaweed.client().list_buckets()["Buckets"]}
