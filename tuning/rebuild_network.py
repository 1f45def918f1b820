"""Rebuild a trained network with today's code and copy its weights across.

    python tuning/rebuild_network.py runs/ship-unet/model.keras --out runs/ship-unet/rebuilt.keras

When a layer class changes but the weights do not (the output stride's
bilinear resize moved from Keras's ``UpSampling2D``, which cannot trace on
images of unknown size, to `blocks.BilinearUpscale`), a saved ``.keras``
keeps the old graph. This builds the network anew from the run's
``config.json`` beside the file, copies every weight, checks the two give the
same output on random gray images, and saves the rebuilt one; the
annealed-mean temperature of a classification head is kept.
"""

import argparse
import json
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a network saved by `python -m colorkeras.train`")
    parser.add_argument("--config", help="the run's config.json (default: beside the model)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from colorkeras import cli

    cli.quiet_tensorflow()
    import keras
    import numpy as np

    from colorkeras import ab_classes
    from colorkeras.models import build_model

    config_path = args.config or os.path.join(os.path.dirname(args.model), "config.json")
    with open(config_path) as f:
        config = json.load(f)
    old = keras.models.load_model(args.model, safe_mode=True)
    hparams = {**config["hparams"], "encoder_weights": "none"} if config["hparams"].get(
        "backbone", "none") != "none" else config["hparams"]
    name = config["generator"] if config["model"] == "pix2pix" else config["model"]
    new = build_model(name, color_space=config["color_space"], **hparams)
    if config["loss"] == "classification":
        temperature = next(layer.temperature for layer in old.layers
                           if isinstance(layer, ab_classes.AnnealedMean))
        new = ab_classes.with_classification_head(new, temperature=temperature)
    if [w.shape for w in old.weights] != [w.shape for w in new.weights]:
        sys.exit(f"{args.model} does not match a {name} built from {config_path}")
    new.set_weights(old.get_weights())
    gray = np.random.default_rng(0).random((2, 96, 128, 1), dtype=np.float32)
    difference = float(np.abs(old(gray, training=False) - new(gray, training=False)).max())
    if difference > 1e-5:
        sys.exit(f"The rebuilt network differs from the saved one by {difference:.2e}")
    new.save(args.out)
    print(f"Rebuilt {args.model} -> {args.out} (largest output difference {difference:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
