"""Command line: ``python -m alexnet_keras {summary, train, evaluate, bench}``.

``train``'s flags are generated from ``TrainConfig``'s fields (name, type, help, choices, range).
A bad argument ends the command with one line, ``<command>: error: <what is wrong and the fix>``, and
exit status 2; a user's error at run time (a missing folder, a corrupt image, missing ILSVRC tars,
a diverged run) with one ``error:`` line and status 1. Set ``ALEXNET_KERAS_TRACEBACK=1`` to see the
traceback of such errors as well.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import typing

from alexnet_keras.training.config import TrainConfig

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DESCRIPTION = "AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012) in Keras: summary, train, evaluate, bench."


class UsageError(ValueError):
    """A command line the config refuses: reported like argparse's own errors (status 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line: ``<prog>: error: <message>``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _summary(args: argparse.Namespace) -> int:
    from alexnet_keras.model.architecture import alexnet
    from alexnet_keras.model.summary import format_table, layer_table

    shape = (args.image_size, args.image_size, 3) if args.image_size else None
    model = alexnet(args.variant, classes=args.classes, input_shape=shape)
    size = model.input_shape[1]
    print(f"AlexNet, variant {args.variant!r}, {size}x{size}x3 input, {args.classes} classes")
    print(format_table(layer_table(model)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "input":
        from alexnet_keras.bench.input import main
    else:
        from alexnet_keras.bench.train import main
    return main(args.rest) or 0


# ---------------------------------------------------------------------------------------- train


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


def _run_evaluate(args: argparse.Namespace) -> int:
    from alexnet_keras.training.evaluate import evaluate, format_results

    if bool(args.checkpoint) == bool(args.weights):
        raise UsageError("give --checkpoint FILE.keras [FILE.keras ...] (an ensemble is averaged) "
                         "or --variant NAME --weights imagenet|FILE, not both or neither")
    checkpoint = args.checkpoint
    if args.weights:
        from alexnet_keras.model.architecture import alexnet
        from alexnet_keras.model.weights import WeightsImportError

        try:
            checkpoint = alexnet(args.variant, weights=args.weights)
        except WeightsImportError as error:
            raise ValueError(str(error)) from error
    # Pretrained weights (torchvision's) expect torchvision's normalisation; our checkpoints the mean.
    preprocessing = args.preprocessing or ("torch" if args.weights else "paper")
    results = evaluate(
        checkpoint, preprocessing=preprocessing, dataset=args.dataset, split=args.split, data_dir=args.data_dir,
        manual_dir=args.manual_dir, batch_size=args.batch_size, image_size=args.image_size,
        crops=args.crops, steps=args.steps, data_path=args.data_path, skip_corrupt=args.skip_corrupt,
    )
    print(format_results(results))
    if args.json:
        print(json.dumps(results))
    return 0


def add_evaluate_command(subparsers) -> argparse.ArgumentParser:
    """Add ``evaluate`` to an ``argparse`` subparsers object (``python -m alexnet_keras evaluate``)."""
    parser = subparsers.add_parser(
        "evaluate", help="top-1/top-5 error of a checkpoint, centre crop and ten crops",
        
    )
    parser.add_argument("--checkpoint", nargs="+", default=None,
                        help=".keras files written by train; several: their softmax outputs are "
                        "averaged (the paper's ensembles, Section 6)")
    parser.add_argument("--variant", default="torchvision", help="with --weights: the variant built")
    parser.add_argument("--weights", default=None,
                        help="instead of --checkpoint: imagenet (torchvision's), FILE.pth or "
                        "FILE.weights.h5")
    parser.add_argument("--preprocessing", default=None, choices=["paper", "torch"],
                        help="preprocess_input mode (default: torch with --weights, else paper)")
    parser.add_argument("--dataset", default="imagenet2012")
    parser.add_argument("--split", default="validation", choices=["train", "validation"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--data-path", default=None, help="the image folder of --dataset folder")
    parser.add_argument("--skip-corrupt", action="store_true", help="leave unreadable images out")
    parser.add_argument("--manual-dir", default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=None, help="default: the model's input")
    parser.add_argument("--crops", default="both", choices=["center", "ten", "both"])
    parser.add_argument("--steps", type=int, default=None, help="evaluate the first N batches only")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.set_defaults(func=_run_evaluate)
    return parser


def _run_convert_weights(args: argparse.Namespace) -> int:
    from alexnet_keras.model.architecture import alexnet
    from alexnet_keras.model.weights import WeightsImportError, save_torch_state_dict

    try:
        model = alexnet("torchvision", weights=args.source)
        if args.to_torch:
            save_torch_state_dict(model, args.output)
        else:
            model.save_weights(args.output)
    except WeightsImportError as error:
        raise ValueError(str(error)) from error
    print(f"wrote {args.output}")
    return 0


def add_convert_weights_command(subparsers) -> argparse.ArgumentParser:
    """``python -m alexnet_keras convert-weights FILE.pth --output FILE.weights.h5`` (and back)."""
    parser = subparsers.add_parser(
        "convert-weights", help="torchvision's AlexNet .pth to Keras .weights.h5, or back (--to-torch)")
    parser.add_argument("source", help="a torchvision state dict (.pth), or with --to-torch a "
                        ".weights.h5 file of alexnet('torchvision'); 'imagenet': torchvision's own")
    parser.add_argument("--output", required=True, help="FILE.weights.h5 (or FILE.pth with --to-torch)")
    parser.add_argument("--to-torch", action="store_true",
                        help="write a state dict that torchvision.models.alexnet() loads")
    parser.set_defaults(func=_run_convert_weights)
    return parser


def _run_prepare(args: argparse.Namespace) -> int:
    from alexnet_keras.data.prepared_build import prepare

    manifest = prepare(
        args.output, dataset=args.dataset, data_path=args.data_path, data_dir=args.data_dir,
        manual_dir=args.manual_dir, skip_corrupt=args.skip_corrupt, shards=args.shards,
        workers=args.workers, verify=args.verify,
    )
    for split, entry in manifest["splits"].items():
        count = entry.get("num_examples", f"same as {entry.get('same_as')}")
        print(f"{split}: {count} images in {len(entry.get('shards', []))} shard(s)")
    print(f"prepared 256x256 data in {args.output}; train with: python -m alexnet_keras train "
          f"--prepared {args.output}")
    return 0


def add_prepare_command(subparsers) -> argparse.ArgumentParser:
    """Add ``prepare`` (``python -m alexnet_keras prepare``): the 256x256 format of Section 2."""
    from alexnet_keras.data.catalog import NAMES

    parser = subparsers.add_parser(
        "prepare", help="write a data set as 256x256 JPEGs in TFRecord shards (Section 2)",
        description="Rescale the shorter side to 256, keep the central 256x256 square, store it as "
        "JPEG in TFRecord shards with a manifest, the mean image and the RGB PCA. Rerun the same "
        "command to continue an interrupted build.")
    parser.add_argument("--dataset", default="imagenet2012", choices=list(NAMES))
    parser.add_argument("--data-path", default=None, help="the image folder of --dataset folder")
    parser.add_argument("--data-dir", default=None,
                        help="TFDS data_dir (for offline: the folder holding offline/)")
    parser.add_argument("--manual-dir", default=None,
                        help="folder holding ILSVRC2012_img_{train,val}.tar")
    parser.add_argument("--skip-corrupt", action="store_true", help="leave unreadable images out")
    parser.add_argument("--output", required=True, help="the prepared folder to write")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPU count)")
    parser.add_argument("--shards", type=int, default=None,
                        help="shards of the train split (default: one per 1,000 images)")
    parser.add_argument("--verify", action="store_true",
                        help="check every shard's SHA-256 and rewrite the damaged ones")
    parser.set_defaults(func=_run_prepare)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m alexnet_keras", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)  # subparsers: ArgumentParser too
    from alexnet_keras.model.variants import VARIANTS

    summary = commands.add_parser("summary", help="per-layer shapes, parameters and MACs")
    summary.add_argument("--variant", default="paper", choices=list(VARIANTS))
    summary.add_argument("--classes", "--num-classes", dest="classes", type=int, default=1000)
    summary.add_argument("--image-size", type=int, default=None,
                         help="input height and width (default 227; 224 for torchvision)")
    summary.set_defaults(func=_summary)

    add_train_command(commands)
    add_evaluate_command(commands)
    add_prepare_command(commands)
    add_convert_weights_command(commands)

    bench = commands.add_parser("bench", help="throughput benchmarks: input pipeline or training step")
    bench.add_argument("what", choices=["input", "train"])
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of the benchmark (--help)")
    bench.set_defaults(func=_bench)
    for subparser in commands.choices.values():
        subparser.set_defaults(parser=subparser)  # main() reports UsageError through it
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix (bad values, missing files, corrupt images, a diverged
    run): ``main`` prints their one-line message instead of a traceback."""
    from alexnet_keras.training.callbacks import TrainingDivergedError

    return (ValueError, FileNotFoundError, NotADirectoryError, PermissionError, TrainingDivergedError)


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit status (2: bad arguments, 1: a user's error at run time)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except UsageError as error:
        args.parser.error(str(error))
    except _user_errors() as error:
        if os.environ.get("ALEXNET_KERAS_TRACEBACK"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{args.parser.prog}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
