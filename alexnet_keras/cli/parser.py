"""The command line's parser: errors are one line, ``<prog>: error: <what is wrong and the fix>``."""

from __future__ import annotations

import argparse

DESCRIPTION = "AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012) in Keras: summary, train, evaluate, bench."


class UsageError(ValueError):
    """A command line the config refuses: reported like argparse's own errors (status 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line: ``<prog>: error: <message>``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def given(args: argparse.Namespace, *names: str) -> dict:
    """The options among ``names`` the command line gave (those not left at ``None``), by name."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def command_line() -> str:
    """The command as typed, for a results folder's provenance: ``python -m alexnet_keras ...``."""
    import shlex
    import sys

    return "python -m alexnet_keras " + " ".join(shlex.quote(a) for a in sys.argv[1:])
