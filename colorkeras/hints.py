"""Colour hints a person gives: "this dress was blue", as points on the photo.

A hint is a point in the input photo's pixels, a colour, and a radius:
``(x, y, colour)``, ``(x, y, colour, radius)`` or ``{"x", "y", "colour",
"radius"}``. A colour is ``"#rrggbb"`` or an RGB triple (0-255 integers, or
floats in [0, 1]). Only its a*b* is used: the photo keeps its own
luminance, so a hint says which colour, not how bright.

`hint_points` checks hints against a photo and packs them as a float32
``[K, 6]`` array (x, y, radius, r, g, b), the form the compiled recipe and
the ``colorize_with_hints`` signature take; `rasterize_hints` paints them at
the size the network runs at, in the network's units (a*b* / 110, mask).
"""

import json
import numbers
import re

import numpy as np

from colorkeras.errors import InputError

POINT_FIELDS = 6  # x, y, radius, r, g, b
MAX_RADIUS = 1000
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def parse_colour(colour):
    """RGB in [0, 1] (a 3-float tuple) from ``"#rrggbb"`` or an RGB triple."""
    if isinstance(colour, str):
        match = _HEX.fullmatch(colour.strip())
        if not match:
            raise InputError("A hint colour is '#rrggbb' or an RGB triple. "
                             f"Received: colour={colour!r}")
        value = match.group(1)
        return tuple(int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4))
    if (not isinstance(colour, (list, tuple, np.ndarray)) or len(colour) != 3
            or not all(isinstance(c, numbers.Real) and not isinstance(c, bool)
                       for c in colour)):
        raise InputError("A hint colour is '#rrggbb' or an RGB triple. "
                         f"Received: colour={colour!r}")
    values = [float(c) for c in colour]
    integers = all(float(c).is_integer() for c in values) and any(c > 1 for c in values)
    scale = 255.0 if integers else 1.0
    if not all(np.isfinite(c) and 0 <= c <= scale for c in values):
        raise InputError("An RGB hint colour takes 0-255 integers or floats in [0, 1]. "
                         f"Received: colour={colour!r}")
    return tuple(c / scale for c in values)


def colour_to_hex(rgb):
    """``"#rrggbb"`` for RGB in [0, 1]."""
    return "#" + "".join(f"{min(max(int(c * 255 + 0.5), 0), 255):02x}" for c in rgb)


def _fields(hint):
    """(x, y, colour, radius) from a tuple or a dict."""
    if isinstance(hint, dict):
        unknown = sorted(set(hint) - {"x", "y", "colour", "color", "radius"})
        if unknown or not {"x", "y"} <= set(hint) or not ({"colour", "color"} & set(hint)):
            raise InputError('A hint is {"x", "y", "colour"[, "radius"]}. '
                             f"Received: {hint!r}")
        return (hint["x"], hint["y"], hint.get("colour", hint.get("color")),
                hint.get("radius", 0))
    if isinstance(hint, (list, tuple)) and len(hint) in (3, 4):
        return (*hint, 0) if len(hint) == 3 else tuple(hint)
    raise InputError("A hint is (x, y, colour), (x, y, colour, radius) or "
                     f'{{"x", "y", "colour", "radius"}}. Received: {hint!r}')


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InputError(f"A hint's `{name}` must be a number. Received: {name}={value!r}")
    return float(value)


def hint_points(hints, height, width):
    """Check ``hints`` against a ``height`` x ``width`` photo; float32 ``[K, 6]``.

    Coordinates are the input's pixels (x to the right, y down, 0 at the
    top-left pixel's centre); a radius of 0 hints the one pixel the point
    falls on at the size the network runs at.
    """
    if hints is None:
        return np.zeros([0, POINT_FIELDS], np.float32)
    if not isinstance(hints, (list, tuple)):
        raise InputError(f"`hints` must be a list of hints. Received: a {type(hints).__name__}")
    rows = []
    for hint in hints:
        x, y, colour, radius = _fields(hint)
        x, y, radius = _number("x", x), _number("y", y), _number("radius", radius)
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            raise InputError(f"A hint at (x={x:g}, y={y:g}) is outside the {width}x{height} "
                             "photo (x in [0, width - 1], y in [0, height - 1]).")
        if not 0 <= radius <= MAX_RADIUS:
            raise InputError(f"A hint's `radius` must be in [0, {MAX_RADIUS}] pixels. "
                             f"Received: radius={radius:g}")
        rows.append([x, y, radius, *parse_colour(colour)])
    return np.asarray(rows, np.float32).reshape([-1, POINT_FIELDS])


def read_hints_file(path):
    """The hints of a JSON file: a list of ``{"x", "y", "colour", "radius"}``."""
    try:
        with open(path) as f:
            hints = json.load(f)
    except OSError as error:
        raise InputError(f"`hints`: cannot read {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"`hints`: {path} is not JSON ({error})") from None
    if not isinstance(hints, list):
        raise InputError(f'`hints`: {path} must hold a JSON list of {{"x", "y", "colour", '
                         f'"radius"}} objects. Received: a {type(hints).__name__}')
    for hint in hints:
        if not isinstance(hint, dict):
            raise InputError(f'`hints`: every entry of {path} must be an object '
                             f'{{"x", "y", "colour", "radius"}}. Received: {hint!r}')
        _fields(hint)
    return hints


def hints_to_json(points):
    """The JSON text of ``[K, 6]`` hint points, as `read_hints_file` reads it."""
    return json.dumps([{"x": round(float(x), 2), "y": round(float(y), 2),
                        "colour": colour_to_hex((r, g, b)), "radius": round(float(radius), 2)}
                       for x, y, radius, r, g, b in np.asarray(points).reshape(-1, 6)], indent=1)


def rasterize_hints(points, image_size, render_size):
    """The hints input ``[1, h, w, 3]`` for ``[K, 6]`` points on a photo of ``image_size``.

    The photo is rendered at ``render_size`` (h, w); each hint becomes a disk
    of its radius, scaled to the render, holding its colour's a*b* / 110
    (at least the render pixel nearest the point). Overlapping disks
    average their colours. A TensorFlow function, traced into the recipe.
    """
    import tensorflow as tf

    from colorkeras import color

    points = tf.convert_to_tensor(points, tf.float32)
    image_size = tf.cast(image_size, tf.float32)
    render = tf.cast(render_size, tf.float32)
    scale = render / image_size  # (sy, sx)
    # Pixel centres: pixel i of n covers [i, i + 1) of the photo's n.
    cy = (points[:, 1] + 0.5) * scale[0] - 0.5
    cx = (points[:, 0] + 0.5) * scale[1] - 0.5
    radius = tf.maximum(points[:, 2] * tf.reduce_mean(scale), 0.75)  # >= one pixel
    ys = tf.range(tf.cast(render_size[0], tf.float32))
    xs = tf.range(tf.cast(render_size[1], tf.float32))
    dy = ys[None, :, None] - cy[:, None, None]
    dx = xs[None, None, :] - cx[:, None, None]
    disks = tf.cast(dy * dy + dx * dx <= (radius * radius)[:, None, None], tf.float32)
    ab = color.rgb_to_lab(tf.reshape(points[:, 3:], [-1, 1, 1, 3]))[:, 0, 0, 1:]
    ab = ab / color.LAB_AB_SCALE
    count = tf.reduce_sum(disks, 0)
    painted = tf.einsum("kyx,kc->yxc", disks, ab) / tf.maximum(count, 1.0)[..., None]
    mask = tf.cast(count > 0, tf.float32)[..., None]
    return tf.concat([painted * mask, mask], -1)[None]
