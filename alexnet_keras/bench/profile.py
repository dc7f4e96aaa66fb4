"""``python -m alexnet_keras bench profile``: where the training step of the paper's AlexNet spends
its time, layer by layer (Section 3.5, Figure 2).

Each layer of ``alexnet("paper")`` (convs, ReLU, LRN of Section 3.3, overlapping pooling of 3.4,
flatten, fc6..fc8, dropout of 4.2, softmax) is timed alone on a random batch of the shape it sees in
the network: forward (``layer(x, training=True)``) and forward+backward (gradients with respect to
its input and its weights, for a random upstream gradient), each in ``tf.function(jit_compile=...)``
after untimed warm-up (tracing, XLA compilation), median of ``--repeats`` calls. A grouped layer
(``TowerConv2D``, Section 3.2) is also timed tower by tower, so the split and concatenation cost is
the difference. Conv and dense rows show GFLOP/s: 2 FLOPs per multiply-accumulate
(``summary.layer_table``) forward, twice that backward.

Beside the sum of the layers it times the whole training step (``train_on_batch``: loss, SGD update
of Section 5) on the same batch; the difference is framework overhead less what fusion saves. Also:
float32 matmul GFLOP/s (``bench.train``), data format, TF_ENABLE_ONEDNN_OPTS, AVX512_BF16 and, with
``--bfloat16``, the whole step under ``mixed_bfloat16``. The last line, ``profile_total_ms=N``, is the
summed forward+backward ms of the layers, for the project's default XLA setting when it was timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from alexnet_keras.bench.train import (add_lrn_flag, build_model, configure_threads, default_xla,
                                       matmul_gflops)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alexnet_keras bench profile",
        description="Per-layer forward and forward+backward times of the paper's AlexNet, against "
        "the whole training step.")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--image-size", type=int, default=227, help="input height and width (227)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per figure; median (3)")
    parser.add_argument("--xla", choices=["off", "on", "both"], default="both",
                        help="which jit_compile settings to time (default both)")
    parser.add_argument("--tower-implementation", choices=["split", "groups"], default="split",
                        help="how conv2, conv4 and conv5 are grouped (default split)")
    add_lrn_flag(parser)
    parser.add_argument("--bfloat16", action="store_true",
                        help="also time the whole step under mixed_bfloat16 (needs AVX512_BF16)")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (all cores)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="n of the n x n matmul (2048)")
    parser.add_argument("--json", metavar="PATH", help="also write all figures to this JSON file")
    return parser


def cpu_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _median_ms(function, inputs, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):  # tracing, and XLA compiles during the first
        function(*inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*inputs)  # eager CPU: the call returns once the values are computed
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def time_layer(layer, input_shape, repeats: int, jit: bool) -> tuple[float, float]:
    """(forward ms, forward+backward ms) of ``layer`` on a random batch of ``input_shape``."""
    import tensorflow as tf

    x = tf.random.normal(input_shape)
    upstream = tf.random.normal(layer.compute_output_shape(tuple(input_shape)))
    weights = layer.trainable_variables

    @tf.function(jit_compile=jit)
    def forward(x):
        return layer(x, training=True)

    @tf.function(jit_compile=jit)
    def forward_backward(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return tape.gradient(y, [x, *weights], output_gradients=upstream)

    return _median_ms(forward, [x], repeats), _median_ms(forward_backward, [x, upstream], repeats)


def profile_layers(model, batch_size: int, repeats: int, jit: bool) -> list[dict]:
    """One row per layer of ``model`` (input excluded), then one per tower of each TowerConv2D."""
    import keras

    from alexnet_keras.model.layers import TowerConv2D
    from alexnet_keras.model.summary import layer_table

    macs = {row.name: row.multiply_accumulates for row in layer_table(model)}
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = (batch_size, *layer.input.shape[1:])
        forward, both = time_layer(layer, shape, repeats, jit)
        rows.append(dict(layer=layer.name, type=type(layer).__name__, forward_ms=forward,
                         forward_backward_ms=both, macs=macs[layer.name], part_of=None))
        if isinstance(layer, TowerConv2D) and layer.implementation == "split":
            tower_shape = (*shape[:-1], shape[-1] // layer.towers)
            for conv in layer.convs:
                forward, both = time_layer(conv, tower_shape, repeats, jit)
                rows.append(dict(layer=f"{layer.name}/{conv.name}", type="Conv2D",
                                 forward_ms=forward, forward_backward_ms=both,
                                 macs=macs[layer.name] // layer.towers, part_of=layer.name))
    return rows


def step_ms(args: argparse.Namespace, jit: bool, repeats: int, model=None) -> float:
    """Median ms of one ``train_on_batch`` of the paper model (loss, backward, SGD update)."""
    import numpy as np

    model = model or build_model(_model_args(args), jit)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((args.batch_size, args.image_size, args.image_size, 3))
    labels = rng.integers(0, 1000, size=(args.batch_size,))
    return _median_ms(model.train_on_batch, [images.astype("float32"), labels], repeats)


def _model_args(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(lrn=args.lrn, tower_implementation=args.tower_implementation,
                              num_classes=1000, image_size=args.image_size)


def print_table(rows: list[dict], batch_size: int) -> float:
    """Print the rows; return the summed forward+backward ms of the whole layers (towers apart)."""
    total = sum(r["forward_backward_ms"] for r in rows if r["part_of"] is None)
    print(f"{'layer':<16}{'type':<28}{'fwd ms':>9}{'fwd+bwd ms':>12}{'share':>7}"
          f"{'fwd GFLOP/s':>13}{'f+b GFLOP/s':>13}")
    for r in rows:
        rates = ""
        if r["macs"]:
            flops = 2 * r["macs"] * batch_size
            r["forward_gflops"] = flops / r["forward_ms"] / 1e6
            r["forward_backward_gflops"] = 3 * flops / r["forward_backward_ms"] / 1e6
            rates = f"{r['forward_gflops']:>13.1f}{r['forward_backward_gflops']:>13.1f}"
        share = "" if r["part_of"] else f"{r['forward_backward_ms'] / total:>7.1%}"
        name = ("  " + r["layer"]) if r["part_of"] else r["layer"]
        print(f"{name:<16}{r['type']:<28}{r['forward_ms']:>9.2f}{r['forward_backward_ms']:>12.2f}"
              f"{share:>7}{rates}")
    for r in rows:
        towers = [t for t in rows if t["part_of"] == r["layer"]]
        if towers:
            extra = r["forward_backward_ms"] - sum(t["forward_backward_ms"] for t in towers)
            print(f"{r['layer']}: split + concat ~ whole minus its towers (each call's dispatch "
                  f"counted per tower), fwd+bwd {extra:+.2f} ms")
    return total


def _check(args: argparse.Namespace) -> bool:
    """Reject bad flags with one line; return whether the CPU has AVX512_BF16."""
    for name in ("batch_size", "repeats", "matmul_size"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1; received {getattr(args, name)}")
    if args.image_size < 63:
        raise SystemExit(f"--image-size must be >= 63 (conv1 and three poolings); received "
                         f"{args.image_size}")
    bf16 = "avx512_bf16" in cpu_flags()
    if args.bfloat16 and not bf16:
        raise SystemExit("--bfloat16: this CPU lacks AVX512_BF16 (bfloat16 would be emulated, not "
                         "measured); drop the flag")
    return bf16


def _print_setup(args: argparse.Namespace, bf16: bool) -> None:
    import keras
    import tensorflow as tf

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux)")
    print(f"AlexNet 'paper' per-layer profile: batch {args.batch_size}, {args.image_size}x"
          f"{args.image_size}x3 float32, towers '{args.tower_implementation}', LRN '{args.lrn}', "
          f"data format "
          f"{keras.config.image_data_format()}; {args.repeats} timed calls after warm-up, medians")
    print(f"machine: {os.cpu_count()} cores, TensorFlow {tf.__version__}, intra-op threads "
          f"{args.threads or 'default'}, TF_ENABLE_ONEDNN_OPTS={onednn}, AVX512_BF16 "
          f"{'yes' if bf16 else 'no'}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bf16 = _check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    configure_threads(args.threads, None)
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # one tf.function per layer: retracing warnings are expected
    _print_setup(args, bf16)
    gflops = matmul_gflops(args.matmul_size)
    print(f"float32 matmul ({args.matmul_size}x{args.matmul_size}): {gflops:.1f} GFLOP/s")
    figures = {"batch_size": args.batch_size, "image_size": args.image_size,
               "matmul_gflops": gflops, "avx512_bf16": bf16, "xla": {}}
    settings = {"off": [False], "on": [True], "both": [False, True]}[args.xla]
    for jit in settings:
        model = build_model(_model_args(args), jit)
        print(f"\nXLA {'on' if jit else 'off'} (tf.function(jit_compile={jit}) per layer):")
        rows = profile_layers(model, args.batch_size, args.repeats, jit)
        total = print_table(rows, args.batch_size)
        step = step_ms(args, jit, args.repeats, model)
        print(f"sum of layers fwd+bwd {total:.2f} ms; whole training step (train_on_batch) "
              f"{step:.2f} ms; step minus sum {step - total:+.2f} ms (overhead, loss, SGD update, "
              f"minus fusion)")
        figures["xla"][f"xla_{'on' if jit else 'off'}"] = {"layers": rows, "sum_ms": total,
                                                           "step_ms": step}
    if args.bfloat16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            for jit in settings:
                step = step_ms(args, jit, args.repeats)
                print(f"mixed_bfloat16 whole training step, XLA {'on' if jit else 'off'}: "
                      f"{step:.2f} ms")
                figures["xla"][f"xla_{'on' if jit else 'off'}"]["bfloat16_step_ms"] = step
        finally:
            keras.mixed_precision.set_global_policy("float32")
    default = default_xla() if default_xla() in settings else settings[0]
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    total = figures["xla"]["xla_on" if default else "xla_off"]["sum_ms"]
    print(f"profile_total_ms={total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
