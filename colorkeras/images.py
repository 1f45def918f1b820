"""Image files in and out, for the commands and `colorkeras.colorize`.

Reading goes through Pillow, which knows more of the formats people keep
photos in than TensorFlow's decoders: TIFF and WebP, CMYK, palettes, 16-bit
gray. Every image comes out as a uint8 array ``[H, W, C]`` with ``C`` of 1
(gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA), upright as its EXIF
orientation says. Alpha is kept, not flattened: the recipe (`rendering.to_rgb`)
flattens it onto white in one place, for files and for served requests alike.

Writing is atomic (a temporary file in the same folder, then a rename), so
an interrupted run never leaves a half-written image under a final name.
"""

import contextlib
import os
import pathlib

import numpy as np

from colorkeras import atomic
from colorkeras.errors import InputError

TENSORFLOW_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
"""What TensorFlow's image decoder reads: the training photos (`colorkeras.data`)."""

IMAGE_EXTENSIONS = tuple(sorted(set(TENSORFLOW_EXTENSIONS) | {".tif", ".tiff", ".webp"}))
"""File extensions picked up when a folder is colorized."""

DEFAULT_MAX_PIXELS = 100_000_000
"""Refuse larger images: a tiny compressed file can decode to gigabytes."""

WRITE_FORMATS = {"png": "PNG", "jpg": "JPEG"}

# Pillow modes -> the mode converted to before reading the pixels out.
_MODE_CONVERSIONS = {
    "1": "L",
    "L": "L",
    "LA": "LA",
    "La": "LA",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "RGBa": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
}


class ImageTooLarge(InputError):
    """An image whose pixel count is over the decompression-bomb limit."""


class UnreadableImage(InputError):
    """A file Pillow cannot decode."""


@contextlib.contextmanager
def _own_pixel_limit():
    """Switch Pillow's decompression-bomb check off while an image is opened.

    `read_image` checks the size from the header itself, with a clearer
    message and a limit the caller chooses; Pillow's own check (a warning
    above 89 MP, an error above 179 MP) would otherwise overrule a raised
    limit, or fail as an undecodable file.
    """
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_pixels(width, height, max_pixels, source="image"):
    """Raise `ImageTooLarge` when ``width * height`` is over ``max_pixels``."""
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(
            f"{source} has {width}x{height} = {width * height:,} pixels, over the "
            f"limit of {max_pixels:,} (a guard against decompression bombs); "
            "raise the limit (`max_pixels`) if you trust the file"
        )


def read_image(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Decode an image file to a uint8 ``[H, W, C]`` array, upright.

    Args:
        path: str or path-like.
        max_pixels: refuse images with more pixels (`ImageTooLarge`), checked
            from the header before anything is decoded; None for no limit.

    Raises:
        FileNotFoundError: no such file.
        ImageTooLarge: over ``max_pixels``.
        UnreadableImage: Pillow cannot decode it.
    """
    from PIL import Image

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such image file: {path!r}")
    with _own_pixel_limit():
        try:
            with Image.open(path) as image:
                check_pixels(image.width, image.height, max_pixels, source=path)
                return from_pil(image)
        except (ImageTooLarge, MemoryError):
            raise
        except Exception as error:  # noqa: BLE001 - corrupt data raises anything
            raise UnreadableImage(f"{path}: cannot decode it ({error})") from error


def from_pil(image):
    """A PIL image as a uint8 ``[H, W, C]`` array (see the module docstring)."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit gray: keep the high byte, as TensorFlow's decoders do, so a
        # file gives the same pixels here and in the served SavedModel.
        values = np.asarray(image).astype(np.int64)
        return np.clip(values >> 8, 0, 255).astype(np.uint8)[..., None]
    if mode == "F":
        return to_uint8(np.asarray(image, dtype=np.float32))[..., None]
    if mode in ("P", "PA"):
        mode = "RGBA" if "transparency" in image.info or mode == "PA" else "RGB"
        image = image.convert(mode)
    else:
        mode = _MODE_CONVERSIONS.get(mode, "RGB")
        if image.mode != mode:
            image = image.convert(mode)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def _float_to_uint8(array):
    """Floats in [0, 1] as uint8; whole numbers in [0, 255] are taken as they are.

    A float array of 0..255 values is a common slip (``np.asarray(img,
    np.float32)``); clipped to [0, 1] it would come back pure white. It is
    read as 0..255 only when every value is a whole number and one is above
    1, which [0, 1] data never is; anything else outside [0, 1], and NaN or
    inf, is refused.
    """
    if array.size == 0:
        return array.astype(np.uint8)
    if not np.all(np.isfinite(array)):
        raise InputError(
            "A float image holds NaN or inf. Received: "
            f"{int(np.sum(~np.isfinite(array)))} non-finite of {array.size} values")
    low, high = float(array.min()), float(array.max())
    if 0.0 <= low and high <= 1.0:
        return np.round(array * 255.0).astype(np.uint8)
    if 0.0 <= low and high <= 255.0 and np.all(array == np.round(array)):
        return array.astype(np.uint8)
    raise InputError(
        "A float image must hold values in [0, 1] (or whole numbers in [0, 255]). "
        f"Received: dtype={array.dtype}, values in [{low:g}, {high:g}]; divide by 255 "
        "or pass uint8")


def to_uint8(array):
    """An image array as uint8: floats in [0, 1], integers in [0, 255].

    uint16 is taken as 16-bit (high byte kept, as for 16-bit files). Floats
    follow `_float_to_uint8`: whole-number floats in [0, 255] are taken as
    0..255; other floats outside [0, 1], NaN and inf raise `InputError`.
    """
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        return _float_to_uint8(array)
    if np.issubdtype(array.dtype, np.integer):
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InputError(
                "Integer images must hold values in [0, 255] (uint16 in [0, 65535]). "
                f"Received: dtype={array.dtype}, values in "
                f"[{array.min()}, {array.max()}]"
            )
        return array.astype(np.uint8)
    raise InputError(f"Cannot read an image from an array of dtype {array.dtype}.")


def list_images(folder, recursive=False):
    """Sorted image files (by extension) in ``folder``, or under it."""
    pattern = "**/*" if recursive else "*"
    return sorted(
        p for p in pathlib.Path(folder).glob(pattern)
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def write_image(array, path, image_format=None, quality=95):
    """Write a uint8 ``[H, W, 3]`` array atomically: temp file, then rename.

    Args:
        array: uint8 RGB (or ``[H, W]`` / ``[H, W, 1]`` gray).
        path: destination; its folder is created.
        image_format: "png" or "jpg"; by default from the extension.
        quality: JPEG quality.
    """
    from PIL import Image

    path = pathlib.Path(path)
    if image_format is None:
        image_format = "jpg" if path.suffix.lower() in (".jpg", ".jpeg") else "png"
    if image_format not in WRITE_FORMATS:
        raise InputError(
            f"`image_format` must be one of {sorted(WRITE_FORMATS)}. "
            f"Received: image_format={image_format!r}"
        )
    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    with atomic.replacing(path, "wb") as stream:
        options = {"quality": quality} if image_format == "jpg" else {}
        Image.fromarray(array).save(stream, format=WRITE_FORMATS[image_format], **options)
