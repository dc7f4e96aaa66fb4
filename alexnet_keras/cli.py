"""Command line: ``python -m alexnet_keras {summary, train, evaluate, bench}``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from alexnet_keras.training.config import TrainConfig

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _summary(args: argparse.Namespace) -> int:
    from alexnet_keras.model.architecture import alexnet
    from alexnet_keras.model.summary import format_table, layer_table

    shape = (args.image_size, args.image_size, 3) if args.image_size else None
    model = alexnet(args.variant, num_classes=args.num_classes, input_shape=shape)
    size = model.input_shape[1]
    print(f"AlexNet, variant {args.variant!r}, {size}x{size}x3 input, {args.num_classes} classes")
    print(format_table(layer_table(model)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "input":
        from alexnet_keras.bench.input import main
    else:
        from alexnet_keras.bench.train import main
    return main(args.rest) or 0


# ---------------------------------------------------------------------------------------------- CLI

# (flag, TrainConfig field, type, help): the command line maps one to one onto TrainConfig.
_FLAGS = [
    ("--dataset", "dataset", str, "offline, imagenet2012, imagenette, cifar10 or folder"),
    ("--data-dir", "data_dir", str, "TFDS data_dir (or the folder for --dataset folder)"),
    ("--manual-dir", "manual_dir", str, "folder holding ILSVRC2012_img_{train,val}.tar"),
    ("--image-size", "image_size", int, "input height and width (default 227; 224 torchvision)"),
    ("--cache", "cache", bool, "keep decoded images in memory (small datasets)"),
    ("--variant", "variant", str, "paper, single or torchvision"),
    ("--activation", "activation", str, "relu or tanh"),
    ("--normalization", "normalization", str, "lrn (paper), batch or none"),
    ("--initializer", "initializer", str, "paper (N(0, 0.01)) or keras (Glorot)"),
    ("--dropout", "dropout", float, "dropout rate after fc6 and fc7"),
    ("--epochs", "epochs", int, "epochs to train (paper: about 90)"),
    ("--batch-size", "batch_size", int, "batch per replica (paper: 128)"),
    ("--global-batch-size", "global_batch_size", int, "global batch (must divide by replicas)"),
    ("--lr", "learning_rate", float, "base learning rate at batch 128 (paper: 0.01)"),
    ("--lr-scaling", "lr_scaling", str, "linear (lr x global batch / 128) or none"),
    ("--reference-batch-size", "reference_batch_size", int, "batch the base lr is meant for"),
    ("--momentum", "momentum", float, "SGD momentum (paper: 0.9)"),
    ("--weight-decay", "weight_decay", float, "weight decay (paper: 0.0005)"),
    ("--weight-decay-mode", "weight_decay_mode", str, "coupled (paper) or decoupled (AdamW-style)"),
    ("--schedule", "schedule", str, "paper (/10 on plateau, 3 times), step, cosine or constant"),
    ("--plateau-patience", "plateau_patience", int, "epochs without improvement before a drop"),
    ("--max-lr-drops", "max_lr_drops", int, "learning-rate drops of the paper schedule"),
    ("--lr-drop-factor", "lr_drop_factor", float, "factor of each drop (paper: 0.1)"),
    ("--step-epochs", "step_epochs", int, "epochs between drops of the step schedule"),
    ("--warmup-epochs", "warmup_epochs", int, "warm-up epochs of the cosine schedule"),
    ("--seed", "seed", int, "random seed (initialisation, data order, augmentation)"),
    ("--strategy", "strategy", str, "auto, default, mirrored, multi_worker or tpu"),
    ("--mixed-precision", "mixed_precision", str, "float32, mixed_float16 or mixed_bfloat16"),
    ("--xla", "xla", bool, "compile the training step with XLA (default: on without a distribution strategy)"),
    ("--deterministic", "deterministic", bool, "deterministic TensorFlow ops (slower)"),
    ("--steps-per-epoch", "steps_per_epoch", int, "train on the first N batches each epoch"),
    ("--validation-steps", "validation_steps", int, "validate on the first N batches"),
    ("--output", "output", str, "folder for checkpoints, logs, backup and the curves PNG"),
    ("--tensorboard", "tensorboard", bool, "write TensorBoard logs"),
]


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """``TrainConfig`` (or ``TrainConfig.demo()`` with ``--demo``) with every given flag applied."""
    overrides = {
        field: getattr(args, field) for _, field, _, _ in _FLAGS if getattr(args, field) is not None
    }
    return TrainConfig.demo(**overrides) if args.demo else TrainConfig(**overrides)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true",
        help="the offline demo run (AlexNet on the generated set, ~10 minutes on 2 CPU cores); "
        "other flags override its settings",
    )
    defaults = TrainConfig()
    for flag, field, kind, text in _FLAGS:
        default = getattr(defaults, field)
        if kind is bool:
            parser.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction,
                                default=None, help=f"{text} (default {default})")
        else:
            parser.add_argument(flag, dest=field, type=kind, default=None,
                                help=f"{text} (default {default})")


def _run_train(args: argparse.Namespace) -> int:
    from alexnet_keras.training import distribute
    from alexnet_keras.training.callbacks import TrainingDivergedError
    from alexnet_keras.training.fit import fit, format_metrics_table

    config = config_from_args(args)
    print(f"Training configuration: {json.dumps(dataclasses.asdict(config))}")
    try:
        result = fit(config)
    except TrainingDivergedError as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    if not distribute.is_chief():
        return 0
    paths = result.paths
    print(f"\nTrained {len(result.history.get('loss', []))} epochs in {result.seconds / 60:.1f} min "
          f"({result.replicas} replica(s), global batch {result.global_batch_size}, "
          f"learning rate {result.learning_rate:g})")
    print(format_metrics_table(result.history))
    print(f"best checkpoint:  {paths['best']}")
    print(f"last checkpoint:  {paths['last']}")
    print(f"TensorBoard logs: {paths['tensorboard']}  (tensorboard --logdir {paths['tensorboard']})")
    print(f"CSV log:          {paths['csv']}")
    print(f"training curves:  {paths['plot']}")
    return 0


def add_train_command(subparsers) -> argparse.ArgumentParser:
    """Add ``train`` to an ``argparse`` subparsers object (``python -m alexnet_keras train``)."""
    parser = subparsers.add_parser(
        "train", help="train AlexNet (the paper's recipe; --demo for the offline demo)",
        
    )
    add_train_arguments(parser)
    parser.set_defaults(func=_run_train)
    return parser


def _run_evaluate(args: argparse.Namespace) -> int:
    from alexnet_keras.training.evaluate import evaluate, format_results

    results = evaluate(
        args.checkpoint, dataset=args.dataset, split=args.split, data_dir=args.data_dir,
        manual_dir=args.manual_dir, batch_size=args.batch_size, image_size=args.image_size,
        crops=args.crops, steps=args.steps,
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
    parser.add_argument("--checkpoint", required=True, help="a .keras file written by train")
    parser.add_argument("--dataset", default="imagenet2012")
    parser.add_argument("--split", default="validation", choices=["train", "validation"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--manual-dir", default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=None, help="default: the model's input")
    parser.add_argument("--crops", default="both", choices=["center", "ten", "both"])
    parser.add_argument("--steps", type=int, default=None, help="evaluate the first N batches only")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.set_defaults(func=_run_evaluate)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alexnet_keras", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    summary = commands.add_parser("summary", help="per-layer shapes, parameters and MACs")
    summary.add_argument("--variant", default="paper", choices=["paper", "single", "torchvision"])
    summary.add_argument("--num-classes", type=int, default=1000)
    summary.add_argument("--image-size", type=int, default=None,
                         help="input height and width (default 227; 224 for torchvision)")
    summary.set_defaults(func=_summary)

    add_train_command(commands)
    add_evaluate_command(commands)

    bench = commands.add_parser("bench", help="throughput benchmarks: input pipeline or training step")
    bench.add_argument("what", choices=["input", "train"])
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of the benchmark (--help)")
    bench.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
