"""``TrainConfig``: one training run, with the paper's recipe (Sections 4.2 and 5) as defaults, and the demo recipe."""

from __future__ import annotations

import dataclasses

from alexnet_keras.training import distribute
from alexnet_keras.training.optimizer import SCHEDULES, WEIGHT_DECAY_MODES

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclasses.dataclass
class TrainConfig:
    """One training run. Defaults are the paper's (Sections 4.2 and 5) on ImageNet.

    ``batch_size`` is per replica; the global batch is ``batch_size x replicas`` unless
    ``global_batch_size`` is given. The learning rate is ``learning_rate x global batch /
    reference_batch_size`` under ``lr_scaling="linear"`` (see ``alexnet_keras.distribute``).
    """

    # data
    dataset: str = "imagenet2012"
    data_dir: str | None = None
    manual_dir: str | None = None
    image_size: int | None = None  # None: the variant's own (227; 224 for torchvision)
    cache: bool = False  # keep decoded images in memory (small datasets)
    # model (alexnet_keras.alexnet options)
    variant: str = "paper"
    activation: str = "relu"
    normalization: str = "lrn"
    initializer: str = "paper"
    dropout: float = 0.5
    # optimisation (Section 5)
    epochs: int = 90
    batch_size: int = 128
    global_batch_size: int | None = None
    learning_rate: float = 0.01
    lr_scaling: str = "linear"
    reference_batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4
    weight_decay_mode: str = "coupled"
    schedule: str = "paper"
    plateau_patience: int = 5
    max_lr_drops: int = 3
    lr_drop_factor: float = 0.1
    step_epochs: int = 30
    warmup_epochs: int = 5
    # run
    seed: int = 0
    strategy: str = "auto"
    mixed_precision: str = "float32"
    xla: bool | None = None  # None: on without a tf.distribute strategy (``xla_enabled``)
    deterministic: bool = False
    steps_per_epoch: int | None = None  # None: one pass over the training set
    validation_steps: int | None = None  # None: the whole validation set
    output: str = "runs/alexnet"
    tensorboard: bool = True
    verbose: str | int = "auto"

    def __post_init__(self):
        checks = {
            "schedule": (self.schedule, SCHEDULES),
            "weight_decay_mode": (self.weight_decay_mode, WEIGHT_DECAY_MODES),
            "lr_scaling": (self.lr_scaling, distribute.LR_SCALINGS),
            "strategy": (self.strategy, distribute.STRATEGIES),
            "mixed_precision": (self.mixed_precision, PRECISIONS),
        }
        for field, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{field} must be one of {list(allowed)}; received {value!r}")
        for field in ("epochs", "batch_size", "reference_batch_size"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1; received {getattr(self, field)!r}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0; received {self.learning_rate!r}")

    @classmethod
    def demo(cls, **overrides) -> "TrainConfig":
        """The ``make demo`` run: AlexNet on the generated offline set, about 10 minutes on 2 CPU cores.

        Same architecture (paper variant, two towers, LRN, overlapping pooling, dropout), smaller
        images, and a recipe that starts learning within a few minutes: Glorot initialisation
        instead of N(0, 0.01) (which needs many epochs to leave the plateau at ln(classes)), batch
        normalisation, warm-up then cosine decay, learning rate 0.005 at batch 32 (the paper's 0.01
        at batch 128 would be 0.0025 here under linear scaling; 0.01 and more learn far slower in
        this short run). The paper's SGD, momentum 0.9 and coupled weight decay 0.0005 stay.
        """
        values = dict(DEMO)
        values.update(overrides)
        return cls(**values)


# The demo's settings (``TrainConfig.demo()``, ``--demo``); every other field keeps the paper's value.
DEMO = dict(
    dataset="offline",  # generated: 10 shape classes, 1,300 training and 300 held-out images
    image_size=99,  # the same layers at 99x99: conv1 23x23, pool5 2x2
    cache=True,  # decode the JPEGs once
    normalization="batch",
    initializer="keras",
    epochs=24,  # about 12 s each on 2 cores
    batch_size=32,
    learning_rate=0.005,
    lr_scaling="none",
    schedule="cosine",
    warmup_epochs=1,
    output="runs/demo",
)
