"""`python -m alexnet_keras bench train` and the PyTorch reference it runs (no timing assertions)."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--batch-size", "2", "--image-size", "67", "--num-classes", "10", "--steps", "1",
        "--warmup", "1", "--repeats", "1", "--matmul-size", "128", "--threads", "2"]


def _bench_lines(stdout: str) -> list[dict]:
    """The machine-readable ``bench_train key=value ...`` lines as dicts."""
    rows = []
    for line in stdout.splitlines():
        if line.startswith("bench_train "):
            pairs = re.findall(r'(\w+)=("[^"]*"|\S+)', line)
            rows.append({key: value.strip('"') for key, value in pairs})
    return rows


@pytest.mark.slow  # one process per backend and XLA setting, and torch.compile: about 4 minutes
def test_bench_train_ends_with_images_per_second():
    backends = ["tensorflow"] + (["jax"] if importlib.util.find_spec("jax") else [])
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "bench", "train", *TINY, "--backend", *backends],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    match = re.fullmatch(r"images_per_second=(\d+(?:\.\d+)?)", lines[-1])
    assert match, lines[-5:]
    assert float(match.group(1)) > 0
    out = result.stdout
    assert "GFLOP/s" in out and "batch 2" in out
    rows = _bench_lines(out)
    keras_rows = [row for row in rows if row["framework"].startswith("keras")]
    # TensorFlow with XLA off and on, JAX jitted only (--jax-no-jit adds its eager mode), each in
    # its own process; exactly one default setting per backend
    assert sorted((row["framework"].split()[3], row["setting"]) for row in keras_rows) == sorted(
        (backend, f"XLA {xla}") for backend in backends for xla in ("off", "on")
        if not (backend == "jax" and xla == "off"))
    for backend in backends:
        assert sum(row["default"] == "1" for row in keras_rows if f" on {backend} " in
                   row["framework"]) == 1, backend
    assert all(row["device"] == f"cpu ({os.cpu_count()} cores)" for row in rows)
    assert all(float(row["images_per_second"]) > 0 and row["batch_size"] == "2" for row in rows)
    if importlib.util.find_spec("torch") is None:
        return
    settings = [row["setting"] for row in rows if row["framework"].startswith("torch")]
    assert settings == ["torch.compile step, float32"]  # --torch-eager adds eager PyTorch
    assert "/ torch 2" in out and "x\n" in out  # the Keras/PyTorch ratios


def test_bench_profile_has_a_row_per_paper_layer_and_ends_with_the_total(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "bench", "profile", "--batch-size", "2",
         "--image-size", "67", "--repeats", "1", "--xla", "off", "--matmul-size", "128",
         "--threads", "2", "--json", str(tmp_path / "profile.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    match = re.fullmatch(r"profile_total_ms=(\d+(?:\.\d+)?)", lines[-1])
    assert match, lines[-5:]
    rows = {line.split()[0]: line.split() for line in lines if line[:1].isalnum()}
    for name in ("conv1", "lrn1", "pool1", "conv2", "conv3", "conv4", "conv5", "fc6", "dropout6",
                 "fc7", "fc8"):
        assert name in rows, (name, lines)
    assert rows["lrn2"][1] == "LocalResponseNormalization" and rows["conv4"][1] == "TowerConv2D"
    assert "conv2/tower1" in result.stdout and "whole training step (train_on_batch)" in result.stdout
    figures = json.loads((tmp_path / "profile.json").read_text())["xla"]["xla_off"]
    # The last line is the sum of the whole layers' forward+backward times (towers not counted twice).
    whole = [r["forward_backward_ms"] for r in figures["layers"] if r["part_of"] is None]
    assert float(match.group(1)) == pytest.approx(sum(whole), abs=0.01)


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


def test_bench_lrn_choices_compute_the_same_values_and_gradients():
    """`--lrn autodiff` and `--lrn tf` time the same function as the package's LRN, so the
    before/after and TensorFlow rows of RESULTS.md compare like with like."""
    import numpy as np
    import tensorflow as tf

    from alexnet_keras.bench.train import _autodiff_lrn_layer_class, _tf_lrn_layer_class
    from alexnet_keras.model.layers import LocalResponseNormalization

    x = tf.constant(np.random.default_rng(0).uniform(-300, 300, size=(2, 4, 4, 12)), tf.float32)
    upstream = tf.constant(np.random.default_rng(1).normal(size=(2, 4, 4, 12)), tf.float32)
    results = []
    for layer in (LocalResponseNormalization(), _autodiff_lrn_layer_class()(), _tf_lrn_layer_class()()):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        results.append((y, tape.gradient(y, x, output_gradients=upstream)))
    for y, gradient in results[1:]:
        np.testing.assert_allclose(y, results[0][0], rtol=1e-5)
        np.testing.assert_allclose(gradient, results[0][1], rtol=1e-4, atol=1e-6)
