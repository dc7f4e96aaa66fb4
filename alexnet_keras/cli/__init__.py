"""Command line: ``python -m alexnet_keras {summary, train, evaluate, prepare, convert-weights, ablation, bench}``.

``train``'s flags are generated from ``TrainConfig``'s fields (name, type, help, choices, range).
A bad argument ends the command with one line, ``<command>: error: <what is wrong and the fix>``, and
exit status 2; a user's error at run time (a missing folder, a corrupt image, missing ILSVRC tars,
a diverged run) with one ``error:`` line and status 1. Set ``ALEXNET_KERAS_TRACEBACK=1`` to see the
traceback of such errors as well.
"""

from alexnet_keras.cli.main import build_parser, main
from alexnet_keras.cli.parser import ArgumentParser, UsageError
from alexnet_keras.cli.train import add_train_arguments, add_train_command, config_from_args, flag_name

__all__ = [
    "ArgumentParser", "UsageError", "add_train_arguments", "add_train_command", "build_parser",
    "config_from_args", "flag_name", "main",
]
