"""The paper's preprocessing and data augmentation as ``tf.data`` graph operations.

Section 2: rescale the shorter side to 256, crop the central 256x256, subtract the mean RGB value.
Section 4.1: training on random 224x224 (here 227x227 by default, see PAPER.md) patches and their
horizontal reflections, plus PCA lighting; testing on the centre patch, or the ten patches (four
corners and centre, and their reflections) whose softmax outputs are averaged.

Every random choice is a stateless random op seeded from (seed, epoch, example index), so the
training stream is reproducible and an epoch looks the same whether a run started at epoch 0 or
resumed there. JPEGs are decoded only as far as needed (``decode_and_crop_jpeg`` on the window that
the crop will keep, DCT-domain downscaling for large images).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

# Mean RGB over the ImageNet training set, 0..255 scale: the values published with the VGG models
# (Simonyan & Zisserman 2014) and used by Caffe and keras.applications.
IMAGENET_MEAN = (123.68, 116.779, 103.939)
# PCA of ImageNet RGB values (pixels on a 0..1 scale), as published in fb.resnet.torch
# (facebookarchive/fb.resnet.torch, datasets/imagenet.lua) and reused by most reimplementations:
# eigenvalues in decreasing order, and the eigenvectors as the COLUMNS of the matrix below.
# The paper itself does not print its values.
IMAGENET_EIGENVALUES_UNIT_SCALE = (0.2175, 0.0188, 0.0045)
# The same on the 0..255 pixel scale this package uses (x 255, as GluonCV's lighting does).
IMAGENET_EIGENVALUES = tuple(round(255 * v, 4) for v in IMAGENET_EIGENVALUES_UNIT_SCALE)
IMAGENET_EIGENVECTORS = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)
RESIZE_SIZE = 256  # Section 2: shorter side to 256, central 256x256 crop
# libjpeg-turbo's fast integer inverse DCT: about 20% less decoding time than the default
# (accurate) one, with differences of a level or two that augmentation noise dwarfs.
DCT_METHOD = "INTEGER_FAST"

AUTOTUNE = tf.data.AUTOTUNE


def default_resize_size(image_size: int) -> int:
    """The size images are rescaled to before cropping ``image_size`` patches (Section 2).

    256 for the paper's 224 or 227 patches; for smaller patches (fast demos) the same ratio
    (256/224), so a patch still covers most of the object.
    """
    if image_size >= 224:
        return max(RESIZE_SIZE, image_size)
    return int(round(image_size * RESIZE_SIZE / 224))


def _check_sizes(image_size: int, resize_size: int) -> None:
    if image_size < 1 or resize_size < image_size:
        raise ValueError(f"need 1 <= image_size <= resize_size; got image_size={image_size}, "
                         f"resize_size={resize_size}")


# ----------------------------------------------------------------------------------------------
# Decoding only what is needed
# ----------------------------------------------------------------------------------------------

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


def _resize(image: tf.Tensor, size) -> tf.Tensor:
    """Bilinear resize to ``size`` (float32); antialiased when shrinking more than 2x."""
    shrink = tf.cast(tf.reduce_min(tf.shape(image)[:2]), tf.float32) / tf.cast(
        tf.reduce_min(size), tf.float32)
    return tf.cond(shrink > 2.0,
                   lambda: tf.image.resize(image, size, antialias=True),
                   lambda: tf.image.resize(image, size))


def decode_central_square(encoded: tf.Tensor, resize_size: int = RESIZE_SIZE) -> tf.Tensor:
    """Section 2: shorter side to ``resize_size`` and the central square, from encoded bytes.

    Decodes only the central square of a JPEG. Returns uint8 [resize_size, resize_size, 3], the
    form in which the paper stored its training images.
    """
    image = decode_window(encoded, _central_square, resize_size)
    image = _resize(image, [resize_size, resize_size])
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def decode_patch(encoded: tf.Tensor, offset_y, offset_x, *, image_size: int,
                 resize_size: int = RESIZE_SIZE, flip=False) -> tf.Tensor:
    """The ``image_size`` patch at (offset_y, offset_x) of the rescaled central square, float32.

    Equal (up to interpolation) to ``decode_central_square`` followed by a crop (and a left-right
    flip when ``flip`` is true), but it decodes and resizes only the window the patch needs, and
    flips the small uint8 window rather than the float patch.
    """
    window_fn = _patch_window(offset_y, offset_x, image_size, resize_size)
    image = decode_window(encoded, window_fn, resize_size)
    image = tf.cond(tf.convert_to_tensor(flip), lambda: tf.reverse(image, [1]), lambda: image)
    return tf.ensure_shape(_resize(image, [image_size, image_size]), [image_size, image_size, 3])


# ----------------------------------------------------------------------------------------------
# Building blocks (Section 2 and Section 4.1)
# ----------------------------------------------------------------------------------------------

def resize_shorter_side(image: tf.Tensor, size: int = RESIZE_SIZE) -> tf.Tensor:
    """Section 2: rescales an [H, W, C] image so that its shorter side is ``size``; float32."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = size / tf.minimum(height, width)
    new_size = tf.stack([tf.cast(tf.round(height * scale), tf.int32),
                         tf.cast(tf.round(width * scale), tf.int32)])
    new_size = tf.maximum(new_size, size)
    return _resize(image, new_size)


def center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    """The central ``size`` x ``size`` patch of an [..., H, W, C] image (Section 2 and 4.1)."""
    shape = tf.shape(image)
    height, width = shape[-3], shape[-2]
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top:top + size, left:left + size, :]


def random_crop(image: tf.Tensor, size: int, seed) -> tf.Tensor:
    """A random ``size`` x ``size`` patch of an [H, W, C] image (Section 4.1), positions uniform.

    ``seed`` is a stateless seed (shape [2] integers): the same seed gives the same patch.
    """
    shape = tf.shape(image)
    offset = _crop_offsets(shape[0], shape[1], size, seed)
    return image[offset[0]:offset[0] + size, offset[1]:offset[1] + size, :]


def _crop_offsets(height, width, size: int, seed) -> tf.Tensor:
    limits = tf.stack([height - size + 1, width - size + 1])
    uniform = tf.random.stateless_uniform([2], seed=seed)
    return tf.minimum(tf.cast(uniform * tf.cast(limits, tf.float32), tf.int32), limits - 1)


def random_flip(image: tf.Tensor, seed) -> tf.Tensor:
    """Mirrors an [H, W, C] image left-right with probability 1/2 (Section 4.1), statelessly."""
    flip = tf.random.stateless_uniform([], seed=seed) < 0.5
    return tf.cond(flip, lambda: tf.reverse(image, [1]), lambda: image)


def pca_lighting(image: tf.Tensor, seed=None, *, alpha=None, std: float = 0.1,
                 eigenvalues: Sequence[float] = IMAGENET_EIGENVALUES,
                 eigenvectors=IMAGENET_EIGENVECTORS) -> tf.Tensor:
    """Section 4.1, "altering the intensities of RGB channels": adds to every pixel

        [p1, p2, p3] [a1 * l1, a2 * l2, a3 * l3]^T

    where p_i are the eigenvectors (columns of ``eigenvectors``) and l_i the eigenvalues of the RGB
    covariance, and a_i ~ N(0, std) is drawn once per image (from the stateless ``seed``) unless
    ``alpha`` gives it. ``image`` is float [..., H, W, 3]; ``alpha`` is [..., 3] (one row per image
    of a batch). Values are not clipped, as in the paper.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    if alpha is None:
        if seed is None:
            raise ValueError("pca_lighting needs seed= (a stateless seed, shape [2]) or alpha=")
        alpha = tf.random.stateless_normal(tf.concat([tf.shape(image)[:-3], [3]], 0), seed=seed,
                                           stddev=std)
    alpha = tf.convert_to_tensor(alpha, tf.float32)
    values = tf.constant(eigenvalues, tf.float32)
    vectors = tf.constant(eigenvectors, tf.float32)
    shift = tf.linalg.matvec(vectors, alpha * values)  # [..., 3]
    return image + shift[..., tf.newaxis, tf.newaxis, :]


def subtract_mean(image: tf.Tensor, mean: Sequence[float] = IMAGENET_MEAN) -> tf.Tensor:
    """Section 2: subtracts the mean RGB value of the training set from each pixel (float32)."""
    return tf.cast(image, tf.float32) - tf.constant(mean, tf.float32)


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


def _images(dataset: tf.data.Dataset, resize_size: int, max_images: int | None) -> tf.data.Dataset:
    """uint8 [R, R, 3] central squares from a dataset of encoded images or (image, label) pairs."""
    spec = dataset.element_spec
    if isinstance(spec, tuple):
        dataset = dataset.map(lambda image, *rest: image)
        spec = spec[0]
    if spec.dtype == tf.string:
        dataset = dataset.map(lambda e: decode_central_square(e, resize_size),
                              num_parallel_calls=AUTOTUNE)
    else:
        def square(image):
            image = center_crop(resize_shorter_side(image, resize_size), resize_size)
            return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

        dataset = dataset.map(square, num_parallel_calls=AUTOTUNE)
    if max_images is not None:
        dataset = dataset.take(max_images)
    return dataset


def compute_mean(dataset: tf.data.Dataset, *, max_images: int | None = None,
                 resize_size: int = 64) -> np.ndarray:
    """Section 2: the mean RGB value (0..255) over a data set's images, after the central crop.

    ``dataset`` yields encoded images, decoded images, or (image, label) pairs. Images are rescaled
    to ``resize_size`` first (the mean of a downscaled image is nearly that of the image).
    """
    total = np.zeros(3, np.float64)
    count = 0
    for batch in _images(dataset, resize_size, max_images).batch(256):
        pixels = batch.numpy().reshape(-1, 3).astype(np.float64)
        total += pixels.sum(0)
        count += len(pixels)
    if count == 0:
        raise ValueError("compute_mean got an empty dataset")
    return total / count


def compute_rgb_pca(dataset: tf.data.Dataset, *, max_images: int | None = None,
                    resize_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Section 4.1: eigenvalues and eigenvectors of the 3x3 covariance of RGB pixel values.

    Computed on pixels scaled to 0..1, like the published ImageNet values
    (``IMAGENET_EIGENVALUES_UNIT_SCALE``), then multiplied by 255 so that they plug into
    ``pca_lighting`` on 0..255 images as ``IMAGENET_EIGENVALUES`` do. Returns (eigenvalues [3],
    decreasing; eigenvectors [3, 3], one per column, sign chosen so the first component is
    negative, as in the published matrix).
    """
    moment1 = np.zeros(3, np.float64)
    moment2 = np.zeros((3, 3), np.float64)
    count = 0
    for batch in _images(dataset, resize_size, max_images).batch(256):
        pixels = batch.numpy().reshape(-1, 3).astype(np.float64) / 255.0
        moment1 += pixels.sum(0)
        moment2 += pixels.T @ pixels
        count += len(pixels)
    if count == 0:
        raise ValueError("compute_rgb_pca got an empty dataset")
    mean = moment1 / count
    covariance = moment2 / count - np.outer(mean, mean)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    vectors *= np.where(vectors[0] > 0, -1.0, 1.0)
    return values * 255.0, vectors


# ----------------------------------------------------------------------------------------------
# Pipelines
# ----------------------------------------------------------------------------------------------

def _unpack_source(source):
    """(dataset, num_examples or None, files or None) from a Source or a tf.data.Dataset."""
    if isinstance(source, tf.data.Dataset):
        return source, None, None
    dataset = getattr(source, "dataset", None)
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError("expected a tf.data.Dataset of (encoded image, label) or an "
                         f"alexnet_keras.data.Source; got {type(source).__name__}")
    return dataset, source.num_examples, getattr(source, "files", None)


def _count(dataset: tf.data.Dataset) -> int:
    cardinality = int(dataset.cardinality())
    if cardinality >= 0:
        return cardinality
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def _example_seed(seed: int, epoch, index) -> tf.Tensor:
    base = tf.constant([seed, 0x5EED], tf.int64)
    return tf.random.experimental.stateless_fold_in(
        tf.random.experimental.stateless_fold_in(base, epoch), index)


def training_pipeline(source_dataset, *, batch_size: int, image_size: int = 227, seed: int = 0,
                      start_epoch: int = 0, num_examples: int | None = None,
                      mean: Sequence[float] = IMAGENET_MEAN,
                      eigenvalues: Sequence[float] = IMAGENET_EIGENVALUES,
                      eigenvectors=IMAGENET_EIGENVECTORS, lighting_std: float = 0.1,
                      cache: bool | str = False, shuffle_buffer: int | None = None,
                      resize_size: int | None = None, flip: bool = True) -> tf.data.Dataset:
    """The paper's training input (Section 2 and 4.1), an infinite stream of batches.

    Each example: a random ``image_size`` patch of the central ``resize_size`` square (shorter side
    rescaled to ``resize_size``; 256 for the paper's 224/227), flipped left-right with probability
    1/2, PCA lighting with ``lighting_std`` (0 turns it off), minus ``mean``. Yields (float32
    [batch_size, S, S, 3], int64 [batch_size]).

    Epoch ``e`` holds ``num_examples // batch_size`` batches; its example order (a shuffle) and every
    random choice depend only on (``seed``, ``e``), so a run resumed with ``start_epoch=k`` sees
    exactly the batches an uninterrupted run sees from epoch ``k`` on.

    ``source_dataset`` is a ``data.Source`` or a dataset of (encoded image bytes, label).
    ``cache=True`` keeps the decoded ``resize_size`` squares in memory after the first epoch (a
    string caches them to that file), as the paper stored its images at 256x256.
    """
    dataset, known, files = _unpack_source(source_dataset)
    resize_size = resize_size or default_resize_size(image_size)
    _check_sizes(image_size, resize_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    if start_epoch < 0:
        raise ValueError(f"start_epoch must be >= 0; got {start_epoch}")
    num_examples = num_examples or known or _count(dataset)
    steps = num_examples // batch_size
    if steps < 1:
        raise ValueError(f"batch_size={batch_size} is larger than the data set "
                         f"({num_examples} examples); lower batch_size")
    # A cached epoch must read the whole cache (a partly read cache is thrown away), so its
    # shuffle buffer holds every example (references to the cached tensors, not copies).
    shuffle_buffer = shuffle_buffer or (num_examples if cache else min(num_examples, 16384))
    read_files = files is not None and not cache

    if cache:
        base = dataset.map(lambda e, y: (decode_central_square(e, resize_size), y),
                           num_parallel_calls=AUTOTUNE, deterministic=True)
        base = base.cache(cache if isinstance(cache, str) else "")
    elif read_files:
        base = tf.data.Dataset.from_tensor_slices(
            (files[0], tf.constant(files[1], tf.int64)))  # paths: shuffle before reading
        shuffle_buffer = num_examples
    else:
        base = dataset

    def epoch_examples(epoch):
        # The order must depend on (seed, epoch) alone. Inside this traced function the graph
        # seed is the process's global seed (keras.utils.set_random_seed); clearing it here keeps
        # the shuffle independent of it, and avoids TensorFlow's check of a (0, 0) seed pair, which
        # cannot compare a tensor-valued op seed and fails when the global seed is 0.
        tf.compat.v1.get_default_graph().seed = None
        shuffle_seed = tf.cast(seed, tf.int64) * 1_000_003 + epoch
        examples = base.shuffle(shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=False)
        examples = examples.take(steps * batch_size).enumerate()
        return examples.map(lambda i, example: (epoch, i, example[0], example[1]))

    stream = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch_examples)
    values = tf.constant(eigenvalues, tf.float32)
    vectors = tf.constant(eigenvectors, tf.float32)
    mean_vector = tf.constant(mean, tf.float32)

    def example_fn(epoch, index, image, label):
        seeds = tf.random.experimental.stateless_split(_example_seed(seed, epoch, index), 3)
        offsets = _crop_offsets(resize_size, resize_size, image_size, seeds[0])
        mirror = tf.constant(False)
        if flip:
            mirror = tf.random.stateless_uniform([], seed=seeds[1]) < 0.5
        # PCA lighting and mean subtraction both add one RGB vector per image: add it once.
        shift = -mean_vector
        if lighting_std:
            alpha = tf.random.stateless_normal([3], seed=seeds[2], stddev=lighting_std)
            shift += tf.linalg.matvec(vectors, alpha * values)
        if cache:  # uint8 patch; the float conversion runs once per batch
            patch = image[offsets[0]:offsets[0] + image_size, offsets[1]:offsets[1] + image_size]
            patch = tf.cond(mirror, lambda: tf.reverse(patch, [1]), lambda: patch)
            return tf.ensure_shape(patch, [image_size, image_size, 3]), shift, label
        if read_files:
            image = tf.io.read_file(image)
        patch = decode_patch(image, offsets[0], offsets[1], image_size=image_size,
                             resize_size=resize_size, flip=mirror)
        return patch + shift, label  # while the patch is still in the CPU's cache

    stream = stream.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    stream = stream.batch(batch_size, drop_remainder=True)
    if cache:
        stream = stream.map(
            lambda patches, shifts, labels: (
                tf.cast(patches, tf.float32) + shifts[:, tf.newaxis, tf.newaxis, :], labels),
            num_parallel_calls=AUTOTUNE, deterministic=True)
    return stream.prefetch(AUTOTUNE)


def evaluation_pipeline(source_dataset, *, batch_size: int, image_size: int = 227,
                        ten_crops: bool = False, mean: Sequence[float] = IMAGENET_MEAN,
                        resize_size: int | None = None, cache: bool | str = False
                        ) -> tf.data.Dataset:
    """The paper's test input (Section 4.1): the centre patch, or the ten patches.

    Yields (float32 [B, S, S, 3] or, with ``ten_crops``, [B, 10, S, S, 3], int64 [B]) over every
    example once (the last batch may be smaller). Average the model's softmax outputs over axis 1
    for the ten-patch prediction.
    """
    dataset, _, _ = _unpack_source(source_dataset)
    resize_size = resize_size or default_resize_size(image_size)
    _check_sizes(image_size, resize_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    offset = (resize_size - image_size) // 2

    def example_fn(encoded, label):
        if ten_crops:
            square = decode_central_square(encoded, resize_size)
            return ten_crop(square, image_size), label
        return decode_patch(encoded, offset, offset, image_size=image_size,
                            resize_size=resize_size), label

    stream = dataset.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        stream = stream.cache(cache if isinstance(cache, str) else "")
    stream = stream.batch(batch_size)
    stream = stream.map(lambda images, labels: (subtract_mean(images, mean), labels),
                        num_parallel_calls=AUTOTUNE, deterministic=True)
    return stream.prefetch(AUTOTUNE)
