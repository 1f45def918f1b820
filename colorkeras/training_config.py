"""The settings of a training run: what they are, how they are written and checked.

`TrainConfig` is what ``python -m colorkeras.train`` parses, what a tuner's
trial varies and what ``config.json`` records; `train_arguments` turns it
back into the command that repeats the run, and `check_resumable` keeps a
run folder from mixing two different runs.
"""

import dataclasses
import json
import os

from colorkeras.errors import InputError

# Settings a resumed run may change: how long it trains, how it reports and
# which epoch it keeps. Every other setting defines the run.
RESUMABLE_CHANGES = ("epochs", "time_limit", "cpu_limit", "verbose", "out", "init_from",
                     "select", "min_colorfulness", "steps_per_execution",
                     "reduce_lr_patience", "distribution")
# What ``model.keras`` is chosen by: --select name -> (logged figure, direction).
SELECTIONS = {"psnr": ("val_psnr", "max"), "delta_e2000": ("val_delta_e2000", "min")}


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run (written to ``config.json``)."""

    model: str = "unet"
    loss: str = "mae"
    color_space: str = "yuv"
    data: str = "sample"
    image_size: int = 256
    crop_size: int = 128
    batch_size: int = 16
    epochs: int = 10
    steps_per_epoch: int = 20
    learning_rate: float = 2e-3
    out: str = os.path.join("runs", "unet")
    seed: int = 0
    mixed_precision: bool = None  # None: `resolve_defaults` decides
    steps_per_execution: int = 1
    time_limit: float = 0.0
    cpu_limit: float = 0.0
    init_from: str = None
    select: str = "psnr"
    min_colorfulness: float = 0.0
    select_fraction: float = 0.0
    reduce_lr_patience: int = 0
    freeze_encoder_epochs: object = None  # epochs, "all": never fine-tuned; None: decided
    encoder_lr_scale: float = 0.1
    class_rebalance: float = 0.5
    freeze_base: bool = False
    rgb_metrics_in_training: bool = False
    hparams: dict = dataclasses.field(default_factory=dict)
    # Pix2Pix only.
    generator: str = "unet"
    lambda_: float = 100.0
    gan_loss: str = "lsgan"
    d_learning_rate: float = 2e-4
    d_hparams: dict = dataclasses.field(default_factory=dict)
    verbose: str = "auto"
    distribution: str = "none"


# TrainConfig fields whose flag is not ``--field-name``; None: not a flag.
_FLAGS = {"lambda_": "--lambda", "hparams": "--hparam", "d_hparams": "--d-hparam",
          "verbose": None, "mixed_precision": "--mixed-precision",
          "freeze_base": "--freeze-base", "distribution": None,
          "rgb_metrics_in_training": "--rgb-metrics-in-training"}
_ALWAYS = ("model", "data", "image_size", "crop_size", "batch_size", "epochs",
           "steps_per_epoch", "learning_rate", "loss", "color_space", "seed")
_PIX2PIX_FIELDS = ("generator", "lambda_", "gan_loss", "d_learning_rate", "d_hparams")


def _flag_value(value):
    """A value as the parser reads it back (``--hparam`` values are JSON or text)."""
    return value if isinstance(value, str) else json.dumps(value)


def train_arguments(config):
    """The ``python -m colorkeras.train`` arguments that train ``config`` again.

    Every setting that differs from the default is named, so a tuner's trial
    or a shipped model's run is reproduced, not approximated.
    """
    defaults = TrainConfig()
    args = []
    for field in dataclasses.fields(TrainConfig):
        name, value = field.name, getattr(config, field.name)
        flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
        pix2pix = config.model == "pix2pix" and name in _PIX2PIX_FIELDS
        if flag is None or (value == getattr(defaults, name) and name not in _ALWAYS
                            and not pix2pix):
            continue
        if name in ("hparams", "d_hparams"):
            for key, item in value.items():
                args += [flag, f"{key}={_flag_value(item)}"]
        elif isinstance(value, bool) and value:
            args.append(flag)
        elif isinstance(value, bool):  # an automatic default is named when it is off too
            args += ["--no-" + flag[2:]] if field.default is None else []
        elif value is not None:
            args += [flag, str(value)]
    if config.verbose == 2:
        args.append("--quiet")
    return args


# The PatchGAN's width when Pix2Pix fine-tunes a generator on an ImageNet backbone:
# 4x fewer multiply-adds than pix2pix's 64, the same `select` ΔE2000 and colour per
# crop in the fine-tune from the shipped unet (docs/training-throughput.md).
FAST_DISCRIMINATOR_FILTERS = 16


def resolve_defaults(config):
    """``config`` with its automatic settings decided, as ``config.json`` records them.

    Measured on the project's CPU (docs/training-throughput.md):

    - ``freeze_encoder_epochs=None`` becomes "all" (an ImageNet encoder never
      trains: a fresh decoder learns more per CPU-minute so), but 0 for
      Pix2Pix, whose fine-tune of a trained generator stalls with the encoder
      frozen and goes on improving with it fine-tuned.
    - ``mixed_precision=None`` becomes True for a network on an ImageNet
      backbone that stays frozen, where the hardware computes half precision
      natively (a GPU, or a CPU with AVX512-BF16 or AMX): a step is about
      1.25x cheaper. Otherwise False: bfloat16 emulated on an older CPU is
      slower, and so is the encoder's depthwise backward pass in bfloat16.
    - A Pix2Pix whose generator has such a backbone gets a PatchGAN of
      `FAST_DISCRIMINATOR_FILTERS` unless ``d_hparams`` names ``base_filters``.
    """
    backbone = config.hparams.get("backbone", "none") != "none"
    if config.freeze_encoder_epochs is None:
        config = dataclasses.replace(
            config, freeze_encoder_epochs=0 if config.model == "pix2pix" else "all")
    if config.model == "pix2pix" and backbone and "base_filters" not in config.d_hparams:
        config = dataclasses.replace(
            config, d_hparams={**config.d_hparams, "base_filters": FAST_DISCRIMINATOR_FILTERS})
    if config.mixed_precision is not None:
        return config
    frozen = config.freeze_encoder_epochs == "all"
    return dataclasses.replace(
        config, mixed_precision=backbone and frozen and fast_half_precision())


def fast_half_precision():
    """Whether this machine computes bfloat16 or float16 natively."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return True
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


def encoder_frozen(freeze_encoder_epochs, epoch):
    """Whether an ImageNet encoder is frozen in ``epoch`` (0-based)."""
    return freeze_encoder_epochs == "all" or epoch < int(freeze_encoder_epochs)


def check_config(config):
    """Refuse combinations that would only fail after minutes of set-up."""
    if config.loss == "classification" and config.color_space != "lab":
        raise InputError("`loss='classification'` predicts a*b* bins: "
                         "use `color_space='lab'`")
    if config.freeze_base and not config.hparams.get("hints"):
        raise InputError("`freeze_base` trains only a hint branch: it needs the "
                         "hyperparameter hints=true")
    if config.distribution == "multi-worker" and (config.time_limit or config.cpu_limit):
        raise InputError("`time_limit` and `cpu_limit` are per process, and workers "
                         "must stop at the same epoch: bound a "
                         "`distribution='multi-worker'` run by `epochs`")


def check_out_folder(out, overwrite=False):
    """Refuse to write into a folder this package did not make.

    A run folder is recognised by its ``config.json``; any other non-empty
    folder (say, one holding someone's own ``history.csv``) is left alone
    unless ``overwrite``. A file named as the folder is refused too.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError(f"`out` {out} is a file, not a folder; choose a folder")
    if overwrite or not os.path.isdir(out) or os.path.exists(os.path.join(out, "config.json")):
        return
    with os.scandir(out) as entries:
        if any(True for _ in entries):
            raise InputError(
                f"{out} is not empty and holds no training run (no config.json); choose "
                "another `out`, or `overwrite` to write into it anyway")


def check_resumable(config):
    """Refuse to mix a new run into a folder that holds a different one.

    Returns whether the run resumes with another ``--select`` or
    ``--min-colorfulness``: its earlier best no longer counts.
    """
    path = os.path.join(config.out, "config.json")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        previous = json.load(f)
    current = dataclasses.asdict(config)
    defaults = dataclasses.asdict(TrainConfig())  # fields older runs did not record
    changed = [k for k in current
               if k not in RESUMABLE_CHANGES and previous.get(k, defaults[k]) != current[k]]
    if changed:
        details = ", ".join(f"{k}: {previous.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise InputError(
            f"{config.out} holds a different run ({details}); "
            "use another `out` or delete that folder"
        )
    before = (previous.get("select", "psnr"), previous.get("min_colorfulness", 0.0))
    if before != (config.select, config.min_colorfulness):
        print(f"Note: {config.out}/model.keras was chosen by --select {before[0]} "
              f"--min-colorfulness {before[1]:g}; from now on the epochs that log "
              f"--select {config.select} --min-colorfulness {config.min_colorfulness:g} "
              "choose it.", flush=True)
        return True
    return False


