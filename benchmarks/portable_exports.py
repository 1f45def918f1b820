"""Fidelity, size and speed of every portable export against the Keras model.

    python benchmarks/portable_exports.py [--models pix2pix unet] [--photos 8] [--out DIR]

For each shipped model, writes ONNX (float32, int8) and LiteRT (float32,
float16, int8) files at 256, then on the embedded sample photos, turned gray
and resized to 256x256, and again at their own aspect (shorter side 256; most
are 4:3 or 3:2):

- max and mean absolute difference of the RGB output (in [0, 1]) to the
  Keras model's, and the CIEDE2000 between the two outputs, on the squares
  and on the photos at their own aspect;
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


def own_aspect_grays(count, side=256):
    """Gray ``[1, H, W, 1]`` of the sample photos, shorter side ``side``, aspect kept."""
    import numpy as np
    import tensorflow as tf

    from colorkeras import color, images, inference
    from colorkeras.data import sample_photos

    grays = []
    for path in sample_photos(count):
        rgb = tf.constant(images.read_image(path)[None, ..., :3], tf.float32) / 255.0
        shape = inference.render_shape(tf.shape(rgb)[1:3], side)
        grays.append(np.asarray(tf.image.resize(color.luminance(rgb), shape, antialias=True)))
    return grays


def differences(run, grays, wants):
    """(max, mean abs diff, mean CIEDE2000) of ``run`` against the Keras outputs."""
    import numpy as np
    import tensorflow as tf

    from colorkeras import metrics

    gots = [np.asarray(run(g)) for g in grays]
    diffs = [np.abs(got - want) for got, want in zip(gots, wants)]
    delta_e = np.mean([float(tf.reduce_mean(metrics.ciede2000(want, np.clip(got, 0, 1))))
                       for got, want in zip(gots, wants)])
    return (max(float(d.max()) for d in diffs), float(np.mean([d.mean() for d in diffs])),
            float(delta_e))


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
    own = own_aspect_grays(args.photos)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(args.out or tmp)
        for name in args.models:
            keras_colorizer = inference.load(name)
            # `rgb` (not calling the colorizer, which gives its training outputs).
            want = np.concatenate([keras_colorizer.rgb(g[None]).numpy() for g in gray])
            want_own = [keras_colorizer.rgb(g).numpy() for g in own]
            size = inference.resolve(name).stat().st_size
            rows.append((name, "keras", "-", 0.0, 0.0, 0.0, (0.0, 0.0, 0.0), size,
                         latency(lambda x: keras_colorizer.rgb(x).numpy(), gray[:1]),
                         latency(lambda x: keras_colorizer.rgb(x).numpy(), big)))
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
                at_512 = latency(runner.predict, big)
                rows.append((name, fmt, quantize, float(diff.max()), float(diff.mean()),
                             delta_e, differences(runner.predict, own, want_own),
                             path.stat().st_size, at_256, at_512))
    print(f"\nOn {args.photos} embedded sample photos, gray at 256x256 and at their own "
          "aspect (shorter side 256); latency per photo, median of 5 runs.\n")
    print("| model | format | quantize | max abs diff | mean abs diff | ΔE2000 to Keras "
          "| own aspect: max / mean / ΔE2000 | file MB | 256 ms | 512 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, fmt, q, mx, mean, de, (own_mx, own_mean, own_de), size, t256, t512 in rows:
        print(f"| {name} | {fmt} | {q} | {mx:.2e} | {mean:.2e} | {de:.3f} | "
              f"{own_mx:.2e} / {own_mean:.2e} / {own_de:.3f} | "
              f"{size / 1e6:.1f} | {t256 * 1e3:.0f} | {t512 * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
