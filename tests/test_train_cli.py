"""The command line end to end on the generated offline set: `train` then `evaluate`."""

import json
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
    # the test split, touched after training: the validation-chosen epoch and the last one
    assert "epoch chosen on validation (1)" in out and "last epoch (1)" in out
    report = json.loads((output / "test_metrics.json").read_text())
    assert report["test_images"] == 16 and report["chosen_on"] == "validation top-1 error"
    assert report["validation_chosen"]["checkpoint"] == "best.keras"
    out = _cli("evaluate", "--checkpoint", str(output / "checkpoints" / "last.keras"),
               "--dataset", "offline", "--batch-size", "4", "--steps", "2", "--json")
    assert "center" in out and "ten_crops" in out
    assert '"examples": 8' in out


# ------------------------------------------------------------------- TrainConfig checks and the data path

import keras  # noqa: E402
import numpy as np  # noqa: E402

from alexnet_keras import data  # noqa: E402
from alexnet_keras.model.architecture import alexnet  # noqa: E402
from alexnet_keras.model.variants import VARIANTS  # noqa: E402
from alexnet_keras.training.config import TrainConfig, minimum_image_size  # noqa: E402
from alexnet_keras.training.evaluate import evaluate  # noqa: E402
from alexnet_keras.training.fit import _default_datasets  # noqa: E402


def _jpeg_folder(root, classes=("a", "b"), per_class=4):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.jpg")
    return root


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_minimum_image_size_is_the_smallest_the_model_builds(variant):
    smallest = minimum_image_size(variant)
    model = alexnet(variant, input_shape=(smallest, smallest, 3), include_top=False)
    assert model.output_shape[1:3] == (1, 1)
    with pytest.raises(ValueError):  # one pixel less: pool5 would have no output
        alexnet(variant, input_shape=(smallest - 1, smallest - 1, 3), include_top=False)


@pytest.mark.parametrize("values, message", [
    ({"dataset": "mnist"}, "dataset must be one of .*'mnist'"),
    ({"variant": "vgg"}, "variant must be one of"),
    ({"activation": "sigmoid"}, "activation must be one of"),
    ({"normalization": "group"}, "normalization must be one of"),
    ({"initializer": "xavier"}, "initializer must be one of"),
    ({"tower_implementation": "loop"}, "tower_implementation must be one of"),
    ({"schedule": "exponential"}, "schedule must be one of"),
    ({"image_size": 0}, "image_size 0 is too small.*at least 67x67"),
    ({"image_size": 66}, "at least 67x67"),
    ({"image_size": 66, "variant": "torchvision"}, None),  # torchvision pads conv1: 63 is enough
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"steps_per_epoch": 0}, "steps_per_epoch must be an integer >= 1"),
    ({"steps_per_epoch": -1}, "steps_per_epoch must be an integer >= 1"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"lr_drop_factor": 10.0}, r"lr_drop_factor must be in \(0, 1\)"),
    ({"learning_rate": 0.0}, "learning_rate must be > 0"),
    ({"dataset": "folder"}, "needs data_path"),
    ({"data_path": "photos"}, "data_path is only read by dataset 'folder'"),
])
def test_config_refuses_each_bad_value(values, message):
    if message is None:
        TrainConfig(**values)
        return
    with pytest.raises(ValueError, match=message):
        TrainConfig(**values)


def test_config_refuses_an_output_that_is_a_file(tmp_path):
    (tmp_path / "run").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        TrainConfig(output=str(tmp_path / "run"))


def test_folder_path_and_skip_corrupt_reach_data_load(tmp_path):
    root = _jpeg_folder(tmp_path / "photos")
    (root / "a" / "broken.jpg").write_bytes(b"not an image")
    config = TrainConfig(dataset="folder", data_path=str(root), image_size=67, batch_size=2,
                         output=str(tmp_path / "run"))
    with pytest.raises(data.CorruptImageError, match="broken.jpg"):
        _default_datasets(config, 0, 2)
    config = TrainConfig(**{**config.__dict__, "skip_corrupt": True})
    with pytest.warns(UserWarning, match="skipped 1 corrupt"):
        train, steps, validation, classes = _default_datasets(config, 0, 2)
    # 8 readable images, 4 a class: one of each held out for validation (no train/ and
    # validation/ folders), so 6 in batches of 2; two classes
    assert (steps, classes) == (3, 2)
    images, labels = next(iter(train))
    assert images.shape == (2, 67, 67, 3)


def _classifier(classes):
    return keras.Sequential([keras.Input((67, 67, 3)), keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(classes, activation="softmax")])


def test_evaluate_reads_a_folder_and_refuses_more_classes_than_the_model(tmp_path):
    root = _jpeg_folder(tmp_path / "photos", classes=("a", "b", "c"), per_class=2)
    results = evaluate(_classifier(3), dataset="folder", data_path=str(root), batch_size=2,
                       crops="center")
    assert results["center"]["examples"] == 3  # the validation split: one image of each class
    with pytest.raises(ValueError, match="3 classes but the checkpoint's model has 2 outputs"):
        evaluate(_classifier(2), dataset="folder", data_path=str(root), crops="center")
