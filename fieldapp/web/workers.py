"""gunicorn's threaded worker, taking turns with its siblings at accepting connections.

Every worker waits on the one listening socket, and the one the kernel runs first accepts
whatever is waiting: when fifty phones (or wrk's fifty connections) arrive at once, one worker
took 43 of them and another 49 (seen with `ss`), and those requests queued behind each other
while other workers idled; a kept-alive connection stays with its worker. Yielding the CPU after
each accept lets the siblings take the next ones: 8 to 15 connections per worker out of 50, and
the participant page's p99 at 50 connections went from 93 ms to 81 ms, median of 8 rounds, at
the same throughput (bench/load.py). One system call per new connection, not per request.
"""

from __future__ import annotations

import os

from gunicorn.workers.gthread import ThreadWorker

#: Not every system has it (Linux does); without it the worker accepts as gunicorn's does.
_yield = getattr(os, "sched_yield", lambda: None)


class TakingTurnsWorker(ThreadWorker):
    def accept(self, listener):
        super().accept(listener)
        _yield()
