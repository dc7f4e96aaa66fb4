"""LeNet-5, the model notebook 01 sets beside AlexNet."""

from alexnet_keras import layer_table
from alexnet_keras.model.lenet import lenet5


def test_lenet5_layers_parameters_and_compute_follow_the_1998_paper():
    rows = {r.name: r for r in layer_table(lenet5())}
    # The paper's map sizes: C1 28x28x6, S2 14x14x6, C3 10x10x16, S4 5x5x16, C5 1x1x120.
    assert [rows[n].output_shape for n in ("c1", "s2", "c3", "s4", "c5")] == [
        (28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (1, 1, 120)]
    # The paper's parameter counts for C1, C5 and F6 ("156", "48,120", "10,164"); C3 is fully connected here.
    assert (rows["c1"].parameters, rows["c5"].parameters, rows["f6"].parameters) == (156, 48_120, 10_164)
    assert rows["c3"].parameters == 16 * (5 * 5 * 6 + 1)
    # A C5 unit sees the whole 32x32 input: 5 + (2-1)*1 + (5-1)*2 + (2-1)*2 + (5-1)*4 = 32.
    assert rows["c5"].receptive_field == 32
    assert rows["c1"].multiply_accumulates == 28 * 28 * 6 * 5 * 5
