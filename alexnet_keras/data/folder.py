"""Any folder of class sub-folders (``root/<class>/<image>``) as a ``Source``, with every file accounted for.

Every file under the root is either used or reported before training starts (a warning, the log, and
``Source.left_out`` with the reason): files outside class folders, hidden files, files without an
image extension, and, when ``skip_corrupt`` is set, corrupt images (otherwise those are errors naming
the file). The default check reads headers and end markers (cheap for any folder); ``decode_check``
also decodes every image, for files whose headers pass but whose data does not decode.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tensorflow as tf

from alexnet_keras.data.folder_split import hold_out
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


def image_problem(head: bytes, tail: bytes) -> str | None:
    """What is wrong with an image file from its first 16 and last 4096 bytes, or None."""
    kind = image_format(head)
    if kind is None:
        return f"is not a JPEG, PNG, GIF or BMP image (it starts with {head[:8]!r})"
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        return "is a truncated JPEG (no end-of-image marker)"
    if kind == "png" and b"IEND" not in tail:
        return "is a truncated PNG (no IEND chunk)"
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
    problem = image_problem(head, tail)
    if problem:
        raise CorruptImageError(f"{path} {problem}; {fix}")
    kind = image_format(head)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as error:  # Pillow raises several types for broken headers
        raise CorruptImageError(f"{path} has an unreadable {kind.upper()} header ({error}); "
                                f"{fix}") from error
    if width < 1 or height < 1:
        raise CorruptImageError(f"{path} has an empty image ({width}x{height}); {fix}")


def _decodes(path: str) -> str | None:
    """None when TensorFlow's own decoder reads the whole file, else its error message."""
    data = tf.io.read_file(path)
    try:
        if tf.io.is_jpeg(data):  # 1/8 scale: every coefficient is still entropy-decoded
            tf.io.decode_jpeg(data, channels=3, ratio=8)
        else:
            tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        message = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\].*", "", error.message)
        return message.splitlines()[0][:200] if message else type(error).__name__
    return None


def check_decodes(paths: list[str]) -> list[tuple[str, str]]:
    """Decodes every file with TensorFlow (the pipeline's decoder), in threads; returns (path,
    reason) for each one that fails, e.g. a JPEG whose header is fine but whose data is not."""
    with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
        errors = list(pool.map(_decodes, paths))
    return [(path, f"does not decode ({error})") for path, error in zip(paths, errors) if error]


def _scan(root: Path, class_dirs: list[Path]):
    """(images per class folder, left-out (path, reason)) for the files under ``root``."""
    left_out = [(str(p), "not inside a class folder (cannot be labelled)")
                for p in sorted(root.iterdir()) if p not in class_dirs and not p.is_dir()]
    left_out += [(str(p), "hidden folder") for p in sorted(root.iterdir())
                 if p.is_dir() and p.name.startswith(".")]
    per_class = []
    for class_dir in class_dirs:
        images = []
        for folder, subfolders, files in os.walk(class_dir):  # nested folders keep the class
            for name in sorted(subfolders):
                if (Path(folder) / name).is_symlink() or name.startswith("."):
                    left_out.append((str(Path(folder) / name), "symlinked or hidden folder "
                                     "(not followed)"))
            subfolders[:] = sorted(n for n in subfolders if not n.startswith(".")
                                   and not (Path(folder) / n).is_symlink())
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith("."):
                    left_out.append((str(path), "hidden file"))
                elif path.suffix.lower() not in IMAGE_EXTENSIONS:
                    left_out.append((str(path), "no image extension "
                                     f"({', '.join(IMAGE_EXTENSIONS)})"))
                else:
                    images.append(path)
        per_class.append(sorted(images))
    return per_class, left_out


def list_image_folder(root: str | os.PathLike, *, skip_corrupt: bool = False,
                      class_names: list[str] | None = None, decode_check: bool = False
                      ) -> tuple[list[str], list[int], list[str], list[str]]:
    """Lists ``root/<class>/**/<image>`` after checking every image (see ``check_image_file``).

    Returns (paths, labels, class_names, skipped). Images in sub-folders of a class folder belong
    to that class. Labels index ``class_names`` (default: the sorted class folders); a class
    folder missing from a given list is an error, classes of the list without a folder are fine.
    ``decode_check`` also decodes every image fully (TensorFlow's decoder, threads), catching files
    whose headers pass but whose data does not decode. Corrupt files raise ``CorruptImageError``
    naming the file, or with ``skip_corrupt`` are left out; every file left out (and why) is
    logged and counted in a warning. The order is fixed and interleaves the classes (the first
    file of each class in class order, then the second of each, ...), so any prefix of the list,
    and any window a shuffle buffer sees, holds every class.
    """
    paths, labels, class_names, left_out = _list(root, skip_corrupt, class_names, decode_check)
    return paths, labels, class_names, [path for path, reason in left_out if _is_corrupt(reason)]


CORRUPT = "corrupt image: "


def _is_corrupt(reason: str) -> bool:
    return reason.startswith(CORRUPT)


def _list(root, skip_corrupt, class_names, decode_check, holdout=None):
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {str(root)!r} does not exist")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise ValueError(f"{root} has no class sub-folders; put the images of each class in "
                         f"their own folder, e.g. {root / 'cat'}/1.jpg")
    names = [p.name for p in class_dirs]
    if class_names is not None:
        unknown = [n for n in names if n not in class_names]
        if unknown:
            raise ValueError(f"{root} has class folder(s) {', '.join(unknown)} that the training "
                             f"split lacks; labels follow the training classes, so add them to "
                             f"training or remove them here")
    class_names = list(class_names) if class_names is not None else names
    per_class, left_out = _scan(root, class_dirs)
    for class_dir, images in zip(class_dirs, per_class):
        if not images:
            raise ValueError(f"class folder {class_dir} has no images (allowed: "
                             f"{', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder")
    corrupt = []
    for images in per_class:
        for image in images:
            try:
                if image.is_symlink() and not image.exists():
                    raise CorruptImageError(f"{image} is a symlink to {os.readlink(image)}, which "
                                            "does not exist; fix the link or pass skip_corrupt="
                                            "True to leave it out")
                check_image_file(image)
            except CorruptImageError as error:
                corrupt.append((str(image), str(error)))
    if decode_check:
        good = [str(p) for images in per_class for p in images
                if str(p) not in {c for c, _ in corrupt}]
        corrupt += [(path, f"{path} {reason}; delete or replace the file, or pass "
                     "skip_corrupt=True to leave it out") for path, reason in check_decodes(good)]
    if corrupt and not skip_corrupt:
        raise CorruptImageError(corrupt[0][1] + (f" ({len(corrupt) - 1} more corrupt file(s))"
                                                 if len(corrupt) > 1 else ""))
    bad = {path for path, _ in corrupt}
    left_out += [(path, CORRUPT + reason) for path, reason in corrupt]
    for path, reason in left_out:
        log.warning("left out %s: %s", path, reason)
    if left_out:
        shown = "; ".join(f"{path} ({reason})" for path, reason in left_out[:3])
        warnings.warn(f"left out {len(left_out)} file(s) under {root} (skipped {len(corrupt)} "
                      f"corrupt; all listed in Source.left_out): {shown}", stacklevel=3)
    per_class = [[str(p) for p in images if str(p) not in bad] for images in per_class]
    if holdout is not None:
        per_class = hold_out(per_class, class_dirs, *holdout)
    paths, labels = [], []
    for rank in range(max(len(files) for files in per_class)):
        for class_dir, files in zip(class_dirs, per_class):
            if rank < len(files):
                paths.append(files[rank])
                labels.append(class_names.index(class_dir.name))
    return paths, labels, class_names, left_out


def load_folder(root: str | os.PathLike, *, skip_corrupt: bool = False,
                class_names: list[str] | None = None, decode_check: bool = False,
                holdout: tuple[str, float] | None = None) -> Source:
    """A ``Source`` reading ``root/<class>/**/<image>``; labels index ``class_names`` (default:
    the sorted class folders). See ``list_image_folder`` for the checks. ``holdout``: (subset,
    fraction), only that subset of each class (``hold_out``)."""
    paths, labels, class_names, left_out = _list(root, skip_corrupt, class_names, decode_check,
                                                 holdout)
    skipped = [path for path, reason in left_out if _is_corrupt(reason)]
    if not paths:
        raise ValueError(f"no readable images under {root} ({len(skipped)} skipped as corrupt)")
    dataset = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int64)))
    dataset = dataset.map(lambda p, y: (tf.io.read_file(p), y),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return Source(dataset, class_names, len(paths), "folder", skipped, (paths, labels), left_out)
