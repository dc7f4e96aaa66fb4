"""AlexNet and the small network of Figure 1 (Krizhevsky, Sutskever & Hinton, NeurIPS 2012).

``alexnet()`` follows the ``keras.applications`` builders: one function, keyword options, layers named
after the paper (``conv1`` ... ``conv5``, ``lrn1``, ``pool1``, ``fc6`` ... ``fc8``).
Facts about each variant live in ``VARIANTS`` beside the code, as data.
"""

from __future__ import annotations

import keras

from alexnet_keras.model.layers import LocalResponseNormalization, TowerConv2D

# (name of each conv layer, kernels, kernel size, stride, padding, towers) per variant; Section 3.5.
_PAPER_CONVS = [
    ("conv1", 96, 11, 4, "valid", 1),
    ("conv2", 256, 5, 1, "same", 2),
    ("conv3", 384, 3, 1, "same", 1),
    ("conv4", 384, 3, 1, "same", 2),
    ("conv5", 256, 3, 1, "same", 2),
]

VARIANTS = {
    "paper": {
        "description": "two towers as in Figure 2 of the paper; conv2, conv4, conv5 see only their own tower",
        "convs": _PAPER_CONVS,
        "lrn": True,
        "input_shape": (227, 227, 3),
        "parameters_at_1000_classes": 60_965_224,
        "multiply_accumulates_at_227": 724_406_816,
    },
    "single": {
        "description": "the paper's layer widths in one tower (no grouping)",
        "convs": [(n, f, k, s, p, 1) for n, f, k, s, p, _ in _PAPER_CONVS],
        "lrn": True,
        "input_shape": (227, 227, 3),
        "parameters_at_1000_classes": 62_378_344,
    },
    "torchvision": {
        "description": "torchvision's AlexNet layer sizes (64-192-384-256-256, no LRN), so its "
        "published weights can be converted",
        "convs": [
            ("conv1", 64, 11, 4, 2, 1),
            ("conv2", 192, 5, 1, "same", 1),
            ("conv3", 384, 3, 1, "same", 1),
            ("conv4", 256, 3, 1, "same", 1),
            ("conv5", 256, 3, 1, "same", 1),
        ],
        "lrn": False,
        "input_shape": (224, 224, 3),
        "parameters_at_1000_classes": 61_100_840,
    },
}

# Section 5: "We initialized the neuron biases in the second, fourth, and fifth convolutional layers,
# as well as in the fully-connected hidden layers, with the constant 1 ... remaining layers with 0."
_BIAS_ONE_LAYERS = {"conv2", "conv4", "conv5", "fc6", "fc7"}

ACTIVATIONS = ("relu", "tanh")
NORMALIZATIONS = ("lrn", "batch", "none")
POOLINGS = {"overlapping": (3, 2), "non_overlapping": (2, 2)}
INITIALIZERS = ("paper", "keras")


def _check_choice(argument: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{argument} must be one of {sorted(allowed)}; received {value!r}")


def paper_initializers(layer_name: str, initializer: str = "paper") -> dict:
    """Kernel and bias initialisers for one layer (Section 5).

    ``"paper"``: weights from N(0, 0.01) (standard deviation 0.01), biases 1 in conv2, conv4, conv5,
    fc6 and fc7, 0 elsewhere. ``"keras"``: Keras' defaults (Glorot uniform, zero biases).
    """
    _check_choice("initializer", initializer, INITIALIZERS)
    if initializer == "keras":
        return {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}
    bias = 1.0 if layer_name in _BIAS_ONE_LAYERS else 0.0
    return {
        "kernel_initializer": keras.initializers.RandomNormal(mean=0.0, stddev=0.01),
        "bias_initializer": keras.initializers.Constant(bias),
    }


def _conv(x, name, filters, kernel, stride, padding, towers, initializer, implementation):
    inits = paper_initializers(name, initializer)
    if isinstance(padding, int):  # explicit zero padding, as torchvision's conv1 (padding=2)
        x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
        padding = "valid"
    if towers > 1:
        return TowerConv2D(
            filters, kernel, towers=towers, padding=padding, implementation=implementation,
            name=name, **inits,
        )(x)
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, name=name, **inits)(x)


def alexnet(
    variant: str = "paper",
    *,
    num_classes: int = 1000,
    input_shape: tuple[int, int, int] | None = None,
    activation: str = "relu",
    normalization: str = "lrn",
    pooling: str = "overlapping",
    dropout: float = 0.5,
    initializer: str = "paper",
    tower_implementation: str = "split",
    include_top: bool = True,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """Build AlexNet (Krizhevsky, Sutskever & Hinton 2012, Section 3.5 and Figure 2).

    Reference:
        ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012.

    Args:
        variant: ``"paper"`` (two towers, 60,965,224 parameters at 1000 classes), ``"single"`` (the
            same widths in one tower, 62,378,344) or ``"torchvision"`` (torchvision's sizes, 61,100,840).
        num_classes: outputs of fc8.
        input_shape: ``(height, width, 3)``. Default 227x227 (224x224 for ``"torchvision"``). The
            paper says 224, but (224 - 11) / 4 + 1 = 54.25: only 227 gives conv1 its 55x55 maps. A
            224 input to ``"paper"`` / ``"single"`` is padded by 1 pixel before and 2 after (layer
            ``conv1_pad``), which is the same network. Other sizes (63 and up) build with a
            different fc6 width, which is handy for small, fast experiments.
        activation: ``"relu"`` (Section 3.1) or ``"tanh"``.
        normalization: ``"lrn"`` (Section 3.3, after the ReLU of conv1 and conv2), ``"batch"``
            (``BatchNormalization`` after every convolution, before its activation: a modern
            substitute, not the paper's), or ``"none"``.
        pooling: ``"overlapping"`` (3x3, stride 2, Section 3.4) or ``"non_overlapping"`` (2x2,
            stride 2, the ablation the paper compares against).
        dropout: rate of the dropout after fc6 and fc7 (Section 4.2); 0 removes it.
        initializer: ``"paper"`` (N(0, 0.01) weights; biases 1 in conv2, conv4, conv5, fc6, fc7;
            Section 5) or ``"keras"`` (Glorot uniform weights, zero biases).
        tower_implementation: ``"split"`` (one Conv2D per tower) or ``"groups"`` (Conv2D(groups=2)).
        include_top: whether to include fc6, fc7 and fc8; without them the model ends at ``pool5``.
        classifier_activation: activation of the output (``"softmax"``, or ``None`` for logits).
        name: model name; default ``"alexnet_<variant>"``.

    Returns:
        A ``keras.Model`` taking mean-subtracted RGB images, channels last.
    """
    _check_choice("variant", variant, VARIANTS)
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("normalization", normalization, NORMALIZATIONS)
    _check_choice("pooling", pooling, POOLINGS)
    _check_choice("tower_implementation", tower_implementation, ("split", "groups"))
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); received {dropout!r}")
    spec = VARIANTS[variant]
    if input_shape is None:
        input_shape = spec["input_shape"]
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3 or min(input_shape[:2]) < 63:
        raise ValueError(
            f"input_shape must be (height, width, 3) with height and width >= 63; received {input_shape}"
        )
    pool_size, pool_stride = POOLINGS[pooling]

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if variant != "torchvision" and input_shape[:2] == (224, 224):
        x = keras.layers.ZeroPadding2D(((1, 2), (1, 2)), name="conv1_pad")(x)
    for layer_name, filters, kernel, stride, padding, towers in spec["convs"]:
        index = layer_name[-1]
        x = _conv(x, layer_name, filters, kernel, stride, padding, towers, initializer,
                  tower_implementation)
        if normalization == "batch":
            x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.Activation(activation, name=f"{activation}{index}")(x)
        if normalization == "lrn" and spec["lrn"] and index in "12":
            x = LocalResponseNormalization(name=f"lrn{index}")(x)
        if index in "125":
            x = keras.layers.MaxPooling2D(pool_size, strides=pool_stride, name=f"pool{index}")(x)

    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        for layer_name in ("fc6", "fc7"):
            if variant == "torchvision" and dropout:  # torchvision drops out before fc6 and fc7
                x = keras.layers.Dropout(dropout, name=f"dropout{layer_name[-1]}")(x)
            x = keras.layers.Dense(4096, name=layer_name, **paper_initializers(layer_name, initializer))(x)
            x = keras.layers.Activation(activation, name=f"{activation}{layer_name[-1]}")(x)
            if variant != "torchvision" and dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout{layer_name[-1]}")(x)
        x = keras.layers.Dense(num_classes, name="fc8", **paper_initializers("fc8", initializer))(x)
        if classifier_activation is not None:
            # float32 output keeps softmax and the loss stable under mixed precision.
            x = keras.layers.Activation(classifier_activation, dtype="float32", name="predictions")(x)
    return keras.Model(inputs, x, name=name or f"alexnet_{variant}")


def small_convnet(
    *,
    activation: str = "relu",
    num_classes: int = 10,
    input_shape: tuple[int, int, int] = (32, 32, 3),
    normalization: str = "none",
    initializer: str = "keras",
    name: str | None = None,
) -> keras.Model:
    """The four-layer convolutional network of Figure 1 (Section 3.1).

    The paper compares ReLU and tanh on "a four-layer convolutional neural network" on CIFAR-10
    without giving its layers. We use the shape of cuda-convnet's CIFAR-10 example network from the
    same authors: three 5x5 convolutions (32, 32, 64 kernels), each followed by 3x3 max pooling with
    stride 2, then one fully connected layer, four layers with weights in all. No regularisation,
    as in the paper's experiment. ``normalization="lrn"`` adds the paper's LRN after the first two
    pooling layers (the variant behind the paper's 13% -> 11% CIFAR-10 result in Section 3.3).

    Returns a model ending in softmax probabilities over ``num_classes``.
    """
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("normalization", normalization, ("lrn", "none"))
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for index, filters in enumerate((32, 32, 64), start=1):
        x = keras.layers.Conv2D(
            filters, 5, padding="same", name=f"conv{index}",
            **paper_initializers(f"conv{index}", initializer),
        )(x)
        x = keras.layers.Activation(activation, name=f"{activation}{index}")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{index}")(x)
        if normalization == "lrn" and index < 3:
            x = LocalResponseNormalization(name=f"lrn{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(num_classes, name="fc4", **paper_initializers("fc4", initializer))(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"small_convnet_{activation}")
