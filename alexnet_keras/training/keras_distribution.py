"""Where training runs on the JAX backend: ``keras.distribution.DataParallel`` over the local devices.

On TensorFlow, ``fit`` takes a ``tf.distribute.Strategy`` (``distribute.make_strategy``). On JAX the
same data parallelism is Keras' own ``keras.distribution.DataParallel``: every local device holds a
copy of the variables, each takes its slice of the global batch, and the gradients are averaged
before the update, so one step on N devices equals one step on one device with the global batch.
``KerasDistribution`` gives ``fit`` what it reads of a strategy (``num_replicas_in_sync`` and
``scope()``), so the global batch and the learning-rate rule of ``distribute`` hold unchanged.

What ``tf.distribute`` offers and this does not (several hosts through ``TF_CONFIG``, the TPU
strategy) is refused with one line naming the alternative (``--backend tensorflow``).
"""

from __future__ import annotations

import contextlib
import os

from alexnet_keras.checks import check_choice
from alexnet_keras.training.distribute import STRATEGIES


class KerasDistribution:
    """``keras.distribution`` behind the two things ``fit`` uses of a ``tf.distribute.Strategy``.

    ``distribution`` is a ``keras.distribution.DataParallel``, or None for one device.
    """

    def __init__(self, distribution=None):
        self.distribution = distribution

    @property
    def num_replicas_in_sync(self) -> int:
        if self.distribution is None:
            return 1
        return int(self.distribution.device_mesh.shape[0])

    def scope(self):
        """Build, compile and ``model.fit`` inside it: variables and batches are laid out on the
        devices while it is open."""
        return self.distribution.scope() if self.distribution is not None else contextlib.nullcontext()


def refuse_unsupported(name: str, *, backend: str, tpu: str | None = None) -> None:
    """``ValueError`` (one line, naming the alternative) for what the non-TensorFlow backends lack."""
    check_choice("strategy", name, STRATEGIES)
    if os.environ.get("TF_CONFIG"):
        raise ValueError(
            f"TF_CONFIG (several workers under tf.distribute) is read by the tensorflow backend "
            f"only, not {backend}: train with --backend tensorflow, or unset TF_CONFIG to train on "
            f"this host's devices")
    if name == "multi_worker":
        raise ValueError(f"--strategy multi_worker is tf.distribute's MultiWorkerMirroredStrategy, "
                         f"not available on {backend}: use --backend tensorflow")
    if name == "tpu" or tpu:
        raise ValueError(f"--strategy tpu and --tpu-address are tf.distribute's TPUStrategy, not "
                         f"available on {backend}: use --backend tensorflow, or on a TPU VM "
                         f"--backend jax --strategy auto (its local TPU cores, data parallel)")
    if backend != "jax" and name == "mirrored":
        raise ValueError(f"--strategy mirrored on {backend} is not supported (keras.distribution "
                         f"is JAX's): use --backend jax or --backend tensorflow")


def make_distribution(name: str = "auto", *, backend: str = "jax", tpu: str | None = None,
                      devices: list | None = None) -> KerasDistribution:
    """The ``KerasDistribution`` for a ``--strategy`` name on ``backend``.

    ``"auto"``: data parallel over every local device when there are several, else one device;
    ``"mirrored"``: data parallel over ``devices`` (default: every local device); ``"default"``:
    one device. Multi-worker and TPU strategies are refused (``refuse_unsupported``).
    """
    refuse_unsupported(name, backend=backend, tpu=tpu)
    if name == "default" or backend != "jax":
        return KerasDistribution(None)
    import keras

    devices = devices or keras.distribution.list_devices()
    if name == "auto" and len(devices) < 2:
        return KerasDistribution(None)
    return KerasDistribution(keras.distribution.DataParallel(devices=devices))


def in_distribution() -> bool:
    """True inside a ``keras.distribution`` scope (or with one set globally)."""
    import keras

    return keras.distribution.distribution() is not None


def fit_scope(strategy):
    """``strategy.scope()`` for a ``KerasDistribution`` (``model.fit`` must run inside it on JAX);
    a no-op for a ``tf.distribute`` strategy, whose scope Keras enters itself."""
    if isinstance(strategy, KerasDistribution):
        return strategy.scope()
    return contextlib.nullcontext()


__all__ = ["KerasDistribution", "fit_scope", "in_distribution", "make_distribution",
           "refuse_unsupported"]
