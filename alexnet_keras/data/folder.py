"""Any folder of class sub-folders (``root/<class>/<image>``) as a ``Source``, with every image checked."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import tensorflow as tf

from alexnet_keras.data.source import CorruptImageError, Source

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


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


