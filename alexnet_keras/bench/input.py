"""``python -m alexnet_keras bench input``: images per second of the training input pipeline.

Writes ImageNet-sized JPEGs (500x375, about 70-110 KB, textured so that they compress like photos)
to a temporary folder and times, on the same files in the same run:

1. a straightforward pipeline: read, full ``decode_jpeg``, resize the shorter side to 256, central
   256 crop, random crop, flip, one image at a time (as most tutorials write it), and the same
   with a parallel map and prefetch;
2. ours from the JPEGs (``augment.training_pipeline``): decode only the crop window, resize it,
   flip, PCA lighting, mean subtraction (Section 2 and 4.1 of the paper);
3. ours from images cached at 256x256, as the paper stored them (``cache=True``).

Prints images/s and images/s per core for each; the last line is
``images_per_second_per_core=N`` for pipeline 2 (from full-size JPEGs).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alexnet_keras bench input",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=256,
                        help="JPEGs to write (default 256; more gives steadier figures)")
    parser.add_argument("--measure", type=int, default=512,
                        help="images timed per pipeline and round, after a warm-up (default 512)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timing rounds per pipeline; the best round counts (default 3)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=227)
    parser.add_argument("--dir", default=None, help="folder for the JPEGs (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.images < args.batch_size:
        parser.error(f"--images ({args.images}) must be at least --batch-size ({args.batch_size})")

    import tensorflow as tf

    from alexnet_keras import data
    from alexnet_keras.data import augment

    n_cores = cores()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp) / "bench_input" / "images"
        start = time.perf_counter()
        paths = write_jpegs(folder, args.images)
        sizes = [os.path.getsize(p) for p in paths]
        print(f"wrote {len(paths)} JPEGs of 500x375, {min(sizes) // 1000}-{max(sizes) // 1000} KB "
              f"(mean {sum(sizes) / len(sizes) / 1000:.0f} KB) in {time.perf_counter() - start:.1f} s")
        print(f"TensorFlow {tf.__version__}, {n_cores} cores, batch {args.batch_size}, "
              f"{args.image_size}x{args.image_size} patches, best of {args.rounds} rounds of "
              f"{args.measure} images each")
        source = data.load_folder(folder.parent)
        size = dict(batch_size=args.batch_size, image_size=args.image_size)
        pipelines = {
            "straightforward": straightforward_pipeline(paths, **size),
            "straightforward parallel": straightforward_pipeline(paths, parallel=True, **size),
            "ours, from JPEG": augment.training_pipeline(source, **size),
            "ours, cached 256x256": augment.training_pipeline(source, cache=True, **size),
        }
        epoch = -(-len(paths) // args.batch_size)
        batches = max(1, -(-args.measure // args.batch_size))
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
    base = results["straightforward"][1]
    print(f"{'pipeline':26s} {'images/s':>9s} {'images/s per core':>18s} {'vs straightforward':>19s}")
    for name, (rate, per_core) in results.items():
        print(f"{name:26s} {rate:9.0f} {per_core:18.0f} {per_core / base:18.2f}x")
    print("(per core: images per CPU-second of this process, all threads counted)")
    print(f"images_per_second_per_core={results['ours, from JPEG'][1]:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
