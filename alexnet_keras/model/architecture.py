"""AlexNet and the small network of Figure 1 (Krizhevsky, Sutskever & Hinton, NeurIPS 2012).

``alexnet()`` follows the ``keras.applications`` builders (``VGG16``): one function, keyword options,
layers named after the paper (``conv1`` ... ``conv5``, ``lrn1``, ``pool1``, ``fc6`` ... ``fc8``),
``preprocess_input`` beside it (``model/preprocessing.py``). Facts about each variant live in
``VARIANTS`` (``model/variants.py``), as data.
"""

from __future__ import annotations

import warnings

import keras

from alexnet_keras.checks import check_choice
from alexnet_keras.model.layers import LocalResponseNormalization, TowerConv2D
from alexnet_keras.model.variants import (
    CONV_NAMES, GROUPED, KERNEL_SIZES, STRIDES, VARIANTS, Variant, minimum_image_size,
)

# Section 5: "We initialized the neuron biases in the second, fourth, and fifth convolutional layers,
# as well as in the fully-connected hidden layers, with the constant 1 ... remaining layers with 0."
_BIAS_ONE_LAYERS = {"conv2", "conv4", "conv5", "fc6", "fc7"}

ACTIVATIONS = ("relu", "tanh")
NORMALIZATIONS = ("lrn", "batch", "none")
POOLINGS = (None, "avg", "max")  # keras.applications: after pool5 when include_top=False
INITIALIZERS = ("paper", "keras", "he", "cuda-convnet")
_OLD_POOLINGS = {"overlapping": True, "non_overlapping": False}  # before keras.applications' pooling

_check_choice = check_choice  # the package's one choice check, alexnet_keras.checks


def paper_initializers(layer_name: str, initializer: str = "paper") -> dict:
    """Kernel and bias initialisers for one layer (Section 5).

    ``"paper"``: weights from N(0, 0.01) (standard deviation 0.01), biases 1 in conv2, conv4, conv5,
    fc6 and fc7, 0 elsewhere. ``"keras"``: Keras' defaults (Glorot uniform, zero biases); ``"he"``:
    He normal (a later scheme for ReLU networks, not the paper's), zero biases. ``"cuda-convnet"``:
    the authors' own CIFAR-10 network (cuda-convnet's ``layers-18pct.cfg``, the shape of
    :func:`small_convnet`): conv1 from N(0, 0.0001), every later layer from N(0, 0.01), zero biases. Each call
    returns new initializer objects, so every layer draws its own weights (``TowerConv2D`` gives
    each tower its own draw too).
    """
    _check_choice("initializer", initializer, INITIALIZERS)
    if initializer == "keras":
        return {"kernel_initializer": keras.initializers.GlorotUniform(), "bias_initializer": "zeros"}
    if initializer == "he":  # He et al. 2015, for ReLUs: truncated normal, variance 2 / fan_in
        return {"kernel_initializer": keras.initializers.HeNormal(), "bias_initializer": "zeros"}
    if initializer == "cuda-convnet":
        return {
            "kernel_initializer": keras.initializers.RandomNormal(
                mean=0.0, stddev=1e-4 if layer_name == "conv1" else 1e-2),
            "bias_initializer": "zeros",
        }
    bias = 1.0 if layer_name in _BIAS_ONE_LAYERS else 0.0
    return {
        "kernel_initializer": keras.initializers.RandomNormal(mean=0.0, stddev=0.01),
        "bias_initializer": keras.initializers.Constant(bias),
    }


def _check_arguments(variant, activation, normalization, pooling, dropout, tower_implementation,
                     input_shape, input_tensor, overlapping_pooling=True) -> tuple[Variant, tuple]:
    _check_choice("variant", variant, VARIANTS)
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("normalization", normalization, NORMALIZATIONS)
    _check_choice("pooling", pooling, POOLINGS)
    _check_choice("tower_implementation", tower_implementation, ("split", "groups"))
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); received {dropout!r}")
    spec = VARIANTS[variant]
    if input_shape is None:
        input_shape = tuple(input_tensor.shape[1:]) if input_tensor is not None else spec.input_shape
    input_shape = tuple(input_shape)
    smallest = minimum_image_size(variant, overlapping_pooling=overlapping_pooling)
    if len(input_shape) != 3 or input_shape[-1] != 3 or min(input_shape[:2]) < smallest:
        raise ValueError(
            f"input_shape must be (height, width, 3) with height and width >= {smallest} (the "
            f"smallest that keeps pool5 at 1x1 for {variant!r}); received {input_shape}"
        )
    return spec, input_shape


def _inputs(input_tensor, input_shape):
    """(model inputs, first tensor), as ``keras.applications`` handles ``input_tensor``."""
    if input_tensor is None:
        image = keras.Input(shape=input_shape, name="image")
        return image, image
    if not keras.backend.is_keras_tensor(input_tensor):
        image = keras.Input(tensor=input_tensor, shape=input_shape, name="image")
        return image, image
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def _features(x, spec: Variant, *, activation, normalization, pool, initializer, implementation):
    """conv1 to pool5 (Section 3.5): conv, [BN], activation, [LRN after 1 and 2], pool after 1, 2, 5."""
    if spec.conv1_padding:  # explicit zero padding, as torchvision's conv1 (padding=2)
        x = keras.layers.ZeroPadding2D(spec.conv1_padding, name="conv1_pad")(x)
    elif tuple(x.shape[1:3]) == (224, 224):  # the paper's "224" becomes the 227 the arithmetic needs
        x = keras.layers.ZeroPadding2D(((1, 2), (1, 2)), name="conv1_pad")(x)
    for name, filters, kernel, stride in zip(CONV_NAMES, spec.filters, KERNEL_SIZES, STRIDES):
        index = name[-1]
        padding = "valid" if name == "conv1" else "same"
        inits = paper_initializers(name, initializer)
        if spec.towers > 1 and name in GROUPED:
            x = TowerConv2D(filters, kernel, towers=spec.towers, strides=stride, padding=padding,
                            implementation=implementation, name=name, **inits)(x)
        else:
            x = keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, name=name,
                                    **inits)(x)
        if normalization == "batch":
            x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.Activation(activation, name=f"{activation}{index}")(x)
        if normalization == "lrn" and spec.lrn and index in "12":
            x = LocalResponseNormalization(name=f"lrn{index}")(x)
        if index in "125":
            x = keras.layers.MaxPooling2D(pool[0], strides=pool[1], name=f"pool{index}")(x)
    return x


def _classifier(x, spec: Variant, *, classes, activation, dropout, initializer, classifier_activation):
    """fc6, fc7 (ReLU, dropout 0.5, Section 4.2) and fc8 with its softmax (Section 3.5)."""
    x = keras.layers.Flatten(name="flatten")(x)
    for name in ("fc6", "fc7"):
        if spec.dropout_before_fc and dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{name[-1]}")(x)
        x = keras.layers.Dense(spec.fc_units, name=name, **paper_initializers(name, initializer))(x)
        x = keras.layers.Activation(activation, name=f"{activation}{name[-1]}")(x)
        if not spec.dropout_before_fc and dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{name[-1]}")(x)
    x = keras.layers.Dense(classes, name="fc8", **paper_initializers("fc8", initializer))(x)
    if classifier_activation is not None:
        # float32 output keeps softmax and the loss stable under mixed precision.
        x = keras.layers.Activation(classifier_activation, dtype="float32", name="predictions")(x)
    return x


def alexnet(
    variant: str = "paper",
    *,
    include_top: bool = True,
    weights=None,
    input_tensor=None,
    input_shape: tuple[int, int, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    activation: str = "relu",
    normalization: str = "lrn",
    dropout: float = 0.5,
    initializer: str = "paper",
    overlapping_pooling: bool = True,
    tower_implementation: str = "split",
    name: str | None = None,
    num_classes: int | None = None,
) -> keras.Model:
    """Build AlexNet (Krizhevsky, Sutskever & Hinton 2012, Section 3.5 and Figure 2).

    Reference:
        ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012.

    Args:
        variant: a key of ``VARIANTS``: ``"paper"`` (two towers), ``"single"`` (the same widths in
            one tower), ``"half"`` (Section 3.2's one-GPU net) or ``"torchvision"``.
        include_top: whether to include fc6, fc7 and fc8; without them the model ends at ``pool5``.
        weights: ``None`` (random, Section 5), ``"imagenet"`` (torchvision's published weights,
            variant ``"torchvision"`` only; see ``model/weights.py``), the path of a torchvision
            state-dict file (``.pth``) or a state dict, or the path of a ``.weights.h5`` file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: ``(height, width, 3)``; default the variant's (227x227, 224x224 for
            ``"torchvision"``). The paper says 224, but (224 - 11) / 4 + 1 = 54.25: only 227 gives
            conv1 its 55x55 maps, so a 224 input to the paper's variants is padded by 1 pixel before
            and 2 after (layer ``conv1_pad``). Other sizes (63 and up) change fc6's width.
        pooling: with ``include_top=False``: ``None`` (end at pool5), ``"avg"`` or ``"max"`` (global
            pooling after it), as in ``keras.applications``.
        classes: outputs of fc8.
        classifier_activation: activation of the output (``"softmax"``, or ``None`` for logits).
        activation: ``"relu"`` (Section 3.1) or ``"tanh"``.
        normalization: ``"lrn"`` (Section 3.3, after the ReLU of conv1 and conv2, in the variants
            that have it), ``"batch"`` (``BatchNormalization`` before every conv activation: a
            modern substitute, not the paper's) or ``"none"``.
        dropout: rate of the dropout at fc6 and fc7 (Section 4.2); 0 removes it.
        initializer: ``"paper"`` (N(0, 0.01) weights; biases 1 in conv2, conv4, conv5, fc6, fc7;
            Section 5), ``"keras"`` (Glorot uniform weights, zero biases) or ``"he"`` (He normal).
        overlapping_pooling: 3x3 pools with stride 2 (Section 3.4); ``False``: 2x2, stride 2.
        tower_implementation: ``"split"`` (one Conv2D per tower) or ``"groups"`` (Conv2D(groups=2)).
        name: model name; default ``"alexnet_<variant>"``.
        num_classes: deprecated alias of ``classes``.

    Returns:
        A ``keras.Model`` taking RGB images, channels last, prepared by ``preprocess_input``
        (``mode="paper"`` for our training, ``"torch"`` for torchvision's weights).
    """
    classes, pooling, overlapping_pooling = _deprecated(num_classes, classes, pooling,
                                                        overlapping_pooling)
    spec, input_shape = _check_arguments(variant, activation, normalization, pooling, dropout,
                                         tower_implementation, input_shape, input_tensor,
                                         overlapping_pooling)
    if weights is not None:
        from alexnet_keras.model.weights import check_weights

        check_weights(weights, spec.name, include_top=include_top, classes=classes)
    inputs, x = _inputs(input_tensor, input_shape)
    x = _features(x, spec, activation=activation, normalization=normalization,
                  pool=(3, 2) if overlapping_pooling else (2, 2), initializer=initializer,
                  implementation=tower_implementation)
    if include_top:
        x = _classifier(x, spec, classes=classes, activation=activation, dropout=dropout,
                        initializer=initializer, classifier_activation=classifier_activation)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name=name or f"alexnet_{variant}")
    if weights is not None:
        from alexnet_keras.model.weights import load_weights

        load_weights(model, weights)
    return model


def _deprecated(num_classes, classes, pooling, overlapping_pooling):
    """Maps the arguments ``alexnet()`` took before its keras.applications signature."""
    if num_classes is not None:
        warnings.warn("alexnet(num_classes=) is deprecated; use classes=", DeprecationWarning,
                      stacklevel=3)
        classes = num_classes
    if isinstance(pooling, str) and pooling in _OLD_POOLINGS:
        warnings.warn(f"alexnet(pooling={pooling!r}) is deprecated; pooling now means global "
                      f"pooling as in keras.applications, use overlapping_pooling="
                      f"{_OLD_POOLINGS[pooling]}", DeprecationWarning, stacklevel=3)
        pooling, overlapping_pooling = None, _OLD_POOLINGS[pooling]
    return classes, pooling, overlapping_pooling


def small_convnet(
    *,
    activation: str = "relu",
    classes: int = 10,
    input_shape: tuple[int, int, int] = (32, 32, 3),
    normalization: str = "none",
    initializer: str = "keras",
    name: str | None = None,
    num_classes: int | None = None,
) -> keras.Model:
    """The four-layer convolutional network of Figure 1 (Section 3.1).

    The paper compares ReLU and tanh on "a four-layer convolutional neural network" on CIFAR-10
    without giving its layers. We use the shape of cuda-convnet's CIFAR-10 example network from the
    same authors (``layers-18pct.cfg``): three 5x5 convolutions (32, 32, 64 kernels), each followed
    by 3x3 pooling with stride 2 (max pooling after conv1, average pooling after conv2 and conv3, as
    in that file), then one fully connected layer, four layers with weights in all. No regularisation,
    as in the paper's experiment. ``normalization="lrn"`` adds the paper's LRN after the first two
    pooling layers (the variant behind the paper's 13% -> 11% CIFAR-10 result in Section 3.3).
    ``num_classes`` is a deprecated alias of ``classes``.

    Returns a model ending in softmax probabilities over ``classes``.
    """
    classes, _, _ = _deprecated(num_classes, classes, None, True)
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
        pooling = keras.layers.MaxPooling2D if index == 1 else keras.layers.AveragePooling2D
        x = pooling(3, strides=2, padding="same", name=f"pool{index}")(x)
        if normalization == "lrn" and index < 3:
            x = LocalResponseNormalization(name=f"lrn{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(classes, name="fc4", **paper_initializers("fc4", initializer))(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"small_convnet_{activation}")
