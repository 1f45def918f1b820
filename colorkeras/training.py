"""Training set-up and the training loop behind ``python -m colorkeras.train``.

The tuner and the benchmarks build runs from the same pieces: the colorizer
for a `TrainConfig` (`build_colorizer`), its pipelines, its callbacks, and
the resumable `train` itself.
"""

import contextlib
import csv
import dataclasses
import json
import math
import os
import time
import warnings

from colorkeras import atomic, terminal
from colorkeras.errors import InputError
from colorkeras.training_config import (SELECTIONS, check_config, check_out_folder,
                                        check_resumable, resolve_defaults)

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
        SaveBestColorizer,
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
    validation_cpu = logged_values(history_path, "validation_cpu_seconds")
    return [
        # Up to 50 batches: a few per cent of a 200-step epoch, forward only.
        PreciseBatchNorm(train_dataset, batches=min(50, max(1, config.steps_per_epoch // 4))),
        TrainingClock(
            offset=elapsed[-1] if elapsed else 0.0,
            cpu_offset=cpu[-1] if cpu else 0.0,
            limit_seconds=config.time_limit * 60 if config.time_limit else None,
            cpu_limit_seconds=config.cpu_limit * 60 if config.cpu_limit else None,
            validation_cpu_offset=validation_cpu[-1] if validation_cpu else 0.0,
        ),
        keras.callbacks.BackupAndRestore(os.path.join(config.out, "backup"),
                                         delete_checkpoint=False),
        SaveBestColorizer(
            best_path,
            monitor=monitor,
            mode=mode,
            initial_best=best_so_far(history_path, monitor, mode, minimums) if keep_best else None,
            minimums=minimums,
        ),
        HistoryLogger(history_path),
        keras.callbacks.TensorBoard(os.path.join(config.out, "logs")),
    ] + ([] if config.freeze_base else [  # a frozen base keeps its encoder frozen too
        EncoderSchedule(config.freeze_encoder_epochs, config.encoder_lr_scale),
    ]) + ([
        # Halve the rate when the selection figure stops improving (its count of
        # epochs without improvement starts afresh in a resumed session).
        keras.callbacks.ReduceLROnPlateau(
            monitor, factor=0.5, patience=config.reduce_lr_patience, mode=mode,
            min_lr=config.learning_rate / 16, verbose=1)
    ] if config.reduce_lr_patience else []) + (
        # PSNR favours cautious, grayish colours; a GAN's latest generator may
        # be the better colorizer, so it is kept too (``last.keras``).
        [SaveBestColorizer(os.path.join(config.out, "last.keras"), monitor=None)]
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


def build_colorizer(config, class_weights=None):
    """The compiled model ``fit`` trains for ``config``.

    A `Colorizer` of ``config.model``'s network, trained with its pixel loss;
    for ``model="pix2pix"`` the config chooses the adversarial trainer, a
    `Pix2Pix` holding a `Colorizer` of ``config.generator``'s network (named
    "pix2pix") and a PatchGAN. ``class_weights`` are the per-bin weights of
    the classification loss (see `class_weights_for`); ``None`` weights every
    bin equally. An ImageNet encoder learns at ``config.encoder_lr_scale``
    times the rate (`optimizers.EncoderAwareAdam`, frozen first by
    `callbacks.EncoderSchedule`).
    """
    import keras

    from colorkeras.colorizer import Colorizer
    from colorkeras.models import build_model
    from colorkeras.optimizers import EncoderAwareAdam

    loss, hparams = config.loss, dict(config.hparams)
    if loss == "classification":
        from colorkeras import ab_classes

        loss = ab_classes.ABClassificationLoss(class_weights)
        hparams["head"] = "classification"
    adversarial = config.model == "pix2pix"
    network = build_model(config.generator if adversarial else config.model,
                          color_space=config.color_space, **hparams)
    if config.freeze_base:
        from colorkeras.models.hint_branch import freeze_all_but_hints

        freeze_all_but_hints(network)
    if adversarial:
        from colorkeras.models import build_patchgan
        from colorkeras.pix2pix import Pix2Pix

        gan = Pix2Pix(Colorizer(network, config.rgb_metrics_in_training, name=config.model),
                      build_patchgan(color_space=config.color_space, **config.d_hparams))
        gan.compile(
            g_optimizer=EncoderAwareAdam(config.encoder_lr_scale,
                                         learning_rate=config.learning_rate, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5),
            reconstruction=loss,
            gan_loss=config.gan_loss,
            lambda_=config.lambda_,
            encoder_scale=config.encoder_lr_scale,
            steps_per_execution=config.steps_per_execution,
        )
        return gan
    colorizer = Colorizer(network, config.rgb_metrics_in_training)
    colorizer.compile(
        optimizer=EncoderAwareAdam(config.encoder_lr_scale, learning_rate=config.learning_rate),
        loss=loss,
        encoder_scale=config.encoder_lr_scale,
        steps_per_execution=config.steps_per_execution,
    )
    return colorizer


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
    train_data = make_dataset(split="train", **kwargs)
    val_data = make_dataset(split=validation, **kwargs)
    if config.hparams.get("hints"):  # hints drawn from the truth, beside each gray crop
        from colorkeras.hint_sampling import add_hints

        train_data = dataclasses.replace(
            train_data, dataset=add_hints(train_data.dataset, seed=config.seed + start_step))
        val_data = dataclasses.replace(val_data, dataset=add_hints(val_data.dataset, seed=0))
    return train_data, val_data


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


def write_preset_metadata(config, colorizer, photos):
    """Make the run folder a preset (`colorkeras.presets`): what ``model.keras`` is.

    Written as the run starts, beside ``config.json``, so the folder says
    what it holds from its first saved epoch; its licence is the training
    data's, which the run cannot know.
    """
    from colorkeras import presets

    presets.write_metadata(config.out, presets.describe(
        colorizer, os.path.basename(os.path.normpath(config.out)),
        f"{config.model} ({config.loss} on {config.color_space}), trained by colorkeras train",
        f"{photos} photos of {config.data!r} (its train split)"))


def initialize_from(model, path):
    """Copy the weights of a saved colorizer (or bare network) into ``model``'s network.

    A network with a hint branch may start from the same network without
    one: every other layer is copied by name, and the branch keeps its
    initial weights (a zero answer).
    """
    import keras

    from colorkeras.colorizer import colorizer_in_training
    from colorkeras.models.hint_branch import is_hint_layer

    if not os.path.isfile(path):
        raise InputError(f"`init_from`: no such file: {path}")
    loaded = keras.models.load_model(path, compile=False, safe_mode=True)
    source, target = getattr(loaded, "network", loaded), colorizer_in_training(model).network
    if getattr(target, "has_hints", False) and not getattr(source, "has_hints", False):
        source_layers = {layer.name: layer for layer in source.layers}
        base = [layer for layer in target.layers if not is_hint_layer(layer) and layer.weights]
        missing = [layer.name for layer in base if layer.name not in source_layers]
        if missing:
            raise InputError(f"`init_from`: {path} lacks the layers {missing[:5]} of this "
                             f"run's {target.name}")
        for layer in base:
            layer.set_weights(source_layers[layer.name].get_weights())
        return
    shapes = [tuple(w.shape) for w in source.weights]
    if shapes != [tuple(w.shape) for w in target.weights]:
        raise InputError(
            f"`init_from`: {path} is not the same network ({len(shapes)} weights of other "
            f"shapes than the {len(target.weights)} of this run's {target.name}"
            f"{differing_hparams(source, target)})")
    target.set_weights(source.get_weights())


# Settings that leave every weight's shape as it is, so they never explain a mismatch.
SHAPELESS_HPARAMS = ("temperature", "encoder_weights")


def differing_hparams(source, target):
    """``; its output_stride is 2, this run's 4`` for each shaping setting they differ in."""
    ours, theirs = getattr(target, "hparams", {}), getattr(source, "hparams", {})
    names = [name for name in sorted(set(ours) & set(theirs))
             if name not in SHAPELESS_HPARAMS and ours[name] != theirs[name]]
    return "".join(f"; its {name} is {theirs[name]!r}, this run's {ours[name]!r}"
                   for name in names)


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


def train(config, overwrite=False):
    """Run (or resume) one training run; return the final history dict.

    Under ``config.distribution`` the model is built in the strategy's scope
    and only the chief writes ``config.out`` (`distribution.run_folder`).
    A non-empty ``config.out`` that holds no run is refused unless
    ``overwrite`` (`check_out_folder`).
    """
    import keras

    from colorkeras import distribution

    config = resolve_defaults(config)
    check_config(config)
    # A multi-worker strategy must exist before TensorFlow runs anything else.
    strategy = distribution.make_strategy(config.distribution)
    chief = distribution.is_chief() if strategy is not None else True
    if chief:
        check_out_folder(config.out, overwrite)
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
    from colorkeras.colorizer import colorizer_in_training

    done = len(logged_values(os.path.join(config.out, "history.csv"), "epoch"))
    if done >= config.epochs:  # before anything is built or written
        print(f"Nothing to train: {config.out} is already at {done}/{config.epochs} epochs; "
              "raise --epochs to go on.", flush=True)
        return {}
    train_data, val_data = make_pipelines(config, finished_steps(config))
    prior = class_weights = None
    if config.loss == "classification":
        prior, class_weights = class_weights_for(config, train_data.dataset)
    with distribution.scope(strategy):
        colorizer = build_colorizer(config, class_weights)
        colorizer.build_state(train_data.dataset.element_spec[0])
        if config.init_from and not os.path.isdir(os.path.join(config.out, "backup")):
            initialize_from(colorizer, config.init_from)
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
        parameters=colorizer_in_training(colorizer).network.count_params(),
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    write_json(os.path.join(config.out, "config.json"), record)
    write_preset_metadata(config, colorizer_in_training(colorizer), train_data.num_images)
    print(
        f"Training {config.model} ({config.color_space}, {config.loss}) on "
        f"{train_data.num_images} photos, validating on {val_data.num_images}; "
        f"output in {config.out}",
        flush=True,
    )
    started = time.time()
    with one_pass_validation():
        history = colorizer.fit(
            train_data.dataset,
            epochs=config.epochs,
            steps_per_epoch=config.steps_per_epoch,
            validation_data=val_data.dataset,
            shuffle=False,  # the pipeline shuffles; Keras cannot shuffle a dataset
            callbacks=make_callbacks(config, train_data.dataset, keep_best=not reselect),
            verbose=terminal.progress_verbosity(config.verbose == 2),
        )
    record.update(
        finished=time.strftime("%Y-%m-%d %H:%M:%S"),
        wall_seconds_last_session=round(time.time() - started, 1),
    )
    write_json(os.path.join(config.out, "config.json"), record)
    return history.history


