"""Training step speed: every architecture in float32 and bfloat16, and the levers.

The batch is a constant in memory, so these figures are the step's compute
alone, comparable with the CPU's peak (`peak.cpu_peak`).
"""

import contextlib
import statistics

from benchmarks.peak import cpu_peak, forward_flops
from benchmarks.timing import alternate, ratio_summary, speedup_rows, summarize_times

ARCHITECTURES = ("cae", "dcnn", "unet", "resnet", "densenet", "pix2pix")

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


def make_training_step(name, policy, hparams, size, batch_size, steps_per_execution=1,
                 jit_compile=False, rgb_metrics_in_training=True):
    """A callable running one call of ``name``'s train function under ``policy``.

    The only place the benchmarks build a colorizer to train, so a change to how
    colorkeras trains is adapted here once. The batch is a constant in
    memory, so this measures compute alone; one call runs
    ``steps_per_execution`` steps.
    """
    import keras
    import tensorflow as tf

    from colorkeras.training import build_colorizer
    from colorkeras.training_config import TrainConfig

    keras.mixed_precision.set_global_policy(policy)
    try:
        config = TrainConfig(model=name, color_space="yuv", hparams=dict(hparams),
                             steps_per_execution=steps_per_execution)
        colorizer = build_colorizer(config)
        colorizer.jit_compile = jit_compile
        colorizer.rgb_metrics_in_training = rgb_metrics_in_training
        gray = tf.random.uniform([batch_size, size, size, 1])
        target = tf.random.uniform([batch_size, size, size, 2], -0.3, 0.3)
        colorizer.build_state(gray[:1])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    iterator = iter(tf.data.Dataset.from_tensors((gray, target)).repeat())
    colorizer.make_train_function()
    step = colorizer.train_function
    return lambda: float(step(iterator)["loss" if name != "pix2pix" else "g_loss"])


def colorization_network(name, **kwargs):
    """The network ``name`` builds in yuv (for ``pix2pix``, its generator)."""
    from colorkeras.models import build_model

    model = build_model(name, color_space="yuv", **kwargs)
    return getattr(model, "network", model)


def hparams_for(names, overrides):
    """Per-architecture hyperparameters: the overrides each builder accepts."""
    from colorkeras.models import hparams_of

    result = {}
    for name in names:
        accepted = hparams_of(name)
        result[name] = {k: v for k, v in overrides.items() if k in accepted}
    return result


def bench_training(names, steps, repeats, size=128, batch_size=16, hparams=None,
                   clock_ghz=None):
    """Training images/s per architecture, float32 against mixed bfloat16."""
    peak = cpu_peak(clock_ghz)
    rows = []
    for name in names:
        arch_hparams = (hparams or {}).get(name, {})
        runs = {
            policy: make_training_step(name, policy, arch_hparams, size, batch_size)
            for policy in ("float32", "mixed_bfloat16")
        }
        for run in runs.values():  # trace and warm up outside the clock
            run()

        def timed(run):
            return lambda: [run() for _ in range(steps)]

        times = alternate({p: timed(r) for p, r in runs.items()}, repeats)
        fixed = colorization_network(name, input_shape=(size, size, 1), **arch_hparams)
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


def bench_levers(steps, repeats, size=128, batch_size=16, hparams=None, name="unet",
                 levers=tuple(LEVERS)):
    """U-Net training speed of each candidate lever against the float32 baseline.

    The baseline is the training step before any lever: float32 with Keras's
    own batch norm. Each lever is timed over ``steps`` training steps per
    round, all levers alternating round by round; speed-ups are per-round
    ratios to the baseline.
    """
    from colorkeras.models import batch_norm

    runs = {}
    levers = (BASELINE_LEVER, *[lever for lever in levers if lever != BASELINE_LEVER])
    for lever in levers:
        options = LEVERS[lever]
        spe = options.get("steps_per_execution", 1)
        fused = options.get("fused_batch_norm", True)
        with contextlib.nullcontext() if fused else batch_norm.keras_kernels():
            run = make_training_step(name, options["policy"], hparams or {}, size, batch_size,
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
