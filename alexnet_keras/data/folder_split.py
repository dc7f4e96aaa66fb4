"""A folder without train/ and validation/ split into both: a fixed share of each class held out.

Without it the same images would serve as training and validation data, so every validation figure
(and the checkpoint chosen on it) would be measured on training images.
"""

from __future__ import annotations

import sys
from pathlib import Path

VALIDATION_SPLIT = 0.1  # the share of each class a folder without train/ and validation/ holds out
SPLIT_SEED = 0  # fixed: the same validation images on every run, whatever the training seed
_announced: set = set()


def hold_out(per_class: list[list], class_dirs: list[Path], subset: str, fraction: float,
             seed: int = SPLIT_SEED) -> list[list]:
    """Per class, the files of ``subset`` ("training" or "validation") when ``fraction`` of each
    class (rounded, at least one) is held out for validation: a seeded draw per class from the
    sorted files, so the same folder gives the same split on every run and the two subsets are
    disjoint (as ``keras.utils.image_dataset_from_directory(validation_split=, subset=, seed=)``,
    but per class). A class too small to give both subsets an image is refused, named."""
    import zlib

    import numpy as np

    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1); received {fraction}")
    chosen = []
    for class_dir, files in zip(class_dirs, per_class):
        held = max(1, round(len(files) * fraction))
        if held >= len(files):
            raise ValueError(
                f"class folder {class_dir} has {len(files)} image(s): too few to hold out "
                f"{fraction:.0%} for validation and keep one for training; add images, or give the "
                "folder train/ and validation/ sub-folders of class folders")
        rng = np.random.default_rng([seed, zlib.crc32(class_dir.name.encode())])
        validation = set(rng.choice(len(files), held, replace=False).tolist())
        chosen.append([f for i, f in enumerate(files) if (i in validation) == (subset == "validation")])
    key = (str(class_dirs[0].parent), fraction, seed)
    if key not in _announced:  # one plain line per folder and process
        _announced.add(key)
        total = sum(len(files) for files in per_class)
        held = sum(max(1, round(len(files) * fraction)) for files in per_class)
        print(f"{class_dirs[0].parent} has no train/ and validation/ folders: {held} of its {total} "
              f"images ({fraction:.0%} of each class, the same on every run) are the validation "
              "split, the others the training split (--validation-split sets the share)",
              file=sys.stderr)
    return chosen
