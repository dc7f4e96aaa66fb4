"""Top-1 and top-5 error of a checkpoint, from the centre crop and from ten crops (Section 4.1).

"At test time, the network makes a prediction by extracting five 224x224 patches (the four corner
patches and the center patch) as well as their horizontal reflections (hence ten patches in all),
and averaging the predictions made by the network's softmax layer on the ten patches."
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from alexnet_keras.training.metrics import top_k_errors


def _predict(model, images):
    return model(images, training=False)


def evaluate_model(model, dataset, *, ten_crops: bool = False, steps: int | None = None) -> dict:
    """Top-1 and top-5 error of ``model`` on ``dataset``.

    ``dataset`` yields ``(images, labels)``: images ``[B, S, S, 3]`` (one crop) or
    ``[B, 10, S, S, 3]`` (ten crops, whose softmax outputs are averaged per image).
    Returns ``{"top1_error", "top5_error", "examples"}``.
    """
    import tensorflow as tf

    predict = tf.function(lambda x: _predict(model, x), reduce_retracing=True)
    scores, labels = [], []
    for index, (images, batch_labels) in enumerate(dataset):
        if steps is not None and index >= steps:
            break
        if ten_crops:
            batch, crops = images.shape[0], images.shape[1]
            flat = tf.reshape(images, [-1, *images.shape[2:]])
            probabilities = tf.reshape(predict(flat), [batch, crops, -1])
            probabilities = tf.reduce_mean(tf.cast(probabilities, tf.float32), axis=1)
        else:
            probabilities = tf.cast(predict(images), tf.float32)
        scores.append(probabilities.numpy())
        labels.append(np.asarray(batch_labels))
    if not scores:
        raise ValueError("the evaluation dataset is empty")
    scores, labels = np.concatenate(scores), np.concatenate(labels)
    return {**top_k_errors(scores, labels), "examples": int(len(labels))}


def evaluate(
    checkpoint,
    *,
    dataset: str = "imagenet2012",
    split: str = "validation",
    data_dir: str | None = None,
    manual_dir: str | None = None,
    batch_size: int = 128,
    image_size: int | None = None,
    crops: str = "both",
    steps: int | None = None,
) -> dict:
    """Top-1/top-5 error of a ``.keras`` checkpoint (or a model) on a dataset's split.

    ``crops``: ``"center"``, ``"ten"`` or ``"both"``. ``image_size`` defaults to the model's input.
    Returns ``{"center": {...}, "ten_crops": {...}}`` with the crops asked for.
    """
    if crops not in ("center", "ten", "both"):
        raise ValueError(f"crops must be 'center', 'ten' or 'both'; received {crops!r}")
    import keras

    import alexnet_keras  # noqa: F401  (registers the custom layers, metrics and optimiser for loading)
    from alexnet_keras import data
    from alexnet_keras.data import augment

    model = keras.models.load_model(checkpoint, compile=False) if isinstance(checkpoint, str) else checkpoint
    size = image_size or model.input_shape[1]
    source = data.load(dataset, split, data_dir=data_dir, manual_dir=manual_dir)
    results = {}
    for name, ten in (("center", False), ("ten_crops", True)):
        if crops == "both" or (crops == "ten") == ten:
            pipeline = augment.evaluation_pipeline(
                source.dataset, batch_size=batch_size, image_size=size, ten_crops=ten
            )
            results[name] = evaluate_model(model, pipeline, ten_crops=ten, steps=steps)
    return results


def format_results(results: dict) -> str:
    lines = [f"{'crops':<10}{'top-1 error':>12}{'top-5 error':>12}{'examples':>10}"]
    for name, values in results.items():
        lines.append(
            f"{name:<10}{values['top1_error']:>12.4f}{values['top5_error']:>12.4f}"
            f"{values['examples']:>10}"
        )
    return "\n".join(lines)
