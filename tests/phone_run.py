"""The run-phone program (`make run-phone`, or `python -m fieldapp.phone` alone) started as the
artist starts it, for the tests that meet it in a browser (tests/test_run_phone.py in Chromium,
tests/test_phone_webkit.py in WebKit). The program finds this machine's address on its network
itself, as on the artist's laptop (`LAN`: 127.0.0.1 only on a machine with no network), and
the browsers reach Caddy there; every port is a free one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fieldapp.phone.services import lan_address
from tests.checkout import KEEP_VENV, newcomer_env
from tests.helpers import ROOT, free_port

READY = "Ctrl-C stops Caddy and the app."
#: Where Caddy listens: the address run-phone finds for itself, as a phone on the wifi reaches it.
LAN = lan_address()
MAKE = shutil.which("make")


@dataclass
class RunPhone:
    """One run-phone (`make run-phone` in a checkout, or `python -m fieldapp.phone`), its
    terminal output and its instance folder."""

    instance: Path
    command: list[str]
    cwd: Path
    env: dict[str, str]
    https_port: int
    http_port: int
    process: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)

    @classmethod
    def through_make(cls, checkout: Path) -> RunPhone:
        """`make run-phone PORT=...` in a throwaway checkout, as the artist types it."""
        if MAKE is None:
            missing("GNU make")
        https_port, http_port, app_port = free_port(), free_port(), free_port()
        env = newcomer_env(PHONE_HTTPS_PORT=str(https_port), PHONE_HTTP_PORT=str(http_port))
        command = [MAKE, "--no-print-directory", *KEEP_VENV, "run-phone", f"PORT={app_port}"]
        return cls(checkout / "instance", command, checkout, env, https_port, http_port)

    @classmethod
    def program(cls, root: Path) -> RunPhone:
        """`python -m fieldapp.phone` on the migrated database and instance folder `root`."""
        https_port, http_port, app_port = free_port(), free_port(), free_port()
        env = {
            **newcomer_env(),
            "FIELDAPP_DATABASE_URL": f"sqlite:///{root / 'fieldapp.sqlite3'}",
            "FIELDAPP_MEDIA_DIR": str(root / "media"),
            "FIELDAPP_C2PA_DIR": str(root / "c2pa"),
            "FIELDAPP_SECRET_KEY": "run-phone test secret",
            "PHONE_HTTPS_PORT": str(https_port),
            "PHONE_HTTP_PORT": str(http_port),
            "PHONE_APP_PORT": str(app_port),
            "PHONE_INSTANCE_DIR": str(root),
        }
        command = [sys.executable, "-m", "fieldapp.phone"]
        return cls(root, command, ROOT, env, https_port, http_port)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def authority(self) -> Path:
        return self.instance / "caddy" / "caddy" / "pki" / "authorities" / "local"

    @property
    def root_certificate(self) -> Path:
        return self.authority / "root.crt"

    @property
    def https_url(self) -> str:
        return f"https://{LAN}:{self.https_port}"

    @property
    def trust_page_url(self) -> str:
        return f"http://{LAN}:{self.http_port}/phone"

    def start(self) -> None:
        if shutil.which("caddy") is None:
            missing("Debian's caddy (apt-get install caddy; make test does)")
        # Its own session, as a terminal's foreground job: Ctrl-C goes to the whole group.
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8",
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 120
        while READY not in self.output:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("run-phone did not start:\n" + self.output)
            time.sleep(0.1)

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def runner(self) -> int:
        """The run-phone program's process: make's child (the recipe `exec`s it), or ours."""
        assert self.process is not None
        if self.command[0] == MAKE:
            (child,) = children_of(self.process.pid)
            return child
        return self.process.pid

    def servers(self) -> list[int]:
        """The processes run-phone started (Caddy and the app), by their parent."""
        return children_of(self.runner())

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the terminal's foreground group. The exit status."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            servers = self.servers()
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            for pid in servers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)  # each runs in its own process group


def missing(what: str) -> None:
    message = f"{what} is not installed"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
