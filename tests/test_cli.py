"""The command line: `python -m alexnet_keras summary`."""

import subprocess
import sys


def test_summary_prints_layers_and_totals():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "summary", "--variant", "paper"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "conv1" in out and "55x55x96" in out and "6x6x256" in out
    assert "60,965,224" in out and "724,406,816" in out and "0.724G" in out


def test_summary_rejects_unknown_variant():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "summary", "--variant", "vgg"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr
