"""Write ``exported_models/<name>/metadata.json`` for each shipped model from its card.

    python tuning/preset_metadata.py [NAME ...]

A shipped model is a preset (`colorkeras.presets`): its metadata says what
its card says, in fields a program can read. The description is the card's
title, the training data its "Data" line; the parameter count and colour
space are read off the model itself, so they cannot drift from the file.
Run it again after `tuning/model_cards.py` rewrites a card.
"""

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = ("cae", "dcnn", "unet", "resnet", "densenet", "pix2pix", "unet-hints")
LICENSE = ("Apache-2.0, the repository's licence (LICENSE), which the weights ship under. "
           "{data}: see the card's Data line; no photo is redistributed with the model.")
OPEN_DATA = "Trained on openly licensed photos, each under its own licence"
RESEARCH_DATA = ("Trained on photos under their own licences, some of them research data "
                 "(ImageNet's for non-commercial research and education only)")


def card_fields(card):
    """(description, training data) from a model card's title and its "- Data:" item."""
    title = card.splitlines()[0]
    description = re.sub(r"^# `[^`]+`: ", "", title).strip()
    match = re.search(r"^- Data: (.*?)(?=^- |^$|^#)", card, re.M | re.S)
    if not match:
        raise SystemExit("the card has no '- Data:' item")
    data = " ".join(line.strip() for line in match.group(1).splitlines())
    return description, data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(SHIPPED))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from colorkeras import presets
    from colorkeras.colorizer import Colorizer

    for name in args.names:
        folder = ROOT / "exported_models" / name
        description, data = card_fields((folder / presets.CARD_FILE).read_text())
        licence = LICENSE.format(data=RESEARCH_DATA if "research" in data else OPEN_DATA)
        colorizer = Colorizer.from_preset(folder)
        values = presets.describe(colorizer, name, description, data, licence,
                                  presets.CARD_FILE)
        print(presets.write_metadata(folder, values))


if __name__ == "__main__":
    main()
