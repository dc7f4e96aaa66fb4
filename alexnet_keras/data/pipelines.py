"""The paper's training and test input (Section 2 and 4.1), composed of the public ops in ``ops``.

Training, per example: ``random_crop_offset`` picks the patch, ``decode_patch`` decodes only that
window of the JPEG (or ``random_crop`` cuts it from a cached 256x256 square: the same offset), then
``subtract_mean``, ``random_flip`` and ``pca_lighting``; those three run once per batch, in one
XLA-compiled pass, with each example's own flip decision and lighting draw. Every random choice is
a stateless op seeded from (seed, epoch, position in the epoch) and each epoch's order is a
stateless permutation (``tf.random.experimental.index_shuffle``), so the stream is reproducible,
independent of any global seed, and an epoch looks the same whether a run started at epoch 0 or
resumed there.
"""

from __future__ import annotations

import tensorflow as tf

from alexnet_keras.data import ops
from alexnet_keras.data.decode import decode_central_square, decode_patch, default_resize_size

AUTOTUNE = tf.data.AUTOTUNE
SHUFFLE_BLOCK = 16384  # examples permuted together when a source cannot be read by index
# ... when they are decoded images (a raw prepared folder): 4096 squares of 256x256 hold 805 MB
DECODED_SHUFFLE_BLOCK = 4096


def _decoded(dataset: tf.data.Dataset) -> bool:
    """Whether the images are decoded pixels (a raw prepared folder's uint8 squares, or any
    [H, W, 3] images) rather than encoded bytes."""
    spec = dataset.element_spec
    return (spec[0] if isinstance(spec, tuple) else spec).dtype != tf.string


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


def _check(image_size: int, resize_size: int, batch_size: int, mean) -> tf.Tensor:
    if image_size < 1 or resize_size < image_size:
        raise ValueError(f"need 1 <= image_size <= resize_size; got image_size={image_size}, "
                         f"resize_size={resize_size}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    mean = tf.constant(mean, tf.float32)
    if mean.shape not in ([3], [resize_size, resize_size, 3]):
        raise ValueError(f"mean must be an RGB triple or a [{resize_size}, {resize_size}, 3] mean "
                         f"image (compute_mean(..., per_pixel=True, resize_size={resize_size})); "
                         f"got shape {mean.shape.as_list()}")
    return mean


def augmentation_seeds(seed: int, epoch, index) -> tf.Tensor:
    """The stateless seeds [3, 2] (crop, flip, lighting) of the example at position ``index`` of
    epoch ``epoch`` of a training stream with ``seed``."""
    base = tf.constant([seed, 0x5EED], tf.int64)
    fold = tf.random.experimental.stateless_fold_in
    epoch, index = tf.cast(epoch, tf.int64), tf.cast(index, tf.int64)
    return tf.random.experimental.stateless_split(fold(fold(base, epoch), index), 3)


def epoch_order(dataset: tf.data.Dataset, seed: int, epoch, block: int) -> tf.data.Dataset:
    """``dataset`` in the order of epoch ``epoch``: each run of ``block`` elements permuted by
    ``index_shuffle``, a stateless permutation of (seed, epoch, block number)."""
    base = tf.random.experimental.stateless_fold_in(tf.constant([seed, 0x0DE5], tf.int64),
                                                    tf.cast(epoch, tf.int64))

    def permute(number, elements):
        count = tf.shape(elements[0], out_type=tf.int64)[0]
        key = tf.random.experimental.stateless_fold_in(base, number)
        order = tf.random.experimental.index_shuffle(tf.range(count), key, count - 1)
        return tuple(tf.gather(e, order) for e in elements)

    return dataset.batch(block).enumerate().map(permute).unbatch()


def _subtract_mean_and_light(patch, patch_mean, alpha, *, std, eigenvalues, eigenvectors):
    """``pca_lighting(subtract_mean(patch, patch_mean), alpha=alpha)`` for patches or batches."""
    lighting = dict(alpha=alpha, eigenvalues=eigenvalues, eigenvectors=eigenvectors)
    if patch_mean.shape.rank == 1:
        # A per-channel mean and the lighting both add one RGB vector per image: applied to a
        # 1x1 image, they cost a single addition over the patch.
        pixel = tf.zeros(tf.concat([tf.shape(alpha)[:-1], [1, 1, 3]], 0))
        shift = ops.subtract_mean(pixel, patch_mean)
        shift = ops.pca_lighting(shift, **lighting) if std else shift
        return tf.cast(patch, tf.float32) + shift
    patch = ops.subtract_mean(patch, patch_mean)
    return ops.pca_lighting(patch, **lighting) if std else patch


def _batch_math(mean, lighting):
    """The per-batch step of ``training_pipeline``: the flips (``flip_where``, by each example's
    ``flip_decision``), then ``_subtract_mean_and_light``, compiled with XLA so that they are one
    pass over the batch's pixels. TensorFlow's own kernels are slow at the broadcast add of one RGB
    triple per image (``benchmarks/input_stages.py`` times both), and a per-example flip is a
    branch per image."""

    @tf.function(jit_compile=True)
    def finish(patches, mirror, alphas, *means):
        patches = ops.flip_where(patches, mirror)
        patch_mean = ops.flip_where(means[0], mirror) if means else mean
        return _subtract_mean_and_light(patches, patch_mean, alphas, **lighting)

    return lambda patches, mirror, alphas, labels, *means: (
        finish(patches, mirror, alphas, *means), labels)


def _training_example(*, seed, image_size, resize_size, mean, flip, lighting, squares, read_files,
                      random_crops=True):
    """The per-example function of ``training_pipeline``: the ops of Section 4.1 in order."""
    per_pixel = mean.shape.rank == 3
    centre = tf.constant([(resize_size - image_size) // 2] * 2, tf.int32)

    def example_fn(epoch, index, image, label):
        crop_seed, flip_seed, lighting_seed = tf.unstack(augmentation_seeds(seed, epoch, index))
        offset = (ops.random_crop_offset(resize_size, resize_size, image_size, crop_seed)
                  if random_crops else centre)  # off: the evaluation's centre patch
        if squares:  # the uint8 patch (random_crop's, by its offset)
            patch = ops.crop_at(image, offset, image_size)
        else:
            encoded = tf.io.read_file(image) if read_files else image
            patch = decode_patch(encoded, offset[0], offset[1], image_size=image_size,
                                 resize_size=resize_size)
        # random_flip's decision; the flip itself, the mean and the lighting are applied once per
        # batch (_batch_math), to the patch and to its window of a per-pixel mean image
        mirror = ops.flip_decision(flip_seed) if flip else tf.constant(False)
        alpha = ops.lighting_alpha(lighting_seed, lighting["std"])
        if per_pixel:
            return patch, mirror, alpha, label, ops.crop_at(mean, offset, image_size)
        return patch, mirror, alpha, label

    return example_fn


def training_pipeline(source_dataset, *, batch_size: int, image_size: int = 227, seed: int = 0,
                      start_epoch: int = 0, num_examples: int | None = None,
                      mean=ops.IMAGENET_MEAN, eigenvalues=ops.IMAGENET_EIGENVALUES,
                      eigenvectors=ops.IMAGENET_EIGENVECTORS, lighting_std: float = 0.1,
                      cache: bool | str = False, shuffle_buffer: int | None = None,
                      resize_size: int | None = None, flip: bool = True,
                      random_crops: bool = True) -> tf.data.Dataset:
    """The paper's training input (Section 2 and 4.1), an infinite stream of batches.

    Each example: a random ``image_size`` patch of the central ``resize_size`` square (shorter side
    rescaled to ``resize_size``; 256 for the paper's 224/227), minus ``mean`` (an RGB triple, or a
    [resize_size, resize_size, 3] mean image cropped at the patch's window; see ``ops`` for the
    default), flipped left-right with probability 1/2, PCA lighting with ``lighting_std`` (0 turns
    it off). ``random_crops=False`` always takes the centre patch, ``flip=False`` never mirrors (the
    ablations of Section 4.1). Yields (float32 [batch_size, S, S, 3], int64 [batch_size]).

    Epoch ``e`` holds ``num_examples // batch_size`` batches; its order and every random choice
    depend only on (``seed``, ``e``), so a run resumed with ``start_epoch=k`` sees exactly the
    batches an uninterrupted run sees from epoch ``k`` on. A ``data.Source`` of files is permuted
    whole (paths, before reading); other datasets in blocks of ``shuffle_buffer`` examples.
    ``cache=True`` keeps the decoded ``resize_size`` squares in memory after the first epoch (a
    string caches them to that file), as the paper stored its images at 256x256; a cached epoch
    is permuted whole. A source of decoded images (uint8 pixels, such as a prepared folder written
    with ``encoding="raw"``) takes the same path with nothing to decode, permuted in blocks of
    ``DECODED_SHUFFLE_BLOCK`` unless ``shuffle_buffer`` says otherwise.
    """
    dataset, known, files = _unpack_source(source_dataset)
    resize_size = resize_size or default_resize_size(image_size)
    mean = _check(image_size, resize_size, batch_size, mean)
    if start_epoch < 0:
        raise ValueError(f"start_epoch must be >= 0; got {start_epoch}")
    num_examples = num_examples or known or _count(dataset)
    steps = num_examples // batch_size
    if steps < 1:
        raise ValueError(f"batch_size={batch_size} is larger than the data set "
                         f"({num_examples} examples); lower batch_size")
    decoded = _decoded(dataset)
    squares = bool(cache) or decoded  # the examples are uint8 squares, cropped by offset
    read_files = files is not None and not squares
    default_block = DECODED_SHUFFLE_BLOCK if decoded else SHUFFLE_BLOCK
    block = num_examples if (cache or read_files) else (shuffle_buffer or default_block)
    if squares:
        square = ops.central_square if decoded else decode_central_square
        base = dataset.map(lambda e, y: (square(e, resize_size), y),
                           num_parallel_calls=AUTOTUNE, deterministic=True)
        if cache:
            base = base.cache(cache if isinstance(cache, str) else "")
    elif read_files:  # paths: permuted before reading
        base = tf.data.Dataset.from_tensor_slices((files[0], tf.constant(files[1], tf.int64)))
    else:
        base = dataset

    def epoch_examples(epoch):
        examples = epoch_order(base, seed, epoch, block).take(steps * batch_size).enumerate()
        return examples.map(lambda i, example: (epoch, i, example[0], example[1]))

    lighting = dict(std=lighting_std, eigenvalues=eigenvalues, eigenvectors=eigenvectors)
    example_fn = _training_example(seed=seed, image_size=image_size, resize_size=resize_size,
                                   mean=mean, flip=flip, lighting=lighting, squares=squares,
                                   read_files=read_files, random_crops=random_crops)
    stream = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch_examples)
    stream = stream.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    stream = stream.batch(batch_size, drop_remainder=True)
    stream = stream.map(_batch_math(mean, lighting), num_parallel_calls=AUTOTUNE,
                        deterministic=True)
    return stream.prefetch(AUTOTUNE)


def evaluation_pipeline(source_dataset, *, batch_size: int, image_size: int = 227,
                        ten_crops: bool = False, mean=ops.IMAGENET_MEAN,
                        resize_size: int | None = None, cache: bool | str = False
                        ) -> tf.data.Dataset:
    """The paper's test input (Section 4.1): the centre patch, or the ten patches.

    Yields (float32 [B, S, S, 3] or, with ``ten_crops``, [B, 10, S, S, 3], int64 [B]) over every
    example once (the last batch may be smaller); ``mean`` as in ``training_pipeline``, cropped
    like the patches (``center_crop`` or ``ten_crop``). Average the model's softmax outputs over
    axis 1 for the ten-patch prediction.
    """
    dataset, _, _ = _unpack_source(source_dataset)
    resize_size = resize_size or default_resize_size(image_size)
    mean = _check(image_size, resize_size, batch_size, mean)
    offset = (resize_size - image_size) // 2
    if mean.shape.rank == 3:
        mean = ops.ten_crop(mean, image_size) if ten_crops else ops.center_crop(mean, image_size)
    decoded = _decoded(dataset)

    def example_fn(image, label):
        if decoded:  # pixels already: the square, then its patches
            square = ops.central_square(image, resize_size)
            if ten_crops:
                return ops.ten_crop(square, image_size), label
            return tf.cast(ops.crop_at(square, [offset, offset], image_size), tf.float32), label
        if ten_crops:
            return ops.ten_crop(decode_central_square(image, resize_size), image_size), label
        return decode_patch(image, offset, offset, image_size=image_size,
                            resize_size=resize_size), label

    stream = dataset.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        stream = stream.cache(cache if isinstance(cache, str) else "")
    stream = stream.batch(batch_size)
    stream = stream.map(lambda images, labels: (ops.subtract_mean(images, mean), labels),
                        num_parallel_calls=AUTOTUNE, deterministic=True)
    return stream.prefetch(AUTOTUNE)
