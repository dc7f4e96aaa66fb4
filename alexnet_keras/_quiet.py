"""Silence TensorFlow's C++ start-up lines, which ignore ``TF_CPP_MIN_LOG_LEVEL``.

Importing TensorFlow, and its first operation (``cuInit``), write lines such as "oneDNN custom
operations are on", "Could not find cuda drivers" and "failed call to cuInit" straight to file
descriptor 2, before absl's logging is set up: in a notebook they land in the stored outputs. This
module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration, then restore it.

    Does nothing when ``TF_CPP_MIN_LOG_LEVEL`` is ``"0"``: whoever asks for every log line gets them.
    Python exceptions raised inside still propagate (only what is *written* to stderr is lost).
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
