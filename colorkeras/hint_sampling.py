"""Colour hints drawn from the truth, to train and to measure a hint model.

As Zhang et al. (SIGGRAPH 2017) do: the number of hints is geometric with
p = 1/8 (so one photo in eight has none, and the mean is 7), each hint is a
square patch of 1 to 9 pixels that reveals the patch's mean a*b*, and its
centre is drawn either from a Gaussian around the photo's centre (standard
deviation a quarter of each side) or uniformly, half the photos each way.
Patches are painted with separable row and column indicators, so a batch
costs two small matrix products, not a mask per hint.
"""

import tensorflow as tf

P_GEOMETRIC = 1 / 8
MAX_HINTS = 32  # the geometric tail past it is 1.4% of photos
MAX_PATCH = 9


def _indicators(centres, sizes, side):
    """``[B, K, side]``: 1 on each hint's span of ``sizes`` pixels around ``centres``."""
    start = centres - sizes // 2
    positions = tf.range(side, dtype=tf.int32)[None, None, :]
    return tf.cast((positions >= start[..., None]) & (positions < (start + sizes)[..., None]),
                   tf.float32)


def paint_hints(target, rows, cols, active):
    """The hints tensor ``[B, H, W, 3]`` for patches given by row/column indicators.

    Each patch reveals the mean of ``target`` (``[B, H, W, 2]``) over its
    pixels; where patches overlap their colours are averaged. ``active``
    ``[B, K]`` switches hints off (a photo draws fewer than K).
    """
    rows = rows * active[..., None]
    area = tf.reduce_sum(rows, -1) * tf.reduce_sum(cols, -1)  # [B, K]
    # sum over the patch of target: rows^T . target . cols, per channel.
    along_rows = tf.einsum("bky,byxc->bkxc", rows, target)
    means = tf.einsum("bkxc,bkx->bkc", along_rows, cols) / tf.maximum(area, 1.0)[..., None]
    count = tf.einsum("bky,bkx->byx", rows, cols)
    painted = tf.einsum("bky,bkx,bkc->byxc", rows, cols, means)
    ab = painted / tf.maximum(count, 1.0)[..., None]
    mask = tf.cast(count > 0, tf.float32)[..., None]
    return tf.concat([ab * mask, mask], axis=-1)


def sample_hints(target, seed, max_hints=MAX_HINTS, count=None):
    """Hints for a batch of a*b* targets ``[B, H, W, 2]``, drawn with a stateless ``seed``.

    Args:
        target: the network's chroma targets (a*b* / 110).
        seed: shape-[2] int seed; the same seed gives the same hints.
        max_hints: the most hints a photo gets.
        count: a fixed number of hints per photo (uniformly placed), as the
            hint curve measures; None draws it from the geometric law.
    """
    target = tf.convert_to_tensor(target, tf.float32)
    shape = tf.shape(target)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 7)
    k = max_hints
    if count is None:
        u = tf.random.stateless_uniform([batch], seeds[0], minval=1e-7, maxval=1.0)
        n = tf.cast(tf.math.floor(tf.math.log(u) / tf.math.log(1.0 - P_GEOMETRIC)), tf.int32)
        gaussian = tf.random.stateless_uniform([batch, 1], seeds[1]) < 0.5
    else:
        n = tf.fill([batch], tf.cast(count, tf.int32))
        gaussian = tf.zeros([batch, 1], tf.bool)
    active = tf.cast(tf.range(k)[None, :] < tf.minimum(n, k)[:, None], tf.float32)

    def centres(side, key_normal, key_uniform):
        side_f = tf.cast(side, tf.float32)
        normal = side_f / 2 + tf.random.stateless_normal([batch, k], key_normal) * side_f / 4
        uniform = tf.random.stateless_uniform([batch, k], key_uniform) * side_f
        chosen = tf.where(gaussian, normal, uniform)
        return tf.clip_by_value(tf.cast(chosen, tf.int32), 0, side - 1)

    sizes = tf.random.stateless_uniform([batch, k], seeds[4], 1, MAX_PATCH + 1, tf.int32)
    rows = _indicators(centres(height, seeds[2], seeds[3]), sizes, height)
    cols = _indicators(centres(width, seeds[5], seeds[6]), sizes, width)
    return paint_hints(target, rows, cols, active)


def add_hints(dataset, seed=0, count=None):
    """Map ``(gray, target)`` batches to ``((gray, hints), target)``, hints from the target.

    Each batch's hints come from ``(seed, batch index)``, so a validation
    pass sees the same hints every epoch and a training run's are repeatable.
    """
    def with_hints(index, batch):
        gray, target = batch
        hints = sample_hints(target, tf.stack([tf.cast(seed, tf.int64), index]), count=count)
        return (gray, hints), target

    return (dataset.enumerate().map(with_hints, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))
