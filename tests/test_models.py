"""AlexNet's architecture (Section 3.5), initialisation (Section 5) and portability."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from alexnet_keras import TowerConv2D, VARIANTS, alexnet, layer_table, small_convnet
from alexnet_keras.model.summary import totals

SMALL = (67, 67, 3)  # smallest convenient size: every layer still has a spatial extent
PAPER_KERNELS = (11, 5, 3, 3, 3)  # Section 3.5: conv1 11x11 stride 4, conv2 5x5, conv3-5 3x3
PAPER_GROUPED = ("conv2", "conv4", "conv5")  # Section 3.2: these see only their own tower


def expected_cost(variant, classes=1000):
    """(parameters, MACs) of ``variant`` at its input size, from its widths by hand arithmetic."""
    side = variant.input_shape[0] + 2 * variant.conv1_padding
    if side == 224 and not variant.conv1_padding:
        side = 227  # conv1_pad
    pool = lambda s: (s - 3) // 2 + 1  # noqa: E731  3x3 stride 2, no padding
    sides = [(side - 11) // 4 + 1]  # conv1
    sides += [pool(sides[0])]  # conv2 (same padding) after pool1
    sides += [pool(sides[1])] * 3  # conv3..conv5 after pool2
    parameters = macs = 0
    inputs = (3, *variant.filters[:-1])
    for index, (k, cin, cout, s) in enumerate(zip(PAPER_KERNELS, inputs, variant.filters, sides)):
        groups = variant.towers if f"conv{index + 1}" in PAPER_GROUPED else 1
        parameters += k * k * (cin // groups) * cout + cout
        macs += s * s * cout * k * k * (cin // groups)
    widths = (pool(sides[-1]) ** 2 * variant.filters[-1], variant.fc_units, variant.fc_units, classes)
    for fan_in, fan_out in zip(widths, widths[1:]):
        parameters += fan_in * fan_out + fan_out
        macs += fan_in * fan_out
    return parameters, macs


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_cost_matches_formula_model_and_record(name):
    variant = VARIANTS[name]
    model = alexnet(name)
    assert model.input_shape[1:] == variant.input_shape
    parameters, macs = expected_cost(variant)
    assert model.count_params() == parameters == variant.parameters
    assert totals(layer_table(model)) == (parameters, macs)
    assert macs == variant.multiply_accumulates


def test_recorded_costs_are_the_papers_and_torchvisions():
    # Section 1 ("60 million parameters"), PAPER.md, and torchvision's published 61,100,840.
    assert VARIANTS["paper"].parameters == 60_965_224
    assert VARIANTS["torchvision"].parameters == 61_100_840
    assert round(VARIANTS["paper"].multiply_accumulates / 1e9, 2) == 0.72


def test_half_variant_is_section_3_2_one_gpu_net():
    model = alexnet("half")
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert [shapes[f"conv{i}"][-1] for i in range(1, 6)] == [48, 128, 192, 192, 256]
    assert shapes["pool5"] == (6, 6, 256) and shapes["fc6"] == (4096,) and shapes["fc7"] == (4096,)
    assert not any(isinstance(layer, TowerConv2D) for layer in model.layers)
    assert "lrn1" in shapes and "lrn2" in shapes
    # footnote 2: "approximately the same number of parameters" as the two-tower net
    assert abs(model.count_params() / VARIANTS["paper"].parameters - 1) < 0.02


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
    model = alexnet("paper", overlapping_pooling=False)
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
    model = alexnet("paper", input_shape=SMALL, classes=10)
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
                    dropout=0.0, classes=7)
    names = [layer.name for layer in model.layers]
    assert "tanh1" in names and "bn1" in names and "lrn1" not in names
    # batch normalisation follows the five convolutions only: fc6 and fc7 have none (notebook 05)
    batch_norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert [names[names.index(layer.name) - 1] for layer in batch_norms] == [f"conv{i}" for i in range(1, 6)]
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
        ({"pooling": "mean"}, "pooling"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(**kwargs)


def test_save_and_load_give_identical_outputs(tmp_path):
    model = alexnet("paper", input_shape=SMALL, classes=5)
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


def test_small_convnet_pools_as_cuda_convnets_18pct_network():
    """layers-18pct.cfg: max pooling after conv1, average pooling after conv2 and conv3 (3x3, stride 2)."""
    import keras

    pools = {layer.name: layer for layer in small_convnet().layers if "pool" in layer.name}
    assert isinstance(pools["pool1"], keras.layers.MaxPooling2D)
    assert all(isinstance(pools[n], keras.layers.AveragePooling2D) for n in ("pool2", "pool3"))
    assert {(p.pool_size, p.strides) for p in pools.values()} == {((3, 3), (2, 2))}


TORCH_SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras
    from alexnet_keras import alexnet
    assert keras.backend.backend() == "torch", keras.backend.backend()
    model = alexnet("paper", input_shape=(67, 67, 3), classes=5)
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
    model = alexnet("paper", input_shape=SMALL, classes=5)
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


@pytest.mark.parametrize("implementation", ["split", "groups"])
@pytest.mark.parametrize("initializer", ["paper", "keras"])
def test_towers_draw_independent_kernels(implementation, initializer):
    """Section 5: every weight is drawn independently, so the two towers start different."""
    keras.utils.set_random_seed(0)
    model = alexnet("paper", input_shape=SMALL, classes=10, initializer=initializer,
                    tower_implementation=implementation)
    for name in ("conv2", "conv4", "conv5"):
        first, second = (k.ravel() for k in model.get_layer(name).tower_kernels())
        n = first.size  # 153,600 (conv2) to 331,776 (conv4) weights per tower
        assert np.abs(first - second).max() > 0
        # The sample correlation of independent draws has standard deviation 1/sqrt(n): 5 sigma.
        assert abs(np.corrcoef(first, second)[0, 1]) < 5 / np.sqrt(n)
        if initializer == "paper":  # the sample std's standard error is 0.01/sqrt(2n): 5 sigma
            for kernel in (first, second):
                assert abs(kernel.std() - 0.01) < 5 * 0.01 / np.sqrt(2 * n)


def test_seeded_builds_are_reproducible_and_seeds_matter():
    def conv4_kernels(seed):
        keras.utils.set_random_seed(seed)
        return alexnet("paper", input_shape=SMALL, classes=10).get_layer("conv4").tower_kernels()

    first, again, other = conv4_kernels(1), conv4_kernels(1), conv4_kernels(2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], other[0])


def test_small_convnet_layers_draw_their_own_weights():
    keras.utils.set_random_seed(0)
    model = small_convnet(initializer="paper")
    conv2, conv3 = model.get_layer("conv2").kernel.numpy(), model.get_layer("conv3").kernel.numpy()
    first, second = conv2.ravel(), conv3[..., :32].ravel()  # same shape, 5x5x32x32
    assert abs(np.corrcoef(first, second)[0, 1]) < 5 / np.sqrt(first.size)


@pytest.mark.parametrize("pooling, shape", [(None, (None, 1, 1, 256)), ("avg", (None, 256)),
                                            ("max", (None, 256))])
def test_keras_applications_pooling_without_top(pooling, shape):
    model = alexnet("paper", input_shape=SMALL, include_top=False, pooling=pooling)
    assert model.output_shape == shape
    assert not any(layer.name.startswith("fc") for layer in model.layers)


def test_input_tensor_becomes_the_model_input():
    image = keras.Input(shape=SMALL, name="my_image")
    model = alexnet("single", input_tensor=image, classes=4)
    assert model.inputs[0] is image and model.output_shape == (None, 4)


def test_old_arguments_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="classes="):
        model = alexnet("paper", input_shape=SMALL, num_classes=3)
    assert model.output_shape == (None, 3)
    with pytest.warns(DeprecationWarning, match="overlapping_pooling=False"):
        model = alexnet("paper", input_shape=SMALL, classes=3, pooling="non_overlapping")
    assert model.get_layer("pool1").pool_size == (2, 2)


def test_preprocess_input_modes():
    from alexnet_keras.data import augment
    from alexnet_keras.model import preprocess_input

    x = np.random.default_rng(4).uniform(0, 255, size=(2, 5, 5, 3)).astype(np.float32)
    # "paper" is the trainer's own mean subtraction (one code path)
    np.testing.assert_allclose(preprocess_input(x), augment.subtract_mean(x).numpy(), rtol=1e-6)
    torch_mode = preprocess_input(x, mode="torch")
    for channel, (mean, std) in enumerate(zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))):
        np.testing.assert_allclose(torch_mode[..., channel], (x[..., channel] / 255 - mean) / std,
                                   rtol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        preprocess_input(x, mode="caffe")


def test_decode_predictions_names_imagenet_classes():
    from alexnet_keras.model import decode_predictions

    scores = np.zeros((2, 1000), np.float32)
    scores[0, 0], scores[0, 409], scores[1, 999] = 0.7, 0.2, 0.9
    decoded = decode_predictions(scores, top=2)
    assert decoded[0][0] == ("n01440764", "tench, Tinca tinca", pytest.approx(0.7))
    assert decoded[0][1][:2] == ("n02708093", "analog clock")
    assert decoded[1][0][0] == "n15075141" and len(decoded[1]) == 2
    with pytest.raises(ValueError, match="1000"):
        decode_predictions(scores[:, :10])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_alexnet_refuses_a_size_below_its_minimum_with_one_clear_error(variant):
    """Below the smallest size that keeps pool5 at 1x1, a ValueError names it (not Keras' pooling error)."""
    from alexnet_keras.model.variants import minimum_image_size

    smallest = minimum_image_size(variant)
    assert alexnet(variant, classes=3, input_shape=(smallest, smallest, 3)).output_shape == (None, 3)
    with pytest.raises(ValueError, match=f">= {smallest}"):
        alexnet(variant, classes=3, input_shape=(smallest - 1, smallest - 1, 3))
