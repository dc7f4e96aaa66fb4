"""The two layers AlexNet needs that Keras does not ship.

Both are written with ``keras.ops`` only, so they run on every Keras backend
(TensorFlow, JAX, PyTorch) and survive ``model.save`` / ``keras.models.load_model``.
"""

from __future__ import annotations

import keras
from keras import ops

from alexnet_keras.checks import check_choice

PACKAGE = "alexnet_keras"
TOWER_IMPLEMENTATIONS = ("split", "groups")  # TowerConv2D: one Conv2D per tower, or Conv2D(groups=)


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012, Section 3.3).

    For each position, channel ``i`` of the input ``a`` becomes::

        b[i] = a[i] / (k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a[j]**2) ** beta

    with ``n = 2 * depth_radius + 1`` adjacent channels and ``N`` channels in all. The defaults are
    the paper's constants: ``k = bias = 2``, ``n = 5`` (``depth_radius = 2``), ``alpha = 1e-4``,
    ``beta = 0.75``. As in the paper, ``alpha`` multiplies the *sum* of squares; it is not divided by
    ``n``. This is the convention of ``tf.nn.local_response_normalization`` too.

    Caffe's ``LRN`` layer and PyTorch's ``torch.nn.LocalResponseNorm`` divide alpha by the window
    size ``n``. To reproduce them, pass ``alpha = their_alpha / n``::

        # PyTorch's LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2)
        LocalResponseNormalization(depth_radius=2, alpha=1e-4 / 5, beta=0.75, bias=2.0)

    Input: a channels-last tensor (``[..., channels]``). Output: same shape.
    """

    def __init__(
        self,
        depth_radius: int = 2,
        bias: float = 2.0,
        alpha: float = 1e-4,
        beta: float = 0.75,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(depth_radius) != depth_radius or depth_radius < 0:
            raise ValueError(
                f"depth_radius must be a non-negative integer (half the window n, so n=5 is "
                f"depth_radius=2); received {depth_radius!r}"
            )
        if not bias > 0 or not alpha >= 0:
            raise ValueError(
                f"bias (k) must be > 0 and alpha >= 0, or the denominator can reach 0 (the paper uses "
                f"k=2, alpha=1e-4; Caffe and PyTorch k=1); received bias={bias!r}, alpha={alpha!r}"
            )
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        # Square once in float32 (or wider) so mixed precision does not overflow the sum.
        x = ops.cast(inputs, "float32") if self.compute_dtype == "float16" else inputs
        return ops.cast(self._normalize(x), inputs.dtype)

    def _window_sum(self, values):
        """Sum over the window of 2r+1 neighbouring channels (zero beyond the edges): one shifted
        slice of the padded tensor per offset."""
        channels, r = values.shape[-1], self.depth_radius
        padded = ops.pad(values, [[0, 0]] * (len(values.shape) - 1) + [[r, r]])
        total = padded[..., 0:channels]
        for offset in range(1, 2 * r + 1):
            total = total + padded[..., offset : offset + channels]
        return total

    def _normalize(self, x):
        """``b = a * s**-beta`` with ``s = k + alpha * window_sum(a**2)``, and its gradient written
        out (the paper gives none). For an upstream gradient ``g``, since the window is symmetric::

            dL/da = g * s**-beta - 2 * alpha * beta * a * window_sum(g * b / s)

        Autodiff of the forward pass differentiates each of the window's slices (a pad each) and
        the ``exp``/``log`` chain separately; this gradient is one more window sum and a few
        element-wise products (``bench profile``'s LRN rows, before and after, are in
        benchmarks/RESULTS.md). ``(.) ** -beta`` is ``exp(-beta * log(.))``: the same value
        (``s >= k > 0``), faster than ``ops.power`` on TensorFlow's CPU kernels.
        """

        @ops.custom_gradient
        def normalize(a):
            norm = self.bias + self.alpha * self._window_sum(ops.square(a))
            scale = ops.exp(-self.beta * ops.log(norm))
            b = a * scale

            def gradient(*args, upstream=None):
                upstream = args[0] if upstream is None else upstream  # TF/JAX pass it positionally
                return upstream * scale - (2.0 * self.alpha * self.beta) * a * self._window_sum(
                    upstream * b / norm)

            return b, gradient

        return normalize(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta
        )
        return config


def _tower_initializer(initializer, tower: int):
    """A copy of ``initializer`` that draws its own values for tower ``tower`` (0-based).

    Keras initializers seeded with ``None`` or an integer return the same values on every call, so
    one object shared by two towers would give them identical kernels. Non-random initializers
    (``Constant``, ``Zeros``) and those seeded with a ``SeedGenerator`` are shared as they are.
    """
    seed = getattr(initializer, "seed", None)
    if not isinstance(initializer, keras.initializers.Initializer) or seed is None or isinstance(
        seed, keras.random.SeedGenerator
    ):
        return initializer
    config = initializer.get_config()
    if config.get("seed") is not None:
        config["seed"] = int(config["seed"]) + tower
    return type(initializer).from_config(config)  # seed None: a fresh default seed per tower


@keras.saving.register_keras_serializable(package=PACKAGE)
class TowerConv2D(keras.layers.Layer):
    """A convolution split across AlexNet's two towers (Section 3.2, Figure 2).

    The input channels are split into ``towers`` equal groups; tower ``t`` convolves only its own
    group with ``filters / towers`` kernels, and the outputs are concatenated. This is what the
    paper's conv2, conv4 and conv5 do: "the kernels of layer 3 take input from all kernel maps in
    layer 2, [those of layers 4 and 5] only from those kernel maps in layer 3 which reside on the
    same GPU".

    ``implementation="split"`` builds one ``Conv2D`` per tower (sub-layers ``tower1``, ``tower2``),
    so each tower's kernels can be inspected, and it is the fastest on TensorFlow's CPU kernels.
    ``implementation="groups"`` uses one ``Conv2D(groups=towers)``; same parameters, same function.

    Each tower draws its own kernels (Section 5: every weight from N(0, 0.01), independently): a
    random initializer is cloned per tower, since a Keras initializer returns the same values on
    every call. An unseeded one gets a fresh seed per tower (reproducible under
    ``keras.utils.set_random_seed``); one seeded with an integer ``s`` gives tower ``t`` the seed
    ``s + t``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        towers: int = 2,
        strides=1,
        padding: str = "same",
        implementation: str = "split",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("implementation", implementation, TOWER_IMPLEMENTATIONS)
        if filters % towers:
            raise ValueError(f"filters ({filters}) must divide into {towers} towers")
        self.filters = filters
        self.kernel_size = kernel_size
        self.towers = towers
        self.strides = strides
        self.padding = padding
        self.implementation = implementation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        common = dict(
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        if implementation == "split":
            self.convs = [
                keras.layers.Conv2D(
                    filters // towers, name=f"tower{t + 1}",
                    kernel_initializer=_tower_initializer(self.kernel_initializer, t), **common,
                )
                for t in range(towers)
            ]
        else:
            self.convs = [keras.layers.Conv2D(filters, groups=towers, name="grouped",
                                              kernel_initializer=self.kernel_initializer, **common)]

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels % self.towers:
            raise ValueError(
                f"{self.name}: {channels} input channels do not split into {self.towers} towers"
            )
        if self.implementation == "split":
            tower_shape = tuple(input_shape[:-1]) + (channels // self.towers,)
            for conv in self.convs:
                conv.build(tower_shape)
        else:
            self.convs[0].build(input_shape)

    def call(self, inputs):
        if self.implementation == "groups":
            return self.convs[0](inputs)
        parts = ops.split(inputs, self.towers, axis=-1)
        return ops.concatenate([conv(part) for conv, part in zip(self.convs, parts)], axis=-1)

    def compute_output_shape(self, input_shape):
        return self.convs[0].compute_output_shape(input_shape)[:-1] + (self.filters,)

    def tower_kernels(self):
        """The kernels of each tower, a list of ``[kh, kw, in_per_tower, out_per_tower]`` arrays."""
        if self.implementation == "split":
            return [ops.convert_to_numpy(conv.kernel) for conv in self.convs]
        kernel = ops.convert_to_numpy(self.convs[0].kernel)
        per_tower = self.filters // self.towers
        return [kernel[..., t * per_tower : (t + 1) * per_tower] for t in range(self.towers)]

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            towers=self.towers,
            strides=self.strides,
            padding=self.padding,
            implementation=self.implementation,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
