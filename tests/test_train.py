"""`python -m colorkeras.train`: outputs, resume, and one-line errors."""

import argparse
import json

import keras
import numpy as np
import pytest
from conftest import TINY_TRAIN as TINY
from conftest import read_csv

from colorkeras import cli, train, training, training_config


def _history_rows(out):
    return read_csv(out / "history.csv")


def _weights(path):
    return keras.models.load_model(path).get_weights()


def test_train_writes_model_history_logs_and_config(trained_run):
    out = trained_run.out
    rows = _history_rows(out)
    assert len(rows) == 1
    assert {"loss", "val_loss", "val_mae", "val_psnr", "elapsed_seconds", "cpu_seconds",
            "validation_cpu_seconds", "val_delta_e2000", "val_colorfulness_ratio"} <= set(rows[0])
    # Decoding to RGB costs time in every step, so by default only validation has these.
    assert not {"mae", "psnr", "delta_e2000", "colorfulness_ratio"} & set(rows[0])
    assert 0 < float(rows[0]["validation_cpu_seconds"]) < float(rows[0]["cpu_seconds"])
    assert 0 < float(rows[0]["val_delta_e2000"]) < 100
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "unet" and config["hparams"] == {"depth": 1, "base_filters": 4}
    assert config["parameters"] > 0
    assert any((out / "logs").rglob("events.out.tfevents*"))
    assert (out / "last.keras").exists()
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    # One colorizer file: the network with its recorded settings, gray in, RGB out.
    assert model.network.get_config()["depth"] == 1 and model.color_space == "lab"
    prediction = model.predict(np.zeros([1, 24, 40, 1], np.float32), verbose=0)
    assert prediction.shape == (1, 24, 40, 3)


def test_time_limit_stops_after_the_epoch_that_passes_it(tmp_path):
    out = tmp_path / "run"
    train.main(["--model", "dcnn", "--hparam", "depth=1", "--epochs", "5",
                "--time-limit", "0.0001", "--out", str(out), *TINY])
    rows = _history_rows(out)
    assert len(rows) == 1 and float(rows[0]["elapsed_seconds"]) > 0


def test_cpu_limit_stops_after_the_epoch_that_passes_it_and_when_resumed(tmp_path):
    out = tmp_path / "run"
    args = ["--model", "dcnn", "--hparam", "depth=1", "--epochs", "5",
            "--cpu-limit", "0.0001", "--out", str(out), *TINY]
    train.main(args)
    rows = _history_rows(out)
    assert len(rows) == 1 and float(rows[0]["cpu_seconds"]) > 0.006
    record = (out / "config.json").read_text()
    train.main([*args, "--epochs", "6"])  # has had its CPU time: trains nothing
    assert len(_history_rows(out)) == 1
    assert (out / "config.json").read_text() == record  # and rewrites nothing


def test_classification_run_keeps_its_prior_and_ships_a_chroma_network(tmp_path):
    out = tmp_path / "run"
    args = ["--model", "unet", "--hparam", "depth=1", "--hparam", "base_filters=4",
            "--loss", "classification", "--color-space", "lab", "--out", str(out), *TINY]
    train.main(["--epochs", "1", *args])
    prior = json.loads((out / "ab_prior.json").read_text())["prior"]
    assert abs(sum(prior) - 1) < 1e-6
    train.main(["--epochs", "2", *args])  # the resumed session reuses the prior
    assert json.loads((out / "ab_prior.json").read_text())["prior"] == prior
    assert len(_history_rows(out)) == 2
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    assert model.network.hparams["head"] == "classification"
    chroma = model(np.zeros([1, 16, 24, 1], np.float32))["chroma"]
    assert chroma.shape == (1, 16, 24, 2)


def test_init_from_starts_pix2pix_from_a_trained_unet(trained_run, tmp_path):
    unet_args = ["--hparam", "depth=1", "--hparam", "base_filters=4", "--color-space", "lab"]
    trained = trained_run.out / "model.keras"
    unet = keras.models.load_model(trained)
    out = tmp_path / "p"
    args = ["--model", "pix2pix", *unet_args, "--d-hparam", "num_layers=1", "--epochs", "1",
            "--out", str(out), *TINY]
    original = training.initialize_from
    seen = []
    training.initialize_from = lambda trainer, path: (original(trainer, path), seen.append(
        [w.copy() for w in trainer.generator.get_weights()]))
    try:
        train.main([*args, "--init-from", str(trained)])
    finally:
        training.initialize_from = original
    for copied, expected in zip(seen[0], unet.get_weights()):
        np.testing.assert_array_equal(copied, expected)
    with pytest.raises(ValueError, match="not the same network .*its depth is 1, this run's 2"):
        train.main(["--model", "unet", "--hparam", "depth=2", "--color-space", "lab",
                    "--epochs", "1", "--out", str(tmp_path / "x"), *TINY,
                    "--init-from", str(trained)])


def test_min_colorfulness_keeps_every_epoch_out_of_reach_from_model_keras(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--model", "unet", "--hparam", "depth=1", "--hparam", "base_filters=4",
            "--select", "delta_e2000", "--out", str(out), *TINY]
    # A ratio no barely trained network reaches: no epoch is eligible.
    train.main(["--epochs", "1", "--min-colorfulness", "1000", *args])
    assert (out / "last.keras").exists()
    assert not (out / "model.keras").exists(), _history_rows(out)
    printed = capsys.readouterr().out
    assert "Best model:" not in printed and "there is no" in printed
    # Without the minimum, the resumed run chooses by CIEDE2000 alone.
    train.main(["--epochs", "2", *args])
    assert (out / "model.keras").exists(), _history_rows(out)
    assert json.loads((out / "config.json").read_text())["select"] == "delta_e2000"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model", "vgg"], "invalid choice"),
        (["--data", "/no/such/folder"], "neither"),
        (["--crop-size", "300"], "crop_size"),
        (["--image-size", "0"], "must be positive"),
        (["--hparam", "depth=0"], "depth"),
        (["--select", "ssim"], "invalid choice"),
        (["--min-colorfulness", "-1"], "must be positive"),
        (["--loss", "classification", "--color-space", "yuv"], "--color-space lab"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(run_command, tmp_path, args, message):
    """In-process; test_cli runs one such case as a real `python -m` process."""
    result = run_command(train.main, "--out", tmp_path / "x", *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert lines[0].startswith(("error:", "python -m colorkeras.train: error:"))
    assert not (tmp_path / "x").exists()


def test_history_logger_widens_its_header_instead_of_shifting_columns(tmp_path):
    from colorkeras.callbacks import HistoryLogger

    path = tmp_path / "history.csv"
    logger = HistoryLogger(str(path))
    logger.on_epoch_end(0, {"loss": 1.0, "val_psnr": 20.0})
    # A resumed run logs a new figure: earlier rows keep theirs, blank under it.
    logger.on_epoch_end(1, {"loss": 0.5, "val_psnr": 21.0, "val_delta_e2000": 9.0})
    logger.on_epoch_end(2, {"loss": 0.25, "val_psnr": 22.0, "val_delta_e2000": 8.0})
    rows = _history_rows(tmp_path)
    assert [r["val_psnr"] for r in rows] == ["20.0", "21.0", "22.0"]
    assert [r["val_delta_e2000"] for r in rows] == ["", "9.0", "8.0"]
    assert training.best_so_far(str(path), "val_delta_e2000", "min") == 8.0
    assert training.logged_values(str(path), "loss", {"val_delta_e2000": 8.5}) == [0.5]


def test_resume_refuses_each_changed_setting_and_leaves_the_run_alone(trained_run, tmp_path):
    """A changed --lambda or batch size once resumed silently and rewrote config.json."""
    out, args = trained_run.copy(tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    config = (out / "config.json").read_text()
    with pytest.raises(ValueError, match="different run") as error:
        train.main(["--epochs", "2", "--learning-rate", "0.01", *args, "--batch-size", "2"])
    message = str(error.value)
    assert "learning_rate: 0.002 -> 0.01" in message and "batch_size: 4 -> 2" in message
    with pytest.raises(ValueError, match=r"different run \(hparams: "):
        train.main(["--epochs", "2", *args, "--hparam", "depth=2"])
    assert (out / "config.json").read_text() == config
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_resumed_run_crops_anew_from_where_it_stopped():
    config = training_config.TrainConfig(data="sample", image_size=32, crop_size=16, batch_size=4)

    def first_batch(start_step):
        keras.utils.set_random_seed(config.seed)  # as `train.train` does
        return next(iter(training.make_pipelines(config, start_step)[0].dataset))[1].numpy()

    first, again, resumed = first_batch(0), first_batch(0), first_batch(400)
    np.testing.assert_array_equal(first, again)  # still repeatable
    assert not np.array_equal(first, resumed)


def test_rerun_resumes_from_the_saved_weights_and_step_and_a_finished_run_stays(
        trained_run, tmp_path, monkeypatch):
    out, args = trained_run.copy(tmp_path)
    saved = _weights(out / "last.keras")
    seen = {}

    class Spy(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):  # after BackupAndRestore restored the state
            seen["weights"] = [w.copy() for w in self.model.network.get_weights()]
            seen["steps"] = training.finished_steps(training_config.TrainConfig(out=str(out),
                                                                   steps_per_epoch=2))

    original = training.make_callbacks
    monkeypatch.setattr(training, "make_callbacks", lambda *a, **k: [*original(*a, **k), Spy()])
    train.main(["--epochs", "2", *args])
    for restored, expected in zip(seen["weights"], saved):
        np.testing.assert_array_equal(restored, expected)
    assert seen["steps"] == 2
    assert [row["epoch"] for row in _history_rows(out)] == ["0", "1"]  # epoch 0 not run again
    after_two = _weights(out / "last.keras")  # the second epoch trained on from there
    assert any(not np.array_equal(a, b) for a, b in zip(saved, after_two))
    # Running a finished run again trains nothing more and keeps its weights.
    monkeypatch.setattr(training, "make_callbacks", original)
    train.main(["--epochs", "2", *args])
    assert len(_history_rows(out)) == 2
    for a, b in zip(after_two, _weights(out / "last.keras")):
        np.testing.assert_array_equal(a, b)


def test_mixed_precision_is_float16_on_a_gpu_and_bfloat16_on_a_cpu(monkeypatch):
    import tensorflow as tf

    assert training.mixed_precision_policy() == "mixed_bfloat16"  # this machine has no GPU
    real = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["GPU:0"] if kind == "GPU" else real(kind))
    assert training.mixed_precision_policy() == "mixed_float16"


def test_pix2pix_trains_under_mixed_float16_with_loss_scaling(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(training, "mixed_precision_policy", lambda: "mixed_float16")
    out = tmp_path / "gan"
    train.main(["--model", "pix2pix", "--hparam", "depth=1", "--hparam", "base_filters=4",
                "--d-hparam", "num_layers=1", "--mixed-precision", "--epochs", "1",
                "--out", str(out), *TINY])
    assert "Mixed precision: mixed_float16 (float32 weights, loss scaling)" in capsys.readouterr().out
    rows = _history_rows(out)
    assert np.isfinite(float(rows[0]["g_loss"])) and np.isfinite(float(rows[0]["d_loss"]))
    assert keras.mixed_precision.global_policy().name == "float32"  # restored afterwards


def test_rgb_metrics_in_training_steps_when_asked():
    """By default they are left out (the trained run's history shows it, above)."""
    from colorkeras.training import build_colorizer
    from colorkeras.training_config import TrainConfig, train_arguments

    config = TrainConfig(model="unet", color_space="lab", hparams={"depth": 1, "base_filters": 4},
                         rgb_metrics_in_training=True)
    logs = build_colorizer(config).train_on_batch(
        np.zeros([2, 16, 16, 1], np.float32), np.zeros([2, 16, 16, 2], np.float32),
        return_dict=True)
    assert {"mae", "psnr"} <= set(logs), logs
    assert "--rgb-metrics-in-training" in train_arguments(config)
    assert "--rgb-metrics-in-training" not in train_arguments(TrainConfig())


def test_an_imagenet_backbone_trains_the_fast_recipe_by_default(monkeypatch):
    from colorkeras import training_config
    from colorkeras.training_config import resolve_defaults

    def parsed(*args):
        return resolve_defaults(train.config_from_args(train.build_parser().parse_args(args)))

    monkeypatch.setattr(training_config, "fast_half_precision", lambda: True)
    fast = parsed("--hparam", "backbone=efficientnet_lite0")
    assert fast.mixed_precision is True and fast.freeze_encoder_epochs == "all"
    assert parsed().mixed_precision is False  # no backbone: float32 as before
    old = parsed("--hparam", "backbone=efficientnet_lite0", "--no-mixed-precision",
                 "--freeze-encoder-epochs", "3")
    assert old.mixed_precision is False and old.freeze_encoder_epochs == 3
    # A run's command repeats its precision wherever it runs again.
    assert "--no-mixed-precision" in training_config.train_arguments(old)
    monkeypatch.setattr(training_config, "fast_half_precision", lambda: False)
    assert parsed("--hparam", "backbone=efficientnet_lite0").mixed_precision is False
    # A Pix2Pix on that backbone gets the narrow PatchGAN, unless its width is named,
    # and fine-tunes its encoder from the start, so in float32.
    monkeypatch.setattr(training_config, "fast_half_precision", lambda: True)
    gan = parsed("--model", "pix2pix", "--hparam", "backbone=efficientnet_lite0",
                 "--d-hparam", "num_layers=2")
    assert gan.d_hparams == {"num_layers": 2, "base_filters": 16}
    assert gan.freeze_encoder_epochs == 0 and gan.mixed_precision is False
    repeated = " ".join(training_config.train_arguments(gan))
    assert "base_filters=16" in repeated and "--freeze-encoder-epochs 0" in repeated
    # An encoder that is fine-tuned at some point trains in float32 by default.
    assert parsed("--hparam", "backbone=efficientnet_lite0", "--freeze-encoder-epochs",
                  "3").mixed_precision is False
    assert parsed("--model", "pix2pix", "--hparam", "backbone=efficientnet_lite0",
                  "--d-hparam", "base_filters=64").d_hparams == {"base_filters": 64}
    assert parsed("--model", "pix2pix").d_hparams == {}  # no backbone: pix2pix's own 64
    with pytest.raises(SystemExit):
        train.build_parser().parse_args(["--freeze-encoder-epochs", "some"])
    with pytest.raises(argparse.ArgumentTypeError, match="whole number.*'all'"):
        cli.count_or_all("some")


@pytest.mark.parametrize("setting, frozen", [("all", [True] * 4), (2, [True, True, False, False]),
                                             (0, [False] * 4)])
def test_encoder_frozen_by_epoch(setting, frozen):
    assert [training_config.encoder_frozen(setting, epoch) for epoch in range(4)] == frozen
