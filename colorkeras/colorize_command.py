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
are over ``--max-pixels``, and videos ffmpeg cannot read, are skipped with a
one-line warning each and counted at the end; the exit status is then 1.
Videos inside a named folder are colorized too. A photo thinner than 4:1 is
rendered smaller than ``--render-size`` (`inference.render_shape`), with a
one-line note.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import warnings

from colorkeras import cli
from colorkeras.errors import InputError


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
        "--hints", metavar="FILE",
        help='colour hints for one photo, with a model that takes them (--model unet-hints): '
        'a JSON list of {"x", "y", "colour", "radius"}, x and y in the photo\'s pixels, '
        'colour "#rrggbb", radius in pixels (0: one point); the web app downloads this file',
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


def video_targets(args, videos):
    """``[(video, <out>/<name>.mp4)]``; raises UsageError when two would collide."""
    if videos and not args.keep_luminance:
        raise cli.UsageError("--no-keep-luminance is for photos, not video")
    plan, targets = [], {}
    for source in videos:
        target = pathlib.Path(args.out) / (pathlib.Path(source).stem + ".mp4")
        key = os.path.realpath(target)
        if key in targets:
            raise cli.UsageError(f"{targets[key]} and {source} would both "
                                 f"be written to {target}")
        if key == os.path.realpath(source):
            raise cli.UsageError(f"{target} would replace the input {source}")
        targets[key] = source
        plan.append((source, target))
    return plan


def colorize_videos(args, plan, colorizer):
    """Each video into its target; returns how many failed (each named in one line)."""
    from colorkeras import video

    failed = 0
    for source, target in plan:
        if target.exists() and not args.overwrite:
            print(f"Kept the existing {target} (--overwrite replaces it)")
            continue
        print(f"Colorizing {source} ...", flush=True)
        try:
            result = video.colorize_video(source, target, colorizer, args.render_size,
                                          args.batch_frames, args.stabilize)
        except InputError as error:
            cli.warn(f"skipping {error}")
            failed += 1
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            # ffmpeg failing part-way through a truncated file: the rest goes on.
            cli.warn(f"skipping {source}: {type(error).__name__}: {cli.first_line(error)}")
            failed += 1
        else:
            print(f"Wrote {target}: {result.summary()}")
    return failed


def split_inputs(inputs, out, recursive=False):
    """(videos, photo inputs): video files named, and those found in named folders.

    As for photos, earlier outputs in an ``out`` inside a named folder are not inputs.
    """
    from colorkeras.video import VIDEO_EXTENSIONS, is_video

    out_real = os.path.realpath(out)
    videos, photos = [], []
    for text in inputs:
        path = pathlib.Path(text)
        if path.is_file() and is_video(text):
            videos.append(text)
        else:
            photos.append(text)
            if path.is_dir():
                pattern = "**/*" if recursive else "*"
                nested_out = out_real != os.path.realpath(path)
                videos += sorted(
                    str(p) for p in path.glob(pattern)
                    if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                    and not (nested_out and _is_within(os.path.realpath(p), out_real)))
    return videos, photos


def read_hints(args, videos, plan):
    """The ``--hints`` file's hints (None without it), refused before any model loads.

    Hints belong to one photo: with more inputs, or a video, they are refused.
    """
    if args.hints is None:
        return None
    if videos or len(plan) != 1:
        raise cli.UsageError(f"--hints gives the colours of one photo; {len(plan)} photo(s) "
                             f"and {len(videos)} video(s) were given")
    from colorkeras.hints import read_hints_file

    try:
        return read_hints_file(args.hints)
    except InputError as error:
        raise cli.UsageError(str(error).replace("`hints`", "--hints")) from None


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    cli.quiet_tensorflow()
    cli.check_out_folder_path(args.out)
    videos, photos = split_inputs(args.inputs, args.out, args.recursive)
    # Every output is planned, and every clash refused, before anything is written.
    video_plan = video_targets(args, videos)
    plan = []
    if photos:
        try:
            plan = plan_outputs(photos, args.out, args.format, args.recursive)
        except cli.UsageError:
            if not (video_plan and all(os.path.isdir(p) for p in photos)):
                raise  # a folder holding only videos is not an error

    hints = read_hints(args, videos, plan)

    import keras

    from colorkeras import images, inference

    colorizer = inference.load(args.model)
    if hints is not None and not inference.takes_hints(colorizer):
        raise cli.UsageError(f"--model {args.model} takes no colour hints; use --hints with "
                             "--model unet-hints")
    failed = colorize_videos(args, video_plan, colorizer)
    if not plan:
        return 1 if failed else 0
    done = skipped = kept = 0
    progress = keras.utils.Progbar(len(plan), unit_name="image",
                                   verbose=cli.progress_verbosity())
    for index, (source, target) in enumerate(plan, start=1):
        if target.exists() and not args.overwrite:
            kept += 1
        else:
            try:
                pixels = images.read_image(source, max_pixels=args.max_pixels)
            except (images.UnreadableImage, images.ImageTooLarge) as error:
                cli.warn(f"skipping {cli.flag_names(error, parser)}")
                skipped += 1
            else:
                note = inference.render_note(*pixels.shape[:2], args.render_size)
                if note:
                    cli.warn(f"{source}: {note}")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", inference.RenderShrunk)  # said just above
                    try:
                        rgb = inference.colorize(pixels, colorizer, args.render_size,
                                                 args.keep_luminance, hints=hints)
                    except InputError as error:  # a hint outside this photo
                        raise cli.UsageError(f"--hints {args.hints}: {error}") from None
                images.write_image(rgb, target, args.format)
                done += 1
        progress.update(index)
    print(f"Colorized {done} image(s) into {args.out}", end="")
    if kept:
        print(f"; kept {kept} existing output(s) (--overwrite replaces them)", end="")
    print(f"; skipped {skipped} unreadable or too large." if skipped else ".")
    if failed:
        print(f"{failed} video(s) failed; see the warnings above.")
    return 1 if skipped or failed else 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
