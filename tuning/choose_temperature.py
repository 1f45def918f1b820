"""Choose the annealed-mean temperature of a classification colorizer on held-out photos.

    python tuning/choose_temperature.py runs/ship-unet/model.keras \
        --data ../shared/data/photos --select-fraction 0.06 --out runs/ship-unet/tempered.keras

The temperature is not learned: it only decides how the bin probabilities
become one colour (lower: nearer the most likely bin, more vivid; higher:
nearer their mean, duller). So it is chosen after training, on the same
`select` photos that chose the epoch (never on val), by the lowest CIEDE2000,
optionally among the temperatures whose colourfulness ratio (of means)
reaches ``--min-colorfulness``. The colorizer is saved with its network
rebuilt at that temperature, which its config then records.
"""

import argparse
import sys

TEMPERATURES = (0.2, 0.25, 0.3, 0.38, 0.45, 0.55)


def score(network, dataset):
    """Mean CIEDE2000 and colourfulness ratio (of means) of ``network`` on ``dataset``."""
    import numpy as np

    from colorkeras import color, metrics

    errors, ratio = [], metrics.ColorfulnessRatio()
    for gray, target in dataset:
        truth = color.decode_output(gray, target, "lab")
        output = color.decode_output(gray, network(gray, training=False), "lab")
        errors.append(metrics.ciede2000(truth, output).numpy())
        ratio.update_state(truth, output)
    return float(np.concatenate(errors).mean()), float(ratio.result())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras colorizer with an a*b* classification head")
    parser.add_argument("--data", required=True, help="the photo folder the run trained on")
    parser.add_argument("--select-fraction", type=float, required=True,
                        help="the run's --select-fraction (the held-out share)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--min-colorfulness", type=float, default=0.0)
    parser.add_argument("--temperatures", type=float, nargs="+", default=TEMPERATURES)
    parser.add_argument("--dtype", help="score and save the network under this dtype policy "
                        "(e.g. float32 for a network trained in mixed bfloat16, so that it "
                        "runs at full speed on CPUs without bfloat16 instructions)")
    parser.add_argument("--out", required=True,
                        help="where the colorizer at the chosen temperature is saved")
    args = parser.parse_args(argv)

    from colorkeras import cli

    cli.quiet_tensorflow()
    import keras

    from colorkeras.colorizer import Colorizer
    from colorkeras.data import make_dataset

    colorizer = keras.models.load_model(args.model, safe_mode=True, compile=False)
    network = colorizer.network
    if args.dtype:
        network = network.rebuilt(dtype=args.dtype)
    if network.hparams["head"] != "classification":
        sys.exit(f"{args.model} has no annealed-mean head (train with --loss classification)")
    dataset = make_dataset(args.data, "select", color_space="lab", image_size=args.image_size,
                           batch_size=16, select_fraction=args.select_fraction).dataset.cache()
    results = []
    for temperature in args.temperatures:
        delta_e, ratio = score(network.rebuilt(temperature=float(temperature)), dataset)
        results.append((temperature, delta_e, ratio))
        print(f"T {temperature:.2f}: select ΔE2000 {delta_e:.3f}, CF ratio {ratio:.3f}",
              flush=True)
    eligible = [r for r in results if r[2] >= args.min_colorfulness] or results
    best = min(eligible, key=lambda r: r[1])
    Colorizer(network.rebuilt(temperature=float(best[0])), name=colorizer.name).save(args.out)
    print(f"Chosen T {best[0]:.2f} (was {network.hparams['temperature']}); saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
