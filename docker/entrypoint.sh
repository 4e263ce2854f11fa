#!/bin/sh
# Start fieldapp: wait for the database (bounded), apply the migrations, then hand over to
# gunicorn with the shipped config (or to the command given, e.g. `flask --app fieldapp ...`).
#
#   FIELDAPP_DB_WAIT_SECONDS  how long to wait for the database (default 60)
#   FIELDAPP_GUNICORN_CONFIG  gunicorn config file (default gunicorn.conf.py next to this folder)
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
config=${FIELDAPP_GUNICORN_CONFIG:-$here/../gunicorn.conf.py}

if [ -n "${FIELDAPP_MEDIA_DIR:-}" ]; then
    mkdir -p "$FIELDAPP_MEDIA_DIR"
fi

echo "entrypoint: waiting for the database"
python -m fieldapp.wait_for_database "${FIELDAPP_DB_WAIT_SECONDS:-60}"

echo "entrypoint: applying migrations"
flask --app fieldapp db upgrade
# Nothing serves yet, so any photo file without its row is a crash's leftover.
flask --app fieldapp media sweep || echo "entrypoint: media sweep did not finish (see above)" >&2
# Photo files stored by older versions may hold a camera's comment or text: rewrite them
# without it, once (a mark in the media folder says it finished). Served files never carry it,
# so a file it cannot read is reported and the server starts all the same.
flask --app fieldapp media scrub --once || echo "entrypoint: media scrub did not finish (see above)" >&2

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
echo "entrypoint: starting gunicorn"
exec gunicorn --config "$config" 'fieldapp:create_app()'
