"""``python -m benchmarks [--quick] [--json OUT] [--markdown OUT]``: options and printing.

Prints figures, asserts nothing. Every comparison (float32 against bfloat16,
render sizes, in-process against SavedModel) is measured in one run,
alternating A and B over several repeats, and reported as the median with its
spread (min..max), because a shared 2-core machine drifts by more than the
differences being measured.

What it measures (each in its own module):

- `pipeline`: tf.data throughput of the crop pipeline (images/s after the
  first, caching pass) on the embedded sample and on a folder, against what
  the U-Net and Pix2Pix consume while training at 128x128, batch 16;
- `training`: training throughput of every architecture, float32 against
  mixed bfloat16, with achieved GFLOP/s against this CPU's peak (see
  `peak.cpu_peak`), and what each candidate speed-up (`training.LEVERS`)
  gives the U-Net;
- `inference`: time and peak memory per image at 256x256, 1 MP and 12 MP,
  with the network at render size 256 or 512 against the full resolution,
  in process and through the exported SavedModel.
"""

import dataclasses
import json
import tempfile
import time

from benchmarks.inference import INFERENCE_SIZES, RENDER_MODES, bench_inference, tiny_model_path
from benchmarks.peak import cpu_peak
from benchmarks.pipeline import bench_pipeline_options, bench_sources
from benchmarks.report import markdown_report
from benchmarks.training import (
    ARCHITECTURES,
    BASELINE_LEVER,
    LEVERS,
    bench_levers,
    bench_training,
    hparams_for,
)
from colorkeras import cli

PROG = "python -m benchmarks"


@dataclasses.dataclass
class BenchSettings:
    """How much to measure; `--quick` picks the small column."""

    models: tuple = ARCHITECTURES
    train_steps: int = 5
    repeats: int = 3
    train_size: int = 128
    batch_size: int = 16
    inference_model: str = "unet"
    inference_sizes: tuple = tuple(INFERENCE_SIZES)
    inference_modes: tuple = tuple(RENDER_MODES)
    memory: bool = True
    pipeline_batches: int = 30
    folder: str = None
    levers: tuple = tuple(LEVERS)
    clock_ghz: float = None


QUICK_LEVERS = (BASELINE_LEVER, "float32, fused batch norm",
                "bfloat16, fused batch norm (shipped)")
QUICK = dict(models=("unet", "pix2pix"), train_steps=2, repeats=2, levers=QUICK_LEVERS,
             inference_sizes=("256x256", "12MP"), inference_modes=("render256", "render512"),
             memory=False, pipeline_batches=10)


def build_parser(prog=PROG):
    parser = cli.ArgumentParser(
        prog=prog,
        description="Measure the data pipeline, training and inference on this machine "
        "and print a table; ratios are measured in one run, alternating A and B.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="U-Net and Pix2Pix only, three levers, fewer repeats, no 1 MP, "
                        "no memory (under 2 minutes)")
    parser.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file")
    parser.add_argument("--markdown", metavar="OUT",
                        help="also write the figures as Markdown tables to this file")
    parser.add_argument("--folder", help="a folder of photos for the pipeline figure "
                        "(default: the embedded sample read as a folder)")
    parser.add_argument("--models", nargs="+", help="architectures to train (default: all six)")
    parser.add_argument("--inference-model", default=None,
                        help="name or .keras path for the inference figures (default: unet)")
    parser.add_argument("--inference-sizes", nargs="+", choices=tuple(INFERENCE_SIZES),
                        help="photo sizes for the inference figures (default: all; quick: "
                        "256x256 and 12MP)")
    parser.add_argument("--train-size", type=cli.positive_int, default=None,
                        help="training crop side (default 128)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=None,
                        help="training batch (default 16)")
    parser.add_argument("--train-steps", type=cli.positive_int, default=None,
                        help="steps per timed round (default 5; quick 2)")
    parser.add_argument("--repeats", type=cli.positive_int, default=None,
                        help="alternating rounds per comparison (default 3; quick 2)")
    parser.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                        help="override an architecture hyperparameter for every model that "
                        "accepts it (e.g. tiny models for a smoke test)")
    parser.add_argument("--clock-ghz", type=cli.positive_float, default=None,
                        help="the cores' real clock for the peak (default: the nominal clock "
                        "the OS reports, which a boosting CPU exceeds)")
    return parser


def settings_from_args(args):
    values = dict(QUICK) if args.quick else {}
    for field in ("models", "train_size", "batch_size", "train_steps", "repeats",
                  "inference_model", "folder", "inference_sizes", "clock_ghz"):
        value = getattr(args, field)
        if value is not None:
            values[field] = tuple(value) if isinstance(value, list) else value
    unknown = set(values.get("models", ())) - set(ARCHITECTURES)
    if unknown:
        raise cli.UsageError(
            f"unknown model(s) {sorted(unknown)}; choose from {list(ARCHITECTURES)}")
    return BenchSettings(**values)


def run_benchmarks(settings, overrides=None):
    """Every figure as one dict (what --json writes)."""
    import keras
    import tensorflow as tf

    hparams = hparams_for(settings.models, overrides or {})
    report = {"cpu": cpu_peak(settings.clock_ghz),
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
              "settings": dataclasses.asdict(settings)}
    print(f"CPU: {report['cpu']['cpu']}; peak {report['cpu']['float32_gflops']:.0f} GFLOP/s "
          f"float32, {report['cpu']['bfloat16_gflops']:.0f} bfloat16 "
          f"({report['cpu']['derivation']})", flush=True)
    print("Training throughput (images/s):", flush=True)
    report["training"] = bench_training(settings.models, settings.train_steps, settings.repeats,
                                        settings.train_size, settings.batch_size, hparams,
                                        settings.clock_ghz)
    print("Training levers on the U-Net (speed-up over float32 with Keras batch norm, "
          "same run):", flush=True)
    unet_hparams = hparams_for(["unet"], overrides or {})["unet"]
    report["levers"] = bench_levers(settings.train_steps, settings.repeats, settings.train_size,
                                    settings.batch_size, unet_hparams, levers=settings.levers)
    print("Data pipeline (images/s, cache warm):", flush=True)
    report["pipeline"] = bench_sources(settings.folder, report["training"], settings.batch_size,
                                       settings.pipeline_batches, crop_size=settings.train_size)
    print("tf.data options on the sample (same run, alternating):", flush=True)
    report["pipeline_options"] = bench_pipeline_options(
        "sample", settings.batch_size, settings.pipeline_batches, settings.repeats,
        crop_size=settings.train_size)
    print("Inference per image (median [min..max]):", flush=True)
    with tempfile.TemporaryDirectory(prefix="colorkeras-bench-") as tmp:
        model = settings.inference_model
        if model in ARCHITECTURES and overrides:
            model = tiny_model_path(model, hparams.get(model, {}), tmp)
        report["inference"] = bench_inference(model, settings.inference_sizes,
                                              settings.inference_modes, settings.repeats,
                                              settings.memory)
    return report


def main(argv=None, prog=PROG):
    args = build_parser(prog).parse_args(argv)
    settings = settings_from_args(args)
    started = time.time()
    report = run_benchmarks(settings, cli.parse_hparams(args.hparam))
    report["wall_seconds"] = round(time.time() - started, 1)
    print(f"Done in {report['wall_seconds']:.0f} s.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2, default=str)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown_report(report))
    return 0
