"""Per-layer shapes, parameters and multiply-accumulates of a model (Section 3.5, Figure 2)."""

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


def layer_table(model: keras.Model) -> list[LayerRow]:
    """Every layer of ``model`` (input excluded) with its output shape, parameters and MACs.

    A grouped layer's kernels see ``input channels / towers`` maps each, which is where the two-tower
    network saves parameters and compute against one tower of the same width.
    """
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = tuple(layer.output.shape)
        rows.append(
            LayerRow(
                name=layer.name,
                kind=type(layer).__name__,
                output_shape=shape[1:],
                parameters=layer.count_params() if layer.weights else 0,
                multiply_accumulates=_macs(layer, shape),
            )
        )
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """The rows as a fixed-width text table with a totals line."""
    header = f"{'layer':<14}{'type':<28}{'output shape':<18}{'parameters':>14}{'MACs':>16}"
    lines = [header, "-" * len(header)]
    for row in rows:
        shape = "x".join(str(d) for d in row.output_shape)
        lines.append(
            f"{row.name:<14}{row.kind:<28}{shape:<18}{row.parameters:>14,}{row.multiply_accumulates:>16,}"
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
