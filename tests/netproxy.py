"""A bad network between a browser and the live server: a TCP proxy on 127.0.0.1 (stdlib only;
pytest only for the `net_proxy` fixture).

    with NetProxy(server.port) as proxy:      # or the `net_proxy` fixture (tests/conftest.py)
        page.goto(proxy.url + "/")            # the browser talks to the proxy's port
        proxy.set_mode("hang")                # requests now get no answer, ever
        proxy.set_mode("pass")                # NEW connections work again...
        proxy.release_hung()                  # ...and the hung ones are closed (the client sees
                                              # a network error)

Modes (switchable at any time, from any thread):

- ``"pass"``: bytes go both ways untouched.
- ``"hang"``: a new connection is accepted and never answered (what the client sends is read and
  thrown away). The mode also applies **per chunk** on connections opened earlier: browsers reuse
  keep-alive connections, so the next bytes either side sends on such a connection are not
  forwarded, and that connection is hung from then on. A hung connection stays hung (open, silent)
  after a switch back to ``"pass"`` until ``release_hung()`` or ``close()`` closes it, as a request
  lost in a dead network stays lost; new connections are not affected. A connection accepted
  while hanging on which nothing was sent yet (Chromium opens spare ones) is not hung: used after
  the switch back, it connects then.
- ``"drop"``: a new connection is reset at once (RST); on an open connection the next chunk
  resets both sides.
- ``"slow"``: bytes are forwarded after ``delay`` seconds per chunk, at most ``bandwidth`` bytes a
  second (None: no cap), both ways. ``set_mode("slow", delay=0.5, bandwidth=20_000)``.

Diagnostics: ``connections`` (accepted), ``requests`` (chunks from a client that begin with an
HTTP method: roughly one per request), ``request_lines`` (their first lines, with the mode they
met), ``hung_count``, ``dropped``.

The live server of tests/conftest.py (werkzeug) closes every connection after its response
(``Connection: close``): through it a browser opens a connection per request, and keep-alive
only happens with servers that keep connections open (gunicorn with a threaded worker, nginx).

The proxy speaks plain TCP: the browser's origin is the proxy's (``http://127.0.0.1:<its port>``),
so storage and the service worker belong to that origin (cookies ignore ports: within one browser
profile they are shared with the server's own ``127.0.0.1`` origin).
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time

import pytest

MODES = ("pass", "hang", "drop", "slow")
CHUNK = 65536
HTTP_REQUEST = re.compile(rb"^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) HTTP/1\.[01]\r?\n")


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), not a FIN: the peer sees 'connection reset'."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it
    with contextlib.suppress(OSError):
        sock.close()


class _Connection:
    """One client connection and, unless it was hung from the start, its upstream twin."""

    def __init__(self, proxy: NetProxy, client: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        self.hung = False
        self.closed = False
        self.lock = threading.Lock()

    def hang(self) -> None:
        with self.lock:
            if not self.hung:
                self.hung = True
                with self.proxy._lock:
                    self.proxy.hung_count += 1

    def close(self, reset: bool = False) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        if reset:
            _reset(self.client)
            if self.upstream is not None:
                _reset(self.upstream)
        else:
            _close(self.client)
            _close(self.upstream)
        self.proxy._forget(self)

    def start(self) -> None:
        mode = self.proxy.mode
        if mode == "drop":
            with self.proxy._lock:
                self.proxy.dropped += 1
            self.close(reset=True)
            return
        # Accepted while hanging: no upstream yet. If the client's first bytes come while the
        # proxy still hangs, they are lost and the connection is hung; if they come after a
        # switch back (a browser's spare, pre-opened socket), it connects then, as a connect
        # stalled in a dead network would complete once the network is back.
        if mode != "hang" and not self._connect():
            return
        threading.Thread(target=self._pump, args=(self.client, True), daemon=True).start()

    def _connect(self) -> bool:
        try:
            self.upstream = socket.create_connection(
                ("127.0.0.1", self.proxy.target_port), timeout=5
            )
            self.upstream.settimeout(None)
        except OSError:  # the server is down: the client sees its connection go
            self.close(reset=True)
            return False
        threading.Thread(target=self._pump, args=(self.upstream, False), daemon=True).start()
        return True

    def _pump(self, source: socket.socket, from_client: bool) -> None:
        proxy = self.proxy
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            if not data:  # one side closed (or we did)
                # Close both, as a pipe would; but a hung client stays hung when the server
                # lets its end of the connection go.
                if from_client or not self.hung:
                    self.close()
                return
            if from_client:
                proxy._saw(data)
            mode = proxy.mode
            if self.hung or mode == "hang":
                self.hang()  # held forever: nothing is forwarded either way
                continue
            if mode == "drop":
                with proxy._lock:
                    proxy.dropped += 1
                self.close(reset=True)
                return
            if self.upstream is None and not self._connect():
                return
            sink = self.upstream if from_client else self.client
            if mode == "slow":
                if not self._send_slowly(sink, data):
                    self.close()
                    return
                continue
            try:
                sink.sendall(data)
            except OSError:
                self.close()
                return

    def _send_slowly(self, sink: socket.socket, data: bytes) -> bool:
        proxy = self.proxy
        if proxy.delay:
            time.sleep(proxy.delay)
        step = 1024 if proxy.bandwidth else len(data)
        for start in range(0, len(data), step):
            if self.closed:
                return False
            piece = data[start : start + step]
            try:
                sink.sendall(piece)
            except OSError:
                return False
            if proxy.bandwidth:
                time.sleep(len(piece) / proxy.bandwidth)
        return True


class NetProxy:
    """A TCP proxy from a free port of 127.0.0.1 to ``target_port`` there; see the module doc."""

    def __init__(self, target_port: int, mode: str = "pass"):
        self.target_port = target_port
        self.delay = 0.0
        self.bandwidth: float | None = None
        self.connections = 0
        self.requests = 0
        self.request_lines: list[tuple[str, str]] = []
        self.hung_count = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._open: set[_Connection] = set()
        self._stopping = threading.Event()
        self.set_mode(mode)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, name="netproxy", daemon=True)
        self._thread.start()

    def set_mode(self, mode: str, *, delay: float | None = None, bandwidth: float | None = None):
        """Switch the mode for new connections and for the next chunk on open ones. For "slow",
        `delay` (s per chunk) and `bandwidth` (bytes/s, None for no cap) are kept until changed."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if delay is not None:
            self.delay = delay
        if bandwidth is not None:
            self.bandwidth = bandwidth
        self.mode = mode

    def release_hung(self) -> int:
        """Close every hung connection (their clients see the connection end), and the idle ones
        accepted while hanging; returns how many."""
        with self._lock:
            hung = [c for c in self._open if c.hung or c.upstream is None]
        for connection in hung:
            connection.close()
        return len(hung)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    @property
    def hung_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self._open if c.hung)

    def stats(self) -> dict:
        """A summary for assertion messages."""
        return {
            "mode": self.mode,
            "connections": self.connections,
            "open": self.open_connections,
            "hung_now": self.hung_connections,
            "hung_ever": self.hung_count,
            "dropped": self.dropped,
            "requests": self.requests,
            "last_requests": self.request_lines[-10:],
        }

    def close(self) -> None:
        """Stop listening and close every connection, hung or not."""
        self._stopping.set()
        _close(self._listener)
        self._thread.join(timeout=5)
        with self._lock:
            everything = list(self._open)
        for connection in everything:
            connection.close()

    def __enter__(self) -> NetProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<NetProxy {self.url} -> :{self.target_port} {self.stats()}>"

    # internals -------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, client)
            with self._lock:
                self.connections += 1
                self._open.add(connection)
            connection.start()

    def _saw(self, data: bytes) -> None:
        match = HTTP_REQUEST.match(data)
        if match:
            with self._lock:
                self.requests += 1
                line = f"{match.group(1).decode()} {match.group(2).decode(errors='replace')}"
                self.request_lines.append((self.mode, line))

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._open.discard(connection)


@pytest.fixture
def net_proxy(server):
    """A NetProxy in front of the live server (tests/conftest.py's `server`), in "pass" mode."""
    with NetProxy(server.port) as proxy:
        yield proxy
