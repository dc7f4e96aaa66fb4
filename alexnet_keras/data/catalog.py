"""Data sets by name: ImageNet (ILSVRC2012), imagenette and CIFAR-10 through tensorflow-datasets, any
folder of class sub-folders, and the generated offline set (the default).

Every source yields the same thing: encoded image bytes and an int64 label, unbatched, unshuffled and
in a fixed order, so the decoding, cropping and augmentation of Section 2 and Section 4.1 of the
paper (in ``alexnet_keras.data.augment``) run on any of them the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from typing import TYPE_CHECKING

from alexnet_keras.checks import check_choice
from alexnet_keras.data import offline
from alexnet_keras.data.folder_split import VALIDATION_SPLIT

if TYPE_CHECKING:
    from alexnet_keras.data.source import Source

NAMES = ("offline", "imagenet2012", "imagenette", "cifar10", "folder")
SPLITS = ("train", "validation", "test")
NO_TEST_SPLIT = ("imagenet2012", "imagenette")  # their test images have no labels, or there are none


def load(name: str = "offline", split: str = "train", *, data_dir: str | os.PathLike | None = None,
         manual_dir: str | os.PathLike | None = None, path: str | os.PathLike | None = None,
         skip_corrupt: bool = False, decode_check: bool | None = None,
         validation_split: float = VALIDATION_SPLIT) -> Source:
    """Loads one split of a data set by name (the inputs of Section 2 of the paper).

    Args:
      name: "offline" (generated shapes, written to ``data/offline`` on first use), "imagenet2012"
        (TFDS, built from the two ILSVRC2012 tars in ``manual_dir``), "imagenette", "cifar10" (TFDS,
        from ``data_dir``) or "folder" (``path/<class>/*.jpg``, or ``path/<split>/<class>/*.jpg``).
      split: "train", "validation" or "test" (the offline set's 5,000 test images, written on
        first use; a folder's ``test/``; CIFAR-10's test set).
      data_dir: the TFDS data folder (default TFDS's own, ``~/tensorflow_datasets``); for
        "offline", the folder that holds ``offline/``.
      manual_dir: for "imagenet2012", the folder with ``ILSVRC2012_img_train.tar`` and
        ``ILSVRC2012_img_val.tar`` (default ``~/tensorflow_datasets/downloads/manual``).
      path: for "folder", the root of the class folders.
      skip_corrupt: leave unreadable images out (listed in ``Source.skipped`` and
        ``Source.left_out``, and a warning) instead of raising ``CorruptImageError``; for
        "folder" and "offline".
      decode_check: also decode every image of a "folder" or "offline" set before training
        (default: on for "folder", off for the generated "offline" set).

      validation_split: for a "folder" without train/ and validation/, the share of each class
        held out as the validation split (seeded, the same on every run; the training split is
        the rest, so no image is in both).

    A folder with train/ and validation/ labels both splits by the training classes (sorted), so
    a class has one index everywhere; a validation class that training lacks is an error.
    """
    check_choice("data set name", name, NAMES)
    check_choice("split", split, SPLITS)
    if split == "test" and name in NO_TEST_SPLIT:
        raise ValueError(f"{name} has no labelled test split; use split='validation', or the "
                         "offline set's test split")
    from alexnet_keras.data.folder import load_folder  # TensorFlow: imported when data is read
    from alexnet_keras.data.source import load_tfds
    if name == "offline":
        root = offline.generate_offline(Path(data_dir) / "offline" if data_dir else None)
        if split == "test":
            offline.generate_offline_test(root)
        source = load_folder(root / split, skip_corrupt=skip_corrupt,
                             decode_check=bool(decode_check))
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
        class_names, holdout = None, None
        if (root / "train").is_dir() or (root / "validation").is_dir():
            if not (root / split).is_dir():
                raise FileNotFoundError(f"{root} has no {split}/ folder; add {root / split} with "
                                        "one sub-folder per class")
            if split != "train" and (root / "train").is_dir():
                class_names = sorted(p.name for p in (root / "train").iterdir()
                                     if p.is_dir() and not p.name.startswith("."))
            root = root / split
        elif split in ("train", "validation"):
            holdout = ("validation" if split == "validation" else "training", validation_split)
        return load_folder(root, skip_corrupt=skip_corrupt, class_names=class_names,
                           decode_check=decode_check is None or decode_check, holdout=holdout)
    if name == "imagenet2012":
        from alexnet_keras.data import ilsvrc

        return ilsvrc.load_imagenet2012(split, data_dir=data_dir, manual_dir=manual_dir)
    return load_tfds(name, split, data_dir=data_dir)
