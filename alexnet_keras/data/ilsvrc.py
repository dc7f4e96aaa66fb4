"""ImageNet (ILSVRC2012) through tensorflow-datasets, and a miniature of its manual download.

TFDS's ``imagenet2012`` builder cannot download ImageNet itself: the user registers at
image-net.org, downloads ``ILSVRC2012_img_train.tar`` (about 138 GB) and ``ILSVRC2012_img_val.tar``
(about 6.3 GB) and puts them in TFDS's manual folder. ``build_miniature_ilsvrc2012`` writes two
small tars laid out exactly like the real ones (per-synset tars inside the train tar, flat
``ILSVRC2012_val_NNNNNNNN.JPEG`` files in the val tar, labelled by TFDS's own validation label file),
so the same code path runs offline in tests and demos.
"""

from __future__ import annotations

import difflib
import io
import os
import tarfile
from pathlib import Path

import numpy as np

from alexnet_keras.data import offline
from alexnet_keras.data.folder import image_problem
from alexnet_keras.data.source import CorruptImageError, Source, tfds_source

DEFAULT_MANUAL_DIR = Path("~/tensorflow_datasets/downloads/manual")
ILSVRC_TARS = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")
ILSVRC_URL = "https://image-net.org/download-images"

TRAIN_TAR, VALIDATION_TAR = ILSVRC_TARS


def tfds_label_files() -> tuple[Path, Path]:
    """TFDS's ``labels.txt`` (the 1000 synsets, in label order) and ``validation_labels.txt``
    (the synset of each validation image, in sorted file-name order), from the installed package."""
    import tensorflow_datasets as tfds

    folder = Path(os.fspath(tfds.core.tfds_path("datasets/imagenet2012")))
    return folder / "labels.txt", folder / "validation_labels.txt"


def check_manual_dir(manual_dir: str | os.PathLike | None = None) -> Path:
    """Checks that ``manual_dir`` holds both ILSVRC2012 tars before TFDS starts a long build.

    Raises ``FileNotFoundError`` naming each missing tar, where to download it and where to put it;
    a file with a similar name (``ILSVRC2012_img_train.tar.gz``, ``ILSVRC2012_img_val (1).tar``)
    is pointed out as a likely misnamed copy.
    """
    folder = Path(manual_dir if manual_dir is not None else DEFAULT_MANUAL_DIR).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"ImageNet manual_dir {folder} does not exist. Download {TRAIN_TAR} and "
            f"{VALIDATION_TAR} from {ILSVRC_URL} (free registration) and put both in {folder}, "
            f"or pass manual_dir= (CLI: --manual-dir) the folder that holds them.")
    present = sorted(p.name for p in folder.iterdir())
    problems = []
    for name in ILSVRC_TARS:
        path = folder / name
        if path.is_file() and path.stat().st_size > 0:
            continue
        if path.is_file():
            problems.append(f"{path} is empty (an interrupted download?); download it again")
            continue
        stem = name.split(".")[0].lower()
        similar = [p for p in present if p.lower().startswith(stem) or p.lower().replace(" ", "")
                   .startswith(stem)] or difflib.get_close_matches(name, present, n=2, cutoff=0.75)
        hint = (f"; found {', '.join(similar)}: rename it to {name} (TFDS reads exactly that name)"
                if similar else "")
        problems.append(f"{path} is missing{hint}")
    if problems:
        raise FileNotFoundError(
            "ImageNet (ILSVRC2012) needs two tars in the manual_dir: " + "; ".join(problems) +
            f". Download them from {ILSVRC_URL} (free registration) into {folder}, or pass "
            f"manual_dir= (CLI: --manual-dir) the folder that holds them.")
    return folder


def _tar_images(tar: tarfile.TarFile, prefix: str = ""):
    """(name, bytes) of every file in ``tar``, descending into the per-synset tars."""
    for member in tar:
        if not member.isfile():
            continue
        payload = tar.extractfile(member).read()
        if member.name.endswith(".tar"):
            with tarfile.open(fileobj=io.BytesIO(payload)) as inner:
                yield from _tar_images(inner, f"{prefix}{member.name}/")
        else:
            yield prefix + member.name, payload


def check_tar_images(manual_dir: str | os.PathLike) -> None:
    """Checks every image inside the two ILSVRC2012 tars (format, end-of-image marker) before
    TFDS builds from them; raises ``CorruptImageError`` naming each bad member and the fix.

    It reads the tars once (about 145 GB for the real ones: minutes, against hours of building)."""
    problems = []
    for name in ILSVRC_TARS:
        with tarfile.open(Path(manual_dir) / name) as tar:
            for member, payload in _tar_images(tar):
                problem = image_problem(payload[:16], payload[-4096:])
                if problem:
                    problems.append(f"{name}: {member} {problem}")
    if problems:
        shown = "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5
                                           else "")
        raise CorruptImageError(f"{len(problems)} corrupt image(s) in the ILSVRC2012 tars: {shown}."
                                f" Download the tar(s) again from {ILSVRC_URL} (TFDS would store "
                                f"these images as they are, and training would fail on them)")


def load_imagenet2012(split: str, *, data_dir: str | os.PathLike | None = None,
                      manual_dir: str | os.PathLike | None = None) -> Source:
    """ImageNet through TFDS's ``imagenet2012`` builder; builds it from the manual tars on first
    use (hours for the real data, seconds for the miniature). Images stay encoded."""
    import tensorflow_datasets as tfds

    builder = tfds.builder("imagenet2012", data_dir=os.fspath(data_dir) if data_dir else None)
    if not builder.is_prepared():
        folder = check_manual_dir(manual_dir)
        check_tar_images(folder)
        config = tfds.download.DownloadConfig(manual_dir=os.fspath(folder))
        from alexnet_keras.progress import quiet_tfds_bars

        quiet_tfds_bars()
        builder.download_and_prepare(download_config=config)
    return tfds_source(builder, split, "imagenet2012")


def _jpeg_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0  # reproducible archives
    tar.addfile(info, io.BytesIO(payload))


def build_miniature_ilsvrc2012(manual_dir: str | os.PathLike, *, num_validation: int = 20,
                               train_per_synset: int = 3, image_size: tuple[int, int] = (160, 120),
                               seed: int = 0) -> dict:
    """Writes a miniature ``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar`` to
    ``manual_dir``, in the layout TFDS's imagenet2012 builder reads from the real download.

    The validation tar holds ``ILSVRC2012_val_00000001.JPEG`` ... for the first ``num_validation``
    images; TFDS labels them from its own ``validation_labels.txt``. The train tar holds one
    ``<synset>.tar`` per synset among those labels, each with ``train_per_synset`` images named
    ``<synset>_<n>.JPEG``. Every synset is drawn as one of the offline set's shapes, so a model can
    learn the miniature. Returns {"synsets": [...], "validation_labels": [...]}.
    """
    if num_validation < 1 or train_per_synset < 1:
        raise ValueError("num_validation and train_per_synset must be at least 1; got "
                         f"{num_validation} and {train_per_synset}")
    labels_file, validation_file = tfds_label_files()
    all_synsets = labels_file.read_text().split()
    validation_labels = validation_file.read_text().split()[:num_validation]
    synsets = sorted(set(validation_labels))
    shape_of = {s: offline.CLASS_NAMES[all_synsets.index(s) % len(offline.CLASS_NAMES)]
                for s in synsets}
    folder = Path(manual_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)

    def jpeg(synset: str, key: list[int]) -> bytes:
        rng = np.random.default_rng([seed, *key])
        return offline.encode_jpeg(offline.draw_image(shape_of[synset], rng, image_size))

    with tarfile.open(folder / TRAIN_TAR, "w") as train:
        for s_index, synset in enumerate(synsets):
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as synset_tar:
                for n in range(train_per_synset):
                    _jpeg_member(synset_tar, f"{synset}_{n + 1}.JPEG", jpeg(synset, [0, s_index, n]))
            _jpeg_member(train, f"{synset}.tar", inner.getvalue())
    with tarfile.open(folder / VALIDATION_TAR, "w") as val:
        for index, synset in enumerate(validation_labels):
            _jpeg_member(val, f"ILSVRC2012_val_{index + 1:08d}.JPEG", jpeg(synset, [1, index]))
    return {"synsets": synsets, "validation_labels": validation_labels}
