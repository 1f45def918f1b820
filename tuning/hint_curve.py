"""How much colour hints help: ΔE2000 against the number of hints, and hint bleeding.

    python tuning/hint_curve.py runs/unet-hints/model.keras \
        --automatic exported_models/unet/unet.keras --data ../shared/data/photos \
        --out evaluation/hints [--counts 0 1 2 5 10 20] [--limit N]

On the val photos (256 centre crops, as `colorkeras.evaluate` scores them),
each photo is colorized with 0, 1, 2, 5, 10 and 20 hints drawn from its own
truth (`hint_sampling.sample_hints` with a fixed count: uniform positions,
patches of 1 to 9 pixels revealing the patch's mean a*b*; the same hints
for every model), and by the automatic model it grew from. Tables per part
of val (all, ``plant=1``, faces) go to ``OUT/hint_curve.md``, rows per photo
to ``OUT/hint_curve.csv``.

Hint bleeding: one hint at a random point of each photo, in a colour far
from the truth's there (its a*b* turned by 180 degrees), compared with no
hint: the share of the change in a*b* that lands in pixels cut off from the
hint by strong luminance edges (Sobel magnitude of the luma > 1.0, a sharp
step of a quarter of its range, by `metrics.edge_mask`; the hint's region is
the connected set of non-edge pixels holding it). 0 means the hint's change
stayed inside its region; the share of pixels outside it is given beside,
as the figure a change spread evenly over the photo would get.
"""

import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

STRONG_EDGE = 1.0  # Sobel magnitude of luma: a sharp step of a quarter of the range
PARTS = {"all of val": lambda row: True,
         "plant=1": lambda row: row["plant"] == "1",
         "faces (UTKFace)": lambda row: row["source"] == "utkface"}


def bleeding_share(truth_rgb, without, with_hint, point):
    """``(share of the a*b* change across strong edges from point (y, x), share of pixels there)``."""
    from scipy import ndimage

    from colorkeras import color, metrics

    edges = metrics.edge_mask(truth_rgb[None], radius=0,
                              threshold=STRONG_EDGE).numpy()[0, ..., 0]
    regions, _ = ndimage.label(~edges)
    own = regions[point] if regions[point] else -1
    change = np.linalg.norm(
        (color.rgb_to_lab(with_hint) - color.rgb_to_lab(without)).numpy()[..., 1:], axis=-1)
    total = change.sum()
    outside = float(np.mean(regions != own))
    if total < 1e-6:
        return np.nan, outside
    return float(change[regions != own].sum() / total), outside


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the hint model (.keras)")
    parser.add_argument("--automatic", help="the automatic model it grew from (.keras)")
    parser.add_argument("--data", required=True, help="the photo pool (train/, val/, manifest.csv)")
    parser.add_argument("--out", required=True, help="folder for hint_curve.md and .csv")
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 1, 2, 5, 10, 20])
    parser.add_argument("--limit", type=int, default=0, help="only the first N val photos")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--split", default="val", choices=("val", "select"),
                        help="select: the held-out train photos that choose settings")
    parser.add_argument("--select-fraction", type=float, default=0.06)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    import colorkeras  # noqa: F401  (registers the classes)
    from colorkeras import color, metrics
    from colorkeras.data import folder_split_files, make_dataset
    from colorkeras.hint_sampling import sample_hints
    from tuning.val_parts import mean, read_manifest

    os.makedirs(args.out, exist_ok=True)
    manifest = read_manifest(os.path.join(args.data, "manifest.csv"))
    fraction = args.select_fraction if args.split == "select" else 0.0
    files = folder_split_files(args.data, args.split, select_fraction=fraction)
    pipeline = make_dataset(args.data, args.split, color_space="lab", image_size=256,
                            batch_size=args.batch_size, select_fraction=fraction)
    model = keras.saving.load_model(args.model, safe_mode=True)
    automatic = (keras.saving.load_model(args.automatic, safe_mode=True)
                 if args.automatic else None)
    # Compiled once per model: eager calls of a whole network are several times slower.
    hinted = tf.function(lambda gray, hints: model.rgb(gray, hints=hints), reduce_retracing=True)
    plain = (tf.function(lambda gray: automatic.rgb(gray), reduce_retracing=True)
             if automatic is not None else None)
    error = tf.function(metrics.ciede2000, reduce_retracing=True)
    rows, index = [], 0
    rng = np.random.default_rng(args.seed)
    for batch, (gray, target) in enumerate(pipeline.dataset):
        if args.limit and index >= args.limit:
            break
        truth = color.decode_output(gray, target, "lab")
        results = {}
        if automatic is not None:
            results["automatic"] = plain(gray)
        for count in args.counts:
            hints = sample_hints(target, [args.seed, batch], count=count)
            results[f"{count} hints"] = hinted(gray, hints)
        scores = {name: error(truth, rgb).numpy() for name, rgb in results.items()}
        # Bleeding: one hint of the opposite hue at a random point of each photo.
        height, width = gray.shape[1:3]
        points = [(int(rng.integers(height)), int(rng.integers(width))) for _ in range(len(gray))]
        bleed_hints = np.zeros([len(gray), height, width, 3], np.float32)
        for i, (y, x) in enumerate(points):
            ab = target[i, max(y - 2, 0):y + 3, max(x - 2, 0):x + 3].numpy().reshape(-1, 2)
            ab = -ab.mean(0)
            if np.linalg.norm(ab) < 0.1:  # gray truth there: hint a plain red
                ab = np.array([0.5, 0.3])
            bleed_hints[i, max(y - 2, 0):y + 3, max(x - 2, 0):x + 3] = [*ab, 1.0]
        without = results.get("0 hints", hinted(gray, tf.zeros_like(bleed_hints)))
        with_hint = hinted(gray, tf.constant(bleed_hints))
        for i in range(len(gray)):
            if args.limit and index >= args.limit:
                break
            name = os.path.basename(files[index])
            bleeding, outside = bleeding_share(truth[i].numpy(), without[i], with_hint[i],
                                               points[i])
            row = {"image": name, "source": manifest[name]["source"],
                   "plant": manifest[name]["plant"], "bleeding": bleeding,
                   "outside_share": outside}
            row.update({key: float(value[i]) for key, value in scores.items()})
            rows.append(row)
            index += 1
        print(f"{index} photos", flush=True)
    if index != len(files) and not args.limit:
        raise SystemExit(f"{index} photos scored, but val lists {len(files)}")
    with open(os.path.join(args.out, "hint_curve.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    names = [key for key in rows[0] if key.endswith("hints") or key == "automatic"]
    lines = [f"ΔE2000 on val (256 centre crops), {args.model}", "",
             "| part | photos | " + " | ".join(names)
             + " | 10 hints / 0 | bleeding | pixels across |",
             "|---|---:|" + "---:|" * (len(names) + 3)]
    for part, keep in PARTS.items():
        mine = [r for r in rows if keep(r)]
        if not mine:
            continue
        cells = [f"{mean(r[n] for r in mine):.2f}" for n in names]
        ratio = (mean(r["10 hints"] for r in mine) / mean(r["0 hints"] for r in mine)
                 if "10 hints" in names and "0 hints" in names else float("nan"))
        lines.append(f"| {part} | {len(mine)} | " + " | ".join(cells)
                     + f" | {ratio:.3f} | {mean(r['bleeding'] for r in mine):.3f}"
                     f" | {mean(r['outside_share'] for r in mine):.3f} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "hint_curve.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
