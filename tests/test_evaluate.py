"""Evaluation of several checkpoints as one ensemble (Section 6) and the evaluate command's options."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from alexnet_keras import small_convnet
from alexnet_keras.cli import build_parser
from alexnet_keras.training.evaluate import ensemble_predict, evaluate_model


def _model(seed):
    keras.utils.set_random_seed(seed)
    return small_convnet(initializer="keras", input_shape=(16, 16, 3))


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    images = rng.uniform(-100, 100, size=(8, 16, 16, 3)).astype(np.float32)
    return images, rng.integers(0, 10, size=8)


def test_ensemble_of_two_identical_checkpoints_equals_the_single_one(batch, tmp_path):
    path = tmp_path / "a.keras"
    _model(0).save(path)
    single, twin = (keras.models.load_model(path) for _ in range(2))
    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(4)
    np.testing.assert_allclose(ensemble_predict([single, twin], batch[0]), single(batch[0]),
                               rtol=1e-6)
    assert evaluate_model([single, twin], dataset) == evaluate_model(single, dataset)


def test_ensemble_averages_softmax_outputs_not_logits(batch):
    first, second = _model(1), _model(2)
    got = np.asarray(ensemble_predict([first, second], batch[0]))
    np.testing.assert_allclose(got, (first(batch[0]) + second(batch[0])) / 2, rtol=1e-5, atol=1e-7)
    logits = [keras.Model(m.input, m.get_layer("fc4").output)(batch[0]) for m in (first, second)]
    averaged_logits = keras.ops.softmax((logits[0] + logits[1]) / 2)
    assert not np.allclose(got, averaged_logits, atol=1e-3)  # the two averages really differ here


def test_ensemble_refuses_models_without_softmax(batch):
    model = _model(3)
    logits = keras.Model(model.input, model.get_layer("fc4").output)
    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(4)
    with pytest.raises(ValueError, match="softmax"):
        evaluate_model([model, logits], dataset)


def test_evaluate_command_takes_several_checkpoints_or_pretrained_weights():
    parser = build_parser()
    args = parser.parse_args(["evaluate", "--checkpoint", "a.keras", "b.keras"])
    assert args.checkpoint == ["a.keras", "b.keras"] and args.weights is None
    args = parser.parse_args(["evaluate", "--variant", "torchvision", "--weights", "imagenet"])
    assert args.weights == "imagenet" and args.checkpoint is None
