"""Configuration, read from the environment once, with defaults that work on a laptop."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

#: Largest photo upload accepted, in bytes. A 12 MP phone JPEG is 3-8 MB, a 48 MP one
#: 15-25 MB; anything above this is refused with 413 before it is decoded.
DEFAULT_MAX_PHOTO_BYTES = 30 * 1024 * 1024

#: Largest photo accepted, in pixels (width x height). 50 MP phone modes (8160x6120) pass;
#: a decompression bomb does not.
DEFAULT_MAX_PHOTO_PIXELS = 52_000_000


class ConfigError(click.ClickException, RuntimeError):
    """A setting the app cannot run without is missing or wrong.

    A ClickException too: a `flask --app fieldapp ...` command stops with `Error: <the
    message>` on one line and exit status 1, not a traceback.
    """


def settings_from_environment(instance_path: str, environ: Mapping[str, str] | None = None) -> dict:
    """Return Flask config keys built from FIELDAPP_* variables, falling back to local defaults.

    Every variable read here is documented in README.md (a test keeps that true).
    """
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    max_photo_bytes = _positive_int(env, "FIELDAPP_MAX_PHOTO_BYTES", DEFAULT_MAX_PHOTO_BYTES)
    url = (
        database_url(env.get("FIELDAPP_DATABASE_URL"))
        or f"sqlite:///{instance / 'fieldapp.sqlite3'}"
    )
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        # A restarted database server must not cost the next request a 500 (a SQLite file
        # cannot go away like that: no ping, one round trip less per request).
        # hide_parameters: a database error's message never quotes the values of its statement
        # (a drawer's name, a participant token) into the error log.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": not url.startswith("sqlite"),
            "hide_parameters": True,
        },
        "MEDIA_DIR": env.get("FIELDAPP_MEDIA_DIR") or str(instance / "media"),
        # Unset: photos in MEDIA_DIR. `s3://BUCKET/PREFIX`: in that bucket of an S3-compatible
        # store (media/s3.py), reached at FIELDAPP_S3_ENDPOINT_URL (unset: AWS itself) with the
        # standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION.
        "MEDIA_URL": _media_url(env.get("FIELDAPP_MEDIA_URL")),
        "S3_ENDPOINT_URL": env.get("FIELDAPP_S3_ENDPOINT_URL") or None,
        # The key that signs the C2PA manifests of exported images (fieldapp/dataset/provenance.py).
        "C2PA_DIR": env.get("FIELDAPP_C2PA_DIR") or str(instance / "c2pa"),
        "SECRET_KEY": env.get("FIELDAPP_SECRET_KEY") or _command_line_secret_key(instance, env),
        "PUBLIC_URL": (env.get("FIELDAPP_PUBLIC_URL") or "").rstrip("/") or None,
        # The root certificate the phone trust page (/phone) hands out; `make run-phone` sets it
        # to its Caddy's. Unset: no trust page (fieldapp/phone/views.py).
        "PHONE_ROOT_CERT": env.get("FIELDAPP_PHONE_ROOT_CERT") or None,
        "MAX_PHOTO_BYTES": max_photo_bytes,
        "MAX_PHOTO_PIXELS": _positive_int(
            env, "FIELDAPP_MAX_PHOTO_PIXELS", DEFAULT_MAX_PHOTO_PIXELS
        ),
        # The whole request may carry the photo plus a JSON part and multipart framing.
        "MAX_CONTENT_LENGTH": max_photo_bytes + 1024 * 1024,
        "GOAL": _positive_int(env, "FIELDAPP_GOAL", 10_000),
        # The consent step asks "Are you this age or older?": a younger drawer's drawing is
        # never credited by name, trained on or posted (fieldapp/consent/services.py).
        "ADULT_AGE": _positive_int(env, "FIELDAPP_ADULT_AGE", 18),
        **_security_settings(env),
    }


#: Failed logins allowed per client address before /login answers 429 (a limits string).
DEFAULT_LOGIN_RATE_LIMIT = "10 per 15 minutes"


def _security_settings(env: Mapping[str, str]) -> dict:
    """Cookies, the login rate limit and the reverse proxy (fieldapp/headers.py uses them)."""
    from limits import parse_many

    login_limit = env.get("FIELDAPP_LOGIN_RATE_LIMIT") or DEFAULT_LOGIN_RATE_LIMIT
    try:
        parse_many(login_limit)
    except ValueError:
        raise ConfigError(
            f"FIELDAPP_LOGIN_RATE_LIMIT must read like '10 per 15 minutes', got {login_limit!r}"
        ) from None
    return {
        # Cookies: never readable by scripts, never sent on another site's POST; `Secure` is
        # added per response when the request came over HTTPS (fieldapp/headers.py).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Where failed logins are counted (fieldapp/auth/login_limit.py). Unset: in the
        # database, so the limit holds across every worker, restart and app server sharing it,
        # with no other service. Set (`redis://host:6379`): in that storage of the `limits`
        # library instead.
        "LOGIN_LIMIT_STORAGE_URI": env.get("FIELDAPP_RATELIMIT_STORAGE_URI") or None,
        "LOGIN_RATE_LIMIT": login_limit,
        "PROXY_HOPS": _non_negative_int(env, "FIELDAPP_PROXY_HOPS", 0),
    }


def _media_url(url: str | None) -> str | None:
    """FIELDAPP_MEDIA_URL checked at start: a store the app cannot name is no store."""
    from fieldapp.media.storage import MediaUrlError, parse_media_url

    if not url:
        return None
    try:
        parse_media_url(url)
    except MediaUrlError as error:
        raise ConfigError(f"FIELDAPP_MEDIA_URL: {error}") from None
    return url


def database_url(url: str | None) -> str | None:
    """Accept the usual `postgres://` and `postgresql://` URLs and use the psycopg 3 driver."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


#: The key `make run` generates (Makefile's SECRET_FILE), in the instance folder.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a key


def _command_line_secret_key(instance: Path, env: Mapping[str, str]) -> str | None:
    """For a `flask --app fieldapp ...` command without FIELDAPP_SECRET_KEY: the key `make run`
    keeps in the instance folder, when there is one.

    Only there: Flask marks its own command line with FLASK_RUN_FROM_CLI. A server started
    otherwise (gunicorn, the container) takes its key from FIELDAPP_SECRET_KEY alone, so that
    a production server never starts on a key file it happened to find.
    """
    if env.get("FLASK_RUN_FROM_CLI") != "true":
        return None
    path = instance / SECRET_KEY_FILE
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"Cannot read the secret key in {path}: {error.strerror}.") from None


def check_production_settings(config: Mapping, *, debug: bool, testing: bool) -> None:
    """Refuse to start outside debug/testing without a secret key."""
    if not config.get("SECRET_KEY") and not (debug or testing):
        raise ConfigError(
            "FIELDAPP_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_hex(32))'); "
            "`make run` generates one in instance/secret_key, which `flask --app fieldapp` "
            "commands also read."
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number of 0 or more, got {raw!r}")
    return int(raw)
