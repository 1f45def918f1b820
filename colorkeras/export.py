"""Export a colorizer: ``python -m colorkeras.export``.

    python -m colorkeras.export pix2pix --out exported_models/pix2pix --version 1
    python -m colorkeras.export pix2pix --format onnx --out exported/onnx
    python -m colorkeras.export pix2pix --format litert --size 256 --quantize int8 --out D

ONNX and LiteRT files, with their ``model.json``, come from `colorkeras.portable`.
The default format is the SavedModel for TF Serving, described below.

writes the SavedModel ``exported_models/pix2pix/1/``, the layout TF Serving
reads (``--model_base_path`` is the folder above the numbered versions). It
has two signatures, both with method name ``tensorflow/serving/predict``:

- ``serving_default``: ``images``, uint8 ``[N, H, W, C]`` (any N, H, W; C of
  1 or 3, or 2 / 4 with alpha, flattened onto white) -> ``colorized``,
  uint8 RGB ``[N, H, W, 3]`` with each photo's own luminance kept.
- ``colorize_encoded``: ``image_bytes``, a ``[N]`` batch of encoded
  JPEG / PNG / BMP / GIF / WebP files, each of its own size (REST:
  ``{"b64": ...}``) -> ``colorized_bytes``, PNG files. The ``_bytes``
  suffixes are what make TF Serving's REST API base64 the output; without
  it the PNG bytes would be pasted raw into the JSON reply.
- ``colorize_with_hints``, for a model with a hint input (``unet-hints``):
  ``images`` as above and ``hint_points``, float32 ``[K, 6]`` rows of
  (x, y, radius, r, g, b): a point in the photos' pixels, a radius in
  pixels and an RGB colour in [0, 1], the same for every photo of the
  batch -> ``colorized``.

Both run the colorizer's own ``colorize`` (`colorizer.ColorizeRecipe`), the
recipe `colorkeras.colorize` runs, with the network at ``--render-size``.
The version folder is written under a temporary name and renamed when
complete, since TF Serving loads a new numbered folder as soon as it appears.

The base folder becomes a preset too (`colorkeras.presets`): the colorizer's
``<folder>.keras`` and a ``metadata.json`` go beside the versions, where TF
Serving ignores them, so ``colorkeras.load(FOLDER)`` gives back what is served.
A folder that holds a ``.keras`` already (a shipped model's) keeps it.
"""

import os
import pathlib
import sys

from colorkeras import cli

METHOD_NAME = "tensorflow/serving/predict"
SIGNATURES = {"serving_default": "serving_default (images -> colorized)",
              "colorize_encoded": "colorize_encoded (image_bytes -> colorized_bytes)",
              "colorize_with_hints": "colorize_with_hints (images, hint_points -> colorized)"}


def version_dirs(base):
    """Existing numbered version folders of a TF Serving model base path."""
    base = pathlib.Path(base)
    if not base.is_dir():
        return []
    return sorted(
        (p for p in base.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    )


def next_version(base):
    """One more than the largest existing version, or 1."""
    versions = version_dirs(base)
    return int(versions[-1].name) + 1 if versions else 1


def build_module(model, render_size=256):
    """A `tf.Module` holding the colorizer and the two serving signatures.

    A plain module rather than `keras.export.ExportArchive`: in Keras 3.15 the
    archive writes every variable twice (its ``variables`` and its
    ``_all_variables`` lists), doubling each export on disk.
    """
    import tensorflow as tf

    from colorkeras import inference, rendering

    render_size = rendering.check_render_size(render_size)
    colorizer = inference.load(model)
    module = tf.Module()
    module.colorizer = colorizer

    @tf.function(input_signature=[rendering.IMAGES_SPEC])
    def colorize_images(images):
        return {"colorized": colorizer.colorize(images, render_size=render_size)}

    def colorize_one_file(data):
        image = tf.io.decode_image(data, dtype=tf.uint8, expand_animations=False)
        rgb = colorizer.colorize(image[None], render_size=render_size)[0]
        # zlib level 1: on photos about 5x faster than the default level and
        # only about a third larger (12 MP: 1.1 s against 5.3 s on 2 cores).
        return tf.io.encode_png(rgb, compression=1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def colorize_encoded(image_bytes):
        pngs = tf.map_fn(colorize_one_file, image_bytes, fn_output_signature=tf.string)
        return {"colorized_bytes": pngs}

    module.colorize_images = colorize_images
    module.colorize_encoded = colorize_encoded
    signatures = {"serving_default": colorize_images, "colorize_encoded": colorize_encoded}
    if inference.takes_hints(colorizer):
        from colorkeras.colorizer import HINT_POINTS_SPEC

        @tf.function(input_signature=[rendering.IMAGES_SPEC, HINT_POINTS_SPEC])
        def colorize_with_hints(images, hint_points):
            return {"colorized": colorizer.colorize(images, render_size=render_size,
                                                    hints=hint_points)}

        module.colorize_with_hints = colorize_with_hints
        signatures["colorize_with_hints"] = colorize_with_hints
    return module, signatures


def export(model, out, version=None, render_size=256, overwrite=False):
    """Write ``<out>/<version>/``, a SavedModel TF Serving can serve.

    Args:
        model: a name, a ``.keras`` path or a model, as for `inference.load`.
        out: the model's base path (its version folders go inside).
        version: positive int; by default one more than the latest there.
        render_size: the shorter side the network runs at.
        overwrite: replace an existing version folder.

    Returns:
        The version folder's path.
    """
    out = pathlib.Path(out)
    version = next_version(out) if version is None else version
    target = out / str(version)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite or another --version")
    import tensorflow as tf

    from colorkeras import atomic

    module, signatures = build_module(model, render_size)
    # The partial name is not a number, so TF Serving ignores it.
    with atomic.replacing_folder(target, f".{version}.partial") as partial:
        tf.saved_model.save(module, str(partial), signatures=signatures)
    write_preset(model, module.colorizer, out)
    return target


def write_preset(model, colorizer, out):
    """Make the base folder ``out`` a preset holding ``colorizer``, unless it is one.

    The metadata comes from ``model``'s own preset where it has one (a
    shipped model exported elsewhere keeps its description, training data
    and licence), and is counted off the colorizer otherwise.
    """
    from colorkeras import atomic, presets
    from colorkeras.colorizer import Colorizer

    out = pathlib.Path(out)
    if not isinstance(colorizer, Colorizer) or any(
            (out / name).is_file() for name in (f"{out.name}.keras", "model.keras")):
        return
    try:
        source = presets.metadata(model) if isinstance(model, (str, os.PathLike)) else {}
    except (OSError, ValueError):  # a bare .keras file: no preset to read
        source = {}
    description = source.get("description") or f"{colorizer.name}, exported by colorkeras"
    values = presets.describe(colorizer, out.name, description, source.get("training_data"),
                              source.get("license"))
    with atomic.temporary_path(out / f"{out.name}.keras") as tmp:
        colorizer.as_colorizer().save(tmp)
    presets.write_metadata(out, values)


def build_parser():
    from colorkeras import portable

    parser = cli.ArgumentParser(
        prog="python -m colorkeras.export",
        description="Export a colorizer as a SavedModel for TensorFlow Serving, or as an "
        "ONNX or LiteRT file (with a model.json) for other runtimes.",
    )
    parser.add_argument("model", metavar="NAME|PATH", help="pretrained model name or .keras file")
    parser.add_argument(
        "--out",
        help="saved_model: the model's base path, version folders go inside (default "
        "exported_models/NAME for a name); onnx / litert: the folder for the file and "
        "its model.json (required)",
    )
    parser.add_argument(
        "--version", type=cli.positive_int,
        help="version number (default: one more than the latest under --out, or 1)",
    )
    parser.add_argument(
        "--format", default="saved_model", choices=portable.FORMATS,
        help="saved_model (TF Serving, the default), onnx (dynamic batch, height and "
        "width; needs the [onnx] extra) or litert (a fixed --size; needs TensorFlow only)",
    )
    parser.add_argument(
        "--size", "--render-size", dest="render_size", type=cli.positive_int, default=256,
        metavar="PIXELS",
        help="shorter side the network runs at (default 256); a LiteRT file's fixed "
        "input side",
    )
    parser.add_argument(
        "--quantize", default="none", choices=("none", "float16", "int8"),
        help="onnx: int8 (dynamic, weights); litert: float16 (weights) or int8 "
        "(weights and activations, calibrated on the embedded sample photos)",
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing version, or an existing file and model.json",
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    cli.check_out_folder_path(args.out)
    cli.quiet_tensorflow()
    out = args.out
    if args.format != "saved_model":
        return export_portable(args)
    if args.quantize != "none":
        raise cli.UsageError("--quantize is for --format onnx or litert")
    if out is None:
        from colorkeras.inference import looks_like_path

        if looks_like_path(args.model) or os.path.isdir(args.model):
            raise cli.UsageError("--out is needed when exporting from a path")
        out = os.path.join("exported_models", args.model)
    print(f"Exporting {args.model} (render size {args.render_size}) ...", flush=True)
    target = export(args.model, out, args.version, args.render_size, args.overwrite)
    from colorkeras import inference

    names = [*SIGNATURES][:3 if inference.takes_hints(inference.colorizer_for(args.model)) else 2]
    print(f"Wrote {target}: signatures {', '.join(SIGNATURES[name] for name in names)}")
    print(f"Inspect it with: saved_model_cli show --dir {target} --all")
    return 0


def export_portable(args):
    from colorkeras import portable

    if args.out is None:
        raise cli.UsageError(f"--out is needed for --format {args.format}")
    portable.check_format(args.format, args.quantize)
    print(f"Exporting {args.model} as {args.format} (size {args.render_size}, "
          f"quantize {args.quantize}) ...", flush=True)
    path = portable.export(args.model, args.out, args.format, args.render_size,
                           args.quantize, overwrite=args.overwrite)
    print(f"Wrote {path} and {path.with_name('model.json')}")
    print(f"Try it with: colorkeras colorize PHOTO --model {path} --out DIR")
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
