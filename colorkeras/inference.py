"""Inference: load a colorizer and colorize photos of any size.

- `load` returns a `Colorizer`: its ``predict`` and ``rgb`` take gray
  ``[N, H, W, 1]`` of any H and W to RGB ``[N, H, W, 3]`` in [0, 1], and its
  ``colorize`` is the one colorization recipe (`colorizer.ColorizeRecipe`):
  uint8 photos in, the network at a render size, its chroma upsampled onto
  each photo's own full-resolution luma.
- `colorize` is the Python API around it: a path, a PIL image, an array of
  any kind, or a list of them.

Pretrained models are presets (`colorkeras.presets`), found by name as
``exported_models/<name>/<name>.keras`` in ``$COLORKERAS_HOME`` (searched
first), in the installed package, and in a source checkout; `load` is the
short form of `Colorizer.from_preset`.
"""

import functools
import os
import pathlib
import warnings

import keras
import numpy as np
import tensorflow as tf

from colorkeras import images, runtimes
from colorkeras.colorizer import ColorizeRecipe, as_colorizer, load_file
from colorkeras.errors import InputError
from colorkeras.models import ColorizationNetwork
# Importable from here as before: `colorize` checks and warns with these, and
# `load` resolves names and folders with those.
from colorkeras.presets import (  # noqa: F401
    HOME_VARIABLE, available_models, looks_like_path, model_dirs, resolve)
from colorkeras.rendering import (  # noqa: F401
    DEFAULT_RENDER_SIZE, RenderShrunk, check_render_size, render_note, render_shape)


# --- the colorizer -------------------------------------------------------------


def is_colorizer(model):
    """Whether ``model`` colorizes photos of any size: a `Colorizer` or an export's runner."""
    return isinstance(model, ColorizeRecipe)


def load(name_or_path):
    """Load a colorizer: ``predict(gray [N, H, W, 1])`` -> RGB ``[N, H, W, 3]``.

    The short form of `Colorizer.from_preset`, which also takes files.

    Args:
        name_or_path: a preset's name (a pretrained model, see
            `available_models`) or folder (a training run's, an export's), a
            ``.keras`` file holding a colorizer or a bare network, or an
            in-memory colorizer or network; or an ``.onnx`` / ``.tflite``
            export (`colorkeras.runtimes`).

    Returns:
        A `Colorizer`: its ``predict`` and `Colorizer.rgb` take gray in [0, 1]
        of any height and width and return RGB in [0, 1] of the same size,
        whatever colour space the network was trained in. Loaded with
        ``safe_mode=True``. For an export, a `runtimes.PortableColorizer`
        that is used the same way.

    Examples:
    ```python
    colorizer = colorkeras.load("unet")
    rgb = colorizer.predict(gray)  # gray: float32 [N, H, W, 1]
    ```
    """
    if isinstance(name_or_path, keras.Model) or is_colorizer(name_or_path):
        return as_colorizer(name_or_path)
    if runtimes.is_portable_path(name_or_path):
        return runtimes.load(name_or_path)
    return load_file(resolve(name_or_path))


@functools.lru_cache(maxsize=4)
def _load_file(path, modified):
    del modified  # part of the cache key: a rewritten file is loaded again
    return load(path)


def colorizer_for(model):
    """A colorizer from whatever `colorize` was given, loading a file once.

    A file is loaded once per path and modification time; a bare network
    gets a `Colorizer` of its own once, so a loop that passes the same
    network traces the colorization once.
    """
    if isinstance(model, ColorizationNetwork):
        return _colorizer_of(model)
    if isinstance(model, (keras.Model, ColorizeRecipe)):
        return as_colorizer(model)
    if runtimes.is_portable_path(model):
        path = pathlib.Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"No such model file: {str(model)!r}")
    else:
        path = resolve(model)
    return _load_file(str(path), path.stat().st_mtime_ns)


_COLORIZER_ATTRIBUTE = "_colorkeras_colorizer"


def _colorizer_of(network):
    """The network's own `Colorizer`, made once and kept on it.

    Set past Keras's attribute tracking, which would count it as a sublayer;
    the two refer to each other, so they go together.
    """
    colorizer = getattr(network, _COLORIZER_ATTRIBUTE, None)
    if colorizer is None:
        colorizer = as_colorizer(network)
        object.__setattr__(network, _COLORIZER_ATTRIBUTE, colorizer)
    return colorizer


def takes_hints(colorizer):
    """Whether a loaded colorizer has a colour-hint input."""
    return bool(getattr(colorizer, "takes_hints", False))


# --- the Python API ------------------------------------------------------------


def as_image_array(image):
    """A path, PIL image or array as a uint8 ``[H, W, C]`` array, C in 1-4.

    Integers are read as [0, 255], uint16 as 16-bit, floats as [0, 1], or as
    [0, 255] when every value is a whole number and one is above 1 (see
    `images.to_uint8`, which refuses other floats outside [0, 1], NaN and inf).
    """
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        return images.read_image(image)
    if isinstance(image, Image.Image):
        return images.from_pil(image)
    if isinstance(image, tf.Tensor):
        image = image.numpy()
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or 0 in array.shape:
        raise InputError(
            "An image array must be [H, W] or [H, W, C] with C in 1-4 and no empty "
            f"side. Received: shape={array.shape}"
        )
    return images.to_uint8(array)


def colorize(image, model="pix2pix", render_size=DEFAULT_RENDER_SIZE, keep_luminance=True,
             hints=None):
    """Colorize a photo; uint8 RGB of the input's own size comes back.

    Args:
        image: a path, a PIL image, or an array (gray ``[H, W]`` / ``[H, W, 1]``,
            RGB, or with alpha; uint8, uint16, or float in [0, 1]); or a list
            of those, which gives a list.
        model: a pretrained model's name, a ``.keras``, ``.onnx`` or
            ``.tflite`` path, or a model from `load` (pass that in loops:
            nothing is loaded or traced again).
        render_size: the shorter side the network runs at; the colour is
            upsampled onto the photo's full-resolution luminance. None runs
            the network at the photo's own size (slow for large photos). The
            network never takes more than `max_render_pixels`: a photo
            thinner than 4:1 (or, with None, over 4 MP) is rendered smaller,
            with a `RenderShrunk` warning.
        keep_luminance: keep the photo's own luminance (sharp, faithful);
            False returns the network's RGB resized to the photo's size.
        hints: colour hints for a model with a hint input (``"unet-hints"``):
            a list of ``(x, y, colour)``, ``(x, y, colour, radius)`` or
            ``{"x", "y", "colour", "radius"}``, in the photo's pixels; a
            colour is ``"#rrggbb"`` or RGB (see `colorkeras.hints`). Only the
            colour's a*b* is used: the photo keeps its luminance. Not with a
            list of photos.

    Returns:
        uint8 array ``[H, W, 3]`` (a list of them for a list).

    Examples:
    ```python
    colorizer = colorkeras.load("pix2pix")
    rgb = colorkeras.colorize("old_photo.jpg", model=colorizer)
    PIL.Image.fromarray(rgb).save("old_photo_colour.png")
    # The dress at (120, 300) was blue:
    rgb = colorkeras.colorize("old_photo.jpg", model="unet-hints",
                              hints=[(120, 300, "#2040c0", 5)])
    ```
    """
    check_render_size(render_size)
    colorizer = colorizer_for(model)
    if hints is not None:
        if isinstance(image, (list, tuple)):
            raise InputError("`hints` belong to one photo: colorize a list of photos one "
                             "at a time to give each its hints")
        if not takes_hints(colorizer):
            raise InputError(f"This model ({getattr(colorizer, 'name', type(colorizer).__name__)})"
                             " takes no colour hints: use model='unet-hints'")

    def one(item):
        pixels = as_image_array(item)
        note = render_note(*pixels.shape[:2], render_size)
        if note:
            warnings.warn(note, RenderShrunk, stacklevel=3)
        rgb = colorizer.colorize(pixels[None], render_size=render_size,
                                 keep_luminance=keep_luminance, hints=hints)
        return rgb[0].numpy()

    if isinstance(image, (list, tuple)):
        return [one(item) for item in image]
    return one(image)
