"""The summary table's receptive fields and neurons, and the training-memory count (Sections 1, 3.2, 3.5)."""

import math

import pytest

from alexnet_keras import alexnet
from alexnet_keras.model.summary import format_table, layer_table, neuron_count, training_memory

# Receptive fields of the paper's network in input pixels, the values commonly published for
# AlexNet, and the layers' (kernel, stride) by hand from Section 3.5: conv1 11/4, pools 3/2,
# conv2 5/1, conv3-5 3/1.
PUBLISHED_FIELDS = {"conv1": 11, "pool1": 19, "conv2": 51, "pool2": 67, "conv3": 99, "conv4": 131,
                    "conv5": 163, "pool5": 195}
HAND_LAYERS = [("conv1", 11, 4), ("pool1", 3, 2), ("conv2", 5, 1), ("pool2", 3, 2), ("conv3", 3, 1),
               ("conv4", 3, 1), ("conv5", 3, 1), ("pool5", 3, 2)]


@pytest.fixture(scope="module")
def paper_rows():
    return {row.name: row for row in layer_table(alexnet("paper"))}


def test_receptive_fields_match_hand_recurrence_and_published_values(paper_rows):
    field, jump, hand = 1, 1, {}
    for name, kernel, stride in HAND_LAYERS:
        field, jump = field + (kernel - 1) * jump, jump * stride
        hand[name] = (field, jump)
    assert {name: fj[0] for name, fj in hand.items()} == PUBLISHED_FIELDS
    for name, (field, jump) in hand.items():
        assert (paper_rows[name].receptive_field, paper_rows[name].jump) == (field, jump), name


def test_elementwise_layers_keep_the_receptive_field_and_dense_layers_see_everything(paper_rows):
    assert paper_rows["relu1"].receptive_field == paper_rows["lrn1"].receptive_field == 11
    assert paper_rows["relu5"].receptive_field == 163
    for name in ("flatten", "fc6", "fc7", "fc8"):
        assert paper_rows[name].receptive_field is None and paper_rows[name].jump is None


def test_padding_to_224_does_not_change_receptive_fields():
    rows = {row.name: row for row in layer_table(alexnet("paper", input_shape=(224, 224, 3)))}
    assert rows["conv1_pad"].receptive_field == 1
    assert {name: rows[name].receptive_field for name in PUBLISHED_FIELDS} == PUBLISHED_FIELDS


def test_activations_are_output_sizes_and_neurons_count_conv_and_fc_outputs(paper_rows):
    for row in paper_rows.values():
        assert row.activations == math.prod(row.output_shape)
    # Section 3.5's per-layer neurons (253,440-186,624-64,896-64,896-43,264-4096-4096-1000), except
    # the first, which 96 maps of 55x55 make 290,400.
    expected = [290_400, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    assert [paper_rows[n].activations for n in names] == expected
    assert neuron_count(list(paper_rows.values())) == sum(expected) == 659_272


def test_training_memory_counts_parameters_three_times_and_every_output_twice():
    model = alexnet("paper")
    memory = training_memory(model, batch_size=128)
    assert memory.weights == memory.gradients == memory.momentum == 60_965_224 * 4
    values = sum(r.activations for r in layer_table(model)) + 227 * 227 * 3
    assert memory.activations == memory.activation_gradients == values * 128 * 4
    assert memory.total == 3 * 60_965_224 * 4 + 2 * values * 128 * 4
    assert training_memory(model, batch_size=64).activations * 2 == memory.activations


def test_training_memory_rejects_a_batch_of_zero():
    with pytest.raises(ValueError, match="batch_size"):
        training_memory(alexnet("paper", input_shape=(67, 67, 3), classes=10), batch_size=0)


def test_format_table_shows_receptive_field_and_neurons(paper_rows):
    text = format_table(list(paper_rows.values()))
    assert "RF px" in text and "neurons" in text
    line = next(line for line in text.splitlines() if line.startswith("pool5"))
    assert line.split()[-2:] == ["195", "9,216"]
