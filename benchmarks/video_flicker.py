"""Flicker and speed of video colorization, with and without stabilisation.

    python benchmarks/video_flicker.py [--model pix2pix] [--size 854x480] [--shots 3]

Writes a colour test clip from the embedded sample photos (a slow pan across
each, cut to the next, a tone as audio; `benchmarks.clips.write_clip`), colorizes it
from its luminance alone, and prints, for the output with and without
`video.ChromaStabilizer` and for the source itself: flicker (mean |Δa*b*|
between consecutive frames, cuts left out), ΔE2000 to the source's true
colours, and frames per second on this machine.
"""

import argparse
import pathlib
import sys
import tempfile


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pix2pix")
    parser.add_argument("--size", default="854x480", help="WIDTHxHEIGHT (default 480p)")
    parser.add_argument("--shots", type=int, default=3)
    parser.add_argument("--frames-per-shot", type=int, default=24)
    parser.add_argument("--render-size", type=int, default=256)
    args = parser.parse_args(argv)

    from colorkeras import cli

    cli.quiet_tensorflow()
    if not __package__:  # run as a file: the checkout's root holds `benchmarks`
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    from benchmarks.clips import write_clip
    from colorkeras import video
    from colorkeras.data import sample_photos

    width, height = (int(v) for v in args.size.split("x"))
    photos = sample_photos(args.shots, start=3)
    with tempfile.TemporaryDirectory() as folder:
        clip = pathlib.Path(folder) / "clip.mp4"
        frames = write_clip(clip, photos, (width, height), args.frames_per_shot, fps=24.0)
        results = {}
        for stabilize in (False, True):
            results[stabilize] = video.colorize_video(
                clip, pathlib.Path(folder) / f"out-{stabilize}.mp4", args.model,
                args.render_size, stabilize=stabilize, progress=False)
    source = results[False].source_flicker
    print(f"\n{frames} frames of {width}x{height} at 24 fps ({args.shots} shots from the "
          f"embedded sample photos), {args.model} at render size {args.render_size}.\n")
    print("| output | flicker (mean abs Δa*b* per frame) | ΔE2000 to the true colours "
          "| frames/s |")
    print("|---|---|---|---|")
    for stabilize, label in ((False, "each frame alone"), (True, "stabilised")):
        r = results[stabilize]
        print(f"| {label} | {r.flicker:.2f} | {r.delta_e2000:.2f} | "
              f"{r.frames / r.seconds:.1f} |")
    print(f"| the source's own colours | {source:.2f} | 0 | — |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
