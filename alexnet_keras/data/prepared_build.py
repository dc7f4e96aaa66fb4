"""``prepare``: writes a data set in the prepared 256x256 format (Section 2; see ``data.prepared``).

Each split is cut into shards of consecutive examples (in the source's fixed order); each shard is
written by one task: decode the central square rescaled to 256x256 (``decode_central_square``, the
same op the pipelines use), re-encode it as JPEG (or keep its pixels: ``encoding="raw"``), append
a record, and add the square to the sums behind the mean image and the RGB PCA, computed from the
256x256 images while they are in memory.

Resumable: a shard is written under a temporary name and renamed when complete (its sums first),
so a shard file that exists is whole; a rerun skips those and writes the rest, and ``verify``
deletes and rewrites shards whose SHA-256 no longer matches the manifest. Parallel: shards are
independent tasks in ``workers`` processes (spawned: TensorFlow is not fork-safe).
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from alexnet_keras.data import prepared as fmt
from alexnet_keras.data.folder_lock import folder_lock

SPLITS = ("train", "validation")
TFDS_NAMES = ("imagenet2012", "imagenette", "cifar10")
EXAMPLES_PER_SHARD = 1000  # default: shards of about 30 MB (256x256 JPEGs of about 26 KB)


def _source_options(dataset, data_path, data_dir, manual_dir, skip_corrupt) -> dict:
    absolute = lambda p: str(Path(p).expanduser().resolve()) if p else None  # noqa: E731
    return dict(dataset=dataset, data_path=absolute(data_path), data_dir=absolute(data_dir),
                manual_dir=absolute(manual_dir), skip_corrupt=bool(skip_corrupt))


def _plan(sources: dict, shards: int | None) -> dict:
    """Per split: its example count and shards as [start, stop) ranges, or ``same_as``."""
    train = sources["train"].num_examples
    count = shards or max(1, -(-train // EXAMPLES_PER_SHARD))
    plan = {}
    for split, source in sources.items():
        if split != "train" and source.files is not None and source.files == sources["train"].files:
            plan[split] = {"same_as": "train"}  # a folder without train/ and validation/
            continue
        n = source.num_examples
        k = max(1, min(n, round(count * n / train)))
        plan[split] = {"num_examples": n, "ranges": [[i * n // k, (i + 1) * n // k] for i in range(k)]}
    return plan


def _summary(manifest: dict) -> dict:
    """What must match for a folder to be continued or reused: source, options, counts, classes."""
    plan = {split: entry.get("same_as") or (entry["num_examples"], len(entry["ranges"]))
            for split, entry in manifest["plan"].items()}
    options = {**manifest["options"], "encoding": fmt.encoding_of(manifest)}
    return {**manifest["source"], **options, "class_names": manifest["class_names"],
            **{f"{split} (examples, shards)": value for split, value in plan.items()}}


def _check_same(root: Path, old: dict, new: dict) -> None:
    """Refuses to continue or reuse a folder prepared from another source or with other options."""
    old, new = _summary(old), _summary(new)
    differences = [f"{key}: {old.get(key)!r} there, {new.get(key)!r} now"
                   for key in new if old.get(key) != new.get(key)]
    if differences:
        text = "; ".join(d if len(d) < 200 else d[:200] + "..." for d in differences)
        raise fmt.PreparedFolderError(
            f"{root} was prepared from other data or with other options ({text}); pass the same "
            "options as then, or another --output folder (or delete this one)")


def _task(split: str, index: int, count: int, span, source, spec: dict, root: Path, classes: int,
          encoding: str):
    start, stop = span
    task = dict(split=split, index=index, name=fmt.shard_name(split, index, count), root=str(root),
                num_classes=classes, num_examples=stop - start, with_image_sums=split == "train",
                encoding=encoding)
    if source.files is not None:
        task["files"] = (source.files[0][start:stop], source.files[1][start:stop])
    elif spec["dataset"] in TFDS_NAMES:
        task["tfds"] = (spec["dataset"], spec["data_dir"], f"{split}[{start}:{stop}]")
    else:
        raise ValueError(f"cannot cut data set {spec['dataset']!r} into shards")
    return task


def _task_dataset(task: dict):
    import tensorflow as tf

    if "files" in task:
        paths, labels = task["files"]
        dataset = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int64)))
        return dataset.map(lambda p, y: (tf.io.read_file(p), y), deterministic=True,
                           num_parallel_calls=tf.data.AUTOTUNE)
    import tensorflow_datasets as tfds

    name, data_dir, split = task["tfds"]
    builder = tfds.builder(name, data_dir=data_dir)
    dataset = builder.as_dataset(split=split, shuffle_files=False,
                                 decoders={"image": tfds.decode.SkipDecoding()})
    return dataset.map(lambda ex: (ex["image"], tf.cast(ex["label"], tf.int64)))


def write_shard(task: dict) -> dict:
    """Writes one shard (temporary name, then renamed) and its sums; returns its manifest entry."""
    import tensorflow as tf

    from alexnet_keras.data.decode import decode_central_square

    size, root = fmt.IMAGE_SIZE, Path(task["root"])
    squares = _task_dataset(task).map(
        lambda e, y: (decode_central_square(e, size), y), num_parallel_calls=tf.data.AUTOTUNE)
    raw = task["encoding"] == "raw"  # the pixels themselves: the square's uint8 bytes, row-major
    if not raw:
        squares = squares.map(
            lambda s, y: (s, tf.io.encode_jpeg(s, quality=fmt.JPEG_QUALITY), y),
            num_parallel_calls=tf.data.AUTOTUNE)
    examples = squares.batch(32).prefetch(2)
    image_sum = np.zeros((size, size, 3) if task["with_image_sums"] else (0,), np.uint64)
    moment1, moment2 = np.zeros(3), np.zeros((3, 3))
    per_class = np.zeros(task["num_classes"], np.int64)
    temporary = root / f".{task['name']}.tmp-{os.getpid()}"
    try:
        _write_records(temporary, examples, raw, image_sum, moment1, moment2, per_class, task)
    except tf.errors.OpError as error:  # TensorFlow's writer: a full disk as an OSError, named
        number = next((n for n in _WRITE_ERRNOS if os.strerror(n) in error.message), None)
        if number is None:
            raise
        raise OSError(number, os.strerror(number), str(temporary)) from None
        for batch, *jpegs, labels in examples.as_numpy_iterator():
            records = [square.tobytes() for square in batch] if raw else jpegs[0]
    entry = dict(file=task["name"], num_examples=int(per_class.sum()),
                 bytes=temporary.stat().st_size, sha256=fmt.file_sha256(temporary),
                 per_class=per_class.tolist())
    if entry["num_examples"] != task["num_examples"]:
        raise RuntimeError(f"shard {task['name']} got {entry['num_examples']} examples, expected "
                           f"{task['num_examples']}: the source changed while preparing")
    stats = root / fmt.STATS_DIR / f"{task['name']}.npz"
    stats_temporary = stats.with_name(f".{stats.name}.tmp-{os.getpid()}.npz")
    # uint32 holds the sums of up to 16 million images: half the size of uint64 on disk
    np.savez(stats_temporary, image_sum=image_sum.astype(np.uint32), moment1=moment1, moment2=moment2,
             entry=json.dumps(entry))
    os.replace(stats_temporary, stats)  # the sums first: a shard file that exists is complete
    os.replace(temporary, root / task["name"])
    return entry


_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                 errno.ENAMETOOLONG)


def _write_records(temporary, examples, raw, image_sum, moment1, moment2, per_class, task):
    """Appends every example to the shard file ``temporary``, and each square to the sums."""
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(temporary)) as writer:
        for batch, *jpegs, labels in examples.as_numpy_iterator():
            records = [square.tobytes() for square in batch] if raw else jpegs[0]
            for record, label in zip(records, labels):
                writer.write(fmt.serialize_example(record, label))
            per_class += np.bincount(labels, minlength=len(per_class))
            if task["with_image_sums"]:
                image_sum += batch.sum(0, dtype=np.uint64)
                pixels = batch.reshape(-1, 3).astype(np.float64)
                moment1 += pixels.sum(0)
                moment2 += pixels.T @ pixels


def _run(tasks: list[dict], workers: int, progress: bool) -> None:
    from alexnet_keras.progress import progress_bar

    bar = progress_bar(sum(t["num_examples"] for t in tasks), unit="images", desc="prepare",
                       enabled=progress)
    with bar:
        if workers <= 1:
            for task in tasks:
                write_shard(task)
                bar.update(task["num_examples"])
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(write_shard, task): task for task in tasks}
            for future in as_completed(futures):
                future.result()  # a failed shard stops the build (finished shards are kept)
                bar.update(futures[future]["num_examples"])


def _finished(root: Path, name: str) -> bool:
    return (root / name).is_file() and (root / fmt.STATS_DIR / f"{name}.npz").is_file()


def _verify(root: Path, manifest: dict) -> list[str]:
    """Deletes the shards (and sums) whose size or SHA-256 differs from their recorded entry."""
    damaged = []
    for stats in sorted((root / fmt.STATS_DIR).glob("*.npz")):
        entry = json.loads(str(np.load(stats)["entry"]))
        shard = root / entry["file"]
        if shard.is_file() and (shard.stat().st_size != entry["bytes"]
                                or fmt.file_sha256(shard) != entry["sha256"]):
            shard.unlink()
            stats.unlink()
            damaged.append(entry["file"])
    return damaged


def _pca(moment1: np.ndarray, moment2: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (decreasing) and eigenvectors (columns, first component negative, as in the
    published ImageNet matrix) of the RGB covariance, 0..255 scale (Section 4.1)."""
    mean = moment1 / count
    values, vectors = np.linalg.eigh(moment2 / count - np.outer(mean, mean))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    return values, vectors * np.where(vectors[0] > 0, -1.0, 1.0)


def _finish(root: Path, manifest: dict) -> dict:
    """Adds the shard entries, counts, mean image and PCA (from the shards' sums) to the manifest."""
    for split, entry in manifest["plan"].items():
        if "same_as" in entry:
            manifest["splits"][split] = dict(entry)
            continue
        count = len(entry["ranges"])
        sums = [np.load(root / fmt.STATS_DIR / f"{fmt.shard_name(split, i, count)}.npz")
                for i in range(count)]
        shards = [json.loads(str(s["entry"])) for s in sums]
        per_class = np.sum([s.pop("per_class") for s in shards], 0)
        manifest["splits"][split] = dict(num_examples=int(per_class.sum()),
                                         per_class=per_class.tolist(), shards=shards)
        if split == "train":
            n = int(per_class.sum())
            mean_image = np.sum([s["image_sum"] for s in sums], 0) / n  # float64
            temporary = root / f".{fmt.MEAN_IMAGE}.tmp.npy"
            np.save(temporary, mean_image.astype(np.float32))
            os.replace(temporary, root / fmt.MEAN_IMAGE)
            pixels = n * fmt.IMAGE_SIZE**2
            values, vectors = _pca(np.sum([s["moment1"] for s in sums], 0),
                                   np.sum([s["moment2"] for s in sums], 0), pixels)
            manifest["mean_rgb"] = mean_image.mean((0, 1)).tolist()
            manifest["rgb_pca"] = dict(pixel_scale=255, eigenvalues=values.tolist(),
                                       eigenvalues_unit_scale=(values / 255**2).tolist(),
                                       eigenvectors=vectors.tolist())
    manifest["complete"] = True
    return manifest


def _write_manifest(root: Path, manifest: dict) -> None:
    temporary = root / f".{fmt.MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1))
    os.replace(temporary, root / fmt.MANIFEST)


def prepare(output: str | os.PathLike, *, dataset: str = "offline", data_path=None, data_dir=None,
            manual_dir=None, skip_corrupt: bool = False, shards: int | None = None,
            workers: int | None = None, verify: bool = False, progress: bool = True,
            encoding: str = "jpeg", min_classes: int = 1, validation_split: float = 0.1) -> dict:
    """Writes ``dataset``'s train and validation splits to ``output`` in the prepared format.

    ``encoding``: "jpeg" (quality 95, about 26 KB an image) or "raw" (the pixels, 196,608 bytes an
    image, nothing to decode when training; see ``data.prepared``).

    ``shards``: shards of the training split (default one per 1,000 images; the validation split
    gets the same share). ``workers``: processes (default: the CPU count). Rerun it to continue an
    interrupted build; with ``verify``, damaged shards are rewritten too. ``min_classes``: data
    with fewer classes is refused (the command line asks for 2: nothing can be learnt from one;
    ``bench input`` times a one-class folder). Another ``prepare`` writing ``output`` meanwhile
    is refused (``folder_lock``). Returns the manifest.
    """
    from alexnet_keras.checks import check_output_outside_inputs
    from alexnet_keras.data import catalog

    if encoding not in fmt.ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(fmt.ENCODINGS)}; got {encoding!r}")
    if shards is not None and shards < 1 or workers is not None and workers < 1:
        raise ValueError(f"shards and workers must be at least 1; got {shards} and {workers}")
    check_output_outside_inputs(output, {"--data-path": data_path, "--data-dir": data_dir,
                                         "--manual-dir": manual_dir})
    root = Path(output).expanduser()
    if root.exists() and not root.is_dir():
        raise ValueError(f"--output {root} is a file; give a folder (new, or an earlier prepare's)")
    spec = _source_options(dataset, data_path, data_dir, manual_dir, skip_corrupt)
    where = dict(path=spec["data_path"], data_dir=spec["data_dir"], manual_dir=spec["manual_dir"],
                 skip_corrupt=skip_corrupt, validation_split=validation_split)
    sources = {split: catalog.load(dataset, split, **where) for split in SPLITS}
    names = sources["train"].class_names
    if len(names) < min_classes:
        raise ValueError(f"{dataset} data has {len(names)} class ({', '.join(names)}): a "
                         "classifier needs at least two; give one folder per class")
    with folder_lock(root, what="prepare", fix="wait for it to end (rerunning it then continues "
                     "the same build), or give another --output"):
        try:
            return _build(root, spec, sources, shards, workers, verify, progress, encoding)
        except OSError as error:  # a full disk while writing the manifest or the mean image
            if error.filename is None and error.errno is not None:
                raise OSError(error.errno, error.strerror, str(root)) from error
            raise


def _build(root: Path, spec: dict, sources: dict, shards, workers, verify, progress, encoding):
    """``prepare``'s writes, under the folder's lock."""
    old = fmt.read_manifest(root, complete=False) if (root / fmt.MANIFEST).exists() else None
    if shards is None and old is not None:
        shards = len(old["plan"]["train"]["ranges"])
    manifest = dict(format=fmt.FORMAT, format_version=fmt.FORMAT_VERSION, complete=False,
                    source=spec, class_names=sources["train"].class_names,
                    options=dict(image_size=fmt.IMAGE_SIZE, encoding=encoding,
                                 jpeg_quality=fmt.JPEG_QUALITY if encoding == "jpeg" else None),
                    plan=_plan(sources, shards), splits={})
    for split, source in sources.items():
        if source.class_names != manifest["class_names"]:
            raise ValueError(f"the {split} split's classes differ from the train split's "
                             f"({len(source.class_names)} vs {len(manifest['class_names'])}); "
                             "give both splits the same class folders")
    if old is not None:
        _check_same(root, old, manifest)
        if old.get("complete") and not verify:
            return old
    (root / fmt.STATS_DIR).mkdir(parents=True, exist_ok=True)
    for stale in [*root.glob(".*.tmp*"), *(root / fmt.STATS_DIR).glob(".*.tmp*")]:
        stale.unlink()  # left by an interrupted run
    damaged = _verify(root, manifest) if verify else []
    if damaged:
        print(f"rewriting {len(damaged)} damaged shard(s): {', '.join(damaged)}")
    _write_manifest(root, manifest)  # unfinished: records the plan for a resumed run
    tasks = [_task(split, i, len(entry["ranges"]), span, sources[split], spec, root,
                   len(manifest["class_names"]), encoding)
             for split, entry in manifest["plan"].items() if "ranges" in entry
             for i, span in enumerate(entry["ranges"])
             if not _finished(root, fmt.shard_name(split, i, len(entry["ranges"])))]
    _run(tasks, min(workers or os.cpu_count() or 1, max(1, len(tasks))), progress)
    manifest = _finish(root, manifest)
    _write_manifest(root, manifest)
    return manifest
