"""Image-quality and colour metrics for colorization, one value per image.

Every function takes ``y_true, y_pred``: RGB float in [0, 1], shape
``[N, H, W, 3]`` (a single ``[H, W, 3]`` image counts as ``N = 1``), and
returns a float32 tensor of shape ``[N]``. Per-image values let one function
serve both training (average them) and offline evaluation (one row per image);
`summarize` computes them all at once.

Pixel metrics (mae, mse, huber, bce, psnr, ssim) say how close the output is;
they reward dull, gray-ish output. The colour metrics say *how* it is wrong:
CIEDE2000 and ab MAE measure perceived colour error, colorfulness and
grayishness measure vividness, the cast measures a global tint, and colour
bleeding measures whether errors gather at object edges.

Keras metric classes at the bottom (`PSNR`, `SSIM`, `DeltaE2000`, ...) wrap
these functions for ``model.compile(metrics=[...])``. They need RGB
predictions: compile them on a model whose output is decoded RGB.
"""

import math

import keras
import tensorflow as tf

from colorkeras import color
from colorkeras.errors import InputError

PSNR_CAP_DB = 100.0
"""PSNR of identical images would be infinite; it is capped here so means stay finite."""

SSIM_FILTER_SIZE = 11
"""`tf.image.ssim`'s Gaussian window; smaller images get a window as large as they are."""

_EPS = 1e-7
_RATIO_EPS = 1e-3  # below this a colourfulness or mean chroma counts as none

TRUTH_COLORFULNESS_FLOOR = 5.0
"""Below this truth colourfulness (0..255 scale) a per-photo ratio is left undefined
(NaN): a near-gray photo would divide by almost nothing and swamp any mean."""

BLOTCH_ERROR = 40.0
BLOTCH_EXCESS_CHROMA = 25.0
"""A blotch pixel: a*b* error above `BLOTCH_ERROR` where the output's chroma exceeds
the truth's by more than `BLOTCH_EXCESS_CHROMA` (Lab units): vivid and wrong."""

METRIC_NAMES = (
    "mae",
    "mse",
    "huber",
    "bce",
    "psnr",
    "ssim",
    "ciede2000",
    "ab_mae",
    "colorfulness",
    "colorfulness_ratio",
    "delta_colorfulness",
    "grayishness",
    "cast_a",
    "cast_b",
    "cast_magnitude",
    "color_bleeding",
    "blotch_share",
)
"""Every name `summarize` returns, in a stable column order."""


def _as_images(x):
    """Float32 ``[N, H, W, C]``: a single ``[H, W, C]`` image gets a batch axis."""
    x = tf.convert_to_tensor(x)
    x = x if x.dtype == tf.float32 else tf.cast(x, tf.float32)
    if x.shape.rank == 3:
        x = x[tf.newaxis]
    if x.shape.rank != 4:
        raise InputError(
            f"Images must have shape [N, H, W, C] or [H, W, C]. Received: shape={x.shape}"
        )
    return x


def _pair(y_true, y_pred):
    return _as_images(y_true), _as_images(y_pred)


def _per_image_mean(x):
    """Mean over every axis but the first."""
    return tf.reduce_mean(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1)


def _safe_sqrt(x):
    """sqrt that is exactly 0 at 0 and has a finite gradient there."""
    positive = x > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, x, 1.0)), 0.0)


def _safe_ratio(numerator, denominator, eps):
    """numerator / denominator, and 1 when both are ~0 (equally colourless)."""
    both_zero = (numerator < eps) & (denominator < eps)
    return tf.where(both_zero, 1.0, numerator / tf.maximum(denominator, eps))


# ---------------------------------------------------------------------------
# Pixel metrics (the study's losses, measured per image).
# ---------------------------------------------------------------------------


def mae(y_true, y_pred):
    """Mean absolute error over pixels and channels."""
    y_true, y_pred = _pair(y_true, y_pred)
    return _per_image_mean(tf.abs(y_pred - y_true))


def mse(y_true, y_pred):
    """Mean squared error over pixels and channels."""
    y_true, y_pred = _pair(y_true, y_pred)
    return _per_image_mean(tf.square(y_pred - y_true))


def huber(y_true, y_pred, delta=1.0):
    """Mean Huber loss: quadratic below ``delta``, linear above (as `keras.losses.Huber`)."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = tf.abs(y_pred - y_true)
    quadratic = tf.minimum(error, delta)
    return _per_image_mean(0.5 * quadratic**2 + delta * (error - quadratic))


def bce(y_true, y_pred, eps=_EPS):
    """Binary cross-entropy, treating each channel value as a probability.

    ``y_pred`` is clipped to ``[eps, 1 - eps]`` so the log stays finite. Its
    minimum is not 0 but the entropy of ``y_true``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    p = tf.clip_by_value(y_pred, eps, 1.0 - eps)
    return _per_image_mean(-(y_true * tf.math.log(p) + (1.0 - y_true) * tf.math.log(1.0 - p)))


def psnr(y_true, y_pred):
    """Peak signal-to-noise ratio in dB for ``max_val = 1``, capped at `PSNR_CAP_DB`."""
    min_mse = 10.0 ** (-PSNR_CAP_DB / 10.0)
    return -10.0 * tf.math.log(tf.maximum(mse(y_true, y_pred), min_mse)) / tf.math.log(10.0)


def ssim(y_true, y_pred):
    """Structural similarity (`tf.image.ssim`, ``max_val = 1``), averaged over channels.

    `tf.image.ssim` needs images at least as large as its 11x11 window; for
    smaller images (known statically) the window shrinks to the smaller side,
    which keeps the value defined, if less comparable with 11x11 figures.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    sides = [s for s in y_true.shape[1:3] if s is not None]
    filter_size = min([SSIM_FILTER_SIZE] + sides)
    return tf.image.ssim(y_true, y_pred, max_val=1.0, filter_size=filter_size)


# ---------------------------------------------------------------------------
# Colourfulness.
# ---------------------------------------------------------------------------


def colorfulness(rgb):
    """Hasler & Süsstrunk (2003) colourfulness of each image, on a 0..255 scale.

    With ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over the image's pixels::

        M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)

    (population standard deviations). 0 for any gray image; on the paper's
    scale 33 is "moderately colourful" and 82 "highly colourful".
    """
    rgb = _as_images(rgb) * 255.0
    r, g, b = tf.unstack(rgb, axis=-1)
    rg = tf.reshape(r - g, [tf.shape(rgb)[0], -1])
    yb = tf.reshape(0.5 * (r + g) - b, [tf.shape(rgb)[0], -1])

    def variance(x):
        return tf.reduce_mean(tf.square(x - tf.reduce_mean(x, axis=1, keepdims=True)), axis=1)

    spread = _safe_sqrt(variance(rg) + variance(yb))
    offset = _safe_sqrt(tf.reduce_mean(rg, axis=1) ** 2 + tf.reduce_mean(yb, axis=1) ** 2)
    return spread + 0.3 * offset


def colorfulness_ratio(y_true, y_pred, eps=_RATIO_EPS):
    """C(pred) / C(true): 1 is as vivid as the truth, 0 is gray.

    A colourless truth (C < ``eps``) divides by ``eps`` instead; when both are
    colourless the ratio is 1.
    """
    return _safe_ratio(colorfulness(y_pred), colorfulness(y_true), eps)


def delta_colorfulness(y_true, y_pred):
    """|C(pred) - C(true)| on the 0..255 colourfulness scale."""
    return tf.abs(colorfulness(y_pred) - colorfulness(y_true))


# ---------------------------------------------------------------------------
# Lab metrics. Each has a private form taking Lab images, so `summarize`
# converts to Lab once.
# ---------------------------------------------------------------------------


def _lab_pair(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return color.rgb_to_lab(y_true), color.rgb_to_lab(y_pred)


def _radians(degrees):
    return degrees * (math.pi / 180.0)


def _hue_degrees(a, b):
    """Hue angle in [0, 360); 0 for a colourless pixel (and a finite gradient there)."""
    zero = (a == 0.0) & (b == 0.0)
    hue = tf.math.atan2(b, tf.where(zero, 1.0, a)) * (180.0 / math.pi)
    return tf.where(hue < 0.0, hue + 360.0, hue)


def ciede2000_lab(lab1, lab2):
    """CIEDE2000 colour difference of every pixel pair (kL = kC = kH = 1).

    Follows Sharma, Wu & Dalal (2005): chroma-dependent stretch ``G`` of a*,
    hues from atan2 in [0, 360), hue difference and mean hue wrapped across
    0/360 (and taken as 0 / the sum when a chroma is 0), and the blue-region
    rotation term ``R_T``.

    Args:
        lab1, lab2: CIE Lab tensors of the same shape ``[..., 3]``.

    Returns:
        ``[...]``: ΔE00 per pixel.
    """
    lab1, lab2 = tf.cast(lab1, tf.float32), tf.cast(lab2, tf.float32)
    l1, a1, b1 = tf.unstack(lab1, axis=-1)
    l2, a2, b2 = tf.unstack(lab2, axis=-1)
    pow25_7 = 25.0**7

    c_mean = 0.5 * (_safe_sqrt(a1**2 + b1**2) + _safe_sqrt(a2**2 + b2**2))
    g = 0.5 * (1.0 - _safe_sqrt(c_mean**7 / (c_mean**7 + pow25_7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = _safe_sqrt(a1p**2 + b1**2), _safe_sqrt(a2p**2 + b2**2)
    h1p, h2p = _hue_degrees(a1p, b1), _hue_degrees(a2p, b2)

    chroma_product = c1p * c2p
    colourless = chroma_product == 0.0
    h_diff = h2p - h1p
    dh = tf.where(h_diff > 180.0, h_diff - 360.0, tf.where(h_diff < -180.0, h_diff + 360.0, h_diff))
    dh = tf.where(colourless, 0.0, dh)
    d_l = l2 - l1
    d_c = c2p - c1p
    d_h = 2.0 * _safe_sqrt(chroma_product) * tf.sin(_radians(dh) / 2.0)

    l_mean = 0.5 * (l1 + l2)
    cp_mean = 0.5 * (c1p + c2p)
    h_sum = h1p + h2p
    h_mean = tf.where(
        tf.abs(h_diff) <= 180.0,
        h_sum,
        tf.where(h_sum < 360.0, h_sum + 360.0, h_sum - 360.0),
    )
    h_mean = tf.where(colourless, h_sum, 0.5 * h_mean)

    t = (
        1.0
        - 0.17 * tf.cos(_radians(h_mean - 30.0))
        + 0.24 * tf.cos(_radians(2.0 * h_mean))
        + 0.32 * tf.cos(_radians(3.0 * h_mean + 6.0))
        - 0.20 * tf.cos(_radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * tf.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    r_c = 2.0 * _safe_sqrt(cp_mean**7 / (cp_mean**7 + pow25_7))
    r_t = -tf.sin(_radians(2.0 * d_theta)) * r_c

    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / tf.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    l_term, c_term, h_term = d_l / s_l, d_c / s_c, d_h / s_h
    return _safe_sqrt(tf.maximum(l_term**2 + c_term**2 + h_term**2 + r_t * c_term * h_term, 0.0))


def _ciede2000(lab_true, lab_pred):
    return _per_image_mean(ciede2000_lab(lab_true, lab_pred))


def ciede2000(y_true, y_pred):
    """Mean CIEDE2000 (ΔE00) over pixels; about 2.3 is a just-noticeable difference."""
    return _ciede2000(*_lab_pair(y_true, y_pred))


def _ab_mae(lab_true, lab_pred):
    return _per_image_mean(tf.abs(lab_pred[..., 1:] - lab_true[..., 1:]))


def ab_mae(y_true, y_pred):
    """Mean over pixels of ``(|Δa*| + |Δb*|) / 2``, in Lab units.

    It ignores lightness, which in this project comes from the input anyway,
    so it isolates the colour the network chose.
    """
    return _ab_mae(*_lab_pair(y_true, y_pred))


def _color_cast(lab_true, lab_pred):
    mean_ab = lambda lab: tf.reduce_mean(lab[..., 1:], axis=[1, 2])  # noqa: E731
    return mean_ab(lab_pred) - mean_ab(lab_true)


def color_cast(y_true, y_pred):
    """``[N, 2]``: mean a* and mean b* of the prediction minus those of the truth.

    A global tint: positive a* is too red/magenta, negative too green;
    positive b* too yellow, negative too blue.
    """
    return _color_cast(*_lab_pair(y_true, y_pred))


def color_cast_magnitude(y_true, y_pred):
    """Euclidean length of `color_cast` in the a*b* plane, Lab units."""
    return _safe_sqrt(tf.reduce_sum(color_cast(y_true, y_pred) ** 2, axis=-1))


def _blotch_share(lab_true, lab_pred):
    chroma = lambda lab: _safe_sqrt(lab[..., 1] ** 2 + lab[..., 2] ** 2)  # noqa: E731
    error = _safe_sqrt(tf.reduce_sum((lab_pred[..., 1:] - lab_true[..., 1:]) ** 2, axis=-1))
    blotch = (error > BLOTCH_ERROR) & (chroma(lab_pred) - chroma(lab_true) > BLOTCH_EXCESS_CHROMA)
    return tf.reduce_mean(tf.cast(blotch, tf.float32), axis=[1, 2])


def blotch_share(y_true, y_pred):
    """Share of each image's pixels that are blotches (see `BLOTCH_ERROR`).

    A GAN or a rebalanced classifier can paint saturated patches where the
    truth is muted; a mean error hides them, this counts them.
    """
    return _blotch_share(*_lab_pair(y_true, y_pred))


def _mean_chroma(lab):
    return _per_image_mean(_safe_sqrt(lab[..., 1] ** 2 + lab[..., 2] ** 2))


def _grayishness(lab_true, lab_pred, eps=_RATIO_EPS):
    return _safe_ratio(_mean_chroma(lab_pred), _mean_chroma(lab_true), eps)


def grayishness(y_true, y_pred, eps=_RATIO_EPS):
    """Mean chroma C*ab of the prediction over that of the truth.

    Despite the name (the study's), *lower means grayer*: 0 for a gray
    output, 1 for one as saturated as the truth, above 1 for an over-saturated
    one. A colourless truth is guarded as in `colorfulness_ratio`.
    """
    return _grayishness(*_lab_pair(y_true, y_pred), eps=eps)


def edge_mask(rgb, radius=2, threshold=0.3):
    """``[N, H, W, 1]`` boolean: pixels within ``radius`` px of a luminance edge.

    Edges are where the Sobel gradient magnitude of the luma exceeds
    ``threshold`` (a sharp step of height h gives magnitude 4h, so 0.3 marks
    steps of about 0.075 and up); they are dilated by a
    ``(2 radius + 1)``-square max-pool.
    """
    gray = color.luminance(_as_images(rgb))
    gradients = tf.image.sobel_edges(gray)  # [N, H, W, 1, 2]
    magnitude = _safe_sqrt(tf.reduce_sum(gradients**2, axis=-1))
    edges = tf.cast(magnitude > threshold, tf.float32)
    if radius > 0:
        edges = tf.nn.max_pool2d(edges, ksize=2 * radius + 1, strides=1, padding="SAME")
    return edges > 0.5


def _color_bleeding(lab_true, lab_pred, near_edges, floor=1.0):
    error = _safe_sqrt(tf.reduce_sum((lab_pred[..., 1:] - lab_true[..., 1:]) ** 2, axis=-1))
    near = tf.cast(near_edges[..., 0], tf.float32)
    far = 1.0 - near

    def region_mean(mask):
        return tf.reduce_sum(error * mask, axis=[1, 2]), tf.reduce_sum(mask, axis=[1, 2])

    near_sum, near_count = region_mean(near)
    far_sum, far_count = region_mean(far)
    ratio = (near_sum / tf.maximum(near_count, 1.0) + floor) / (
        far_sum / tf.maximum(far_count, 1.0) + floor
    )
    return tf.where((near_count == 0.0) | (far_count == 0.0), 1.0, ratio)


def color_bleeding(y_true, y_pred, radius=2, threshold=0.3, floor=1.0):
    """How much more the colour is wrong at edges than away from them.

    The ab error of a pixel is its Euclidean distance in the a*b* plane. The
    score is::

        (mean error near edges + floor) / (mean error elsewhere + floor)

    where "near edges" is `edge_mask` of the *truth's* luma. Above 1, errors
    gather at edges: colour bleeding across object boundaries. Below 1 they
    lie in flat regions. ``floor`` (Lab units, below a just-noticeable
    difference) keeps the ratio finite and near 1 when both errors are tiny,
    while still exceeding 1 when the only errors sit at edges. An image with
    no edges, or nothing but edges, scores 1.

    Args:
        y_true, y_pred: RGB in [0, 1], ``[N, H, W, 3]`` or ``[H, W, 3]``.
        radius: how many pixels around an edge count as "near" it.
        threshold: Sobel magnitude of the luma above which a pixel is an edge.
        floor: Lab units added to both means.
    """
    if radius < 0:
        raise InputError(f"`radius` must be >= 0. Received: radius={radius}")
    y_true, y_pred = _pair(y_true, y_pred)
    near_edges = edge_mask(y_true, radius, threshold)
    lab_true, lab_pred = color.rgb_to_lab(y_true), color.rgb_to_lab(y_pred)
    return _color_bleeding(lab_true, lab_pred, near_edges, floor)


# ---------------------------------------------------------------------------
# Everything at once.
# ---------------------------------------------------------------------------


def summarize(y_true, y_pred):
    """Every metric of `METRIC_NAMES` as ``{name: [N] float32 tensor}``.

    Lab conversions are shared, so this is cheaper than calling each metric.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    lab_true, lab_pred = color.rgb_to_lab(y_true), color.rgb_to_lab(y_pred)
    cast = _color_cast(lab_true, lab_pred)
    c_true, c_pred = colorfulness(y_true), colorfulness(y_pred)
    values = {
        "mae": mae(y_true, y_pred),
        "mse": mse(y_true, y_pred),
        "huber": huber(y_true, y_pred),
        "bce": bce(y_true, y_pred),
        "psnr": psnr(y_true, y_pred),
        "ssim": ssim(y_true, y_pred),
        "ciede2000": _ciede2000(lab_true, lab_pred),
        "ab_mae": _ab_mae(lab_true, lab_pred),
        "colorfulness": c_pred,
        "colorfulness_ratio": tf.where(c_true < TRUTH_COLORFULNESS_FLOOR, float("nan"),
                                       c_pred / tf.maximum(c_true, _RATIO_EPS)),
        "delta_colorfulness": tf.abs(c_pred - c_true),
        "grayishness": _grayishness(lab_true, lab_pred),
        "cast_a": cast[:, 0],
        "cast_b": cast[:, 1],
        "cast_magnitude": _safe_sqrt(tf.reduce_sum(cast**2, axis=-1)),
        "color_bleeding": _color_bleeding(lab_true, lab_pred, edge_mask(y_true)),
        "blotch_share": _blotch_share(lab_true, lab_pred),
    }
    return {name: values[name] for name in METRIC_NAMES}


# ---------------------------------------------------------------------------
# Keras metrics: running means of the per-image values.
# ---------------------------------------------------------------------------


class _PerImageMean(keras.metrics.Mean):
    """Averages a per-image metric function over every image seen."""

    fn = None
    default_name = None

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name or self.default_name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(type(self).fn(y_true, y_pred), sample_weight=sample_weight)


def _serializable(cls):
    return keras.saving.register_keras_serializable(package="colorkeras")(cls)


@_serializable
class PSNR(_PerImageMean):
    """Running mean of `psnr` (dB, capped at `PSNR_CAP_DB`)."""

    fn = staticmethod(psnr)
    default_name = "psnr"


@_serializable
class SSIM(_PerImageMean):
    """Running mean of `ssim`."""

    fn = staticmethod(ssim)
    default_name = "ssim"


@_serializable
class DeltaE2000(_PerImageMean):
    """Running mean of `ciede2000` (mean ΔE00 per image)."""

    fn = staticmethod(ciede2000)
    default_name = "delta_e2000"


@_serializable
class ABMAE(_PerImageMean):
    """Running mean of `ab_mae` (Lab units)."""

    fn = staticmethod(ab_mae)
    default_name = "ab_mae"


@_serializable
class ColorfulnessRatio(keras.metrics.Metric):
    """Mean output colourfulness over mean truth colourfulness (1 = as vivid).

    A ratio of means, not a mean of per-image ratios: one near-gray truth
    photo would send a mean of ratios into the hundreds.
    """

    def __init__(self, name="colorfulness_ratio", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.predicted = self.add_variable(shape=(), initializer="zeros", name="predicted")
        self.true = self.add_variable(shape=(), initializer="zeros", name="true")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.predicted.assign_add(tf.reduce_sum(colorfulness(y_pred)))
        self.true.assign_add(tf.reduce_sum(colorfulness(y_true)))

    def result(self):
        return _safe_ratio(self.predicted, self.true, _RATIO_EPS)

    def reset_state(self):
        self.predicted.assign(0.0)
        self.true.assign(0.0)


@_serializable
class Grayishness(_PerImageMean):
    """Running mean of `grayishness` (chroma ratio; lower is grayer)."""

    fn = staticmethod(grayishness)
    default_name = "grayishness"


@_serializable
class ColorCastMagnitude(_PerImageMean):
    """Running mean of `color_cast_magnitude` (Lab units)."""

    fn = staticmethod(color_cast_magnitude)
    default_name = "cast_magnitude"


@_serializable
class ColorBleeding(_PerImageMean):
    """Running mean of `color_bleeding` with its default radius and threshold."""

    fn = staticmethod(color_bleeding)
    default_name = "color_bleeding"
