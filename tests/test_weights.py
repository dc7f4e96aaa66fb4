"""torchvision's AlexNet weights in Keras and back (model/weights.py), against PyTorch itself.

The reference network is ``torchvision.models.alexnet`` when torchvision imports; where it does not
(a CUDA build of torchvision beside a CPU build of torch cannot load its operators), the same
network written out in ``torch.nn`` with torchvision's layer indices, so the state-dict keys are
torchvision's. No network access: the download branch reads a local ``file://`` URL.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed (make test installs it)")
nn = torch.nn

from alexnet_keras.model import alexnet, preprocess_input  # noqa: E402
from alexnet_keras.model import weights as weights_module  # noqa: E402
from alexnet_keras.model.preprocessing import TORCH_MEAN, TORCH_STD  # noqa: E402


def torchvision_alexnet_in_torch_nn() -> nn.Module:
    """torchvision/models/alexnet.py's ``AlexNet``, layer for layer (indices are the state keys)."""
    model = nn.Module()
    model.features = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
    )
    model.avgpool = nn.AdaptiveAvgPool2d((6, 6))
    model.classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000),
    )
    model.forward = lambda x: model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
    return model


def _torchvision():
    try:
        import torchvision
    except Exception as error:  # ImportError, or RuntimeError from a CUDA build beside CPU torch
        pytest.skip(f"torchvision does not import here ({type(error).__name__}: {error})")
    return torchvision


@pytest.fixture(params=["torchvision", "torch.nn copy"])
def torch_model(request):
    torch.manual_seed(0)
    if request.param == "torchvision":
        return _torchvision().models.alexnet(weights=None).eval()
    return torchvision_alexnet_in_torch_nn().eval()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(2, 224, 224, 3)).astype(np.float32)


def _torch_logits(model, images):
    """torchvision's own preprocessing (ToTensor's /255, then Normalize), NCHW, eval mode."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2) / 255.0
    x = (x - torch.tensor(TORCH_MEAN).view(1, 3, 1, 1)) / torch.tensor(TORCH_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        return model(x).numpy()


def test_copy_has_torchvisions_state_dict():
    ours = torchvision_alexnet_in_torch_nn().state_dict()
    theirs = _torchvision().models.alexnet(weights=None).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_converted_weights_give_torchvisions_outputs(torch_model, images, tmp_path):
    path = tmp_path / "alexnet.pth"
    torch.save(torch_model.state_dict(), path)
    model = alexnet("torchvision", weights=str(path), classifier_activation=None)
    expected = _torch_logits(torch_model, images)
    got = np.asarray(model(preprocess_input(images, mode="torch"), training=False))
    assert np.abs(expected).max() > 1e-3 and np.std(expected) > 1e-4  # not a trivial output
    # float32 sums over 9216 inputs in different orders: agreement to 1e-5 of the output's scale.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_keras_to_torch_to_keras_is_exact(torch_model, tmp_path):
    model = alexnet("torchvision")
    path = weights_module.save_torch_state_dict(model, tmp_path / "back.pth")
    torch_model.load_state_dict(torch.load(path, weights_only=True), strict=True)  # torch accepts it
    again = alexnet("torchvision", weights=str(path))
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_state_dict_mapping_loads_like_the_file(torch_model):
    model = alexnet("torchvision", weights=torch_model.state_dict(), include_top=False)
    np.testing.assert_array_equal(
        model.get_layer("conv2").kernel.numpy(),
        torch_model.features[3].weight.detach().numpy().transpose(2, 3, 1, 0),
    )


def test_wrong_state_dict_names_the_missing_tensors():
    with pytest.raises(ValueError, match="missing"):
        alexnet("torchvision", weights={"features.0.weight": np.zeros((64, 3, 11, 11))})


@pytest.mark.parametrize("kwargs, message", [
    ({"variant": "paper", "weights": "imagenet"}, "torchvision"),
    ({"variant": "torchvision", "weights": "imagenet", "classes": 10}, "1000 classes"),
    ({"variant": "torchvision", "weights": "missing.pth"}, "does not exist"),
    ({"variant": "torchvision", "weights": "model.ckpt"}, "weights must be"),
])
def test_bad_weights_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(**kwargs)


def _serve(torch_model, tmp_path, monkeypatch):
    """A .pth file behind a file:// URL, an empty TORCH_HOME; returns the download folder."""
    served = tmp_path / "served.pth"
    torch.save(torch_model.state_dict(), served)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(weights_module, "WEIGHTS_URL", served.as_uri())
    prefix = hashlib.sha256(served.read_bytes()).hexdigest()[:8]
    monkeypatch.setattr(weights_module, "WEIGHTS_SHA256_PREFIX", prefix)
    return tmp_path / "torch_home" / "hub" / "checkpoints"


@pytest.fixture
def nn_copy():
    torch.manual_seed(1)
    return torchvision_alexnet_in_torch_nn()


def test_imagenet_weights_download_into_torch_cache(nn_copy, tmp_path, monkeypatch):
    folder = _serve(nn_copy, tmp_path, monkeypatch)
    model = alexnet("torchvision", weights="imagenet")
    assert (folder / weights_module.WEIGHTS_FILE).is_file()
    np.testing.assert_array_equal(model.get_layer("fc8").bias.numpy(),
                                  nn_copy.classifier[6].bias.detach().numpy())
    monkeypatch.setattr(weights_module, "WEIGHTS_URL", (tmp_path / "gone.pth").as_uri())
    alexnet("torchvision", weights="imagenet", include_top=False)  # found in the cache: no download


def test_download_with_the_wrong_hash_is_deleted(nn_copy, tmp_path, monkeypatch):
    folder = _serve(nn_copy, tmp_path, monkeypatch)
    monkeypatch.setattr(weights_module, "WEIGHTS_SHA256_PREFIX", "00000000")
    with pytest.raises(ValueError, match="SHA-256"):
        alexnet("torchvision", weights="imagenet")
    assert not (folder / weights_module.WEIGHTS_FILE).exists()


def test_no_network_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(weights_module, "WEIGHTS_URL", (tmp_path / "nowhere.pth").as_uri())
    expected = str(tmp_path / "hub" / "checkpoints" / weights_module.WEIGHTS_FILE)
    with pytest.raises(FileNotFoundError, match="put it at") as error:
        alexnet("torchvision", weights="imagenet")
    assert expected in str(error.value)


def test_convert_weights_command_both_ways(nn_copy, tmp_path):
    pth, h5, back = tmp_path / "a.pth", tmp_path / "a.weights.h5", tmp_path / "back.pth"
    torch.save(nn_copy.state_dict(), pth)
    for args in ([str(pth), "--output", str(h5)], [str(h5), "--to-torch", "--output", str(back)]):
        result = subprocess.run([sys.executable, "-m", "alexnet_keras", "convert-weights", *args],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    model = alexnet("torchvision", weights=str(h5))
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(),
                                  nn_copy.features[0].weight.detach().numpy().transpose(2, 3, 1, 0))
    restored = torch.load(back, weights_only=True)
    for key, value in nn_copy.state_dict().items():
        torch.testing.assert_close(restored[key], value, rtol=0, atol=0)
