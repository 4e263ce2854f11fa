# fieldapp: gunicorn behind a reverse proxy that terminates HTTPS (see compose.yaml, docs/DEPLOY.md).
#
#   docker build -t fieldapp .
#   docker run -e FIELDAPP_SECRET_KEY=... -v fieldapp-data:/data -p 8000:8000 fieldapp
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FIELDAPP_DATABASE_URL=sqlite:////data/fieldapp.sqlite3 \
    FIELDAPP_MEDIA_DIR=/data/media \
    FIELDAPP_C2PA_DIR=/data/c2pa \
    FIELDAPP_BIND=0.0.0.0:8000

# pg_dump, for backups of a PostgreSQL database from inside the container.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (their own layer: a change of code does not reinstall them), then the
# app itself as an editable install, because it finds templates/, static/ and migrations/
# next to its package.
COPY pyproject.toml README.md ./
RUN mkdir fieldapp && touch fieldapp/__init__.py \
    && pip install . && pip uninstall --yes fieldapp && rm -rf fieldapp build ./*.egg-info

COPY fieldapp ./fieldapp
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY gunicorn.conf.py ./
COPY docker/entrypoint.sh ./docker/entrypoint.sh
RUN pip install --no-deps -e . && pybabel compile -d fieldapp/translations && python -m compileall -q fieldapp

# Never run as root: the app owns only /data (database and photos), and not its own code.
RUN useradd --create-home --uid 10001 --user-group fieldapp \
    && mkdir -p /data/media && chown -R fieldapp:fieldapp /data
USER fieldapp
VOLUME ["/data"]
EXPOSE 8000

# /healthz answers 200 once the database does (python: the slim image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# FIELDAPP_SECRET_KEY must be given at run time: the app refuses to start without it.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
