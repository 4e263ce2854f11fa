"""fieldapp: consent-first, in-person collection of hand-drawn portraits."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from fieldapp.config import check_production_settings, settings_from_environment
from fieldapp.web.application import FieldApp

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment; `overrides` (tests) win over it."""
    app = FieldApp(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(settings_from_environment(app.instance_path))
    app.config.update(overrides or {})
    check_production_settings(app.config, debug=app.debug, testing=app.testing)
    if not app.config["SECRET_KEY"]:
        # Debug and testing only (checked above): sessions last until the process stops.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import fieldapp.models  # noqa: F401 - every table, whichever blueprints are registered
    from fieldapp import cli, errors, headers, i18n
    from fieldapp.arguments import DatabaseIntegerConverter
    from fieldapp.database import configure_engine
    from fieldapp.extensions import csrf, db, login_manager, migrate
    from fieldapp.web import templating
    from fieldapp.web.sessions import SignedCookieSessions

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    app.session_interface = SignedCookieSessions()
    login_manager.init_app(app, add_context_processor=False)  # see auth.access.collector_signed_in
    # No rate limit but the login's (fieldapp/auth/login_limit.py): a crowd of phones behind
    # one venue's wifi address is never turned away anywhere else.
    with app.app_context():
        configure_engine(db.engine)

    from fieldapp.auth.login_limit import check_storage
    from fieldapp.config import ConfigError

    if problem := check_storage(app.config.get("LOGIN_LIMIT_STORAGE_URI")):
        raise ConfigError(problem + " (for Redis: pip install 'fieldapp[redis]')")
    # Before any route is added: every `<int:...>` is bounded by the database's integers.
    app.url_map.converters["int"] = DatabaseIntegerConverter
    _register_blueprints(app)
    errors.register(app)
    headers.register(app)
    cli.register(app)
    templating.register(app)
    i18n.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from fieldapp import health
    from fieldapp.api.views import bp as api
    from fieldapp.auth.people_views import bp as people
    from fieldapp.auth.views import bp as auth
    from fieldapp.backlog.views import bp as backlog
    from fieldapp.consent.views import bp as consent
    from fieldapp.dataset.views import bp as dataset
    from fieldapp.diary.views import bp as diary
    from fieldapp.encounters.views import bp as encounters
    from fieldapp.gallery.views import bp as gallery
    from fieldapp.ledger.views import bp as ledger
    from fieldapp.live.views import bp as live
    from fieldapp.pamphlet.views import bp as pamphlet
    from fieldapp.participants.receipt import bp as receipts
    from fieldapp.participants.views import bp as participants
    from fieldapp.pwa.views import bp as pwa
    from fieldapp.review.views import bp as review
    from fieldapp.signals.views import bp as signals
    from fieldapp.tickets.views import bp as tickets
    from fieldapp.withdrawal.views import bp as withdrawal

    blueprints = (
        health.bp, auth, encounters, consent, participants, gallery, pamphlet, pwa, api, signals,
        tickets, review, backlog, withdrawal, dataset, ledger, diary, live, people, receipts,
    )  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if app.config.get("PHONE_ROOT_CERT"):
        # Only behind `make run-phone`: a public page that hands out its Caddy's root certificate.
        from fieldapp.phone.views import bp as phone

        app.register_blueprint(phone)
