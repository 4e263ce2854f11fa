"""Load the participant page and the gallery with wrk, against a floor app, in the same run.

Both run under gunicorn with the shipped gunicorn.conf.py on 127.0.0.1 (the app on a SQLite
database with 10,000 tickets and a gallery of drawings; the floor is bench/floor_app.py: one
token looked up among 10,000 rows through SQLAlchemy, a small template). wrk runs for a bounded
time at 50 and 200 connections. As in a room where every drawer scans their own QR code, the
participant page is asked for every drawing's token in turn (and the floor for as many of its
tokens). Printed: requests per second as a ratio to the floor, p99, errors. Goals: zero errors,
at least 0.8x the floor, p99 under 100 ms at 50 connections (see main() for which round
counts).

Also printed, and not a goal: the CPU time gunicorn spends per request (its arbiter and workers,
from /proc), the median over the rounds, and the floor's as a ratio of the page's. On a shared
two-core machine requests per second move by a tenth from one run to the next (wrk's
connections land unevenly on the workers, and the machine's speed drifts); CPU per request
moves by a few percent, so it tells whether a change made a page cheaper. Last, the share of
CPU time the machine's host took away (steal) during the runs: when a virtual machine's host is
busy, every p99 grows, the floor's too, by far more than that share.

With --two-servers, then a second table: the set-up of several machines, run on this one. Two
gunicorn servers share one PostgreSQL (started as the tests start it, tests/postgres.py: SQLite
is one machine's database) and one SeaweedFS bucket (FIELDAPP_MEDIA_URL, tests/seaweed.py),
behind Caddy with `tls internal` and round robin (tests/caddy.py; wrk speaks https and does not
check the certificate). Measured against one server of the same database and bucket, reached
over http without a proxy, in the same interleaved rounds: the participant page and the
gallery, requests per second as a ratio to the one server, p99, errors, and the CPU time per
request of the servers (and Caddy) answering. Goal: zero errors. On one machine the two servers
share its cores, so the ratio is the price of the proxy and TLS, not the gain of a second
machine. The database is seeded anew for it (same drawings and tickets, other tokens).

Needs Debian's `wrk` (apt-get install wrk); --two-servers also PostgreSQL, SeaweedFS's `weed`
and Caddy (as `make test` does).

    .venv/bin/python bench/load.py [--seconds 10] [--rounds 3] [--connections 50 200]
                                   [--two-servers]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import random
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 0.8
GOAL_P99_MS = 100.0
TICKETS = 10_000
DRAWINGS = 60


@dataclass(frozen=True)
class Target:
    base: str  # http://127.0.0.1:port
    paths: list[str]  # asked for in turn
    script: Path  # the wrk script that does so
    servers: tuple[int, ...]  # who serves it: gunicorn arbiters (with their workers), Caddy

    @classmethod
    def write(cls, root: Path, name: str, base: str, paths: list[str], *servers: int) -> Target:
        script = root / f"{re.sub(r'[^a-z0-9]+', '-', name)}.lua"
        script.write_text(ROUND_ROBIN % ", ".join(f'"{path}"' for path in paths))
        return cls(base, paths, script, servers)


@dataclass
class Result:
    name: str
    connections: int
    requests_per_second: float
    p99_ms: float
    errors: int
    cpu_us: float  # gunicorn's CPU time per request


def cpu_seconds(arbiter: int) -> float:
    """CPU time used so far by gunicorn's arbiter and its workers, living or exited (Linux)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(entry.name) == arbiter:  # with the workers it has reaped (cutime, cstime)
            ticks += sum(int(field) for field in fields[11:15])
        elif int(fields[1]) == arbiter:  # a living worker (utime, stime)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_clock() -> tuple[int, int]:
    """This machine's CPU time so far, all of it and the part its host took away (`steal`):
    a virtual machine's CPUs lose time to the host's other guests (Linux /proc/stat)."""
    try:
        first_line = Path("/proc/stat").read_text().splitlines()[0]
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, first_line.split()[1:9])
    except (OSError, IndexError, ValueError):  # not Linux
        return 0, 0
    return user + nice + system + idle + iowait + irq + softirq + steal, steal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def noise_jpeg(seed: int) -> bytes:
    """A small photo whose bytes differ from every other seed's (the app refuses duplicates)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (300, 400), (240, 236, 228))
    image.putdata([(rng.randrange(256), 30, 30) if i % 97 == 0 else (240, 236, 228)
                   for i in range(300 * 400)])  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare_app(root: Path, env: dict) -> list[str]:
    """Migrate, record the drawings, reserve the remaining tickets; returns the drawers' tokens."""
    os.environ.update(env)
    import flask_migrate

    from fieldapp import create_app
    from fieldapp.database import write_transaction
    from fieldapp.extensions import db
    from fieldapp.tickets.services import reserve_tickets
    from tests.factories import make_encounter, token_of

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
    uuids = [
        make_encounter(app, photo=noise_jpeg(n), credit_name="Ana Lima" if n % 3 else None)
        for n in range(DRAWINGS)
    ]
    with app.app_context():
        with write_transaction(db.session):
            reserve_tickets(db.session, TICKETS - DRAWINGS, None)
        db.engine.dispose()
    return [token_of(app, client_uuid) for client_uuid in uuids]


def start_gunicorn(app: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app],
        env={**env, "FIELDAPP_BIND": f"127.0.0.1:{port}"},
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):  # noqa: S310
                pass
            return process
        except urllib.error.HTTPError:
            return process  # it answers (404 on / for the floor)
        except OSError:
            if process.poll() is not None:
                sys.exit(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.1)
    sys.exit("gunicorn did not answer")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


#: wrk's Lua hook: each request asks for the next path of the target in turn.
ROUND_ROBIN = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk(name: str, target: Target, connections: int, seconds: int) -> Result:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(target.script), target.base + target.paths[0]]
    cpu_before = sum(cpu_seconds(server) for server in target.servers)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    cpu = sum(cpu_seconds(server) for server in target.servers) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors, kinds = 0, []
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
        kinds.append(f"{match.group(1)} non-2xx/3xx")
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
        kinds.append(f"socket errors: {match.group(0).removeprefix('Socket errors: ')}")
    if kinds:
        print(f"  {name} at {connections} connections: {'; '.join(kinds)}", file=sys.stderr)
    return Result(name, connections, rps, p99, errors, cpu / max(requests, 1) * 1e6)


@dataclass(frozen=True)
class Summary:
    """A page's rounds at one number of connections, as the tables show them."""

    requests_per_second: float
    p99_ms: float
    worst_p99_ms: float
    errors: int
    cpu_us: float

    @classmethod
    def of(cls, runs: list[Result]) -> Summary:
        # Requests per second: the best round, since the other processes of a shared machine
        # slow a run down, never speed it up. p99: the median round, since a round's p99
        # depends on how wrk's connections, all opened at once, landed on the workers
        # (gunicorn's own worker left 43 of 50 on one, seen with `ss`; ours take turns,
        # fieldapp/web/workers.py, and still vary); the worst round is printed beside it.
        return cls(
            requests_per_second=max(run.requests_per_second for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            worst_p99_ms=max(run.p99_ms for run in runs),
            errors=sum(run.errors for run in runs),
            cpu_us=statistics.median(run.cpu_us for run in runs),
        )


def interleaved(
    targets: dict[str, Target], connections: int, rounds: int, seconds: int
) -> dict[str, Summary]:
    """Every target in turn, `rounds` times over, so that drift of the machine affects all alike."""
    runs: dict[str, list[Result]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            runs[name].append(wrk(name, target, connections, seconds))
    return {name: Summary.of(page_runs) for name, page_runs in runs.items()}


def print_steal(before: tuple[int, int]) -> None:
    total_after, stolen_after = cpu_clock()
    total, stolen = total_after - before[0], stolen_after - before[1]
    if total:
        # Ratios compare pages measured side by side; p99 is in milliseconds of a machine
        # that ran slower while its host took time away.
        share = 100 * stolen / total
        slower = " (p99 is slower than this machine's own)" if share > 1 else ""
        print(f"CPU time the host took away (steal) during the runs: {share:.1f} %{slower}")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=40)


def workers_per_server() -> str:
    return os.environ.get("FIELDAPP_WORKERS") or f"{2 * os.cpu_count() + 1} (default)"


def two_servers(root: Path, common: dict, args: argparse.Namespace) -> bool:
    """The set-up of several machines, on this one: two gunicorn servers sharing one
    PostgreSQL and one SeaweedFS bucket, behind Caddy (HTTPS from its internal CA, round robin),
    against one server of the same database and bucket reached directly over http. Prints the
    table; returns whether it met its goal (zero errors)."""
    from bench import servers
    from tests.caddy import proxy_site

    with contextlib.ExitStack() as stack:
        database = stack.enter_context(servers.postgres())
        bucket_server = stack.enter_context(servers.seaweed())
        caddy_port = free_port()
        env = {
            **common,
            **bucket_server.env(),
            "FIELDAPP_SECRET_KEY": "load bench",
            "FIELDAPP_DATABASE_URL": database.create_database("fieldapp_load"),
            "FIELDAPP_MEDIA_URL": f"s3://{bucket_server.new_bucket('load')}/media",
            "FIELDAPP_MEDIA_DIR": str(root / "no-media-here"),  # the bucket holds them all
            # As a deployment behind Caddy is configured (docs/DEPLOY.md): the scheme and the
            # client's address come from Caddy's X-Forwarded-* headers.
            "FIELDAPP_PROXY_HOPS": "1",
            "FIELDAPP_PUBLIC_URL": f"https://127.0.0.1:{caddy_port}",
        }
        tokens = prepare_app(root, env)
        gunicorns: list[subprocess.Popen] = []
        stack.callback(stop, gunicorns)
        ports = {}
        for name in ("one", "a", "b"):  # the lone server, and the two behind Caddy
            ports[name] = free_port()
            log = root / f"server-{name}.log"
            server_env = {**env, "FIELDAPP_ACCESS_LOG": str(root / f"access-{name}.log")}
            gunicorns.append(start_gunicorn("fieldapp:create_app()", server_env, ports[name], log))
        lone, first, second = gunicorns
        upstreams = [f"127.0.0.1:{ports['a']}", f"127.0.0.1:{ports['b']}"]
        proxy = stack.enter_context(
            servers.caddy(proxy_site(f"127.0.0.1:{caddy_port}", upstreams), https_port=caddy_port)
        )
        assert proxy.process is not None
        behind_caddy = (first.pid, second.pid, proxy.process.pid)
        pages = {
            "participant page": [f"/p/{token}" for token in tokens],
            "gallery": ["/gallery"],
        }
        direct = f"http://127.0.0.1:{ports['one']}"
        through_caddy = f"https://127.0.0.1:{caddy_port}"
        targets: dict[str, Target] = {}
        for page in args.pages:
            targets[f"{page} (one server)"] = Target.write(
                root, f"{page} one", direct, pages[page], lone.pid
            )
            targets[f"{page} (two + Caddy)"] = Target.write(
                root, f"{page} two", through_caddy, pages[page], *behind_caddy
            )
        for target in targets.values():
            # wrk counts a redirect as an answer: make sure each page is the page, over https
            # that checks Caddy's certificate against its root (wrk does not check it).
            check_answers(target.base + target.paths[0], proxy.ssl_context())
        for target in targets.values():  # warm up, as above; also wrk's TLS through Caddy
            wrk("warm-up", target, 10, 2)
        served_before = [access_lines(root / f"access-{name}.log") for name in ("a", "b")]

        print()
        print(
            "Two servers behind Caddy (https, tls internal, round robin) vs one server without "
            "a proxy (http), same run; all three on one PostgreSQL (tests/postgres.py) and one "
            f"SeaweedFS bucket (FIELDAPP_MEDIA_URL); {workers_per_server()} workers per server, "
            "all on this machine's cores"
        )
        print(
            f"{'page':<18}{'conns':>6}  {'set-up':<13}{'req/s':>7}{'ratio':>8}{'p99 ms':>8}"
            f"{'worst':>7}{'errors':>7}  {'goal':<7}{'cpu us/req':>11}"
        )
        met = True
        steal_before = cpu_clock()
        for connections in args.connections:
            summaries = interleaved(targets, connections, args.rounds, args.seconds)
            for page in args.pages:
                alone = summaries[f"{page} (one server)"].requests_per_second
                for setup in ("one server", "two + Caddy"):
                    result = summaries[f"{page} ({setup})"]
                    verdict = "ok" if result.errors == 0 else "MISSED"
                    met = met and result.errors == 0
                    print(
                        f"{page:<18}{connections:>6}  {setup:<13}"
                        f"{result.requests_per_second:>7.0f}"
                        f"{result.requests_per_second / alone:>7.2f}x{result.p99_ms:>8.1f}"
                        f"{result.worst_p99_ms:>7.0f}{result.errors:>7}  {verdict:<7}"
                        f"{result.cpu_us:>11.0f}"
                    )
        print_steal(steal_before)
        served = [
            access_lines(root / f"access-{name}.log") - before
            for name, before in zip(("a", "b"), served_before, strict=True)
        ]
        print(
            f"through Caddy, requests each server answered: {served[0]} and {served[1]} "
            "(cpu us/req of two + Caddy counts both servers and Caddy)"
        )
        print(f"goal (0 errors, either set-up): {'met' if met else 'MISSED'}")
        return met


def check_answers(url: str, context: ssl.SSLContext) -> None:
    """Exit unless `url` answers 200 itself (no redirect followed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.netloc, timeout=10, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request("GET", parts.path)
        status = connection.getresponse().status
    finally:
        connection.close()
    if status != 200:
        sys.exit(f"{url} answered {status}, not 200")


def access_lines(log: Path) -> int:
    """Requests a gunicorn server has answered so far, from its access log (Caddy's health
    checks of /healthz included)."""
    try:
        with log.open("rb") as lines:
            return sum(1 for _ in lines)
    except FileNotFoundError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run (default 10)")
    parser.add_argument("--connections", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3, help="best of N interleaved rounds")
    parser.add_argument("--pages", nargs="+", default=["participant page", "gallery"])
    parser.add_argument(
        "--two-servers",
        action="store_true",
        help="also: two servers on PostgreSQL and a bucket behind Caddy vs one server",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    if args.two_servers:
        from bench import servers

        if needs := servers.missing():
            sys.exit(f"--two-servers needs {', '.join(needs)}")

    root = Path(tempfile.mkdtemp(prefix="fieldapp-load-"))
    processes: list[subprocess.Popen] = []
    try:
        common = {
            **os.environ,
            "FIELDAPP_ACCESS_LOG": str(root / "access.log"),  # on, as shipped, but not on screen
        }
        app_env = {
            **common,
            "FIELDAPP_SECRET_KEY": "load bench",
            "FIELDAPP_DATABASE_URL": f"sqlite:///{root / 'fieldapp.sqlite3'}",
            "FIELDAPP_MEDIA_DIR": str(root / "media"),
        }
        tokens = prepare_app(root, app_env)
        from bench.floor_app import fill

        floor_db = root / "floor.sqlite3"
        floor_tokens = fill(str(floor_db), asked=len(tokens))
        floor_env = {**common, "FLOOR_DATABASE": str(floor_db)}

        app_port, floor_port = free_port(), free_port()
        app = start_gunicorn("fieldapp:create_app()", app_env, app_port, root / "app.log")
        floor_server = start_gunicorn(
            "bench.floor_app:create_app()", floor_env, floor_port, root / "floor.log"
        )
        processes += [app, floor_server]
        app_base, floor_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{floor_port}"
        paths = {
            "floor": (floor_base, [f"/p/{token}" for token in floor_tokens], floor_server.pid),
            "participant page": (app_base, [f"/p/{token}" for token in tokens], app.pid),
            "gallery": (app_base, ["/gallery"], app.pid),
        }
        targets = {
            name: Target.write(root, name, base, asked, server)
            for name, (base, asked, server) in paths.items()
            if name in {"floor", *args.pages}
        }
        for target in targets.values():  # warm up: imports, template caches, page cache
            wrk("warm-up", target, 10, 2)

        print(
            f"gunicorn.conf.py: {workers_per_server()} workers; wrk {args.seconds} s per run, "
            f"{args.rounds} interleaved rounds: req/s the best round, p99 the median round "
            "(and the worst), errors all rounds, CPU per request the median round; 127.0.0.1"
        )
        print(
            f"{'page':<18}{'conns':>6}{'req/s':>8}{'ratio':>8}{'p99 ms':>8}{'worst':>7}"
            f"{'errors':>7}  {'goal':<7}{'cpu us/req':>11}{'cpu ratio':>10}"
        )
        met = True
        steal_before = cpu_clock()
        for connections in args.connections:
            summaries = interleaved(targets, connections, args.rounds, args.seconds)
            floor = summaries["floor"]
            for name, result in summaries.items():
                rps = result.requests_per_second
                checks = [result.errors == 0]
                if name != "floor":
                    checks.append(rps / floor.requests_per_second >= GOAL_RATIO)
                    if connections <= 50:
                        checks.append(result.p99_ms < GOAL_P99_MS)
                verdict = "ok" if all(checks) else "MISSED"
                met = met and all(checks)
                print(
                    f"{name:<18}{connections:>6}{rps:>8.0f}"
                    f"{rps / floor.requests_per_second:>7.2f}x{result.p99_ms:>8.1f}"
                    f"{result.worst_p99_ms:>7.0f}{result.errors:>7}  {verdict:<7}"
                    f"{result.cpu_us:>11.0f}{floor.cpu_us / result.cpu_us:>9.2f}x"
                )
        print_steal(steal_before)
        print(f"goals (0 errors, >= {GOAL_RATIO}x floor, p99 < {GOAL_P99_MS:.0f} ms at 50): "
              f"{'met' if met else 'MISSED'}")  # fmt: skip
        if args.two_servers:
            stop(processes)  # their workers would only wait, but they hold memory
            processes.clear()
            met = two_servers(root, common, args) and met
        return 0 if met else 1
    finally:
        stop(processes)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
