"""The pieces of `make run-phone`: the laptop's address on the wifi, Caddy's configuration and
where its certificate authority lives, and the QR code printed in the terminal."""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass
from pathlib import Path

import qrcode

#: A private address to "connect" a UDP socket to: no packet is sent, but the system picks the
#: interface, and so the address, it would use to reach the local network.
_PROBE_ADDRESS = ("10.255.255.255", 1)


def lan_address() -> str:
    """This machine's IPv4 address on the local network (the wifi), or 127.0.0.1 with none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(_PROBE_ADDRESS)
            return probe.getsockname()[0]
        except OSError:  # no network at all: only this machine can reach it
            return "127.0.0.1"


@dataclass(frozen=True)
class PhoneSite:
    """Where the phone reaches the laptop: `host` (its LAN address), Caddy's two ports, and the
    port of the app behind Caddy on 127.0.0.1."""

    host: str
    https_port: int
    http_port: int
    app_port: int

    @property
    def https_url(self) -> str:
        """The app itself, for a phone that trusts the laptop's certificate authority."""
        return f"https://{self.host}:{self.https_port}"

    @property
    def trust_page_url(self) -> str:
        """The trust page over plain HTTP: the first thing a new phone opens (the QR code)."""
        return f"http://{self.host}:{self.http_port}/phone"

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.app_port}"


#: What plain HTTP serves: the trust page, its certificate, and what the page loads. Everything
#: else is the collector's and goes over HTTPS only.
TRUST_PAGE_PATHS = "/phone /phone/* /static/* /icons/* /manifest.webmanifest"


def caddyfile(site: PhoneSite) -> str:
    """Caddy's configuration: HTTPS from its internal CA in front of the app, and the trust page
    over plain HTTP, both on the LAN address only. No admin endpoint; nothing is added to this
    laptop's own trust store."""
    return (
        "{\n"
        "\tadmin off\n"
        "\tskip_install_trust\n"
        f"\thttp_port {site.http_port}\n"
        f"\thttps_port {site.https_port}\n"
        "}\n\n"
        f"https://{site.host}:{site.https_port} {{\n"
        f"\tbind {site.host}\n"
        "\ttls internal\n"
        f"\treverse_proxy {site.upstream}\n"
        "}\n\n"
        f"http://{site.host}:{site.http_port} {{\n"
        f"\tbind {site.host}\n"
        f"\t@trust_page path {TRUST_PAGE_PATHS}\n"
        "\thandle @trust_page {\n"
        f"\t\treverse_proxy {site.upstream}\n"
        "\t}\n"
        "\thandle {\n"
        "\t\tredir * /phone\n"
        "\t}\n"
        "}\n"
    )


def caddy_data_dir(instance: Path) -> Path:
    """Caddy's XDG_DATA_HOME: its certificate authority, kept across runs so that a phone trusts
    it once."""
    return instance / "caddy"


def root_certificate_path(instance: Path) -> Path:
    """The root certificate of Caddy's internal authority (the one a phone must trust)."""
    return caddy_data_dir(instance) / "caddy" / "pki" / "authorities" / "local" / "root.crt"


def fingerprint(pem: bytes) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as phones show it ("AB:CD:...")."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def terminal_qr(url: str, *, colour: bool) -> str:
    """`url` as a QR code of text: two rows of modules per line (qrcode's print_ascii: a full
    block is two dark modules, the upper and lower half blocks one, a blank none).

    With `colour` (a terminal) each line is black on white whatever the terminal's theme, since
    a phone's camera reads dark modules on a light ground; without it (a log file) the text is
    left plain.
    """
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    out = io.StringIO()
    code.print_ascii(out=out)
    lines = out.getvalue().rstrip("\n").split("\n")
    if colour:
        lines = [f"\x1b[38;5;16;48;5;231m{line}\x1b[0m" for line in lines]
    return "\n".join(lines) + "\n"
