"""Data sets by name: ImageNet (ILSVRC2012), imagenette and CIFAR-10 through tensorflow-datasets, any
folder of class sub-folders, and the generated offline set (the default).

Every source yields the same thing: encoded image bytes and an int64 label, unbatched, unshuffled and
in a fixed order, so the decoding, cropping and augmentation of Section 2 and Section 4.1 of the
paper (in ``alexnet_keras.augment``) run on any of them the same way.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import tensorflow as tf

from alexnet_keras import offline

log = logging.getLogger(__name__)

NAMES = ("offline", "imagenet2012", "imagenette", "cifar10", "folder")
SPLITS = ("train", "validation")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
DEFAULT_MANUAL_DIR = Path("~/tensorflow_datasets/downloads/manual")
ILSVRC_TARS = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")
ILSVRC_URL = "https://image-net.org/download-images"


@dataclass
class Source:
    """A data set split: ``dataset`` yields ``(encoded image bytes, int64 label)`` in a fixed order.

    ``skipped`` lists the files left out because they were unreadable (only with
    ``skip_corrupt=True``; a warning reports the count as well). ``files`` holds (paths, labels)
    when the images are files, so a training pipeline can shuffle paths before reading.
    """

    dataset: tf.data.Dataset
    class_names: list[str]
    num_examples: int
    name: str
    skipped: list[str] = field(default_factory=list)
    files: tuple[list[str], list[int]] | None = field(default=None, repr=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class CorruptImageError(ValueError):
    """An image file that cannot be decoded; the message names the file and what to do."""


def load(name: str = "offline", split: str = "train", *, data_dir: str | os.PathLike | None = None,
         manual_dir: str | os.PathLike | None = None, path: str | os.PathLike | None = None,
         skip_corrupt: bool = False) -> Source:
    """Loads one split of a data set by name (the inputs of Section 2 of the paper).

    Args:
      name: "offline" (generated shapes, written to ``data/offline`` on first use), "imagenet2012"
        (TFDS, built from the two ILSVRC2012 tars in ``manual_dir``), "imagenette", "cifar10" (TFDS,
        from ``data_dir``) or "folder" (``path/<class>/*.jpg``, or ``path/<split>/<class>/*.jpg``).
      split: "train" or "validation".
      data_dir: the TFDS data folder (default TFDS's own, ``~/tensorflow_datasets``); for
        "offline", the folder that holds ``offline/``.
      manual_dir: for "imagenet2012", the folder with ``ILSVRC2012_img_train.tar`` and
        ``ILSVRC2012_img_val.tar`` (default ``~/tensorflow_datasets/downloads/manual``).
      path: for "folder", the root of the class folders.
      skip_corrupt: leave unreadable images out (counted in ``Source.skipped`` and a warning)
        instead of raising ``CorruptImageError``.
    """
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; allowed: {', '.join(NAMES)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    if name == "offline":
        root = offline.generate_offline(Path(data_dir) / "offline" if data_dir else None)
        source = load_folder(root / split, skip_corrupt=skip_corrupt)
        source.name = "offline"
        return source
    if name == "folder":
        if path is None:
            raise ValueError("name='folder' needs path=, the folder that holds one sub-folder per "
                             "class (or train/ and validation/ folders of class folders)")
        root = Path(path).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"image folder {str(root)!r} does not exist; pass path= a "
                                    "folder holding one sub-folder of images per class")
        if (root / "train").is_dir() or (root / "validation").is_dir():
            if not (root / split).is_dir():
                raise FileNotFoundError(f"{root} has no {split}/ folder; add {root / split} with "
                                        "one sub-folder per class")
            root = root / split
        elif split == "validation":
            warnings.warn(f"{root} has no train/ and validation/ folders; the same images serve "
                          "as the validation split", stacklevel=2)
        return load_folder(root, skip_corrupt=skip_corrupt)
    if name == "imagenet2012":
        from alexnet_keras import ilsvrc

        return ilsvrc.load_imagenet2012(split, data_dir=data_dir, manual_dir=manual_dir)
    return load_tfds(name, split, data_dir=data_dir)


# ----------------------------------------------------------------------------------------------
# Folders of class sub-folders
# ----------------------------------------------------------------------------------------------

def image_format(head: bytes) -> str | None:
    """The format named by a file's first bytes ("jpeg", "png", "gif", "bmp"), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    return None


def check_image_file(path: str | os.PathLike) -> None:
    """Raises ``CorruptImageError`` naming ``path`` when it is not a readable image.

    A quick check, cheap enough for every file of a large folder: the format from the first bytes,
    the headers parsed by Pillow (size, colour mode) and, for JPEG and PNG, the end-of-image marker
    (a truncated download lacks it). Grayscale, CMYK and PNG files pass: the pipeline decodes them
    to three RGB channels.
    """
    from PIL import Image

    path = Path(path)
    fix = "delete or replace the file, or pass skip_corrupt=True to leave it out"
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - 4096))
            tail = f.read()
    except OSError as error:
        raise CorruptImageError(f"cannot read image file {path}: {error}") from error
    kind = image_format(head)
    if kind is None:
        raise CorruptImageError(f"{path} is not a JPEG, PNG, GIF or BMP image (it starts with "
                                f"{head[:8]!r}); {fix}")
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        raise CorruptImageError(f"{path} is a truncated JPEG (no end-of-image marker); {fix}")
    if kind == "png" and b"IEND" not in tail:
        raise CorruptImageError(f"{path} is a truncated PNG (no IEND chunk); {fix}")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as error:  # Pillow raises several types for broken headers
        raise CorruptImageError(f"{path} has an unreadable {kind.upper()} header ({error}); "
                                f"{fix}") from error
    if width < 1 or height < 1:
        raise CorruptImageError(f"{path} has an empty image ({width}x{height}); {fix}")


def list_image_folder(root: str | os.PathLike, *, skip_corrupt: bool = False
                      ) -> tuple[list[str], list[int], list[str], list[str]]:
    """Lists ``root/<class>/<image>`` after checking every image (see ``check_image_file``).

    Returns (paths, labels, class_names, skipped). The order is fixed and interleaves the classes
    (the first file of each class in class-name order, then the second of each, ...), so any prefix
    of the list, and any window a shuffle buffer sees, holds every class.
    Raises ``FileNotFoundError`` for a missing folder and ``ValueError`` for a folder with no class
    folders or a class folder with no images.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {str(root)!r} does not exist")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise ValueError(f"{root} has no class sub-folders; put the images of each class in "
                         f"their own folder, e.g. {root / 'cat'}/1.jpg")
    per_class, skipped, ignored = [], [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
        ignored += [p for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS]
        if not images:
            raise ValueError(f"class folder {class_dir} has no images (allowed: "
                             f"{', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder")
        per_class.append([])
        for image in images:
            try:
                check_image_file(image)
            except CorruptImageError as error:
                if not skip_corrupt:
                    raise
                skipped.append(str(image))
                log.warning("skipping %s", error)
                continue
            per_class[-1].append(str(image))
    if ignored:
        warnings.warn(f"ignored {len(ignored)} file(s) without an image extension under {root}, "
                      f"e.g. {ignored[0]}", stacklevel=3)
    if skipped:
        warnings.warn(f"skipped {len(skipped)} corrupt image(s) under {root} "
                      f"(listed in Source.skipped), e.g. {skipped[0]}", stacklevel=3)
    paths, labels = [], []
    for rank in range(max(len(files) for files in per_class)):
        for label, files in enumerate(per_class):
            if rank < len(files):
                paths.append(files[rank])
                labels.append(label)
    return paths, labels, [p.name for p in class_dirs], skipped


def load_folder(root: str | os.PathLike, *, skip_corrupt: bool = False) -> Source:
    """A ``Source`` reading ``root/<class>/<image>``; labels follow the sorted class names."""
    paths, labels, class_names, skipped = list_image_folder(root, skip_corrupt=skip_corrupt)
    if not paths:
        raise ValueError(f"no readable images under {root} ({len(skipped)} skipped as corrupt)")
    dataset = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int64)))
    dataset = dataset.map(lambda p, y: (tf.io.read_file(p), y),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return Source(dataset, class_names, len(paths), "folder", skipped, (paths, labels))


# ----------------------------------------------------------------------------------------------
# tensorflow-datasets
# ----------------------------------------------------------------------------------------------

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
