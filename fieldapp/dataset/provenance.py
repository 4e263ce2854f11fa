"""C2PA provenance signed into every exported image, offline, with the instance's own key.

Each image of a dataset export carries a C2PA manifest (c2pa-python, the Content Authenticity
Initiative's SDK) that says where it came from and what its drawer allows:

- `c2pa.created`: drawn by hand on paper and photographed (IPTC digital source type
  `digitalCapture`), by the drawer as they chose to be credited: their name, or "an anonymous
  drawer" (never a name the drawer did not choose to show: a minor is never credited);
- `c2pa.edited`: the photo cropped to the sheet and its perspective corrected, with the framing
  ("auto": corners found at ingest; "manual": set by the artist). A drawing whose framing is
  "none" is the whole photo, nothing cut or straightened: no `c2pa.edited` action at all;
- `c2pa.resized` (fitted into a white square) and `c2pa.filtered` (the red ink alone) when the
  export's options did that;
- `cawg.training-mining` (Creator Assertions Working Group): every use `allowed` or
  `notAllowed` from the drawer's current training choice, as the rights XMP says.

The manifest is signed last, over the final bytes (rights XMP included): its hard binding
(`c2pa.hash.data`) covers the whole file but the manifest itself.

The key: an EC P-256 (ES256) end-entity certificate issued by a CA certificate generated with
it, both made on first use and kept in `C2PA_DIR` (default `instance/c2pa`). c2pa-rs refuses a
self-signed signing certificate; it requires X.509 v3, a critical key usage with
digitalSignature, and an extended key usage with emailProtection or documentSigning (and not
anyExtendedKeyUsage). The CA's private key is not kept: it signs this one certificate and
nothing else ever, so there is nothing to steal. No timestamp authority, no OCSP, nothing
remote: signing makes no network connection (checked with strace). A verifier that does not
trust our CA (the public trust list does not know it) reads the signature as valid but the
signer as untrusted (`signingCredential.untrusted`); one given `signing-ca.pem` as a trust
anchor reads "Trusted".
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app

KEY_FILE = "signing-key.pem"
#: The end-entity certificate, then the CA's: what c2pa embeds in each manifest.
CHAIN_FILE = "signing-chain.pem"
#: The CA certificate alone: the trust anchor a verifier is given (public).
CA_FILE = "signing-ca.pem"
SOFTWARE = "fieldapp"
#: IPTC digital source type: a real-life thing (the drawing on paper) captured by a camera.
DIGITAL_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
ANONYMOUS_DRAWER = "an anonymous drawer"
#: The four uses of the CAWG training-and-data-mining assertion, all set from one choice.
TRAINING_MINING_USES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.data_mining",
    "cawg.ai_inference",
)
#: Without a timestamp, a verifier checks the certificate against today's date: the
#: certificates outlive any collection (a new key means a new folder: see docs/DEPLOY.md).
_CERTIFICATE_YEARS = 30
_FRAMING_DESCRIPTIONS = {
    "auto": "Cropped to the sheet of paper and its perspective corrected; the sheet's corners "
    "were found automatically.",
    "manual": "Cropped to the sheet of paper and its perspective corrected; the sheet's corners "
    "were set by the artist.",
}


def signing_dir() -> Path:
    """The folder of this instance's signing key and certificates (`C2PA_DIR`)."""
    configured = current_app.config.get("C2PA_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "c2pa"


# The key and its certificates ------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    private_key_pem: bytes
    chain_pem: bytes


def signing_key(directory: Path) -> SigningKey:
    """The instance's key and certificate chain, generated into `directory` on first use.

    Made whole in a temporary folder beside it, then renamed into place in one step: a process
    never sees half a key, and of two processes generating at once the second rename fails and
    that process reads what the first one wrote.
    """
    if not (directory / KEY_FILE).exists():
        _generate_into(directory)
    return SigningKey(
        private_key_pem=(directory / KEY_FILE).read_bytes(),
        chain_pem=(directory / CHAIN_FILE).read_bytes(),
    )


def _generate_into(directory: Path) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        key_pem, chain_pem, ca_pem = _new_key_and_chain()
        _write(staging / KEY_FILE, key_pem, mode=0o600)
        _write(staging / CHAIN_FILE, chain_pem, mode=0o644)
        _write(staging / CA_FILE, ca_pem, mode=0o644)
        try:
            staging.rename(directory)  # mkdtemp made it 0700: only the app's user reads in
        except OSError:
            if not (directory / KEY_FILE).exists():
                raise  # not another process's key: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write a file created with `mode` from the start (a key is never readable by others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as target:
        target.write(data)
        target.flush()
        os.fsync(target.fileno())


def _new_key_and_chain() -> tuple[bytes, bytes, bytes]:
    """(private key, chain: end-entity then CA, CA certificate), PEM, as c2pa-rs accepts them."""
    now = datetime.now(UTC) - timedelta(minutes=5)  # a verifier whose clock is a little behind
    until = now + timedelta(days=365 * _CERTIFICATE_YEARS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fieldapp instance CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name("fieldapp dataset export"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]
            ),  # emailProtection, documentSigning
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ca_pem = ca.public_bytes(pem)
    return key_pem, signer.public_bytes(pem) + ca_pem, ca_pem


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, SOFTWARE),
    ])  # fmt: skip


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign, encipher_only=False, decipher_only=False,
    )  # fmt: skip


# The manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageProvenance:
    """What one exported image's manifest states."""

    title: str  # the file's name in the export
    credit: str | None  # the name the drawer chose to be credited by; None: anonymous
    framing: str  # "auto" | "manual" | "none"
    training_allowed: bool
    square_size: int | None = None  # fitted into a white square of this many px
    ink: bool = False  # only the red ink kept


def manifest_definition(image: ImageProvenance) -> dict:
    """The C2PA manifest of one exported image, as c2pa-python's Builder takes it."""
    use = "allowed" if image.training_allowed else "notAllowed"
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": _version()}],
        "title": image.title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": _actions(image)}},
            {
                "label": "cawg.training-mining",
                "data": {"entries": {name: {"use": use} for name in TRAINING_MINING_USES}},
            },
        ],
    }


def _actions(image: ImageProvenance) -> list[dict]:
    drawer = image.credit or ANONYMOUS_DRAWER
    agent = {"name": SOFTWARE}
    actions = [
        {
            "action": "c2pa.created",
            "digitalSourceType": DIGITAL_CAPTURE,
            "softwareAgent": agent,
            "description": f"Drawn by hand on paper by {drawer}; photographed where it was drawn.",
            "parameters": {"drawer": drawer},
        }
    ]
    if image.framing in _FRAMING_DESCRIPTIONS:
        actions.append({
            "action": "c2pa.edited",
            "softwareAgent": agent,
            "description": _FRAMING_DESCRIPTIONS[image.framing],
            "parameters": {"framing": image.framing},
        })  # fmt: skip
    if image.ink:
        actions.append({
            "action": "c2pa.filtered",
            "softwareAgent": agent,
            "description": "Only the red ink lines kept, drawn in one red on white.",
        })  # fmt: skip
    if image.square_size is not None:
        actions.append({
            "action": "c2pa.resized",
            "softwareAgent": agent,
            "description": f"Fitted into a white {image.square_size} px square.",
        })  # fmt: skip
    return actions


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(SOFTWARE)
    except PackageNotFoundError:
        return "unknown"


# Signing ---------------------------------------------------------------------------------


class ExportSigner:
    """Signs the images of one export with the instance's key (made once, used per image)."""

    def __init__(self, key: SigningKey) -> None:
        # No thumbnail in the manifest: it would be a second copy of the drawing in the file.
        self._context = c2pa.Context(
            c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        )
        info = c2pa.C2paSignerInfo(
            alg=c2pa.C2paSigningAlg.ES256,
            sign_cert=key.chain_pem,
            private_key=key.private_key_pem,
            ta_url=None,  # no timestamp authority: signing stays offline
        )
        self._signer = c2pa.Signer.from_info(info)

    def sign(self, data: bytes, mime: str, image: ImageProvenance) -> bytes:
        """`data` (a JPEG or PNG) with its C2PA manifest embedded and signed."""
        signed = io.BytesIO()
        with c2pa.Builder(manifest_definition(image), self._context) as builder:
            builder.sign(self._signer, mime, io.BytesIO(data), signed)
        return signed.getvalue()

    def close(self) -> None:
        self._signer.close()
        self._context.close()


@contextmanager
def export_signer(directory: Path | None = None) -> Iterator[ExportSigner]:
    """A signer for one export, with this instance's key (generated on first use)."""
    signer = ExportSigner(signing_key(directory or signing_dir()))
    try:
        yield signer
    finally:
        signer.close()


MIME_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
