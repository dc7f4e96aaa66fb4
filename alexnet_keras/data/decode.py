"""Decoding only what the paper's crops keep (Section 2): the central square, or one patch of it.

The paper rescales the shorter side to 256 and keeps the central 256x256 square; training then takes
one patch of that square. Crop and rescale commute, so the patch can be decoded straight from the
JPEG: ``decode_and_crop_jpeg`` on the window of the original image that becomes the patch (rows and
columns outside it are not decoded), and DCT-domain downscaling for large images.
"""

from __future__ import annotations

import tensorflow as tf

RESIZE_SIZE = 256  # Section 2: shorter side to 256, central 256x256 crop
# libjpeg-turbo's fast integer inverse DCT: about 20% less decoding time than the default
# (accurate) one, with differences of a level or two that augmentation noise dwarfs.
DCT_METHOD = "INTEGER_FAST"


def default_resize_size(image_size: int) -> int:
    """The size images are rescaled to before cropping ``image_size`` patches (Section 2).

    256 for the paper's 224 or 227 patches; for smaller patches (fast demos) the same ratio
    (256/224), so a patch still covers most of the object.
    """
    if image_size >= 224:
        return max(RESIZE_SIZE, image_size)
    return int(round(image_size * RESIZE_SIZE / 224))


def _jpeg_ratio(shorter_side: tf.Tensor, target: int) -> tf.Tensor:
    """Branch index for DCT downscaling by 1, 2 or 4 that keeps the shorter side >= target."""
    return tf.where(shorter_side >= 4 * target, 2, tf.where(shorter_side >= 2 * target, 1, 0))


def decode_window(encoded: tf.Tensor, window_fn, target: int) -> tf.Tensor:
    """Decodes the part of an image that ``window_fn(height, width) -> [y, x, h, w]`` selects.

    JPEGs go through ``decode_and_crop_jpeg`` (rows and columns outside the window are not decoded)
    and, when the window's shorter side is at least 2x or 4x ``target``, DCT-domain downscaling
    (``ratio=2`` or ``4``); ``window_fn`` then sees the downscaled size. PNG, GIF and BMP (and any
    other format ``decode_image`` reads) are decoded whole and cropped. Grayscale and CMYK images
    come out as three RGB channels. Returns uint8 [h, w, 3].
    """
    encoded = tf.convert_to_tensor(encoded, tf.string)

    def jpeg():
        shape = tf.image.extract_jpeg_shape(encoded)
        height, width = shape[0], shape[1]

        def with_ratio(ratio):
            def run():
                # libjpeg's scaled size is the ceiling of the size divided by the ratio
                h = (height + ratio - 1) // ratio
                w = (width + ratio - 1) // ratio
                return tf.image.decode_and_crop_jpeg(encoded, window_fn(h, w), channels=3,
                                                     ratio=ratio, dct_method=DCT_METHOD)
            return run

        branch = _jpeg_ratio(tf.minimum(height, width), target)
        return tf.switch_case(branch, [with_ratio(1), with_ratio(2), with_ratio(4)])

    def other():
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        image = tf.ensure_shape(image, [None, None, 3])
        window = window_fn(tf.shape(image)[0], tf.shape(image)[1])
        return image[window[0]:window[0] + window[2], window[1]:window[1] + window[3]]

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg, other)
    return tf.ensure_shape(image, [None, None, 3])


def _central_square(height, width):
    side = tf.minimum(height, width)
    return tf.stack([(height - side) // 2, (width - side) // 2, side, side])


def _patch_window(offset_y, offset_x, image_size: int, resize_size: int):
    """The window in the original image that becomes the ``image_size`` patch at (offset_y,
    offset_x) of the central ``resize_size`` square after rescaling (crop and rescale commute)."""

    def window_fn(height, width):
        side = tf.cast(tf.minimum(height, width), tf.float32)
        scale = side / resize_size
        size = tf.maximum(1, tf.cast(tf.round(image_size * scale), tf.int32))
        size = tf.minimum(size, tf.minimum(height, width))
        y = (tf.cast(height, tf.float32) - side) / 2 + tf.cast(offset_y, tf.float32) * scale
        x = (tf.cast(width, tf.float32) - side) / 2 + tf.cast(offset_x, tf.float32) * scale
        y, x = tf.cast(tf.round(y), tf.int32), tf.cast(tf.round(x), tf.int32)
        y = tf.clip_by_value(y, 0, height - size)
        x = tf.clip_by_value(x, 0, width - size)
        return tf.stack([y, x, size, size])

    return window_fn


def resize(image: tf.Tensor, size) -> tf.Tensor:
    """Bilinear resize to ``size`` (float32); antialiased when shrinking more than 2x. An image
    already of that size (a patch of a prepared 256x256 square) is only cast: bilinear resizing
    to the same size is the identity, but ``tf.image.resize`` skips it only for static shapes."""
    shape = tf.shape(image)[:2]
    shrink = tf.cast(tf.reduce_min(shape), tf.float32) / tf.cast(tf.reduce_min(size), tf.float32)
    return tf.cond(
        tf.reduce_all(tf.equal(shape, size)), lambda: tf.cast(image, tf.float32),
        lambda: tf.cond(shrink > 2.0, lambda: tf.image.resize(image, size, antialias=True),
                        lambda: tf.image.resize(image, size)))


def decode_central_square(encoded: tf.Tensor, resize_size: int = RESIZE_SIZE) -> tf.Tensor:
    """Section 2: shorter side to ``resize_size`` and the central square, from encoded bytes.

    Decodes only the central square of a JPEG. Returns uint8 [resize_size, resize_size, 3], the
    form in which the paper stored its training images.
    """
    image = decode_window(encoded, _central_square, resize_size)
    image = resize(image, [resize_size, resize_size])
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def decode_patch(encoded: tf.Tensor, offset_y, offset_x, *, image_size: int,
                 resize_size: int = RESIZE_SIZE) -> tf.Tensor:
    """The ``image_size`` patch at (offset_y, offset_x) of the rescaled central square, float32.

    Equal (up to interpolation and JPEG decoding) to ``decode_central_square`` followed by a crop
    at that offset, but it decodes and resizes only the window the patch needs.
    """
    window_fn = _patch_window(offset_y, offset_x, image_size, resize_size)
    image = decode_window(encoded, window_fn, resize_size)
    return tf.ensure_shape(resize(image, [image_size, image_size]), [image_size, image_size, 3])
