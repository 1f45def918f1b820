"""The time colour hints add: a 12 MP photo at render 512, with 0 and with 10 hints.

    python -m benchmarks.hints [--model unet-hints] [--repeats 5] [--photo-size 3000x4000]

Both go through `colorkeras.colorize` with the model loaded once, alternated
A, B, A, B (see `benchmarks.timing`), after one untimed call each (the trace).
The ten hints are spread over the photo, radius 8 pixels, in assorted colours.
"""

import argparse
import sys
import time

from benchmarks.inference import _photo
from benchmarks.timing import alternate, summarize_times

COLOURS = ("#c03030", "#3050c0", "#30a040", "#e0c040", "#a040a0")


def ten_hints(height, width):
    """Ten hints on a 5 x 2 grid over the photo."""
    return [((i % 5 + 0.5) * width / 5, (i // 5 + 0.5) * height / 2, COLOURS[i % 5], 8)
            for i in range(10)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="unet-hints")
    parser.add_argument("--render-size", type=int, default=512)
    parser.add_argument("--photo-size", default="3000x4000", help="HEIGHTxWIDTH")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    height, width = (int(side) for side in args.photo_size.split("x"))

    import colorkeras

    colorizer = colorkeras.load(args.model)
    photo = _photo((height, width))[0]
    hints = ten_hints(height, width)
    candidates = {
        "0 hints": lambda: colorkeras.colorize(photo, colorizer, args.render_size),
        "10 hints": lambda: colorkeras.colorize(photo, colorizer, args.render_size, hints=hints),
    }
    for name, run in candidates.items():
        started = time.perf_counter()
        run()
        print(f"{name}: first call (traces) {time.perf_counter() - started:.2f} s", flush=True)
    times = alternate(candidates, args.repeats)
    print(f"{args.model}, {width}x{height} photo, render {args.render_size}, "
          f"{args.repeats} alternated rounds:")
    for name, values in times.items():
        s = summarize_times(values)
        print(f"  {name}: median {s['median']:.3f} s (min {s['min']:.3f}, max {s['max']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
