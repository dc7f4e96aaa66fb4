"""The command line end to end on the generated offline set: `train` then `evaluate`."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", MPLBACKEND="agg")
    result = subprocess.run([sys.executable, "-m", "alexnet_keras", *args], capture_output=True,
                            text=True, timeout=600, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_train_demo_settings_then_evaluate_centre_and_ten_crops(tmp_path):
    output = tmp_path / "run"
    out = _cli("train", "--demo", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8",
               "--image-size", "67", "--validation-steps", "2", "--output", str(output))
    assert "top1_error" in out and "best validation top-1 error" in out
    for name in ("checkpoints/best.keras", "checkpoints/last.keras", "training_log.csv",
                 "training_curves.png", "config.json"):
        assert (output / name).exists(), name
    assert os.listdir(output / "logs")
    assert f"training curves:  {output / 'training_curves.png'}" in out
    out = _cli("evaluate", "--checkpoint", str(output / "checkpoints" / "last.keras"),
               "--dataset", "offline", "--batch-size", "4", "--steps", "2", "--json")
    assert "center" in out and "ten_crops" in out
    assert '"examples": 8' in out
