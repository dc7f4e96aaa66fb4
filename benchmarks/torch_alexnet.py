"""PyTorch reference for the training-step benchmark: the paper's two-tower AlexNet on CPU, eager or
compiled with ``torch.compile`` (TorchInductor), the strongest way a PyTorch user would run it.

Used only by ``python -m alexnet_keras bench train`` (which runs this file in a subprocess so the two
frameworks' thread pools never compete) and by ``benchmarks/gpu_jax_vs_torch.py``. The network is the
one ``alexnet_keras.alexnet("paper")`` builds (Krizhevsky et al. 2012, Section 3.5):

- conv2, conv4 and conv5 are grouped convolutions (``groups=2``): each tower sees only its own maps;
- LRN after the ReLU of conv1 and conv2 with the paper's constants. ``torch.nn.LocalResponseNorm``
  divides alpha by the window size n, the paper does not, so it gets ``alpha = 1e-4 * 5``;
- weights from N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere (Section 5);
- dropout 0.5 after fc6 and fc7; SGD, momentum 0.9, learning rate 0.01, weight decay 5e-4 (coupled,
  as in the paper and in the Keras side of the benchmark).

Run alone: ``python benchmarks/torch_alexnet.py --batch-size 64 --steps 5 [--compile model|step]``
prints a JSON line. ``--compile model`` compiles the model (forward and, through AOTAutograd,
backward); ``--compile step`` the whole training step (zero_grad, forward, loss, backward and the SGD
update: the optimiser's graph too, PyTorch's strongest). Compilation happens in the warm-up and is not
timed, as XLA's is not on the Keras side. On a machine with CUDA the model and the batch live on the
GPU (``"device"`` in the JSON names it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

# The paper's LRN constants (Section 3.3): k=2, n=5, alpha=1e-4 on the *sum*, beta=0.75.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_BIAS = 5, 1e-4, 0.75, 2.0
_BIAS_ONE = {"conv2", "conv4", "conv5", "fc6", "fc7"}


def flattened_size(image_size: int) -> int:
    """Width of the flattened pool5 output for a square input (9216 at 227)."""
    size = (image_size - 11) // 4 + 1  # conv1, stride 4, no padding
    for _ in range(3):  # pool1, pool2, pool5: 3x3, stride 2
        size = (size - 3) // 2 + 1
    return size * size * 256


def alexnet_paper(num_classes: int = 1000, image_size: int = 227) -> nn.Sequential:
    """The paper's two-tower AlexNet (Section 3.5) in PyTorch, NCHW, with the paper's init."""
    lrn = dict(size=LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_BIAS)
    layers = [
        ("conv1", nn.Conv2d(3, 96, 11, stride=4)), ("relu1", nn.ReLU(inplace=True)),
        ("lrn1", nn.LocalResponseNorm(**lrn)), ("pool1", nn.MaxPool2d(3, 2)),
        ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2)), ("relu2", nn.ReLU(inplace=True)),
        ("lrn2", nn.LocalResponseNorm(**lrn)), ("pool2", nn.MaxPool2d(3, 2)),
        ("conv3", nn.Conv2d(256, 384, 3, padding=1)), ("relu3", nn.ReLU(inplace=True)),
        ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2)), ("relu4", nn.ReLU(inplace=True)),
        ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2)), ("relu5", nn.ReLU(inplace=True)),
        ("pool5", nn.MaxPool2d(3, 2)),
        ("flatten", nn.Flatten()),
        ("fc6", nn.Linear(flattened_size(image_size), 4096)), ("relu6", nn.ReLU(inplace=True)),
        ("dropout6", nn.Dropout(0.5)),
        ("fc7", nn.Linear(4096, 4096)), ("relu7", nn.ReLU(inplace=True)),
        ("dropout7", nn.Dropout(0.5)),
        ("fc8", nn.Linear(4096, num_classes)),
    ]
    model = nn.Sequential()
    for name, layer in layers:
        model.add_module(name, layer)
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.01)
            nn.init.constant_(layer.bias, 1.0 if name in _BIAS_ONE else 0.0)
    return model


def device_name(device) -> str:
    """The GPU's name, or ``cpu (N cores)``."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({os.cpu_count()} cores)"


class TrainingStep:
    """The eager training step (forward, cross-entropy, backward, SGD update) on one fixed batch."""

    def __init__(self, *, batch_size: int, image_size: int, num_classes: int,
                 threads: int | None = None, channels_last: bool = False, compile: str | None = None,
                 seed: int = 0):
        if threads:
            torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.batch_size = batch_size
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = alexnet_paper(num_classes, image_size).to(self.device)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4
        )
        self.loss_fn = nn.CrossEntropyLoss()
        self.images = torch.randn(batch_size, 3, image_size, image_size, device=self.device) * 50.0
        self.labels = torch.randint(0, num_classes, (batch_size,), device=self.device)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.images = self.images.contiguous(memory_format=torch.channels_last)
        self.model.train()
        self.forward = torch.compile(self.model) if compile == "model" else self.model
        self.step = torch.compile(self._step) if compile == "step" else self._step
        self.setting = {None: "eager", "model": "torch.compile", "step": "torch.compile step"}[
            compile] + (", channels_last" if channels_last else "") + ", float32"

    def _step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.forward(self.images), self.labels)
        loss.backward()
        self.optimizer.step()
        return loss

    def __call__(self) -> float:
        return self.step().item()  # .item() waits for the step, as Keras' train_on_batch does

    def rate(self, steps: int) -> float:
        """Images/s over ``steps`` steps."""
        start = time.perf_counter()
        for _ in range(steps):
            self()
        return steps * self.batch_size / (time.perf_counter() - start)

    def describe(self, rates: list[float]) -> dict:
        return {
            "framework": f"torch {torch.__version__}",
            "setting": self.setting,
            "threads": torch.get_num_threads(),
            "device": device_name(self.device),
            "batch_size": self.batch_size,
            "images_per_second": statistics.median(rates),
            "all_images_per_second": rates,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=227)
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds; the median is reported")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", nargs="?", const="model", choices=["model", "step"], default=None,
                        help="torch.compile (inductor) the model, or the whole training step")
    parser.add_argument("--serve", action="store_true",
                        help="warm up, then time --steps steps for each line read on stdin and "
                        "print a JSON line each time (bench train interleaves rounds this way)")
    args = parser.parse_args(argv)
    step = TrainingStep(
        batch_size=args.batch_size, image_size=args.image_size, num_classes=args.num_classes,
        threads=args.threads, channels_last=args.channels_last, compile=args.compile,
    )
    for _ in range(args.warmup):
        step()
    if args.serve:
        print(json.dumps({"ready": True, **step.describe([0.0])}), flush=True)
        for _ in sys.stdin:
            print(json.dumps(step.describe([step.rate(args.steps)])), flush=True)
        return 0
    print(json.dumps(step.describe([step.rate(args.steps) for _ in range(args.repeats)])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
