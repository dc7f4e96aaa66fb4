"""``python -m alexnet_keras bench input``: images per CPU-second of the training input pipeline.

On a folder of JPEGs (``--images DIR``, e.g. your own photographs; by default ImageNet-sized
500x375 JPEGs written to a temporary folder: textured shapes, or with ``--photos`` scikit-image's
sample photographs) it times, on the same files in the same run:

(a) a straightforward pipeline: read, full ``decode_jpeg``, resize the shorter side to 256, central
    256 crop, random crop, flip (as most tutorials write it), one image at a time and with a
    parallel map and prefetch (the reference of the ratios: the better of the two per CPU-second);
(b) ours from the JPEGs (``augment.training_pipeline``): decode only the crop window, resize it,
    flip, PCA lighting, mean subtraction (Section 2 and 4.1 of the paper);
(c) ours from images cached at 256x256 in memory (``cache=True``);
(d) ours from the prepared format (``prepare``: 256x256 JPEGs in TFRecord shards, as the paper
    stored its images), written to a temporary folder first;
(e) ours from the prepared format stored as raw pixels (``prepare --encoding raw``).

Prints images/s and images per CPU-second for each and ends with ``images_per_second_per_core=N``
(b), ``prepared_images_per_second_per_core=N`` (d), ``prepared_raw_images_per_second_per_core=N``
(e) and their ratios to (a).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def write_jpegs(folder: Path, count: int, *, size=(500, 375), seed: int = 0) -> list[str]:
    """``count`` textured 500x375 JPEGs of about 70-110 KB (the size of typical ImageNet photos)."""
    import numpy as np

    from alexnet_keras.data import offline

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        shape = offline.CLASS_NAMES[i % len(offline.CLASS_NAMES)]
        image = offline.draw_image(shape, np.random.default_rng([seed, i]), size, grain=16.0)
        path = folder / f"{i:05d}.jpg"
        path.write_bytes(offline.encode_jpeg(image, quality=90))
        paths.append(str(path))
    return paths


def straightforward_pipeline(paths: list[str], *, batch_size: int, image_size: int,
                             parallel: bool = False):
    """The pipeline most tutorials write: full decode, resize, crop, flip, mapped one image at a
    time (``parallel=True``: with a parallel map and prefetch, the usual first improvement)."""
    import tensorflow as tf

    def example(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        new = tf.cast(tf.round(shape * 256.0 / tf.reduce_min(shape)), tf.int32)
        image = tf.image.resize(image, new)
        image = tf.image.resize_with_crop_or_pad(image, 256, 256)
        image = tf.image.random_crop(image, [image_size, image_size, 3])
        return tf.image.random_flip_left_right(image)

    dataset = tf.data.Dataset.from_tensor_slices(paths).repeat()
    calls = tf.data.AUTOTUNE if parallel else None
    dataset = dataset.shuffle(len(paths)).map(example, num_parallel_calls=calls)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE) if parallel else dataset


def time_batches(iterator, batches: int, batch_size: int) -> tuple[float, float]:
    """(images per second of wall time, images per CPU-second) over ``batches`` batches.

    CPU time counts every thread of this process, so the second figure is the rate of one fully
    busy core, even when other programs share the machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(iterator)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return batches * batch_size / wall, batches * batch_size / max(cpu, 1e-9)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


PHOTOGRAPHS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
               "immunohistochemistry", "retina")


def write_photographs(folder: Path, count: int, *, size=(500, 375)) -> list[str]:
    """``count`` JPEGs of ``size`` from scikit-image's sample photographs (a 4:3 window of each,
    moved and mirrored from copy to copy so that no two files are the same)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    photos = [Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in PHOTOGRAPHS]
    paths = []
    for i in range(count):
        photo = photos[i % len(photos)]
        width, height = photo.size
        w = min(width, height * size[0] // size[1]) * 9 // 10
        h = w * size[1] // size[0]
        x, y = np.random.default_rng([1, i]).integers(0, [width - w + 1, height - h + 1])
        image = photo.crop((x, y, x + w, y + h)).resize(size, Image.BILINEAR)
        if (i // len(photos)) % 2:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        path = folder / f"{i:05d}.jpg"
        image.save(path, quality=90)
        paths.append(str(path))
    return paths


def _image_folder(images: str, root: Path) -> list[str]:
    """Links every JPEG under ``images`` into ``root``/images/ (one class: a folder ``load_folder``
    and ``prepare`` read); returns the links."""
    files = sorted(p for p in Path(images).expanduser().rglob("*")
                   if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file())
    if not files:
        raise SystemExit(f"bench input: error: no .jpg or .jpeg files under {images}")
    folder = root / "images"
    folder.mkdir(parents=True)
    links = []
    for i, path in enumerate(files):
        link = folder / f"{i:06d}.jpg"
        link.symlink_to(path.resolve())
        links.append(str(link))
    return links


def _measure(pipelines: dict, epoch: int, batches: int, args) -> dict:
    results = {}
    for name, pipeline in pipelines.items():
        iterator = iter(pipeline)
        # Warm-up: thread pools and autotuning settle; the cached pipeline fills its cache of
        # 256x256 images during its first epoch, which is not timed.
        for _ in range(epoch + 1 if "cached" in name else 2):
            next(iterator)
        # Consecutive rounds; the best is the one least disturbed by other programs.
        rounds = [time_batches(iterator, batches, args.batch_size) for _ in range(args.rounds)]
        results[name] = (max(r[0] for r in rounds), max(r[1] for r in rounds))
        del iterator
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alexnet_keras bench input",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=None, metavar="DIR",
                        help="a folder of JPEGs to time on (searched recursively; default: "
                        "--count generated 500x375 JPEGs)")
    parser.add_argument("--photos", action="store_true",
                        help="generate from scikit-image's sample photographs, not shapes")
    parser.add_argument("--count", type=int, default=256,
                        help="JPEGs to generate (default 256; more gives steadier figures)")
    parser.add_argument("--measure", type=int, default=512,
                        help="images timed per pipeline and round, after a warm-up (default 512)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timing rounds per pipeline; the best round counts (default 3)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=227)
    parser.add_argument("--dir", default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args(argv)
    from alexnet_keras.checks import check_output_outside_inputs

    try:
        check_output_outside_inputs(args.dir, {"--images": args.images}, output_flag="--dir")
    except ValueError as error:
        parser.error(str(error))

    import tensorflow as tf

    from alexnet_keras import data
    from alexnet_keras.data import augment
    from alexnet_keras.data.prepared import load_prepared
    from alexnet_keras.data.prepared_build import prepare

    n_cores = cores()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.dir or tmp) / "bench_input"
        start = time.perf_counter()
        if args.images:
            paths = _image_folder(args.images, work / "source")
            what = f"{len(paths)} JPEGs from {args.images}"
        else:
            write = write_photographs if args.photos else write_jpegs
            paths = write(work / "source" / "images", args.count)
            what = f"{len(paths)} {'photographs' if args.photos else 'JPEGs'} of 500x375"
        if len(paths) < args.batch_size:
            parser.error(f"{len(paths)} images are fewer than --batch-size ({args.batch_size})")
        sizes = [os.path.getsize(p) for p in paths]
        print(f"{what}, {min(sizes) // 1000}-{max(sizes) // 1000} KB (mean "
              f"{sum(sizes) / len(sizes) / 1000:.0f} KB), ready in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        for encoding in ("jpeg", "raw"):
            start, folder = time.perf_counter(), work / f"prepared_{encoding}"
            with warnings.catch_warnings():  # one folder: validation is the same images, as meant
                warnings.simplefilter("ignore", UserWarning)
                prepare(folder, dataset="folder", data_path=work / "source", progress=False,
                        workers=max(1, min(n_cores, len(paths) // 2000)), encoding=encoding)
            size_prepared = sum(f.stat().st_size for f in folder.glob("train.tfrecord-*"))
            print(f"prepared 256x256 shards, {encoding}: {size_prepared / len(paths) / 1000:.0f} KB "
                  f"per image, written in {time.perf_counter() - start:.1f} s")
        print(f"TensorFlow {tf.__version__}, {n_cores} cores, batch {args.batch_size}, "
              f"{args.image_size}x{args.image_size} patches, best of {args.rounds} rounds of "
              f"{args.measure} images each")
        source = data.load_folder(work / "source")
        size = dict(batch_size=args.batch_size, image_size=args.image_size)
        pipelines = {
            "straightforward": straightforward_pipeline(paths, **size),
            "straightforward parallel": straightforward_pipeline(paths, parallel=True, **size),
            "ours, from JPEG": augment.training_pipeline(source, **size),
            "ours, cached 256x256": augment.training_pipeline(source, cache=True, **size),
            "ours, prepared 256x256": augment.training_pipeline(
                load_prepared(work / "prepared_jpeg", "train"), **size),
            "ours, prepared raw": augment.training_pipeline(
                load_prepared(work / "prepared_raw", "train"), **size),
        }
        epoch = -(-len(paths) // args.batch_size)
        results = _measure(pipelines, epoch, max(1, -(-args.measure // args.batch_size)), args)
    # The reference: whichever straightforward pipeline did more per CPU-second in this run (the
    # serial one sometimes does: a parallel map costs some CPU time in its threads).
    base = max(results["straightforward"][1], results["straightforward parallel"][1])
    print(f"{'pipeline':26s} {'images/s':>9s} {'images/s per core':>18s} {'vs best (a)':>12s}")
    for name, (rate, per_core) in results.items():
        print(f"{name:26s} {rate:9.0f} {per_core:18.0f} {per_core / base:11.2f}x")
    print("(per core: images per CPU-second of this process, all threads counted; ratios against "
          "the better of the two straightforward pipelines per core)")
    ours, prepared_rate = results["ours, from JPEG"][1], results["ours, prepared 256x256"][1]
    print(f"ratio_vs_straightforward={ours / base:.2f}")
    print(f"prepared_ratio_vs_straightforward={prepared_rate / base:.2f}")
    raw_rate = results["ours, prepared raw"][1]
    print(f"prepared_raw_ratio_vs_straightforward={raw_rate / base:.2f}")
    print(f"prepared_images_per_second_per_core={prepared_rate:.0f}")
    print(f"prepared_raw_images_per_second_per_core={raw_rate:.0f}")
    print(f"images_per_second_per_core={ours:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
