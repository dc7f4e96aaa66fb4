"""Per-layer shapes, parameters, multiply-accumulates, receptive fields and neurons of a model
(Section 3.5, Figure 2), and the memory a training step needs (Section 3.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras

from alexnet_keras.model.layers import TowerConv2D


@dataclass(frozen=True)
class LayerRow:
    """One line of the summary table."""

    name: str
    kind: str
    output_shape: tuple
    parameters: int
    multiply_accumulates: int
    # Side of the input patch one output unit sees, and the input pixels between neighbouring
    # outputs ("jump"); None from ``flatten`` on, where every unit sees the whole image.
    receptive_field: int | None = None
    jump: int | None = None
    activations: int = 0  # output values per image: the layer's neurons

    @property
    def neurons(self) -> int:
        return self.activations


def _macs(layer, output_shape) -> int:
    """Multiply-accumulates of one forward pass of ``layer`` for one image."""
    if isinstance(layer, (keras.layers.Conv2D, TowerConv2D)):
        if isinstance(layer, TowerConv2D):
            conv = layer.convs[0]
            kernel_h, kernel_w, in_per_kernel = conv.kernel.shape[:3]
        else:
            kernel_h, kernel_w, in_per_kernel = layer.kernel.shape[:3]
        out_h, out_w, out_c = output_shape[1:]
        return out_h * out_w * out_c * kernel_h * kernel_w * in_per_kernel
    if isinstance(layer, keras.layers.Dense):
        return int(math.prod(layer.kernel.shape))
    return 0


def _kernel_and_stride(layer) -> tuple[int, int]:
    """(kernel side, stride) of a layer along the height axis; (1, 1) for element-wise layers."""
    if isinstance(layer, TowerConv2D):
        kernel, stride = layer.kernel_size, layer.strides
    elif isinstance(layer, keras.layers.Conv2D):
        kernel, stride = layer.kernel_size, layer.strides
    elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kernel, stride = layer.pool_size, layer.strides
    else:  # activations, LRN, zero padding: padding moves the window, it does not widen it
        return 1, 1
    kernel = kernel[0] if isinstance(kernel, (tuple, list)) else kernel
    stride = stride[0] if isinstance(stride, (tuple, list)) else stride
    return int(kernel), int(stride)


def layer_table(model: keras.Model) -> list[LayerRow]:
    """Every layer of ``model`` (input excluded) with its output shape, parameters, MACs, receptive
    field and neurons.

    A grouped layer's kernels see ``input channels / towers`` maps each, which is where the two-tower
    network saves parameters and compute against one tower of the same width. The receptive field
    follows the recurrence ``r_out = r_in + (k - 1) * j_in``, ``j_out = j_in * s`` from ``r = j = 1``
    at the input, with each layer's kernel side ``k`` and stride ``s`` (square kernels, a sequential
    model).
    """
    rows = []
    field, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = tuple(layer.output.shape)
        if field is not None and len(shape) == 4:
            kernel, stride = _kernel_and_stride(layer)
            field, jump = field + (kernel - 1) * jump, jump * stride
        else:  # flatten and the dense layers: every unit sees the whole image
            field, jump = None, None
        rows.append(
            LayerRow(
                name=layer.name,
                kind=type(layer).__name__,
                output_shape=shape[1:],
                parameters=layer.count_params() if layer.weights else 0,
                multiply_accumulates=_macs(layer, shape),
                receptive_field=field,
                jump=jump,
                activations=int(math.prod(shape[1:])),
            )
        )
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """The rows as a fixed-width text table with a totals line."""
    header = (f"{'layer':<14}{'type':<28}{'output shape':<18}{'parameters':>14}{'MACs':>16}"
              f"{'RF px':>7}{'neurons':>10}")
    lines = [header, "-" * len(header)]
    for row in rows:
        shape = "x".join(str(d) for d in row.output_shape)
        field = "all" if row.receptive_field is None else str(row.receptive_field)
        lines.append(
            f"{row.name:<14}{row.kind:<28}{shape:<18}{row.parameters:>14,}{row.multiply_accumulates:>16,}"
            f"{field:>7}{row.activations:>10,}"
        )
    total_params = sum(r.parameters for r in rows)
    total_macs = sum(r.multiply_accumulates for r in rows)
    lines.append("-" * len(header))
    lines.append(f"{'total':<60}{total_params:>14,}{total_macs:>16,}")
    lines.append(f"{'':<60}{total_params / 1e6:>13.3f}M{total_macs / 1e9:>15.3f}G")
    return "\n".join(lines)


def totals(rows: list[LayerRow]) -> tuple[int, int]:
    """(parameters, multiply-accumulates) summed over the rows."""
    return sum(r.parameters for r in rows), sum(r.multiply_accumulates for r in rows)


def neuron_count(rows: list[LayerRow]) -> int:
    """Neurons as the paper counts them for "650,000 neurons" (Section 1), as we read it: the outputs
    of the convolutional and fully connected layers, per image (ReLU, LRN and pooling outputs are
    the same neurons transformed, or fewer of them, and are not counted again)."""
    return sum(r.activations for r in rows if r.kind in ("Conv2D", "TowerConv2D", "Dense"))


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes one SGD step with momentum holds (Section 3.2, Section 5), by kind.

    ``activations``: every layer's output for the whole batch, input included, kept for the backward
    pass; ``activation_gradients``: the same number of values again (the gradient of the loss with
    respect to each of them). Not counted: workspace of the convolution kernels, data batches
    waiting on the device, the framework's own memory.
    """

    weights: int
    gradients: int
    momentum: int
    activations: int
    activation_gradients: int

    @property
    def total(self) -> int:
        return (self.weights + self.gradients + self.momentum + self.activations
                + self.activation_gradients)


def training_memory(model: keras.Model, batch_size: int = 128,
                    bytes_per_value: int = 4) -> TrainingMemory:
    """The memory of one training step of ``model`` at ``batch_size`` in float32 (4 bytes a value).

    Weights, their gradients and the momentum ``v`` of Section 5 each hold every parameter once;
    the activations are the outputs of every layer of ``layer_table`` (and the input images) for
    ``batch_size`` images, and their gradients as many again.
    """
    if batch_size < 1 or bytes_per_value < 1:
        raise ValueError(f"batch_size and bytes_per_value must be >= 1; received {batch_size!r}, "
                         f"{bytes_per_value!r}")
    parameters = model.count_params() * bytes_per_value
    values = sum(r.activations for r in layer_table(model)) + math.prod(model.input_shape[1:])
    activations = values * batch_size * bytes_per_value
    return TrainingMemory(parameters, parameters, parameters, activations, activations)
