"""``TrainConfig``: one training run, with the paper's recipe (Sections 4.2 and 5) as defaults, and the demo recipe.

Every field carries its help text (and, where it has a fixed set of values, its choices) in
``dataclasses.field(metadata=...)``: ``alexnet_keras.cli`` builds ``train``'s flags from them, one flag
per field, and ``__post_init__`` refuses any value outside them.
"""

from __future__ import annotations

import dataclasses
import os

from alexnet_keras.checks import check_choice, check_output_outside_inputs
from alexnet_keras.data.catalog import NAMES as DATASETS
from alexnet_keras.model.architecture import ACTIVATIONS, INITIALIZERS, NORMALIZATIONS
from alexnet_keras.model.variants import VARIANTS, minimum_image_size  # noqa: F401 (re-exported)
from alexnet_keras.model.layers import TOWER_IMPLEMENTATIONS
from alexnet_keras.training.distribute import LR_SCALINGS, STRATEGIES
from alexnet_keras.training.optimizer import SCHEDULES, WEIGHT_DECAY_MODES

TRAIN_BACKENDS = ("auto", "tensorflow", "jax")  # keras.distribution's data parallelism is JAX's
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
VERBOSITIES = ("auto", 0, 1, 2)  # keras.Model.fit(verbose=)

# (test, what the value must be), for the numeric fields; None always passes (the field's default).
AT_LEAST_1 = (lambda v: v >= 1, "an integer >= 1")
AT_LEAST_0 = (lambda v: v >= 0, ">= 0")
POSITIVE = (lambda v: v > 0, "> 0")
FRACTION = (lambda v: 0 <= v < 1, "in [0, 1)")
DROP_FACTOR = (lambda v: 0 < v < 1, "in (0, 1): 0.1 divides the rate by 10 (1 or more would not lower it)")


def option(default, help: str, *, choices=None, check=None, aliases=()):
    """A ``TrainConfig`` field with its command-line help, its allowed values and its range check."""
    metadata = {"help": help, "aliases": tuple(aliases)}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if check is not None:
        metadata["check"] = check
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class TrainConfig:
    """One training run. Defaults are the paper's (Sections 4.2 and 5) on ImageNet.

    ``batch_size`` is per replica; the global batch is ``batch_size x replicas`` unless
    ``global_batch_size`` is given. The learning rate is ``learning_rate x global batch /
    reference_batch_size`` under ``lr_scaling="linear"`` (see ``alexnet_keras.distribute``).
    Every value is checked when the config is made: a bad one raises ``ValueError`` naming it.
    """

    # data (Section 2)
    dataset: str = option("imagenet2012", "data set to train on", choices=DATASETS)
    data_dir: str | None = option(None, "TFDS data_dir (for offline: the folder holding offline/)")
    data_path: str | None = option(None, "the image folder of --dataset folder: DIR/<class>/*.jpg "
                                   "or DIR/{train,validation}/<class>/*.jpg")
    manual_dir: str | None = option(None, "folder holding ILSVRC2012_img_{train,val}.tar")
    skip_corrupt: bool = option(False, "leave unreadable images out (and list them) instead of "
                                "stopping at the first")
    validation_split: float = option(0.1, "for --dataset folder without train/ and validation/: the "
                                     "share of each class held out as the validation split (the "
                                     "same images on every run)",
                                     check=(lambda v: 0 < v < 1, "in (0, 1)"))
    image_size: int | None = option(None, "input height and width (default: the variant's, 227; "
                                    "224 for torchvision; at least minimum_image_size())")
    cache: bool = option(False, "keep decoded images in memory (small data sets)")
    prepared: str | None = option(None, "train from a folder written by `prepare` (256x256 JPEGs in "
                                  "TFRecord shards); --dataset and its folders are then not read")
    random_crops: bool = option(True, "random patches (Section 4.1); off: always the centre patch")
    flip: bool = option(True, "horizontal reflections with probability 1/2 (Section 4.1)")
    lighting_std: float = option(0.1, "standard deviation of the PCA lighting draws (Section 4.1: "
                                 "0.1); 0 turns it off", check=AT_LEAST_0)
    # model (alexnet_keras.alexnet options, Section 3)
    variant: str = option("paper", "network variant", choices=VARIANTS)
    activation: str = option("relu", "activation (Section 3.1: relu)", choices=ACTIVATIONS)
    normalization: str = option("lrn", "normalisation (Section 3.3: lrn)", choices=NORMALIZATIONS)
    overlapping_pooling: bool = option(True, "max pooling 3x3 with stride 2 (Section 3.4); "
                                       "off: 2x2 with stride 2")
    tower_implementation: str = option("split", "grouped convolutions as one Conv2D per tower or "
                                       "Conv2D(groups=2) (same results)", choices=TOWER_IMPLEMENTATIONS)
    initializer: str = option("paper", "paper: N(0, 0.01) and biases of 1 (Section 5); keras: Glorot; "
                              "he: He normal",
                              choices=INITIALIZERS)
    dropout: float = option(0.5, "dropout rate after fc6 and fc7 (Section 4.2)", check=FRACTION)
    # optimisation (Section 5)
    epochs: int = option(90, "epochs to train (paper: about 90)", check=AT_LEAST_1)
    batch_size: int = option(128, "batch per replica (paper: 128)", check=AT_LEAST_1)
    global_batch_size: int | None = option(None, "global batch (must divide by the replicas)",
                                           check=AT_LEAST_1)
    learning_rate: float = option(0.01, "base learning rate at --reference-batch-size (paper: 0.01)",
                                  check=POSITIVE, aliases=("--lr",))
    lr_scaling: str = option("linear", "linear: rate x global batch / reference batch; none",
                             choices=LR_SCALINGS)
    reference_batch_size: int = option(128, "batch the base learning rate is meant for",
                                       check=AT_LEAST_1)
    momentum: float = option(0.9, "SGD momentum (paper: 0.9)", check=FRACTION)
    weight_decay: float = option(5e-4, "weight decay (paper: 0.0005)", check=AT_LEAST_0)
    weight_decay_mode: str = option("coupled", "coupled (paper) or decoupled (AdamW-style)",
                                    choices=WEIGHT_DECAY_MODES)
    schedule: str = option("paper", "paper: /10 on a plateau, 3 times; step; cosine; constant",
                           choices=SCHEDULES)
    plateau_patience: int = option(5, "epochs without improvement before a drop", check=AT_LEAST_0)
    max_lr_drops: int = option(3, "learning-rate drops of the paper schedule", check=AT_LEAST_0)
    lr_drop_factor: float = option(0.1, "factor of each drop (paper: 0.1)", check=DROP_FACTOR)
    step_epochs: int = option(30, "epochs between drops of the step schedule", check=AT_LEAST_1)
    warmup_epochs: int = option(5, "warm-up epochs of the cosine schedule", check=AT_LEAST_0)
    # run
    seed: int = option(0, "random seed (initialisation, data order, augmentation)", check=AT_LEAST_0)
    backend: str = option("auto", "Keras backend of the model and optimiser: auto (KERAS_BACKEND, "
                          "else tensorflow), tensorflow or jax; the input stays tf.data",
                          choices=TRAIN_BACKENDS)
    strategy: str = option("auto", "tf.distribute strategy (jax: auto and mirrored are "
                           "keras.distribution.DataParallel over the local devices)",
                           choices=STRATEGIES)
    mixed_precision: str = option("float32", "Keras dtype policy", choices=PRECISIONS)
    xla: bool | None = option(None, "compile the training step with XLA (default: the faster "
                              "setting measured: on for jax; on tensorflow off on a CPU, on for a "
                              "GPU or TPU, off under a distribution strategy)")
    deterministic: bool = option(False, "deterministic TensorFlow ops (slower)")
    steps_per_epoch: int | None = option(None, "train on the first N batches each epoch (default: "
                                         "all)", check=AT_LEAST_1)
    validation_steps: int | None = option(None, "validate on the first N batches (default: all)",
                                          check=AT_LEAST_1)
    output: str = option("runs/alexnet", "folder for checkpoints, logs, backup and the curves PNG")
    tensorboard: bool = option(True, "write TensorBoard logs")
    verbose: str | int = option("auto", "Keras progress output: auto, 0, 1 or 2", choices=VERBOSITIES)
    tpu_address: str | None = option(None, "--strategy tpu: the TPU's name or grpc:// address "
                                     "(default: the resolver's own lookup)")
    cluster_timeout: float = option(600.0, "--strategy multi_worker: seconds to wait for every "
                                    "worker of TF_CONFIG to start before giving up", check=POSITIVE)
    restart: bool = option(False, "start over in an --output folder that holds a run (deletes its "
                           "checkpoints, log and backup)")

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if "choices" in field.metadata:
                check_choice(field.name, value, field.metadata["choices"])
            test, allowed = field.metadata.get("check", (None, None))
            if test is not None and value is not None and (isinstance(value, bool) or not test(value)):
                raise ValueError(f"{field.name} must be {allowed}; received {value!r}")
        smallest = minimum_image_size(self.variant, overlapping_pooling=self.overlapping_pooling)
        if self.image_size is not None and self.image_size < smallest:
            pooling = "overlapping" if self.overlapping_pooling else "2x2"
            raise ValueError(
                f"image_size {self.image_size} is too small for variant {self.variant!r} with "
                f"{pooling} pooling: pool5 needs an input of at least {smallest}x{smallest}; "
                f"use image_size >= {smallest}")
        if self.dataset == "folder" and not self.data_path:
            raise ValueError("dataset 'folder' needs data_path, the folder that "
                             "holds one sub-folder of images per class")
        if self.dataset != "folder" and self.data_path:
            raise ValueError(f"data_path is only read by dataset 'folder'; received it "
                             f"with dataset {self.dataset!r}: drop it, or use dataset 'folder'")
        check_output_outside_inputs(self.output, {
            "--data-path": self.data_path, "--data-dir": self.data_dir, "--manual-dir": self.manual_dir,
            "--prepared": self.prepared})
        if os.path.isfile(self.output):
            raise ValueError(f"output {self.output!r} is a file; training writes a folder there: "
                             f"give a folder (new or from an earlier run) instead")

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


# Fields a resumed run may change: where and how it runs, not what it computes (weights are
# backend-neutral: a run started on one backend continues on another). ``fit`` records each
# change in config.json's "resumes" list; a resume that changes any other field is refused (that is
# another run: another --output, or --restart). ``epochs`` may grow to continue a finished run;
# under the cosine schedule that stretches the rest of the decay over the new length.
RESUMABLE_FIELDS = frozenset({
    "epochs", "backend", "strategy", "tpu_address", "xla", "deterministic", "verbose", "tensorboard",
    "cache", "data_dir", "manual_dir", "data_path", "skip_corrupt", "output", "restart",
    "cluster_timeout",
})
