"""The Makefile as a newcomer meets it: `make` alone, `make run PORT=...`, Ctrl-C, and
`make test`'s Debian packages while another apt holds its lock.

`make run` really runs here, in a throwaway copy of the repository (tests/checkout.py) on a
free port; apt is a stub on PATH that records how it was called.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.checkout import KEEP_VENV, ROOT, make_checkout, newcomer_env

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")


def make(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 60):
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=cwd, env=env or newcomer_env(),
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def phony_targets() -> list[str]:
    line = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    return line.split()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# make alone, make help ----------------------------------------------------------------------


def test_make_alone_lists_every_target_with_what_it_does_and_does_nothing_else():
    alone = make()
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout == make("help").stdout
    listed = dict(re.findall(r"^  (\S+) +(.+)$", alone.stdout, re.M))
    assert set(listed) == set(phony_targets())
    assert all(len(words) > 10 for words in listed.values()), listed
    # Harmless: the default goal runs nothing but the listing (no venv, no server, no apt).
    commands = make("-n").stdout
    assert not re.search(r"pip|flask|apt-get|pytest|venv", commands), commands


# make run -----------------------------------------------------------------------------------


def test_make_run_takes_port_and_host():
    plan = make("-n", *KEEP_VENV, "run", "PORT=5001", "HOST=0.0.0.0").stdout
    assert "flask --app fieldapp run --host 0.0.0.0 --port 5001" in plan
    assert "fieldapp.first_run 0.0.0.0 5001" in plan
    assert "5000" not in plan and "127.0.0.1" not in plan
    default = make("-n", *KEEP_VENV, "run").stdout
    assert "--host 127.0.0.1 --port 5000" in default


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                assert response.status == 200
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"make run never answered on {url}:\n{log.read_text()}")


#: Starts the command with the signals a terminal gives a program: Ctrl-C, Ctrl-\ and a hang-up
#: act. A process inherits *ignored* signals from whoever started it, and a test run started in
#: the background by a script (`nohup sh -c '...' &`, as a CI runner may) ignores SIGHUP, SIGINT
#: and SIGQUIT: so did make and flask under it, and `make run` never saw the Ctrl-C.
AS_FROM_A_TERMINAL = [
    sys.executable, "-c",
    "import os, signal, sys\n"
    "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT): signal.signal(s, signal.SIG_DFL)\n"
    "signal.pthread_sigmask(signal.SIG_SETMASK, [])\n"
    "os.execvp(sys.argv[1], sys.argv[1:])",
]  # fmt: skip


def test_make_run_serves_on_the_port_given_says_where_to_set_up_and_stops_quietly(tmp_path):
    """A newcomer's first `make run PORT=...` in a fresh checkout: the server answers on that
    port, the /setup address to open first is printed, and Ctrl-C (SIGINT to the terminal's
    process group) stops it without make reporting a failed command."""
    checkout = make_checkout(tmp_path / "fieldapp")
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [*AS_FROM_A_TERMINAL, MAKE, *KEEP_VENV, "run", f"PORT={port}"],
            cwd=checkout, env=newcomer_env(),
            stdout=stdout, stderr=stderr, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process, err)
        printed = out.read_text()
        assert f"Open http://127.0.0.1:{port}/setup now" in printed
        assert "becomes the collector" in printed
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    errors = err.read_text()
    assert "make: ***" not in errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    # GNU make, interrupted itself, always ends by the same signal (the shell prints nothing for
    # it, and `$?` is 130); what matters is that the server it ran stopped cleanly, quietly.
    assert status in (0, -signal.SIGINT)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the server is gone
    assert (checkout / "instance" / "secret_key").stat().st_mode & 0o077 == 0


# make test's Debian packages ----------------------------------------------------------------

APT_STUB = """#!/bin/sh
echo "$*" >> "$APT_LOG"
case " $* " in *" update "*)
  count=$(cat "$APT_COUNT" 2>/dev/null || echo 0); count=$((count + 1)); echo $count > "$APT_COUNT"
  if [ "$count" -le "$APT_FAILS" ]; then echo "$APT_ERROR" >&2; exit 100; fi ;;
esac
exit 0
"""
LOCKED = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)"


def stub_path(tmp_path: Path) -> Path:
    """A PATH holding a recording apt-get, `id` saying root, `sleep` not sleeping, the few real
    tools the recipe uses, and none of the Debian packages (so all of them are missing)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ls", "grep", "cat", "ldconfig"):
        if found := shutil.which(tool, path=f"{os.environ['PATH']}:/usr/sbin:/sbin"):
            (bin_dir / tool).symlink_to(found)
    stubs = {"apt-get": APT_STUB, "id": "#!/bin/sh\necho 0\n", "sleep": "#!/bin/sh\nexit 0\n"}
    for name, script in stubs.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def system_packages(tmp_path: Path, fails: int, error: str = LOCKED):
    env = newcomer_env(
        PATH=str(stub_path(tmp_path)),
        APT_LOG=str(tmp_path / "apt.log"),
        APT_COUNT=str(tmp_path / "apt.count"),
        APT_FAILS=str(fails),
        APT_ERROR=error,
    )
    result = make("system-packages", env=env)
    log = tmp_path / "apt.log"
    return result, log.read_text().splitlines() if log.exists() else []


def test_system_packages_waits_for_another_apt_then_installs(tmp_path):
    result, calls = system_packages(tmp_path, fails=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Waiting for another apt to release its lock") == 2
    updates = [call for call in calls if call.endswith("update -qq")]
    installs = [call for call in calls if " install " in call]
    assert len(updates) == 3 and len(installs) == 1, calls
    for call in calls:  # dpkg's lock (install) is waited for by apt itself
        assert call.startswith("-o DPkg::Lock::Timeout=120 "), call
    assert "chromium" in installs[0] and "xvfb" in installs[0]


def test_system_packages_gives_up_on_a_lock_held_for_good(tmp_path):
    result, calls = system_packages(tmp_path, fails=10_000)
    assert result.returncode != 0
    assert LOCKED in result.stderr
    assert not [call for call in calls if " install " in call]
    assert len(calls) == 120 // 5 + 1  # two minutes of 5 s waits, then the last try


def test_system_packages_fails_at_once_on_another_apt_error(tmp_path):
    result, calls = system_packages(tmp_path, fails=1, error="E: Some index files failed")
    assert result.returncode != 0
    assert "E: Some index files failed" in result.stderr
    assert calls == ["-o DPkg::Lock::Timeout=120 update -qq"]


def test_the_makefile_says_bench_needs_no_wrk():
    makefile = (ROOT / "Makefile").read_text()
    assert "`make bench` also wants `wrk`" not in makefile
    assert "wrk" not in makefile.split("\nbench:")[1].split("\n\n")[0]  # not in its recipe
