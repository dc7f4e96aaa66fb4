"""``python -m alexnet_keras``: the parser of every subcommand, and ``main``."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys

from alexnet_keras.cli.commands import (
    positive_int,
    _bench,
    _summary,
    add_ablation_command,
    add_convert_weights_command,
    add_evaluate_command,
    add_predict_command,
    add_prepare_command,
)
from alexnet_keras.cli.figure1 import add_figure1_command
from alexnet_keras.cli.parser import DESCRIPTION, ArgumentParser, UsageError
from alexnet_keras.cli.train import add_train_command

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m alexnet_keras", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)  # subparsers: ArgumentParser too
    from alexnet_keras.model.variants import VARIANTS

    summary = commands.add_parser("summary", help="per-layer shapes, parameters and MACs")
    summary.add_argument("--variant", default="paper", choices=list(VARIANTS))
    summary.add_argument("--classes", "--num-classes", dest="classes", type=positive_int,
                         default=1000)
    summary.add_argument("--image-size", type=int, default=None,
                         help="input height and width (default 227; 224 for torchvision)")
    summary.set_defaults(func=_summary)

    add_train_command(commands)
    add_evaluate_command(commands)
    add_predict_command(commands)
    add_prepare_command(commands)
    add_convert_weights_command(commands)
    add_ablation_command(commands)
    add_figure1_command(commands)

    bench = commands.add_parser("bench", help="benchmarks: input pipeline, training step, per-layer profile")
    bench.add_argument("what", choices=["input", "train", "profile"])
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of the benchmark (--help)")
    bench.set_defaults(func=_bench)
    for subparser in commands.choices.values():
        subparser.set_defaults(parser=subparser)  # main() reports UsageError through it
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix (bad values, missing files, corrupt images, a diverged
    run): ``main`` prints their one-line message instead of a traceback."""
    from alexnet_keras.training.callbacks import TrainingDivergedError

    return (ValueError, FileNotFoundError, NotADirectoryError, PermissionError, TimeoutError,
            TrainingDivergedError)


# Errors of writing a file that the user fixes outside the program: what happened, and the fix.
_WRITE_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free some space"),
    errno.EDQUOT: ("the disk quota is used up", "free some space"),
    errno.EFBIG: ("the file-size limit is reached (ulimit -f)", "raise the limit"),
    errno.EROFS: ("the file system is read-only", "make it writable or choose another folder"),
    errno.EACCES: ("permission denied", "make the folder writable or choose another folder"),
    errno.EPERM: ("permission denied", "make the folder writable or choose another folder"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter path"),
}


def write_error_message(error: OSError) -> str | None:
    """One line for a failed write (disk full, size limit, read-only, name too long), or None."""
    if error.errno not in _WRITE_ERRORS:
        return None
    what, fix = _WRITE_ERRORS[error.errno]
    path = error.filename or "a file of the output folder"
    verb = "cannot use" if error.errno in (errno.EACCES, errno.EPERM, errno.ENAMETOOLONG) else \
        "cannot write"
    return (f"{verb} {path}: {what}. The files written before it are intact; {fix}, then "
            "run the same command again: it continues from the last finished step")


def _import_tensorflow_quietly() -> None:
    """On Keras' JAX or torch backend, TensorFlow (for tf.data) is imported by whichever module needs
    it first, and its C++ start-up lines would land in the middle of a command's output: import it
    now, with them silenced (on the tensorflow backend ``import alexnet_keras`` already did)."""
    from alexnet_keras._quiet import stderr_silenced
    from alexnet_keras.backend import installed

    if "tensorflow" not in sys.modules and installed("tensorflow"):
        with stderr_silenced():
            import tensorflow  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit status (2: bad arguments, 1: a user's error at run time)."""
    args = build_parser().parse_args(argv)
    _import_tensorflow_quietly()
    if hasattr(signal, "SIGXFSZ"):  # past `ulimit -f`, a write fails (EFBIG) instead of killing us
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        return args.func(args) or 0
    except UsageError as error:
        args.parser.error(str(error))
    except (*_user_errors(), OSError) as error:
        message = write_error_message(error) if isinstance(error, OSError) else None
        if os.environ.get("ALEXNET_KERAS_TRACEBACK") or (
                message is None and not isinstance(error, _user_errors())):
            raise
        message = message or " ".join(str(error).split()) or type(error).__name__
        print(f"{args.parser.prog}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
