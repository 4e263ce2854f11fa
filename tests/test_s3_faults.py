"""The object store dies, hangs or restarts under a running app: no drawing lost, doubled or left
behind (issue 20).

Real parts only: SeaweedFS's `weed` as the S3 store (tests/seaweed.py, one per module, a fresh
bucket per test), the app under gunicorn with the shipped config (tests/helpers.py `Gunicorn`),
two servers sharing one PostgreSQL database and one bucket where a scenario needs several. The
store is killed with SIGKILL and paused with SIGSTOP, as a machine that dies or a cloud store that
hangs. What is asserted is what the phone, the drawer and the operator see, then the rows of the
database and the objects of the bucket.

The seconds the phone waited for its 503s are printed (run with `-s -p no:xdist` to see them):
the shipped gunicorn timeout (60 s) is each request's own time limit here, never a timed
assertion.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fieldapp import create_app
from fieldapp.auth.services import create_api_token, create_collector
from fieldapp.extensions import db
from fieldapp.media.images import SIZED_WIDTHS
from fieldapp.media.services import sized_name
from fieldapp.media.storage import RETRY_AFTER_SECONDS
from tests.conftest import app_config, csrf_token_from
from tests.factories import encounter_data
from tests.helpers import Gunicorn, multipart
from tests.netproxy import NetProxy
from tests.photo_corpus import camera_jpeg
from tests.seaweed import SeaweedServer, start_seaweed

#: The objects' prefix in each test's bucket: FIELDAPP_MEDIA_URL=s3://<bucket>/media.
PREFIX = "media"
#: The shipped gunicorn timeout (gunicorn.conf.py): no answer may take longer.
GUNICORN_TIMEOUT = 60


@pytest.fixture(scope="module")
def weed() -> Iterator[SeaweedServer]:
    server = start_seaweed()
    yield server
    server.stop()


@pytest.fixture
def bucket(weed) -> Iterator[str]:
    """A fresh bucket; afterwards the store runs again, whatever the test left it in."""
    yield weed.new_bucket()
    if weed.process is None or weed.process.poll() is not None:
        weed.start()
    else:
        weed.resume()


@pytest.fixture(scope="module")
def prepared_database(postgres_server, migrated_postgres, tmp_path_factory) -> tuple[str, str]:
    """(name, API token): a migrated database with the collector's account and a token, made
    once per module; each test's servers share a copy of it (copied in a fraction of a second,
    where migrating a database for each test took seconds)."""
    name = f"s3faults_{uuidlib.uuid4().hex}"
    url = postgres_server.create_database(name, template=migrated_postgres)
    app = create_app(app_config(tmp_path_factory.mktemp("s3faults"), SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        token = create_api_token(db.session, create_collector(db.session, "max", "a long password"))
        db.session.commit()
        db.engine.dispose()
    return name, token


@pytest.fixture
def app_servers(
    tmp_path, weed, bucket, postgres_server, prepared_database
) -> Iterator[Callable[..., list[Gunicorn]]]:
    """`app_servers(count, endpoint=)`: that many gunicorn servers of the app, started, sharing
    one fresh PostgreSQL database and this test's bucket (reached at `endpoint`, by default
    weed's own S3 port). All are stopped at the end."""
    started: list[Gunicorn] = []
    template, token = prepared_database
    database_url = postgres_server.create_database(
        f"s3faults_{uuidlib.uuid4().hex}", template=template
    )

    def start(count: int = 2, endpoint: str | None = None) -> list[Gunicorn]:
        env = {**weed.env(), "FIELDAPP_MEDIA_URL": f"s3://{bucket}/{PREFIX}"}
        if endpoint is not None:
            env["FIELDAPP_S3_ENDPOINT_URL"] = endpoint
        servers = []
        for index in range(count):
            root = tmp_path / f"server-{index}"
            root.mkdir()
            servers.append(
                Gunicorn(root, workers=2, database_url=database_url, env=env, token=token)
            )
        started.extend(servers)
        with ThreadPoolExecutor(count) as starting:
            list(starting.map(Gunicorn.start, servers))
        return servers

    yield start
    if weed.process is not None and weed.process.poll() is None:
        weed.resume()  # a paused store would hold up the servers' graceful stop
    for server in started:
        server.stop()


def photo(variant: int = 0, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A camera-like JPEG; each `variant` is a different file (two drawings never share one)."""
    return camera_jpeg(orientation=1, gps=True, size=size, quality=86 + variant)


class Answer:
    """What the phone got back for one upload, and how long it waited."""

    def __init__(self, status: int, headers: dict[str, str], body: dict, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def __repr__(self) -> str:
        return f"<{self.status} after {self.seconds:.2f} s: {self.body}>"


def upload(server: Gunicorn, client_uuid: str, body: bytes) -> Answer:
    """The phone's PUT of an encounter, waiting at most gunicorn's own timeout."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=GUNICORN_TIMEOUT)
    try:
        connection.request(
            "PUT", f"/api/v1/encounters/{client_uuid}", body=body, headers=server.headers(body)
        )
        response = connection.getresponse()
        answer = Answer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            json.loads(response.read()),
            time.monotonic() - started,
        )
    finally:
        connection.close()
    return answer


def get(server: Gunicorn, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=GUNICORN_TIMEOUT)


def assert_refused_for_now(answer: Answer) -> None:
    """A 503 the phone understands: retry later, nothing was stored."""
    assert answer.status == 503, answer
    assert answer.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert "Nothing was lost from your phone" in answer.body["error"]


def objects(weed: SeaweedServer, bucket: str) -> list[str]:
    """The bucket's objects, named as the photo rows name them."""
    return [key.removeprefix(f"{PREFIX}/") for key in weed.keys(bucket, f"{PREFIX}/")]


def referenced(server: Gunicorn) -> list[str]:
    """Every file name the photo rows hold."""
    rows = server.query("SELECT archive_name, display_name, thumb_name FROM photos")
    return sorted(name for row in rows for name in row)


def rows_of(server: Gunicorn, client_uuid: str) -> tuple[int, int]:
    """(encounters, photos) stored for this UUID."""
    encounters = server.query("SELECT uuid FROM encounters")
    photos = server.query(
        "SELECT encounters.uuid FROM photos JOIN encounters ON photos.encounter_id = encounters.id"
    )
    return encounters.count((client_uuid,)), photos.count((client_uuid,))


def pending_removals(server: Gunicorn) -> list[str]:
    return sorted(name for (name,) in server.query("SELECT name FROM pending_removals"))


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def restart_store(weed: SeaweedServer, bucket: str) -> None:
    """Start the killed store again; start() returns once it stores and gives back an object
    (after a restart its volume server takes a few seconds more than its S3 gateway)."""
    weed.start()


# 1. The store killed mid-upload ---------------------------------------------------------


def test_the_store_killed_in_the_middle_of_a_photo_upload_stores_nothing_and_the_retry_one_set(
    weed, bucket, app_servers
):
    # The app reaches the store through a slow network (500 kB/s) so that the archive's
    # several-MB PUT is still on its way, whatever the machine's load, when weed is killed.
    with NetProxy(weed.s3) as network:
        (server,) = app_servers(1, endpoint=network.url)
        client_uuid = str(uuidlib.uuid4())
        body = multipart(encounter_data(), camera_jpeg(orientation=6, gps=True, quality=95))
        assert len(body) > 3_000_000
        network.set_mode("slow", delay=0, bandwidth=500_000)
        answers: list[Answer] = []
        phone = threading.Thread(target=lambda: answers.append(upload(server, client_uuid, body)))
        phone.start()

        def archive_on_its_way() -> bool:
            return any(
                line.startswith(f"PUT /{bucket}/{PREFIX}/archive/")
                for _, line in network.request_lines
            )

        wait_until(archive_on_its_way, "the archive's PUT to the store")
        weed.kill()
        killed = time.monotonic()
        phone.join()
        (answer,) = answers
        print(f"\nstore killed mid-upload: 503 {time.monotonic() - killed:.2f} s after the kill")
        assert_refused_for_now(answer)
        assert rows_of(server, client_uuid) == (0, 0)
        sent = [line for _, line in network.request_lines if line.startswith("PUT ")]
        assert len(sent) == 1, sent  # the kill came during the archive: nothing else was sent

        network.set_mode("pass")
        restart_store(weed, bucket)  # the same folder: what the store held before is kept
        retried = upload(server, client_uuid, body)  # the phone's retry: same UUID, same bytes
        assert retried.status == 201, retried
        again = upload(server, client_uuid, body)
        assert (again.status, again.body["number"]) == (200, retried.body["number"])
        assert rows_of(server, client_uuid) == (1, 1)
        assert (server.count("encounters"), server.count("photos")) == (1, 1)
        names = referenced(server)
        assert [name.split("/")[0] for name in names] == ["archive", "display", "thumb"]
        assert objects(weed, bucket) == names  # one set: none missing, no orphan

        assert "Removed 0 unused photo file(s)." in server.sweep()
        assert objects(weed, bucket) == names
        assert pending_removals(server) == []


# 2. The store paused during a withdrawal ------------------------------------------------


def test_a_withdrawal_while_the_store_hangs_is_done_at_once_and_its_files_deleted_later(
    weed, bucket, app_servers
):
    first, second = app_servers(2)
    drawing = upload(first, str(uuidlib.uuid4()), multipart(encounter_data(), photo(0)))
    assert drawing.status == 201, drawing
    token, number = drawing.body["token"], drawing.body["number"]
    # A phone asked the other server for a reduced copy: it is one of the drawing's files too.
    assert get(second, f"/p/{token}/drawing.jpg?w={SIZED_WIDTHS[0]}").status_code == 200
    names = referenced(first)
    sized = sized_name(names[1], SIZED_WIDTHS[0])
    assert objects(weed, bucket) == sorted([*names, sized])
    drawing_urls = [f"/p/{token}/drawing.jpg", f"/p/{token}/thumb.jpg", f"/gallery/{number}"]
    for server in (first, second):
        for url in [*drawing_urls, f"/gallery/{number}/display.jpg"]:
            assert get(server, url).status_code == 200, (server.url, url)

    drawer = requests.Session()
    confirm = drawer.get(f"{second.url}/p/{token}/withdraw", timeout=GUNICORN_TIMEOUT)
    assert "cannot be undone" in confirm.text
    weed.pause()  # the store accepts connections and never answers
    started = time.monotonic()
    done = drawer.post(
        f"{second.url}/p/{token}/withdraw",
        data={"csrf_token": csrf_token_from(confirm.text)},
        allow_redirects=False,
        timeout=GUNICORN_TIMEOUT,
    )
    print(f"\nwithdrawal with the store paused: answered in {time.monotonic() - started:.2f} s")
    assert done.status_code == 302, done.text
    assert done.headers["Location"].endswith(f"/p/{token}")
    page = drawer.get(f"{second.url}{done.headers['Location']}", timeout=GUNICORN_TIMEOUT)
    assert "Your drawing is withdrawn. Its photos are deleted from this site." in page.text

    # Gone from every server at once, while the store still hangs.
    for server in (first, second):
        tombstone = get(server, f"/p/{token}")
        assert tombstone.status_code == 200 and "Withdrawn" in tombstone.text
        assert "drawing.jpg" not in tombstone.text and "thumb.jpg" not in tombstone.text
        assert get(server, f"/p/{token}/drawing.jpg").status_code == 410
        assert get(server, f"/p/{token}/drawing.jpg?w={SIZED_WIDTHS[0]}").status_code == 410
        assert get(server, f"/p/{token}/thumb.jpg").status_code == 410
        assert get(server, f"/gallery/{number}").status_code == 404
        assert get(server, f"/gallery/{number}/display.jpg").status_code == 404
        assert get(server, "/gallery").status_code == 200
        assert f"/gallery/{number}" not in get(server, "/gallery").text
    assert first.count("photos") == 0
    # A phone's upload meanwhile gets its 503 as soon as the store's first answer is late.
    waiting, body = str(uuidlib.uuid4()), multipart(encounter_data(), photo(1))
    hung = upload(first, waiting, body)
    print(f"upload with the store paused: 503 in {hung.seconds:.2f} s")
    assert_refused_for_now(hung)
    assert rows_of(first, waiting) == (0, 0)
    assert get(second, "/healthz").json()["store"] == "unavailable"
    # Nothing names the files any more; the deletions the store did not take wait their turn
    # (a display file's reduced copies are named whether they were made or not).
    every_copy = [sized_name(names[1], width) for width in SIZED_WIDTHS]
    assert pending_removals(first) == sorted([*names, *every_copy])

    weed.resume()
    assert objects(weed, bucket) == sorted([*names, sized])  # still there, unserved
    retried = upload(first, waiting, body)
    assert retried.status == 201, retried  # the store takes files again: the deletions too
    assert pending_removals(first) == []
    assert objects(weed, bucket) == referenced(first)
    assert len(referenced(first)) == 3


# 3. The store restarted under a running app ---------------------------------------------


def test_uploads_wait_while_the_store_restarts_and_everything_recovers_by_itself(
    weed, bucket, app_servers
):
    (server,) = app_servers(1)
    before = upload(server, str(uuidlib.uuid4()), multipart(encounter_data(), photo(0)))
    assert before.status == 201, before
    token = before.body["token"]
    assert get(server, "/healthz").json()["store"] == "ok"
    assert get(server, f"/p/{token}/drawing.jpg").status_code == 200

    weed.kill()
    client_uuid, body = str(uuidlib.uuid4()), multipart(encounter_data(), photo(1))
    refused = [upload(server, client_uuid, body) for _ in range(3)]  # the phone tries again
    print("\nstore down: 503s in " + ", ".join(f"{a.seconds:.2f}" for a in refused) + " s")
    for answer in refused:
        assert_refused_for_now(answer)
    assert rows_of(server, client_uuid) == (0, 0)
    health = get(server, "/healthz")
    assert health.status_code == 200  # a load balancer keeps the server: uploads get 503s
    assert health.json() == {"status": "ok", "database": "ok", "store": "unavailable"}
    image = get(server, f"/p/{token}/drawing.jpg")
    assert image.status_code == 503
    assert image.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert get(server, f"/p/{token}").status_code == 200  # the page itself needs no store

    restart_store(weed, bucket)  # gunicorn is not: its S3 client connects again by itself
    health = get(server, "/healthz")
    assert health.json() == {"status": "ok", "database": "ok", "store": "ok"}
    image = get(server, f"/p/{token}/drawing.jpg")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert get(server, f"/p/{token}/drawing.jpg?w={SIZED_WIDTHS[0]}").status_code == 200
    after = upload(server, client_uuid, body)
    assert after.status == 201, after
    assert (server.count("encounters"), server.count("photos")) == (2, 2)
    display = server.query("SELECT display_name FROM photos ORDER BY id")[0][0]
    assert objects(weed, bucket) == sorted(
        [*referenced(server), sized_name(display, SIZED_WIDTHS[0])]
    )


# 4. Ten identical uploads across two servers --------------------------------------------


def test_ten_identical_puts_across_two_servers_store_one_encounter_and_one_set_of_objects(
    weed, bucket, app_servers
):
    servers = app_servers(2)
    client_uuid, body = str(uuidlib.uuid4()), multipart(encounter_data(), photo(0))
    barrier = threading.Barrier(10)
    answers: list[Answer] = []

    def send(server: Gunicorn) -> None:
        barrier.wait()
        answers.append(upload(server, client_uuid, body))

    phones = [threading.Thread(target=send, args=(servers[i % 2],)) for i in range(10)]
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join()
    assert sorted(answer.status for answer in answers) == [200] * 9 + [201], answers
    assert len({answer.body["number"] for answer in answers}) == 1
    assert rows_of(servers[0], client_uuid) == (1, 1)
    assert (servers[0].count("encounters"), servers[0].count("photos")) == (1, 1)
    names = referenced(servers[0])
    assert len(names) == 3
    assert objects(weed, bucket) == names
    assert pending_removals(servers[0]) == []
