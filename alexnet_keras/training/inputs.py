"""The trainer's default data: the training stream, validation data, classes and a fingerprint.

The fingerprint records which data a run trained on, so that a resume onto other data (images
added, removed or replaced between the kill and the resume, a prepared folder rebuilt) is refused,
naming what changed, instead of training the rest of the run on something else
(``run_folder.check_data``). A folder data set is fingerprinted by its file list and sizes, per
class; a prepared folder by its shards' recorded SHA-256; a TFDS data set by its counts.
"""

from __future__ import annotations

import hashlib
import os

from alexnet_keras.training import distribute
from alexnet_keras.training.config import TrainConfig


def image_size(config: TrainConfig) -> int:
    if config.image_size:
        return config.image_size
    return 224 if config.variant == "torchvision" else 227


def _digest(items) -> str:
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]


def source_fingerprint(source) -> dict:
    """``{"examples": N, "classes": {name: {"files", "bytes", "digest"}}}`` of a ``Source``: per
    class, its files' names (relative to the data set's folder) and sizes; without files (TFDS),
    only the counts."""
    if source.files is None:
        return {"examples": int(source.num_examples), "classes": len(source.class_names)}
    paths, labels = source.files
    base = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    per_class = {}
    for path, label in zip(paths, labels):
        per_class.setdefault(source.class_names[label], []).append(
            (os.path.relpath(path, base), os.stat(path).st_size))
    classes = {name: {"files": len(files), "bytes": sum(size for _, size in files),
                      "digest": _digest(f"{p}\0{s}" for p, s in sorted(files))}
               for name, files in sorted(per_class.items())}
    return {"examples": int(source.num_examples), "classes": classes}


def prepared_fingerprint(root: str, split: str) -> dict:
    """Counts per class and the digest of the shards' recorded SHA-256 of a prepared split."""
    from pathlib import Path

    from alexnet_keras.data.prepared import read_manifest, split_entry

    entry = split_entry(read_manifest(root), split, Path(root).expanduser())
    return {"examples": int(entry["num_examples"]), "per_class": entry["per_class"],
            "shards": _digest(shard["sha256"] for shard in entry["shards"])}


def describe_changes(was: dict, now: dict) -> list[str]:
    """What differs between two fingerprints, one phrase per change (empty: the same data)."""
    changes = []
    for split in sorted(set(was) | set(now)):
        old, new = was.get(split, {}), now.get(split, {})
        if old == new:
            continue
        old_classes, new_classes = old.get("classes"), new.get("classes")
        if isinstance(old_classes, dict) and isinstance(new_classes, dict):
            for name in sorted(set(old_classes) | set(new_classes)):
                a, b = old_classes.get(name), new_classes.get(name)
                if a is None or b is None:
                    changes.append(f"{split} class {name!r} {'added' if a is None else 'removed'}")
                elif a["files"] != b["files"]:
                    changes.append(f"{split} class {name!r}: {a['files']} images recorded, "
                                   f"{b['files']} now")
                elif a != b:
                    changes.append(f"{split} class {name!r}: files renamed or replaced "
                                   f"({a['bytes']} bytes recorded, {b['bytes']} now)")
        elif old.get("examples") != new.get("examples"):
            changes.append(f"{split}: {old.get('examples')} examples recorded, "
                           f"{new.get('examples')} now")
        if not changes or not changes[-1].startswith(split):
            changes.append(f"{split}: other images (prepared shards or data files differ)")
    return changes


def training_data(config: TrainConfig, start_epoch: int, global_batch: int):
    """(training stream from ``start_epoch``, steps per epoch, validation data, classes,
    fingerprint, class-name record for the checkpoints), from ``alexnet_keras.data`` and ``alexnet_keras.augment``."""
    from alexnet_keras import data
    from alexnet_keras.data import augment

    size = image_size(config)
    where = dict(data_dir=config.data_dir, manual_dir=config.manual_dir, path=config.data_path,
                 skip_corrupt=config.skip_corrupt, validation_split=config.validation_split)
    lighting = {}
    if config.prepared:  # the 256x256 shards of `prepare` (Section 2), same pipelines
        from alexnet_keras.data.prepared import IMAGE_SIZE, load_prepared, prepared_info

        if size > IMAGE_SIZE:
            raise ValueError(
                f"--image-size {size} is larger than the prepared {IMAGE_SIZE}x{IMAGE_SIZE} "
                f"squares: they would be enlarged and the random crops (Section 4.1) would cut "
                f"nothing; use --image-size {IMAGE_SIZE} or less (the paper crops 224 from 256), "
                "or train from the original images")
        # Each shard's SHA-256 is checked first: a damaged shard is named now, with its fix,
        # not found as a DataLossError hours into an epoch (hashing costs far less than an epoch).
        load = lambda split: load_prepared(config.prepared, split, verify=True)  # noqa: E731
        fingerprint = lambda split, _: prepared_fingerprint(config.prepared, split)  # noqa: E731
        # Section 4.1: the lighting follows the PCA of this training set's own RGB values, which
        # prepare recorded. The mean stays the per-channel default that evaluate and predict
        # subtract too (preprocess_input(mode="paper")).
        info = prepared_info(config.prepared)
        lighting = dict(eigenvalues=info.eigenvalues_unit_scale, eigenvectors=info.eigenvectors)
    else:
        load = lambda split: data.load(config.dataset, split, **where)  # noqa: E731
        fingerprint = lambda _, source: source_fingerprint(source)  # noqa: E731
    train = load("train")
    source, num_examples = train, train.num_examples  # a Source: file lists shuffle cheaply
    steps = distribute.steps_per_epoch(num_examples, global_batch)
    if config.steps_per_epoch and config.steps_per_epoch < steps:
        # An "epoch" becomes a pass over the first steps x batch examples, so that epochs stay
        # aligned with the data stream (resuming relies on it).
        steps = config.steps_per_epoch
        num_examples = steps * global_batch
        source = train.dataset.take(num_examples)
    train_ds = augment.training_pipeline(
        source, batch_size=global_batch, image_size=size, seed=config.seed,
        start_epoch=start_epoch, num_examples=num_examples, cache=config.cache,
        random_crops=config.random_crops, flip=config.flip, lighting_std=config.lighting_std,
        **lighting,
    )
    validation = load("validation")
    val_ds = augment.evaluation_pipeline(
        validation, batch_size=global_batch, image_size=size, cache=config.cache
    )
    prints = {"train": fingerprint("train", train), "validation": fingerprint("validation", validation)}
    from alexnet_keras.training.labels import labels_of

    record = labels_of(train, config.dataset)
    if config.prepared:
        record["origin"] = f"the class names recorded by prepare in {config.prepared}"
    return train_ds, steps, val_ds, len(train.class_names), prints, record


_image_size = image_size  # the name fit and the benchmarks used before the split


def _default_datasets(config: TrainConfig, start_epoch: int, global_batch: int):
    """Training stream (infinite, starting at ``start_epoch``), steps per epoch, validation data and
    number of classes (``training_data`` without its fingerprint)."""
    return training_data(config, start_epoch, global_batch)[:4]


def _default_model(config: TrainConfig, num_classes: int):
    from alexnet_keras.model.architecture import alexnet

    size = image_size(config)
    return alexnet(
        config.variant, classes=num_classes, input_shape=(size, size, 3),
        activation=config.activation, normalization=config.normalization,
        initializer=config.initializer, dropout=config.dropout,
        overlapping_pooling=config.overlapping_pooling,
        tower_implementation=config.tower_implementation,
    )
