"""What an evaluation shows: ``summary.md``, the sheets' rows and the Turing pairs.

Built from `colorkeras.scoring`'s rows and kept photos, apart from the command,
so the same tables come from any rows, a ``results.csv`` read back included.
"""

import math
import os

from colorkeras import markdown
from colorkeras.scoring import GRAY, TRUTH, means, metric_columns

KEY_COLUMNS = (
    ("psnr", "PSNR"), ("ssim", "SSIM"), ("ciede2000", "ΔE2000 ↓"), ("ab_mae", "ab MAE ↓"),
    ("colorfulness", "colorfulness"), ("colorfulness_ratio", "CF ratio"),
    ("cast", "a* / b* cast"), ("blotch_share", "blotch share ↓"),
    ("density_kl", "density KL ↓"), ("imagenet_top1", "ImageNet top-1"),
)
DENSITY_NOTE = (
    "density KL is KL(q(z | colorized) || q(z | real)) under a small VAE fitted to colour "
    "photos; lower is closer. It rewards structure more than colour (a gray output can score "
    "well): read it beside ΔE2000 and the CF ratio."
)


def _cell(values, key):
    if key == "cast":
        return f"{values['cast_a']:+.1f} / {values['cast_b']:+.1f}" if "cast_a" in values else "—"
    if key not in values:
        return "—"
    return str(values[key]) if key == "images" else f"{values[key]:.3f}"


def _table(header, keys, table):
    rows = ([label, *(_cell(values, k) for k in keys)] for label, values in table.items())
    return markdown.table(header, rows)


def summary_tables(rows):
    """The key-figures and all-metrics Markdown tables, gray first and truth last."""
    averaged = means(rows)
    gray = averaged.pop(GRAY)
    truth = {"colorfulness": gray["truth_colorfulness"], "images": gray["images"]}
    if "truth_imagenet_top1" in gray:
        truth["imagenet_top1"] = gray["truth_imagenet_top1"]
    ordered = {GRAY: gray, **averaged, TRUTH: truth}
    present = metric_columns(rows)
    key = [(k, title) for k, title in KEY_COLUMNS
           if k not in ("density_kl", "imagenet_top1") or k in present]
    return (
        _table(["colorizer", "images", *(t for _, t in key)], ["images", *(k for k, _ in key)],
               ordered),
        _table(["colorizer", *present], present, ordered),
    )


def write_summary(path, rows, settings, skipped):
    """Write ``summary.md``; return its key-figures table for the console."""
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
            "of `backbone=efficientnet_lite0` colorizers.", "", subset, ""]
    lines = [
        "# Evaluation", "",
        *(f"- {note}" for note in notes), "",
        "## Key figures (means over photos; CF ratio: mean colourfulness over the truth's)", "",
        key, "", *imagenet,
        "## All metrics (means over photos)", "", full, "",
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
