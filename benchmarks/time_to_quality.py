"""Time to quality: `select` ΔE2000 against training CPU-minutes, two recipes.

    python benchmarks/time_to_quality.py --data ../shared/data/photos --out runs/ttq
    python benchmarks/time_to_quality.py --out runs/ttq --report-only
    python benchmarks/time_to_quality.py --pair pix2pix --data ../shared/data/photos \
        --out runs/ttq-gan

Some levers change what a step learns (logits at output stride 4, an encoder
that never fine-tunes), so crops per CPU-second alone would not say whether
they pay. This trains the shipped ``unet``'s recipe as it was before the
throughput work ("before": logits at stride 2, encoder frozen for 3 epochs and
then fine-tuned at 0.1x, float32, RGB metrics in every step) and the fast
recipe that is now the default ("after"), from the same start (the ImageNet
encoder, a fresh decoder, seed 0), each until its CPU budget is spent, then
prints both curves and how many training CPU-minutes "after" needed to reach
the best `select` ΔE2000 that "before" reached in its whole budget.

CPU time counts every thread of the training process, so it holds on a shared
machine. Validation (on the 631 `select` photos after each 200-step epoch) is
left out of the x-axis: it is the same work per epoch for both and is not
training. Runs resume where they stopped, so the budgets can be raised later.

``--pair pix2pix`` does the same for the GAN fine-tune that makes ``pix2pix``
from a trained ``unet``. "before" is the recipe the shipped ``pix2pix`` was made
with: from the shipped ``unet`` (stride 2, ``select`` ΔE2000 10.09 after about
200 CPU-minutes of U-Net training), encoder fine-tuned at 0.1x, float32, RGB
metrics in every step, a PatchGAN of base 64. "after" is today's default for a
backbone generator (logits at stride 4, a PatchGAN of base 16, no RGB metrics in
training steps). A stride-2 ``unet`` cannot start a stride-4 generator, so
"after" starts from a stride-4 ``unet`` of the same ``select`` ΔE2000: the
``unet`` pair's "after" recipe trained for ``--start-epochs`` epochs (7 gives
10.09, in 11 training CPU-minutes), in ``after-start``. Both GAN curves then
start from the same quality; the report also gives each start's cost.
``--recipe`` runs one of the two (with its start), so both can train side by side.
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys

UNET_COMMON = ["--image-size", "256", "--crop-size", "128", "--batch-size", "16",
               "--steps-per-epoch", "200", "--seed", "0", "--quiet", "--epochs", "1000",
               "--model", "unet", "--color-space", "lab", "--loss", "classification",
               "--class-rebalance", "1.0", "--learning-rate", "0.001",
               "--hparam", "backbone=efficientnet_lite0", "--hparam", "base_filters=16",
               "--reduce-lr-patience", "2", "--select", "delta_e2000", "--select-fraction", "0.06"]
UNET_RECIPES = {
    "before": ["--hparam", "output_stride=2", "--freeze-encoder-epochs", "3",
               "--encoder-lr-scale", "0.1", "--rgb-metrics-in-training"],
    "after": ["--hparam", "output_stride=4", "--freeze-encoder-epochs", "all",
              "--mixed-precision"],
}
# The shipped pix2pix's fine-tune (tuning/retrain_shipped.sh), 100-step epochs.
PIX2PIX_COMMON = ["--image-size", "256", "--crop-size", "128", "--batch-size", "16",
                  "--steps-per-epoch", "100", "--seed", "0", "--quiet", "--epochs", "1000",
                  "--model", "pix2pix", "--generator", "unet", "--color-space", "lab",
                  "--loss", "classification", "--class-rebalance", "1.0",
                  "--learning-rate", "0.0001", "--hparam", "backbone=efficientnet_lite0",
                  "--hparam", "base_filters=16",
                  "--lambda", "100", "--gan-loss", "lsgan", "--d-learning-rate", "0.0002",
                  "--d-hparam", "num_layers=3", "--select", "delta_e2000",
                  "--select-fraction", "0.06"]
# "after" is today's defaults from a stride-4 unet of the shipped unet's quality (AFTER_START).
AFTER_START = "after-start"
PIX2PIX_RECIPES = {
    "before": ["--hparam", "output_stride=2", "--init-from", "exported_models/unet/unet.keras",
               "--freeze-encoder-epochs", "0", "--encoder-lr-scale", "0.1",
               "--no-mixed-precision", "--rgb-metrics-in-training",
               "--d-hparam", "base_filters=64"],
    "after": [],  # and --init-from AFTER_START's last.keras (see training_runs)
}
PAIRS = {"unet": (UNET_COMMON, UNET_RECIPES), "pix2pix": (PIX2PIX_COMMON, PIX2PIX_RECIPES)}


def training_runs(pair, name, out, start_epochs):
    """(folder, train arguments) of each run one recipe of ``pair`` needs, in order."""
    common, recipes = PAIRS[pair]
    folder = os.path.join(out, name)
    if pair == "pix2pix" and name == "after":
        start = os.path.join(out, AFTER_START)
        yield start, [*UNET_COMMON, *UNET_RECIPES["after"], "--epochs", str(start_epochs)]
        yield folder, [*common, *recipes[name], "--init-from", os.path.join(start, "last.keras")]
    else:
        yield folder, [*common, *recipes[name]]


def crops_per_epoch(common):
    """Steps per epoch times batch size, read from a pair's shared arguments."""
    return (int(common[common.index("--steps-per-epoch") + 1])
            * int(common[common.index("--batch-size") + 1]))


def curve(run, crops):
    """(epoch, crops seen, training CPU-minutes, select ΔE2000, CF ratio) per epoch of ``crops``."""
    with open(os.path.join(run, "history.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    points = []
    for row in rows:
        epoch = int(row["epoch"]) + 1
        training_cpu = float(row["cpu_seconds"]) - float(row.get("validation_cpu_seconds") or 0)
        points.append((epoch, epoch * crops, training_cpu / 60,
                       float(row["val_delta_e2000"]), float(row["val_colorfulness_ratio"])))
    return points


def minutes_to_reach(points, target):
    """Training CPU-minutes at the first epoch whose ΔE2000 is at most ``target``."""
    return next((minutes for _, _, minutes, delta_e, _ in points if delta_e <= target), None)


def crops_per_cpu_second(points):
    """Crops per training CPU-second of each epoch (its crops over its CPU time)."""
    edges = [(0, 0.0)] + [(crops, minutes) for _, crops, minutes, _, _ in points]
    return [(c1 - c0) / ((m1 - m0) * 60) for (c0, m0), (c1, m1) in zip(edges, edges[1:])]


def report(out, pair="unet"):
    """Print both curves, the speed and the time-to-quality ratio; return the ratio."""
    common, recipes = PAIRS[pair]
    crops = crops_per_epoch(common)
    curves = {name: curve(os.path.join(out, name), crops) for name in recipes}
    before, after = curves["before"], curves["after"]
    print("| epoch | crops | before: CPU-min | before: select ΔE2000 | before: CF ratio "
          "| after: CPU-min | after: select ΔE2000 | after: CF ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for index in range(max(len(before), len(after))):
        cells = []
        for points in (before, after):
            if index < len(points):
                _, _, minutes, delta_e, ratio = points[index]
                cells += [f"{minutes:.1f}", f"{delta_e:.3f}", f"{ratio:.3f}"]
            else:
                cells += ["", "", ""]
        print(f"| {index + 1} | {(index + 1) * crops:,} | " + " | ".join(cells) + " |")
    for name, command in recipes.items():
        print(f"{name}: " + (" ".join(command) or "today's defaults"))
    if pair == "pix2pix":
        print("before starts from the shipped unet (stride 2): select ΔE2000 10.09 after "
              "about 200 CPU-minutes of U-Net training (docs/colour.md)")
        start = os.path.join(out, AFTER_START)
        if os.path.exists(os.path.join(start, "history.csv")):
            start = curve(start, crops_per_epoch(UNET_COMMON))
            print(f"after starts from {AFTER_START}/last.keras (stride 4): the unet pair's "
                  f"after recipe for {len(start)} epochs, select ΔE2000 {start[-1][3]:.3f} "
                  f"after {start[-1][2]:.1f} training CPU-minutes")
        else:  # a folder from before the GAN's stride-4 default
            print(f"after's start is not in {out}: not this version's after recipe")

    speeds = {name: crops_per_cpu_second(points) for name, points in curves.items()}
    print("\n| recipe | crops per training CPU-second, median [min, max] over epochs |")
    print("|---|---|")
    for name, values in speeds.items():
        print(f"| {name} | {statistics.median(values):.1f} [{min(values):.1f}, "
              f"{max(values):.1f}] |")
    ratios = [a / b for a in speeds["after"] for b in speeds["before"]]
    print(f"speed-up in crops per CPU-second: {statistics.median(ratios):.2f}x "
          f"(every after epoch against every before epoch: {min(ratios):.2f}-{max(ratios):.2f}x)")

    best = min(delta_e for *_, delta_e, _ in before)
    spent = minutes_to_reach(before, best)  # when before got there, not its whole budget
    reached = minutes_to_reach(after, best)
    print(f"\nbefore: best select ΔE2000 {best:.3f}, reached in {spent:.1f} training "
          f"CPU-minutes (of {before[-1][2]:.1f})")
    if reached is None:
        print(f"after: not reached in {after[-1][2]:.1f} CPU-minutes "
              f"(best {min(d for *_, d, _ in after):.3f})")
        return None
    print(f"after: reached it in {reached:.1f} CPU-minutes: {spent / reached:.2f}x less time")
    return spent / reached


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="photo folder with train/ (the project's: "
                        "../shared/data/photos); not needed with --report-only")
    parser.add_argument("--pair", choices=sorted(PAIRS), default="unet",
                        help="which recipe's two versions: the encoder U-Net's training "
                        "(default) or the Pix2Pix fine-tune of a trained unet")
    parser.add_argument("--recipe", choices=["before", "after"], action="append",
                        help="train only this one (repeatable; default both, one after "
                        "the other), so the two can run side by side")
    parser.add_argument("--out", default="runs/ttq", help="folder for the two runs")
    parser.add_argument("--before-minutes", type=float, default=60,
                        help="CPU-minute budget of the before run, validation included")
    parser.add_argument("--after-minutes", type=float, default=60,
                        help="CPU-minute budget of the after run, validation included")
    parser.add_argument("--start-epochs", type=int, default=7,
                        help="--pair pix2pix: epochs of the stride-4 unet that \"after\" "
                        "starts from (7 matches the shipped unet's select ΔE2000)")
    parser.add_argument("--report-only", action="store_true",
                        help="print the curves of runs already in --out, train nothing")
    parser.add_argument("--breakdown", action="store_true",
                        help="first print where one step of today's default goes "
                        "(benchmarks/step_profile.py at stride 4, bfloat16; a few minutes)")
    args = parser.parse_args(argv)
    if args.breakdown:
        try:
            from benchmarks import step_profile
        except ImportError:  # run as a script: this folder is on the path, not its parent
            import step_profile

        step_profile.main(["--steps", "4", "--repeats", "3", "--output-stride", "4",
                           "--policy", "mixed_bfloat16"])
    if not args.report_only:
        if not args.data:
            parser.error("--data is needed to train (or give --report-only)")
        budgets = {"before": args.before_minutes, "after": args.after_minutes}
        for name in args.recipe or list(budgets):
            for folder, arguments in training_runs(args.pair, name, args.out, args.start_epochs):
                subprocess.run([sys.executable, "-m", "colorkeras.train", *arguments,
                                "--data", args.data, "--cpu-limit", str(budgets[name]),
                                "--out", folder], check=True)
    if all(os.path.exists(os.path.join(args.out, name, "history.csv"))
           for name in PAIRS[args.pair][1]):
        report(args.out, args.pair)
    else:
        print(f"both runs are needed for the report: see {args.out}/before and /after")


if __name__ == "__main__":
    main()
