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

import contextlib
import csv
import dataclasses
import json
import math
import os
import sys
import time
import warnings

from colorkeras import atomic, cli

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
    mixed_precision: bool = False
    steps_per_execution: int = 1
    time_limit: float = 0.0
    cpu_limit: float = 0.0
    init_from: str = None
    select: str = "psnr"
    min_colorfulness: float = 0.0
    select_fraction: float = 0.0
    reduce_lr_patience: int = 0
    freeze_encoder_epochs: int = 0
    encoder_lr_scale: float = 0.1
    class_rebalance: float = 0.5
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
          "verbose": None, "mixed_precision": "--mixed-precision", "distribution": None}
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
        elif isinstance(value, bool):
            args += [flag] if value else []
        elif value is not None:
            args += [flag, str(value)]
    if config.verbose == 2:
        args.append("--quiet")
    return args


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.train",
        description="Train a colorization network on 128x128 crops of 256x256 photos.",
        epilog="Example: python -m colorkeras.train --model resnet --data ~/photos "
        "--color-space lab --epochs 30 --out runs/resnet-lab",
    )
    from colorkeras.color import COLOR_SPACES
    from colorkeras.losses import LOSSES
    from colorkeras.models import list_models

    defaults = TrainConfig()
    parser.add_argument("--model", default=defaults.model, choices=list_models(),
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
    group.add_argument("--mixed-precision", action="store_true",
                       help="compute in bfloat16 (float16 on a GPU), keep float32 weights")
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
    group.add_argument("--steps-per-execution", type=cli.positive_int, default=1,
                       help="batches run per call into the graph (default 1)")
    from colorkeras.distribution import DISTRIBUTIONS

    group.add_argument("--distribution", default="none", choices=DISTRIBUTIONS,
                       help="none: one device; mirrored: every local GPU (or the CPU); "
                       "multi-worker: the TF_CONFIG cluster, every worker running this "
                       "command. --batch-size is the global batch; only the chief writes "
                       "--out (default none)")
    group = parser.add_argument_group("ImageNet encoder (--hparam backbone=efficientnet_lite0)")
    group.add_argument("--freeze-encoder-epochs", type=cli.non_negative_int,
                       default=defaults.freeze_encoder_epochs, metavar="N",
                       help="train only the decoder for the first N epochs (default 0)")
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
                        help="architecture hyperparameter, repeatable, e.g. --hparam depth=3")
    parser.add_argument("--init-from", metavar="PATH",
                        help="start from the weights of this .keras network (same "
                        "architecture and settings; for Pix2Pix, a trained generator such "
                        "as a U-Net); ignored when the run resumes")
    gan = parser.add_argument_group("pix2pix")
    gan.add_argument("--generator", default=defaults.generator,
                     help="generator architecture (default: unet)")
    gan.add_argument("--lambda", dest="lambda_", type=cli.positive_float,
                     default=defaults.lambda_,
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
    return TrainConfig(**values)


def check_config(config):
    """Refuse combinations that would only fail after minutes of set-up."""
    if config.loss == "classification" and config.color_space != "lab":
        raise cli.UsageError("--loss classification predicts a*b* bins: "
                             "use --color-space lab")
    if config.distribution == "multi-worker" and (config.time_limit or config.cpu_limit):
        raise cli.UsageError("--time-limit and --cpu-limit are per process, and workers "
                             "must stop at the same epoch: bound a multi-worker run by "
                             "--epochs")


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
        raise cli.UsageError(
            f"{config.out} holds a different run ({details}); "
            "use another --out or delete that folder"
        )
    before = (previous.get("select", "psnr"), previous.get("min_colorfulness", 0.0))
    if before != (config.select, config.min_colorfulness):
        print(f"Note: {config.out}/model.keras was chosen by --select {before[0]} "
              f"--min-colorfulness {before[1]:g}; from now on the epochs that log "
              f"--select {config.select} --min-colorfulness {config.min_colorfulness:g} "
              "choose it.", flush=True)
        return True
    return False


def write_json(path, payload):
    """Write atomically, so an interruption never leaves half a file.

    The temporary name is per process: a tuning chief and its workers may
    write the same file at once.
    """
    atomic.write_text(path, json.dumps(payload, indent=2, default=str))


def logged_values(history_path, column, minimums=None):
    """A column of an earlier session's ``history.csv`` (empty if none).

    With ``minimums`` (column -> value), only from the epochs that reach them.
    """
    from colorkeras.callbacks import reaches_minimums

    if not os.path.exists(history_path):
        return []
    with open(history_path) as f:
        return [float(row[column]) for row in csv.DictReader(f)
                if row.get(column) and reaches_minimums(row, minimums or {})]


def best_so_far(history_path, monitor, mode, minimums=None):
    """The best ``monitor`` value already logged, so a resumed run keeps it."""
    values = logged_values(history_path, monitor, minimums)
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)


def selection_minimums(min_colorfulness):
    """The figures an epoch must reach to be chosen (see ``--min-colorfulness``)."""
    return {"val_colorfulness_ratio": min_colorfulness} if min_colorfulness else {}


def make_callbacks(config, train_dataset, monitor=None, mode=None, keep_last=True,
                   keep_best=True):
    """The callbacks of a run; ``monitor``/``mode`` default to ``config.select``.

    ``keep_best=False`` forgets the best score of earlier sessions, for a run
    resumed under another selection.
    """
    import keras

    from colorkeras.callbacks import (
        EncoderSchedule,
        HistoryLogger,
        PreciseBatchNorm,
        SaveBestNetwork,
        TrainingClock,
    )

    if monitor is None:
        monitor, mode = SELECTIONS[config.select]
    minimums = selection_minimums(config.min_colorfulness)
    history_path = os.path.join(config.out, "history.csv")
    best_path = os.path.join(config.out, "model.keras")
    # Without the saved network, an earlier best would only keep a worse one from being saved.
    keep_best = keep_best and os.path.exists(best_path)
    elapsed = logged_values(history_path, "elapsed_seconds")
    cpu = logged_values(history_path, "cpu_seconds")
    return [
        # Up to 50 batches: a few per cent of a 200-step epoch, forward only.
        PreciseBatchNorm(train_dataset, batches=min(50, max(1, config.steps_per_epoch // 4))),
        TrainingClock(
            offset=elapsed[-1] if elapsed else 0.0,
            cpu_offset=cpu[-1] if cpu else 0.0,
            limit_seconds=config.time_limit * 60 if config.time_limit else None,
            cpu_limit_seconds=config.cpu_limit * 60 if config.cpu_limit else None,
        ),
        keras.callbacks.BackupAndRestore(os.path.join(config.out, "backup"),
                                         delete_checkpoint=False),
        SaveBestNetwork(
            best_path,
            monitor=monitor,
            mode=mode,
            initial_best=best_so_far(history_path, monitor, mode, minimums) if keep_best else None,
            minimums=minimums,
        ),
        HistoryLogger(history_path),
        keras.callbacks.TensorBoard(os.path.join(config.out, "logs")),
        EncoderSchedule(config.freeze_encoder_epochs, config.encoder_lr_scale),
    ] + ([
        # Halve the rate when the selection figure stops improving (its count of
        # epochs without improvement starts afresh in a resumed session).
        keras.callbacks.ReduceLROnPlateau(
            monitor, factor=0.5, patience=config.reduce_lr_patience, mode=mode,
            min_lr=config.learning_rate / 16, verbose=1)
    ] if config.reduce_lr_patience else []) + (
        # PSNR favours cautious, grayish colours; a GAN's latest generator may
        # be the better colorizer, so it is kept too (``last.keras``).
        [SaveBestNetwork(os.path.join(config.out, "last.keras"), monitor=None)]
        if keep_last else []
    )


@contextlib.contextmanager
def one_pass_validation():
    """Silence Keras's "input ran out of data" warning for the validation set.

    Validation is meant to be one pass over a dataset of unknown length
    (unreadable files are skipped on the way), and Keras warns each time such
    a dataset ends.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        yield


def build_trainer(config, class_weights=None):
    """The compiled training model for ``config`` (regression or Pix2Pix).

    ``class_weights`` are the per-bin weights of the classification loss
    (see `class_weights_for`); ``None`` weights every bin equally.
    """
    import keras

    from colorkeras.models import build_model

    loss = config.loss
    if loss == "classification":
        from colorkeras import ab_classes

        loss = ab_classes.ABClassificationLoss(class_weights)
    if config.model == "pix2pix":
        from colorkeras.pix2pix import build_pix2pix

        trainer = build_pix2pix(
            generator=config.generator,
            color_space=config.color_space,
            generator_hparams=config.hparams,
            discriminator_hparams=config.d_hparams,
            classification=config.loss == "classification",
        )
        trainer.compile(
            g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5),
            reconstruction=loss,
            gan_loss=config.gan_loss,
            lambda_=config.lambda_,
            encoder_optimizer=encoder_optimizer(config, trainer.generator, beta_1=0.5),
            steps_per_execution=config.steps_per_execution,
        )
        return trainer
    from colorkeras.trainer import ColorizationTrainer

    network = build_model(config.model, color_space=config.color_space, **config.hparams)
    if config.loss == "classification":
        from colorkeras import ab_classes

        network = ab_classes.with_classification_head(network)
    trainer = ColorizationTrainer(network)
    trainer.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=loss,
        encoder_optimizer=encoder_optimizer(config, network),
        steps_per_execution=config.steps_per_execution,
    )
    return trainer


def encoder_optimizer(config, network, **adam_args):
    """The ImageNet encoder's own Adam, if ``network`` has one (else ``None``).

    Its learning rate is set each epoch by `callbacks.EncoderSchedule`.
    """
    import keras

    from colorkeras.models import efficientnet_lite

    if not efficientnet_lite.encoders_of(network):
        return None
    return keras.optimizers.Adam(config.learning_rate * config.encoder_lr_scale, **adam_args)


def finished_steps(config):
    """Training steps the run's earlier sessions finished (0 for a new run)."""
    epochs = logged_values(os.path.join(config.out, "history.csv"), "epoch")
    return len(epochs) * config.steps_per_epoch


def make_pipelines(config, start_step=0):
    """The training and validation pipelines ``config`` asks for.

    ``start_step``: the steps already trained. The crop sequence is seeded
    from it, so a resumed run goes on to new crops instead of replaying the
    first session's.
    """
    from colorkeras.data import make_dataset

    kwargs = dict(
        data=config.data, color_space=config.color_space, image_size=config.image_size,
        crop_size=config.crop_size, batch_size=config.batch_size,
        seed=config.seed + start_step, select_fraction=config.select_fraction,
    )
    validation = "select" if config.select_fraction else "val"
    return make_dataset(split="train", **kwargs), make_dataset(split=validation, **kwargs)


PRIOR_BATCHES = 50


def class_weights_for(config, dataset, keep=True):
    """Rebalancing weights of the classification loss, kept in the run folder.

    Estimated once from ``PRIOR_BATCHES`` training batches and written to
    ``ab_prior.json``, so a resumed run uses the very same weights;
    ``keep=False`` always estimates (a tuner's trial has no folder yet).
    """
    from colorkeras import ab_classes

    path = os.path.join(config.out, "ab_prior.json")
    if keep and os.path.exists(path):
        with open(path) as f:
            prior = json.load(f)["prior"]
    else:
        print(f"Estimating the a*b* prior from {PRIOR_BATCHES} training batches...", flush=True)
        targets = (target for _, target in dataset.take(PRIOR_BATCHES))
        prior = ab_classes.estimate_prior(targets).tolist()
    return prior, ab_classes.rebalancing_weights(prior, mix=config.class_rebalance)


def initialize_from(trainer, path):
    """Copy a saved network's weights into the trainer's network (or generator)."""
    import keras

    from colorkeras.callbacks import shipped_network

    if not os.path.isfile(path):
        raise cli.UsageError(f"--init-from: no such file: {path}")
    source = keras.models.load_model(path, safe_mode=True)
    target = shipped_network(trainer)
    shapes = [tuple(w.shape) for w in source.weights]
    if shapes != [tuple(w.shape) for w in target.weights]:
        raise cli.UsageError(
            f"--init-from: {path} is not the same network ({len(shapes)} weights of other "
            f"shapes than the {len(target.weights)} of this run's {target.name})")
    target.set_weights(source.get_weights())


def time_budget_spent(config):
    """Which time limit a resumed run has already reached, if any.

    Checked before ``fit``: Keras runs a batch and logs an epoch before a
    callback's stop request at the start of training takes effect.
    """
    history_path = os.path.join(config.out, "history.csv")
    for column, limit, what in (("elapsed_seconds", config.time_limit, "wall minutes"),
                                ("cpu_seconds", config.cpu_limit, "CPU minutes")):
        logged = logged_values(history_path, column)
        if limit and logged and logged[-1] >= limit * 60:
            return f"{logged[-1] / 60:.1f} of {limit:g} {what}"
    return None


def mixed_precision_policy():
    """float16 where a GPU computes it fast (its tensor cores), bfloat16 on CPUs.

    bfloat16 has float32's range and needs no loss scaling; float16 on a CPU
    is emulated and slow. Keras wraps the optimizer in a LossScaleOptimizer
    under mixed_float16; Pix2Pix wraps its discriminator's.
    """
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def train(config):
    """Run (or resume) one training run; return the final history dict.

    Under ``config.distribution`` the model is built in the strategy's scope
    and only the chief writes ``config.out`` (`distribution.run_folder`).
    """
    import keras

    from colorkeras import distribution

    check_config(config)
    # A multi-worker strategy must exist before TensorFlow runs anything else.
    strategy = distribution.make_strategy(config.distribution)
    chief = distribution.is_chief() if strategy is not None else True
    reselect = check_resumable(config)
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        policy = mixed_precision_policy()
        keras.mixed_precision.set_global_policy(policy)
        print(f"Mixed precision: {policy} (float32 weights"
              + (", loss scaling)" if policy == "mixed_float16" else ")"), flush=True)
    try:
        with distribution.run_folder(config.out, chief) as folder:
            return _train_in(dataclasses.replace(config, out=folder), strategy, reselect)
    finally:
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("float32")


def _train_in(config, strategy, reselect):
    """`train`'s body, writing to ``config.out`` (the run folder, or a worker's copy)."""
    from colorkeras import distribution

    train_data, val_data = make_pipelines(config, finished_steps(config))
    prior = class_weights = None
    if config.loss == "classification":
        prior, class_weights = class_weights_for(config, train_data.dataset)
    with distribution.scope(strategy):
        trainer = build_trainer(config, class_weights)
        trainer.build_state(train_data.dataset.element_spec[0])
        if config.init_from and not os.path.isdir(os.path.join(config.out, "backup")):
            initialize_from(trainer, config.init_from)
    spent = time_budget_spent(config)
    if spent:  # before anything is written: the run's record stays as it was
        print(f"Nothing to train: {config.out} has had its {spent}.", flush=True)
        return {}
    # Only now that every setting proved valid is anything written.
    os.makedirs(config.out, exist_ok=True)
    if prior is not None:
        write_json(os.path.join(config.out, "ab_prior.json"), {"prior": prior})
    record = dataclasses.asdict(config)
    record.update(
        train_images=train_data.num_images,
        val_images=val_data.num_images,
        parameters=trainer.network.count_params(),
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    write_json(os.path.join(config.out, "config.json"), record)
    print(
        f"Training {config.model} ({config.color_space}, {config.loss}) on "
        f"{train_data.num_images} photos, validating on {val_data.num_images}; "
        f"output in {config.out}",
        flush=True,
    )
    started = time.time()
    with one_pass_validation():
        history = trainer.fit(
            train_data.dataset,
            epochs=config.epochs,
            steps_per_epoch=config.steps_per_epoch,
            validation_data=val_data.dataset,
            shuffle=False,  # the pipeline shuffles; Keras cannot shuffle a dataset
            callbacks=make_callbacks(config, train_data.dataset, keep_best=not reselect),
            verbose=config.verbose,
        )
    record.update(
        finished=time.strftime("%Y-%m-%d %H:%M:%S"),
        wall_seconds_last_session=round(time.time() - started, 1),
    )
    write_json(os.path.join(config.out, "config.json"), record)
    return history.history


def main(argv=None):
    cli.quiet_tensorflow()
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    train(config)
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
    cli.run(main, sys.argv[1:])
