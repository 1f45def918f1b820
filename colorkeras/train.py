"""Train a colorizer: ``python -m colorkeras.train``.

With no arguments it trains a small U-Net on the embedded sample photos and
writes, under ``--out`` (default ``runs/unet``):

- ``model.keras``: the network that scored best on validation (PSNR unless
  ``--select`` says otherwise);
- ``last.keras``: the network after the last finished epoch;
- ``history.csv``: losses and metrics per epoch;
- ``logs/``: TensorBoard logs;
- ``config.json``: every setting, so the run can be repeated;
- ``backup/``: the state to resume from. Run the same command again after an
  interruption and training continues from the last finished epoch; raise
  ``--epochs`` to train a finished run further.
"""

import argparse
import dataclasses
import os
import sys

from colorkeras import cli
from colorkeras.training_config import SELECTIONS, TrainConfig, resolve_defaults

def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.train",
        description="Train a colorization network on 128x128 crops of 256x256 photos.",
        epilog="Example: python -m colorkeras.train --model resnet --data ~/photos "
        "--color-space lab --epochs 30 --out runs/resnet-lab",
    )
    from colorkeras.choices import COLOR_SPACES, LOSSES, MODELS

    defaults = TrainConfig()
    parser.add_argument("--model", default=defaults.model, choices=MODELS,
                        help="architecture (default: unet)")
    parser.add_argument("--loss", default=defaults.loss, choices=(*LOSSES, "classification"),
                        help="pixel loss on the target (default: mae), or 'classification': "
                        "rebalanced cross-entropy over a*b* bins, decoded by annealed mean "
                        "(Zhang et al. 2016; needs --color-space lab)")
    parser.add_argument("--class-rebalance", type=cli.unit_interval,
                        default=defaults.class_rebalance, metavar="LAMBDA",
                        help="with --loss classification: the uniform share mixed into the "
                        "colour prior before inverting it; 0.5 is the paper's, 1 weights "
                        "every colour bin equally (default 0.5)")
    parser.add_argument("--color-space", default=defaults.color_space, choices=COLOR_SPACES,
                        help="what the network predicts: rgb, or lab / yuv chroma (default: yuv)")
    cli.add_data_args(parser)
    group = parser.add_argument_group("schedule")
    group.add_argument("--epochs", type=cli.positive_int, default=defaults.epochs,
                       help=f"epochs to reach (default {defaults.epochs})")
    group.add_argument("--steps-per-epoch", type=cli.positive_int,
                       default=defaults.steps_per_epoch,
                       help=f"training batches per epoch (default {defaults.steps_per_epoch})")
    group.add_argument("--learning-rate", type=cli.positive_float,
                       default=defaults.learning_rate,
                       help=f"Adam learning rate (default {defaults.learning_rate})")
    group.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default 0)")
    group.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction,
                       default=None,
                       help="compute in bfloat16 (float16 on a GPU), keep float32 weights "
                       "(default: on for an ImageNet backbone that stays frozen, where the "
                       "hardware has native bfloat16 or a GPU; else off)")
    group.add_argument("--time-limit", type=cli.positive_float, default=None, metavar="MINUTES",
                       help="stop after the first epoch that ends past this many minutes "
                       "of training, counted across resumed sessions")
    group.add_argument("--cpu-limit", type=cli.positive_float, default=None, metavar="MINUTES",
                       help="the same on CPU minutes (all threads): the compute a run "
                       "really had when other jobs share the cores")
    group.add_argument("--reduce-lr-patience", type=cli.non_negative_int, default=0,
                       metavar="EPOCHS",
                       help="halve the learning rate after this many epochs without a better "
                       "--select figure, down to 1/16 of it (default 0: constant)")
    group.add_argument("--rgb-metrics-in-training", action="store_true",
                       help="also log the training batches' RGB MAE and PSNR (validation "
                       "always has them); off by default: decoding every batch to RGB "
                       "costs about a tenth of a step")
    group.add_argument("--steps-per-execution", type=cli.positive_int, default=1,
                       help="batches run per call into the graph (default 1)")
    from colorkeras.distribution import DISTRIBUTIONS

    group.add_argument("--distribution", default="none", choices=DISTRIBUTIONS,
                       help="none: one device; mirrored: every local GPU (or the CPU); "
                       "multi-worker: the TF_CONFIG cluster, every worker running this "
                       "command. --batch-size is the global batch; only the chief writes "
                       "--out (default none)")
    group = parser.add_argument_group("ImageNet encoder (--hparam backbone=efficientnet_lite0)")
    group.add_argument("--freeze-encoder-epochs", type=cli.count_or_all,
                       default=defaults.freeze_encoder_epochs, metavar="N",
                       help="train only the decoder for the first N epochs, or 'all': "
                       "the encoder keeps its ImageNet weights, and a step is about 1.3x "
                       "cheaper without its backward pass (default: all; 0 for --model "
                       "pix2pix, whose fine-tune stalls with the encoder frozen)")
    group.add_argument("--encoder-lr-scale", type=cli.positive_float,
                       default=defaults.encoder_lr_scale, metavar="SCALE",
                       help="then fine-tune the encoder at SCALE x --learning-rate "
                       f"(default {defaults.encoder_lr_scale}); its batch norm keeps "
                       "its ImageNet statistics throughout")
    group = parser.add_argument_group("model selection")
    group.add_argument("--select", default=defaults.select, choices=tuple(SELECTIONS),
                       help="the validation figure model.keras is chosen by: psnr (default), "
                       "or delta_e2000 (CIEDE2000, lower is better), which is less "
                       "partial to cautious, grayish colours")
    group.add_argument("--min-colorfulness", type=cli.positive_float, default=None,
                       metavar="RATIO",
                       help="choose only among epochs whose validation colourfulness ratio "
                       "(output / truth) reaches RATIO, e.g. 0.6 for a GAN")
    group.add_argument("--select-fraction", type=cli.unit_interval, default=None,
                       metavar="SHARE",
                       help="hold this share of the training photos out (by a stable hash "
                       "of the file name) and validate on them instead of the val split, "
                       "so model.keras is not chosen on the photos you report, e.g. 0.06")
    parser.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                        help="architecture hyperparameter, repeatable, e.g. --hparam depth=3; "
                        "--hparam help lists the --model's keys and defaults")
    parser.add_argument("--freeze-base", action="store_true",
                        help="with --hparam hints=true: train only the hint branch, so that "
                        "the colours without hints stay those of --init-from's network")
    parser.add_argument("--init-from", metavar="PATH",
                        help="start from the weights of this .keras network (same "
                        "architecture and settings; for Pix2Pix, a trained generator such "
                        "as a U-Net); ignored when the run resumes")
    gan = parser.add_argument_group("pix2pix")
    gan.add_argument("--generator", default=defaults.generator,
                     help="generator architecture (default: unet)")
    gan.add_argument("--lambda", dest="lambda_", type=cli.positive_float,
                     default=defaults.lambda_, metavar="LAMBDA",
                     help="weight of the reconstruction loss (default 100)")
    gan.add_argument("--gan-loss", default=defaults.gan_loss, choices=("lsgan", "bce"),
                     help="adversarial loss (default: lsgan)")
    gan.add_argument("--d-learning-rate", type=cli.positive_float,
                     default=defaults.d_learning_rate,
                     help=f"discriminator learning rate (default {defaults.d_learning_rate})")
    gan.add_argument("--d-hparam", action="append", metavar="KEY=VALUE",
                     help="PatchGAN hyperparameter, repeatable, e.g. --d-hparam num_layers=2")
    parser.add_argument("--out", default=None,
                        help="run folder (default: runs/<model>); the same folder resumes")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out that holds no training run")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    return parser


def config_from_args(args):
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in vars(args).items() if k in fields}
    values["hparams"] = cli.parse_hparams(args.hparam)
    values["d_hparams"] = cli.parse_hparams(args.d_hparam)
    values["out"] = args.out or os.path.join("runs", args.model)
    values["verbose"] = 2 if args.quiet else "auto"
    values["time_limit"] = args.time_limit or 0.0
    values["cpu_limit"] = args.cpu_limit or 0.0
    values["min_colorfulness"] = args.min_colorfulness or 0.0
    values["select_fraction"] = args.select_fraction or 0.0
    return resolve_defaults(TrainConfig(**values))


def main(argv=None):
    args = build_parser().parse_args(argv)
    if "help" in (args.hparam or []):
        from colorkeras.models import hparams_of

        print(f"--hparam keys of {args.model} (default values):")
        for key, value in hparams_of(args.model).items():
            print(f"  {key}={value!r}")
        return 0
    config = config_from_args(args)
    cli.quiet_tensorflow()
    from colorkeras.training import train

    train(config, overwrite=args.overwrite)
    best = os.path.join(config.out, "model.keras")
    from colorkeras import distribution

    if config.distribution == "multi-worker" and not distribution.is_chief():
        print(f"Worker done; the chief writes {config.out}.")
    elif os.path.exists(best):
        print(f"Best model: {best}")
    else:
        print(f"No epoch reached the selection's minimums, so there is no {best} "
              f"(the latest network is {os.path.join(config.out, 'last.keras')}).")
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
