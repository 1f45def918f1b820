"""Fidelity, size and speed of every portable export against the Keras model.

    python benchmarks/portable_exports.py [--models pix2pix unet] [--photos 8] [--out DIR]

For each shipped model, writes ONNX (float32, int8) and LiteRT (float32,
float16, int8) files at 256 and, for LiteRT, at 512 (its input size is fixed),
then on the embedded sample photos, turned gray and resized to 256x256:

- max and mean absolute difference of the RGB output (in [0, 1]) to the
  Keras model's, and the CIEDE2000 between the two outputs;
- the file's size;
- latency per photo at 256 and 512 (median of 5 runs after a warm-up), on
  whatever cores this machine has.

Prints a Markdown table. Needs the [onnx] and [litert] extras.
"""

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

VARIANTS = [("onnx", "none"), ("onnx", "int8"), ("litert", "none"), ("litert", "float16"),
            ("litert", "int8")]


def latency(run, x, repeats=5):
    run(x)  # warm-up: first call traces or allocates
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pix2pix", "unet"])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--out", help="keep the exports here (default: a temporary folder)")
    args = parser.parse_args(argv)

    from colorkeras import cli

    cli.quiet_tensorflow()
    import numpy as np
    import tensorflow as tf

    from colorkeras import inference, metrics, portable, runtimes

    gray = np.concatenate(portable.calibration_images(256, args.photos))
    big = np.asarray(tf.image.resize(gray[:1], (512, 512)), np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(args.out or tmp)
        for name in args.models:
            keras_colorizer = inference.load(name)
            want = np.concatenate([keras_colorizer(g[None]).numpy() for g in gray])
            size = inference.resolve(name).stat().st_size
            rows.append((name, "keras", "-", 0.0, 0.0, 0.0, size,
                         latency(lambda x: keras_colorizer(x).numpy(), gray[:1]),
                         latency(lambda x: keras_colorizer(x).numpy(), big)))
            for fmt, quantize in VARIANTS:
                start = time.perf_counter()
                path = portable.export(name, base / f"{name}-{fmt}-{quantize}", fmt, 256,
                                       quantize, overwrite=True)
                print(f"{path.name}: written in {time.perf_counter() - start:.0f} s",
                      file=sys.stderr, flush=True)
                runner = runtimes.load(path)
                got = np.concatenate([runner.predict(g[None]) for g in gray])
                diff = np.abs(got - want)
                delta_e = float(tf.reduce_mean(metrics.ciede2000(want, np.clip(got, 0, 1))))
                at_256 = latency(runner.predict, gray[:1])
                if fmt == "litert":  # a fixed input: the 512 figure needs its own file
                    path_512 = portable.export(name, base / f"{name}-{fmt}-{quantize}-512", fmt,
                                               512, quantize, overwrite=True)
                    at_512 = latency(runtimes.load(path_512).predict, big)
                else:
                    at_512 = latency(runner.predict, big)
                rows.append((name, fmt, quantize, float(diff.max()), float(diff.mean()),
                             delta_e, path.stat().st_size, at_256, at_512))
    print(f"\nOn {args.photos} embedded sample photos, gray at 256x256; latency per photo, "
          "median of 5 runs.\n")
    print("| model | format | quantize | max abs diff | mean abs diff | ΔE2000 to Keras "
          "| file MB | 256 ms | 512 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, fmt, q, mx, mean, de, size, t256, t512 in rows:
        print(f"| {name} | {fmt} | {q} | {mx:.2e} | {mean:.2e} | {de:.3f} | "
              f"{size / 1e6:.1f} | {t256 * 1e3:.0f} | {t512 * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
