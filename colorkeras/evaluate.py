"""Compare colorizers on the same photos: ``python -m colorkeras.evaluate``.

Each photo is resized so its shorter side is ``--image-size`` and centre
cropped to a square (the validation crop of `colorkeras.data`), or kept whole
with ``--full-resolution``. Every colorizer sees the photo's BT.601 luma and
its RGB output is put back onto that luma (`color.recombine_luminance`), so
only the colour it chose is judged: lightness is always the photo's own. The
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

import csv
import dataclasses
import math
import os
import random
import sys
import time
import warnings

from colorkeras import cli

GRAY = "gray output"
TRUTH = "ground truth"
SKIP_WARNING = "Skipping unreadable image: "  # `data.readable_images`' warning
KEY_COLUMNS = (
    ("psnr", "PSNR"), ("ssim", "SSIM"), ("ciede2000", "ΔE2000 ↓"), ("ab_mae", "ab MAE ↓"),
    ("colorfulness", "colorfulness"), ("colorfulness_ratio", "CF ratio"),
    ("cast", "a* / b* cast"), ("blotch_share", "blotch share ↓"),
    ("density_kl", "density KL ↓"), ("imagenet_top1", "ImageNet top-1"),
)


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
                       help="'sample' (the embedded photos), a folder of images, or tfds:NAME "
                       "(default: sample)")
    group.add_argument("--split", default=None, choices=("val", "train", "all"),
                       help="which photos (default: every image of a plain folder, which is a "
                       "test set; the val split of a folder with train/ and val/, of the "
                       "sample and of TFDS): a source's val or train split, or every image "
                       "of a folder (default: val)")
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


# ---------------------------------------------------------------------------
# Photos and colorizers.
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Photos:
    """The photos to score: a dataset of ``(name, uint8 RGB)``, one photo per element."""

    dataset: object
    count: int
    skipped: list  # [(name, reason)] found before decoding
    names: list = None  # a folder's paths, to find those TensorFlow then skips


def _folder_paths(folder, split):
    """Readable image paths of a folder split, and those Pillow could not decode."""
    from colorkeras import data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if split == "all":
            candidates = data.list_image_files(folder)
            if not candidates:
                raise data.DataError(f"No image files in {folder!r}.")
            paths = data.readable_images(candidates)
            if not paths:
                raise data.DataError(f"No readable image in {folder!r}.")
        else:
            paths = data.folder_split_files(folder, split)
    skipped = [
        (str(w.message)[len(SKIP_WARNING):], "cannot be decoded")
        for w in caught if str(w.message).startswith(SKIP_WARNING)
    ]
    return paths, skipped


def default_split(data_arg):
    """A plain folder of photos is a test set: all of it; anything with splits: val."""
    from colorkeras import data

    source = data.parse_source(data_arg)
    has_splits = all(os.path.isdir(os.path.join(source.location, s)) for s in ("train", "val"))
    plain = source.kind == "folder" and data_arg != "sample" and not has_splits
    return "all" if plain else "val"


def load_photos(data_arg, split, image_size, full_resolution=False, limit=None):
    """The `Photos` of a source, cut as the validation pipeline cuts them."""
    import tensorflow as tf

    from colorkeras import data

    source = data.parse_source(data_arg)
    if source.kind == "tfds":
        if split == "all":
            raise cli.UsageError("--split all needs a folder; a TFDS source has train and val")
        images, count = data.load_photos(source, split)
        count = min(count, limit or count)
        prefix = f"{data_arg}:{split}:"
        dataset = images.take(count).enumerate().map(
            lambda i, image: (tf.strings.join([prefix, tf.strings.as_string(i)]), image))
        skipped, paths = [], None
    else:
        paths, skipped = _folder_paths(source.location, split)
        paths = [os.path.relpath(p, source.location) for p in paths[:limit]]
        skipped = [(os.path.relpath(p, source.location), why) for p, why in skipped]
        count = len(paths)
        dataset = tf.data.Dataset.from_tensor_slices(paths).map(
            lambda name: (name, data.decode_file(tf.strings.join([source.location, name], "/"))))
        # Pillow accepted these; a file TensorFlow still cannot decode is skipped.
        dataset = dataset.ignore_errors()
    if not full_resolution:
        crop = data.center_crop_fn(image_size)
        dataset = dataset.map(
            lambda name, image: (name, crop(data.resize_shorter_side(image, image_size))),
            num_parallel_calls=tf.data.AUTOTUNE)
    return Photos(dataset, count, skipped, paths)


def _first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def model_label(spec, path, taken=()):
    """A short column name: the file's name, or its run folder's for ``model.keras``.

    Falls back to ``spec`` as given when two models would share a name.
    """
    label = path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return spec if label in taken or label in (GRAY, TRUTH) else label


def load_colorizers(specs):
    """``{label: model}`` for registry names and ``.keras`` paths, failing on the first bad one."""
    from colorkeras import inference

    colorizers = {}
    for spec in specs:
        try:
            path = inference.resolve(spec)
            model = inference.load(path)
        except Exception as error:  # noqa: BLE001 - any failure to load is a bad model argument
            raise cli.UsageError(f"cannot load model {spec!r}: {_first_line(error)}") from None
        colorizers[model_label(spec, path, colorizers)] = model
    return colorizers


def colorize_gray(model, label, gray):
    """RGB of ``model`` on a gray batch, put back onto the batch's own luma."""
    from colorkeras import color

    rgb = model.predict_on_batch(gray)  # `predict` without its per-call iterator: 2x faster here
    expected = (*gray.shape[:-1], 3)
    if tuple(rgb.shape) != tuple(expected):
        raise cli.UsageError(
            f"model {label!r} returned images of shape {tuple(rgb.shape)[1:]} for gray input of "
            f"shape {tuple(gray.shape)[1:]}; a colorizer must return RGB of its input's size")
    return color.recombine_luminance(gray, rgb)


# ---------------------------------------------------------------------------
# Scoring.
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Kept:
    """One photo's images, kept for the sheets and the Turing page."""

    position: int
    name: str
    truth: object
    outputs: dict  # label -> RGB [H, W, 3] (gray output first)
    scores: dict  # label -> {metric: value}


def measure_fn(vae=None, compiled=True):
    """``measure(truth, output, real_posterior)`` -> every metric, ``density_kl`` with a VAE.

    Compiled, it runs about 4x faster than eagerly, but traces once per image
    size: worth it when every photo has the same size, not at full resolution.
    """
    import tensorflow as tf

    from colorkeras import density, metrics

    def measure(truth, output, real_posterior=None):
        values = metrics.summarize(truth, output)
        if vae is not None:
            values["density_kl"] = density.density_kl(vae, truth, output, real_posterior)
        return values

    return tf.function(measure) if compiled else measure


def judge_batch(judge, labels, names, truth, outputs):
    """``{label: [correct or NaN per photo]}`` of the semantic test, truth included."""
    import numpy as np
    import tensorflow as tf

    classes = np.array([labels.get(os.path.basename(n), -1) for n in names])
    known = classes >= 0
    correct = {}
    for label, images in [*outputs.items(), (TRUTH, truth)]:
        values = np.full(len(names), np.nan)
        if known.any():
            predicted = judge.top1(tf.boolean_mask(images, known))
            values[known] = (predicted == classes[known]).astype(float)
        correct[label] = values
    return correct


def score(colorizers, photos, batch_size=8, vae=None, keep=(), progress=True, compiled=True,
          judge=None, labels=None):
    """Run every colorizer on every photo and measure it.

    Args:
        colorizers: ``{label: model}`` (see `load_colorizers`).
        photos: `Photos`; all of one size unless ``batch_size`` is 1.
        vae: a `density.DensityVAE`, to add ``density_kl``.
        keep: positions (in photo order) whose images are returned.
        progress: show a progress bar.
        compiled: measure in a `tf.function` (see `measure_fn`).
        judge: a `semantic.ImageNetJudge`, with ``labels`` (``{file name:
            class}``), to add ``imagenet_top1`` (1 or 0; NaN for photos
            without a label) and ``truth_imagenet_top1``.

    Returns:
        ``(rows, kept)``: result rows (dicts), and a `Kept` per kept position.
    """
    import keras
    import tensorflow as tf

    from colorkeras import color, metrics

    measure = measure_fn(vae, compiled)
    rows, kept, position = [], [], 0
    bar = keras.utils.Progbar(photos.count, unit_name="photo", verbose=1 if progress else 0)
    for names, images in photos.dataset.batch(batch_size):
        names = [n.decode() for n in names.numpy()]
        truth = tf.cast(images, tf.float32) / 255.0
        gray = color.luminance(truth)
        outputs = {GRAY: tf.concat([gray, gray, gray], axis=-1)}
        outputs.update({label: colorize_gray(model, label, gray)
                        for label, model in colorizers.items()})
        truth_cf = metrics.colorfulness(truth).numpy()
        real_posterior = vae.posterior(truth) if vae is not None else None
        batch_scores = {
            label: {k: v.numpy() for k, v in measure(truth, output, real_posterior).items()}
            for label, output in outputs.items()
        }
        if judge is not None:
            correct = judge_batch(judge, labels, names, truth, outputs)
            for label, values in batch_scores.items():
                values["imagenet_top1"] = correct[label]
                values["truth_imagenet_top1"] = correct[TRUTH]
        for i, name in enumerate(names):
            per_label = {label: {k: float(v[i]) for k, v in s.items()}
                         for label, s in batch_scores.items()}
            for label, values in per_label.items():
                rows.append({"model": label, "image": name, **values,
                             "truth_colorfulness": float(truth_cf[i])})
            if position in keep:
                kept.append(Kept(position, name, truth[i].numpy(),
                                 {label: o[i].numpy() for label, o in outputs.items()},
                                 per_label))
            position += 1
        bar.update(position)
    return rows, kept


# ---------------------------------------------------------------------------
# Reports.
# ---------------------------------------------------------------------------


def metric_columns(rows):
    from colorkeras.metrics import METRIC_NAMES

    extra = [k for k in ("density_kl", "imagenet_top1") if rows and k in rows[0]]
    return [*METRIC_NAMES, *extra]


def write_csv(rows, path):
    truths = [k for k in ("truth_colorfulness", "truth_imagenet_top1") if rows and k in rows[0]]
    columns = ["model", "image", *metric_columns(rows), *truths]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def means(rows):
    """``{label: {metric: mean}}`` in first-seen order, plus the truth's colourfulness.

    A value that is NaN (undefined for that photo) is left out of its mean.
    """
    table, counts, images = {}, {}, {}
    for row in rows:
        totals = table.setdefault(row["model"], {})
        seen = counts.setdefault(row["model"], {})
        images[row["model"]] = images.get(row["model"], 0) + 1
        for key, value in row.items():
            if key not in ("model", "image") and not math.isnan(value):
                totals[key] = totals.get(key, 0.0) + value
                seen[key] = seen.get(key, 0) + 1
    table = {label: {**{k: v / counts[label][k] for k, v in totals.items()},
                     "images": images[label]}
             for label, totals in table.items()}
    for values in table.values():  # a ratio of means: per-photo ratios explode on gray truths
        values["colorfulness_ratio"] = values["colorfulness"] / max(
            values["truth_colorfulness"], 1e-3)
    return table


def _cell(values, key):
    if key == "cast":
        return f"{values['cast_a']:+.1f} / {values['cast_b']:+.1f}" if "cast_a" in values else "—"
    if key not in values:
        return "—"
    return str(values[key]) if key == "images" else f"{values[key]:.3f}"


def _table(header, keys, table):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, values in table.items():
        lines.append("| " + " | ".join([label, *(_cell(values, k) for k in keys)]) + " |")
    return lines


def summary_tables(rows):
    """The key-figures and all-metrics Markdown tables, as lists of lines."""
    averaged = means(rows)
    gray = averaged.pop(GRAY)
    truth = {"colorfulness": gray["truth_colorfulness"], "images": gray["images"]}
    if "truth_imagenet_top1" in gray:
        truth["imagenet_top1"] = gray["truth_imagenet_top1"]
    ordered = {GRAY: gray, **averaged, TRUTH: truth}
    present = metric_columns(rows)
    key = [(k, title) for k, title in KEY_COLUMNS
           if k not in ("density_kl", "imagenet_top1") or k in present]
    names = metric_columns(rows)
    return (
        _table(["colorizer", "images", *(t for _, t in key)], ["images", *(k for k, _ in key)],
               ordered),
        _table(["colorizer", *names], names, ordered),
    )


DENSITY_NOTE = (
    "density KL is KL(q(z | colorized) || q(z | real)) under a small VAE fitted to colour "
    "photos; lower is closer. It rewards structure more than colour (a gray output can score "
    "well): read it beside ΔE2000 and the CF ratio."
)


def write_summary(path, rows, settings, skipped):
    """Write ``summary.md``; return its key-figures table (lines) for the console."""
    key, full = summary_tables(rows)
    notes = [
        *settings,
        "Every output keeps the photo's own luminance (its colour is put back onto the gray "
        "input's luma), so the metrics judge colour only.",
        f"`{GRAY}` is the luma in R, G and B: the floor. `{TRUTH}` gives the photos' own "
        "colourfulness (Hasler & Süsstrunk): the ceiling.",
        *([DENSITY_NOTE] if "density_kl" in metric_columns(rows) else []),
    ]
    labelled = [row for row in rows if not math.isnan(row.get("imagenet_top1", math.nan))]
    imagenet = []
    if labelled:
        subset, _ = summary_tables(labelled)
        imagenet = [
            "## ImageNet photos on their own", "",
            f"The {len(labelled) // len(means(rows))} photos with an ImageNet label. ImageNet "
            "top-1 is the share an ImageNet classifier (EfficientNet-Lite0) names correctly "
            "(Zhang et al.'s semantic test). The judge shares its weights with the encoder "
            "of `backbone=efficientnet_lite0` colorizers.", "", *subset, ""]
    lines = [
        "# Evaluation", "",
        *(f"- {note}" for note in notes), "",
        "## Key figures (means over photos; CF ratio: mean colourfulness over the truth's)", "",
        *key, "", *imagenet,
        "## All metrics (means over photos)", "", *full, "",
        "## Skipped files", "",
        *([f"- {name}: {reason}" for name, reason in skipped] or ["None."]), "",
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return key


def sheet_rows(kept, labels):
    """`sheets.draw_sheet` rows: gray input, each model, ground truth."""
    rows = []
    for item in kept:
        gray = item.outputs[GRAY][..., :1]
        cells = [("gray input", gray, item.scores[GRAY])]
        cells += [(label, item.outputs[label], item.scores[label]) for label in labels]
        cells.append((TRUTH, item.truth, None))
        rows.append((os.path.basename(item.name), cells))
    return rows


def turing_pairs(kept, labels, count):
    """Up to ``count`` (image, model, real, colorized) pairs, each photo once per model."""
    combos = [(item, labels[(j + r) % len(labels)])
              for r in range(len(labels)) for j, item in enumerate(kept)]
    return [(os.path.basename(item.name), label, item.truth, item.outputs[label])
            for item, label in combos[:count]]


# ---------------------------------------------------------------------------
# The command.
# ---------------------------------------------------------------------------


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
    args.split = args.split or default_split(args.data)
    photos = load_photos(args.data, args.split, args.image_size, args.full_resolution, args.limit)
    colorizers = load_colorizers(args.models)
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
        raise cli.UsageError(f"--imagenet-labels: {_first_line(error)}") from None
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
    cli.quiet_tensorflow()
    args = build_parser().parse_args(argv)
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
            verbose=2 if args.quiet else "auto")
    turing_positions = random.Random(args.seed).sample(
        range(photos.count), min(args.turing or 0, photos.count))
    print(f"Scoring {', '.join([GRAY, *labels])} on {photos.count} photos of {args.data}",
          flush=True)
    rows, kept = score(colorizers, photos, 1 if args.full_resolution else args.batch_size, vae,
                       keep=set(range(args.sheet_images)) | set(turing_positions),
                       progress=not args.quiet, compiled=not args.full_resolution,
                       judge=judge, labels=imagenet_labels)
    if not rows:
        raise cli.UsageError(f"none of the {photos.count} photos of {args.data} could be decoded")
    scored = {row["image"] for row in rows}
    skipped = photos.skipped + [
        (name, "cannot be decoded") for name in photos.names or [] if name not in scored]
    write_csv(rows, os.path.join(args.out, "results.csv"))
    key = write_summary(os.path.join(args.out, "summary.md"), rows,
                        describe(args, labels, vae, len(scored)), skipped)
    kept = {item.position: item for item in kept}
    sheet_items = [kept[i] for i in range(args.sheet_images) if i in kept]
    if sheet_items:
        sheets.write_sheets(sheet_rows(sheet_items, labels), args.out)
    if args.turing:
        pairs = turing_pairs([kept[i] for i in turing_positions if i in kept], labels, args.turing)
        turing.write_page(os.path.join(args.out, turing.FILENAME), pairs, seed=args.seed)
    print("\n".join(key))
    print(f"Results in {args.out}")
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:])
