"""Colorize image files, folders and videos: ``colorkeras colorize``.

    colorkeras colorize old_photos/ scan.tif --out colour/ --recursive
    colorkeras colorize old_film.mp4 --out colour/
    python -m colorkeras colorize ...   # the same, where the script is not on PATH

(Not ``python -m colorkeras.colorize``: ``colorkeras.colorize`` is the function.)

A video (``.mp4``, ``.mov``, ``.mkv``, ``.avi``, ``.webm``) becomes
``<out>/<name>.mp4`` with its frame count, frame rate, size and audio, its
colour stabilised over time (`colorkeras.video`; the ``[video]`` extra).

Each output keeps its input's path relative to the folder it was found in
(a file named on the command line goes straight under ``--out``), with the
extension of ``--format``. Nothing is ever written over an input; an output
that already exists is kept unless ``--overwrite``, so an interrupted run
resumes where it stopped. Every output is written to a temporary file and
renamed, so none is ever half-written. Files that cannot be decoded, or that
are over ``--max-pixels``, are skipped with a one-line warning each and
counted at the end; the exit status is then 1.
"""

import argparse
import os
import pathlib
import sys

from colorkeras import cli


def build_parser():
    from colorkeras.images import DEFAULT_MAX_PIXELS, WRITE_FORMATS

    parser = cli.ArgumentParser(
        prog="colorkeras colorize",
        description="Colorize gray (or colour) photos: the network's colour on "
        "each photo's own full-resolution luminance.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files, folders and video files")
    parser.add_argument("--out", required=True, help="folder the colorized images go to")
    parser.add_argument(
        "--model", default="pix2pix",
        help="pretrained model name, .keras file, training run folder, or an exported "
        ".onnx / .tflite file (default pix2pix)",
    )
    parser.add_argument(
        "--render-size", type=cli.positive_int, default=256,
        help="shorter side the network runs at; colour is upsampled onto the "
        "full-size luminance (default 256)",
    )
    parser.add_argument("--recursive", action="store_true", help="search folders recursively")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument(
        "--format", choices=sorted(WRITE_FORMATS), default="png",
        help="output format (default png)",
    )
    parser.add_argument(
        "--max-pixels", type=cli.positive_int, default=DEFAULT_MAX_PIXELS,
        help=f"skip larger images, a decompression-bomb guard (default {DEFAULT_MAX_PIXELS:,})",
    )
    parser.add_argument(
        "--stabilize", action=argparse.BooleanOptionalAction, default=True,
        help="video: smooth the colour over time where the picture holds still, "
        "resetting at cuts (default); --no-stabilize colorizes each frame alone",
    )
    parser.add_argument(
        "--batch-frames", type=cli.positive_int, default=8,
        help="video: frames colorized together (default 8)",
    )
    parser.add_argument(
        "--keep-luminance", action=argparse.BooleanOptionalAction, default=True,
        help="keep each photo's own luminance (default); --no-keep-luminance "
        "returns the network's RGB, resized",
    )
    return parser


def plan_outputs(inputs, out, image_format, recursive=False):
    """``[(input path, output path)]`` for the command's inputs.

    Raises before anything is written: FileNotFoundError for a missing
    input, UsageError when no image is found, when two inputs would give the
    same output, or when an output would replace an input.
    """
    from colorkeras.images import list_images

    out = pathlib.Path(out)
    out_real = os.path.realpath(out)
    found = []
    for text in inputs:
        path = pathlib.Path(text)
        if path.is_dir():
            # Earlier outputs in an --out inside an input folder are not inputs.
            nested_out = out_real != os.path.realpath(path)
            for file in list_images(path, recursive):
                if not (nested_out and _is_within(os.path.realpath(file), out_real)):
                    found.append((file, file.relative_to(path)))
        elif path.is_file():
            found.append((path, pathlib.Path(path.name)))
        else:
            raise FileNotFoundError(f"No such file or folder: {text!r}")
    if not found:
        raise cli.UsageError(f"no image files found in {list(inputs)} (try --recursive)")
    plan, sources = [], {}
    input_files = {os.path.realpath(file) for file, _ in found}
    for file, relative in found:
        target = out / relative.with_suffix(f".{image_format}")
        key = os.path.realpath(target)
        if key in sources and os.path.realpath(sources[key]) != os.path.realpath(file):
            raise cli.UsageError(
                f"{sources[key]} and {file} would both be written to {target}; "
                "colorize them into separate --out folders"
            )
        if key in input_files:
            raise cli.UsageError(f"{target} would replace the input {file}; choose another --out")
        if key not in sources:
            sources[key] = file
            plan.append((file, target))
    return plan


def _is_within(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def colorize_videos(args, videos):
    """Each video into ``<out>/<name>.mp4``; an existing one is kept unless --overwrite."""
    from colorkeras import video

    if not args.keep_luminance:
        raise cli.UsageError("--no-keep-luminance is for photos, not video")
    targets = {}
    for source in videos:
        target = pathlib.Path(args.out) / (pathlib.Path(source).stem + ".mp4")
        if os.path.realpath(target) in targets:
            raise cli.UsageError(f"{targets[os.path.realpath(target)]} and {source} would both "
                                 f"be written to {target}")
        if os.path.realpath(target) == os.path.realpath(source):
            raise cli.UsageError(f"{target} would replace the input {source}")
        targets[os.path.realpath(target)] = source
    for source in videos:
        target = pathlib.Path(args.out) / (pathlib.Path(source).stem + ".mp4")
        if target.exists() and not args.overwrite:
            print(f"Kept the existing {target} (--overwrite replaces it)")
            continue
        print(f"Colorizing {source} ...", flush=True)
        result = video.colorize_video(source, target, args.model, args.render_size,
                                      args.batch_frames, args.stabilize)
        print(f"Wrote {target}: {result.summary()}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    cli.quiet_tensorflow()
    from colorkeras.video import is_video

    videos = [text for text in args.inputs if os.path.isfile(text) and is_video(text)]
    photos = [text for text in args.inputs if text not in videos]
    if videos:
        colorize_videos(args, videos)
        if not photos:
            return 0
    plan = plan_outputs(photos, args.out, args.format, args.recursive)

    import keras

    from colorkeras import images, inference

    colorizer = inference.load(args.model)
    done = skipped = kept = 0
    progress = keras.utils.Progbar(len(plan), unit_name="image")
    for index, (source, target) in enumerate(plan, start=1):
        if target.exists() and not args.overwrite:
            kept += 1
        else:
            try:
                pixels = images.read_image(source, max_pixels=args.max_pixels)
            except (images.UnreadableImage, images.ImageTooLarge) as error:
                # Start a new line when a progress bar is being redrawn on it.
                newline = "\n" if sys.stdout.isatty() else ""
                print(f"{newline}warning: skipping {cli.flag_names(error, parser)}",
                      file=sys.stderr)
                skipped += 1
            else:
                rgb = inference.colorize(
                    pixels, colorizer, args.render_size, args.keep_luminance
                )
                images.write_image(rgb, target, args.format)
                done += 1
        progress.update(index)
    print(f"Colorized {done} image(s) into {args.out}", end="")
    if kept:
        print(f"; kept {kept} existing output(s) (--overwrite replaces them)", end="")
    print(f"; skipped {skipped} unreadable or too large." if skipped else ".")
    return 1 if skipped else 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
