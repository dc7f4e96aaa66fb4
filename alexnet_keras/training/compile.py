"""The trainer's ``model.compile``: the paper's optimiser, cross-entropy, top-1/top-5 error, and
whether the step is compiled with XLA on this machine.
"""

from __future__ import annotations

import sys

from alexnet_keras.training.keras_distribution import in_distribution
from alexnet_keras.training.optimizer import build_optimizer, learning_rate_schedule

# TensorFlow's XLA default on one device, by device kind. GPU and TPU: on, as XLA is what they are
# tuned for (not measured here: the borrowed GPU has no TensorFlow). CPU: by instruction set
# (``cpu_xla_default``); this entry is what this machine's CPU gets.
# bench train of the paper model (batch 64, 227x227, benchmarks/RESULTS.md and the closing notes):
# with AVX-512, XLA off was faster (1.10-1.18x on 2026-12-02, 1.20x on 2026-12-04); without it
# (AMD EPYC, AVX2), XLA on was (15.1 against 11.2 images/s, 2026-12-06).


def cpu_has_avx512(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has AVX-512 (the ``avx512f`` flag of ``/proc/cpuinfo``; False where that
    file does not exist, as on macOS and Windows)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as handle:
                cpuinfo = handle.read()
        except OSError:
            return False
    return any(line.startswith("flags") and " avx512f" in f" {line.split(':', 1)[-1]} "
               for line in cpuinfo.splitlines())


def cpu_xla_default(avx512: bool | None = None) -> bool:
    """TensorFlow's XLA default on a CPU: off with AVX-512 (TensorFlow's oneDNN kernels win there),
    on without it (XLA's own kernels win on AVX2); ``avx512`` defaults to this CPU's."""
    return not (cpu_has_avx512() if avx512 is None else avx512)


TF_XLA_DEFAULT = {"cpu": cpu_xla_default(), "gpu": True, "tpu": True}


def xla_enabled(xla: bool | None, distributed: bool, *, backend: str = "tensorflow",
                device: str = "cpu", avx512: bool | None = None) -> bool:
    """Whether the training step is compiled with XLA (``jit_compile``).

    ``xla`` when it is given. By default (``None``), the faster setting measured for the backend and
    the device (``bench train``, benchmarks/RESULTS.md): on jax, always on (without ``jax.jit``
    every operation is dispatched one by one); on tensorflow, ``TF_XLA_DEFAULT[device]`` on one
    device (on a CPU: off with AVX-512, on without, ``cpu_xla_default``), and off under a
    ``tf.distribute`` strategy (MirroredStrategy, MultiWorkerMirroredStrategy, TPU), as Keras itself
    leaves it there; ``--xla`` turns it on.
    """
    if xla is not None:
        return bool(xla)
    if backend == "jax":
        return True
    default = cpu_xla_default(avx512) if device == "cpu" else TF_XLA_DEFAULT.get(device, True)
    return not distributed and default


def device_kind() -> str:
    """``"gpu"``, ``"tpu"`` or ``"cpu"``: the devices Keras trains on."""
    import keras

    if keras.backend.backend() == "torch":  # keras.distribution has no torch implementation
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return keras.distribution.list_devices()[0].split(":")[0].lower()


def compile_model(model, config: TrainConfig, learning_rate: float, steps_per_epoch: int):
    """Compile with the paper's optimiser, the schedule, cross-entropy and top-1/top-5 error.

    Call it inside ``strategy.scope()``: whether a strategy is in scope decides the default XLA
    setting (``xla_enabled``). Returns the learning rate or schedule the optimiser follows.
    """
    import keras

    from alexnet_keras.training.metrics import TopKError

    rate = learning_rate_schedule(
        config.schedule, learning_rate, steps_per_epoch=steps_per_epoch, epochs=config.epochs,
        step_epochs=config.step_epochs, drop_factor=config.lr_drop_factor,
        warmup_epochs=config.warmup_epochs,
    )
    optimizer = build_optimizer(
        rate, momentum=config.momentum, weight_decay=config.weight_decay,
        weight_decay_mode=config.weight_decay_mode,
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(),  # the model ends in softmax
        metrics=[TopKError(1), TopKError(5)],
        jit_compile=xla_enabled(config.xla, distributed=_distributed(), backend=keras.backend.backend(),
                                device=device_kind()),
    )
    return rate


def _distributed() -> bool:
    """True inside a ``tf.distribute`` strategy's scope (tensorflow) or a ``keras.distribution`` one."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.has_strategy()
    return in_distribution()


def progress_verbosity(verbose) -> int:
    """Keras' ``verbose``: ``"auto"`` is the progress bar (1) on a terminal and one line per epoch
    (2) otherwise, since the bar's carriage returns and escape codes garble logs and CI output."""
    if verbose != "auto":
        return int(verbose)
    return 1 if sys.stdout.isatty() else 2
