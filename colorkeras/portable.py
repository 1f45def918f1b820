"""Portable exports: a colorizer as an ONNX or LiteRT file, with a ``model.json``.

Both files hold the colorizer that `inference.load` returns: gray float32
``[N, H, W, 1]`` in [0, 1] in, RGB float32 ``[N, H, W, 3]`` in [0, 1] out.

- ONNX (through tf2onnx) keeps the batch, height and width dynamic.
- LiteRT keeps the height and width dynamic, with a batch of one
  (``[1, H, W, 1]``; the interpreter is resized to each photo). Files from
  colorkeras 0.2 took one fixed ``[1, size, size, 1]``, and a photo squeezed
  into that square came out with other colours (up to 42/255 on a 4:3
  photo); `colorkeras.runtimes` runs such a file on windows at the photo's
  own aspect instead.

The step `colorize` adds on top, putting the network's colour onto the photo's
own full-resolution luminance, is written out in ``model.json`` so that any
runtime can repeat it; `colorkeras.runtimes` does it for these files.

The converters and runtimes are optional extras: ``pip install
"colorkeras[onnx]"`` or ``"colorkeras[litert]"``.
"""

import contextlib
import io
import json
import pathlib
import tempfile

from colorkeras import __version__, atomic
from colorkeras.errors import InputError

FORMATS = ("saved_model", "onnx", "litert")
QUANTIZATIONS = {"onnx": ("none", "int8"), "litert": ("none", "float16", "int8")}
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}
ONNX_OPSET = 17
INPUT_NAME = "gray"
OUTPUT_NAME = "rgb"
CALIBRATION_PHOTOS = 8

RECOMBINE_STEPS = [
    "Convert the photo to gray Y = 0.299 R + 0.587 G + 0.114 B in [0, 1] (BT.601 luma).",
    "Resize Y bilinearly (antialiased) so that its shorter side is render_size; "
    "for a fixed-size file, resize that to the input's height and width.",
    "Run the model on it: RGB in [0, 1] comes out.",
    "Convert that RGB to YUV (BT.601) and resize its U and V bilinearly to the photo's size.",
    "Put them onto the photo's own full-resolution Y and convert back to RGB; clip to [0, 1].",
]


def missing_extra(package, extra):
    """The ImportError a user sees when an optional runtime is not installed."""
    return ImportError(
        f"This needs the {package!r} package: pip install \"colorkeras[{extra}]\""
    )


def check_format(fmt, quantize="none"):
    """Refuse a format or quantization this module does not write."""
    if fmt not in FORMATS:
        raise InputError(f"`format` must be one of {FORMATS}. Received: format={fmt!r}")
    allowed = QUANTIZATIONS.get(fmt, ("none",))
    if quantize not in allowed:
        raise InputError(
            f"{fmt} exports support quantize in {allowed}. Received: quantize={quantize!r}"
        )


def file_name(name, fmt, size=None, quantize="none"):
    """``pix2pix.onnx``, ``pix2pix_256.tflite``, ``pix2pix_256_int8.tflite``..."""
    parts = [name] + ([str(size)] if fmt == "litert" else []) + (
        [quantize] if quantize != "none" else []
    )
    return "_".join(parts) + SUFFIXES[fmt]


# --- float32 -------------------------------------------------------------------


def _float32_config(config):
    """A Keras config with every mixed-precision dtype policy made float32."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and isinstance(config.get("config"), dict):
            name = config["config"].get("name", "")
            if name.startswith("mixed_"):
                return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_config(value) for value in config]
    if config in ("mixed_float16", "mixed_bfloat16"):
        return "float32"
    return config


def float32_copy(model):
    """``model`` rebuilt with float32 compute everywhere, weights copied.

    A network trained with mixed precision computes in bfloat16 or float16,
    which ONNX convolutions and most LiteRT kernels refuse; its variables are
    float32 already, so nothing is lost.
    """
    import keras

    config = keras.saving.serialize_keras_object(model)
    copy = keras.saving.deserialize_keras_object(_float32_config(config), safe_mode=True)
    copy.set_weights(model.get_weights())
    return copy


# --- writers ---------------------------------------------------------------------


def _function(colorizer, shape):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name=INPUT_NAME)])
    def run(gray):
        return {OUTPUT_NAME: colorizer.rgb(gray)}

    return run


def write_onnx(colorizer, path, quantize="none"):
    """Write ``colorizer`` as ONNX with dynamic batch, height and width."""
    try:
        import tf2onnx
    except ImportError:
        raise missing_extra("tf2onnx", "onnx") from None
    run = _function(colorizer, [None, None, None, 1])
    with tempfile.TemporaryDirectory() as folder:
        plain = pathlib.Path(folder) / "model.onnx"
        tf2onnx.convert.from_function(
            run, input_signature=run.input_signature, opset=ONNX_OPSET, output_path=str(plain)
        )
        if quantize == "int8":
            # Dynamic quantization: int8 weights, activations quantized per
            # batch at run time, so no calibration set is baked in.
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = pathlib.Path(folder) / "int8.onnx"
            quantize_dynamic(str(plain), str(quantized), weight_type=QuantType.QInt8)
            plain = quantized
        atomic.write_bytes(path, plain.read_bytes())


def calibration_images(size, count=CALIBRATION_PHOTOS):
    """Gray ``[1, size, size, 1]`` float32 crops of the embedded sample photos."""
    import numpy as np
    import tensorflow as tf

    from colorkeras import color, images
    from colorkeras.data import sample_photos

    batches = []
    for path in sample_photos(count):
        rgb = tf.constant(images.read_image(path)[None, ..., :3], tf.float32) / 255.0
        gray = tf.image.resize(color.luminance(rgb), (size, size), antialias=True)
        batches.append(np.asarray(gray, np.float32))
    return batches


def write_litert(colorizer, path, size, quantize="none"):
    """Write ``colorizer`` as a LiteRT flatbuffer for gray ``[1, H, W, 1]``, any H and W.

    Converted from a Functional model around it with a batch of one and
    dynamic height and width, so a photo runs at its own aspect, as in
    Keras; float16 stores the weights in half precision, int8 quantizes
    weights and activations, calibrated on the embedded sample photos at
    ``size``, with float32 input and output.
    """
    import keras
    import tensorflow as tf

    # From a fixed-size Functional model, which the converter freezes whole;
    # from a tf.function or SavedModel it kept the batch-norm statistics as
    # uninitialised resource variables (NaN out, or a failed calibration).
    gray = keras.Input((None, None, 1), batch_size=1, name=INPUT_NAME)
    fixed = keras.Model(gray, colorizer.rgb(gray), name=OUTPUT_NAME)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        samples = calibration_images(size)
        converter.representative_dataset = lambda: ([gray] for gray in samples)
    from colorkeras import terminal

    # Keras prints every captured variable; the int8 calibrator prints from C++.
    with contextlib.redirect_stdout(io.StringIO()), terminal.native_output_silenced((1, 2)):
        data = converter.convert()
    atomic.write_bytes(path, data)
    return tensor_names(data)


def tensor_names(flatbuffer):
    """(input, output) tensor names of a LiteRT file, as its interpreter reports them."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the converter's own interpreter reads it too
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    interpreter = Interpreter(model_content=flatbuffer)
    return (interpreter.get_input_details()[0]["name"],
            interpreter.get_output_details()[0]["name"])


def describe(colorizer, fmt, file, size, quantize, name, names=(INPUT_NAME, OUTPUT_NAME)):
    """The ``model.json`` that says how to feed the file and use its output."""
    batch = None if fmt == "onnx" else 1  # a LiteRT interpreter takes one photo at a time
    side = None
    return {
        "name": name,
        "format": fmt,
        "file": file,
        "quantize": quantize,
        "inputs": [{
            "name": names[0], "dtype": "float32", "shape": [batch, side, side, 1],
            "range": [0.0, 1.0], "meaning": "gray (BT.601 luma) of the photo at render size",
        }],
        "outputs": [{
            "name": names[1], "dtype": "float32", "shape": [batch, side, side, 3],
            "range": [0.0, 1.0], "meaning": "RGB colorized at the input's size",
        }],
        "dynamic_shapes": True,
        "color_space": colorizer.color_space,
        "render_size": size,
        "recombine_luminance": RECOMBINE_STEPS,
        "hints": hints_note(colorizer),
        "colorkeras_version": __version__,
    }


def hints_note(colorizer):
    """What ``model.json`` says of colour hints: a portable file colours on its own."""
    if not getattr(colorizer.network, "has_hints", False):
        return "none: the model takes no colour hints"
    return ("automatic only: this file runs the hint model without hints (its own colours); "
            "hints need the .keras file or the SavedModel's colorize_with_hints signature")


def export(model, out, fmt, size=256, quantize="none", name=None, overwrite=False):
    """Write a portable file of ``model`` and its ``model.json`` into ``out``.

    Args:
        model: a pretrained name, a ``.keras`` path or a model (`inference.load`).
        out: folder to write into (made if missing).
        fmt: "onnx" or "litert".
        size: the render size the file is meant for (both files take any
            height and width); LiteRT's int8 calibration runs at it.
        quantize: "none", "float16" (LiteRT) or "int8".
        name: the file's stem (default: the model's name, or the file's stem).
        overwrite: replace a model file or ``model.json`` already in ``out``.

    Returns:
        The path of the written model file.
    """
    from colorkeras import inference, rendering

    check_format(fmt, quantize)
    if fmt == "saved_model":
        raise InputError("Use colorkeras.export.export for SavedModel exports")
    size = rendering.check_render_size(size)
    if size is None:
        raise InputError("A portable export needs a render size")
    if name is None:
        name = model.name if hasattr(model, "get_config") else pathlib.Path(str(model)).stem
    out = pathlib.Path(out)
    path = out / file_name(name, fmt, size, quantize)
    existing = [p for p in (path, out / "model.json") if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]} exists; pass --overwrite, or export into another --out folder"
        )
    colorizer = float32_copy(inference.load(model))
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "onnx":
        write_onnx(colorizer, path, quantize)
        names = (INPUT_NAME, OUTPUT_NAME)
    else:
        names = write_litert(colorizer, path, size, quantize)
    info = describe(colorizer, fmt, path.name, size, quantize, name, names)
    atomic.write_text(out / "model.json", json.dumps(info, indent=2) + "\n")
    return path
