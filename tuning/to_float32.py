"""Save a colorizer trained in mixed precision as float32, weights unchanged.

    python tuning/to_float32.py runs/unet-hints/model.keras --out exported_models/unet-hints/unet-hints.keras

A network trained under ``mixed_bfloat16`` records that policy in its config,
and would compute in bfloat16 wherever it is loaded: slow on CPUs without
bfloat16 instructions, and coarser. Its weights are float32 either way, so the
network is rebuilt under float32 and they are copied over (`ColorizationNetwork.rebuilt`).
"""

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras colorizer")
    parser.add_argument("--out", required=True, help="where the float32 colorizer is saved")
    args = parser.parse_args(argv)
    if os.path.exists(args.out):
        sys.exit(f"{args.out} exists; remove it first")

    import keras

    from colorkeras.colorizer import Colorizer

    colorizer = keras.models.load_model(args.model, safe_mode=True, compile=False)
    Colorizer(colorizer.network.rebuilt(dtype="float32"), name=colorizer.name).save(args.out)
    print(f"Saved {args.out} (float32; was {colorizer.network.dtype_policy.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
