"""``train``: one flag per ``TrainConfig`` field (name, type, help, choices and range from the field)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import typing

from alexnet_keras.cli.parser import UsageError
from alexnet_keras.training.config import TrainConfig


def flag_name(field: str) -> str:
    """``--learning-rate`` for the ``TrainConfig`` field ``learning_rate``: one flag per field."""
    return "--" + field.replace("_", "-")


def _value_parser(kind, field: str, check):
    """An argparse ``type=``: converts the text to ``kind`` and applies the field's range check, so
    a bad value is refused when the command line is parsed."""

    def parse(text: str):
        if kind is _STR_OR_INT:
            value = int(text) if text.lstrip("-").isdigit() else text
        else:
            value = kind(text)  # a ValueError here reads "invalid int value: 'x'"
        if check is not None and not check[0](value):
            raise argparse.ArgumentTypeError(f"must be {check[1]}; received {text}")
        return value

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


_STR_OR_INT = object()
_METAVARS = {int: "N", float: "X"}  # strings: the field's last word (DIR, PATH, OUTPUT)


def _field_kind(annotation):
    """``int`` for ``int | None``, ``bool`` for ``bool | None``, ... from a field's annotation."""
    kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)] or [annotation]
    if set(kinds) == {str, int}:
        return _STR_OR_INT
    return kinds[0]


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per ``TrainConfig`` field (named after it; type, help, choices and range from the
    field), plus ``--demo``. Every flag defaults to "not given", so the config's default holds."""
    parser.add_argument(
        "--demo", action="store_true",
        help="the offline demo run (AlexNet on the generated set, ~10 minutes on 2 CPU cores); "
        "other flags override its settings",
    )
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        meta = field.metadata
        kind = _field_kind(hints[field.name])
        names = [flag_name(field.name), *meta.get("aliases", ())]
        text = meta.get("help", field.name)
        if field.default is not None:
            text += f" (default: {field.default})"
        if kind is bool:
            parser.add_argument(*names, dest=field.name, action=argparse.BooleanOptionalAction,
                                default=None, help=text)
            continue
        choices = meta.get("choices")
        parser.add_argument(
            *names, dest=field.name, default=None, help=text,
            type=_value_parser(kind, field.name, meta.get("check")),
            choices=list(choices) if choices is not None else None,
            metavar=None if choices is not None else _METAVARS.get(kind) or field.name.split("_")[-1].upper(),
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """``TrainConfig`` (or ``TrainConfig.demo()`` with ``--demo``) with every given flag applied.

    Raises ``UsageError`` (the command line's fault) when the config refuses the combination.
    """
    overrides = {
        field.name: getattr(args, field.name) for field in dataclasses.fields(TrainConfig)
        if getattr(args, field.name, None) is not None
    }
    try:
        return TrainConfig.demo(**overrides) if args.demo else TrainConfig(**overrides)
    except ValueError as error:
        raise UsageError(_with_flags(str(error))) from None


def _with_flags(message: str) -> str:
    """A config message as the command line says it: ``image_size 0`` -> ``--image-size 0``.

    Translates the field names that hold an underscore, and the one a message starts with (plain
    words such as "pooling" elsewhere in a sentence stay as they are)."""
    for field in dataclasses.fields(TrainConfig):
        if "_" in field.name:
            message = re.sub(rf"(?<![\w-]){field.name}\b", flag_name(field.name), message)
        elif message.startswith(f"{field.name} "):
            message = flag_name(field.name) + message[len(field.name):]
    return message


def _run_train(args: argparse.Namespace) -> int:
    from alexnet_keras.training import distribute
    from alexnet_keras.training.fit import fit, format_metrics_table

    config = config_from_args(args)
    print(f"Training configuration: {json.dumps(dataclasses.asdict(config))}")
    try:
        result = fit(config)
    except KeyboardInterrupt as error:  # fit's TrainingInterrupted says how far it got
        print(f"\n{error}" if str(error) else "\nInterrupted: run the same command to resume.",
              file=sys.stderr)
        return 130
    if not distribute.is_chief():
        return 0
    paths = result.paths
    if result.status == "trained":  # "complete": fit has said so, and trained nothing
        print(f"\nTrained epochs {result.initial_epoch + 1} to {config.epochs} in "
              f"{result.seconds / 60:.1f} min ({result.replicas} replica(s), global batch "
              f"{result.global_batch_size}, learning rate {result.learning_rate:g})")
    print(format_metrics_table(result.history))
    if args.demo and config.dataset == "offline":  # the test split, touched once, after training
        from alexnet_keras.training.scoring import format_test_report, test_report

        print(format_test_report(test_report(config, paths, steps=config.validation_steps)))
    print(f"best checkpoint:  {paths['best']}")
    print(f"last checkpoint:  {paths['last']}")
    if "tensorboard" in paths:
        print(f"TensorBoard logs: {paths['tensorboard']}  (tensorboard --logdir {paths['tensorboard']})")
    print(f"CSV log:          {paths['csv']}")
    print(f"training curves:  {paths['plot']}")
    return 0


def add_train_command(subparsers) -> argparse.ArgumentParser:
    """Add ``train`` to an ``argparse`` subparsers object (``python -m alexnet_keras train``)."""
    parser = subparsers.add_parser(
        "train", help="train AlexNet (the paper's recipe; --demo for the offline demo)",
        description="Train AlexNet with the paper's recipe (Sections 4 and 5); one flag per "
        "TrainConfig field.",
    )
    add_train_arguments(parser)
    parser.set_defaults(func=_run_train)
    return parser
