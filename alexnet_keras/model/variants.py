"""AlexNet's variants as data: the paper's network and its relatives (Section 3.5, Section 3.2).

Every variant has the same fields, so code and tests read them instead of restating numbers. The
layers they share: conv1 11x11 stride 4, conv2 5x5, conv3 to conv5 3x3 (Section 3.5); max pooling
after conv1, conv2 and conv5; fc6 and fc7 of ``fc_units`` and fc8 of ``classes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexnet_keras.checks import check_choice

CONV_NAMES = ("conv1", "conv2", "conv3", "conv4", "conv5")
KERNEL_SIZES = (11, 5, 3, 3, 3)
STRIDES = (4, 1, 1, 1, 1)
# Section 3.2: "the kernels of layer 3 take input from all kernel maps in layer 2. However, kernels
# in layer 4 take input only from those kernel maps in layer 3 which reside on the same GPU."
GROUPED = ("conv2", "conv4", "conv5")


@dataclass(frozen=True)
class Variant:
    """One AlexNet variant.

    ``filters``: kernels of conv1 to conv5. ``towers``: 2 splits conv2, conv4 and conv5 across two
    towers (``GROUPED``), 1 is one tower. ``parameters``: learnable parameters at 1000 classes;
    ``multiply_accumulates``: per image at ``input_shape`` (both checked by the tests against an
    independent formula and against the built model).
    """

    name: str
    description: str
    filters: tuple[int, int, int, int, int]
    towers: int
    lrn: bool
    input_shape: tuple[int, int, int]
    parameters: int
    multiply_accumulates: int
    conv1_padding: int = 0  # zero padding of conv1 (torchvision: 2); 0 is the paper's "valid"
    dropout_before_fc: bool = False  # torchvision drops out before fc6 and fc7, the paper after
    fc_units: int = 4096


_PAPER_FILTERS = (96, 256, 384, 384, 256)

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant(
            name="paper",
            description="two towers as in Figure 2; conv2, conv4, conv5 see only their own tower",
            filters=_PAPER_FILTERS, towers=2, lrn=True, input_shape=(227, 227, 3),
            parameters=60_965_224, multiply_accumulates=724_406_816,
        ),
        Variant(
            name="single",
            description="the paper's layer widths in one tower (no grouping)",
            filters=_PAPER_FILTERS, towers=1, lrn=True, input_shape=(227, 227, 3),
            parameters=62_378_344, multiply_accumulates=1_135_256_096,
        ),
        Variant(
            name="half",
            description="Section 3.2's one-GPU comparison net: half the kernels in conv1 to conv4, "
            "the full 256 in conv5 and the full fc layers (footnote 2)",
            filters=(48, 128, 192, 192, 256), towers=1, lrn=True, input_shape=(227, 227, 3),
            parameters=59_798_312, multiply_accumulates=391_514_384,
        ),
        Variant(
            name="torchvision",
            description="torchvision's AlexNet (64-192-384-256-256 kernels, one tower, no LRN), "
            "so its published weights load (weights='imagenet')",
            filters=(64, 192, 384, 256, 256), towers=1, lrn=False, input_shape=(224, 224, 3),
            parameters=61_100_840, multiply_accumulates=714_188_480,
            conv1_padding=2, dropout_before_fc=True,
        ),
    )
}


def minimum_image_size(variant: str = "paper", *, overlapping_pooling: bool = True) -> int:
    """The smallest input side for which every layer up to pool5 keeps at least one pixel.

    Worked through the variant's layers (Section 3.5): conv1 (kernel 11, stride 4, the variant's
    zero padding ``p``) maps ``n`` to ``(n + 2p - 11) // 4 + 1``; conv2 to conv5 keep the size
    ("same", stride 1); pool1, pool2 and pool5 (3x3 stride 2, or 2x2 stride 2) map ``n`` to
    ``(n - z) // s + 1``. The paper's layers need 67 (conv1 15x15, pool5 1x1).
    """
    check_choice("variant", variant, VARIANTS)
    pool_size, pool_stride = (3, 2) if overlapping_pooling else (2, 2)
    padding = VARIANTS[variant].conv1_padding

    def pool5_side(side: int) -> int:
        for name, kernel, stride in zip(CONV_NAMES, KERNEL_SIZES, STRIDES):
            pad = padding if name == "conv1" else (kernel - 1) // 2  # conv2-conv5: "same"
            side = (side + 2 * pad - kernel) // stride + 1
            if name in ("conv1", "conv2", "conv5"):
                side = (side - pool_size) // pool_stride + 1
            if side < 1:
                return 0
        return side

    return next(side for side in range(1, 1024) if pool5_side(side) >= 1)
