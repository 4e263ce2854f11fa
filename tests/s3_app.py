"""In-process apps whose photos live in a real S3 server (SeaweedFS, tests/seaweed.py).

Shared by the tests that run the app against a bucket. A test module takes the fixtures by
naming them at its top (`seaweed = s3_app.seaweed`, `s3_media = s3_app.s3_media`: imported by
name, ruff would see each test's argument as redefining the import):

    seaweed     one SeaweedFS server per test module (about 3.5 s to start), stopped after it
    s3_media    the session's `app` storing its photos in a fresh bucket for one test, under
                the prefix "media": FIELDAPP_MEDIA_URL and the AWS_* variables as an operator
                sets them, all put back afterwards; an S3Media (its keys, its objects' URLs)

and the plain helpers:

    s3_media_url(bucket, prefix)        the FIELDAPP_MEDIA_URL of a bucket
    s3_app_config(server, bucket, ...)  create_app() overrides for a bucket (with app_config())
    s3_app_env(server, bucket, ...)     the environment of a `flask` command or gunicorn
    anonymous_get(url)                  the status of an unsigned GET (no credentials at all)
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.seaweed import SeaweedServer, start_seaweed

#: The prefix the S3 tests keep their photos under: a bucket may hold other things beside them.
MEDIA_PREFIX = "media"


def s3_media_url(bucket: str, prefix: str = MEDIA_PREFIX) -> str:
    return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"


def s3_app_config(server: SeaweedServer, bucket: str, prefix: str = MEDIA_PREFIX) -> dict:
    """The app settings (create_app overrides) that put its photos in `bucket` under `prefix`.
    The credentials are not settings: they come from the AWS_* variables (server.env())."""
    return {"MEDIA_URL": s3_media_url(bucket, prefix), "S3_ENDPOINT_URL": server.endpoint}


def s3_app_env(server: SeaweedServer, bucket: str, prefix: str = MEDIA_PREFIX) -> dict[str, str]:
    """What a separate process of the app (a `flask` command, gunicorn) needs in its
    environment to keep its photos in `bucket`: FIELDAPP_MEDIA_URL, the endpoint, AWS_*."""
    return {"FIELDAPP_MEDIA_URL": s3_media_url(bucket, prefix), **server.env()}


@contextmanager
def media_in_bucket(
    app, server: SeaweedServer, bucket: str, prefix: str = MEDIA_PREFIX
) -> Iterator[None]:
    """For the block, `app` keeps its photos in `bucket`: its settings and this process's AWS_*
    variables (boto3 reads the credentials there) are set, then put back as they were."""
    settings = s3_app_config(server, bucket, prefix)
    saved_settings = {key: app.config.get(key) for key in settings}
    saved_env = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    app.config.update(settings)
    try:
        yield
    finally:
        app.config.update(saved_settings)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class S3Media:
    """The bucket an app keeps its photos in, looked at from outside the app."""

    server: SeaweedServer
    bucket: str
    prefix: str = MEDIA_PREFIX

    def keys(self) -> list[str]:
        """Every object key of the bucket (under any prefix), sorted."""
        return self.server.keys(self.bucket)

    def names(self) -> list[str]:
        """The store-relative names of the objects under the prefix ("display/ab/ab...jpg")."""
        start = f"{self.prefix}/" if self.prefix else ""
        return [key.removeprefix(start) for key in self.server.keys(self.bucket, start)]

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def object_bytes(self, name: str) -> bytes:
        answer = self.server.client().get_object(Bucket=self.bucket, Key=self.key(name))
        return answer["Body"].read()

    def object_url(self, name: str) -> str:
        """The object's plain URL on the S3 endpoint (path style), as a stranger would try it."""
        return f"{self.server.endpoint}/{self.bucket}/{self.key(name)}"


def anonymous_get(url: str) -> int:
    """The HTTP status of a GET without any signature or credentials."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedServer]:
    """A SeaweedFS server for the module's tests (each test takes a fresh bucket of it)."""
    server = start_seaweed()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(seaweed, monkeypatch) -> None:
    """The process reaches the bucket with the standard AWS_* variables, as a server does."""
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_media(app, seaweed) -> Iterator[S3Media]:
    """The session's `app` keeps this test's photos in a fresh bucket, under MEDIA_PREFIX.

    Requested after `_rolled_back` (autouse), which gives each test its own MEDIA_DIR: that
    folder must stay absent, nothing of a photo goes to the local disk.
    """
    media = S3Media(seaweed, seaweed.new_bucket())
    with media_in_bucket(app, seaweed, media.bucket, media.prefix):
        yield media
