"""Benchmarks: ``python -m colorkeras.bench [--quick] [--json OUT]``.

Prints figures, asserts nothing. Every comparison (float32 against bfloat16,
render sizes, in-process against SavedModel) is measured in one run,
alternating A and B over several repeats, and reported as the median with its
spread (min..max), because a shared 2-core machine drifts by more than the
differences being measured.

What it measures:

- tf.data throughput of the crop pipeline (images/s after the first, caching
  pass) on the embedded sample and on a folder, against what the U-Net and
  Pix2Pix consume while training at 128x128, batch 16;
- training throughput of every architecture, float32 against mixed bfloat16,
  with achieved GFLOP/s against this CPU's peak (see `cpu_peak`), and what
  each candidate speed-up (`LEVERS`) gives the U-Net;
- inference time and peak memory per image at 256x256, 1 MP and 12 MP, with
  the network at render size 256 or 512 against the full resolution, in
  process and through the exported SavedModel.
"""

import dataclasses
import json
import os
import platform
import statistics
import sys
import time

from colorkeras import cli

ARCHITECTURES = ("cae", "dcnn", "unet", "resnet", "densenet", "pix2pix")


# --------------------------------------------------------------------- timing
def summarize_times(values):
    """Median and spread of a list of measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def alternate(candidates, repeats):
    """Time each zero-argument callable in turn, ``repeats`` rounds.

    Alternating A, B, A, B... spreads slow drifts of a shared machine over
    every candidate instead of charging them to whichever ran last.
    Returns ``{name: [seconds, ...]}``.
    """
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return times


def ratio_summary(numerator, denominator):
    """Per-round ratios of two alternated series, summarised."""
    return summarize_times([a / b for a, b in zip(numerator, denominator)])


# ----------------------------------------------------------------- hardware
def cpu_peak(clock_ghz=None):
    """This CPU's theoretical peak in GFLOP/s, and how it was derived.

    peak = cores x clock x FLOPs per cycle per core. FLOPs per cycle come from
    the widest multiply-add the CPU has: AVX-512 with two FMA pipes gives
    2 pipes x 16 float32 lanes x 2 (multiply + add) = 64; AMD Zen 4 runs
    AVX-512 on 256-bit halves, so 32. For bfloat16 the dot-product
    instruction (AVX512_BF16) doubles that; Intel AMX tiles reach 1024 bf16
    FLOPs per cycle per core where present.
    """
    cores = os.cpu_count() or 1
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    vendor = info.get("vendor_id", "")
    ghz = clock_ghz or _clock_ghz(info)
    clock_how = ("as given (--clock-ghz)" if clock_ghz else
                 "nominal, as the OS reports it; a boosting CPU runs faster, so pass the "
                 "measured clock with --clock-ghz")
    if "avx512f" in flags:
        fp32 = 32 if vendor == "AuthenticAMD" else 64
        fp32_how = (
            "AVX-512 on 256-bit halves (AMD Zen 4): 2 FMA pipes x 8 lanes x 2"
            if vendor == "AuthenticAMD"
            else "AVX-512: 2 FMA pipes x 16 lanes x 2"
        )
    elif "avx2" in flags and "fma" in flags:
        fp32, fp32_how = 32, "AVX2: 2 FMA pipes x 8 lanes x 2"
    else:
        fp32, fp32_how = 8, "SSE: 4 lanes x 2"
    if "amx_bf16" in flags:
        bf16, bf16_how = 1024, "AMX tiles: 1024 bf16 FLOPs/cycle"
    elif "avx512_bf16" in flags:
        bf16, bf16_how = 2 * fp32, "AVX512_BF16 dot products: 2x the float32 rate (no AMX)"
    else:
        bf16, bf16_how = fp32, "no bf16 instructions: same as float32"
    return {
        "cpu": info.get("model name", platform.processor()),
        "cores": cores,
        "ghz": ghz,
        "float32_flops_per_cycle": fp32,
        "bfloat16_flops_per_cycle": bf16,
        "float32_gflops": cores * ghz * fp32,
        "bfloat16_gflops": cores * ghz * bf16,
        "derivation": f"{cores} cores x {ghz:.2f} GHz ({clock_how}) x FLOPs/cycle; "
        f"float32: {fp32_how}; bfloat16: {bf16_how}",
    }


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {}
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in info:
            info[key.strip()] = value.strip()
    return info


def _clock_ghz(info):
    """Nominal clock: the TSC rate (bogomips / 2) is what a VM reports reliably."""
    if "bogomips" in info:
        return float(info["bogomips"]) / 2000.0
    if "cpu MHz" in info:
        return float(info["cpu MHz"]) / 1000.0
    return 1.0


# -------------------------------------------------------------------- FLOPs
def forward_flops(network):
    """Multiply-add FLOPs of one forward pass of a fixed-size network.

    Counted analytically per layer from the static shapes: a convolution
    costs 2 x output pixels x kernel area x input channels / groups x output
    channels; a transposed convolution 2 x input pixels x kernel area x input
    x output channels. Everything else (batch norm, activations, pooling,
    concatenation) is memory-bound and left out, so this is a lower bound.
    """
    import keras

    total = 0
    for layer in _all_layers(network):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            in_h, in_w, c_in = layer.input.shape[1:4]
            kh, kw = layer.kernel_size
            total += 2 * in_h * in_w * kh * kw * c_in * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            out_h, out_w = layer.output.shape[1:3]
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += 2 * out_h * out_w * kh * kw * (c_in // layer.groups) * layer.filters
    return total


def _all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        else:
            yield layer


# ----------------------------------------------------------------- pipeline
def bench_pipeline(data, batch_size=16, batches=20, image_size=256, crop_size=128):
    """Images/s of the training pipeline once its cache is warm."""
    from colorkeras.data import make_dataset

    pipeline = make_dataset(data, "train", image_size=image_size, crop_size=crop_size,
                            batch_size=batch_size, seed=0)
    iterator = iter(pipeline.dataset)
    for _ in range(max(pipeline.steps, 1) + 2):  # one pass fills the cache
        next(iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    seconds = time.perf_counter() - started
    return {"data": data, "images": pipeline.num_images,
            "images_per_second": batches * batch_size / seconds}


PIPELINE_OPTIONS = {
    "seeded, cached (training default)": dict(seed=0, cache=True),
    "unseeded: deterministic=False": dict(seed=None, cache=True),
    "no cache (decode every epoch)": dict(seed=0, cache=False),
}


def bench_pipeline_options(data, batch_size=16, batches=20, repeats=3, image_size=256,
                           crop_size=128):
    """The tf.data levers, alternating: images/s and ratio to the default."""
    from colorkeras.data import make_dataset

    iterators = {}
    for name, options in PIPELINE_OPTIONS.items():
        pipeline = make_dataset(data, "train", image_size=image_size, crop_size=crop_size,
                                batch_size=batch_size, **options)
        iterator = iter(pipeline.dataset)
        for _ in range(max(pipeline.steps, 1) + 2):  # one pass fills a cache
            next(iterator)
        iterators[name] = iterator
    # Between its rounds an idle pipeline refills its prefetch buffer, which
    # would then be timed instead of the pipeline: drain it first, untimed.
    times = {name: [] for name in iterators}
    for _ in range(repeats):
        for name, iterator in iterators.items():
            for _ in range(batches):
                next(iterator)
            started = time.perf_counter()
            for _ in range(batches):
                next(iterator)
            times[name].append(time.perf_counter() - started)
    per_image = {name: [t / (batches * batch_size) for t in v] for name, v in times.items()}
    return speedup_rows("option", per_image, "seeded, cached (training default)")


def speedup_rows(key, seconds_per_image, baseline):
    """Rows of images/s and speed-up over ``baseline``, printed as they come.

    ``seconds_per_image`` maps each candidate to its per-round times.
    """
    rows = []
    width = max(len(name) for name in seconds_per_image) + 2
    for name, values in seconds_per_image.items():
        row = {key: name, "images_per_second": 1 / statistics.median(values),
               "speedup": ratio_summary(seconds_per_image[baseline], values)}
        rows.append(row)
        sp = row["speedup"]
        print(f"  {name:<{width}} {row['images_per_second']:7.1f} img/s  "
              f"{sp['median']:.2f}x [{sp['min']:.2f}..{sp['max']:.2f}]", flush=True)
    return rows


# ----------------------------------------------------------------- training
def _trainer(name, policy, hparams, size, batch_size, steps_per_execution=1, jit_compile=False,
             rgb_metrics_in_training=True):
    """A callable running one call of ``name``'s train function under ``policy``.

    The batch is a constant in memory, so this measures compute alone; one
    call runs ``steps_per_execution`` steps.
    """
    import keras
    import tensorflow as tf

    from colorkeras.train import TrainConfig, build_trainer

    keras.mixed_precision.set_global_policy(policy)
    try:
        config = TrainConfig(model=name, color_space="yuv", hparams=dict(hparams),
                             steps_per_execution=steps_per_execution)
        trainer = build_trainer(config)
        trainer.jit_compile = jit_compile
        trainer.rgb_metrics_in_training = rgb_metrics_in_training
        gray = tf.random.uniform([batch_size, size, size, 1])
        target = tf.random.uniform([batch_size, size, size, 2], -0.3, 0.3)
        trainer.build_state(gray[:1])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    iterator = iter(tf.data.Dataset.from_tensors((gray, target)).repeat())
    trainer.make_train_function()
    step = trainer.train_function
    return lambda: float(step(iterator)["loss" if name != "pix2pix" else "g_loss"])


def bench_training(names, steps, repeats, size=128, batch_size=16, hparams=None,
                   clock_ghz=None):
    """Training images/s per architecture, float32 against mixed bfloat16."""
    from colorkeras.models import build_model

    peak = cpu_peak(clock_ghz)
    rows = []
    for name in names:
        arch_hparams = (hparams or {}).get(name, {})
        runs = {
            policy: _trainer(name, policy, arch_hparams, size, batch_size)
            for policy in ("float32", "mixed_bfloat16")
        }
        for run in runs.values():  # trace and warm up outside the clock
            run()

        def timed(run):
            return lambda: [run() for _ in range(steps)]

        times = alternate({p: timed(r) for p, r in runs.items()}, repeats)
        generator = "unet" if name == "pix2pix" else name
        fixed = build_model(generator, input_shape=(size, size, 1), color_space="yuv",
                            **arch_hparams)
        flops = forward_flops(fixed)
        if name == "pix2pix":
            flops += _patchgan_flops(size)
        # Training is about 3x the forward pass (forward, input and weight gradients).
        step_flops = 3 * flops * batch_size
        row = {"model": name, "parameters": fixed.count_params(),
               "forward_gflops_per_image": flops / 1e9}
        for policy, values in times.items():
            per_step = [v / steps for v in values]
            median = statistics.median(per_step)
            key = "f32" if policy == "float32" else "bf16"
            peak_key = "float32_gflops" if policy == "float32" else "bfloat16_gflops"
            row[f"{key}_images_per_second"] = batch_size / median
            row[f"{key}_gflops"] = step_flops / median / 1e9
            row[f"{key}_fraction_of_peak"] = step_flops / median / 1e9 / peak[peak_key]
            row[f"{key}_step_seconds"] = summarize_times(per_step)
        row["bf16_speedup"] = ratio_summary(times["float32"], times["mixed_bfloat16"])
        rows.append(row)
        print(_training_line(row), flush=True)
    return rows


LEVERS = {
    "float32, Keras batch norm (before)": dict(policy="float32", fused_batch_norm=False),
    "float32, fused batch norm": dict(policy="float32"),
    "fused + steps_per_execution=8": dict(policy="float32", steps_per_execution=8),
    "fused + XLA jit_compile": dict(policy="float32", jit_compile=True),
    "fused + no RGB metrics in the step": dict(policy="float32", rgb_metrics_in_training=False),
    "bfloat16, Keras batch norm": dict(policy="mixed_bfloat16", fused_batch_norm=False),
    "bfloat16, fused batch norm (shipped)": dict(policy="mixed_bfloat16"),
    "bfloat16, fused + steps_per_execution=8": dict(policy="mixed_bfloat16",
                                                    steps_per_execution=8),
}
BASELINE_LEVER = "float32, Keras batch norm (before)"


def bench_levers(steps, repeats, size=128, batch_size=16, hparams=None, name="unet",
                 levers=tuple(LEVERS)):
    """U-Net training speed of each candidate lever against the float32 baseline.

    The baseline is the training step before any lever: float32 with Keras's
    own batch norm. Each lever is timed over ``steps`` training steps per
    round, all levers alternating round by round; speed-ups are per-round
    ratios to the baseline.
    """
    import contextlib

    from colorkeras.models import batch_norm

    runs = {}
    levers = (BASELINE_LEVER, *[lever for lever in levers if lever != BASELINE_LEVER])
    for lever in levers:
        options = LEVERS[lever]
        spe = options.get("steps_per_execution", 1)
        fused = options.get("fused_batch_norm", True)
        with contextlib.nullcontext() if fused else batch_norm.keras_kernels():
            run = _trainer(name, options["policy"], hparams or {}, size, batch_size,
                           spe, options.get("jit_compile", False),
                           options.get("rgb_metrics_in_training", True))
            run()  # trace and warm up outside the clock
        calls = max(steps // spe, 1)
        runs[lever] = (run, calls * spe, calls)
    times = alternate({k: (lambda r=r, c=c: [r() for _ in range(c)])
                       for k, (r, _, c) in runs.items()}, repeats)
    per_image = {k: [t / (runs[k][1] * batch_size) for t in v] for k, v in times.items()}
    return speedup_rows("lever", per_image, BASELINE_LEVER)


def _patchgan_flops(size):
    # The discriminator sees a real and a fake batch every step.
    from colorkeras.models.patchgan import build_patchgan

    return 2 * forward_flops(build_patchgan(input_shape=(size, size, 1), color_space="yuv"))


def _training_line(row):
    speed = row["bf16_speedup"]
    return (
        f"  {row['model']:<9} {row['parameters'] / 1e6:6.2f} M  "
        f"f32 {row['f32_images_per_second']:6.1f} img/s ({row['f32_gflops']:5.1f} GFLOP/s, "
        f"{100 * row['f32_fraction_of_peak']:4.1f}% of peak)  "
        f"bf16 {row['bf16_images_per_second']:6.1f} img/s ({row['bf16_gflops']:5.1f} GFLOP/s)  "
        f"bf16/f32 {speed['median']:.2f}x [{speed['min']:.2f}..{speed['max']:.2f}]"
    )


# ---------------------------------------------------------------- inference
INFERENCE_SIZES = {"256x256": (256, 256), "1MP": (864, 1152), "12MP": (3000, 4000)}
RENDER_MODES = {"render256": 256, "render512": 512, "full": None}


def _photo(shape, seed=0):
    """A smooth synthetic photo: gradients plus a few soft blobs, uint8."""
    import numpy as np

    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    image = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin((x + y) / (0.1 * (h + w)))], -1)
    for _ in range(4):
        cy, cx, r = rng.random(3) * [h, w, 0.3 * min(h, w)]
        image += 0.3 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r + 1))[..., None]
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)[None]


def _runner(kind, colorizer, export_dir, render_size):
    """A callable colorizing a uint8 batch in process or through the SavedModel."""
    import tensorflow as tf

    from colorkeras.inference import compiled_colorize

    if kind == "in_process":
        run = compiled_colorize(colorizer, render_size)
        return lambda images: run(tf.constant(images)).numpy()
    serving = tf.saved_model.load(export_dir).signatures["serving_default"]
    return lambda images: serving(images=tf.constant(images))["colorized"].numpy()


def _peak_memory_child(queue, model, export_dir, kind, shape, render_size):
    """Peak resident memory (GB) above the loaded state for one colorize call."""
    from colorkeras.inference import load

    colorizer = load(model)
    run = _runner(kind, colorizer, export_dir, render_size)
    images = _photo(shape)
    baseline = _status_kb("VmRSS")
    run(images)
    queue.put((_status_kb("VmHWM") - baseline) / 1e6)


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_memory_gb(model, export_dir, kind, shape, render_size):
    """Measure in a fresh process: one process's high-water mark is one figure."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_peak_memory_child,
                            args=(queue, model, export_dir, kind, shape, render_size))
    import queue as queues

    child.start()
    try:  # read before joining: a child blocks on exit until its queue is drained
        while True:
            try:
                return queue.get(timeout=1)
            except queues.Empty:
                if not child.is_alive():  # it died without a figure (its last put is in)
                    return queue.get(timeout=1) if not child.exitcode else None
    except queues.Empty:
        return None
    finally:
        child.join()


def bench_inference(model, sizes, modes, repeats, memory=True):
    """Seconds and peak memory per image, in process against the SavedModel.

    For each photo size every render mode runs both ways, all alternating in
    one loop, so the ratios (SavedModel over in-process, and the full-size
    network over each render size) come from the same rounds.
    """
    import tempfile

    from colorkeras.export import export
    from colorkeras.inference import load

    colorizer = load(model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # A SavedModel renders at the size it was exported with: one per mode.
        export_dirs = {mode: export(model, os.path.join(tmp, mode), version=1,
                                    render_size=RENDER_MODES[mode]) for mode in modes}
        for size_name in sizes:
            shape = INFERENCE_SIZES[size_name]
            images = _photo(shape)
            runs = {(mode, kind): _runner(kind, colorizer, export_dirs[mode], RENDER_MODES[mode])
                    for mode in modes for kind in ("in_process", "saved_model")}
            for run in runs.values():
                run(images)  # trace and warm up
            times = alternate({k: (lambda r=r: r(images)) for k, r in runs.items()}, repeats)
            for mode in modes:
                row = {"size": size_name, "pixels": shape[0] * shape[1], "mode": mode}
                for kind in ("in_process", "saved_model"):
                    row[f"{kind}_seconds"] = summarize_times(times[mode, kind])
                    row[f"{kind}_peak_gb"] = (
                        peak_memory_gb(model, export_dirs[mode], kind, shape,
                                       RENDER_MODES[mode])
                        if memory else None
                    )
                row["saved_model_over_in_process"] = ratio_summary(
                    times[mode, "saved_model"], times[mode, "in_process"])
                if "full" in modes and mode != "full":
                    row["full_over_this"] = ratio_summary(
                        times["full", "in_process"], times[mode, "in_process"])
                rows.append(row)
                print(_inference_line(row), flush=True)
    return rows


def _inference_line(row):
    a, b = row["in_process_seconds"], row["saved_model_seconds"]
    mem = row["in_process_peak_gb"]
    mem_text = f"{mem:5.2f} GB" if mem is not None else "   -   "
    return (
        f"  {row['size']:<8} {row['mode']:<10} in-process {a['median']:7.3f} s "
        f"[{a['min']:.3f}..{a['max']:.3f}] peak +{mem_text}   "
        f"SavedModel {b['median']:7.3f} s [{b['min']:.3f}..{b['max']:.3f}]"
        + (f"   full size takes {row['full_over_this']['median']:.1f}x"
           if "full_over_this" in row else "")
    )


# -------------------------------------------------------------------- main
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


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.bench",
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


def _hparams_for(names, overrides):
    """Per-architecture hyperparameters: the overrides each builder accepts."""
    from colorkeras.models import hparams_of

    result = {}
    for name in names:
        accepted = hparams_of("unet" if name == "pix2pix" else name)
        result[name] = {k: v for k, v in overrides.items() if k in accepted}
    return result


def run_benchmarks(settings, overrides=None):
    """Every figure as one dict (what --json writes)."""
    import keras
    import tensorflow as tf

    from colorkeras.data import SAMPLE_DIR

    hparams = _hparams_for(settings.models, overrides or {})
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
    unet_hparams = _hparams_for(["unet"], overrides or {})["unet"]
    report["levers"] = bench_levers(settings.train_steps, settings.repeats, settings.train_size,
                                    settings.batch_size, unet_hparams, levers=settings.levers)
    print("Data pipeline (images/s, cache warm):", flush=True)
    # The sample is itself a folder (SAMPLE_DIR): a second row only for another one.
    pipeline = [bench_pipeline("sample", settings.batch_size, settings.pipeline_batches,
                               crop_size=settings.train_size)]
    if settings.folder and os.path.realpath(settings.folder) != os.path.realpath(SAMPLE_DIR):
        pipeline.append(bench_pipeline(settings.folder, settings.batch_size,
                                       settings.pipeline_batches, crop_size=settings.train_size))
        pipeline[1]["data"] = "folder:" + pipeline[1]["data"]
    consumers = {row["model"]: row["f32_images_per_second"] for row in report["training"]
                 if row["model"] in ("unet", "pix2pix")}
    for row in pipeline:
        row["over_consumption"] = {name: row["images_per_second"] / rate
                                   for name, rate in consumers.items()}
        ratios = ", ".join(f"{v:.0f}x {k}" for k, v in row["over_consumption"].items())
        print(f"  {row['data']}: {row['images_per_second']:.0f} img/s ({ratios})", flush=True)
    report["pipeline"] = pipeline
    print("tf.data options on the sample (same run, alternating):", flush=True)
    report["pipeline_options"] = bench_pipeline_options(
        "sample", settings.batch_size, settings.pipeline_batches, settings.repeats,
        crop_size=settings.train_size)
    print("Inference per image (median [min..max]):", flush=True)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="colorkeras-bench-") as tmp:
        model = settings.inference_model
        if model in ARCHITECTURES and overrides:
            model = _tiny_model_path(model, hparams.get(model, {}), tmp)
        report["inference"] = bench_inference(model, settings.inference_sizes,
                                              settings.inference_modes, settings.repeats,
                                              settings.memory)
    return report


def _spread(summary, digits=2, unit="x"):
    return (f"{summary['median']:.{digits}f}{unit} "
            f"[{summary['min']:.{digits}f}..{summary['max']:.{digits}f}]")


def markdown_report(report):
    """The figures of one run as Markdown tables (what the README shows)."""
    cpu = report["cpu"]
    lines = [
        f"Measured in {report['wall_seconds']:.0f} s on {cpu['cores']} cores of an "
        f"{cpu['cpu']} (TensorFlow {report['versions']['tensorflow']} / Keras "
        f"{report['versions']['keras']}). Peak: {cpu['derivation']} = "
        f"{cpu['float32_gflops']:.0f} GFLOP/s float32, {cpu['bfloat16_gflops']:.0f} bfloat16.",
        "",
        "| model | parameters | float32 img/s | bfloat16 img/s | bf16 / f32 | "
        "float32 GFLOP/s (of peak) | bfloat16 GFLOP/s (of peak) |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in report["training"]:
        lines.append(
            f"| `{row['model']}` | {row['parameters'] / 1e6:.2f} M | "
            f"{row['f32_images_per_second']:.1f} | {row['bf16_images_per_second']:.1f} | "
            f"{_spread(row['bf16_speedup'])} | {row['f32_gflops']:.0f} "
            f"({row['f32_fraction_of_peak']:.0%}) | {row['bf16_gflops']:.0f} "
            f"({row['bf16_fraction_of_peak']:.0%}) |")
    lines += ["", "| U-Net training step | img/s | speed-up over the first row |",
              "| --- | ---: | --- |"]
    lines += [f"| {row['lever']} | {row['images_per_second']:.1f} | {_spread(row['speedup'])} |"
              for row in report["levers"]]
    lines += ["", "| tf.data pipeline | img/s | over U-Net / Pix2Pix training (float32) |",
              "| --- | ---: | --- |"]
    for row in report["pipeline"]:
        over = row["over_consumption"]
        lines.append(f"| {row['data']} | {row['images_per_second']:.0f} | "
                     + " / ".join(f"{v:.0f}x" for v in over.values()) + " |")
    lines += [f"| sample, {row['option']} | {row['images_per_second']:.0f} | "
              f"{_spread(row['speedup'])} of the default |"
              for row in report.get("pipeline_options", [])]
    lines += ["", "| photo | network at | in-process s | SavedModel s | peak memory GB "
              "(in-process / SavedModel) | full-size network takes |",
              "| --- | --- | --- | --- | --- | --- |"]
    for row in report["inference"]:
        memory = " / ".join("" if row[k] is None else f"{row[k]:.2f}"
                            for k in ("in_process_peak_gb", "saved_model_peak_gb"))
        full = _spread(row["full_over_this"], 1) if "full_over_this" in row else ""
        lines.append(f"| {row['size']} | {row['mode']} | "
                     f"{_spread(row['in_process_seconds'], 3, '')} | "
                     f"{_spread(row['saved_model_seconds'], 3, '')} | {memory} | {full} |")
    return "\n".join(lines) + "\n"


def _tiny_model_path(name, hparams, folder):
    """An untrained network with the overrides, saved as a .keras file in ``folder``."""
    from colorkeras.models import build_model

    path = os.path.join(folder, f"{name}.keras")
    build_model("unet" if name == "pix2pix" else name, color_space="yuv", **hparams).save(path)
    return path


def main(argv=None):
    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    cli.run(main, sys.argv[1:])
