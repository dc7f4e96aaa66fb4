"""What a trained network learned: conv1 kernels (Figure 3) and nearest neighbours by fc7 features (Figure 4)."""

from __future__ import annotations

import numpy as np

from alexnet_keras.plots.common import pyplot as _pyplot


def _kernel_tiles(kernels: np.ndarray, columns: int) -> np.ndarray:
    """``[kh, kw, 3, n]`` kernels as one RGB image of tiles, each kernel scaled to 0..1 on its own."""
    kh, kw, _, n = kernels.shape
    rows = int(np.ceil(n / columns))
    canvas = np.ones(((kh + 1) * rows - 1, (kw + 1) * columns - 1, 3))
    for index in range(n):
        kernel = kernels[..., index]
        kernel = (kernel - kernel.min()) / max(float(kernel.max() - kernel.min()), 1e-12)
        r, c = divmod(index, columns)
        canvas[r * (kh + 1): r * (kh + 1) + kh, c * (kw + 1): c * (kw + 1) + kw] = kernel
    return canvas


def plot_conv1_kernels(kernel, towers: int = 2, columns: int = 16):
    """The conv1 kernels as RGB tiles, one panel per tower (the paper's Figure 3).

    ``kernel`` is conv1's ``[11, 11, 3, 96]`` weight. In the two-tower network the first half of the
    kernels feeds tower 1 (conv2's first group) and the second half tower 2; Figure 3 shows them as
    the top three and bottom three rows. Each tile is scaled to 0..1 on its own.
    """
    plt = _pyplot()
    kernel = np.asarray(kernel)
    per_tower = kernel.shape[-1] // towers
    fig, axes = plt.subplots(towers, 1, figsize=(columns * 0.6, towers * 2.2))
    axes = np.atleast_1d(axes)
    for t, ax in enumerate(axes):
        ax.imshow(_kernel_tiles(kernel[..., t * per_tower:(t + 1) * per_tower], columns), interpolation="nearest")
        ax.set_title(f"tower {t + 1}: conv1 kernels {t * per_tower + 1}-{(t + 1) * per_tower}")
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_kernel_change(initial, trained, columns: int = 24):
    """conv1's kernels at their random start, after training, and the difference training made.

    ``initial`` and ``trained``: conv1's ``[kh, kw, 3, n]`` weights before and after. One row of tiles
    each (the first half of the kernels, tower 1, in the upper lines of a row); each tile scaled to
    0..1 on its own. The row titles give how far training moved the kernels: the median over kernels
    of |trained - initial| / |initial| (Euclidean norms).
    """
    plt = _pyplot()
    initial, trained = np.asarray(initial, np.float32), np.asarray(trained, np.float32)
    change = trained - initial
    moved = np.linalg.norm(change.reshape(-1, change.shape[-1]), axis=0) / np.linalg.norm(
        initial.reshape(-1, initial.shape[-1]), axis=0)
    rows = int(np.ceil(initial.shape[-1] / columns))
    fig, axes = plt.subplots(3, 1, figsize=(10, 1.1 + 3 * 0.42 * rows))
    titles = ("initial kernels (the random start)", "after training",
              f"trained minus initial: what training added (median |change| / |initial| = {np.median(moved):.2f})")
    for ax, kernels, title in zip(axes, (initial, trained, change), titles):
        ax.imshow(_kernel_tiles(kernels, columns), interpolation="nearest")
        ax.set_title(title, fontsize=10, loc="left")
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_labelled_neighbours(queries, neighbours, query_labels, neighbour_labels, class_names,
                             distances=None):
    """Query images (first column) and their nearest neighbours, each titled with its class (Figure 4).

    ``queries``: ``[Q, H, W, 3]``; ``neighbours``: ``[Q, K, H, W, 3]``; images in 0..255 or 0..1.
    ``query_labels`` (``[Q]``) and ``neighbour_labels`` (``[Q, K]``) index ``class_names``. A
    neighbour of another class than its query has a red title (pixels drawn as blocks, which keeps
    the PNG small); ``distances`` (``[Q, K]``), when
    given, adds the feature distance under the class name.
    """
    plt = _pyplot()
    queries, neighbours = np.asarray(queries), np.asarray(neighbours)
    scale = 255.0 if max(queries.max(), neighbours.max()) > 1.5 else 1.0
    q, k = neighbours.shape[:2]
    fig, axes = plt.subplots(q, k + 1, figsize=(1.3 * (k + 1), 1.55 * q), squeeze=False)
    for i in range(q):
        axes[i, 0].imshow(np.clip(queries[i] / scale, 0, 1), interpolation="nearest")
        axes[i, 0].set_title(f"query: {class_names[int(query_labels[i])]}", fontsize=8, fontweight="bold")
        for j in range(k):
            label = int(neighbour_labels[i][j])
            title = class_names[label] + (f"\nd={distances[i][j]:.3g}" if distances is not None else "")
            axes[i, j + 1].imshow(np.clip(neighbours[i, j] / scale, 0, 1), interpolation="nearest")
            axes[i, j + 1].set_title(title, fontsize=7,
                                     color="black" if label == int(query_labels[i]) else "tab:red")
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return fig
