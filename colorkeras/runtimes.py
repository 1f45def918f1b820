"""Run an exported ``.onnx`` or ``.tflite`` colorizer as if it were a Keras one.

`load` gives a `PortableColorizer`: its ``rgb`` takes gray ``[N, H, W, 1]`` in
[0, 1] to RGB ``[N, H, W, 3]``, eagerly or inside a `tf.function` (the file
runs through ``tf.numpy_function``), and its ``colorize`` is the very recipe
a ``.keras`` file's `Colorizer` has (`colorizer.ColorizeRecipe`). So
`colorkeras.colorize(..., model=PATH)`, the ``colorize`` command and
evaluation run an export as they run a Keras model, and a user can check an
export with the tool they already use.

onnxruntime and LiteRT are optional extras: ``pip install "colorkeras[onnx]"``
or ``"colorkeras[litert]"``.
"""

import pathlib
import threading

import numpy as np

from colorkeras.colorizer import ColorizeRecipe
from colorkeras.errors import InputError, first_line

SUFFIXES = (".onnx", ".tflite")


def is_portable_path(path):
    """Whether ``path`` names an ONNX or LiteRT file (by its suffix)."""
    try:
        return pathlib.Path(path).suffix.lower() in SUFFIXES
    except TypeError:
        return False


class PortableColorizer(ColorizeRecipe):
    """Gray ``[N, H, W, 1]`` -> RGB ``[N, H, W, 3]`` through a non-Keras runtime.

    ``colorize`` (`ColorizeRecipe`) colorizes uint8 photos as a `Colorizer` does.

    Args:
        path: the ``.onnx`` or ``.tflite`` file.
        run: numpy gray ``[N, h, w, 1]`` float32 -> RGB ``[N, h, w, 3]``.
        fixed_size: (height, width) the file takes (a LiteRT file from
            colorkeras 0.2), or None for any size. Such a file runs on
            windows of the photo at its own aspect (`tiled`).
    """

    def __init__(self, path, run, fixed_size=None):
        self.path = pathlib.Path(path)
        self.name = self.path.stem
        self._run = run
        self.fixed_size = fixed_size

    def __repr__(self):
        return f"PortableColorizer({str(self.path)!r}, fixed_size={self.fixed_size})"

    def _numpy(self, gray):
        gray = np.ascontiguousarray(gray, np.float32)
        if self.fixed_size is not None and gray.shape[1:3] != tuple(self.fixed_size):
            return tiled(self._run, gray, self.fixed_size[0])
        return np.asarray(self._run(gray), np.float32)

    def rgb(self, gray):
        """RGB for gray ``[N, H, W, 1]``, as `Colorizer.rgb` (usable inside a tf.function).

        A fixed-size file sees the photo at its own aspect: the photo is
        scaled so that its shorter side is the file's side, and the file runs
        on overlapping windows along the longer side (`tiled`). Squeezing a
        4:3 photo into the square instead changed its colours by up to 42/255.
        """
        import tensorflow as tf

        gray = tf.convert_to_tensor(gray, tf.float32)
        size = tf.shape(gray)[1:3]
        if self.fixed_size is not None:
            gray = tf.image.resize(gray, tiling_shape(size, self.fixed_size[0]),
                                   method="bilinear", antialias=True)
        rgb = tf.numpy_function(self._numpy, [gray], tf.float32, stateful=False)
        rgb = tf.ensure_shape(rgb, [None, None, None, 3])
        if self.fixed_size is not None:
            rgb = tf.image.resize(rgb, size, method="bilinear", antialias=True)
        return rgb

    def predict(self, gray, verbose=0):
        """numpy in, numpy out, as `keras.Model.predict`."""
        del verbose
        return np.asarray(self.rgb(gray))


MAX_ASPECT = 4
"""A fixed-size file runs a photo up to this aspect as it is; a thinner one is squeezed to it."""


def tiling_shape(size, side):
    """(height, width) a photo of ``size`` is scaled to for a ``side`` x ``side`` file.

    The shorter side becomes ``side`` and the aspect is kept up to
    `MAX_ASPECT`, which bounds the windows `tiled` runs (a thin strip is
    squeezed to 4:1 rather than cut into hundreds of windows).
    """
    import tensorflow as tf

    size = tf.cast(size, tf.float32)
    longer = tf.minimum(tf.reduce_max(size) * side / tf.reduce_min(size), side * MAX_ASPECT)
    longer = tf.cast(tf.round(longer), tf.int32)
    return tf.where(size[0] <= size[1], tf.stack([side, longer]), tf.stack([longer, side]))


def tiled(run, gray, side):
    """``run`` (a ``side`` x ``side`` network) over gray ``[N, side, L, 1]`` or ``[N, L, side, 1]``.

    Windows of the file's size slide along the longer side, overlapping by
    at least a quarter of a window, and their colours are blended with
    weights that fall to the windows' edges, where a window lacks the
    context the whole photo gives.
    """
    axis = 2 if gray.shape[1] == side else 1
    length = gray.shape[axis]
    count = -(-length // side)
    if count > 1 and (count * side - length) / (count - 1) < side / 4:
        count += 1
    starts = np.linspace(0, length - side, count).round().astype(int) if count > 1 else [0]
    ramp = np.minimum(np.arange(side) + 0.5, side - np.arange(side) - 0.5)
    shape = [1, 1, 1, 1]
    shape[axis] = side
    ramp = ramp.reshape(shape).astype(np.float32)
    out = np.zeros(gray.shape[:3] + (3,), np.float32)
    total = np.zeros(gray.shape[:3] + (1,), np.float32)
    for start in starts:
        window = [slice(None)] * 4
        window[axis] = slice(start, start + side)
        out[tuple(window)] += np.asarray(run(np.ascontiguousarray(gray[tuple(window)])),
                                         np.float32) * ramp
        total[tuple(window)] += ramp
    return out / total


def _onnx(path):
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(
            "Running .onnx files needs onnxruntime: pip install \"colorkeras[onnx]\""
        ) from None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(f"{path} is not a colorizer: it needs one input and one output")
    name = inputs[0].name

    def run(gray):
        return session.run(None, {name: gray})[0]

    return PortableColorizer(path, run)


def _litert(path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ImportError(
            "Running .tflite files needs LiteRT: pip install \"colorkeras[litert]\""
        ) from None
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()
    shape = tuple(int(d) for d in source["shape"])
    if len(shape) != 4 or shape[-1] != 1:
        raise InputError(f"{path} is not a colorizer: its input is {shape}, not [1, H, W, 1]")
    signature = tuple(int(d) for d in source.get("shape_signature", shape))
    dynamic = -1 in signature[1:3]
    lock = threading.Lock()  # one interpreter, and tf.data or servers may call from threads

    def run(gray):
        out = []
        with lock:
            for image in gray:  # the file takes a batch of one
                if dynamic and tuple(interpreter.get_input_details()[0]["shape"]) != (
                        1, *image.shape):
                    interpreter.resize_tensor_input(source["index"], [1, *image.shape])
                    interpreter.allocate_tensors()
                interpreter.set_tensor(source["index"], image[None])
                interpreter.invoke()
                out.append(interpreter.get_tensor(target["index"])[0].copy())
        return np.stack(out) if out else np.zeros((0, *gray.shape[1:3], 3), np.float32)

    return PortableColorizer(path, run, fixed_size=None if dynamic else shape[1:3])


def load(path):
    """A `PortableColorizer` for an ``.onnx`` or ``.tflite`` file.

    Raises:
        FileNotFoundError: no such file.
        InputError: not one of those suffixes, or not a colorizer's file.
        ImportError: the runtime's extra is not installed.
    """
    path = pathlib.Path(path).expanduser()
    if not is_portable_path(path):
        raise InputError(f"Expected a .onnx or .tflite file. Received: {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"No such model file: {str(path)!r}")
    try:
        return _onnx(path) if path.suffix.lower() == ".onnx" else _litert(path)
    except (ImportError, InputError):
        raise
    except Exception as error:  # noqa: BLE001 - a corrupt file raises anything
        raise InputError(f"{path}: cannot load it as a {path.suffix} model: "
                         f"{first_line(error)}") from error
