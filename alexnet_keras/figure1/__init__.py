"""Figure 1 of the paper (Section 3.1): ReLU against tanh, each network at its best learning rate.

``python -m alexnet_keras figure1`` runs the protocol of :mod:`alexnet_keras.figure1.protocol` and
writes ``results/figure1/`` (tables of :mod:`alexnet_keras.figure1.report`); notebook 03 reads and
plots them. Runs on any Keras backend; needs TensorFlow only for ``--dataset cifar10``.
"""

from alexnet_keras.figure1.protocol import QUICK, Settings, run_protocol

__all__ = ["QUICK", "Settings", "run_protocol", "run"]


def run(output: str, *, settings: Settings, arms=None, command: str = "", tables_only=False, log=print):
    """Runs (or resumes) the protocol into ``output`` and writes its tables; returns the ratio rows."""
    from alexnet_keras.figure1.runner import run as _run

    return _run(output, settings=settings, arms=arms, command=command, tables_only=tables_only, log=log)
