"""Grid search over the registry with keras-tuner.

One `keras_tuner.GridSearch` per architecture walks every combination of a
`colorkeras.grids.Grid`. Its `ColorizationHyperModel` turns a combination
into a `TrainConfig`: ``build`` compiles the colorizer with
`training.build_colorizer`, ``fit`` trains it with the callbacks `training.train`
uses, so a trial is an ordinary training run and its folder
(``<out>/trials/<model>/trial_<id>/``) looks like one (``model.keras``,
``history.csv``, ``config.json``, ``logs/``).

Everything lasting goes through keras-tuner's oracle (trial JSON files in
that folder): the objective, the best epoch and the wall time of each trial.
That is what makes a search resumable (a killed run started again with the
same ``--out`` keeps its finished trials) and distributable (in keras-tuner's
chief / worker mode the oracle lives in the chief, and workers send it their
results over gRPC). Summaries are written from those files, by the process
that owns them.
"""

import csv
import dataclasses
import functools
import json
import logging
import math
import os
import shutil
import time

import keras
import keras_tuner

from colorkeras import grids, training
from colorkeras.errors import InputError
from colorkeras.training_config import resolve_defaults

TRIALS_DIR = "trials"
SEARCH_FILE = "search.json"
# What a search's trials depend on besides its grids: a folder that holds a
# search with other values would mix incomparable trials.
SEARCH_SETTINGS = ("data", "image_size", "crop_size", "steps_per_epoch", "seed")


class _NoRetracingNotice(logging.Filter):
    """Every trial builds a new model, so TensorFlow tracing again is expected."""

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


_NO_RETRACING_NOTICE = _NoRetracingNotice()


def quiet_retracing_notice():
    logging.getLogger("tensorflow").addFilter(_NO_RETRACING_NOTICE)  # once: a set


def parse_objective(text):
    """``"val_psnr"`` or ``"val_mae:min"`` -> `keras_tuner.Objective`.

    Without a direction, PSNR and SSIM are maximised and anything else (a
    loss, an error) is minimised.
    """
    name, _, direction = str(text).partition(":")
    if not direction:
        direction = "max" if any(s in name for s in ("psnr", "ssim")) else "min"
    if not name or direction not in ("min", "max"):
        raise InputError(
            f"--objective takes METRIC or METRIC:min|max. Received: objective={text!r}"
        )
    return keras_tuner.Objective(name, direction)


def trial_config(base, grid, values):
    """The `TrainConfig` of one trial: ``base`` with ``values`` of ``grid``'s keys."""
    fields, hparams, d_hparams = {}, {}, {}
    pix2pix = grid.model == "pix2pix"
    for key, value in values.items():
        value = type(grid.values[key][0])(value)  # keras-tuner stores bools as ints
        if key in grids.TRAINING_KEYS:
            fields[grids.TRAINING_KEYS[key]] = value
        elif pix2pix and key in grids.PIX2PIX_KEYS:
            fields[grids.PIX2PIX_KEYS[key]] = value
        elif pix2pix and key.startswith(grids.DISCRIMINATOR_PREFIX):
            d_hparams[key[len(grids.DISCRIMINATOR_PREFIX):]] = value
        else:
            hparams[key] = value
    return dataclasses.replace(
        base, model=grid.model, hparams=hparams, d_hparams=d_hparams, **fields
    )


class Pipelines:
    """The datasets of a search, made once per (colour space, batch size).

    Trials differ in both, while the photos stay the same; the in-memory
    cache of each pipeline then spares every later trial the decoding.
    """

    def __init__(self, base):
        self.base = base
        self._made = {}

    def get(self, color_space, batch_size):
        key = (color_space, batch_size)
        if key not in self._made:
            config = dataclasses.replace(self.base, color_space=color_space,
                                         batch_size=batch_size)
            self._made[key] = training.make_pipelines(config)
        return self._made[key]


class RequireMetric(keras.callbacks.Callback):
    """Stop the whole search if the objective is not a logged metric.

    Left alone, keras-tuner would count every trial as failed instead.
    """

    def __init__(self, name):
        super().__init__()
        self.name = name

    def on_epoch_end(self, epoch, logs=None):
        if self.name not in (logs or {}):
            raise keras_tuner.errors.FatalValueError(
                f"--objective {self.name!r} is not logged by this model; "
                f"it logs {sorted(logs or {})}"
            )


def trial_results(history_path, objective, wall_seconds):
    """What the oracle keeps of a trial, read from its ``history.csv``.

    The CSV holds every epoch of every session of the trial, so a trial
    resumed from its backup is scored on all its epochs.
    """
    with open(history_path) as f:
        rows = list(csv.DictReader(f))
    scores = [float(row.get(objective.name) or "nan") for row in rows]
    valid = [i for i, score in enumerate(scores) if not math.isnan(score)]
    if not valid:
        return {objective.name: float("nan"), "wall_seconds": wall_seconds}
    pick = max if objective.direction == "max" else min
    best = pick(valid, key=lambda i: scores[i])
    results = {}
    for name, value in rows[best].items():
        try:
            results[name] = float(value)
        except (TypeError, ValueError):
            continue
    results.pop("epoch", None)
    results.update(best_epoch=best + 1, wall_seconds=round(wall_seconds, 1))
    return results


class ColorizationHyperModel(keras_tuner.HyperModel):
    """The trials of one grid: every key is a `hp.Choice` over its values.

    Args:
        grid: a checked `grids.Grid`.
        base: `TrainConfig` with the settings every trial shares
            (data, sizes, steps per epoch, seed).
        objective: `keras_tuner.Objective` the best epoch is chosen by.
        pipelines: `Pipelines` shared by the hypermodels of a search.
    """

    def __init__(self, grid, base, objective, pipelines=None):
        super().__init__(name=grid.model)
        self.grid = grid
        self.base = base
        self.objective = objective
        self.pipelines = pipelines or Pipelines(base)
        self._started = None

    def declare_hyperparameters(self, hp):
        for key, values in self.grid.values.items():
            hp.Choice(key, values)

    def config(self, hp, out=None):
        values = {key: hp.Choice(key, vals) for key, vals in self.grid.values.items()}
        # Decided as `train` decides them, but in float32: trials run under the
        # search's policy, whatever the hardware.
        config = resolve_defaults(dataclasses.replace(
            trial_config(self.base, self.grid, values), mixed_precision=False))
        return dataclasses.replace(config, out=out) if out else config

    def build(self, hp):
        self._started = time.monotonic()
        keras.utils.set_random_seed(self.base.seed)
        config = self.config(hp)
        class_weights = None
        if config.loss == "classification":  # rebalanced as `train` does
            train_data, _ = self.pipelines.get(config.color_space, config.batch_size)
            _, class_weights = training.class_weights_for(config, train_data.dataset, keep=False)
        return training.build_colorizer(config, class_weights)

    def fit(self, hp, model, *args, run_dir, callbacks=(), verbose="auto", **kwargs):
        """Train like `training.train` in ``run_dir``; return the best epoch's metrics."""
        config = self.config(hp, out=run_dir)
        train_data, val_data = self.pipelines.get(config.color_space, config.batch_size)
        with model.distribute_strategy.scope():
            model.build_state(train_data.dataset.element_spec[0])
        history_path = os.path.join(run_dir, "history.csv")
        backup = os.path.join(run_dir, "backup")
        if not os.path.isdir(backup) and os.path.exists(history_path):
            os.remove(history_path)  # a run that left no backup starts over
        earlier = training.logged_values(history_path, "elapsed_seconds")
        training.write_json(os.path.join(run_dir, "config.json"), dataclasses.asdict(config))
        with training.one_pass_validation():
            model.fit(
                train_data.dataset,
                epochs=config.epochs,
                steps_per_epoch=config.steps_per_epoch,
                validation_data=val_data.dataset,
                shuffle=False,
                callbacks=[
                    *training.make_callbacks(config, train_data.dataset, self.objective.name,
                                          self.objective.direction, keep_last=False),
                    RequireMetric(self.objective.name),
                    *callbacks,
                ],
                verbose=verbose,
            )
        shutil.rmtree(backup, ignore_errors=True)  # finished: the oracle has it now
        wall = (earlier[-1] if earlier else 0.0) + time.monotonic() - self._started
        return trial_results(history_path, self.objective, wall)


def restore_grid_order(oracle):
    """Rebuild the state `GridSearchOracle` keeps only in memory.

    keras-tuner 1.4.8 saves the trials but not the order in which the grid
    oracle walks them (keras-team/keras-tuner#1055): a reloaded search stops
    at once or fails with a KeyError. Sorting the known trials in grid order
    and queueing each to propose its successor gives back exactly the
    combinations not yet tried.
    """

    def compare(a, b):
        return oracle._compare(
            oracle.trials[a].hyperparameters.values, oracle.trials[b].hyperparameters.values
        )

    ordered = sorted(oracle.start_order, key=functools.cmp_to_key(compare))
    oracle._ordered_ids = type(oracle._ordered_ids)()
    for trial_id in ordered:
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = list(ordered)


class GridSearch(keras_tuner.GridSearch):
    """`keras_tuner.GridSearch` that resumes, and gives each trial its folder."""

    def reload(self):
        super().reload()
        if not self._is_worker() and self.oracle.start_order:
            restore_grid_order(self.oracle)

    def _populate_initial_space(self):
        # The grid has no conditional keys: declaring them is enough, and
        # spares building a full model only to discover the space.
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def run_trial(self, trial, *args, **kwargs):
        return super().run_trial(
            trial, *args, run_dir=self.get_trial_dir(trial.trial_id), **kwargs
        )

    def on_trial_end(self, trial):
        if trial.status in ("INVALID", "FAILED") and trial.message:
            reason = trial.message.strip().splitlines()[-1]  # the exception line
            print(f"Trial {trial.trial_id} of {self.project_name} failed: {reason}", flush=True)
        super().on_trial_end(trial)


def make_tuner(grid, base, objective, out, max_trials=None, strategy=None, pipelines=None):
    """The `GridSearch` of ``grid``, kept in ``<out>/trials/<model>/``.

    Args:
        grid: a checked `grids.Grid`.
        base: `TrainConfig` of the settings all trials share.
        objective: `keras_tuner.Objective`.
        out: the search folder.
        max_trials: at most this many trials (default: the whole grid).
        strategy: optional `tf.distribute.Strategy` each trial runs under.
        pipelines: `Pipelines` to share between architectures.
    """
    trials = min(grid.size, max_trials or grid.size)
    return GridSearch(
        hypermodel=ColorizationHyperModel(grid, base, objective, pipelines),
        objective=objective,
        max_trials=trials,  # keras-tuner stops instead of waiting at the grid's end
        directory=os.path.join(out, TRIALS_DIR),
        project_name=grid.model,
        overwrite=False,
        distribution_strategy=strategy,
    )


def search_record(grid_list, base, objective):
    """What identifies a search: written to ``<out>/search.json``."""
    return {
        "settings": {name: getattr(base, name) for name in SEARCH_SETTINGS},
        "objective": {"name": objective.name, "direction": objective.direction},
        "grids": {g.model: {"source": g.source, "values": g.values} for g in grid_list},
    }


def check_search(out, record):
    """Refuse to resume a search in ``out`` that was run with other settings.

    keras-tuner would reload the old search space and silently ignore new
    grid values. New architectures may join a folder; changed ones may not.
    """
    path = os.path.join(out, SEARCH_FILE)
    if not os.path.exists(path):
        return record
    with open(path) as f:
        previous = json.load(f)
    record = json.loads(json.dumps(record))  # compare as JSON
    changed = [k for k in ("settings", "objective") if previous.get(k) != record[k]]
    earlier = previous.get("grids", {})
    changed += [
        f"{model} grid"
        for model, grid in record["grids"].items()
        if model in earlier and earlier[model]["values"] != grid["values"]
    ]
    if changed:
        raise InputError(
            f"{out} holds another search (changed: {', '.join(changed)}); "
            "use another --out or delete that folder"
        )
    return {**record, "grids": {**earlier, **record["grids"]}}


def write_search(out, record):
    os.makedirs(out, exist_ok=True)
    training.write_json(os.path.join(out, SEARCH_FILE), record)


def load_search(out):
    """``search.json`` of ``out``; FileNotFoundError if no search ran there."""
    path = os.path.join(out, SEARCH_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No search in {out}: {path} is missing")
    with open(path) as f:
        return json.load(f)
