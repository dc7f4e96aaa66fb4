"""The trainer's default data and model for a ``TrainConfig``: ``data.load`` + ``augment`` pipelines
(tf.data, on every backend) and ``alexnet`` with the config's options."""

from __future__ import annotations

from alexnet_keras.training import distribute
from alexnet_keras.training.config import TrainConfig


def _default_datasets(config: TrainConfig, start_epoch: int, global_batch: int):
    """Training stream (infinite, starting at ``start_epoch``), steps per epoch, validation data and
    number of classes, from ``alexnet_keras.data`` and ``alexnet_keras.augment``."""
    from alexnet_keras import data
    from alexnet_keras.data import augment

    image_size = _image_size(config)
    where = dict(data_dir=config.data_dir, manual_dir=config.manual_dir, path=config.data_path,
                 skip_corrupt=config.skip_corrupt)
    lighting = {}
    if config.prepared:  # the 256x256 shards of `prepare` (Section 2), same pipelines
        from alexnet_keras.data.prepared import load_prepared, prepared_info

        load = lambda split: load_prepared(config.prepared, split)  # noqa: E731
        # Section 4.1: the lighting follows the PCA of this training set's own RGB values, which
        # prepare recorded. The mean stays the per-channel default that evaluate and predict
        # subtract too (preprocess_input(mode="paper")).
        info = prepared_info(config.prepared)
        lighting = dict(eigenvalues=info.eigenvalues_unit_scale, eigenvectors=info.eigenvectors)
    else:
        load = lambda split: data.load(config.dataset, split, **where)  # noqa: E731
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
        source, batch_size=global_batch, image_size=image_size, seed=config.seed,
        start_epoch=start_epoch, num_examples=num_examples, cache=config.cache,
        random_crops=config.random_crops, flip=config.flip, lighting_std=config.lighting_std,
        **lighting,
    )
    validation = load("validation")
    val_ds = augment.evaluation_pipeline(
        validation, batch_size=global_batch, image_size=image_size, cache=config.cache
    )
    return train_ds, steps, val_ds, len(train.class_names)


def _image_size(config: TrainConfig) -> int:
    if config.image_size:
        return config.image_size
    return 224 if config.variant == "torchvision" else 227


def _default_model(config: TrainConfig, num_classes: int):
    from alexnet_keras.model.architecture import alexnet

    size = _image_size(config)
    return alexnet(
        config.variant, classes=num_classes, input_shape=(size, size, 3),
        activation=config.activation, normalization=config.normalization,
        initializer=config.initializer, dropout=config.dropout,
        overlapping_pooling=config.overlapping_pooling,
        tower_implementation=config.tower_implementation,
    )
