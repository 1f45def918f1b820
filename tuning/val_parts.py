"""Score tables for the parts of the photo pool's val split, from an evaluation's results.

    python tuning/val_parts.py evaluation/shipped/results.csv \
        --manifest ../shared/data/photos/manifest.csv [--out docs/val-parts.md]

``python -m colorkeras.evaluate`` writes one row per colorizer and photo; this
joins those rows with the pool's ``manifest.csv`` and writes one table per part
of val, so that a model that only learned the pool's commonest scenes shows:

- all of val;
- the old 359 (the photos of the sources val had before the second widening);
- the ``plant=1`` photos (flowers, foliage, forest);
- the faces (UTKFace) and the ImageNet photos (one per class).

Colourfulness is a ratio of means (the output's mean over the truth's), as
everywhere in the project; casts are the mean a* / b* of the output minus the
truth's.
"""

import argparse
import csv
import math
import os

from colorkeras import markdown

SECOND_WIDENING = {"intel-scenes", "oxford-flowers102", "utkface", "pets", "clothing"}
PARTS = {
    "all of val": lambda row: True,
    "the old 359": lambda row: row["source"] not in SECOND_WIDENING,
    "plant=1": lambda row: row["plant"] == "1",
    "faces (UTKFace)": lambda row: row["source"] == "utkface",
    "ImageNet photos": lambda row: row["source"] == "imagenet-sample",
}
COLUMNS = (("ΔE2000", "ciede2000", 2), ("PSNR", "psnr", 2), ("CF ratio", None, 3),
           ("a* cast", "cast_a", 2), ("b* cast", "cast_b", 2),
           ("blotch %", "blotch_share", 3), ("ImageNet top-1", "imagenet_top1", 3))


def read_manifest(path):
    """``{file name: manifest row}`` for the pool's photos."""
    with open(path, newline="") as f:
        return {os.path.basename(row["file"]): row for row in csv.DictReader(f)}


def mean(values):
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def part_table(rows, manifest, keep):
    """``{model: {column: value}}`` over the photos ``keep`` accepts."""
    table = {}
    for model in dict.fromkeys(row["model"] for row in rows):
        mine = [r for r in rows if r["model"] == model
                and keep(manifest[os.path.basename(r["image"])])]
        if not mine:
            continue
        values = {"photos": len(mine)}
        for _, key, _ in COLUMNS:
            if key and key in mine[0]:
                values[key] = mean(float(r[key]) for r in mine)
        values["cf"] = (mean(float(r["colorfulness"]) for r in mine)
                        / max(mean(float(r["truth_colorfulness"]) for r in mine), 1e-3))
        if "blotch_share" in values:
            values["blotch_share"] *= 100
        table[model] = values
    return table


def render(rows, manifest):
    """The Markdown of every part's table."""
    lines = []
    for part, keep in PARTS.items():
        table = part_table(rows, manifest, keep)
        if not table:
            continue
        count = next(iter(table.values()))["photos"]
        lines += [f"### {part} ({count} photos)", ""]
        header = ["colorizer", *[name for name, key, _ in COLUMNS
                                 if key is None or key in next(iter(table.values()))]]
        body = []
        for model, values in table.items():
            cells = [model]
            for name, key, digits in COLUMNS:
                if key is None:
                    cells.append(f"{values['cf']:.{digits}f}")
                elif key in values:
                    value = values[key]
                    cells.append("—" if math.isnan(value) else f"{value:.{digits}f}")
            body.append(cells)
        lines += [markdown.table(header, body, align=["left"] + ["right"] * (len(header) - 1)),
                  ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="an evaluation's results.csv")
    parser.add_argument("--manifest", required=True, help="the photo pool's manifest.csv")
    parser.add_argument("--out", help="write the tables to this Markdown file too")
    args = parser.parse_args(argv)
    with open(args.results, newline="") as f:
        rows = list(csv.DictReader(f))
    text = render(rows, read_manifest(args.manifest))
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
