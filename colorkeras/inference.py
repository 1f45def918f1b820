"""Inference: load a colorizer and colorize photos of any size.

Two things live here, and everything that colorizes goes through them:

- `load` returns a `Colorizer`: its ``predict`` and ``rgb`` take gray
  ``[N, H, W, 1]`` of any H and W to RGB ``[N, H, W, 3]`` in [0, 1].
- `colorize_batch` is the one colorization recipe in TF ops: luma of the
  full-size photo, the network at ``render_size``, its chroma upsampled
  onto the full-size luma. `colorize`, the ``colorize`` command and both
  signatures of the exported SavedModel call it, so they agree by
  construction.

Pretrained models are found by name as ``exported_models/<name>/<name>.keras``
in ``$COLORKERAS_HOME`` (searched first), in the installed package, and in a
source checkout.
"""

import functools
import os
import pathlib
import warnings
import weakref

import keras
import numpy as np
import tensorflow as tf

from colorkeras import color, images, runtimes
from colorkeras.errors import InputError, first_line
from colorkeras.hints import hint_points, rasterize_hints
from colorkeras.colorizer import Colorizer
from colorkeras.models import ColorizationNetwork

HOME_VARIABLE = "COLORKERAS_HOME"
MODELS_FOLDER = "exported_models"
DEFAULT_RENDER_SIZE = 256

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


# --- finding models ----------------------------------------------------------


def model_dirs():
    """Folders searched for ``<name>/<name>.keras``, in order.

    ``$COLORKERAS_HOME/exported_models`` first (your own models, or models
    kept outside the package), then the models installed with the package
    (``pip install .`` puts them in ``colorkeras/exported_models``), then the
    top-level ``exported_models/`` of a source checkout (``pip install -e .``).
    """
    dirs = []
    home = os.environ.get(HOME_VARIABLE)
    if home:
        dirs.append(pathlib.Path(home).expanduser() / MODELS_FOLDER)
    dirs.append(_PACKAGE_DIR / MODELS_FOLDER)
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        dirs.append(checkout / MODELS_FOLDER)
    return dirs


def available_models():
    """Names that `load` resolves, sorted."""
    return sorted(
        {
            entry.name
            for folder in model_dirs()
            if folder.is_dir()
            for entry in folder.iterdir()
            if (entry / f"{entry.name}.keras").is_file()
        }
    )


def looks_like_path(text):
    return text.endswith(".keras") or os.sep in text or "/" in text


def resolve(name_or_path):
    """The ``.keras`` file a model name or path stands for.

    A path is anything ending in ``.keras`` or holding a slash; a folder
    stands for the ``model.keras`` (a training run) or ``<folder>.keras`` in it.
    Anything else is a name.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: an unknown name; the message lists the known ones.
    """
    try:
        text = os.fspath(name_or_path)
    except TypeError:
        text = None
    if not isinstance(text, str) or not text:
        raise InputError(
            f"Expected a model name or a .keras path. Received: {name_or_path!r}"
        )
    if looks_like_path(text) or os.path.isdir(text):
        path = pathlib.Path(text).expanduser()
        if path.is_dir():
            for candidate in (path / "model.keras", path / f"{path.name}.keras"):
                if candidate.is_file():
                    return candidate
            raise FileNotFoundError(f"No model.keras or {path.name}.keras in folder {text!r}")
        if not path.is_file():
            raise FileNotFoundError(f"No such model file: {text!r}")
        return path
    for folder in model_dirs():
        path = folder / text / f"{text}.keras"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in model_dirs())
    raise InputError(
        f"Unknown model {text!r}. Available models: {available_models()} "
        f"(searched {searched}; set {HOME_VARIABLE} to add a folder, or pass a "
        f".keras path). Received: name_or_path={text!r}"
    )


# --- the colorizer -------------------------------------------------------------


def is_colorizer(model):
    """Whether ``model`` takes gray of any size to RGB: a `Colorizer` or an export's runner."""
    return isinstance(model, (Colorizer, runtimes.PortableColorizer))


def as_colorizer(model):
    """A `Colorizer` for a colorizer or a bare `ColorizationNetwork`; anything else is an error."""
    if is_colorizer(model):
        return model
    if isinstance(model, ColorizationNetwork):
        if tuple(model.inputs[0].shape[1:3]) != (None, None):
            raise InputError(
                "A colorizer needs a network built for any size, i.e. input_shape=(None, None, "
                f"1). Received: a network with input shape {tuple(model.inputs[0].shape)}")
        return Colorizer(model)
    raise InputError(
        "Expected a colorkeras colorizer or network. Received: a "
        f"{type(model).__name__}. A .keras file saved before colorkeras 0.2 holds a bare "
        "Functional network, which does not say what it is: start a run from its weights "
        "with `python -m colorkeras.train ... --init-from FILE` (tuning/convert_shipped.py "
        "converted the shipped ones)")


def load(name_or_path):
    """Load a colorizer: ``predict(gray [N, H, W, 1])`` -> RGB ``[N, H, W, 3]``.

    Args:
        name_or_path: a pretrained model's name (see `available_models`), a
            ``.keras`` file holding a colorizer or a bare network, a training
            run's folder, or an in-memory colorizer or network; or an
            ``.onnx`` / ``.tflite`` export (`colorkeras.runtimes`).

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
    path = resolve(name_or_path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - a bad file raises anything
        raise unloadable(path, error) from error
    return as_colorizer(model)


def unloadable(path, error):
    """The one-line `InputError` for a model file that exists but does not load.

    Keras says "File not found" for a text file named ``.keras``, and a
    Lambda layer fails deep in deserialization; the user needs the file's
    name and the first line of the reason.
    """
    import zipfile

    reason = first_line(error)
    if not zipfile.is_zipfile(path):
        reason = "it is not a .keras file (those are zip archives)"
    return InputError(f"{path}: cannot load it as a colorkeras model: {reason}")


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
    if isinstance(model, (keras.Model, runtimes.PortableColorizer)):
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


# --- the colorization recipe, in TF ops ---------------------------------------


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


def colorize_batch(colorizer, images_uint8, render_size=DEFAULT_RENDER_SIZE, keep_luminance=True,
                   hint_points=None):
    """Colorize a batch of same-size photos: the one recipe everything uses.

    The network runs with the shorter side at ``render_size``; its chroma is
    upsampled and put onto the photo's own full-resolution luma, so the
    result is as sharp as the input whatever the network's size. That also
    bounds the time and memory a huge photo costs, and `render_shape` bounds
    a thin one's.

    Args:
        colorizer: a model from `load` (gray of any size -> RGB).
        images_uint8: uint8 ``[N, H, W, C]``, C in 1-4 (see `to_rgb`).
        render_size: shorter side the network sees; None for the photo's size.
        keep_luminance: if False, return the network's own RGB, resized.
        hint_points: float32 ``[K, 6]`` colour hints for every photo of the
            batch (`hints.hint_points`), for a colorizer with a hint input.

    Returns:
        uint8 RGB ``[N, H, W, 3]``.
    """
    render_size = check_render_size(render_size)
    gray = color.luminance(to_rgb(images_uint8))
    size = tf.shape(gray)[1:3]
    # Resized even at render_size=None: `render_shape` may shrink a huge photo.
    small = tf.image.resize(
        gray, render_shape(size, render_size), method="bilinear", antialias=True
    )
    if hint_points is None:
        rgb = colorizer.rgb(small)
    else:
        painted = rasterize_hints(hint_points, size, tf.shape(small)[1:3])
        rgb = colorizer.rgb(small, hints=tf.repeat(painted, tf.shape(small)[0], axis=0))
    if keep_luminance:
        rgb = color.recombine_luminance(gray, rgb)
    else:
        rgb = tf.image.resize(rgb, size, method="bilinear", antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 1.0) * 255.0), tf.uint8)


IMAGES_SPEC = tf.TensorSpec([None, None, None, None], tf.uint8, name="images")
"""Any batch of uint8 photos: the input of `colorize` and of the served model."""

# colorizer -> {(render_size, keep_luminance): tf.function}. The functions
# reach the colorizer through a weak reference, so the cache does not keep
# a model alive; each is traced once, for every size and channel count.
_FUNCTIONS = weakref.WeakKeyDictionary()


HINT_POINTS_SPEC = tf.TensorSpec([None, 6], tf.float32, name="hint_points")
"""Colour hints: (x, y, radius, r, g, b) rows, as `hints.hint_points` makes them."""


def compiled_colorize(colorizer, render_size=DEFAULT_RENDER_SIZE, keep_luminance=True,
                      with_hints=False):
    """`colorize_batch` as a tf.function traced once per colorizer and setting.

    ``with_hints``: the function takes ``(images, hint_points)``.
    """
    render_size = check_render_size(render_size)
    functions = _FUNCTIONS.setdefault(colorizer, {})
    key = (render_size, bool(keep_luminance), bool(with_hints))
    if key not in functions:
        ref = weakref.ref(colorizer)
        if with_hints:
            @tf.function(input_signature=[IMAGES_SPEC, HINT_POINTS_SPEC])
            def run(images_uint8, hint_points):
                return colorize_batch(ref(), images_uint8, render_size, keep_luminance,
                                      hint_points)
        else:
            @tf.function(input_signature=[IMAGES_SPEC])
            def run(images_uint8):
                return colorize_batch(ref(), images_uint8, render_size, keep_luminance)

        functions[key] = run
    return functions[key]


def takes_hints(colorizer):
    """Whether a loaded colorizer has a colour-hint input."""
    network = getattr(colorizer, "network", None)
    return bool(getattr(network, "has_hints", False))


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
    colorizer = colorizer_for(model)  # held here: the cache only refers to it weakly
    if hints is not None:
        if isinstance(image, (list, tuple)):
            raise InputError("`hints` belong to one photo: colorize a list of photos one "
                             "at a time to give each its hints")
        if not takes_hints(colorizer):
            raise InputError(f"This model ({getattr(colorizer, 'name', type(colorizer).__name__)})"
                             " takes no colour hints: use model='unet-hints'")
    run = compiled_colorize(colorizer, render_size, keep_luminance, hints is not None)

    def one(item):
        pixels = as_image_array(item)
        note = render_note(*pixels.shape[:2], render_size)
        if note:
            warnings.warn(note, RenderShrunk, stacklevel=3)
        if hints is None:
            return run(pixels[None])[0].numpy()
        points = hint_points(hints, *pixels.shape[:2])
        return run(pixels[None], points)[0].numpy()

    if isinstance(image, (list, tuple)):
        return [one(item) for item in image]
    return one(image)
