"""Gunicorn settings for fieldapp: `gunicorn -c gunicorn.conf.py 'fieldapp:create_app()'`.

Every setting can be changed from the environment (documented in README.md and docs/DEPLOY.md):

- FIELDAPP_BIND        where to listen (default 127.0.0.1:8000; the container uses 0.0.0.0:8000)
- FIELDAPP_WORKERS     worker processes (default: 2 per CPU core, plus one)
- FIELDAPP_THREADS     threads per worker (default 4: a slow phone upload holds one thread,
                       not a whole worker)
- FIELDAPP_TIMEOUT     seconds a worker may stay silent before it is restarted (default 60)
- FIELDAPP_ACCESS_LOG  "-" (stdout, the default), a file path, or "off"
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


bind = os.environ.get("FIELDAPP_BIND") or "127.0.0.1:8000"
workers = _int("FIELDAPP_WORKERS", 2 * multiprocessing.cpu_count() + 1)
# gthread: each worker answers several requests at once; the heartbeat runs on its own, so a
# 30 MB upload over a slow phone connection does not make the arbiter kill the worker. Ours
# takes turns with the other workers at accepting connections (fieldapp/web/workers.py).
worker_class = "fieldapp.web.workers.TakingTurnsWorker"
threads = _int("FIELDAPP_THREADS", 4)
timeout = _int("FIELDAPP_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Pillow's buffers fragment memory over time: replace each worker now and then (staggered).
# Not too often: a replaced worker drops its keep-alive connections, and a room full of phones
# opening their pages makes thousands of requests a minute (bench/load.py).
max_requests = 20000
max_requests_jitter = 2000
# Load the app once in the arbiter: a broken configuration stops the start with one clear error
# instead of workers failing in a loop, and workers share its memory.
preload_app = True
# Which forwarded headers to believe is the app's decision alone: FIELDAPP_PROXY_HOPS, through
# werkzeug's ProxyFix (fieldapp/headers.py). Gunicorn's own default believes X-Forwarded-Proto
# from 127.0.0.1, so with FIELDAPP_PROXY_HOPS=0 anything on the machine (or a proxy that passes
# the client's header through) could still make plain http count as https: Secure cookies the
# browser then never sends back, and HSTS. Here gunicorn believes no peer (TCP or, where no
# address applies, a Unix socket), whatever FORWARDED_ALLOW_IPS says.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""

_access_log = os.environ.get("FIELDAPP_ACCESS_LOG", "-")
accesslog = None if _access_log.lower() == "off" else _access_log
errorlog = "-"
# The combined format plus the time taken (microseconds), with participant tokens redacted.
logger_class = "fieldapp.access_log.RedactingLogger"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'


def when_ready(server):
    """Do once in the arbiter, before the workers are forked, what each worker would otherwise
    do on a visitor's request: configure the ORM's mappers and compile every template. A fresh
    worker's first page took 40 ms instead of 10 ms (a p99 spike whenever one is replaced).

    Then hide everything loaded so far from the garbage collector (`gc.freeze()`, Python's
    advice for servers that fork). Otherwise a worker's full collection walks the 118,000
    objects of the preloaded app, writing to each, so its pages are copied from the arbiter's
    one by one: the whole worker stood still for about half a second, every request it held
    with it (the worst requests of bench/load.py). Now such a collection takes under 1 ms, and
    the workers share those pages for good.
    """
    if not server.cfg.preload_app:
        return  # the app is loaded in each worker, not here
    import gc

    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    jinja = server.app.wsgi().jinja_env
    for name in jinja.list_templates():
        jinja.get_template(name)
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """A forked worker must not reuse the arbiter's database connections (SQLAlchemy's advice)."""
    from fieldapp.extensions import db

    app = server.app.wsgi()
    if "sqlalchemy" in getattr(app, "extensions", {}):
        with app.app_context():
            db.engine.dispose(close=False)
