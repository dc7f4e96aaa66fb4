"""Progress that reads in a log: a live bar on a terminal, plain lines everywhere else.

A bar redraws itself with carriage returns, which a log file, CI output, ``nohup`` or a notebook's
stored output keep as one long garbled line. Where the output is not a terminal, progress is a
line per step of at least 10% (and the last), each complete.
"""

from __future__ import annotations

import sys


def on_terminal(stream=None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class LineProgress:
    """The part of ``tqdm``'s interface a command uses (``update``, context manager), as lines."""

    def __init__(self, total: int, desc: str, unit: str, stream=None, step: float = 0.1):
        self.total, self.desc, self.unit, self.step = max(int(total), 0), desc, unit, step
        self.stream, self.done, self.shown = stream or sys.stderr, 0, -1.0

    def update(self, n: int = 1) -> None:
        self.done += n
        share = self.done / self.total if self.total else 1.0
        if share >= 1.0 or share - max(self.shown, 0.0) >= self.step or self.shown < 0:
            self.shown = share
            print(f"{self.desc}: {self.done:,} of {self.total:,} {self.unit} ({share:.0%})",
                  file=self.stream, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(total: int, *, desc: str, unit: str, enabled: bool = True):
    """``tqdm`` on a terminal, ``LineProgress`` elsewhere, a silent one when not ``enabled``."""
    from tqdm import tqdm

    if enabled and on_terminal():
        return tqdm(total=total, unit=unit, desc=desc)
    if enabled:
        return LineProgress(total, desc, unit)
    return tqdm(total=total, disable=True)


def quiet_tfds_bars() -> None:
    """tensorflow-datasets' download and build bars, off where they would garble a log."""
    if not on_terminal():
        import tensorflow_datasets as tfds

        tfds.disable_progress_bar()
