"""Score colorizers on the same photos: the library behind ``python -m colorkeras.evaluate``.

Every colorizer colorizes a photo as a user's would (its ``colorize``: the
network at the photo's own size, its colour put back onto the photo's BT.601
luma, rounded to 8 bits), so only colour is judged; ``GRAY`` (the luma as
RGB) is the floor.
Kept apart from the command so model cards and notebooks score the same way.
"""

import csv
import dataclasses
import math
import os
import warnings

from colorkeras import terminal
from colorkeras.errors import InputError, first_line

GRAY = "gray output"
TRUTH = "ground truth"
SKIP_WARNING = "Skipping unreadable image: "  # `data.readable_images`' warning


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
            raise InputError("`split='all'` needs a folder; a TFDS source has train and val")
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


def model_label(spec, path, taken=()):
    """A short column name: the file's name, or its run folder's for ``model.keras``.

    Falls back to ``spec`` as given when two models would share a name, and
    numbers it when even that is taken (``unet`` and ``/x/unet.onnx``).
    """
    taken = {*taken, GRAY, TRUTH}
    label = path.parent.name if path.stem == "model" and path.parent.name else path.stem
    label = str(spec) if label in taken else label
    number = 2
    while label in taken:
        label, number = f"{spec} ({number})", number + 1
    return label


def load_colorizers(specs):
    """``{label: model}`` for registry names and ``.keras`` paths, failing on the first bad one."""
    from colorkeras import inference

    colorizers = {}
    for spec in specs:
        try:
            path = inference.resolve(spec)
            model = inference.load(path)
        except Exception as error:  # noqa: BLE001 - any failure to load is a bad model argument
            raise InputError(f"cannot load model {spec!r}: {first_line(error)}") from None
        colorizers[model_label(spec, path, colorizers)] = model
    return colorizers


def colorize_photos(model, photos):
    """RGB in [0, 1] of ``model`` on a batch of uint8 photos, as a user gets it.

    The network runs at the photos' own size (``render_size=None``), and the
    result is the 8-bit image `colorkeras.colorize` returns.
    """
    import tensorflow as tf

    return tf.cast(model.colorize(photos, render_size=None), tf.float32) / 255.0


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
    bar = keras.utils.Progbar(photos.count, unit_name="photo",
                              verbose=terminal.progress_verbosity() if progress else 0)
    for names, images in photos.dataset.batch(batch_size):
        names = [n.decode() for n in names.numpy()]
        truth = tf.cast(images, tf.float32) / 255.0
        gray = color.luminance(truth)
        outputs = {GRAY: tf.concat([gray, gray, gray], axis=-1)}
        outputs.update({label: colorize_photos(model, images)
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


def metric_columns(rows):
    """The metric columns of ``rows``: every metric, plus the optional ones they carry."""
    from colorkeras.metrics import METRIC_NAMES

    extra = [k for k in ("density_kl", "imagenet_top1") if rows and k in rows[0]]
    return [*METRIC_NAMES, *extra]


def write_csv(rows, path):
    """Write ``results.csv``: identity, metrics, then the truth's own figures."""
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
