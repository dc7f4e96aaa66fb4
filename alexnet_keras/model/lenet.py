"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) as a small Keras model: the step before AlexNet.

Notebook 01 sets it beside AlexNet and compares the two from the built models (``layer_table``).
"""

from __future__ import annotations

import keras


def lenet5(classes: int = 10) -> keras.Model:
    """LeNet-5 on 32x32 grey images: C1 (6 5x5 kernels), S2, C3 (16), S4, C5 (120), F6 (84), output.

    tanh units and 2x2 average pooling with stride 2, as in the 1998 paper, with two simplifications
    of it: every C3 kernel sees all six S2 maps (the paper connects each to 3-6 of them, which
    leaves C3 1,516 parameters instead of 2,416), and the output layer is a softmax where the paper
    has Euclidean radial basis function units. The subsampling layers here have no trainable
    coefficient and bias (the paper's have 12 and 32 parameters).
    """
    inputs = keras.Input(shape=(32, 32, 1), name="digit")
    x = keras.layers.Conv2D(6, 5, activation="tanh", name="c1")(inputs)
    x = keras.layers.AveragePooling2D(2, name="s2")(x)
    x = keras.layers.Conv2D(16, 5, activation="tanh", name="c3")(x)
    x = keras.layers.AveragePooling2D(2, name="s4")(x)
    x = keras.layers.Conv2D(120, 5, activation="tanh", name="c5")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(84, activation="tanh", name="f6")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="lenet5")
