"""What the ablations measure: convergence, the loss plateau, the statistics, the step-0 signals,
and the Figure 3 / Figure 4 observations (Sections 3, 4, 5 and 6).

Definitions (the protocol's CSV columns use them):

- **epochs to converge** (``epochs_to_converge``): for a run whose validation top-1 error has
  flattened (the mean of its last ``FLAT_EPOCHS`` epochs within ``CONVERGED_WITHIN``, 2 points, of
  the mean of the ``FLAT_EPOCHS`` before), the first epoch (counted from 1) within 2 points of the
  run's best; None (censored: longer than the run) for a run still changing at its end. Why 2
  points, not 1: on 300 validation images one epoch's error has a binomial noise of about 2.8
  points by itself; a 1-point rule would call noise "not converged".
- **plateau exit** (``plateau_exit_step``): the first training step (from 1) whose training loss is
  below ``PLATEAU_FRACTION`` x ln(classes), the loss of a uniform softmax (Section 5's N(0, 0.01)
  start sits on that plateau for a while); None (censored) if it never gets there.
- **difference to control**: paired over seeds, ``alexnet_keras.ablation.stats``. (``welch_comparison``,
  Welch's unpaired test, is kept to show what ignoring the pairs costs.)
- **chroma** of a kernel (``kernel_chroma``): the kernel standardised (zero mean, unit standard
  deviation over all its weights), then the standard deviation across its R, G, B weights at each
  pixel, averaged over the pixels: 0 for a grey kernel, large for one that sees a single colour.
"""

from __future__ import annotations

import math

import numpy as np

CONVERGED_WITHIN = 0.02  # 2 percentage points of top-1 error (the module docstring says why)
FLAT_EPOCHS = 3
PLATEAU_FRACTION = 0.95
FC7 = "fc7"
VALUE = "final_val_top1_error"  # the pilot's compared error (results/ablations/pilot/runs.csv)


def epochs_to_converge(val_errors, within: float = CONVERGED_WITHIN,
                       flat: int = FLAT_EPOCHS) -> int | None:
    """First epoch (from 1) whose validation error is within ``within`` of the run's best, for a
    curve whose last ``flat`` values average within ``within`` of the ``flat`` before them; None
    (censored) for a curve that is still changing, or shorter than 2 x ``flat``. Section 4.2:
    dropout "roughly doubles the number of iterations required to converge"."""
    errors = [float(e) for e in val_errors]
    if len(errors) < 2 * flat:
        return None
    if abs(np.mean(errors[-flat:]) - np.mean(errors[-2 * flat:-flat])) >= within:
        return None
    best = min(errors)
    return next(epoch for epoch, error in enumerate(errors, start=1) if error <= best + within)


def plateau_exit_step(losses, classes: int, fraction: float = PLATEAU_FRACTION) -> int | None:
    """First step (from 1) whose training loss is below ``fraction`` x ln(``classes``); None if
    the loss never gets there (the run never left the plateau)."""
    if classes < 2:
        raise ValueError(f"classes must be at least 2 for a loss plateau at ln(classes); received {classes}")
    threshold = fraction * math.log(classes)
    return next((step for step, loss in enumerate(losses, start=1) if loss < threshold), None)


def batch_losses(running_means) -> list[float]:
    """Each step's own loss from Keras' per-batch logs, which hold the running mean over the epoch
    so far (equal batches): loss_k = k m_k - (k - 1) m_(k-1)."""
    means = [float(m) for m in running_means]
    return [k * m - (k - 1) * (means[k - 2] if k > 1 else 0.0) for k, m in enumerate(means, start=1)]


def welch_comparison(treatment, control, confidence: float = 0.95) -> dict:
    """mean(treatment) - mean(control), Welch's t-test p-value and its ``confidence`` interval.

    With fewer than two values on a side the interval and p-value are NaN (no spread to test).
    """
    from scipy import stats

    treatment, control = np.asarray(treatment, float), np.asarray(control, float)
    if not (treatment.size and control.size):
        raise ValueError("welch_comparison needs at least one value per side; received "
                         f"{treatment.size} treatment and {control.size} control values")
    result = {"difference": float(treatment.mean() - control.mean()), "low": math.nan,
              "high": math.nan, "p_value": math.nan}
    if min(treatment.size, control.size) >= 2 and (treatment.var() + control.var()) > 0:
        test = stats.ttest_ind(treatment, control, equal_var=False)
        interval = test.confidence_interval(confidence)
        result.update(low=float(interval.low), high=float(interval.high), p_value=float(test.pvalue))
    return result


# ------------------------------------------------------------------------------ step 0 (Section 5)


def _named_layers(model):
    """The layers with weights that the paper names: conv1..conv5, fc6..fc8, in order."""
    names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    return [model.get_layer(name) for name in names if name in {l.name for l in model.layers}]


def initial_statistics(model, images, labels) -> list[dict]:
    """Per layer at step 0, on one batch: the standard deviation of its output (before any
    normalisation or activation) and the L2 norm of the loss gradient of its kernels.

    Section 5's N(0, 0.01) start shrinks the signal layer by layer; Glorot and He keep it.
    """
    import keras
    import tensorflow as tf

    layers = _named_layers(model)
    probe = keras.Model(model.input, [layer.output for layer in layers] + [model.outputs[0]])
    kernels = [[w for w in layer.trainable_weights if "kernel" in w.path] for layer in layers]
    with tf.GradientTape() as tape:
        *outputs, predictions = probe(images, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, predictions))
    gradients = tape.gradient(loss, [w for group in kernels for w in group])
    rows, start = [], 0
    for layer, output, group in zip(layers, outputs, kernels):
        grads = gradients[start:start + len(group)]
        start += len(group)
        norm = float(tf.sqrt(sum(tf.reduce_sum(tf.square(g)) for g in grads)))
        rows.append({"layer": layer.name, "output_std": float(tf.math.reduce_std(output)),
                     "gradient_norm": norm, "loss": float(loss)})
    return rows


def image_signal(model, images) -> list[dict]:
    """Per layer, on a batch of ``images``: how much of its output depends on the image.

    ``between_images``: the standard deviation across the batch of each output unit (each channel
    at each position), averaged over units; ``rms``: the root mean square of the output. Their
    ratio is the share of the signal that differs from image to image: where a start leaves it
    near 0, every image looks the same to the layers above, and the softmax is the same for all.
    """
    import keras

    layers = _named_layers(model)
    probe = keras.Model(model.input, [layer.output for layer in layers])
    outputs = probe(images, training=False)
    rows = []
    for layer, output in zip(layers, outputs):
        output = np.asarray(output, np.float64).reshape(len(images), -1)
        between = float(output.std(axis=0).mean())
        rms = float(np.sqrt(np.mean(output ** 2)))
        rows.append({"layer": layer.name, "between_images": between, "rms": rms,
                     "image_share": between / rms if rms else 0.0})
    return rows


# --------------------------------------------------------------------------- Figure 3 (Section 6)


def conv1_towers(model, towers: int = 2) -> list[np.ndarray]:
    """conv1's kernels [11, 11, 3, n] split by tower: the first half of the 96 feed tower 1's
    conv2, the second half tower 2's (the paper's Figure 3: the upper 48 are GPU 1's). ``model``
    may also be the kernel array itself (a stored ``conv1_kernels.npy``)."""
    kernel = np.asarray(model if isinstance(model, np.ndarray) else model.get_layer("conv1").kernel)
    return np.split(kernel, towers, axis=-1)


def kernel_chroma(kernels) -> np.ndarray:
    """Chroma of each kernel of ``kernels`` [h, w, 3, n] (see the module docstring)."""
    kernels = np.asarray(kernels, float)
    if kernels.ndim != 4 or kernels.shape[2] != 3:
        raise ValueError(f"kernels must be [height, width, 3, n] (RGB conv1 kernels); received "
                         f"shape {kernels.shape}")
    centred = kernels - kernels.mean(axis=(0, 1, 2), keepdims=True)
    scale = centred.std(axis=(0, 1, 2), keepdims=True)
    standard = centred / np.where(scale > 0, scale, 1.0)
    return standard.std(axis=2).mean(axis=(0, 1))


def tower_chroma(model, towers: int = 2) -> list[float]:
    """Mean ``kernel_chroma`` of each tower's conv1 kernels (Figure 3: tower 1 colour-agnostic,
    tower 2 colour-specific, in the paper's ImageNet run)."""
    return [float(kernel_chroma(part).mean()) for part in conv1_towers(model, towers)]


def tower_specialisation(model, towers: int = 2, permutations: int = 10000, seed: int = 0) -> dict:
    """Does one tower's conv1 hold greyer kernels than the other's (Figure 3)?

    ``gap``: |mean chroma of tower 1 - mean chroma of tower 2|. Which tower turns colour-specific
    is arbitrary (the paper: "independent of any particular random weight initialization (modulo a
    renumbering of the GPUs)"), hence the absolute value. ``p_value``: the fraction of
    ``permutations`` random splits of the same kernels into equal groups whose gap is at least as
    large, so a small value says the towers differ more than kernels assigned at random would.
    """
    chroma = kernel_chroma(np.concatenate(conv1_towers(model, towers), axis=-1))
    halves = np.split(chroma, towers)
    gap = float(abs(halves[0].mean() - halves[-1].mean()))
    rng = np.random.default_rng(seed)
    shuffled = np.array([rng.permutation(chroma) for _ in range(permutations)])
    parts = np.split(shuffled, towers, axis=1)
    random_gaps = np.abs(parts[0].mean(axis=1) - parts[-1].mean(axis=1))
    return {"gap": gap, "p_value": float((1 + np.sum(random_gaps >= gap)) / (1 + permutations))}


def plot_conv1_kernels(model, towers: int = 2, columns: int = 16):
    """Figure 3: conv1's kernels as RGB tiles, one block of rows per tower; each kernel scaled to
    0..1 on its own. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    parts = conv1_towers(model, towers)
    rows = [math.ceil(part.shape[-1] / columns) for part in parts]
    figure, axes = plt.subplots(sum(rows), columns, figsize=(columns * 0.55, sum(rows) * 0.6))
    axes = np.atleast_2d(axes)
    for axis in axes.flat:
        axis.axis("off")
    row = 0
    for tower, (part, height) in enumerate(zip(parts, rows), start=1):
        for index in range(part.shape[-1]):
            tile = part[..., index]
            tile = (tile - tile.min()) / max(float(tile.max() - tile.min()), 1e-12)
            axes[row + index // columns, index % columns].imshow(tile, interpolation="nearest")
        axes[row, 0].set_title(f"tower {tower}", fontsize=8, loc="left")
        row += height
    figure.suptitle("conv1 kernels by tower (Figure 3)")
    return figure


# --------------------------------------------------------------------------- Figure 4 (Section 6)


def fc7_features(model, images, batch_size: int = 64) -> np.ndarray:
    """The 4096 activations of fc7 (after its activation, Section 6's "feature activations
    induced by an image at the last, 4096-dimensional hidden layer")."""
    import keras

    layer = model.get_layer(FC7)
    after = next((l for l in model.layers if l.name.endswith("7") and l.name != FC7
                  and isinstance(l, keras.layers.Activation)), layer)
    extractor = keras.Model(model.input, after.output)
    return np.asarray(extractor.predict(images, batch_size=batch_size, verbose=0))


def nearest_neighbours(features, k: int = 5) -> np.ndarray:
    """[N, k] indices of each row's ``k`` nearest other rows by Euclidean distance (Figure 4)."""
    from sklearn.neighbors import NearestNeighbors

    features = np.asarray(features)
    if not 1 <= k < len(features):
        raise ValueError(f"k must be in [1, {len(features) - 1}] for {len(features)} images; received {k}")
    index = NearestNeighbors(n_neighbors=k + 1).fit(features)
    _, neighbours = index.kneighbors(features)
    # Drop each query itself (first, unless a duplicate ties with it).
    return np.array([[n for n in row if n != query][:k] for query, row in enumerate(neighbours)])


def retrieval_precision(features, labels, k: int = 5) -> dict:
    """Per class, the fraction of each image's ``k`` nearest neighbours (fc7, Euclidean) with its
    own label; ``"mean"`` over all images. Chance is about 1 / classes."""
    labels = np.asarray(labels)
    hits = labels[nearest_neighbours(features, k)] == labels[:, None]
    per_image = hits.mean(axis=1)
    result = {int(c): float(per_image[labels == c].mean()) for c in np.unique(labels)}
    result["mean"] = float(per_image.mean())
    return result
