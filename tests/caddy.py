"""Debian's Caddy in front of the app for the tests: HTTPS from its own internal CA (`tls
internal`) on 127.0.0.1, load-balancing one or more app servers.

Caddy keeps its CA and certificates under XDG_DATA_HOME, here a temp folder of ours:
`root_certificate` is the PEM a browser (or a phone) must trust; `spki_hash()` the SHA-256 of
the key of the intermediate that signs the sites' certificates, for Chromium's
`--ignore-certificate-errors-spki-list`: Chromium then treats the chain Caddy presents (site and
intermediate) as valid, so service workers register, as on a phone that trusts the CA.
The admin endpoint is off and nothing is installed into the system's trust store.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def caddy_binary() -> str | None:
    return shutil.which("caddy")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proxy_site(address: str, upstreams: list[str]) -> str:
    """A Caddyfile site: HTTPS on `address` ("127.0.0.1:8443") from the internal CA, passing
    every request to `upstreams` ("127.0.0.1:5001"...) in turn, a failed one skipped."""
    return (
        f"https://{address} {{\n"
        "\ttls internal\n"
        f"\treverse_proxy {' '.join(upstreams)} {{\n"
        "\t\tlb_policy round_robin\n"
        "\t\tlb_try_duration 5s\n"
        "\t\thealth_uri /healthz\n"
        "\t\thealth_interval 2s\n"
        "\t}\n"
        "}\n"
    )


class Caddy:
    """One `caddy run` with the given sites; `https_port` and `http_port` are its own."""

    def __init__(self, sites: str, *, https_port: int | None = None, root: Path | None = None):
        self.root = root or Path(tempfile.mkdtemp(prefix="fieldapp-caddy-"))
        self.https_port = https_port or free_port()
        self.http_port = free_port()
        self.caddyfile = self.root / "Caddyfile"
        self.caddyfile.write_text(
            "{\n"
            "\tadmin off\n"
            "\tskip_install_trust\n"
            f"\thttp_port {self.http_port}\n"
            f"\thttps_port {self.https_port}\n"
            "}\n\n" + sites
        )
        self.process: subprocess.Popen | None = None

    @property
    def root_certificate(self) -> Path:
        return self.root / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "HOME": str(self.root),
        }

    def start(self, wait_for: str = "127.0.0.1") -> None:
        """Start Caddy and wait until it serves TLS on `https_port` of `wait_for`."""
        binary = caddy_binary()
        if binary is None:
            message = "Debian's caddy is not installed (apt-get install caddy; make test does)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        log = (self.root / "caddy.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "run", "--config", str(self.caddyfile), "--adapter", "caddyfile"],
            env=self.env(), cwd=self.root, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("caddy stopped:\n" + self.log())
            if self.root_certificate.exists() and self._tls_answers(wait_for):
                return
            time.sleep(0.1)
        pytest.fail("caddy never served TLS:\n" + self.log())

    def _tls_answers(self, host: str) -> bool:
        context = ssl.create_default_context(cafile=str(self.root_certificate))
        try:
            with (
                socket.create_connection((host, self.https_port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return True
        except (OSError, ssl.SSLError):
            return False

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this Caddy's root, and only it."""
        return ssl.create_default_context(cafile=str(self.root_certificate))

    def spki_hash(self) -> str:
        """base64 SHA-256 of the intermediate's SubjectPublicKeyInfo (Chromium's SPKI list)."""
        intermediate = self.root_certificate.with_name("intermediate.crt")
        certificate = x509.load_pem_x509_certificate(intermediate.read_bytes())
        spki = certificate.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def log(self) -> str:
        path = self.root / "caddy.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
