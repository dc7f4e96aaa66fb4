"""One Figure 1 training run: steps until the training error first falls to the threshold (Section 3.1).

The paper: "a four-layer convolutional neural network with ReLUs reaches a 25% training error rate
on CIFAR-10 six times faster than an equivalent network with tanh neurons", "the learning rates for
each network were chosen independently to make training as fast as possible. No regularization of
any kind was employed." So: plain SGD with momentum 0.9, no weight decay, no dropout, and the clock
is SGD steps. Runs through ``model.fit`` on whichever Keras backend is active.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras
import numpy as np

from alexnet_keras.model.architecture import small_convnet


@dataclass(frozen=True)
class Clock:
    """How a run is timed: every ``every`` steps the error on a fixed ``probe`` sample of the training
    set is measured; the run stops at the first measurement at or below ``threshold`` or after
    ``budget`` steps (then it is censored: never reached)."""

    threshold: float
    budget: int
    every: int
    batch_size: int = 128
    momentum: float = 0.9


class ThresholdClock(keras.callbacks.Callback):
    """Measures the training error on a fixed sample every ``every`` steps; stops training when it
    reaches the threshold, when the loss is not finite (diverged), or at ``limit`` steps."""

    def __init__(self, probe: tuple[np.ndarray, np.ndarray], clock: Clock, limit: int):
        super().__init__()
        self.probe, self.clock, self.limit = probe, clock, limit
        self.step = 0
        self.steps: list[int] = []
        self.errors: list[float] = []
        self.reached: int | None = None
        self.diverged = False

    def error(self) -> float:
        x, y = self.probe
        predictions = np.asarray(self.model.predict_on_batch(x))
        return float(np.mean(np.argmax(predictions, axis=-1) != y))

    def on_train_begin(self, logs=None):
        self.steps.append(0)
        self.errors.append(self.error())

    def on_train_batch_end(self, batch, logs=None):
        # The model runs ``every`` steps per call (steps_per_execution); the optimizer counts them.
        self.step = int(self.model.optimizer.iterations)
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged = True
            self.model.stop_training = True
            return
        if self.step - self.steps[-1] >= self.clock.every or self.step >= self.limit:
            self.steps.append(self.step)
            self.errors.append(self.error())
            if self.errors[-1] <= self.clock.threshold and self.step <= self.limit:
                self.reached = self.step
                self.model.stop_training = True
        if self.step >= self.limit:
            self.model.stop_training = True


def build(activation: str, init: str, input_shape: tuple[int, int, int], learning_rate: float,
          clock: Clock, steps_per_execution: int = 1) -> keras.Model:
    """The four-layer network with ``activation`` and initialisation ``init`` ("cuda-convnet" or
    "glorot"), compiled with SGD + momentum and no regularisation."""
    initializer = {"cuda-convnet": "cuda-convnet", "glorot": "keras"}[init]
    model = small_convnet(activation=activation, initializer=initializer, input_shape=input_shape)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=clock.momentum),
        loss="sparse_categorical_crossentropy",
        steps_per_execution=steps_per_execution,
    )
    return model


def train_run(x: np.ndarray, y: np.ndarray, probe: tuple[np.ndarray, np.ndarray], *,
              activation: str, init: str, learning_rate: float, seed: int, clock: Clock,
              limit: int | None = None) -> dict:
    """Trains one network from seed ``seed`` (weights and data order) until the threshold or
    ``limit`` steps (default: the clock's budget). Returns the run's record."""
    limit = clock.budget if limit is None else min(limit, clock.budget)
    keras.utils.set_random_seed(seed)
    model = build(activation, init, x.shape[1:], learning_rate, clock, steps_per_execution=clock.every)
    timer = ThresholdClock(probe, clock, limit)
    epochs = math.ceil(limit / math.ceil(len(x) / clock.batch_size))
    start = time.perf_counter()
    model.fit(x, y, batch_size=clock.batch_size, epochs=epochs, shuffle=True, verbose=0,
              callbacks=[timer])
    return {
        "steps_to_threshold": timer.reached,
        "final_train_error": timer.errors[-1],
        "steps_trained": timer.step,
        "budget_steps": limit,
        "diverged": timer.diverged,
        "seconds": round(time.perf_counter() - start, 2),
        "curve_steps": timer.steps,
        "curve_errors": [round(e, 5) for e in timer.errors],
    }


def saturated_fractions(model: keras.Model, images: np.ndarray) -> list[float]:
    """Per activation layer of the four-layer network, the fraction of saturated outputs on
    ``images``: tanh units with |output| > 0.9 (slope 1 - 0.9^2 = 0.19 or less), ReLUs at exactly 0
    (slope 0)."""
    activation = "tanh" if any(l.name == "tanh1" for l in model.layers) else "relu"
    taps = keras.Model(model.inputs, [model.get_layer(f"{activation}{i}").output for i in (1, 2, 3)])
    outputs = [np.asarray(o) for o in taps.predict_on_batch(images)]
    if activation == "tanh":
        return [float(np.mean(np.abs(o) > 0.9)) for o in outputs]
    return [float(np.mean(o == 0)) for o in outputs]


def start_measures(x: np.ndarray, y: np.ndarray, probe: tuple[np.ndarray, np.ndarray], *, activation: str,
                   init: str, learning_rate: float, seed: int, clock: Clock, steps: int = 10) -> dict:
    """What the start looks like, per layer: the fraction of saturated units at step 0 (tanh:
    |output| > 0.9, where the slope is below 0.19; ReLU: output exactly 0) on the probe images, and
    the relative change |W_t - W_0| / |W_0| of each kernel over the first ``steps`` SGD steps (the
    update-to-weight ratio), at the run's learning rate."""
    keras.utils.set_random_seed(seed)
    model = build(activation, init, x.shape[1:], learning_rate, clock)
    names = [f"{activation}{i}" for i in (1, 2, 3)]
    saturated = saturated_fractions(model, probe[0])
    kernels = ["conv1", "conv2", "conv3", "fc4"]
    before = [np.array(model.get_layer(k).kernel) for k in kernels]
    n = steps * clock.batch_size
    model.fit(x[:n], y[:n], batch_size=clock.batch_size, epochs=1, shuffle=False, verbose=0)
    after = [np.array(model.get_layer(k).kernel) for k in kernels]
    change = [float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(after, before)]
    record = {f"saturated_{name[-1]}": s for name, s in zip(names, saturated)}
    record.update({f"update_ratio_{k}": c for k, c in zip(kernels, change)})
    return record

