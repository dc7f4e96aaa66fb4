"""Command line: ``python -m alexnet_keras {summary, train, evaluate, bench}``."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _summary(args: argparse.Namespace) -> int:
    from alexnet_keras.models import alexnet
    from alexnet_keras.summary import format_table, layer_table

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alexnet_keras", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    summary = commands.add_parser("summary", help="per-layer shapes, parameters and MACs")
    summary.add_argument("--variant", default="paper", choices=["paper", "single", "torchvision"])
    summary.add_argument("--num-classes", type=int, default=1000)
    summary.add_argument("--image-size", type=int, default=None,
                         help="input height and width (default 227; 224 for torchvision)")
    summary.set_defaults(func=_summary)

    from alexnet_keras import evaluate, train

    train.add_train_command(commands)
    evaluate.add_evaluate_command(commands)

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
