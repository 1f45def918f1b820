"""Colorization as classification over quantized a*b* bins (Zhang et al., 2016).

A regression loss on chroma is minimised by the mean (MSE) or median (MAE)
of the plausible colours, and for a flower that may be red, yellow or purple
that is a grayish compromise. Predicting a distribution over a*b* bins keeps
the modes apart. Three parts, as in the paper:

- the target: each pixel's a*b* spread over its four neighbouring lattice
  nodes (bilinear weights, a cheap stand-in for the paper's Gaussian over the
  five nearest bins);
- class rebalancing: pixels weighted by the inverse of their bins' (smoothed)
  frequency mixed with a uniform prior, so rare saturated colours count;
- decoding by annealed mean: the softmax sharpened by a temperature, then its
  mean, between the mode (vivid, patchy) and the mean (smooth, grayish).

A network built with ``head="classification"`` ends ``ab_logits`` (one logit
per bin) -> `AnnealedMean` (`colorkeras.models.network.apply_head`), so it
still returns Lab chroma / 110 like every colorkeras network and the rest of
the package (colorize, export, evaluate) needs no change. The colorizer
takes the loss on the logits (`ColorizationNetwork.logits_view`).
"""

import functools

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from colorkeras import color
from colorkeras.errors import InputError

GRID = 10.0
"""Lattice spacing in a*b* units, the paper's 10 (313 in-gamut bins there)."""

TEMPERATURE = 0.38
"""The paper's annealed-mean temperature."""

REBALANCE_MIX = 0.5
"""Weight of the uniform distribution mixed into the prior (the paper's lambda)."""

PRIOR_SIGMA = 5.0
"""Gaussian smoothing of the empirical prior, in a*b* units."""


@functools.lru_cache(maxsize=8)
def _lattice(grid):
    """In-gamut lattice nodes and a lookup table from node to bin index.

    A node is kept when it is one of the four bilinear neighbours of some
    sRGB colour (a 64-level sample of the RGB cube), so every real colour's
    neighbours are bins, up to the sampling; a missing one is dropped and
    the other weights renormalised.
    """
    levels = np.linspace(0.0, 1.0, 64, dtype=np.float32)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    ab = color.rgb_to_lab(rgb).numpy()[:, 1:] / grid
    low = np.floor(ab).astype(np.int64)
    nodes = np.unique(
        np.concatenate([low + offset for offset in ((0, 0), (0, 1), (1, 0), (1, 1))]), axis=0
    )
    origin = nodes.min(axis=0)
    table = -np.ones(nodes.max(axis=0) - origin + 1, np.int32)
    table[tuple((nodes - origin).T)] = np.arange(len(nodes), dtype=np.int32)
    return nodes.astype(np.float32) * grid, table, origin


def bin_centres(grid=GRID):
    """The a*b* centre of every bin, shape ``(num_bins, 2)``."""
    return _lattice(float(grid))[0]


def soft_encode(ab, grid=GRID):
    """Bins and weights of each pixel: ``(indices, weights)``, each ``[..., 4]``.

    Args:
        ab: a*b* in Lab units (not divided by 110), shape ``[..., 2]``.
    """
    _, table, origin = _lattice(float(grid))
    scaled = tf.cast(ab, tf.float32) / grid
    low = tf.floor(scaled)
    frac = scaled - low
    low = tf.cast(low, tf.int32) - tf.constant(origin, tf.int32)
    limit = tf.constant(table.shape, tf.int32) - 1
    indices, weights = [], []
    for da, db in ((0, 0), (0, 1), (1, 0), (1, 1)):
        node = tf.clip_by_value(low + tf.constant([da, db], tf.int32), 0, limit)
        indices.append(tf.gather_nd(tf.constant(table), node))
        wa = frac[..., 0] if da else 1.0 - frac[..., 0]
        wb = frac[..., 1] if db else 1.0 - frac[..., 1]
        weights.append(wa * wb)
    indices = tf.stack(indices, axis=-1)
    weights = tf.stack(weights, axis=-1) * tf.cast(indices >= 0, tf.float32)
    weights = weights / tf.maximum(tf.reduce_sum(weights, axis=-1, keepdims=True), 1e-6)
    return tf.maximum(indices, 0), weights


def estimate_prior(targets, grid=GRID):
    """Empirical bin frequencies of Lab chroma targets (``a*b* / 110``).

    Args:
        targets: an iterable of target batches, as the training pipeline
            yields them for ``color_space="lab"``.
    """
    num_bins = len(bin_centres(grid))
    counts = np.zeros(num_bins, np.float64)
    for target in targets:
        indices, weights = soft_encode(target * color.LAB_AB_SCALE, grid)
        counts += tf.math.unsorted_segment_sum(
            tf.reshape(weights, [-1]), tf.reshape(indices, [-1]), num_bins
        ).numpy()
    if counts.sum() <= 0:
        raise InputError("`estimate_prior` received no pixels.")
    return counts / counts.sum()


def rebalancing_weights(prior, grid=GRID, mix=REBALANCE_MIX, sigma=PRIOR_SIGMA):
    """Per-bin loss weights: inverse of the smoothed prior mixed with uniform.

    Normalised so that the expected weight under the smoothed prior is 1,
    which keeps the loss on the scale of a plain cross-entropy.
    """
    centres = bin_centres(grid)
    prior = np.asarray(prior, np.float64)
    distance2 = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-distance2 / (2 * sigma**2))
    smoothed = kernel @ prior
    smoothed /= smoothed.sum()
    weights = 1.0 / ((1 - mix) * smoothed + mix / len(centres))
    return (weights / (smoothed * weights).sum()).astype(np.float32)


@keras.saving.register_keras_serializable(package="colorkeras")
class AnnealedMean(layers.Layer):
    """Bin logits -> Lab chroma / 110, by the annealed mean of the softmax.

    Args:
        grid: lattice spacing the logits were trained on.
        temperature: below 1 sharpens the distribution towards its mode.
    """

    def __init__(self, grid=GRID, temperature=TEMPERATURE, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if temperature <= 0:
            raise InputError(f"`temperature` must be positive. Received: {temperature}")
        self.grid = float(grid)
        self.temperature = float(temperature)
        self._centres = bin_centres(self.grid) / color.LAB_AB_SCALE

    def call(self, logits):
        logits = tf.cast(logits, tf.float32)
        probabilities = tf.nn.softmax(logits / self.temperature, axis=-1)
        return tf.tensordot(probabilities, tf.constant(self._centres), axes=1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)

    def get_config(self):
        return {**super().get_config(), "grid": self.grid, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="colorkeras")
class ABClassificationLoss(keras.losses.Loss):
    """Rebalanced cross-entropy between bin logits and soft-encoded targets.

    Args:
        class_weights: per-bin weights from `rebalancing_weights`; ``None``
            weights every pixel equally.
        grid: the lattice spacing of the logits.
    """

    def __init__(self, class_weights=None, grid=GRID, name="ab_classification", **kwargs):
        super().__init__(name=name, **kwargs)
        self.grid = float(grid)
        num_bins = len(bin_centres(self.grid))
        if class_weights is not None and len(class_weights) != num_bins:
            raise InputError(
                f"`class_weights` needs one weight per bin ({num_bins} at grid "
                f"{self.grid}). Received: {len(class_weights)} weights"
            )
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true, y_pred):
        indices, weights = soft_encode(y_true * color.LAB_AB_SCALE, self.grid)
        log_p = tf.nn.log_softmax(tf.cast(y_pred, tf.float32), axis=-1)
        picked = _pick_log_probabilities(log_p, indices)
        cross_entropy = -tf.reduce_sum(weights * picked, axis=-1)
        if self.class_weights is not None:
            per_bin = tf.constant(self.class_weights, tf.float32)
            cross_entropy *= tf.reduce_sum(weights * tf.gather(per_bin, indices), axis=-1)
        return cross_entropy

    def get_config(self):
        return {**super().get_config(), "class_weights": self.class_weights, "grid": self.grid}


def _pick_log_probabilities(log_p, indices):
    """``log_p[b, i // f, j // f, indices[b, i, j, k]]`` for every pixel and bin.

    Logits may be at 1/f of the target's resolution (an ``output_stride``
    network): each of the f x f pixels a logit covers then adds its own
    soft-encoded colour to the loss, which is the cross-entropy against the
    block's colour histogram, with no large upsampled tensor built.
    """
    if len(log_p.shape) != 4:
        return tf.gather(log_p, indices, batch_dims=len(log_p.shape) - 1)
    factor = tf.shape(indices)[1] // tf.shape(log_p)[1]
    rows = tf.range(tf.shape(indices)[1]) // factor
    cols = tf.range(tf.shape(indices)[2]) // factor
    grid = tf.stack(tf.meshgrid(rows, cols, indexing="ij"), axis=-1)  # [H, W, 2]
    grid = tf.broadcast_to(grid[None, :, :, None, :],
                           tf.concat([tf.shape(indices), [2]], axis=0))
    return tf.gather_nd(log_p, tf.concat([grid, indices[..., None]], axis=-1), batch_dims=1)
