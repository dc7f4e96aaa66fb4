"""The Figure 1 experiment helpers (alexnet_keras.experiments) and the notebook figure helpers."""

import matplotlib

matplotlib.use("agg")

import numpy as np
import pytest

from alexnet_keras import experiments, plots
from alexnet_keras.experiments import Run


def test_epochs_to_threshold_counts_from_one_and_returns_none_when_never_reached():
    assert experiments.epochs_to_threshold([0.9, 0.3, 0.25, 0.1], 0.25) == 3
    assert experiments.epochs_to_threshold([0.9, 0.8], 0.25) is None


def test_pick_learning_rate_prefers_the_lowest_mean_training_error():
    runs = [
        Run("relu", 0.1, 0, [0.9, 0.9, 0.9]),
        Run("relu", 0.01, 0, [0.5, 0.2, 0.1]),
        Run("relu", 0.001, 0, [0.8, 0.4, 0.05]),
    ]
    assert experiments.pick_learning_rate(runs) == 0.01


def test_load_images_digits_are_mean_subtracted_raw_pixels():
    images, labels = experiments.load_images("digits")
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.float32
    assert labels.dtype == np.int64 and set(np.unique(labels)) == set(range(10))
    np.testing.assert_allclose(images.mean(axis=0), 0, atol=1e-3)
    assert images.max() - images.min() > 200  # the 0..255 range of raw pixels, not 0..1


def test_load_images_rejects_unknown_names():
    with pytest.raises(ValueError, match="digits"):
        experiments.load_images("mnist")


def test_train_small_convnet_records_errors_and_gradient_norms_per_layer():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(40, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, size=40)
    run = experiments.train_small_convnet(
        images, labels, activation="tanh", learning_rate=0.01, epochs=2, batch_size=10, gradient_every=2
    )
    assert len(run.training_error) == 2 and all(0 <= e <= 1 for e in run.training_error)
    assert set(run.gradient_norms) == {"conv1", "conv2", "conv3", "fc4"}
    assert run.gradient_steps == [0, 2, 4, 6, 8]  # before training, then every 2 of the 8 steps
    assert all(len(v) == len(run.gradient_steps) for v in run.gradient_norms.values())
    assert all(n > 0 for v in run.gradient_norms.values() for n in v)


def test_notebook_figures_draw():
    from alexnet_keras import LocalResponseNormalization, alexnet, layer_table

    run = Run("relu", 0.01, 0, [0.5, 0.2], [0, 10], {"conv1": [1.0, 0.5]})
    figures = [
        plots.plot_parameters_and_compute(layer_table(alexnet(input_shape=(67, 67, 3), classes=10))),
        plots.plot_lrn_gain(LocalResponseNormalization(), np.linspace(0, 300, 5), [0, 100]),
        plots.plot_activation_derivatives(),
        plots.plot_training_error({"relu": [[0.5, 0.2]], "tanh": [[0.7, 0.4]]}, 0.25),
        plots.plot_gradient_norms({"relu": run, "tanh": run}),
        plots.plot_conv1_kernels(np.random.default_rng(0).normal(size=(11, 11, 3, 96))),
        plots.plot_labelled_neighbours(np.zeros((2, 9, 9, 3)), np.ones((2, 3, 9, 9, 3)), [0, 1],
                                       [[0, 1, 1], [1, 1, 0]], ["a", "b"], np.ones((2, 3))),
    ]
    assert all(f.axes for f in figures)


def test_epoch_shuffle_visits_every_image_once_per_epoch_in_a_new_order():
    images = np.arange(10, dtype="float32")[:, None]
    data = experiments.EpochShuffle(images, np.arange(10), batch_size=4, seed=0)
    assert len(data) == 3  # 4 + 4 + 2
    orders = []
    for _ in range(2):
        epoch = np.concatenate([data[i][1] for i in range(len(data))])
        assert sorted(epoch) == list(range(10))
        orders.append(epoch)
        data.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1])
