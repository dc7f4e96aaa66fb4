"""Top-1 and top-5 error, the paper's two figures of merit (Section 6).

"The top-5 error rate is the fraction of test images for which the correct label is not among the
five labels considered most probable by the model."
"""

from __future__ import annotations

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="alexnet_keras")
class TopKError(keras.metrics.SparseTopKCategoricalAccuracy):
    """``1 - SparseTopKCategoricalAccuracy(k)``: the fraction of examples whose label is not among
    the ``k`` most probable classes. Named ``top{k}_error`` (``val_top{k}_error`` on validation data)."""

    def __init__(self, k: int = 5, name: str | None = None, dtype=None):
        super().__init__(k=k, name=name or f"top{k}_error", dtype=dtype)

    def result(self):
        return 1.0 - super().result()


def true_class_rank(probabilities, labels) -> np.ndarray:
    """Per example, how many classes score strictly higher than the true one (0: a top-1 hit). A tie
    with the true class counts for it, as Keras' ``in_top_k`` counts it."""
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels).reshape(-1)
    true_scores = probabilities[np.arange(len(labels)), labels]
    return (probabilities > true_scores[:, None]).sum(axis=1)


def top_k_errors(probabilities, labels, ks=(1, 5)) -> dict[str, float]:
    """Top-k errors of a ``[N, classes]`` array of scores against ``[N]`` integer labels (NumPy)."""
    rank = true_class_rank(probabilities, labels)
    return {f"top{k}_error": float(np.mean(rank >= k)) for k in ks}
