"""Workarounds for Keras bugs, each with the upstream issue it works around; remove when fixed upstream."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def multi_worker_fixes(model, strategy):
    """Make Keras 3's ``fit`` work under ``MultiWorkerMirroredStrategy`` (two upstream bugs).

    Two spots fail, and only with several workers:
    1. keras-team/keras#20585: before training, Keras builds the model from one batch, which it
       first *reduces across the workers* just to learn its shapes; the collective rejects the
       per-replica batch ("Attempt to convert a value (PerReplica...)"). One local replica's batch
       has the same shapes.
    2. tensorflow/tensorflow#72388: after each step, Keras averages the metric values across
       workers with ``axis=0``, which scalars lack ("Invalid reduction dimension 0"). Scalars are
       averaged with ``axis=None``.
    Both patches are in force only for this ``fit`` with this strategy; other strategies run
    Keras' own code. ``tests/test_train_distributed.py::test_two_workers_fail_without_the_fixes``
    is a strict xfail: when a Keras or TensorFlow upgrade fixes both, it fails, and this context
    manager can go.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        yield
        return
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    def local_value(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(local_value, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    original_reduce = keras_tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy_, reduction):
        if strategy_ is not strategy or reduction not in ("auto", "mean"):
            return original_reduce(values, strategy_, reduction)

        def mean(value):
            scalar = getattr(value, "shape", None) is not None and value.shape.rank == 0
            return strategy.reduce("MEAN", value, axis=None if scalar else 0)

        return tf.nest.map_structure(mean, values)

    model._maybe_symbolic_build = build
    keras_tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        keras_tf_trainer.reduce_per_replica = original_reduce
        del model._maybe_symbolic_build
