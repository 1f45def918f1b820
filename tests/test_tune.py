"""`python -m colorkeras.tune`: grids, summaries, resume and distributed search."""

import json
import os
import shlex
import subprocess
import sys

import pytest
from conftest import TINY_TRAIN, free_port, read_csv

from colorkeras import grids, train, training_config, tune, tuning
from colorkeras.models import list_models

TINY = [*TINY_TRAIN, "--epochs", "1"]
# Three trials of a 2-level U-Net with 4 filters: seconds each.
TINY_GRID = """\
depth = [1]
base_filters = [4]
loss = ["mae", "mse", "huber"]
"""


def _grid_file(tmp_path, text, name="grid.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _trials(out, model="unet"):
    """{trial_id: trial JSON} as keras-tuner's oracle saved them."""
    folder = out / "trials" / model
    return {
        p.name[len("trial_"):]: json.loads((p / "trial.json").read_text())
        for p in folder.glob("trial_*") if (p / "trial.json").exists()
    }


@pytest.mark.parametrize("model", list_models())
def test_shipped_grids_load(model):
    quick = grids.load_grid(model, "quick")
    full = grids.load_grid(model, "full")
    assert 1 < quick.size < full.size
    # The study's axes are searched in every full grid.
    assert {"loss", "learning_rate", "color_space", "activation"} <= set(full.values)
    assert set(full.values["loss"]) == {"mae", "mse", "huber"}
    assert set(full.values["color_space"]) == {"rgb", "lab", "yuv"}
    if model == "pix2pix":
        assert {"lambda", "d_num_layers"} <= set(full.values)


@pytest.mark.parametrize(
    "text, key, message",
    [
        ("depht = [2, 3]\n", "depht", "unknown key"),
        ("depth = []\n", "depth", "empty list"),
        ('depth = ["two"]\n', "depth", "takes integer"),
        ("learning_rate = [true]\n", "learning_rate", "takes number"),
        ('loss = ["l1"]\n', "loss", "takes one of"),
        ("depth = 3\n", "depth", "list of values"),
    ],
)
def test_bad_grid_is_rejected_before_training(tmp_path, text, key, message):
    path = _grid_file(tmp_path, "[quick]\nbase_filters = [4]\n" + text)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message) as error:
        tune.main(["--grid", str(path), "--out", str(out), *TINY])
    assert str(path) in str(error.value) and repr(key) in str(error.value)
    assert "[quick]" in str(error.value)
    assert not out.exists()  # nothing trained, nothing written


def test_pix2pix_grid_keys_are_checked_against_generator_and_patchgan(tmp_path):
    good = {"depth": [2], "d_num_layers": [2, 3], "lambda": [10, 100], "gan_loss": ["lsgan"]}
    checked = grids.check_grid("pix2pix", good, "test")
    assert checked["lambda"] == [10.0, 100.0]  # integers are accepted as numbers
    with pytest.raises(ValueError, match="'d_num_layers'"):
        grids.check_grid("pix2pix", {"d_num_layers": [2.5]}, "test")
    with pytest.raises(ValueError, match="'lambda'"):
        grids.check_grid("unet", {"lambda": [10.0]}, "test")  # pix2pix only


def test_trial_config_maps_grid_keys_onto_train_config():
    grid = grids.Grid("pix2pix", grids.check_grid("pix2pix", {
        "depth": [2], "d_num_layers": [2], "lambda": [10.0], "loss": ["huber"],
        "color_space": ["lab"], "d_conditional": [False],
    }, "test"), "test")
    # keras-tuner hands booleans back as integers.
    values = {k: v[0] if not isinstance(v[0], bool) else int(v[0]) for k, v in grid.values.items()}
    config = tuning.trial_config(training_config.TrainConfig(), grid, values)
    assert config.model == "pix2pix" and config.hparams == {"depth": 2}
    assert config.d_hparams == {"num_layers": 2, "conditional": False}
    assert config.lambda_ == 10.0 and config.loss == "huber" and config.color_space == "lab"


def test_objective_direction():
    assert tuning.parse_objective("val_psnr").direction == "max"
    assert tuning.parse_objective("val_mae").direction == "min"
    assert tuning.parse_objective("val_mae:max").direction == "max"
    with pytest.raises(ValueError, match="objective"):
        tuning.parse_objective("val_mae:up")


def test_help_and_bad_model(capsys):
    with pytest.raises(SystemExit) as exit_:
        tune.main(["--help"])
    assert exit_.value.code == 0
    assert "--max-trials" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--model"):
        tune.main(["--model", "vgg"])


class Killed(BaseException):
    """A stand-in for SIGKILL: keras-tuner only catches `Exception`."""


@pytest.mark.slow
def test_killed_search_resumes_without_rerunning_finished_trials(tmp_path, monkeypatch):
    grid = _grid_file(tmp_path, TINY_GRID)
    out = tmp_path / "search"
    args = ["--grid", str(grid), "--out", str(out), *TINY]
    fit = tuning.ColorizationHyperModel.fit
    calls = []

    def dies_on_second_trial(self, hp, *a, **k):
        calls.append(hp.values["loss"])
        if len(calls) == 2:
            raise Killed()
        return fit(self, hp, *a, **k)

    monkeypatch.setattr(tuning.ColorizationHyperModel, "fit", dies_on_second_trial)
    with pytest.raises(Killed):
        tune.main(args)
    trials = _trials(out)
    assert trials["0"]["status"] == "COMPLETED" and trials["1"]["status"] == "RUNNING"
    first_history = (out / "trials" / "unet" / "trial_0" / "history.csv").read_text()

    calls.clear()
    monkeypatch.setattr(tuning.ColorizationHyperModel, "fit",
                        lambda self, hp, *a, **k: calls.append(hp.values["loss"]) or
                        fit(self, hp, *a, **k))
    tune.main(args)
    assert sorted(calls) == ["huber", "mse"]  # only the two unfinished trials ran
    assert (out / "trials" / "unet" / "trial_0" / "history.csv").read_text() == first_history
    rows = read_csv(out / "trials.csv")
    assert sorted(r["loss"] for r in rows) == ["huber", "mae", "mse"]
    assert all(r["status"] == "COMPLETED" and float(r["val_delta_e2000"]) > 0 for r in rows)
    assert all(float(r["wall_seconds"]) > 0 and r["epochs"] == "1" for r in rows)
    assert (out / "plot.png").stat().st_size > 1000

    # The summary's command line is one `python -m colorkeras.train` accepts,
    # and it trains the best trial's settings.
    summary = (out / "summary.md").read_text()
    best = min(rows, key=lambda r: float(r["val_delta_e2000"]))  # the default objective
    assert summary.index(f"| 1 | unet | {best['trial']} |") > 0
    command = next(line for line in summary.splitlines() if "colorkeras.train" in line)
    config = train.config_from_args(train.build_parser().parse_args(shlex.split(command)[3:]))
    assert config.loss == best["loss"] and config.hparams == {"depth": 1, "base_filters": 4}
    assert config.select == "delta_e2000"  # the trial's epoch was chosen by its objective
    assert (config.crop_size, config.batch_size, config.epochs) == (16, 4, 1)

    # The finished search trains nothing more; a changed grid is refused.
    calls.clear()
    tune.main(args)
    assert calls == []
    grid.write_text(TINY_GRID.replace(', "huber"', ""))
    with pytest.raises(ValueError, match=r"another search \(changed: unet grid\)"):
        tune.main(args)


def test_objective_that_is_not_logged_stops_the_search(tmp_path):
    grid = _grid_file(tmp_path, TINY_GRID)
    with pytest.raises(ValueError, match="'val_ssim' is not logged"):
        tune.main(["--grid", str(grid), "--out", str(tmp_path / "s"), "--objective", "val_ssim",
                   *TINY])


def test_multi_worker_search_needs_a_keras_tuner_cluster(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASTUNER_ORACLE_IP", raising=False)
    grid = _grid_file(tmp_path, TINY_GRID)
    with pytest.raises(ValueError, match="KERASTUNER_TUNER_ID"):
        tune.main(["--grid", str(grid), "--out", str(tmp_path / "s"),
                   "--distribution", "multi-worker", *TINY])
    assert not (tmp_path / "s").exists()


def test_mirrored_distribution_runs_a_trial(tmp_path):
    grid = _grid_file(tmp_path, TINY_GRID)
    out = tmp_path / "search"
    tune.main(["--grid", str(grid), "--out", str(out), "--distribution", "mirrored",
               "--max-trials", "1", *TINY])
    rows = read_csv(out / "trials.csv")
    assert len(rows) == 1 and rows[0]["status"] == "COMPLETED"


def test_restore_grid_order_continues_after_a_gap():
    import keras_tuner

    oracle = keras_tuner.oracles.GridSearchOracle(objective=keras_tuner.Objective("score", "max"))
    hp = keras_tuner.HyperParameters()
    hp.Choice("a", [1, 2])
    hp.Choice("b", ["x", "y"])
    oracle.update_space(hp)
    # Three of the four combinations were tried, in this order, then reload.
    for trial_id, values in (("0", {"a": 1, "b": "x"}), ("1", {"a": 2, "b": "y"}),
                             ("2", {"a": 1, "b": "y"})):
        trial = keras_tuner.engine.trial.Trial(oracle.get_space(), trial_id=trial_id)
        trial.hyperparameters.values = values
        oracle.trials[trial_id] = trial
        oracle.start_order.append(trial_id)
    tuning.restore_grid_order(oracle)
    assert oracle.populate_space("3")["values"] == {"a": 2, "b": "x"}


@pytest.mark.slow
def test_chief_and_two_workers_run_each_trial_once(tmp_path):
    """A multi-worker search: keras-tuner's chief and workers, each on a MirroredStrategy host."""
    grid = _grid_file(tmp_path, "depth = [1]\nbase_filters = [4]\nloss = [\"mae\", \"mse\"]\n")
    out = tmp_path / "search"
    command = [sys.executable, "-m", "colorkeras.tune", "--grid", str(grid),
               "--out", str(out), "--distribution", "multi-worker", *TINY]
    port = str(free_port())
    root = os.path.dirname(os.path.dirname(os.path.abspath(tuning.__file__)))

    def start(tuner_id):
        env = dict(os.environ, KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=port, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    processes = [start("chief"), start("tuner0"), start("tuner1")]
    try:
        outputs = [p.communicate(timeout=900)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output[-3000:]
    assert all("Worker done" in output for output in outputs[1:])
    assert all("MirroredStrategy over 1 replica(s)" in output for output in outputs[1:])
    assert "MirroredStrategy" not in outputs[0]  # the chief serves the oracle only
    trials = _trials(out)
    assert sorted(trials) == ["0", "1"]
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    oracle = json.loads((out / "trials" / "unet" / "oracle.json").read_text())
    assert oracle["run_times"] == {"0": 1, "1": 1}  # each trial ran once
    for trial_id in trials:  # and trained its one epoch once
        assert len(read_csv(out / "trials" / "unet" / f"trial_{trial_id}" / "history.csv")) == 1
    rows = read_csv(out / "trials.csv")  # written by the chief
    assert sorted(r["loss"] for r in rows) == ["mae", "mse"]


def test_the_committed_quick_search_is_the_one_the_main_job_runs(monkeypatch):
    """The committed tuning/results/quick-unet is what `python -m colorkeras.tune` runs.

    The main job writes to the untracked runs/tuning/quick-unet; the committed
    folder documents it, made with ``--out tuning/results/quick-unet``. If a
    default changes (grid, objective, settings) it must be refreshed so.
    """
    import pathlib

    from colorkeras import tune

    monkeypatch.chdir(pathlib.Path(__file__).resolve().parents[1])
    args = tune.build_parser().parse_args(["--out", "tuning/results/quick-unet"])
    _, _, base, _ = tune.planned_search(args)  # raises if it holds another search
    assert (pathlib.Path(base.out) / "search.json").is_file()
