"""LocalResponseNormalization against the paper's formula (Section 3.3) and TensorFlow's op."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from alexnet_keras import LocalResponseNormalization, TowerConv2D


def paper_lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    """Section 3.3, written out loop by loop: the sum runs over j = max(0, i-n/2) .. min(N-1, i+n/2)."""
    a = np.asarray(a, dtype=np.float64)
    channels = a.shape[-1]
    b = np.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        total = np.sum(a[..., lo : hi + 1] ** 2, axis=-1)
        b[..., i] = a[..., i] / (k + alpha * total) ** beta
    return b


@pytest.fixture
def large_activations():
    # Post-ReLU activations of a few hundred make alpha * sum(a^2) comparable to k = 2, so the
    # normalisation changes the values substantially (not a near-identity scaling by 2^-0.75).
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 300.0, size=(2, 5, 5, 16)).astype(np.float32)


def test_lrn_matches_paper_formula(large_activations):
    expected = paper_lrn(large_activations)
    got = np.asarray(LocalResponseNormalization()(large_activations))
    denominator_effect = np.abs(expected / large_activations - 2.0 ** -0.75).max()
    assert denominator_effect > 0.1, "inputs too small for the normalisation to matter"
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_lrn_matches_tensorflow_op_with_paper_constants(large_activations):
    expected = tf.nn.local_response_normalization(
        large_activations, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75
    )
    got = LocalResponseNormalization()(large_activations)
    np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-5)


def test_lrn_caffe_convention_is_alpha_divided_by_n(large_activations):
    caffe_alpha = 1e-4
    expected = paper_lrn(large_activations, alpha=caffe_alpha / 5)
    got = LocalResponseNormalization(alpha=caffe_alpha / 5)(large_activations)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
    assert not np.allclose(expected, paper_lrn(large_activations), rtol=1e-3)


def test_lrn_other_window_sizes(large_activations):
    for radius in (0, 1, 3):
        got = LocalResponseNormalization(depth_radius=radius, bias=1.0, alpha=1e-3, beta=0.5)(
            large_activations
        )
        expected = paper_lrn(large_activations, k=1.0, n=2 * radius + 1, alpha=1e-3, beta=0.5)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)


def test_lrn_config_round_trip():
    layer = LocalResponseNormalization(depth_radius=3, bias=1.0, alpha=2e-5, beta=0.5, name="x")
    clone = LocalResponseNormalization.from_config(layer.get_config())
    assert (clone.depth_radius, clone.bias, clone.alpha, clone.beta) == (3, 1.0, 2e-5, 0.5)


def test_lrn_rejects_bad_radius():
    with pytest.raises(ValueError, match="depth_radius"):
        LocalResponseNormalization(depth_radius=2.5)


def test_lrn_rejects_a_denominator_that_can_reach_zero():
    with pytest.raises(ValueError, match="bias"):
        LocalResponseNormalization(bias=0.0)
    with pytest.raises(ValueError, match="alpha"):
        LocalResponseNormalization(alpha=-1e-4)


def test_lrn_gradient_matches_tensorflow_op(large_activations):
    import tensorflow as tf

    x = tf.constant(large_activations)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = tf.reduce_sum(LocalResponseNormalization()(x) ** 2)
        theirs = tf.reduce_sum(tf.nn.local_response_normalization(x, 2, 2.0, 1e-4, 0.75) ** 2)
    np.testing.assert_allclose(tape.gradient(ours, x), tape.gradient(theirs, x), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("implementation", ["split", "groups"])
def test_tower_conv_honours_strides(implementation):
    layer = TowerConv2D(8, 3, towers=2, strides=2, padding="valid", implementation=implementation)
    x = np.random.default_rng(5).normal(size=(1, 9, 9, 6)).astype("float32")
    assert tuple(layer(x).shape) == (1, 4, 4, 8)
    assert layer.compute_output_shape((1, 9, 9, 6)) == (1, 4, 4, 8)
    clone = TowerConv2D.from_config(layer.get_config())
    assert clone.strides == 2 and tuple(clone(x).shape) == (1, 4, 4, 8)


def test_seeded_tower_initializer_gives_each_tower_its_own_draw():
    def kernels():
        init = keras.initializers.RandomNormal(stddev=0.01, seed=5)
        layer = TowerConv2D(64, 3, towers=2, kernel_initializer=init)
        layer.build((1, 8, 8, 32))
        return layer.tower_kernels()

    first, second = kernels()
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(kernels()[1], second)  # still deterministic for a fixed seed


def test_lrn_gradient_is_the_autodiff_gradient_of_the_paper_formula(large_activations):
    """The written-out gradient (``_normalize``) against TensorFlow differentiating Section 3.3's
    formula, for several constants, an upstream gradient of any sign, and a channel count smaller
    than the window."""
    rng = np.random.default_rng(3)
    for radius, bias, alpha, beta, channels in ((2, 2.0, 1e-4, 0.75, 16), (1, 1.0, 1e-3, 0.5, 7),
                                                (3, 2.0, 5e-4, 0.9, 3)):
        x = tf.constant(large_activations[..., :channels] * rng.choice([-1.0, 1.0], channels), tf.float32)
        upstream = tf.constant(rng.normal(size=x.shape), tf.float32)
        layer = LocalResponseNormalization(depth_radius=radius, bias=bias, alpha=alpha, beta=beta)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = layer(x)
            padded = tf.pad(tf.square(x), [[0, 0]] * 3 + [[radius, radius]])
            window = sum(padded[..., o : o + channels] for o in range(2 * radius + 1))
            formula = x / (bias + alpha * window) ** beta
        np.testing.assert_allclose(ours, formula, rtol=1e-5)
        np.testing.assert_allclose(tape.gradient(ours, x, output_gradients=upstream),
                                   tape.gradient(formula, x, output_gradients=upstream),
                                   rtol=1e-4, atol=1e-6)


def test_lrn_gradient_under_xla_and_in_a_keras_training_step(large_activations):
    """The custom gradient compiles under XLA (the trainer's default) and trains a model."""
    x = tf.constant(large_activations)

    @tf.function(jit_compile=True)
    def xla_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(LocalResponseNormalization()(x) ** 2)
        return tape.gradient(y, x)

    with tf.GradientTape() as tape:
        tape.watch(x)
        expected = tape.gradient(tf.reduce_sum(
            tf.nn.local_response_normalization(x, 2, 2.0, 1e-4, 0.75) ** 2), x)
    np.testing.assert_allclose(xla_gradient(x), expected, rtol=1e-4, atol=1e-6)

    model = keras.Sequential([keras.Input((5, 5, 16)), keras.layers.Conv2D(8, 3),
                              LocalResponseNormalization(), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    before = [w.copy() for w in model.get_weights()]
    model.fit(large_activations / 300, np.array([0, 1]), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
