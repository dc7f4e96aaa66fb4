"""AlexNet's architecture (Section 3.5), initialisation (Section 5) and portability."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from alexnet_keras import TowerConv2D, alexnet, layer_table, small_convnet
from alexnet_keras.model.summary import totals

SMALL = (67, 67, 3)  # smallest convenient size: every layer still has a spatial extent


@pytest.mark.parametrize(
    "variant, parameters",
    [("paper", 60_965_224), ("single", 62_378_344), ("torchvision", 61_100_840)],
)
def test_parameter_counts_match_the_paper_and_torchvision(variant, parameters):
    assert alexnet(variant).count_params() == parameters


def test_paper_variant_costs_about_072_giga_macs_at_227():
    parameters, macs = totals(layer_table(alexnet("paper")))
    assert parameters == 60_965_224
    assert macs == 724_406_816


def test_paper_shapes_layer_by_layer():
    model = alexnet("paper")
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (55, 55, 96)
    assert shapes["pool1"] == (27, 27, 96)
    assert shapes["conv2"] == (27, 27, 256)
    assert shapes["pool2"] == (13, 13, 256)
    assert shapes["conv3"] == (13, 13, 384)
    assert shapes["conv4"] == (13, 13, 384)
    assert shapes["conv5"] == (13, 13, 256)
    assert shapes["pool5"] == (6, 6, 256)
    assert shapes["flatten"] == (9216,)
    assert shapes["predictions"] == (1000,)


def test_224_input_is_padded_to_the_227_network():
    model = alexnet("paper", input_shape=(224, 224, 3))
    assert model.get_layer("conv1").output.shape[1:] == (55, 55, 96)
    assert model.count_params() == 60_965_224


def test_non_overlapping_pooling_keeps_the_shapes():
    model = alexnet("paper", pooling="non_overlapping")
    assert model.get_layer("pool1").pool_size == (2, 2)
    assert model.get_layer("pool5").output.shape[1:] == (6, 6, 256)


def test_towers_see_only_their_own_maps():
    layer = TowerConv2D(8, 3, towers=2, name="conv")
    x = np.random.default_rng(0).normal(size=(1, 5, 5, 6)).astype("float32")
    before = np.asarray(layer(x))
    x2 = x.copy()
    x2[..., 3:] += 5.0  # change only the second tower's input maps
    after = np.asarray(layer(x2))
    np.testing.assert_array_equal(before[..., :4], after[..., :4])
    assert not np.allclose(before[..., 4:], after[..., 4:])


def test_split_and_grouped_towers_compute_the_same_function():
    split = TowerConv2D(8, 3, towers=2, implementation="split")
    grouped = TowerConv2D(8, 3, towers=2, implementation="groups")
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 6)).astype("float32")
    split(x), grouped(x)
    kernels = split.tower_kernels()
    grouped.convs[0].kernel.assign(np.concatenate(kernels, axis=-1))
    grouped.convs[0].bias.assign(np.concatenate([c.bias.numpy() for c in split.convs]))
    np.testing.assert_allclose(np.asarray(split(x)), np.asarray(grouped(x)), atol=1e-5)


def test_paper_initialisation():
    model = alexnet("paper", input_shape=SMALL, num_classes=10)
    fc6 = model.get_layer("fc6")
    assert abs(float(np.std(fc6.kernel.numpy())) - 0.01) < 5e-4
    assert abs(float(np.mean(fc6.kernel.numpy()))) < 5e-4
    for name in ("conv2", "conv4", "conv5", "fc6", "fc7"):
        for bias in [w for w in model.get_layer(name).weights if "bias" in w.path]:
            np.testing.assert_array_equal(bias.numpy(), 1.0)
    for name in ("conv1", "conv3", "fc8"):
        np.testing.assert_array_equal(model.get_layer(name).bias.numpy(), 0.0)


def test_options_change_the_layers():
    model = alexnet("paper", input_shape=SMALL, activation="tanh", normalization="batch",
                    dropout=0.0, num_classes=7)
    names = [layer.name for layer in model.layers]
    assert "tanh1" in names and "bn1" in names and "lrn1" not in names
    assert not any(name.startswith("dropout") for name in names)
    assert model.output_shape == (None, 7)
    bare = alexnet("single", input_shape=SMALL, normalization="none", include_top=False)
    assert bare.layers[-1].name == "pool5"
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in alexnet("paper").layers)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "vgg"}, "variant"),
        ({"activation": "sigmoid"}, "activation"),
        ({"normalization": "group"}, "normalization"),
        ({"input_shape": (32, 32, 3)}, "input_shape"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(**kwargs)


def test_save_and_load_give_identical_outputs(tmp_path):
    model = alexnet("paper", input_shape=SMALL, num_classes=5)
    x = np.random.default_rng(2).normal(size=(2, *SMALL)).astype("float32") * 50
    expected = model.predict(x, verbose=0)
    path = tmp_path / "alexnet.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode: no Lambda layers anywhere
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_small_convnet_is_four_weight_layers():
    model = small_convnet(activation="tanh")
    weighted = [layer.name for layer in model.layers if layer.weights]
    assert weighted == ["conv1", "conv2", "conv3", "fc4"]
    assert model.output_shape == (None, 10)
    assert small_convnet(input_shape=(8, 8, 1)).output_shape == (None, 10)


TORCH_SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras
    from alexnet_keras import alexnet
    assert keras.backend.backend() == "torch", keras.backend.backend()
    model = alexnet("paper", input_shape=(67, 67, 3), num_classes=5)
    model.load_weights(r"{weights}")
    x = np.load(r"{inputs}")
    np.save(r"{outputs}", model.predict(x, verbose=0))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    loss = model.train_on_batch(x, np.array([0, 3]))
    assert np.isfinite(loss), loss
    print("torch backend ok", loss)
    """
)


def test_torch_backend_gives_the_same_outputs(tmp_path):
    pytest.importorskip("torch", reason="the torch extra is not installed (make test installs it)")
    model = alexnet("paper", input_shape=SMALL, num_classes=5)
    x = np.random.default_rng(3).normal(size=(2, *SMALL)).astype("float32") * 50
    weights, inputs, outputs = (tmp_path / n for n in ("w.weights.h5", "x.npy", "y.npy"))
    model.save_weights(weights)
    np.save(inputs, x)
    script = TORCH_SCRIPT.format(weights=weights, inputs=inputs, outputs=outputs)
    env = dict(os.environ, KERAS_BACKEND="torch")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(outputs), model.predict(x, verbose=0), rtol=1e-4, atol=1e-6)
