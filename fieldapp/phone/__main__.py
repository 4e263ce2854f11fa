"""`make run-phone`: the app on this laptop, for the phone on the same wifi.

Starts Caddy (HTTPS from its own certificate authority, on the laptop's LAN address) in front
of the app (flask's server on 127.0.0.1), prints the setup address while no account exists and
a QR code that opens the trust page on the phone, and stops both on Ctrl-C.

Settings, from the environment (the Makefile passes its own):
  PHONE_HOST          the address the phone reaches (default: this laptop's address on the wifi)
  PHONE_HTTPS_PORT    Caddy's HTTPS port, the app's address on the phone (default 8443)
  PHONE_HTTP_PORT     Caddy's plain HTTP port, the trust page's (default 8080)
  PHONE_APP_PORT      the app's own port on 127.0.0.1 (default 5000, as `make run`)
  PHONE_INSTANCE_DIR  where Caddy's configuration, log and certificate authority are kept
                      (default: the app's instance folder, instance/)
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fieldapp.phone.services import (
    PhoneSite,
    caddy_data_dir,
    caddyfile,
    lan_address,
    root_certificate_path,
    terminal_qr,
)

#: How long Caddy and the app each get to start, and to stop before they are killed.
START_SECONDS = 30
STOP_SECONDS = 10


#: Linux's prctl(PR_SET_PDEATHSIG): the signal a child gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _stop_with_us() -> None:
    """In each child before it runs: SIGTERM it if run-phone itself dies without stopping it
    (killed with SIGKILL), so that no Caddy keeps the ports and the next run can start."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class StartFailed(Exception):
    """Caddy or the app did not start; the message says why, for the terminal."""


def site_from_environment(env: dict[str, str]) -> PhoneSite:
    return PhoneSite(
        host=env.get("PHONE_HOST") or lan_address(),
        https_port=_port(env, "PHONE_HTTPS_PORT", 8443),
        http_port=_port(env, "PHONE_HTTP_PORT", 8080),
        app_port=_port(env, "PHONE_APP_PORT", 5000),
    )


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StartFailed(f"{name} must be a port number, got {raw!r}")
    return int(raw)


class PhoneServers:
    """Caddy and the app, each in its own process group, so that Ctrl-C reaches only us and we
    stop them in order: the terminal never shows their tracebacks of an interrupted wait."""

    def __init__(self, site: PhoneSite, instance: Path):
        self.site = site
        self.instance = instance
        self.folder = instance / "phone"
        self.root_certificate = root_certificate_path(instance)
        self.caddy: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None

    def start_caddy(self) -> None:
        binary = shutil.which("caddy")
        if binary is None:
            raise StartFailed("Debian's caddy is missing: sudo apt-get install caddy")
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "Caddyfile"
        config.write_text(caddyfile(self.site))
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(caddy_data_dir(self.instance)),
            "XDG_CONFIG_HOME": str(self.folder / "config"),
        }
        with (self.folder / "caddy.log").open("ab") as log:
            # Our own command line: the caddy on PATH and a Caddyfile we wrote.
            self.caddy = subprocess.Popen(  # noqa: S603
                [binary, "run", "--config", str(config), "--adapter", "caddyfile"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=_stop_with_us,
            )  # fmt: skip

    def start_app(self) -> None:
        env = {
            **os.environ,
            "FIELDAPP_PUBLIC_URL": self.site.https_url,
            "FIELDAPP_PROXY_HOPS": "1",  # Caddy: the scheme the phone used, its address
            "FIELDAPP_PHONE_ROOT_CERT": str(self.root_certificate),
        }
        command = [sys.executable, "-m", "flask", "--app", "fieldapp", "run"]
        self.app = subprocess.Popen(  # noqa: S603 - this Python, fixed arguments
            [*command, "--host", "127.0.0.1", "--port", str(self.site.app_port)],
            env=env, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_stop_with_us,
        )  # fmt: skip

    def start(self) -> None:
        """Both at once (each takes seconds), then wait until both answer."""
        self.start_caddy()
        self.start_app()
        assert self.caddy is not None and self.app is not None
        self._wait(self.caddy, self._caddy_serves_tls, "Caddy", self.folder / "caddy.log")
        self._wait(self.app, self._app_answers, "The app", None)

    def _wait(self, process: subprocess.Popen, ready, name: str, log: Path | None) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StartFailed(f"{name} stopped at start.{_tail(log)}")
            if ready():
                return
            time.sleep(0.1)
        raise StartFailed(f"{name} did not answer within {START_SECONDS} s.{_tail(log)}")

    def _caddy_serves_tls(self) -> bool:
        if not self.root_certificate.exists():
            return False
        context = ssl.create_default_context(cafile=str(self.root_certificate))
        host = self.site.host
        try:
            with (
                socket.create_connection((host, self.site.https_port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return True
        except (OSError, ssl.SSLError):
            return False

    def _app_answers(self) -> bool:
        url = f"http://{self.site.upstream}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
                return response.status == 200
        except OSError:
            return False

    def wait(self) -> int:
        """Until Ctrl-C (0), or until one of them stops by itself (1)."""
        while True:
            for name, process in (("Caddy", self.caddy), ("The app", self.app)):
                if process is not None and process.poll() is not None:
                    print(f"{name} stopped (exit status {process.returncode}).", file=sys.stderr)
                    return 1
            time.sleep(0.5)

    def stop(self) -> None:
        """The app first (no request is left half-proxied), then Caddy; SIGKILL if either hangs."""
        for process in (self.app, self.caddy):
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    lines = log.read_text(errors="replace").splitlines()[-8:]
    return f" The end of {log}:\n" + "\n".join(lines)


def announcement(site: PhoneSite, *, needs_setup: bool, colour: bool) -> str:
    """What the terminal shows once both servers answer."""
    from fieldapp.first_run import notice

    parts = []
    if site.host.startswith("127."):
        parts.append(
            f"\n{site.host} is this laptop's own address: no phone reaches it. Join the wifi and"
            " start again,\nor name the laptop's address on it: make run-phone PHONE_HOST=...\n"
        )
    if needs_setup:
        parts.append(notice(f"{site.https_url}/setup").rstrip("\n"))
        parts.append(
            f"On this laptop, http://127.0.0.1:{site.app_port}/setup opens it without any"
            " certificate;\non the phone, trust the certificate first (the page below).\n"
        )
    parts.append(
        "On your phone, on the same wifi as this laptop: scan this code with the camera. It opens"
        "\nthe page that installs this laptop's certificate, then the app.\n"
    )
    parts.append(terminal_qr(site.trust_page_url, colour=colour))
    parts.append(f"That page:           {site.trust_page_url}")
    parts.append(
        f"The app (HTTPS):     {site.https_url}/   (once the phone trusts the certificate)"
    )
    parts.append("\nCtrl-C stops Caddy and the app.\n")
    return "\n".join(parts)


def _interrupt(_signal_number, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    from fieldapp import create_app
    from fieldapp.config import ConfigError
    from fieldapp.first_run import needs_setup

    try:
        site = site_from_environment(dict(os.environ))
        app = create_app()
    except (ConfigError, StartFailed) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    instance = Path(os.environ.get("PHONE_INSTANCE_DIR") or app.instance_path)
    servers = PhoneServers(site, instance)
    # Ctrl-C, a plain `kill` and a closed terminal all end the wait below and stop the servers
    # in order (SIGINT even when whatever started us ignored it, as a shell does for its
    # background jobs): they run in their own process groups, which the terminal does not reach.
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signal_number, _interrupt)
    try:
        servers.start()
        print(announcement(site, needs_setup=needs_setup(app), colour=sys.stdout.isatty()))
        sys.stdout.flush()
        return servers.wait()
    except StartFailed as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Caddy and the app.", flush=True)
        return 0
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
