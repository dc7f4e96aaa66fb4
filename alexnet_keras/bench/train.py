"""``python -m alexnet_keras bench train``: training images/s of the paper's AlexNet on each backend.

Times the full training step (forward, loss, backward, the paper's SGD update; Section 5) of
``alexnet("paper")`` on a synthetic batch held on the device (a GPU when there is one), so only the
model is measured, never the input pipeline (``bench input`` measures that). Contenders, each in its
own process (``alexnet_keras.bench.contenders``), timed in alternating rounds:

- Keras on each ``--backend`` (tensorflow, jax, torch; default: tensorflow and jax where installed),
  with XLA (``jit_compile``) off and on (``--xla both``, the default) or one setting; JAX is timed
  jitted only (how JAX trains; ``--jax-no-jit`` adds its eager mode);
- the same network in PyTorch (``benchmarks/torch_alexnet.py``) with the whole training step
  compiled by ``torch.compile`` (forward, backward and the optimiser: PyTorch's strongest way);
  ``--torch-eager`` adds eager PyTorch.

The defaults (batch 64, 2 warm-up steps, 3 rounds of 3 steps, four contenders) keep a run to about
five minutes on 2 CPU cores.

Also printed: the machine's float32 matmul throughput (GFLOP/s, on the first backend, measured each
round) and the fraction of it each contender reaches, counting a training step as about 3 x the
forward multiply-accumulates x 2 FLOPs. Warm-up steps (XLA and torch.compile compile in the first)
are not timed; medians of ``--repeats`` rounds are reported. One machine-readable line per
contender starts with ``bench_train``; the last line is ``images_per_second=N`` for the trainer's
default setting (``xla_enabled``) on the first backend. TensorFlow is imported only by a tensorflow
contender: ``bench train --backend jax`` runs without it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from alexnet_keras.backend import BACKENDS, installed
from alexnet_keras.bench.contenders import start_keras, start_torch
from alexnet_keras.bench.keras_step import (  # noqa: F401 (the names notebook 04 and profile use)
    _autodiff_lrn_layer_class, _tf_lrn_layer_class, add_lrn_flag, build_model, configure_threads,
    default_xla, forward_macs, matmul_gflops, run_rounds,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alexnet_keras bench train",
        description="Training images/s of the paper's AlexNet on each Keras backend, XLA off and on, "
        "as a fraction of the measured float32 matmul throughput, against PyTorch on the same network.",
    )
    parser.add_argument("--backend", nargs="+", choices=BACKENDS, default=None,
                        help="Keras backends to time (default: tensorflow and jax, where installed)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--image-size", type=int, default=227, help="input height and width (227)")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed rounds per setting, interleaved; medians are reported (3)")
    parser.add_argument("--xla", choices=["off", "on", "both", "default"], default="both",
                        help="jit_compile settings to time (default both; default: each backend's "
                        "trainer default for its device)")
    parser.add_argument("--tower-implementation", choices=["split", "groups"], default="split",
                        help="how conv2, conv4 and conv5 are grouped (default split)")
    add_lrn_flag(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads for TensorFlow and torch (default: all cores)")
    parser.add_argument("--inter-op-threads", type=int, default=None,
                        help="TensorFlow inter-op threads (default: TensorFlow's choice)")
    parser.add_argument("--matmul-size", type=int, default=2048,
                        help="n of the n x n float32 matmul that measures the machine (2048)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch references")
    parser.add_argument("--torch-eager", action="store_true",
                        help="also time eager PyTorch (torch.compile's step alone by default)")
    parser.add_argument("--jax-no-jit", action="store_true",
                        help="also time Keras on JAX without jit (with --xla both or off)")
    parser.add_argument("--torch-compile", nargs="+", choices=["step", "model"], default=["step"],
                        help="what torch.compile compiles: the whole training step (default) "
                        "and/or the model alone")
    parser.add_argument("--no-torch-compile", action="store_true",
                        help="time PyTorch eager instead (torch.compile needs a C++ compiler and "
                        "takes a minute or more to compile AlexNet)")
    parser.add_argument("--torch-channels-last", action="store_true",
                        help="also time PyTorch with channels_last memory format")
    parser.add_argument("--json", metavar="PATH", help="also write all figures to this JSON file")
    return parser


def _check(args: argparse.Namespace) -> None:
    for name in ("batch_size", "steps", "repeats", "matmul_size", "num_classes"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1; received {getattr(args, name)}")
    if args.warmup < 1:
        raise SystemExit(f"--warmup must be >= 1 (the first step builds the graph); received {args.warmup}")
    if args.image_size < 63:
        raise SystemExit(f"--image-size must be >= 63; received {args.image_size}")
    args.backend = args.backend or [name for name in ("tensorflow", "jax") if installed(name)]
    missing = [name for name in args.backend if not installed(name)]
    if missing or not args.backend:
        raise SystemExit(f"backend {', '.join(missing) or 'tensorflow or jax'} is not installed: "
                         f"pip install it, or choose another with --backend")


def run(args: argparse.Namespace):
    """Start every contender, then ``--repeats`` rounds of: the matmul (on the first Keras
    contender), each Keras contender, each PyTorch reference. Returns (matmul, Keras, PyTorch)."""
    keras_contenders, references, matmul = [], [], []
    try:
        keras_contenders = start_keras(args, args.backend)
        references = start_torch(args)
        for _ in range(args.repeats):
            matmul.append(keras_contenders[0].ask("matmul")["matmul_gflops"])
            for contender in keras_contenders + references:
                contender.rate()
    finally:
        for contender in keras_contenders + references:
            contender.close()
    return matmul, keras_contenders, references


def _quoted(value) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f'"{text}"' if " " in text or "," in text else text


def report(contender, gflops: float, train_flops: float, args) -> dict:
    """The human line and the machine-readable ``bench_train key=value ...`` line of one contender."""
    rate = statistics.median(contender.rates)
    fraction = rate * train_flops / (gflops * 1e9)
    rounds = ", ".join(f"{v:.2f}" for v in contender.rates)
    print(f"{contender.label:<56} {rate:8.2f} images/s ({rate * train_flops / 1e9:7.1f} GFLOP/s, "
          f"{fraction:4.0%} of matmul)  rounds: {rounds}")
    entry = {**contender.info, "images_per_second": rate, "fraction_of_matmul": fraction,
             "rounds": contender.rates}
    fields = {"framework": entry["framework"], "setting": entry["setting"],
              "device": entry.get("device", "?"), "batch_size": args.batch_size,
              "image_size": args.image_size, "images_per_second": rate,
              "fraction_of_matmul": fraction, "default": int(bool(entry.get("default", False)))}
    print("bench_train " + " ".join(f"{key}={_quoted(value)}" for key, value in fields.items()))
    return entry


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(f"AlexNet 'paper' training step: batch {args.batch_size}, {args.image_size}x"
          f"{args.image_size}x3 float32, towers '{args.tower_implementation}', LRN '{args.lrn}', "
          f"synthetic data on the device; backends {', '.join(args.backend)}")
    print(f"timing: each contender in its own process; {args.warmup} warm-up steps, then "
          f"{args.repeats} alternating rounds of {args.steps} steps; medians; {os.cpu_count()} cores, "
          f"threads {args.threads or 'default'}")
    matmul, contenders, references = run(args)
    first = contenders[0].info
    gflops = statistics.median(matmul)
    print(f"device: {first['device']}; float32 matmul ({args.matmul_size}x{args.matmul_size}) on "
          f"{first['backend']}: {gflops:.1f} GFLOP/s  rounds: {', '.join(f'{v:.1f}' for v in matmul)}")
    macs = first["forward_macs_per_image"]
    train_flops = 3 * 2 * macs  # per image: forward, input gradients, weight gradients
    print(f"forward {macs:,} MACs per image; training ~3 x 2 x MACs = {train_flops / 1e9:.2f} GFLOP")
    figures = {"batch_size": args.batch_size, "image_size": args.image_size, "cores": os.cpu_count(),
               "matmul_gflops": gflops, "matmul_rounds": matmul, "forward_macs_per_image": macs,
               "keras": [report(c, gflops, train_flops, args) for c in contenders],
               "torch": [report(r, gflops, train_flops, args) for r in references]}
    for contender in contenders:
        for reference in references:
            ratio = figures_rate(contender) / figures_rate(reference)
            print(f"  {contender.label} / {reference.label}: {ratio:.2f}x")
    defaults = [c for c in contenders if c.info["default"]] or contenders
    result = figures_rate(defaults[0])
    figures["default"] = {"backend": defaults[0].info["backend"], "xla": defaults[0].info["xla"],
                          "images_per_second": result}
    if args.json:
        import json
        from pathlib import Path

        Path(args.json).write_text(json.dumps(figures, indent=2))
    print(f"trainer default on {defaults[0].info['backend']} ({first['device']}): "
          f"{defaults[0].info['setting']}")
    print(f"images_per_second={result:.2f}")
    return 0


def figures_rate(contender) -> float:
    return statistics.median(contender.rates)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
