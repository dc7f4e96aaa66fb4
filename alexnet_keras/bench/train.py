"""``python -m alexnet_keras bench train``: training images/s of the paper's AlexNet.

Times the full training step (forward, loss, backward, the paper's SGD update; Section 5) of
``alexnet("paper")`` on synthetic data held in memory, so only the model is measured, never the
input pipeline (``bench input`` measures that). It reports:

- images/s with XLA (``jit_compile``) off and on, for the stated batch and image size;
- the machine's measured float32 matmul throughput (GFLOP/s, TensorFlow, same threads) and the
  fraction of it the training step reaches, counting a training step as about 3 x the forward
  multiply-accumulates x 2 FLOPs (forward, input gradients, weight gradients);
- the same network trained in PyTorch, eager and compiled with ``torch.compile``
  (``benchmarks/torch_alexnet.py``), when torch is importable, each in a subprocess with the same
  number of threads, timed in rounds interleaved with TensorFlow's; the ratio to each is printed.

Warm-up steps (XLA compiles in the first) are not timed. Each setting is timed ``--repeats`` times
and the median is reported. The last line is ``images_per_second=N`` for the project's default
setting on one device (``TrainConfig.xla``: XLA on; float32, towers ``split``) at batch
``--batch-size``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def default_xla() -> bool:
    """XLA as ``python -m alexnet_keras train`` uses it by default on one device
    (``TrainConfig.xla``, ``xla_enabled``): the last line reports that setting. False when the
    trainer is not importable."""
    try:
        from alexnet_keras.training import TrainConfig, xla_enabled
    except ImportError:
        return False
    return xla_enabled(TrainConfig().xla, distributed=False)

TORCH_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "torch_alexnet.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alexnet_keras bench train",
        description="Training images/s of the paper's AlexNet: XLA off and on, as a fraction of the "
        "measured float32 matmul throughput, against PyTorch eager and torch.compile on the same network.",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--image-size", type=int, default=227, help="input height and width (227)")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per repeat (default 4)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed rounds per setting, interleaved; medians are reported (3)")
    parser.add_argument("--xla", choices=["off", "on", "both"], default="both",
                        help="which jit_compile settings to time (default both)")
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
    parser.add_argument("--no-torch-compile", action="store_true",
                        help="time PyTorch eager only (torch.compile needs a C++ compiler and "
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


def configure_threads(threads: int | None, inter_op_threads: int | None) -> None:
    """Thread pools must be set before TensorFlow runs its first op."""
    import tensorflow as tf

    try:
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        if inter_op_threads:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
    except RuntimeError as error:  # TensorFlow already initialised by the caller
        print(f"note: thread settings not applied ({error})", file=sys.stderr)


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Float32 matmul throughput of this machine under TensorFlow, GFLOP/s (median of ``repeats``)."""
    import tensorflow as tf

    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])

    @tf.function
    def product():
        return tf.reduce_sum(tf.linalg.matmul(a, b))

    product().numpy()  # trace and warm up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def add_lrn_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lrn", choices=["ops", "autodiff", "tf"], default="ops",
                        help="'ops': the package's LocalResponseNormalization (keras.ops, its own "
                        "gradient); 'autodiff': the same forward with the gradient left to autodiff "
                        "(the package before 2026-12-02); 'tf': tf.nn.local_response_normalization")


def _autodiff_lrn_layer_class():
    """The package's LRN forward, differentiated by autodiff instead of its written-out gradient."""
    from keras import ops

    from alexnet_keras.model.layers import LocalResponseNormalization

    class AutodiffLocalResponseNormalization(LocalResponseNormalization):
        def _normalize(self, x):
            norm = self.bias + self.alpha * self._window_sum(ops.square(x))
            return x * ops.exp(-self.beta * ops.log(norm))

    return AutodiffLocalResponseNormalization


def _tf_lrn_layer_class():
    """A prototype LRN with tf.nn.local_response_normalization (same formula, TensorFlow only)."""
    import tensorflow as tf

    from alexnet_keras.model.layers import LocalResponseNormalization

    class TFLocalResponseNormalization(LocalResponseNormalization):
        def call(self, inputs):
            return tf.nn.local_response_normalization(
                inputs, depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha,
                beta=self.beta,
            )

    return TFLocalResponseNormalization


def build_model(args: argparse.Namespace, jit_compile: bool):
    """The paper model, compiled with the project's optimiser (coupled weight decay)."""
    import keras

    from alexnet_keras.model import architecture as models

    original = models.LocalResponseNormalization
    if args.lrn != "ops":
        models.LocalResponseNormalization = {"tf": _tf_lrn_layer_class,
                                             "autodiff": _autodiff_lrn_layer_class}[args.lrn]()
    try:
        model = models.alexnet(
            "paper", classes=args.num_classes,
            input_shape=(args.image_size, args.image_size, 3),
            tower_implementation=args.tower_implementation,
        )
    finally:
        models.LocalResponseNormalization = original
    try:
        from alexnet_keras.training.optimizer import build_optimizer

        optimizer = build_optimizer(0.01, momentum=0.9, weight_decay=5e-4)
    except ImportError:  # the trainer's module is optional here
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    model.compile(
        optimizer=optimizer, loss="sparse_categorical_crossentropy", jit_compile=jit_compile
    )
    return model


def forward_macs(model) -> int:
    from alexnet_keras.model.summary import layer_table, totals

    return totals(layer_table(model))[1]


class TorchReference:
    """benchmarks/torch_alexnet.py in a subprocess (``--serve``): warmed up once, then one timed
    round per ``rate()`` call, so its rounds interleave with TensorFlow's and meet the same load."""

    def __init__(self, args: argparse.Namespace, channels_last: bool = False, compile: bool = False):
        command = [
            sys.executable, str(TORCH_SCRIPT), "--serve", "--batch-size", str(args.batch_size),
            "--image-size", str(args.image_size), "--num-classes", str(args.num_classes),
            "--steps", str(args.steps), "--warmup", str(args.warmup),
        ]
        if args.threads:
            command += ["--threads", str(args.threads)]
        if channels_last:
            command.append("--channels-last")
        if compile:
            command.append("--compile")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.info = self._read()
        self.rates: list[float] = []

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"PyTorch reference failed:\n{self.process.stderr.read()[-2000:]}")
        return json.loads(line)

    def rate(self) -> float:
        self.process.stdin.write("time\n")
        self.process.stdin.flush()
        self.rates.append(self._read()["images_per_second"])
        return self.rates[-1]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def start_torch_references(args: argparse.Namespace) -> list[TorchReference]:
    """The PyTorch references to time, or none when torch or the script is missing."""
    import importlib.util

    if args.no_torch:
        return []
    if importlib.util.find_spec("torch") is None:
        print("PyTorch reference skipped: torch is not installed")
        return []
    if not TORCH_SCRIPT.exists():
        print(f"PyTorch reference skipped: {TORCH_SCRIPT} not found (a source checkout has it)")
        return []
    references = []
    settings = [(False, False)] + ([(True, False)] if args.torch_channels_last else [])
    if not args.no_torch_compile:
        settings.append((False, True))
    for channels_last, compile in settings:
        try:
            references.append(TorchReference(args, channels_last, compile))
        except RuntimeError as error:
            print(error)
    return references


def run_rounds(args: argparse.Namespace, settings: list[bool]):
    """Warm everything up, then ``--repeats`` rounds of: matmul, each Keras setting, each PyTorch
    reference. Interleaving makes a burst of load on a shared machine hit every contender."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = (rng.standard_normal((args.batch_size, args.image_size, args.image_size, 3)) * 50)
    images = images.astype("float32")
    labels = rng.integers(0, args.num_classes, size=(args.batch_size,))
    models = {}
    for jit in settings:
        models[jit] = build_model(args, jit)
        for _ in range(args.warmup):  # XLA compiles during the first
            models[jit].train_on_batch(images, labels)
    macs = forward_macs(next(iter(models.values())))
    references = start_torch_references(args)
    matmul = []
    rates = {jit: [] for jit in settings}
    try:
        for _ in range(args.repeats):
            matmul.append(matmul_gflops(args.matmul_size))
            for jit, model in models.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    model.train_on_batch(images, labels)  # returns numpy: the step has finished
                rates[jit].append(args.steps * args.batch_size / (time.perf_counter() - start))
            for reference in references:
                reference.rate()
    finally:
        for reference in references:
            reference.close()
    return matmul, rates, references, macs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    configure_threads(args.threads, args.inter_op_threads)
    import tensorflow as tf

    settings = {"off": [False], "on": [True], "both": [False, True]}[args.xla]
    cores = os.cpu_count()
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux)")
    print(f"AlexNet 'paper' training step: batch {args.batch_size}, {args.image_size}x"
          f"{args.image_size}x3 float32, towers '{args.tower_implementation}', LRN '{args.lrn}', "
          f"synthetic data in memory")
    print(f"machine: {cores} cores; TensorFlow {tf.__version__}, intra-op threads "
          f"{args.threads or 'default'}, inter-op {args.inter_op_threads or 'default'}, "
          f"TF_ENABLE_ONEDNN_OPTS={onednn}")
    print(f"timing: {args.warmup} warm-up steps, then {args.repeats} interleaved rounds of "
          f"{args.steps} steps per setting; medians")

    matmul, rates, references, macs = run_rounds(args, settings)
    gflops = statistics.median(matmul)
    print(f"float32 matmul ({args.matmul_size}x{args.matmul_size}), TensorFlow: {gflops:.1f} GFLOP/s"
          f"  rounds: {', '.join(f'{v:.1f}' for v in matmul)}")
    train_flops = 3 * 2 * macs  # per image: forward, input gradients, weight gradients
    print(f"forward {macs:,} MACs per image; training ~3 x 2 x MACs = {train_flops / 1e9:.2f} GFLOP")
    figures = {
        "batch_size": args.batch_size, "image_size": args.image_size,
        "tower_implementation": args.tower_implementation, "lrn": args.lrn,
        "threads": args.threads, "cores": cores, "matmul_gflops": gflops, "matmul_rounds": matmul,
        "forward_macs_per_image": macs, "keras": {}, "torch": [],
    }

    def report(label: str, values: list[float]) -> dict:
        rate = statistics.median(values)
        fraction = rate * train_flops / (gflops * 1e9)
        print(f"{label:<48} {rate:7.2f} images/s ({rate * train_flops / 1e9:6.1f} GFLOP/s, "
              f"{fraction:4.0%} of matmul)  rounds: {', '.join(f'{v:.2f}' for v in values)}")
        return {"images_per_second": rate, "fraction_of_matmul": fraction, "rounds": values}

    for jit, values in rates.items():
        figures["keras"][f"xla_{'on' if jit else 'off'}"] = report(
            f"Keras/TF XLA {'on' if jit else 'off'}", values)
    for reference in references:
        entry = report(f"{reference.info['framework']} {reference.info['setting']}",
                       reference.rates)
        figures["torch"].append({**reference.info, **entry})
        for jit, values in rates.items():
            print(f"  Keras/TF XLA {'on' if jit else 'off'} / torch {reference.info['setting']}: "
                  f"{statistics.median(values) / entry['images_per_second']:.2f}x")

    default = default_xla()
    default = default if default in rates else settings[0]
    result = statistics.median(rates[default])
    figures["default"] = {"xla": default, "images_per_second": result}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    print(f"project default (TrainConfig): XLA {'on' if default else 'off'}; this run: towers "
          f"'{args.tower_implementation}', LRN '{args.lrn}', batch {args.batch_size}")
    print(f"images_per_second={result:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
