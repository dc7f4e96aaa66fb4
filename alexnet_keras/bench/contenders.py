"""The contenders of ``bench train``, each in its own process: Keras on each backend and XLA
setting (``alexnet_keras.bench.serve``) and PyTorch on the same network (``benchmarks/torch_alexnet.py``).

Each is warmed up once, then answers one timed round per ``rate()`` call; ``bench train`` calls
them in turn, round after round, so their rounds alternate and meet the same load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

TORCH_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "torch_alexnet.py"


class Served:
    """A contender process that prints a JSON line when ready and one per line it reads."""

    def __init__(self, command: list[str]):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.info = self._read()
        self.rates: list[float] = []

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=60)
            raise RuntimeError(f"contender failed:\n{self.process.stderr.read()[-2000:]}")
        return json.loads(line)

    def ask(self, request: str) -> dict:
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        return self._read()

    def rate(self) -> float:
        self.rates.append(self.ask("time")["images_per_second"])
        return self.rates[-1]

    @property
    def label(self) -> str:
        return f"{self.info['framework']}, {self.info['setting']}"

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _shape_flags(args: argparse.Namespace) -> list[str]:
    return ["--batch-size", str(args.batch_size), "--image-size", str(args.image_size),
            "--num-classes", str(args.num_classes), "--steps", str(args.steps),
            "--warmup", str(args.warmup)] + (["--threads", str(args.threads)] if args.threads else [])


def keras_command(args: argparse.Namespace, backend: str, xla: str) -> list[str]:
    command = [sys.executable, "-m", "alexnet_keras.bench.serve", "--backend", backend, "--xla", xla, "--matmul-size", str(args.matmul_size),
               "--tower-implementation", args.tower_implementation, "--lrn", args.lrn,
               *_shape_flags(args)]
    if args.inter_op_threads:
        command += ["--inter-op-threads", str(args.inter_op_threads)]
    return command


def torch_settings(args: argparse.Namespace) -> list[tuple[bool, str | None]]:
    """(channels_last, compile) of each PyTorch reference to time."""
    eager = args.no_torch_compile or getattr(args, "torch_eager", False)
    settings = ([(False, None)] if eager else []) + ([(True, None)] if args.torch_channels_last else [])
    if not args.no_torch_compile:
        settings += [(False, mode) for mode in args.torch_compile]
    return settings


def start_torch(args: argparse.Namespace) -> list[Served]:
    """The PyTorch references, or none when torch or the script is missing (said so)."""
    if args.no_torch:
        return []
    if importlib.util.find_spec("torch") is None:
        print("PyTorch reference skipped: torch is not installed")
        return []
    if not TORCH_SCRIPT.exists():
        print(f"PyTorch reference skipped: {TORCH_SCRIPT} not found (a source checkout has it)")
        return []
    references = []
    for channels_last, compile in torch_settings(args):
        command = [sys.executable, str(TORCH_SCRIPT), "--serve", *_shape_flags(args)]
        command += (["--channels-last"] if channels_last else []) + (
            ["--compile", compile] if compile else [])
        try:
            references.append(Served(command))
        except RuntimeError as error:
            print(f"PyTorch reference {compile or 'eager'} failed: {error}")
    return references


def start_keras(args: argparse.Namespace, backends: list[str]) -> list[Served]:
    """One process per backend and XLA setting (``--xla``: both, on, off, or each backend's
    default for its device, which the process settles itself). JAX without jit only with
    ``--jax-no-jit``: it is not how JAX trains."""
    settings = {"both": ["off", "on"], "on": ["on"], "off": ["off"]}.get(args.xla, ["default"])

    def wanted(backend, xla):
        return not (backend == "jax" and xla == "off" and not getattr(args, "jax_no_jit", False)
                    and settings != ["off"])

    return [Served(keras_command(args, backend, xla)) for backend in backends for xla in settings
            if wanted(backend, xla)]
