"""One process at a time in a folder: ``train``'s run folder, ``prepare``'s output.

Two trainings writing one run folder mix their CSV rows, configurations and checkpoints; two
``prepare`` calls delete each other's temporary shards. So each command holds an advisory lock
(``fcntl.flock``) on its output folder while it runs, and a second one is refused at once, naming
the process that holds it. The lock belongs to the open file descriptor of the live process: the
kernel drops it when the process ends, however it ends (SIGKILL, a crash), so a killed run never
leaves its folder locked and the same command resumes at once. No lock file is written. (Where
``fcntl`` does not exist, on Windows, nothing is locked.)
"""

from __future__ import annotations

import contextlib
import errno
import os


class FolderInUseError(ValueError):
    """Another live process holds the folder's lock; the message names it and what to do."""


def lock_holder(folder: str) -> int | None:
    """The process id holding an flock on ``folder`` (from Linux's /proc/locks), or None."""
    try:
        inode = os.stat(folder).st_ino
        with open("/proc/locks") as handle:
            for line in handle:
                fields = line.split()  # 1: FLOCK ADVISORY WRITE 1234 00:2e:5678 0 EOF
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
                    return int(fields[4])
    except (OSError, ValueError):
        pass
    return None


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, what: str, fix: str):
    """Hold ``folder``'s lock (creating the folder; a folder this call created is removed again if
    the block fails before writing into it) for the ``with`` block; ``FolderInUseError``
    ("``folder`` is in use: process N ... so this ``what`` would mix with it; ``fix``") when
    another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    folder = os.fspath(folder)
    created = not os.path.exists(folder)
    os.makedirs(folder, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    finished = False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = lock_holder(folder)
            who = f"process {holder}" if holder else "another process"
            raise FolderInUseError(f"{folder} is in use: {who} (a train or prepare writing "
                                   f"there) holds its lock, so this {what} would mix with it; "
                                   f"{fix}") from None
        yield
        finished = True
    finally:
        if created and not finished and not os.listdir(folder):
            os.rmdir(folder)  # refused or failed before writing anything: leave no empty folder
        os.close(descriptor)
