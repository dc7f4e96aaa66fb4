"""The paper's augmentation ops (Section 2 and 4.1), one function each; the pipelines compose them.

Every random op is stateless: it takes a seed (shape [2] integers) and gives the same result for the
same seed, built on ``tf.image.stateless_*`` where TensorFlow has one.

Mean subtraction, the one deviation by default. The paper subtracts "the mean activity over the
training set from each pixel" (Section 2); its code subtracts a per-pixel mean image (256x256x3)
before cropping. ``subtract_mean`` and both pipelines take ``mean=`` as an RGB triple or such an
image (``compute_mean(dataset, per_pixel=True)``; the pipelines crop it at the patch's window), but
the default is ``IMAGENET_MEAN``, the fixed per-channel ImageNet mean, for every data set.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from alexnet_keras.data.decode import RESIZE_SIZE, decode_central_square, resize
# Mean RGB over the ImageNet training set, 0..255 scale (VGG's published values); it lives beside
# the model's preprocess_input(mode="paper"), so training and inference subtract the same numbers.
from alexnet_keras.model.preprocessing import IMAGENET_MEAN
# PCA of ImageNet RGB values as published in fb.resnet.torch (datasets/imagenet.lua) and reused by
# most reimplementations; the paper does not print its own. The eigenvalues are those of the 3x3
# covariance of pixel values on the 0..1 scale, decreasing (their sum, 0.24, is the total variance,
# a per-channel standard deviation near 0.28; read as standard deviations they would imply 0.13).
# The eigenvectors are the COLUMNS of the matrix.
IMAGENET_EIGENVALUES = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGENVALUES_UNIT_SCALE = IMAGENET_EIGENVALUES  # the older name; the same 0..1-scale values
IMAGENET_EIGENVECTORS = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


def resize_shorter_side(image: tf.Tensor, size: int = RESIZE_SIZE) -> tf.Tensor:
    """Section 2: rescales an [H, W, C] image so that its shorter side is ``size``; float32."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = size / tf.minimum(height, width)
    new_size = tf.stack([tf.cast(tf.round(height * scale), tf.int32),
                         tf.cast(tf.round(width * scale), tf.int32)])
    return resize(image, tf.maximum(new_size, size))


def center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    """The central ``size`` x ``size`` patch of an [..., H, W, C] image (Section 2 and 4.1)."""
    shape = tf.shape(image)
    top, left = (shape[-3] - size) // 2, (shape[-2] - size) // 2
    return image[..., top:top + size, left:left + size, :]


def random_crop_offset(height, width, size: int, seed) -> tf.Tensor:
    """The [y, x] corner that ``random_crop`` (``tf.image.stateless_random_crop``) picks for a
    ``size`` patch of an [height, width, C] image with ``seed``; positions uniform (Section 4.1).

    The training pipeline uses it to decode only that window of a JPEG.
    """
    limit = tf.stack([height - size + 1, width - size + 1, 1])
    # The same draw as tf.image.stateless_random_crop, so the two agree exactly.
    draw = tf.random.stateless_uniform([3], seed=seed, maxval=tf.int32.max, dtype=tf.int32)
    return (draw % limit)[:2]


def random_crop(image: tf.Tensor, size: int, seed) -> tf.Tensor:
    """A random ``size`` x ``size`` patch of an [H, W, C] image (Section 4.1), positions uniform,
    at the corner ``random_crop_offset`` gives for the same seed."""
    image = tf.convert_to_tensor(image)
    return tf.image.stateless_random_crop(image, [size, size, tf.shape(image)[-1]], seed=seed)


def crop_at(image: tf.Tensor, offset, size: int) -> tf.Tensor:
    """The ``size`` x ``size`` patch of an [H, W, C] image whose top-left corner is ``offset``."""
    return image[offset[0]:offset[0] + size, offset[1]:offset[1] + size]


def flip_decision(seed) -> tf.Tensor:
    """Whether ``random_flip`` mirrors an image with ``seed``: a bool, true with probability 1/2
    (the draw ``tf.image.stateless_random_flip_left_right`` makes for one image)."""
    return tf.random.stateless_uniform([], seed=seed) < 0.5


def flip_where(images: tf.Tensor, mirror) -> tf.Tensor:
    """Mirrors left-right the images of [..., H, W, C] ``images`` where the bools ``mirror``
    ([...], one per image) are true; the training pipeline does this once per batch."""
    mirror = tf.convert_to_tensor(mirror, tf.bool)
    mirror = tf.reshape(mirror, tf.concat([tf.shape(mirror), [1, 1, 1]], 0))
    return tf.where(mirror, tf.reverse(images, [-2]), images)


def random_flip(image: tf.Tensor, seed) -> tf.Tensor:
    """Mirrors an [H, W, C] image left-right with probability 1/2 (Section 4.1), statelessly; the
    same seed mirrors every image it is given, or none. Equal to
    ``tf.image.stateless_random_flip_left_right``: ``flip_where(image, flip_decision(seed))``."""
    return flip_where(image, flip_decision(seed))


def lighting_alpha(seed, std: float = 0.1, batch_shape=()) -> tf.Tensor:
    """Section 4.1's a_i ~ N(0, ``std``), one triple per image: float32 [*batch_shape, 3]."""
    shape = tf.concat([tf.cast(batch_shape, tf.int32), [3]], 0)
    return tf.random.stateless_normal(shape, seed=seed, stddev=std)


def pca_lighting(image: tf.Tensor, seed=None, *, alpha=None, std: float = 0.1,
                 eigenvalues: Sequence[float] = IMAGENET_EIGENVALUES,
                 eigenvectors=IMAGENET_EIGENVECTORS, pixel_scale: float = 255.0) -> tf.Tensor:
    """Section 4.1, "altering the intensities of RGB channels": adds to every pixel

        pixel_scale * [p1, p2, p3] [a1 * l1, a2 * l2, a3 * l3]^T

    where p_i are the eigenvectors (columns of ``eigenvectors``) and l_i the eigenvalues of the RGB
    covariance of pixels on the 0..1 scale, and a_i ~ N(0, std) is drawn once per image (from the
    stateless ``seed``, ``lighting_alpha``) unless ``alpha`` gives it. The formula is not
    scale-free (l is a variance), so it is evaluated on the 0..1 scale the eigenvalues belong to,
    as the published implementations do, and ``pixel_scale`` carries the shift to the image's
    scale: on 0..255 images the first component moves pixels by 0.1 * 0.2175 * 255 = 5.5 levels
    (one standard deviation). ``image`` is float [..., H, W, 3]; ``alpha`` is [..., 3] (one row
    per image of a batch). Values are not clipped, as in the paper.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    if alpha is None:
        if seed is None:
            raise ValueError("pca_lighting needs seed= (a stateless seed, shape [2]) or alpha=")
        alpha = lighting_alpha(seed, std, tf.shape(image)[:-3])
    alpha = tf.convert_to_tensor(alpha, tf.float32)
    values = tf.constant(eigenvalues, tf.float32)
    vectors = tf.constant(eigenvectors, tf.float32)
    shift = pixel_scale * tf.linalg.matvec(vectors, alpha * values)  # [..., 3]
    return image + shift[..., tf.newaxis, tf.newaxis, :]


def subtract_mean(image: tf.Tensor, mean=IMAGENET_MEAN) -> tf.Tensor:
    """Section 2: subtracts the training set's mean from each pixel (float32).

    ``mean`` is an RGB triple, or a per-pixel mean image already cropped (and mirrored) like
    ``image``: crop a ``compute_mean(..., per_pixel=True)`` image with the patch's window first.
    """
    return tf.cast(image, tf.float32) - tf.cast(mean, tf.float32)


def ten_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    """Section 4.1's test-time patches: four corners and centre, then their mirror images.

    [H, W, C] -> [10, size, size, C], in the order top-left, top-right, bottom-left, bottom-right,
    centre, and the same five flipped left-right.
    """
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    corners = [(0, 0), (0, width - size), (height - size, 0), (height - size, width - size),
               ((height - size) // 2, (width - size) // 2)]
    crops = tf.stack([image[y:y + size, x:x + size] for y, x in corners])
    return tf.concat([crops, tf.reverse(crops, [2])], 0)


def central_square(image: tf.Tensor, size: int = RESIZE_SIZE) -> tf.Tensor:
    """Section 2 for an already decoded [H, W, 3] image (0..255): shorter side to ``size``, the
    central square; uint8 [size, size, 3]. A uint8 square of that size (a prepared folder's raw
    pixels) is returned as it is. ``decode_central_square`` does the same from encoded bytes."""
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8 and image.shape[:2] == (size, size):
        return image
    image = center_crop(resize_shorter_side(image, size), size)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def _squares(dataset: tf.data.Dataset, resize_size: int, max_images: int | None):
    """uint8 [R, R, 3] central squares from a dataset of encoded images or (image, label) pairs."""
    spec = dataset.element_spec
    if isinstance(spec, tuple):
        dataset = dataset.map(lambda image, *rest: image)
        spec = spec[0]
    square = decode_central_square if spec.dtype == tf.string else central_square
    dataset = dataset.map(lambda image: square(image, resize_size),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.take(max_images) if max_images is not None else dataset


def compute_mean(dataset: tf.data.Dataset, *, per_pixel: bool = False,
                 max_images: int | None = None, resize_size: int | None = None) -> np.ndarray:
    """Section 2: the mean (0..255) over a data set's central ``resize_size`` squares.

    Per channel (an RGB triple; ``resize_size`` default 64, since the mean of a downscaled image is
    nearly that of the image), or with ``per_pixel`` the paper's mean image [R, R, 3] (default
    R = 256; pass the pipelines' ``resize_size``). ``dataset`` yields encoded images, decoded
    images, or (image, label) pairs.
    """
    resize_size = resize_size or (RESIZE_SIZE if per_pixel else 64)
    total = np.zeros((resize_size, resize_size, 3), np.float64)
    count = 0
    for batch in _squares(dataset, resize_size, max_images).batch(256):
        total += batch.numpy().astype(np.float64).sum(0)
        count += len(batch)
    if count == 0:
        raise ValueError("compute_mean got an empty dataset")
    return total / count if per_pixel else total.mean((0, 1)) / count


def compute_rgb_pca(dataset: tf.data.Dataset, *, max_images: int | None = None,
                    resize_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Section 4.1: eigenvalues and eigenvectors of the 3x3 covariance of RGB pixel values.

    Computed on pixels scaled to 0..1, the scale of ``IMAGENET_EIGENVALUES`` and of
    ``pca_lighting``'s ``eigenvalues``. Returns (eigenvalues [3], decreasing; eigenvectors [3, 3],
    one per column, sign chosen so the first component is negative, as in the published matrix).
    """
    moment1 = np.zeros(3, np.float64)
    moment2 = np.zeros((3, 3), np.float64)
    count = 0
    for batch in _squares(dataset, resize_size, max_images).batch(256):
        pixels = batch.numpy().reshape(-1, 3).astype(np.float64) / 255.0
        moment1 += pixels.sum(0)
        moment2 += pixels.T @ pixels
        count += len(pixels)
    if count == 0:
        raise ValueError("compute_rgb_pca got an empty dataset")
    mean = moment1 / count
    values, vectors = np.linalg.eigh(moment2 / count - np.outer(mean, mean))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    vectors *= np.where(vectors[0] > 0, -1.0, 1.0)
    return values, vectors
