"""``Source``: one split of a data set as encoded image bytes and int64 labels, and its errors.

Every source yields the same thing: encoded image bytes (or, for a prepared folder stored as raw
pixels, uint8 [256, 256, 3] squares) and an int64 label, unbatched, unshuffled and in a fixed
order, so the decoding, cropping and augmentation of Sections 2 and 4.1 of the paper (in
``alexnet_keras.data.augment``) run on any of them the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import tensorflow as tf


@dataclass
class Source:
    """A data set split: ``dataset`` yields ``(encoded image bytes, int64 label)`` in a fixed order
    (``(uint8 square, int64 label)`` from a raw prepared folder).

    ``skipped`` lists the files left out because they were unreadable (only with
    ``skip_corrupt=True``); ``left_out`` lists every file the loader saw but does not use, with the
    reason (corrupt, outside a class folder, not an image ...; a warning reports them as well).
    ``files`` holds (paths, labels) when the images are files, so a training pipeline can shuffle
    paths before reading.
    """

    dataset: tf.data.Dataset
    class_names: list[str]
    num_examples: int
    name: str
    skipped: list[str] = field(default_factory=list)
    files: tuple[list[str], list[int]] | None = field(default=None, repr=False)
    left_out: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class CorruptImageError(ValueError):
    """An image file that cannot be decoded; the message names the file and what to do."""


def tfds_source(builder, split: str, name: str) -> Source:
    """A ``Source`` over a prepared TFDS builder's split, its images left encoded (no decoding)."""
    import tensorflow_datasets as tfds

    dataset = builder.as_dataset(split=split, shuffle_files=False,
                                 decoders={"image": tfds.decode.SkipDecoding()})
    dataset = dataset.map(lambda ex: (ex["image"], tf.cast(ex["label"], tf.int64)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    splits = builder.info.splits
    if splits and split in splits:
        count = int(splits[split].num_examples)
    else:  # e.g. under tfds.testing.mock_data, which has no split metadata
        count = int(dataset.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))
    names = list(builder.info.features["label"].names)
    return Source(dataset, names, count, name)


def load_tfds(name: str, split: str, *, data_dir: str | os.PathLike | None = None) -> Source:
    """imagenette or cifar10 through TFDS, downloaded and prepared in ``data_dir`` on first use."""
    import tensorflow_datasets as tfds

    from alexnet_keras.progress import quiet_tfds_bars

    quiet_tfds_bars()
    builder = tfds.builder(name, data_dir=os.fspath(data_dir) if data_dir else None)
    try:
        builder.download_and_prepare()
    except Exception as error:
        raise RuntimeError(
            f"tensorflow-datasets could not download and prepare {name!r} in "
            f"{builder.data_dir}: {error}. Connect to the internet once (TFDS then keeps the "
            f"prepared files in that data_dir), or use load('offline') or load('folder', "
            f"path=...) with no network.") from error
    return tfds_source(builder, split, name)
