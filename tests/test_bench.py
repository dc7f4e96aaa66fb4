"""`python -m alexnet_keras bench train` and the PyTorch reference it runs (no timing assertions)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--batch-size", "2", "--image-size", "67", "--num-classes", "10", "--steps", "1",
        "--warmup", "1", "--repeats", "1", "--matmul-size", "128", "--threads", "2"]


def test_bench_train_ends_with_images_per_second():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "bench", "train", *TINY],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    match = re.fullmatch(r"images_per_second=(\d+(?:\.\d+)?)", lines[-1])
    assert match, lines[-5:]
    assert float(match.group(1)) > 0
    out = result.stdout
    assert "XLA off" in out and "XLA on" in out and "GFLOP/s" in out and "batch 2" in out
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    assert "torch" in out and "x\n" in out  # the PyTorch lines and the Keras/PyTorch ratios
    assert "torch.compile, float32" in out and "/ torch torch.compile" in out


def test_bench_train_rejects_bad_steps():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras.bench.train", "--steps", "0"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode != 0 and "--steps must be >= 1" in result.stderr


def test_torch_reference_has_the_paper_model_parameter_count():
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from torch_alexnet import alexnet_paper, flattened_size
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert flattened_size(227) == 6 * 6 * 256
    model = alexnet_paper(1000, 227)
    # Same count as alexnet("paper"): the grouped conv2/4/5 and the sizes match (PAPER.md).
    assert sum(p.numel() for p in model.parameters()) == 60_965_224
    with torch.no_grad():
        out = alexnet_paper(10, 67).eval()(torch.zeros(1, 3, 67, 67))
    assert tuple(out.shape) == (1, 10)
