"""The sizes and pixels the colorization recipe works with, in TF ops.

`colorizer.ColorizeRecipe.colorize` owns the recipe; these are its parts
that other code asks about without colorizing: which render size is valid,
how large the network's input is for a photo (`render_shape`, the bound on
time and memory every path shares), how a note about a shrunk render reads,
and how uint8 photos of 1-4 channels become RGB in [0, 1]. They hold no
model, so the commands and the video reader use them too.
"""

import numpy as np
import tensorflow as tf

from colorkeras.errors import InputError

DEFAULT_RENDER_SIZE = 256
"""The shorter side the network runs at unless told otherwise."""

IMAGES_SPEC = tf.TensorSpec([None, None, None, None], tf.uint8, name="images")
"""Any batch of uint8 photos: the input of `colorize` and of the served model."""


def check_render_size(render_size):
    """A positive int, or None to run the network at the photo's own size."""
    if render_size is None:
        return None
    if isinstance(render_size, bool) or not isinstance(render_size, (int, np.integer)) or (
        render_size < 1
    ):
        raise InputError(
            "`render_size` must be a positive integer or None. "
            f"Received: render_size={render_size!r}"
        )
    return int(render_size)


def to_rgb(images_uint8):
    """uint8 ``[N, H, W, C]`` (C: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) -> RGB in [0, 1].

    Transparency is flattened onto white, as a page shows it. The channel
    count may be unknown until run time (the served signature takes any).
    """
    x = tf.cast(images_uint8, tf.float32) / 255.0
    channels = tf.shape(x)[-1]
    checks = [
        tf.debugging.assert_rank(x, 4, message="images must be [N, H, W, C]"),
        tf.debugging.assert_less_equal(
            channels, 4, message="images must have 1 (gray), 2, 3 (RGB) or 4 channels"
        ),
    ]
    with tf.control_dependencies(checks):
        has_alpha = tf.equal(channels % 2, 0)
        alpha = tf.where(has_alpha, x[..., -1:], tf.ones_like(x[..., :1]))
        colour = x[..., : channels - tf.cast(has_alpha, tf.int32)]
        # Broadcasting spreads gray over R, G and B and leaves RGB as it is.
        rgb = (colour * alpha + (1.0 - alpha)) * tf.ones([3])
    return tf.ensure_shape(rgb, [None, None, None, 3])


RENDER_AREA_FACTOR = 4
"""The network sees at most this many times a square render's pixels (``render_size**2``)."""

FULL_SIZE_RENDER_PIXELS = 2048 * 2048
"""With ``render_size=None`` the network sees at most this many pixels."""


def max_render_pixels(render_size):
    """The most pixels the network is given for one photo: the bound on work.

    The shorter side goes to ``render_size``, so a thin photo's longer side
    would follow it up without end: 2x2000 pixels would run the network at
    256x256000, tens of gigabytes. The bound is on the network's input, not on
    the photo, because that is what costs the time and memory.
    """
    if render_size is None:
        return FULL_SIZE_RENDER_PIXELS
    return RENDER_AREA_FACTOR * render_size * render_size


MIN_RENDER_SIDE = 32
"""The network's shorter side is not shrunk below this (a network pads up to its size multiple)."""


def render_shape(size, render_size):
    """(height, width) the network runs at for a photo of ``size``.

    The shorter side goes to ``render_size`` (None: the photo's own size),
    aspect kept. A render over `max_render_pixels` is then shrunk, aspect
    still kept, but not below `MIN_RENDER_SIDE` on its shorter side (a
    network pads a thinner input up to its size multiple, which would undo
    the bound); past that, its longer side is cut to fit. So a photo up to
    4:1 renders as asked and a thinner one smaller, the chroma being
    upsampled onto the full-size luminance either way. Every path that
    colorizes (the API, the commands, the app, both SavedModel signatures,
    video) asks this before any large tensor is made, so no input, however
    thin, makes the network run large.
    """
    limit = max_render_pixels(render_size)
    target = tf.cast(size, tf.float32)
    if render_size is not None:
        target *= tf.cast(render_size, tf.float32) / tf.reduce_min(target)
    shorter = tf.reduce_min(target)
    shrink = tf.minimum(1.0, tf.sqrt(float(limit) / tf.reduce_prod(target)))
    shrink = tf.maximum(shrink, tf.minimum(float(MIN_RENDER_SIDE), shorter) / shorter)
    shape = tf.maximum(tf.cast(tf.round(target * shrink), tf.int32), 1)
    return tf.minimum(shape, limit // tf.maximum(tf.reduce_min(shape), MIN_RENDER_SIDE))


class RenderShrunk(UserWarning):
    """A photo rendered smaller than asked, to keep the network's work bounded."""


def render_note(height, width, render_size):
    """One line saying how `render_shape` shrank a photo's render, or None if it did not."""
    scale = 1.0 if render_size is None else render_size / min(height, width)
    asked = [max(int(round(side * scale)), 1) for side in (height, width)]
    shape = [int(side) for side in render_shape(tf.constant([height, width]), render_size)]
    if shape == asked:
        return None
    return (f"{width}x{height} pixels: the network runs at {shape[1]}x{shape[0]}, not "
            f"{asked[1]}x{asked[0]}; it takes at most {max_render_pixels(render_size):,} pixels")
