"""Photo files as private objects in an S3-compatible bucket (FIELDAPP_MEDIA_URL=s3://...).

Objects are named `<prefix>/<name>`, `name` as the folder store names files (by content hash).
Nothing is public: no ACL is set, so objects are private to the bucket's owner, and the app
streams every image itself, adding the drawer's rights on the way out (signals/responses.py).
Each PUT carries its Content-MD5, so the server refuses bytes damaged on the way, and the
file's SHA-256 as metadata, so `media migrate` can check a copy without downloading it.

Any failure to reach the store (refused, timed out, a 5xx, a full bucket) is
StorageUnavailable: the request answers 503 with Retry-After and stores nothing. A missing
object is FileNotFoundError, as for a folder.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fieldapp.media.storage import MediaStore, StorageUnavailable, StoredFile

#: Seconds to wait for the store to accept a connection and to answer. Short: a phone waits
#: on the other end, and a store that does not answer soon is treated as down (503).
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
#: For what must fail fast when the store hangs: does an object exist (asked before every
#: write), the images pages show (read()), /healthz's look, and deletions (a deletion the
#: store does not take is queued and done later: media/services.py remove_unreferenced()).
#: One try each.
QUICK_TIMEOUT = 2
#: Errors an S3 server answers for "this object is not there".
_MISSING = {"404", "NoSuchKey", "NotFound"}
#: A 404 that is the store's fault, not the object's: the bucket itself is not there (a typo in
#: FIELDAPP_MEDIA_URL, or deleted). A HEAD cannot tell the two apart (no body), so deletions
#: ask check() first (media/services.py).
_NO_BUCKET = "NoSuchBucket"
#: Errors that mean "the bucket is full" (507, like a full disk).
_FULL = {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage", "507"}


def client_config(*, quick: bool = False) -> Config:
    """boto3's settings for any S3-compatible server, AWS's own included."""
    return Config(
        connect_timeout=QUICK_TIMEOUT if quick else CONNECT_TIMEOUT,
        read_timeout=QUICK_TIMEOUT if quick else READ_TIMEOUT,
        # Two tries in all (one for a quick question): a dropped connection is retried once, a
        # dead store is 503 quickly. `total_max_attempts`, not `max_attempts`: in a client's
        # Config, botocore reads max_attempts as retries after the first try, so 1 made two
        # tries of a quick question (4 s, not 2, on a store that hangs) and 2 made three.
        retries={"total_max_attempts": 1 if quick else 2, "mode": "standard"},
        # Path-style URLs (endpoint/bucket/key) work on every server; virtual hosts need DNS.
        s3={"addressing_style": "path"},
        # Checksums only where the API requires them: newer boto3 adds CRC32 trailers that
        # several S3-compatible servers refuse. Content-MD5 is sent by write_as() itself.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=32,
    )


@cache
def _client(endpoint_url: str | None, quick: bool):
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, config=client_config(quick=quick))


_clients_lock = threading.Lock()


def s3_store(bucket: str, prefix: str, endpoint_url: str | None) -> S3Store:
    """The store for this bucket and prefix, sharing one client per endpoint per process."""
    with _clients_lock:  # boto3 clients are thread-safe, their creation is not
        client, quick = _client(endpoint_url, False), _client(endpoint_url, True)
    return S3Store(client, bucket, prefix, quick_client=quick)


class S3Store(MediaStore):
    """Files as objects of `bucket` under `prefix`."""

    def __init__(self, client, bucket: str, prefix: str = "", *, quick_client=None):
        self.client = client
        self.quick_client = quick_client or client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return self.prefix + name

    def write_as(self, name: str, data: bytes) -> StoredFile:
        if self.exists(name):
            return StoredFile(name, created=False)
        self._put(name, data)
        return StoredFile(name, created=True)

    def replace(self, name: str, data: bytes) -> None:
        self._put(name, data)  # a PUT replaces an object whole, atomically

    def _put(self, name: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        with _unavailable_on_failure():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(name),
                Body=data,
                ContentMD5=md5,
                ContentType=_content_type(name),
                Metadata={"sha256": hashlib.sha256(data).hexdigest()},
            )

    def read(self, name: str) -> bytes:
        """The object's bytes. Display images, thumbnails and their reduced copies are read
        with the quick client: a page asks for dozens, each holding a server thread while it
        waits, so a store that hangs must cost each 2 s, not 20, before its 503. An archive
        (megabytes, read by exports, framing and migrations) gets the patient one."""
        client = self.client if name.startswith("archive/") else self.quick_client
        with _unavailable_on_failure(missing=name):
            answer = client.get_object(Bucket=self.bucket, Key=self.key(name))
            return answer["Body"].read()

    def exists(self, name: str) -> bool:
        try:
            self._head(name)
        except FileNotFoundError:
            return False
        return True

    def _head(self, name: str) -> dict:
        with _unavailable_on_failure(missing=name):
            return self.quick_client.head_object(Bucket=self.bucket, Key=self.key(name))

    def sha256(self, name: str) -> str:
        """The SHA-256 the object was written with (its metadata), else of its bytes."""
        stated = self._head(name).get("Metadata", {}).get("sha256")
        return stated or super().sha256(name)

    def remove(self, name: str) -> None:
        with _unavailable_on_failure():
            self.quick_client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def names(self, folder: str) -> Iterator[str]:
        found: list[str] = []
        with _unavailable_on_failure():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.key(folder.rstrip("/") + "/")
            )
            for page in pages:
                found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        yield from sorted(found)

    def is_empty(self) -> bool:
        with _unavailable_on_failure():
            answer = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        return not answer.get("Contents")

    def check(self) -> None:
        """The bucket answers (HEAD bucket)."""
        with _unavailable_on_failure():
            self.quick_client.head_bucket(Bucket=self.bucket)


def _content_type(name: str) -> str:
    return {"png": "image/png", "jpg": "image/jpeg"}.get(name.rpartition(".")[2], "text/plain")


@contextmanager
def _unavailable_on_failure(missing: str | None = None) -> Iterator[None]:
    """Turn boto3's failures into the store's: FileNotFoundError for a missing object (when
    `missing` names it), StorageUnavailable for anything else."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if missing is not None and code != _NO_BUCKET and (code in _MISSING or status == "404"):
            raise FileNotFoundError(missing) from None
        raise StorageUnavailable(
            RuntimeError(f"the object store answered {code or status}"),
            full=code in _FULL or status == "507",
        ) from error
    except (BotoCoreError, ConnectionError, TimeoutError) as error:
        raise StorageUnavailable(
            RuntimeError(f"the object store cannot be reached ({error})")
        ) from error
