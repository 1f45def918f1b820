"""Convert the shipped models to colorizer files, without retraining them.

    python tuning/convert_shipped.py                 # every model in exported_models/
    python tuning/convert_shipped.py --data ../shared/data/photos --split val

Before colorkeras 0.2 a shipped ``.keras`` held a bare Functional network: it
did not record the hyperparameters it was built with, and its colour space
was read back from a layer name. This rebuilds each network as its
architecture class from the settings the shipped run used (`SHIPPED`, as in
``tuning/retrain_shipped.sh``), copies every weight, and saves a `Colorizer`
in its place. A wrong setting cannot slip through: the rebuilt network must
have the very same weights, layer for layer, and give the same output as
the old one on random gray images. With ``--data`` it also scores both on
those photos (PSNR of the RGB, through the same padding and decoding) and
refuses a change of more than 0.01 dB. The old file is kept beside the new
one as ``<name>.keras.old`` until ``--drop-old``.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# name -> (architecture, colour space, hyperparameters), from retrain_shipped.sh.
SHIPPED = {
    "cae": ("cae", "lab", dict(base_filters=16)),
    "dcnn": ("dcnn", "lab", dict(depth=8, filters=24)),
    "resnet": ("resnet", "yuv", dict(base_filters=32, stages=3, blocks_per_stage=1)),
    "densenet": ("densenet", "lab", dict(blocks=3, layers_per_block=2, growth_rate=8)),
    "unet": ("unet", "lab", dict(backbone="efficientnet_lite0", base_filters=16,
                                 output_stride=2, head="classification")),
    "pix2pix": ("unet", "lab", dict(backbone="efficientnet_lite0", base_filters=16,
                                    output_stride=2, head="classification")),
}
TOLERANCE_DB = 0.01


def old_settings(old):
    """What only the old file knows: its annealed-mean temperature and its dtype policy."""
    from colorkeras.ab_classes import AnnealedMean

    temperatures = [layer.temperature for layer in old.layers if isinstance(layer, AnnealedMean)]
    policies = {layer.dtype_policy.name for layer in old.layers
                if layer.weights and layer.dtype_policy.name != "float32"}
    return (temperatures[0] if temperatures else None), (policies.pop() if policies else None)


def rebuild(name, old):
    """The `ColorizationNetwork` for shipped model ``name``, with ``old``'s weights."""
    import numpy as np

    from colorkeras.models import get_architecture

    arch, space, hparams = SHIPPED[name]
    temperature, policy = old_settings(old)
    if temperature is not None:
        hparams = {**hparams, "temperature": temperature}
    # The constructor alone: the old weights replace any pretrained ones.
    new = get_architecture(arch)(color_space=space, dtype=policy, **hparams)
    old_shapes = [(w.path.split("/")[-2:], tuple(w.shape)) for w in old.weights]
    new_shapes = [(w.path.split("/")[-2:], tuple(w.shape)) for w in new.weights]
    if old_shapes != new_shapes:
        sys.exit(f"{name}: the settings in SHIPPED do not rebuild its network "
                 f"({len(old_shapes)} weights against {len(new_shapes)})")
    new.set_weights(old.get_weights())
    gray = np.random.default_rng(0).random((2, 96, 128, 1), dtype=np.float32)
    difference = float(np.abs(old(gray, training=False) - new(gray, training=False)).max())
    if difference > 1e-5:
        sys.exit(f"{name}: the rebuilt network differs from the shipped one by {difference:.2e}")
    return new, difference


def psnr_both(old, colorizer, photos):
    """Mean PSNR of the old network and of the colorizer on ``photos`` (gray, truth RGB)."""
    import numpy as np

    from colorkeras import metrics

    old_scores, new_scores = [], []
    for gray, truth in photos:
        padded = colorizer.pad(gray)
        old_rgb = colorizer.crop([colorizer.decode([padded, old(padded, training=False)]), gray])
        old_scores.append(metrics.psnr(truth, old_rgb).numpy())
        new_scores.append(metrics.psnr(truth, colorizer.rgb(gray)).numpy())
    return float(np.mean(np.concatenate(old_scores))), float(np.mean(np.concatenate(new_scores)))


def photo_batches(folder, split, size, limit):
    """(gray, RGB truth) batches of the photos of ``split``, at ``size`` x ``size``."""
    from colorkeras import color
    from colorkeras.data import make_dataset

    pipeline = make_dataset(folder, split, color_space="rgb", image_size=size, batch_size=16)
    batches, seen = [], 0
    for gray, rgb in pipeline.dataset:
        batches.append((gray, color.decode_output(gray, rgb, "rgb")))
        seen += len(gray)
        if limit and seen >= limit:
            break
    return batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(SHIPPED),
                        help=f"shipped models to convert (default: all of {sorted(SHIPPED)})")
    parser.add_argument("--models", default=str(ROOT / "exported_models"),
                        help="the exported_models folder (default: the checkout's)")
    parser.add_argument("--data", help="a photo folder to score old and new on (PSNR)")
    parser.add_argument("--split", default="val", help="its split to score on (default val)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="score on this many photos at most")
    parser.add_argument("--drop-old", action="store_true",
                        help="delete the kept <name>.keras.old files")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SHIPPED))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {sorted(SHIPPED)}")

    from colorkeras import cli

    cli.quiet_tensorflow()
    import keras

    from colorkeras import atomic
    from colorkeras.colorizer import Colorizer

    photos = photo_batches(args.data, args.split, args.image_size, args.limit) if args.data else []
    for name in args.names:
        path = pathlib.Path(args.models) / name / f"{name}.keras"
        kept = path.with_name(path.name + ".old")
        source = kept if kept.exists() else path
        old = keras.models.load_model(source, safe_mode=True, compile=False)
        if isinstance(old, Colorizer):
            print(f"{name}: already a colorizer file")
            continue
        network, difference = rebuild(name, old)
        colorizer = Colorizer(network, name=f"{name}_colorizer")
        line = f"{name}: largest output difference {difference:.1e}"
        if photos:
            before, after = psnr_both(old, colorizer, photos)
            line += f"; PSNR {before:.4f} -> {after:.4f} dB on {args.split}"
            if abs(after - before) > TOLERANCE_DB:
                sys.exit(f"{line}: more than {TOLERANCE_DB} dB apart, not converted")
        if source == path:
            path.rename(kept)
        with atomic.temporary_path(str(path)) as tmp:
            colorizer.save(tmp)
        print(f"{line}; wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
        if args.drop_old:
            kept.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
