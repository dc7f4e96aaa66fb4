"""Top-1 and top-5 error of a checkpoint, from the centre crop and from ten crops (Section 4.1).

"At test time, the network makes a prediction by extracting five 224x224 patches (the four corner
patches and the center patch) as well as their horizontal reflections (hence ten patches in all),
and averaging the predictions made by the network's softmax layer on the ten patches."

Several checkpoints make an ensemble whose softmax outputs are averaged (Section 6: "Averaging the
predictions of five similar CNNs gives an error rate of 16.4%").
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from alexnet_keras.checks import check_choice
from alexnet_keras.model.preprocessing import PREPROCESSING_MODES, preprocess_input
from alexnet_keras.training.metrics import top_k_errors

CROPS = ("center", "ten", "both")


def _check_softmax(model) -> None:
    activation = getattr(model.layers[-1], "activation", None)
    if getattr(activation, "__name__", None) != "softmax":
        raise ValueError(f"an ensemble averages softmax outputs (Section 6), but model "
                         f"{model.name!r} ends in {model.layers[-1].name!r} without a softmax; "
                         f"build it with classifier_activation='softmax'")


def ensemble_predict(models, images):
    """The mean of the models' softmax outputs for ``images`` (Section 6); one model: its output."""
    import tensorflow as tf

    models = list(models) if isinstance(models, (list, tuple)) else [models]
    outputs = [tf.cast(model(images, training=False), tf.float32) for model in models]
    return outputs[0] if len(outputs) == 1 else tf.add_n(outputs) / len(outputs)


def _predict(model, images):
    return ensemble_predict(model, images)


def evaluate_model(model, dataset, *, ten_crops: bool = False, steps: int | None = None) -> dict:
    """Top-1 and top-5 error of ``model`` (or a list of models: an ensemble) on ``dataset``.

    ``dataset`` yields ``(images, labels)``: images ``[B, S, S, 3]`` (one crop) or
    ``[B, 10, S, S, 3]`` (ten crops, whose softmax outputs are averaged per image). An ensemble's
    models must end in a softmax; their outputs are averaged (Section 6).
    Returns ``{"top1_error", "top5_error", "examples"}``.
    """
    import tensorflow as tf

    if isinstance(model, (list, tuple)) and len(model) > 1:
        for member in model:
            _check_softmax(member)
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


def load_checkpoint(path):
    """``keras.models.load_model(path)``; ``ValueError`` in one sentence for a file that is not a
    ``.keras`` checkpoint (a folder, weights only, a truncated or other file)."""
    import zipfile

    import keras

    import alexnet_keras  # noqa: F401  (registers the custom layers, metrics and optimiser)

    path = os.fspath(path)
    use = "pass a .keras file that train wrote (RUN/checkpoints/best.keras or last.keras)"
    if os.path.isdir(path):
        raise ValueError(f"checkpoint {path} is a folder; {use}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist; {use}")
    if path.endswith(".weights.h5"):
        raise ValueError(f"{path} holds weights only, not a model; pass it as --weights {path} "
                         "with the --variant it was saved from")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a .keras checkpoint (not a zip archive: truncated, or "
                         f"another format); {use}")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises several types for damaged archives
        first = str(error).strip().split(". ")[0].splitlines()[0][:200] if str(error) else ""
        raise ValueError(f"{path} cannot be loaded as a Keras model ({type(error).__name__}: "
                         f"{first}); {use}") from None


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
    data_path: str | None = None,
    skip_corrupt: bool = False,
    preprocessing: str = "paper",
    validation_split: float = 0.1,
    allow_class_mismatch: bool = False,
) -> dict:
    """Top-1/top-5 error of a ``.keras`` checkpoint (or a model, or a list of either: an ensemble
    whose softmax outputs are averaged, Section 6) on a dataset's split.

    ``preprocessing``: the ``preprocess_input`` mode the weights expect: ``"paper"`` (the mean
    subtraction of our trainer, the pipeline's default) or ``"torch"`` (torchvision's weights).

    ``data_path`` is the image folder of ``dataset="folder"``; ``skip_corrupt`` leaves unreadable
    images out (``data.load``); ``validation_split``: the share of each class such a folder without
    train/ and validation/ holds out as its validation split (as ``train`` did). A data set with another number of classes than the model's outputs
    is refused (its labels would not be the model's classes), and so are data whose class names
    differ from those a checkpoint recorded in training, or come in another order
    (``labels.check``), unless ``allow_class_mismatch``.

    ``crops``: ``"center"``, ``"ten"`` or ``"both"``. ``image_size`` defaults to the model's input.
    Returns ``{"center": {...}, "ten_crops": {...}}`` with the crops asked for.
    """
    check_choice("crops", crops, CROPS)
    import keras

    import alexnet_keras  # noqa: F401  (registers the custom layers, metrics and optimiser for loading)
    from alexnet_keras import data
    from alexnet_keras.data import augment

    check_choice("preprocessing", preprocessing, PREPROCESSING_MODES)
    checkpoints = list(checkpoint) if isinstance(checkpoint, (list, tuple)) else [checkpoint]
    models = [load_checkpoint(c) if isinstance(c, (str, os.PathLike)) else c for c in checkpoints]
    model = models[0]
    if any(m.input_shape != model.input_shape or m.output_shape != model.output_shape
           for m in models):
        raise ValueError(f"an ensemble's models need the same input and output shapes; received "
                         f"{[(m.input_shape, m.output_shape) for m in models]}")
    size = image_size or model.input_shape[1]
    source = data.load(dataset, split, data_dir=data_dir, manual_dir=manual_dir, path=data_path,
                       skip_corrupt=skip_corrupt, validation_split=validation_split)
    if source.num_classes != model.output_shape[-1]:
        # Fewer classes than outputs is wrong too: label k of this data set is another class
        # than the model's output k (torchvision's 1000 ImageNet outputs on a 3-class folder).
        raise ValueError(
            f"the data set {dataset!r} has {source.num_classes} classes but the checkpoint's model "
            f"has {model.output_shape[-1]} outputs, so its labels are not the model's classes; "
            "evaluate on the data set it was trained on (torchvision's weights: imagenet2012), "
            "or train on this one first"
        )
    from alexnet_keras.training import labels

    for c in checkpoints:
        if isinstance(c, (str, os.PathLike)):
            labels.check(os.fspath(c), labels.read(c), source.class_names, allow=allow_class_mismatch)
    results = {}
    for name, ten in (("center", False), ("ten_crops", True)):
        if crops == "both" or (crops == "ten") == ten:
            pipeline = augment.evaluation_pipeline(
                source.dataset, batch_size=batch_size, image_size=size, ten_crops=ten,
                **({"mean": (0.0, 0.0, 0.0)} if preprocessing != "paper" else {}),
            )
            if preprocessing != "paper":  # raw 0..255 patches, then the weights' own preprocessing
                pipeline = pipeline.map(
                    lambda images, labels: (preprocess_input(images, preprocessing), labels))
            results[name] = evaluate_model(models, pipeline, ten_crops=ten, steps=steps)
    return results


def format_results(results: dict) -> str:
    lines = [f"{'crops':<10}{'top-1 error':>12}{'top-5 error':>12}{'examples':>10}"]
    for name, values in results.items():
        lines.append(
            f"{name:<10}{values['top1_error']:>12.4f}{values['top5_error']:>12.4f}"
            f"{values['examples']:>10}"
        )
    return "\n".join(lines)


def predict_files(checkpoint, paths: list[str], *, top: int = 5, batch_size: int = 32) -> list[dict]:
    """The ``top`` classes of each image file (centre patch, the evaluation's preprocessing): a
    list of ``{"path", "classes": [(name, probability), ...]}``. Names are those the checkpoint
    recorded in training (``labels``), or ``class k`` for a checkpoint without a record."""
    import tensorflow as tf

    from alexnet_keras.data import augment
    from alexnet_keras.data.folder import check_image_file
    from alexnet_keras.training import labels

    model = load_checkpoint(checkpoint)
    record = labels.read(checkpoint)
    outputs = model.output_shape[-1]
    if record is None:
        print(f"note: {checkpoint} records no class names (written before they were kept); "
              "printing output indices", file=__import__("sys").stderr)
        names = [f"class {k}" for k in range(outputs)]
    else:
        names = list(record["class_names"])
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"image {path} does not exist; give image files (JPEG, PNG)")
        check_image_file(path)
    files = tf.data.Dataset.from_tensor_slices(list(paths)).map(lambda p: (tf.io.read_file(p), 0))
    pipeline = augment.evaluation_pipeline(files, batch_size=batch_size, image_size=model.input_shape[1])
    probabilities = np.concatenate([np.asarray(model(images, training=False)) for images, _ in pipeline])
    results = []
    for path, row in zip(paths, probabilities):
        best = np.argsort(-row)[: min(top, outputs)]
        results.append({"path": path, "classes": [(names[k], float(row[k])) for k in best]})
    return results
