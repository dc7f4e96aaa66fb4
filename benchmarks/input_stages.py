"""Where the input pipeline's time goes: each stage alone, in images per CPU-second.

    python benchmarks/input_stages.py [--images DIR] [--measure 1024] [--rounds 3]

On the same JPEGs as ``bench input`` (by default 256 of scikit-image's photographs as 500x375
JPEGs; ``--images DIR`` for your own), it times, each as a parallel ``tf.data`` map and batch of 64:
a full ``decode_jpeg``; ``decode_and_crop_jpeg`` of a 227-patch's window of the central square;
the same plus the resize to 227x227 (``decode_patch``, what the training pipeline does); the same
three on the prepared 256x256 JPEGs; reading the prepared raw pixels (``load_prepared`` alone);
and, on one batch, the broadcast add of one RGB triple per image with TensorFlow's kernels against
the XLA-compiled pass the training pipeline uses. benchmarks/RESULTS.md quotes its output.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=None, metavar="DIR")
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--measure", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    import tensorflow as tf

    from alexnet_keras.bench.input import _image_folder, time_batches, write_photographs
    from alexnet_keras.data.decode import DCT_METHOD, decode_patch
    from alexnet_keras.data.prepared import load_prepared
    from alexnet_keras.data.prepared_build import prepare

    batch, autotune = 64, tf.data.AUTOTUNE
    batches = max(1, args.measure // batch)

    def per_core(dataset) -> float:
        iterator = iter(dataset.batch(batch).prefetch(autotune))
        for _ in range(2):
            next(iterator)
        return max(time_batches(iterator, batches, batch)[1] for _ in range(args.rounds))

    def mapped(encoded: tf.data.Dataset, fn) -> float:
        return per_core(encoded.map(fn, num_parallel_calls=autotune))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.images:
            paths = _image_folder(args.images, work / "source")
        else:
            paths = write_photographs(work / "source" / "images", args.count)
        for encoding in ("jpeg", "raw"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                prepare(work / encoding, dataset="folder", data_path=work / "source",
                        progress=False, workers=1, encoding=encoding)
        originals = tf.data.Dataset.from_tensor_slices(paths).map(tf.io.read_file).cache().repeat()
        squares = load_prepared(work / "jpeg").dataset.map(lambda e, y: e).cache().repeat()

        def window(height, width):  # the window of the central square's patch at (14, 14)
            side = tf.minimum(height, width)
            size = side * 227 // 256
            return tf.stack([(height - side) // 2 + side * 14 // 256,
                             (width - side) // 2 + side * 14 // 256, size, size])

        def crop(encoded):
            shape = tf.image.extract_jpeg_shape(encoded)
            return tf.image.decode_and_crop_jpeg(encoded, window(shape[0], shape[1]), channels=3,
                                                 dct_method=DCT_METHOD)

        figures = {}
        for name, encoded in (("original JPEGs", originals), ("prepared 256x256 JPEGs", squares)):
            figures[f"{name}: decode_jpeg, whole image"] = mapped(
                encoded, lambda e: tf.io.decode_jpeg(e, channels=3, dct_method=DCT_METHOD))
            figures[f"{name}: decode_and_crop_jpeg, the patch's window"] = mapped(encoded, crop)
            figures[f"{name}: decode_patch (window + resize to 227)"] = mapped(
                encoded, lambda e: decode_patch(e, 14, 14, image_size=227))
        figures["prepared raw pixels: load_prepared alone (read, parse, decode_raw)"] = per_core(
            load_prepared(work / "raw").dataset.repeat())

    print(f"{len(paths)} images; images per CPU-second, best of {args.rounds} rounds of "
          f"{batches * batch}")
    for name, rate in figures.items():
        print(f"{name:72s} {rate:7.0f}")

    patches = tf.cast(tf.random.uniform([batch, 227, 227, 3], 0, 255), tf.uint8)
    shift = tf.random.normal([batch, 3])
    plain = tf.function(lambda p, s: tf.cast(p, tf.float32) + s[:, None, None, :])
    fused = tf.function(lambda p, s: tf.cast(p, tf.float32) + s[:, None, None, :],
                        jit_compile=True)
    for name, fn in (("TensorFlow's kernels", plain), ("one XLA-compiled pass", fused)):
        fn(patches, shift)
        start = time.process_time()
        for _ in range(20):
            fn(patches, shift)
        milliseconds = (time.process_time() - start) / 20 * 1000
        print(f"cast and add one RGB triple per image, batch of {batch}, {name}: "
              f"{milliseconds:.1f} CPU-ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
