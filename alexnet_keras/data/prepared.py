"""The prepared 256x256 format: a data set stored as the paper stored ImageNet (Section 2).

"We down-sampled the images to a fixed resolution of 256x256": the shorter side rescaled to 256,
then the central 256x256 patch. ``alexnet_keras.data.prepared_build.prepare`` (CLI: ``python -m
alexnet_keras prepare``) writes each split of a data set in that form, and ``load_prepared`` reads
it back as a ``Source``, so training decodes a 256x256 JPEG instead of a full-size photograph.

Layout of a prepared folder::

    prepared.json                         the manifest: source, options, counts, class names,
                                          shards (examples, bytes, SHA-256), mean RGB, RGB PCA
    mean_image.npy                        the per-pixel mean image of the training set, float32
                                          [256, 256, 3] on the 0..255 scale (Section 2)
    train.tfrecord-00000-of-00013 ...     the shards: tf.train.Example records with
    validation.tfrecord-00000-of-00001    "image" (JPEG bytes) and "label" (int64)
    stats/                                per-shard sums behind the mean and the PCA (resuming)

Why TFRecord: it is the format ``tf.data`` reads fastest (sequential reads of large files, no
per-image file opening) and the one ``tf.distribute`` shards by file across workers
(``AutoShardPolicy.FILE`` on ``tf.data.Dataset.list_files`` / ``interleave``); each record carries a
CRC, so a damaged shard is detected. ArrayRecord (TFDS's newer format) adds random access by index,
which only grain-style loaders need; the pipelines here read sequentially and shuffle a stream.

Why JPEG at quality 95: on scikit-image's sample photographs (cut to 256x256) re-encoding at 95
moves pixels by 2 to 3.4 levels (root mean square, 0..255 scale), less than one standard deviation
of the paper's own PCA lighting (about 5.5 levels) and near the originals' own compression noise,
while an image takes about 26 KB, a quarter of a lossless PNG (about 100 KB) and of an average
ImageNet JPEG (about 110 KB). Lower qualities add visible blocking that the network would learn.

``encoding="raw"`` stores the squares' pixels instead (196,608 bytes an image, 7-8x the JPEGs; the
whole ILSVRC2012 training set takes about 252 GB): nothing is decoded while training, so a CPU core
feeds more images per second (``bench input`` measures both: 1.5x on photographs, in
benchmarks/RESULTS.md), and the pixels are exactly the rescaled squares. ``load_prepared`` then
yields uint8 [256, 256, 3] squares, which the pipelines take as they are. The same trade-off as
FFCV's ``write_mode="raw"``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from alexnet_keras.data.source import Source

FORMAT = "alexnet-keras-prepared"
FORMAT_VERSION = 1
MANIFEST = "prepared.json"
MEAN_IMAGE = "mean_image.npy"
STATS_DIR = "stats"
IMAGE_SIZE = 256  # Section 2
JPEG_QUALITY = 95
ENCODINGS = ("jpeg", "raw")  # how a square is stored: JPEG at JPEG_QUALITY, or its uint8 pixels
FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "label": tf.io.FixedLenFeature([], tf.int64),
}


class PreparedFolderError(ValueError):
    """A folder that is not a (complete, intact) prepared folder; the message says what to do."""


def shard_name(split: str, index: int, count: int) -> str:
    """``train.tfrecord-00003-of-00013``: TFDS's naming, so ``list_files`` patterns work."""
    return f"{split}.tfrecord-{index:05d}-of-{count:05d}"


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def serialize_example(jpeg: bytes, label: int) -> bytes:
    """One record: a ``tf.train.Example`` with the JPEG bytes and the int64 label."""
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def parse_example(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(image bytes, int64 label) from one serialized record: a JPEG, or raw pixels."""
    example = tf.io.parse_single_example(serialized, FEATURES)
    return example["image"], example["label"]


def decode_raw_square(image: tf.Tensor) -> tf.Tensor:
    """The uint8 [256, 256, 3] square of a record written with ``encoding="raw"``."""
    return tf.reshape(tf.io.decode_raw(image, tf.uint8), [IMAGE_SIZE, IMAGE_SIZE, 3])


def encoding_of(manifest: dict) -> str:
    """How the folder's squares are stored (folders written before raw existed hold JPEGs)."""
    return manifest["options"].get("encoding", "jpeg")


def read_manifest(root: str | os.PathLike, *, complete: bool = True) -> dict:
    """The manifest of a prepared folder; ``PreparedFolderError`` when ``root`` is not one."""
    root = Path(root).expanduser()
    make = ("make one with `python -m alexnet_keras prepare --dataset NAME --output "
            f"{root}`")
    if not root.is_dir():
        raise PreparedFolderError(f"prepared folder {root} does not exist; {make}")
    path = root / MANIFEST
    if not path.is_file():
        raise PreparedFolderError(f"{root} is not a prepared folder (it has no {MANIFEST}); "
                                  f"{make}, or pass the folder that prepare wrote")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise PreparedFolderError(f"{path} is not valid JSON ({error}); delete {root} and run "
                                  "prepare again") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PreparedFolderError(f"{path} is not an alexnet-keras prepared manifest; {make}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PreparedFolderError(
            f"{root} was prepared in format version {manifest.get('format_version')}; this "
            f"version reads {FORMAT_VERSION}: run prepare again into a new folder")
    if complete and not manifest.get("complete"):
        raise PreparedFolderError(
            f"{root} is an unfinished prepare (interrupted?); rerun the same prepare command "
            f"with --output {root}: it keeps the finished shards and writes the rest")
    return manifest


def split_entry(manifest: dict, split: str, root: Path) -> dict:
    """The manifest's entry for ``split`` (following ``same_as``), or a clear error."""
    splits = manifest["splits"]
    if split not in splits:
        raise PreparedFolderError(f"{root} holds no {split!r} split (it has "
                                  f"{', '.join(sorted(splits))}); prepare that split first")
    entry = splits[split]
    return splits[entry["same_as"]] if "same_as" in entry else entry


def check_shards(root: str | os.PathLike, split: str, *, verify: bool = False) -> list[str]:
    """The paths of ``split``'s shards, after checking each exists and has the recorded size
    (a truncated copy fails here) and, with ``verify``, the recorded SHA-256 (garbled bytes)."""
    root = Path(root).expanduser()
    entry = split_entry(read_manifest(root), split, root)
    paths = []
    for shard in entry["shards"]:
        path = root / shard["file"]
        fix = (f"rebuild it: run `python -m alexnet_keras prepare --verify --output {root}` "
               "with the same data options (it deletes and rewrites damaged shards)")
        if not path.is_file():
            raise PreparedFolderError(f"shard {path} is missing; {fix}")
        size = path.stat().st_size
        if size != shard["bytes"]:
            raise PreparedFolderError(f"shard {path} is corrupt: {size} bytes, the manifest "
                                      f"says {shard['bytes']} (truncated?); {fix}")
        if verify and file_sha256(path) != shard["sha256"]:
            raise PreparedFolderError(f"shard {path} is corrupt: its SHA-256 differs from the "
                                      f"manifest's; {fix}")
        paths.append(str(path))
    return paths


@dataclasses.dataclass
class PreparedInfo:
    """What a prepared folder records: class names, counts, and the training set's statistics.

    ``mean_rgb`` and ``mean_image`` (Section 2) are on the 0..255 scale. ``eigenvalues`` and
    ``eigenvectors`` (columns) are the PCA of the 3x3 RGB covariance (Section 4.1) on the 0..255
    scale; ``eigenvalues_unit_scale`` are the same divided by 255**2, the scale of the published
    ImageNet values and of ``pca_lighting``'s ``eigenvalues``.
    """

    root: str
    class_names: list[str]
    num_examples: dict
    per_class: dict
    mean_rgb: np.ndarray
    eigenvalues: np.ndarray
    eigenvalues_unit_scale: np.ndarray
    eigenvectors: np.ndarray
    source: dict
    options: dict

    @property
    def mean_image(self) -> np.ndarray:
        return np.load(Path(self.root) / MEAN_IMAGE)


def prepared_info(root: str | os.PathLike) -> PreparedInfo:
    """The ``PreparedInfo`` of a prepared folder (reads only the manifest)."""
    manifest = read_manifest(root)
    root = Path(root).expanduser()
    splits = {name: split_entry(manifest, name, root) for name in manifest["splits"]}
    pca = manifest["rgb_pca"]
    return PreparedInfo(
        root=str(root), class_names=list(manifest["class_names"]),
        num_examples={name: entry["num_examples"] for name, entry in splits.items()},
        per_class={name: entry["per_class"] for name, entry in splits.items()},
        mean_rgb=np.array(manifest["mean_rgb"]), eigenvalues=np.array(pca["eigenvalues"]),
        eigenvalues_unit_scale=np.array(pca["eigenvalues_unit_scale"]),
        eigenvectors=np.array(pca["eigenvectors"]), source=manifest["source"],
        options=manifest["options"])


def load_prepared(root: str | os.PathLike, split: str = "train", *, verify: bool = False,
                  cycle_length: int = 16) -> Source:
    """A ``Source`` over a prepared folder's ``split``: (256x256 JPEG bytes, int64 label), or for
    a folder prepared with ``encoding="raw"`` (uint8 [256, 256, 3] square, int64 label).

    The order is fixed: the shards are read ``cycle_length`` at a time, one record from each in
    turn (a deterministic ``interleave``), which also mixes neighbouring shards for the training
    pipeline's shuffle. Shards are checked against the manifest first (``check_shards``; with
    ``verify``, their SHA-256 too). ``Source.name`` is "prepared"; the statistics are in
    ``prepared_info(root)``.
    """
    manifest = read_manifest(root)
    paths = check_shards(root, split, verify=verify)
    entry = split_entry(manifest, split, Path(root).expanduser())
    files = tf.data.Dataset.from_tensor_slices(paths)
    dataset = files.interleave(tf.data.TFRecordDataset, cycle_length=min(cycle_length, len(paths)),
                               block_length=1, num_parallel_calls=tf.data.AUTOTUNE,
                               deterministic=True)
    raw = encoding_of(manifest) == "raw"

    def read(record):
        image, label = parse_example(record)
        return (decode_raw_square(image) if raw else image), label

    dataset = dataset.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(entry["num_examples"]))
    return Source(dataset, list(manifest["class_names"]), int(entry["num_examples"]), "prepared")
