"""The paper's training and test input (Section 2 and 4.1), composed of the public ops in ``ops``.

Training, per example: ``random_crop_offset`` picks the patch, ``decode_patch`` decodes only that
window of the JPEG (or ``random_crop`` cuts it from a cached 256x256 square: the same offset), then
``subtract_mean``, ``random_flip`` and ``pca_lighting``. Every random choice is a stateless op seeded
from (seed, epoch, position in the epoch) and each epoch's order is a stateless permutation
(``tf.random.experimental.index_shuffle``), so the stream is reproducible, independent of any global
seed, and an epoch looks the same whether a run started at epoch 0 or resumed there.
"""

from __future__ import annotations

import tensorflow as tf

from alexnet_keras.data import ops
from alexnet_keras.data.decode import decode_central_square, decode_patch, default_resize_size

AUTOTUNE = tf.data.AUTOTUNE
SHUFFLE_BLOCK = 16384  # examples permuted together when a source cannot be read by index


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


def _training_example(*, seed, image_size, resize_size, mean, flip, lighting, cache, read_files,
                      random_crops=True):
    """The per-example function of ``training_pipeline``: the ops of Section 4.1 in order."""
    per_pixel = mean.shape.rank == 3
    centre = tf.constant([(resize_size - image_size) // 2] * 2, tf.int32)

    def example_fn(epoch, index, image, label):
        crop_seed, flip_seed, lighting_seed = tf.unstack(augmentation_seeds(seed, epoch, index))
        offset = (ops.random_crop_offset(resize_size, resize_size, image_size, crop_seed)
                  if random_crops else centre)  # off: the evaluation's centre patch
        if cache:  # the uint8 patch (random_crop's, by its offset); float math once per batch
            patch = ops.crop_at(image, offset, image_size)
        else:
            encoded = tf.io.read_file(image) if read_files else image
            patch = decode_patch(encoded, offset[0], offset[1], image_size=image_size,
                                 resize_size=resize_size)
        patch_mean = ops.crop_at(mean, offset, image_size) if per_pixel else mean
        if flip:
            patch = ops.random_flip(patch, flip_seed)
            if per_pixel:
                patch_mean = ops.random_flip(patch_mean, flip_seed)
        alpha = ops.lighting_alpha(lighting_seed, lighting["std"])
        if cache:  # one mean for every patch, or each patch's own window of the mean image
            return (patch, alpha, label, patch_mean) if per_pixel else (patch, alpha, label)
        return _subtract_mean_and_light(patch, patch_mean, alpha, **lighting), label

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
    is permuted whole.
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
    read_files = files is not None and not cache
    block = num_examples if (cache or read_files) else (shuffle_buffer or SHUFFLE_BLOCK)
    if cache:
        base = dataset.map(lambda e, y: (decode_central_square(e, resize_size), y),
                           num_parallel_calls=AUTOTUNE, deterministic=True)
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
                                   mean=mean, flip=flip, lighting=lighting, cache=bool(cache),
                                   read_files=read_files, random_crops=random_crops)
    stream = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch_examples)
    stream = stream.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    stream = stream.batch(batch_size, drop_remainder=True)
    if cache:
        stream = stream.map(lambda patches, alphas, labels, *means: (
            _subtract_mean_and_light(patches, means[0] if means else mean, alphas, **lighting),
            labels),
            num_parallel_calls=AUTOTUNE, deterministic=True)
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

    def example_fn(encoded, label):
        if ten_crops:
            return ops.ten_crop(decode_central_square(encoded, resize_size), image_size), label
        return decode_patch(encoded, offset, offset, image_size=image_size,
                            resize_size=resize_size), label

    stream = dataset.map(example_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        stream = stream.cache(cache if isinstance(cache, str) else "")
    stream = stream.batch(batch_size)
    stream = stream.map(lambda images, labels: (ops.subtract_mean(images, mean), labels),
                        num_parallel_calls=AUTOTUNE, deterministic=True)
    return stream.prefetch(AUTOTUNE)
