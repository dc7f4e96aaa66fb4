"""The paper's optimiser and the learning-rate schedules (Section 5).

The paper's update rule, for every weight ``w`` with gradient ``dL/dw`` (batch 128)::

    v <- 0.9 v - 0.0005 lr w - lr dL/dw
    w <- w + v

Keras' ``SGD(momentum=0.9)`` does ``v <- 0.9 v - lr g; w <- w + v``. Feeding it
``g = dL/dw + 0.0005 w`` gives the paper's rule exactly: the weight decay is *coupled*, it goes
through the momentum like the gradient does (it is the gradient of an L2 term ``0.0005/2 ||w||^2``).
``PaperSGD`` adds that term to the gradient inside the update step, so the loss the progress bar
shows stays the data loss. Keras' own ``weight_decay=`` argument is *decoupled* (AdamW-style,
``w <- w - lr wd w`` beside the momentum); ``build_optimizer(weight_decay_mode="decoupled")`` uses it.

Weight decay applies to kernels (variables with two or more dimensions), not to biases nor
batch-norm scales and offsets: cuda-convnet, the paper's code, sets its weight cost ``wc`` on the
weights only.
"""

from __future__ import annotations

import keras
from keras import ops

from alexnet_keras.checks import check_choice

SCHEDULES = ("paper", "step", "cosine", "constant")
WEIGHT_DECAY_MODES = ("coupled", "decoupled")


@keras.saving.register_keras_serializable(package="alexnet_keras")
class PaperSGD(keras.optimizers.SGD):
    """SGD with momentum and the paper's coupled weight decay (Section 5).

    ``v <- momentum v - coupled_weight_decay lr w - lr dL/dw``, ``w <- w + v`` for kernels;
    biases and other one-dimensional variables get no decay.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, coupled_weight_decay=5e-4, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        if coupled_weight_decay < 0:
            raise ValueError(
                f"coupled_weight_decay must be >= 0; received {coupled_weight_decay!r}"
            )
        self.coupled_weight_decay = float(coupled_weight_decay)

    def update_step(self, gradient, variable, learning_rate):
        if self.coupled_weight_decay and len(variable.shape) >= 2:
            gradient = ops.add(
                ops.cast(gradient, variable.dtype),
                ops.multiply(ops.cast(self.coupled_weight_decay, variable.dtype), variable),
            )
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config["coupled_weight_decay"] = self.coupled_weight_decay
        return config


def learning_rate_schedule(
    schedule: str,
    learning_rate: float,
    *,
    steps_per_epoch: int,
    epochs: int,
    step_epochs: int = 30,
    drop_factor: float = 0.1,
    warmup_epochs: int = 5,
):
    """The learning rate the optimiser is built with: a float or a ``LearningRateSchedule``.

    - ``"paper"`` and ``"constant"``: the float ``learning_rate``. For ``"paper"`` the
      ``PaperLearningRateDrops`` callback divides it by 10 when the validation error stops improving.
    - ``"step"``: multiplied by ``drop_factor`` every ``step_epochs`` epochs.
    - ``"cosine"``: linear warm-up from 0 over ``warmup_epochs``, then cosine decay to 0 at
      ``epochs`` (Goyal et al. 2017; Loshchilov & Hutter 2017).

    The schedules count optimiser steps, which the backup restores, so a resumed run continues on
    the same curve.
    """
    check_choice("schedule", schedule, SCHEDULES)
    if schedule in ("paper", "constant"):
        return float(learning_rate)
    if schedule == "step":
        if step_epochs < 1:
            raise ValueError(f"step_epochs must be >= 1; received {step_epochs}")
        # PiecewiseConstantDecay switches after step > boundary; epoch e begins at step e x steps.
        boundaries = [e * steps_per_epoch - 1 for e in range(step_epochs, epochs, step_epochs)]
        if not boundaries:
            return float(learning_rate)
        values = [float(learning_rate) * drop_factor**i for i in range(len(boundaries) + 1)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    warmup_steps = max(0, min(warmup_epochs, epochs - 1)) * steps_per_epoch
    decay_steps = max(1, epochs * steps_per_epoch - warmup_steps)
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(float(learning_rate), decay_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps, warmup_target=float(learning_rate), warmup_steps=warmup_steps
    )


def build_optimizer(
    learning_rate=0.01,
    *,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    weight_decay_mode: str = "coupled",
) -> keras.optimizers.Optimizer:
    """The paper's optimiser: SGD, momentum 0.9, weight decay 0.0005 coupled as in Section 5.

    ``learning_rate`` is a float or a schedule (``learning_rate_schedule``).
    ``weight_decay_mode="decoupled"`` gives Keras' AdamW-style decay instead (not the paper's).
    """
    check_choice("weight_decay_mode", weight_decay_mode, WEIGHT_DECAY_MODES)
    if weight_decay_mode == "coupled":
        return PaperSGD(learning_rate, momentum=float(momentum), coupled_weight_decay=weight_decay)
    optimizer = keras.optimizers.SGD(
        learning_rate, momentum=float(momentum), weight_decay=weight_decay or None
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
