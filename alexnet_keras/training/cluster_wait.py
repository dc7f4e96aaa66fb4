"""Waiting for the other workers of a multi-worker run: a deadline, progress, and a way out.

``MultiWorkerMirroredStrategy()`` blocks inside TensorFlow's C++ code, holding Python's global
lock, until every task that TF_CONFIG names has started. A worker that never starts means a wait
without end that no Python thread or signal handler can interrupt (Ctrl-C and SIGTERM did nothing).
So ``wait_for_peers`` first waits in Python until every peer answers on its TF_CONFIG address
(each waiting task answers on its own port meanwhile), where Ctrl-C, SIGTERM and the deadline work
as anywhere else. Then, for the short wait that remains (or a peer that dies in between),
``watch_peers`` starts a small watcher *process* (this file run as a script: the standard library
only, no TensorFlow) beside the wait. Every ``interval`` seconds it prints which peers do not
answer on their TF_CONFIG address yet. At the deadline (``--cluster-timeout``), or when this
process gets SIGINT or SIGTERM (the watcher reads them from ``signal.set_wakeup_fd``, which
Python's C-level handler writes even while the interpreter is blocked), it prints one line and
ends the waiting process with SIGKILL, the only way out of the blocked call. Nothing of the run is
written before the strategy exists, so nothing is lost. When the wait ends normally, the watcher
is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

PREFIX = "python -m alexnet_keras train: "


def listening(address: str, timeout: float = 1.0) -> bool:
    """Whether something accepts connections at ``host:port`` (a started worker's server does)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def missing_peers(jobs: dict, me: list) -> list[str]:
    """``"worker-1 (host:port)"`` for each other task of the cluster that does not answer yet."""
    return [f"{job}-{index} ({address})" for job, addresses in sorted(jobs.items())
            for index, address in enumerate(addresses)
            if [job, index] != list(me) and not listening(address)]


def _end(parent: int, message: str) -> None:
    print(f"\n{PREFIX}error: {message}", file=sys.stderr, flush=True)
    os.kill(parent, signal.SIGKILL)
    sys.exit(0)


def watch(parent: int, signals: int, jobs: dict, me: list, timeout: float, interval: float) -> None:
    """The watcher process's loop (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches us too: the parent's
    started = time.monotonic()                    # byte on ``signals`` says it
    report = started + min(3.0, interval, timeout)  # then every interval
    while os.getppid() == parent:
        ready, _, _ = select.select([signals], [], [], 0.2)
        if ready:
            data = os.read(signals, 1)
            if not data:  # the parent closed the pipe: the wait is over
                return
            _end(parent, f"stopped ({signal.Signals(data[0]).name}) while waiting for the other "
                 "workers of TF_CONFIG; nothing was written: start every worker, then run the "
                 "command again")
        now = time.monotonic()
        if now >= report:
            missing = missing_peers(jobs, me)
            if now - started >= timeout:
                _end(parent, f"the other workers of TF_CONFIG did not all start within "
                     f"--cluster-timeout {timeout:g} s (not answering: {', '.join(missing) or 'none'}"
                     "); start them with the same TF_CONFIG cluster, or raise --cluster-timeout")
            if missing:
                print(f"waiting for {', '.join(missing)} to start ({timeout - (now - started):.0f} "
                      "s left of --cluster-timeout)", file=sys.stderr, flush=True)
            report = min(report + interval, started + timeout)


def _listen(address: str):
    """A socket listening on this task's own port (peers see that it has started), or None."""
    port = address.rpartition(":")[2]
    try:
        server = socket.socket(socket.AF_INET6 if ":" in address.rpartition(":")[0] else
                               socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("", int(port)))
        server.listen(16)
        return server
    except (OSError, ValueError):  # taken, or not ours to bind: the peers wait for TensorFlow's
        return None


def wait_for_peers(jobs: dict, me: tuple, timeout: float, *, interval: float = 10.0) -> None:
    """Wait, in Python (so Ctrl-C and SIGTERM work as anywhere else), until every other chief and
    worker task of TF_CONFIG answers on its address; meanwhile this task answers on its own port.
    Prints the missing ones every ``interval`` s; ``TimeoutError`` naming them after ``timeout``."""
    jobs = {job: addresses for job, addresses in jobs.items() if job in ("chief", "worker")}
    server = _listen(jobs[me[0]][me[1]]) if me[0] in jobs else None
    started = time.monotonic()
    report = started + min(3.0, interval, timeout)  # then every interval
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    try:
        while True:
            missing = missing_peers(jobs, list(me))
            now = time.monotonic()
            if not missing:
                return
            if now - started >= timeout:
                raise TimeoutError(
                    f"the other workers of TF_CONFIG did not all start within --cluster-timeout "
                    f"{timeout:g} s (not answering: {', '.join(missing)}); start them with the same "
                    "TF_CONFIG cluster, or raise --cluster-timeout")
            if now >= report:
                print(f"waiting for {', '.join(missing)} to start ({timeout - (now - started):.0f} "
                      "s left of --cluster-timeout)", file=sys.stderr, flush=True)
                report += interval
            time.sleep(0.5)
    except KeyboardInterrupt as error:
        name = "SIGTERM" if isinstance(error, _Stopped) else "SIGINT"
        raise ClusterWaitStopped(
            f"Stopped ({name}) while waiting for the other workers of TF_CONFIG ({', '.join(missing)}"
            "); nothing was written: start every worker, then run the command again") from None
    finally:
        if server is not None:
            server.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


class ClusterWaitStopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM while waiting for the cluster; the message says so (one line)."""


class _Stopped(KeyboardInterrupt):
    pass


def _stop(*_):
    raise _Stopped()


@contextlib.contextmanager
def watch_peers(jobs: dict, me: tuple, timeout: float, *, interval: float = 10.0):
    """Watch the wait for the cluster inside the ``with`` block (see the module's docstring).

    ``me``: this process's ``(task type, index)``. Outside the main thread (where signals cannot
    be set up) the block runs unwatched."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number, handler in handlers.items():
        if not callable(handler):  # the C handler writes the wakeup fd only for signals that
            signal.signal(number, lambda *_: None)  # have a Python handler
    previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    arguments = json.dumps([os.getpid(), read, jobs, list(me), timeout, interval])
    watcher = subprocess.Popen([sys.executable, os.path.abspath(__file__), arguments],
                               pass_fds=(read,))
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write)  # the watcher reads end-of-file and returns
        watcher.wait()
        os.close(read)
        for number, handler in handlers.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    watch(*json.loads(sys.argv[1]))
