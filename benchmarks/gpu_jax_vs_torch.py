"""GPU training throughput: the Keras AlexNet on the JAX backend against PyTorch, in one command.

Issue 6, item 3. Both sides train the paper's two-tower AlexNet (Krizhevsky et al. 2012, Section 3.5)
at batch 256, 227x227, on synthetic images that live on the GPU (so no input pipeline is measured):

- Keras 3 on JAX: ``alexnet_keras.alexnet("paper")``, ``mixed_bfloat16`` policy (float32 weights,
  bfloat16 compute), the whole step (forward, loss, backward, SGD update) in one ``jax.jit`` (XLA)
  through Keras' stateless API (``model.stateless_call`` + ``optimizer.stateless_apply``), buffers
  donated. ``--towers`` picks how conv2/4/5 are grouped (``split`` = two convolutions, ``groups`` =
  one ``Conv2D(groups=2)``); each is timed.
- PyTorch: the same network from ``benchmarks/torch_alexnet.py``, ``channels_last``, bf16
  ``torch.autocast``, ``torch.compile``.

Each side runs in its own subprocess (JAX preallocates GPU memory). Printed: images/s of both and
the fraction of the GPU's dense bf16 peak, counting a training step as 3 x the forward
multiply-accumulates (724,406,816 per image at 227) x 2 FLOPs. Usage::

    python benchmarks/gpu_jax_vs_torch.py                 # both, batch 256
    python benchmarks/gpu_jax_vs_torch.py --peak-tflops 989.4 --steps 100

Needs: jax with CUDA, keras >= 3, torch with CUDA; run from a checkout (it imports alexnet_keras
from the repository root). TensorFlow is not needed.
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FORWARD_MACS_227 = 724_406_816  # alexnet("paper") at 227x227 (python -m alexnet_keras summary)

# Dense (no sparsity) bfloat16 tensor-core peaks from the vendors' data sheets, TFLOP/s.
DENSE_BF16_PEAK_TFLOPS = {
    "H200": 989.4,
    "H100 SXM": 989.4,  # "NVIDIA H100 80GB HBM3"
    "H100 80GB HBM3": 989.4,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
}


def peak_tflops(device_name: str) -> float | None:
    """The dense bf16 peak for a device name, longest matching key first; None if unknown."""
    for key in sorted(DENSE_BF16_PEAK_TFLOPS, key=len, reverse=True):
        if key.lower() in device_name.lower():
            return DENSE_BF16_PEAK_TFLOPS[key]
    return None


def train_flops_per_image(image_size: int) -> float | None:
    """3 x 2 x forward MACs at 227x227; None for other sizes (used only by --cpu-smoke)."""
    return 3 * 2 * FORWARD_MACS_227 if image_size == 227 else None


def _rates(step, sync, *, batch: int, steps: int, warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        step()
    sync()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        rates.append(steps * batch / (time.perf_counter() - start))
    return rates


def run_keras_jax(args: argparse.Namespace) -> dict:
    os.environ["KERAS_BACKEND"] = "jax"
    sys.path.insert(0, str(ROOT))
    import jax
    import keras

    from alexnet_keras.model.architecture import alexnet

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    results = {}
    for towers in args.towers.split(","):
        keras.utils.set_random_seed(0)
        model = alexnet("paper", tower_implementation=towers,
                        input_shape=(args.image_size, args.image_size, 3))
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        optimizer.build(model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()

        def compute_loss(trainable, non_trainable, x, y):
            y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            return loss_fn(y, y_pred), non_trainable

        grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

        def train_step(state, x, y):
            trainable, non_trainable, optimizer_vars = state
            (loss, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)
            trainable, optimizer_vars = optimizer.stateless_apply(optimizer_vars, grads, trainable)
            return loss, (trainable, non_trainable, optimizer_vars)

        train_step = jax.jit(train_step, donate_argnums=0)
        state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in optimizer.variables],
        )
        key = jax.random.PRNGKey(0)
        x = jax.random.normal(key, (args.batch_size, args.image_size, args.image_size, 3)) * 50.0
        y = jax.random.randint(key, (args.batch_size,), 0, 1000)
        holder = {"state": state, "loss": None}

        def step():
            holder["loss"], holder["state"] = train_step(holder["state"], x, y)

        def sync():
            jax.block_until_ready(holder["loss"])

        rates = _rates(step, sync, batch=args.batch_size, steps=args.steps, warmup=args.warmup,
                       repeats=args.repeats)
        results[towers] = {"images_per_second": statistics.median(rates), "rounds": rates,
                           "final_loss": float(holder["loss"])}
    device = jax.devices()[0]
    return {
        "framework": f"keras {keras.__version__} / jax {jax.__version__}",
        "setting": "mixed_bfloat16, jax.jit (XLA), NHWC",
        "device": getattr(device, "device_kind", str(device)),
        "by_towers": results,
    }


def run_torch(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(HERE))
    import torch
    from torch import nn

    from torch_alexnet import alexnet_paper

    device = "cpu" if args.cpu_smoke else "cuda"
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    model = alexnet_paper(1000, args.image_size).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    compiled = model
    if args.torch_compile_mode != "none":
        compiled = torch.compile(model, mode=args.torch_compile_mode)
    size = args.image_size
    x = (torch.randn(args.batch_size, 3, size, size, device=device) * 50.0).contiguous(
        memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (args.batch_size,), device=device)
    holder = {"loss": None}

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = loss_fn(compiled(x), y)
        loss.backward()
        optimizer.step()
        holder["loss"] = loss

    sync = (lambda: None) if args.cpu_smoke else torch.cuda.synchronize
    rates = _rates(step, sync, batch=args.batch_size, steps=args.steps,
                   warmup=args.warmup, repeats=args.repeats)
    return {
        "framework": f"torch {torch.__version__}",
        "setting": f"bf16 autocast, channels_last, torch.compile(mode={args.torch_compile_mode!r})",
        "device": "cpu" if args.cpu_smoke else torch.cuda.get_device_name(),
        "images_per_second": statistics.median(rates),
        "rounds": rates,
        "final_loss": float(holder["loss"]),
    }


def _child(side: str, args: argparse.Namespace) -> dict | None:
    command = [sys.executable, __file__, "--only", side, "--batch-size", str(args.batch_size),
               "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--repeats", str(args.repeats), "--towers", args.towers,
               "--torch-compile-mode", args.torch_compile_mode, "--image-size", str(args.image_size)]
    if args.cpu_smoke:
        command.append("--cpu-smoke")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"{side} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; medians reported")
    parser.add_argument("--towers", default="split,groups",
                        help="Keras tower implementations to time, comma-separated")
    parser.add_argument("--torch-compile-mode", default="default",
                        help="torch.compile mode: default, reduce-overhead, max-autotune; "
                        "'none' runs eager")
    parser.add_argument("--image-size", type=int, default=227,
                        help="227 for the figures; smaller only to check the script runs")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="run both sides on the CPU (to check the script, not to time it)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="dense bf16 peak of the GPU, TFLOP/s (default: from the device name)")
    parser.add_argument("--only", choices=["keras", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    if args.only == "keras":
        print(json.dumps(run_keras_jax(args)))
        return 0
    if args.only == "torch":
        print(json.dumps(run_torch(args)))
        return 0

    flops = train_flops_per_image(args.image_size)
    keras_result = _child("keras", args)
    torch_result = _child("torch", args)
    device = (keras_result or torch_result or {}).get("device", "unknown GPU")
    peak = args.peak_tflops or peak_tflops(device)
    size = args.image_size
    print(f"{time.strftime('%Y-%m-%d')}  {device}; batch {args.batch_size}, {size}x{size}, "
          f"synthetic on-device data; {args.repeats} x {args.steps} timed steps after "
          f"{args.warmup} warm-up")
    if flops:
        print(f"training FLOPs per image: 3 x 2 x {FORWARD_MACS_227:,} = {flops / 1e9:.2f} GFLOP; "
              f"dense bf16 peak: {f'{peak} TFLOP/s' if peak else 'unknown (pass --peak-tflops)'}")

    def line(label: str, rate: float) -> str:
        share = f"{rate * flops / (peak * 1e12):.1%} of peak" if peak and flops else "peak n/a"
        return f"{label:<70} {rate:9.0f} images/s  {share}"

    best_keras = None
    if keras_result:
        for towers, figures in keras_result["by_towers"].items():
            rate = figures["images_per_second"]
            print(line(f"{keras_result['framework']}, {keras_result['setting']}, towers {towers}", rate))
            best_keras = max(best_keras or 0.0, rate)
    if torch_result:
        print(line(f"{torch_result['framework']}, {torch_result['setting']}",
                   torch_result["images_per_second"]))
    if best_keras and torch_result:
        print(f"Keras/JAX (best towers) / PyTorch: {best_keras / torch_result['images_per_second']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"date": time.strftime("%Y-%m-%d"), "device": device, "peak_tflops": peak,
             "batch_size": args.batch_size, "keras": keras_result, "torch": torch_result}, indent=2))
    return 0 if keras_result and torch_result else 1


if __name__ == "__main__":
    sys.exit(main())
