"""One Keras contender of ``bench train`` in its own process: ``python -m alexnet_keras.bench.serve
--backend jax --xla on ...``.

The package reads ``--backend`` before Keras is imported (``alexnet_keras.backend``), so each
process runs one backend. It builds and warms up the paper model, prints one JSON line (backend,
setting, device, forward MACs), then answers each line read on stdin with one JSON line: ``time``
times ``--steps`` steps, ``matmul`` measures the float32 matmul on this backend and device.
``bench train`` sends the lines in alternating rounds, so a burst of load on a shared machine hits
every contender alike. TensorFlow is imported only by the tensorflow backend.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    from alexnet_keras.backend import BACKENDS
    from alexnet_keras.bench.keras_step import add_lrn_flag

    parser = argparse.ArgumentParser(prog="python -m alexnet_keras.bench.serve")
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--xla", choices=["on", "off", "default"], required=True,
                        help="default: the trainer's default for this backend and device")
    for name in ("batch-size", "image-size", "num-classes", "steps", "warmup", "matmul-size"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--tower-implementation", choices=["split", "groups"], default="split")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--inter-op-threads", type=int, default=None)
    add_lrn_flag(parser)
    return parser


def device_name() -> str:
    """The accelerator's name on this backend, or ``cpu (N cores)``."""
    import keras

    from alexnet_keras.training.fit import device_kind

    backend = keras.backend.backend()
    if device_kind() != "cpu":
        if backend == "jax":
            import jax

            return jax.devices()[0].device_kind
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0)
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"cpu ({os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from alexnet_keras.backend import check_active
    from alexnet_keras.bench import keras_step

    check_active(args.backend)
    import keras

    keras_step.configure_threads(args.threads, args.inter_op_threads)
    images, labels = keras_step.synthetic_batch(args)
    default = keras_step.default_xla()
    xla = default if args.xla == "default" else args.xla == "on"
    model = keras_step.build_model(args, xla)
    for _ in range(args.warmup):  # XLA compiles during the first
        model.train_on_batch(images, labels)
    version = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[args.backend]
    info = {"framework": f"keras {keras.__version__} on {args.backend} "
                         f"{__import__(version).__version__}",
            "backend": args.backend, "setting": f"XLA {'on' if xla else 'off'}", "xla": xla,
            "default": default == xla, "device": device_name(),
            "forward_macs_per_image": keras_step.forward_macs(model)}
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        if line.strip() == "matmul":
            print(json.dumps({"matmul_gflops": keras_step.matmul_gflops(args.matmul_size)}), flush=True)
        else:
            rate = keras_step.time_steps(model, images, labels, args.steps)
            print(json.dumps({**info, "images_per_second": rate}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
