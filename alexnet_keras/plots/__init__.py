"""Figures: the training curves the trainer saves, and the figure helpers of the notebooks."""

from alexnet_keras.plots.history import read_csv_log, plot_history
from alexnet_keras.plots.architecture import plot_parameters_and_compute, plot_two_towers, plot_lrn_gain, plot_lrn_on_activations
from alexnet_keras.plots.activations import plot_activation_derivatives
from alexnet_keras.plots.figure1 import plot_rate_search, plot_threshold_curves
from alexnet_keras.plots.ablation import plot_paired_differences, plot_seeds
from alexnet_keras.plots.features import plot_conv1_kernels, plot_kernel_change, plot_labelled_neighbours

__all__ = [
    "plot_activation_derivatives",
    "plot_conv1_kernels",
    "plot_history",
    "plot_kernel_change",
    "plot_labelled_neighbours",
    "plot_lrn_gain",
    "plot_lrn_on_activations",
    "plot_paired_differences",
    "plot_parameters_and_compute",
    "plot_rate_search",
    "plot_seeds",
    "plot_threshold_curves",
    "plot_two_towers",
    "read_csv_log",
]
