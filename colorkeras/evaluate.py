"""Compare colorizers on the same photos: ``python -m colorkeras.evaluate``.

Each photo is resized so its shorter side is ``--image-size`` and centre
cropped to a square (the validation crop of `colorkeras.data`), or kept whole
with ``--full-resolution``. Every colorizer sees the photo's BT.601 luma and
its colour is put back onto that luma by its own ``colorize``
(`colorizer.ColorizeRecipe`, the network at the photo's size, rounded to the
8-bit image a user gets), so only the colour it chose is judged: lightness
is always the photo's own. The
"gray output" row is the luma repeated in R, G and B: the floor to beat.

Written under ``--out`` (default ``evaluation/<timestamp>``):

- ``results.csv``: one row per colorizer (gray output included) and photo,
  with every metric of `metrics.METRIC_NAMES`, ``density_kl`` when a density
  VAE is used, and ``truth_colorfulness``, the photo's own colourfulness;
- ``summary.md``: the mean of each metric per colorizer, the gray output as
  the floor, the ground truth's colourfulness as the ceiling, and the files
  that could not be decoded;
- ``sheet_001.png``...: gray input, each model and the truth side by side;
- ``density_vae.keras`` with ``--fit-density`` (see `colorkeras.density`);
- ``turing.html`` with ``--turing N`` (see `colorkeras.turing`).
"""

import os
import random
import sys
import time

from colorkeras import cli, scoring
from colorkeras.evaluation_report import sheet_rows, turing_pairs, write_summary


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.evaluate",
        description="Score colorizers against the real photos: metrics table, comparison "
        "sheets, an optional density metric and a blind Turing test page.",
        epilog="Example: python -m colorkeras.evaluate --models unet pix2pix "
        "runs/resnet/model.keras "
        "--data ~/photos --image-size 256 --turing 20",
    )
    parser.add_argument(
        "--models", nargs="*", default=["pix2pix"], metavar="NAME_OR_PATH",
        help="registry names (exported models), .keras files or training-run folders; with "
        "no value only the gray baseline is scored (default: pix2pix)")
    group = parser.add_argument_group("data")
    group.add_argument("--data", default="sample",
                       help="'sample' (the embedded photos), a folder of images, tfds:NAME "
                       "or tfrecord:DIR (default: sample)")
    group.add_argument("--split", default=None, choices=("val", "train", "all"),
                       help="a source's val or train split, or all of a folder's images. "
                       "Default: all for a plain folder (a test set), val otherwise (a "
                       "folder with train/ and val/, the sample, TFDS, TFRecord shards)")
    group.add_argument("--image-size", type=cli.positive_int, default=256,
                       help="shorter side, then centre square crop (default 256)")
    group.add_argument("--full-resolution", action="store_true",
                       help="run each photo whole, at its own size, one at a time")
    group.add_argument("--limit", type=cli.positive_int, default=None,
                       help="score only the first N photos")
    group.add_argument("--batch-size", type=cli.positive_int, default=8,
                       help="photos per batch (default 8)")
    density = parser.add_argument_group("density metric")
    choice = density.add_mutually_exclusive_group()
    choice.add_argument("--fit-density", action="store_true",
                        help="train the density VAE on the source's train split first and "
                        "save it as density_vae.keras beside the results")
    choice.add_argument("--density", metavar="PATH",
                        help="a density_vae.keras fitted earlier")
    density.add_argument("--density-size", type=cli.positive_int, default=64,
                         help="side of the VAE's view of a photo (default 64)")
    density.add_argument("--density-epochs", type=cli.positive_int, default=10,
                         help="VAE training epochs (default 10)")
    density.add_argument("--density-steps", type=cli.positive_int, default=50,
                         help="VAE batches per epoch (default 50)")
    parser.add_argument(
        "--imagenet-labels", metavar="CSV",
        help="a CSV naming ImageNet photos among the data (columns 'file' and 'wnid', or an "
        "'original_path' that starts '<wnid>_'): those photos get a table of their own and "
        "the semantic test, the top-1 of an ImageNet classifier on gray, colorized and real "
        "photos (Zhang et al. 2016)")
    out = parser.add_argument_group("output")
    out.add_argument("--out", default=None,
                     help="output folder (default: evaluation/<timestamp>)")
    out.add_argument("--overwrite", action="store_true",
                     help="write into an --out folder that is not empty")
    out.add_argument("--sheet-images", type=int, default=12,
                     help="photos shown on the comparison sheets, 6 per sheet; 0: none "
                     "(default 12)")
    out.add_argument("--turing", type=cli.positive_int, default=None, metavar="N",
                     help="also write turing.html, a blind test of N real/colorized pairs")
    out.add_argument("--seed", type=int, default=0,
                     help="seed of the Turing pairs and the density VAE (default 0)")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def prepare_out(out, overwrite):
    """The output folder; a non-empty one only with ``--overwrite``."""
    if out is None:
        return os.path.join("evaluation", time.strftime("%Y%m%d-%H%M%S"))
    if os.path.exists(out) and not os.path.isdir(out):
        raise FileExistsError(f"--out {out} exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise FileExistsError(f"{out} is not empty; pass --overwrite or choose another --out")
    return out


def check_inputs(args):
    """Everything that can be wrong, found before anything is written.

    Returns:
        ``(photos, colorizers, vae)``; ``vae`` is None unless ``--density``.
    """
    from colorkeras import density

    if args.sheet_images < 0:
        raise cli.UsageError(f"--sheet-images must be 0 or more, got {args.sheet_images}")
    if args.fit_density:
        density.check_view_size(args.density_size)
    args.split = args.split or scoring.default_split(args.data)
    photos = scoring.load_photos(args.data, args.split, args.image_size, args.full_resolution,
                                 args.limit)
    colorizers = scoring.load_colorizers(args.models)
    if args.turing and not colorizers:
        raise cli.UsageError("--turing needs at least one model to compare with the real photos")
    if args.turing and args.turing > photos.count * len(colorizers):
        raise cli.UsageError(
            f"--turing {args.turing} asks for more pairs than {photos.count} photos x "
            f"{len(colorizers)} model(s) can give")
    vae = density.load_density(args.density) if args.density else None
    return photos, colorizers, vae


def load_judge(labels_path):
    """``(judge, labels)`` for ``--imagenet-labels``, or ``(None, None)``."""
    if not labels_path:
        return None, None
    from colorkeras import semantic

    try:
        labels = semantic.read_labels(labels_path)
    except (OSError, ValueError) as error:
        raise cli.UsageError(f"--imagenet-labels: {scoring.first_line(error)}") from None
    if not labels:
        raise cli.UsageError(f"--imagenet-labels: no row of {labels_path} names an ImageNet "
                             "class (a 'wnid' column, or an 'original_path' of '<wnid>_...')")
    return semantic.ImageNetJudge(), labels


def clear_stale_outputs(out):
    """Remove sheets and a Turing page an earlier run left, as this one may write fewer."""
    from colorkeras import turing

    for name in os.listdir(out):
        if name == turing.FILENAME or (name.startswith("sheet_") and name.endswith(".png")):
            os.remove(os.path.join(out, name))


def describe(args, labels, vae, photo_count):
    """The settings lines at the top of ``summary.md``."""
    size = "each photo at its own size" if args.full_resolution else (
        f"{args.image_size}x{args.image_size} centre crops (shorter side resized to "
        f"{args.image_size})")
    models = ", ".join(f"{label} ({spec})" for label, spec in zip(labels, args.models))
    lines = [f"data: {args.data} ({args.split}), {photo_count} photos, {size}",
             f"colorizers: {models or 'none (gray baseline only)'}"]
    if vae is not None:
        where = os.path.join(args.out, "density_vae.keras") if args.fit_density else args.density
        lines.append(f"density model: {where} ({vae.view_size}x{vae.view_size} view)")
    return lines


def main(argv=None):
    args = build_parser().parse_args(argv)
    cli.quiet_tensorflow()
    args.out = prepare_out(args.out, args.overwrite)
    photos, colorizers, vae = check_inputs(args)
    judge, imagenet_labels = load_judge(args.imagenet_labels)
    labels = list(colorizers)
    from colorkeras import density, sheets, turing

    os.makedirs(args.out, exist_ok=True)
    clear_stale_outputs(args.out)
    if args.fit_density:
        print(f"Fitting the density VAE on the train split of {args.data}", flush=True)
        vae = density.fit_density(
            args.data, os.path.join(args.out, "density_vae.keras"), view_size=args.density_size,
            epochs=args.density_epochs, steps_per_epoch=args.density_steps, seed=args.seed,
            verbose=cli.progress_verbosity(args.quiet))
    turing_positions = random.Random(args.seed).sample(
        range(photos.count), min(args.turing or 0, photos.count))
    print(f"Scoring {', '.join([scoring.GRAY, *labels])} on {photos.count} photos of {args.data}",
          flush=True)
    rows, kept = scoring.score(
        colorizers, photos, 1 if args.full_resolution else args.batch_size, vae,
        keep=set(range(args.sheet_images)) | set(turing_positions),
        progress=not args.quiet, compiled=not args.full_resolution,
        judge=judge, labels=imagenet_labels)
    if not rows:
        raise cli.UsageError(f"none of the {photos.count} photos of {args.data} could be decoded")
    scored = {row["image"] for row in rows}
    skipped = photos.skipped + [
        (name, "cannot be decoded") for name in photos.names or [] if name not in scored]
    scoring.write_csv(rows, os.path.join(args.out, "results.csv"))
    key = write_summary(os.path.join(args.out, "summary.md"), rows,
                        describe(args, labels, vae, len(scored)), skipped)
    kept = {item.position: item for item in kept}
    sheet_items = [kept[i] for i in range(args.sheet_images) if i in kept]
    if sheet_items:
        sheets.write_sheets(sheet_rows(sheet_items, labels), args.out)
    if args.turing:
        pairs = turing_pairs([kept[i] for i in turing_positions if i in kept], labels, args.turing)
        turing.write_page(os.path.join(args.out, turing.FILENAME), pairs, seed=args.seed)
    print(key)
    print(f"Results in {args.out}")
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
