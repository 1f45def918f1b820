"""Run an exported ``.onnx`` or ``.tflite`` colorizer as if it were a Keras one.

`load` gives a `PortableColorizer`: called on gray ``[N, H, W, 1]`` in [0, 1],
it returns RGB ``[N, H, W, 3]``, eagerly or inside a `tf.function` (the file
runs through ``tf.numpy_function``). So `colorkeras.colorize(..., model=PATH)`
and the ``colorize`` command run an export through the very recipe a ``.keras``
file takes, and a user can check an export with the tool they already use.

onnxruntime and LiteRT are optional extras: ``pip install "colorkeras[onnx]"``
or ``"colorkeras[litert]"``.
"""

import pathlib
import threading

import numpy as np

from colorkeras.errors import InputError

SUFFIXES = (".onnx", ".tflite")


def is_portable_path(path):
    """Whether ``path`` names an ONNX or LiteRT file (by its suffix)."""
    try:
        return pathlib.Path(path).suffix.lower() in SUFFIXES
    except TypeError:
        return False


class PortableColorizer:
    """Gray ``[N, H, W, 1]`` -> RGB ``[N, H, W, 3]`` through a non-Keras runtime.

    Args:
        path: the ``.onnx`` or ``.tflite`` file.
        run: numpy gray ``[N, h, w, 1]`` float32 -> RGB ``[N, h, w, 3]``.
        fixed_size: (height, width) the file takes, or None for any size. A
            photo is resized to it and the colour resized back.
    """

    def __init__(self, path, run, fixed_size=None):
        self.path = pathlib.Path(path)
        self.name = self.path.stem
        self._run = run
        self.fixed_size = fixed_size

    def __repr__(self):
        return f"PortableColorizer({str(self.path)!r}, fixed_size={self.fixed_size})"

    def _numpy(self, gray):
        return np.asarray(self._run(np.ascontiguousarray(gray, np.float32)), np.float32)

    def rgb(self, gray):
        """RGB for gray ``[N, H, W, 1]``, as `Colorizer.rgb` (usable inside a tf.function)."""
        import tensorflow as tf

        gray = tf.convert_to_tensor(gray, tf.float32)
        size = tf.shape(gray)[1:3]
        if self.fixed_size is not None:
            gray = tf.image.resize(gray, self.fixed_size, method="bilinear", antialias=True)
        rgb = tf.numpy_function(self._numpy, [gray], tf.float32, stateful=False)
        rgb = tf.ensure_shape(rgb, [None, None, None, 3])
        if self.fixed_size is not None:
            rgb = tf.image.resize(rgb, size, method="bilinear", antialias=True)
        return rgb

    def predict(self, gray, verbose=0):
        """numpy in, numpy out, as `keras.Model.predict`."""
        del verbose
        return np.asarray(self.rgb(gray))

    def predict_on_batch(self, gray):
        """One batch, as `keras.Model.predict_on_batch`: what evaluation calls."""
        return self.predict(gray)


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
    lock = threading.Lock()  # one interpreter, and tf.data or servers may call from threads

    def run(gray):
        out = []
        with lock:
            for image in gray:  # the file takes a batch of one
                interpreter.set_tensor(source["index"], image[None])
                interpreter.invoke()
                out.append(interpreter.get_tensor(target["index"])[0].copy())
        return np.stack(out) if out else np.zeros((0, *shape[1:3], 3), np.float32)

    return PortableColorizer(path, run, fixed_size=shape[1:3])


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
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = lines[0] if lines else type(error).__name__
        raise InputError(f"{path}: cannot load it as a {path.suffix} model: {reason}") from error
