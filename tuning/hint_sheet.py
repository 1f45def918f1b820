"""A sheet of one photo colorized with 0, 1, 3 and 10 colour hints: docs/hints-sheet.jpg.

    python tuning/hint_sheet.py exported_models/unet-hints/unet-hints.keras \
        --photo colorkeras/datasets/sample/scratch-backgrounds-7952f09d80.jpg \
        --out docs/hints-sheet.jpg

The photo is a redistributable sample (colorkeras/datasets/sample/CREDITS),
not one of the pool's. Hints are drawn from its own colours with
`hint_sampling.sample_hints` (uniform positions, 1-9 px patches), the
first n of the same draw for each n, and shown as rings on the result.
Columns: gray, 0, 1, 3, 10 hints, the truth.
"""

import argparse
import sys

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--photo", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 1, 3, 10])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--size", type=int, default=256, help="the shorter side shown")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf
    from PIL import Image, ImageDraw

    import colorkeras  # noqa: F401
    from colorkeras import color, images
    from colorkeras.data import resize_shorter_side
    from colorkeras.hint_sampling import sample_hints

    model = keras.saving.load_model(args.model, safe_mode=True)
    rgb = resize_shorter_side(images.read_image(args.photo)[..., :3], args.size)
    height, width = (int(s) // 32 * 32 for s in rgb.shape[:2])
    rgb = tf.cast(tf.image.resize_with_crop_or_pad(rgb, height, width)[None], tf.float32) / 255.0
    gray = color.luminance(rgb)
    target = color.encode_target(rgb, "lab")
    drawn = sample_hints(target, [args.seed, 0], count=max(args.counts)).numpy()
    # The first n hints of one draw: re-drawing with count=n places them anew,
    # so paint the draw's patches one by one instead, by connected patch.
    from scipy import ndimage

    patches, total = ndimage.label(drawn[0, ..., 2] > 0)
    panels = [np.repeat(gray[0].numpy(), 3, -1)]
    for count in args.counts:
        keep = np.isin(patches, np.arange(1, min(count, total) + 1))
        hints = drawn * keep[None, ..., None]
        out = model.rgb(gray, hints=tf.constant(hints)).numpy()[0]
        panel = Image.fromarray(np.round(np.clip(out, 0, 1) * 255).astype(np.uint8))
        pen = ImageDraw.Draw(panel)
        for label in range(1, min(count, total) + 1):
            ys, xs = np.nonzero(patches == label)
            y, x = ys.mean(), xs.mean()
            pen.ellipse([x - 6, y - 6, x + 6, y + 6], outline=(255, 255, 255), width=2)
            pen.ellipse([x - 8, y - 8, x + 8, y + 8], outline=(0, 0, 0), width=1)
        panels.append(np.asarray(panel) / 255.0)
    panels.append(rgb[0].numpy())
    gap = np.ones([height, 4, 3])
    sheet = np.concatenate(sum([[p, gap] for p in panels], [])[:-1], axis=1)
    Image.fromarray(np.round(sheet * 255).astype(np.uint8)).save(args.out, quality=90)
    print(f"Wrote {args.out}: gray, {', '.join(map(str, args.counts))} hints, truth "
          f"({total} patches drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
