"""Colour spaces as TensorFlow ops.

Every function works on batched or single images laid out channels-last, is
differentiable, and keeps RGB in [0, 1]. The network always sees the BT.601
luma ``Y`` of the photo (for a gray photo that is simply its pixel value), and
predicts a target in one of three colour spaces: full ``rgb``, or only the
chroma channels of ``lab`` or ``yuv``, scaled to about [-1, 1].
"""

import numpy as np
import tensorflow as tf

from colorkeras.choices import COLOR_SPACES
from colorkeras.errors import InputError


def check_color_space(color_space):
    """Raise a clear error for an unknown colour-space name."""
    if color_space not in COLOR_SPACES:
        raise InputError(
            f"`color_space` must be one of {list(COLOR_SPACES)}. "
            f"Received: color_space={color_space!r}"
        )
    return color_space


def output_channels(color_space):
    """How many channels a network predicts: RGB has 3, a chroma pair 2."""
    return 3 if check_color_space(color_space) == "rgb" else 2


def output_activation(color_space):
    """The activation that maps onto the target's range."""
    return "sigmoid" if check_color_space(color_space) == "rgb" else "tanh"


# ---------------------------------------------------------------------------
# Constants. The network's chroma targets are divided by these scales so that
# they fit a tanh output; keep them here so encoding and decoding agree.
# ---------------------------------------------------------------------------

LAB_AB_SCALE = 110.0
"""a* and b* are divided by this. sRGB's a*/b* span about [-86, 98] / [-108, 95]."""

YUV_UV_SCALE = (0.436, 0.615)
"""U and V are divided by these: the nominal BT.601 maxima of |U| and |V|."""

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""BT.601 luma weights of R, G and B."""

# BT.601 RGB -> YUV, the same matrix as `tf.image.rgb_to_yuv` (columns: Y, U, V).
# Its inverse is computed rather than copied from `tf.image.yuv_to_rgb` (whose
# entries are rounded) so that luma survives a round trip exactly.
_RGB_TO_YUV = np.array(
    [
        [0.299, -0.14714119, 0.61497538],
        [0.587, -0.28886916, -0.51496512],
        [0.114, 0.43601035, -0.10001026],
    ]
)
_YUV_TO_RGB = np.linalg.inv(_RGB_TO_YUV)

# sRGB (linear) -> CIE XYZ, and the D65 / 2 degree white point; the values
# scikit-image uses, so results agree with `skimage.color.rgb2lab`.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_RGB_FROM_XYZ = np.linalg.inv(_XYZ_FROM_RGB)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])

# The CIE Lab transfer function f(t) is t^(1/3) above (6/29)^3 and a straight
# line below; the line keeps f and its gradient finite at 0.
_LAB_DELTA = 6.0 / 29.0


def _as_float(x):
    """Convert to a float32 tensor (integer images are *not* rescaled)."""
    x = tf.convert_to_tensor(x)
    return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def _apply_matrix(x, matrix):
    """Multiply the channel vector of every pixel: out[..., j] = sum_i x[..., i] m[i, j]."""
    return tf.tensordot(x, tf.constant(matrix, tf.float32), axes=[[-1], [0]])


def _srgb_to_linear(c):
    # The power branch only sees values above the knee, so its gradient is finite.
    power = ((tf.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4
    return tf.where(c > 0.04045, power, c / 12.92)


def _linear_to_srgb(c):
    power = 1.055 * tf.maximum(c, 0.0031308) ** (1.0 / 2.4) - 0.055
    return tf.where(c > 0.0031308, power, 12.92 * c)


def _lab_f(t):
    cube_root = tf.maximum(t, _LAB_DELTA**3) ** (1.0 / 3.0)
    linear = t / (3.0 * _LAB_DELTA**2) + 4.0 / 29.0
    return tf.where(t > _LAB_DELTA**3, cube_root, linear)


def _lab_f_inverse(f):
    linear = 3.0 * _LAB_DELTA**2 * (f - 4.0 / 29.0)
    return tf.where(f > _LAB_DELTA, f**3, linear)


def rgb_to_lab(rgb):
    """sRGB in [0, 1] -> CIE Lab (D65 white, 2 degree observer), L* in [0, 100].

    The sRGB gamma is undone first, as Lab is defined on linear light.
    Gradients are finite everywhere, including at 0 and 1.
    """
    linear = _srgb_to_linear(_as_float(rgb))
    xyz = _apply_matrix(linear, _XYZ_FROM_RGB.T) / tf.constant(_D65_WHITE, tf.float32)
    fx, fy, fz = tf.unstack(_lab_f(xyz), axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab):
    """CIE Lab (D65, 2 degree) -> sRGB clipped to [0, 1].

    Lab colours outside the sRGB gamut are clipped per channel, as
    `skimage.color.lab2rgb` does (which also floors a negative Z at 0).
    """
    lightness, a, b = tf.unstack(_as_float(lab), axis=-1)
    fy = (lightness + 16.0) / 116.0
    f = tf.stack([fy + a / 500.0, fy, tf.maximum(fy - b / 200.0, 0.0)], axis=-1)
    xyz = _lab_f_inverse(f) * tf.constant(_D65_WHITE, tf.float32)
    linear = tf.clip_by_value(_apply_matrix(xyz, _RGB_FROM_XYZ.T), 0.0, 1.0)
    return tf.clip_by_value(_linear_to_srgb(linear), 0.0, 1.0)


def rgb_to_yuv(rgb):
    """RGB -> BT.601 YUV: Y in [0, 1], U in about [-0.436, 0.436], V in [-0.615, 0.615]."""
    return _apply_matrix(_as_float(rgb), _RGB_TO_YUV)


def yuv_to_rgb(yuv):
    """BT.601 YUV -> RGB clipped to [0, 1]."""
    return tf.clip_by_value(_apply_matrix(_as_float(yuv), _YUV_TO_RGB), 0.0, 1.0)


def luminance(rgb):
    """BT.601 luma ``Y`` of an RGB image, shape ``[..., 1]``: the network's gray input.

    An image that already has one channel is taken to be gray and returned as is.
    """
    rgb = _as_float(rgb)
    if rgb.shape[-1] == 1:
        return rgb
    return _apply_matrix(rgb, np.array(LUMA_WEIGHTS)[:, None])


def _chroma_scales(color_space):
    """Per-channel divisor of the chroma target of a colour space."""
    if color_space == "lab":
        return tf.constant([LAB_AB_SCALE, LAB_AB_SCALE], tf.float32)
    return tf.constant(YUV_UV_SCALE, tf.float32)


def encode_target(rgb, color_space):
    """What the network learns to predict for an RGB photo.

    - ``rgb``: the image itself, in [0, 1].
    - ``lab``: ``(a*, b*) / 110``. Over the sRGB gamut this lies in about
      [-0.98, 0.90], comfortably inside a tanh's range.
    - ``yuv``: ``(U / 0.436, V / 0.615)``. The blue and yellow corners of the
      RGB cube reach ``|U| / 0.436 = 1.00002``: the BT.601 matrix's U row sums
      to 0.43601, a hair over the nominal 0.436. A tanh cannot reach it; the
      miss is far below one 8-bit level.
    """
    rgb = _as_float(rgb)
    if check_color_space(color_space) == "rgb":
        return rgb
    convert = rgb_to_lab if color_space == "lab" else rgb_to_yuv
    return convert(rgb)[..., 1:] / _chroma_scales(color_space)


def gray_to_lightness(gray):
    """L* of a gray image, shape ``[..., 1]``: Lab of the pixel ``(Y, Y, Y)``."""
    gray = luminance(gray)
    return rgb_to_lab(tf.concat([gray, gray, gray], axis=-1))[..., :1]


def decode_output(gray, output, color_space):
    """RGB in [0, 1] from the network's gray input and its output.

    For the chroma spaces the lightness comes from the gray input itself, so
    the network only ever has to supply colour.
    """
    output = _as_float(output)
    if check_color_space(color_space) == "rgb":
        return tf.clip_by_value(output, 0.0, 1.0)
    chroma = output * _chroma_scales(color_space)
    gray = luminance(gray)
    if color_space == "lab":
        # L* of the gray pixel is only close to the colour's true L* (luma is
        # taken on gamma-encoded values); putting the result back onto the
        # gray's luma keeps the photo's own brightness exactly.
        rgb = lab_to_rgb(tf.concat([gray_to_lightness(gray), chroma], axis=-1))
        return recombine_luminance(gray, rgb)
    return yuv_to_rgb(tf.concat([gray, chroma], axis=-1))


def recombine_luminance(gray, rgb):
    """RGB whose luma is ``gray`` and whose chroma (U, V) comes from ``rgb``.

    ``rgb`` may be smaller than ``gray``: see `with_chroma`. Decoding a Lab
    output uses it to keep the gray input's brightness exactly.
    """
    return with_chroma(luminance(gray), rgb_to_yuv(rgb)[..., 1:])


def with_chroma(gray, chroma):
    """RGB from a luma ``gray`` ``[..., H, W, 1]`` and a BT.601 chroma pair (U, V).

    This puts a network's colour, computed at any resolution, onto the
    full-resolution photo: if ``chroma`` is smaller than ``gray``, it is
    resized bilinearly (chroma is smooth, so little is lost). The output's
    luma equals ``gray`` exactly before the final clip to [0, 1].
    """
    if gray.shape[-3:-1] != chroma.shape[-3:-1] or None in gray.shape[-3:-1]:
        chroma = tf.image.resize(chroma, tf.shape(gray)[-3:-1], method="bilinear")
    return yuv_to_rgb(tf.concat([gray, chroma], axis=-1))
