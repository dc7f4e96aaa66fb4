"""Writes results/demo/'s small result files from a finished ``train --demo`` run (notebook 04 reads them).

    python -m alexnet_keras train --demo --output /tmp/demo_run
    python tools/demo_results.py /tmp/demo_run

Files written into results/demo/ (results hold data; this tool made them):

- ``training_log.csv``: the run's per-epoch log, copied;
- ``training_curves.png``: that log drawn by ``plot_history`` (the README's figure);
- ``conv1_kernels.npy``: conv1's weights of ``checkpoints/best.keras``, ``[11, 11, 3, 96]`` float16;
- ``nearest_neighbours.npz``: for 8 held-out query images (the first of each of 8 classes), the 6
  training images with the nearest fc7 features (Euclidean, fc7 after its ReLU; the paper's
  Figure 4): indices, distances, labels, class names and 64x64 uint8 thumbnails of the 99x99 centre
  patches the network saw;
- ``metrics.json``: the checkpoint's validation ("held_out") top-1 / top-5 error (centre patch and
  ten patches), the run's ``test_metrics.json`` (test split: the validation-chosen and last epochs), and
  how often a held-out image's 6 nearest training images share its class, by fc7 features and, for
  comparison, by raw pixels (all 300 held-out images as queries).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parents[1] / "results" / "demo"
QUERIES, NEIGHBOURS, THUMBNAIL = 8, 6, 64


def training_log(path):
    from alexnet_keras.plots import read_csv_log

    return read_csv_log(path)


def centre_patches(source, image_size: int):
    """All images of ``source`` as mean-subtracted centre patches (the evaluation input), and labels."""
    from alexnet_keras.data import augment

    batches = list(augment.evaluation_pipeline(source.dataset, batch_size=100, image_size=image_size))
    return (np.concatenate([b[0].numpy() for b in batches]),
            np.concatenate([b[1].numpy() for b in batches]))


def nearest(query_vectors, database_vectors, k: int):
    """Indices and Euclidean distances of the ``k`` nearest database vectors of each query."""
    squared = ((query_vectors ** 2).sum(1)[:, None] - 2 * query_vectors @ database_vectors.T
               + (database_vectors ** 2).sum(1)[None, :])
    distances = np.sqrt(np.maximum(squared, 0))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


def main(run: str) -> None:
    import keras
    import tensorflow as tf

    import alexnet_keras  # noqa: F401  (registers the custom objects for load_model)
    from alexnet_keras import data
    from alexnet_keras.data import augment
    from alexnet_keras.training import evaluate

    run = Path(run)
    shutil.copyfile(run / "training_log.csv", HERE / "training_log.csv")
    from alexnet_keras.plots import plot_history

    plot_history(HERE / "training_log.csv", HERE / "training_curves.png")
    config = json.loads((run / "config.json").read_text())["config"]
    log = training_log(run / "training_log.csv")
    checkpoint = run / "checkpoints" / "best.keras"
    model = keras.models.load_model(checkpoint, compile=False)
    size = model.input_shape[1]

    np.save(HERE / "conv1_kernels.npy", model.get_layer("conv1").kernel.numpy().astype("float16"))

    train, held_out = data.load("offline", "train"), data.load("offline", "validation")
    database, database_labels = centre_patches(train, size)
    queries_all, query_labels_all = centre_patches(held_out, size)
    features = keras.Model(model.input, model.get_layer("relu7").output)  # fc7 after its ReLU
    database_features = features.predict(database, batch_size=100, verbose=0)
    query_features = features.predict(queries_all, batch_size=100, verbose=0)

    # Over all held-out images: how often do the 6 nearest training images share the query's class?
    fc7_order, _ = nearest(query_features, database_features, NEIGHBOURS)
    pixel_order, _ = nearest(queries_all.reshape(len(queries_all), -1),
                             database.reshape(len(database), -1), NEIGHBOURS)
    same = lambda order: float((database_labels[order] == query_labels_all[:, None]).mean())  # noqa: E731

    picks = np.array([int(np.flatnonzero(query_labels_all == c)[0]) for c in range(QUERIES)])
    order, distances = nearest(query_features[picks], database_features, NEIGHBOURS)

    def thumbnails(patches):
        pixels = np.clip(patches + np.asarray(augment.IMAGENET_MEAN), 0, 255)
        small = tf.image.resize(pixels, (THUMBNAIL, THUMBNAIL), antialias=True).numpy()
        return np.round(small).astype("uint8")

    np.savez_compressed(
        HERE / "nearest_neighbours.npz",
        query_index=picks, query_label=query_labels_all[picks], query_image=thumbnails(queries_all[picks]),
        neighbour_index=order, neighbour_label=database_labels[order],
        neighbour_image=thumbnails(database[order.ravel()]).reshape(*order.shape, THUMBNAIL, THUMBNAIL, 3),
        distance=distances.astype("float32"), class_names=np.array(train.class_names),
    )

    results = evaluate(model, dataset="offline", split="validation", batch_size=100)
    metrics = {
        "checkpoint": "checkpoints/best.keras",
        "image_size": size,
        "epochs": config["epochs"],
        "best_epoch": int(np.argmin(log["val_top1_error"])) + 1,
        "held_out": {crops: {k: round(float(v), 4) if k != "examples" else int(v) for k, v in r.items()}
                     for crops, r in results.items()},
        # The test split (5,000 images, chosen on nothing): the validation-chosen and last epochs.
        "test": (json.loads((run / "test_metrics.json").read_text())
                 if (run / "test_metrics.json").exists() else None),
        "neighbours_same_class": {"k": NEIGHBOURS, "queries": int(len(queries_all)),
                                  "database": int(len(database)),
                                  "fc7": round(same(fc7_order), 4), "pixels": round(same(pixel_order), 4),
                                  "chance": round(1 / len(train.class_names), 4)},
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(json.dumps(metrics, indent=1))
    for path in sorted(HERE.iterdir()):
        print(f"{path.name:<26}{path.stat().st_size:>9,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python {sys.argv[0]} RUN_FOLDER (the --output of train --demo)")
    main(sys.argv[1])
