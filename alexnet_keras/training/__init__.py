"""Training: the paper's recipe as a config (Section 5), ``fit`` under ``tf.distribute``, evaluation (Section 4.1).

``TrainConfig`` holds a run; ``fit(config)`` trains it and resumes from its output folder; ``evaluate``
scores a checkpoint on the centre patch and on ten patches.
"""

from alexnet_keras.training import distribute
from alexnet_keras.training.config import DEMO, TrainConfig
from alexnet_keras.training.evaluate import evaluate, evaluate_model, format_results
from alexnet_keras.training.fit import (
    TrainResult,
    compile_model,
    fit,
    format_metrics_table,
    read_csv_log,
    xla_enabled,
)

__all__ = [
    "DEMO", "TrainConfig", "TrainResult", "compile_model", "distribute", "evaluate", "evaluate_model",
    "fit", "format_metrics_table", "format_results", "read_csv_log", "xla_enabled",
]
