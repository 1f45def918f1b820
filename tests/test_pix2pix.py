"""Pix2Pix: the custom train_step, patch-size transfer, save/resume."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_TRAIN

from colorkeras import metrics, train
from colorkeras.colorizer import Colorizer
from colorkeras.pix2pix import Pix2Pix, build_pix2pix

TINY_G = {"base_filters": 4, "depth": 2}
TINY_D = {"num_layers": 2, "base_filters": 4}


def _batch(size=32, n=4, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    gray = rng.random((n, size, size, 1), dtype=np.float32)
    target = rng.random((n, size, size, channels), dtype=np.float32)
    return tf.constant(gray), tf.constant(target)


def _gan(gan_loss="lsgan", lambda_=100.0, gan_weight=1.0, lr=1e-3, metrics=None, **kwargs):
    gan = build_pix2pix(generator_hparams=TINY_G, discriminator_hparams=TINY_D, **kwargs)
    gan.compile(
        keras.optimizers.Adam(lr), keras.optimizers.Adam(lr),
        gan_loss=gan_loss, lambda_=lambda_, gan_weight=gan_weight, metrics=metrics,
    )
    return gan


def _copy(variables):
    return [v.numpy().copy() for v in variables]


def _changed(before, variables):
    return any(not np.allclose(a, v.numpy()) for a, v in zip(before, variables))


@pytest.mark.parametrize("gan_loss", ["lsgan", "bce"])
def test_one_train_step_changes_both_networks(gan_loss):
    """And the compiled metrics are reported beside the GAN's losses."""
    gan = _gan(gan_loss, metrics=["mse"])
    gray, target = _batch()
    gan(gray)  # build
    g_before = _copy(gan.generator.trainable_variables)
    d_before = _copy(gan.discriminator.trainable_variables)
    logs = gan.train_on_batch(gray, target, return_dict=True)
    assert _changed(g_before, gan.generator.trainable_variables)
    assert _changed(d_before, gan.discriminator.trainable_variables)
    assert {"g_loss", "d_loss", "gan_loss", "rec_loss", "psnr"} <= set(logs)
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["chroma_mse"] > 0


def test_generator_loss_falls_with_gan_term_off():
    keras.utils.set_random_seed(1)
    gan = _gan(lambda_=100.0, gan_weight=0.0, lr=1e-2)
    gray, _ = _batch(n=4, seed=3)
    target = tf.concat([gray, 0.5 * gray, 1.0 - gray], axis=-1)  # learnable colours
    losses = []
    for _ in range(25):
        gan.reset_metrics()  # metrics are running means; read each step alone
        losses.append(gan.train_on_batch(gray, target, return_dict=True)["g_loss"])
    assert losses[-1] < 0.75 * losses[0]


def test_test_step_reports_the_losses_of_the_batch_and_trains_nothing():
    """Each logged figure is recomputed here from the two networks' own outputs."""
    gan = _gan(lambda_=50.0, gan_weight=2.0)
    gray, target = _batch()
    gan.build_state(gray)
    weights = _copy(gan.weights)
    logs = gan.evaluate(gray, target, verbose=0, return_dict=True)
    assert not _changed(weights, gan.weights)
    fake = gan.generator(gray, training=False)  # RGB: the default colour space
    real_scores = gan.discriminator([gray, target], training=False)
    fake_scores = gan.discriminator([gray, fake], training=False)
    rec = float(tf.reduce_mean(tf.abs(target - fake)))
    gan_term = float(tf.reduce_mean(tf.square(1.0 - fake_scores)))
    d_loss = float(tf.reduce_mean(tf.square(1.0 - real_scores))
                   + tf.reduce_mean(tf.square(fake_scores)))
    assert logs["rec_loss"] == pytest.approx(rec, rel=1e-4)
    assert logs["mae"] == pytest.approx(rec, rel=1e-4)  # RGB error of an RGB generator
    assert logs["gan_loss"] == pytest.approx(gan_term, rel=1e-4)
    assert logs["g_loss"] == pytest.approx(50.0 * rec + 2.0 * gan_term, rel=1e-4)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-4)
    assert logs["psnr"] == pytest.approx(float(tf.reduce_mean(metrics.psnr(target, fake))),
                                         rel=1e-4)


# The PatchGAN's grid of patch scores is checked in test_models.py
# (test_patchgan_scores_a_grid_of_patches), exactly, at both sizes.


def test_unconditional_discriminator_takes_the_image_only():
    gan = build_pix2pix(generator_hparams=TINY_G,
                        discriminator_hparams={**TINY_D, "conditional": False})
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    assert not gan.conditional
    gray, target = _batch()
    logs = gan.train_on_batch(gray, target, return_dict=True)
    assert np.isfinite(logs["d_loss"])


def test_save_load_and_resume_keep_weights(tmp_path):
    gan = _gan()
    gray, target = _batch()
    gan.build_state(gray)
    gan.train_on_batch(gray, target)
    path = tmp_path / "state.weights.h5"
    gan.save_weights(path)
    gen_path = tmp_path / "generator.keras"
    gan.generator.save(gen_path)
    restored = _gan()
    restored.build_state(gray)  # creates the variables, optimizer slots included
    restored.load_weights(path)
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    # Optimizer state comes back too, so training resumes, not restarts.
    assert int(restored.g_optimizer.iterations) == int(gan.g_optimizer.iterations) == 1
    assert int(restored.d_optimizer.iterations) == 1
    generator = keras.models.load_model(gen_path, safe_mode=True)
    np.testing.assert_allclose(generator.predict(gray, verbose=0), gan.generator(gray), atol=1e-6)


def test_bad_compile_arguments():
    gan = build_pix2pix(generator_hparams=TINY_G, discriminator_hparams=TINY_D)
    with pytest.raises(ValueError, match="gan_loss"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), gan_loss="wgan")
    with pytest.raises(ValueError, match="pix2pix"):
        build_pix2pix(generator="pix2pix")
    with pytest.raises(ValueError, match="non-negative"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), lambda_=-1.0)


def test_train_command_trains_pix2pix_and_saves_generator(tmp_path):
    out = tmp_path / "gan"
    args = ["--model", "pix2pix", "--hparam", "base_filters=4", "--hparam", "depth=2",
            "--d-hparam", "num_layers=2", "--d-hparam", "base_filters=4",
            "--lambda", "50", "--gan-loss", "bce", "--d-learning-rate", "1e-4",
            *TINY_TRAIN, "--out", str(out)]
    train.main(["--epochs", "1", *args])
    colorizer = keras.models.load_model(out / "model.keras", safe_mode=True)
    assert not hasattr(colorizer, "discriminator")  # the generator alone is shipped
    assert colorizer.color_space == "yuv"
    assert colorizer.predict(np.zeros([1, 40, 48, 1], np.float32), verbose=0).shape == (
        1, 40, 48, 3)  # RGB at any size
    train.main(["--epochs", "2", *args])  # resumes from the backup
    lines = (out / "history.csv").read_text().strip().splitlines()
    assert len(lines) == 3 and "d_loss" in lines[0] and "val_g_loss" in lines[0]


def test_saving_a_whole_gan_is_refused_and_points_at_its_colorizer(tmp_path):
    """It used to write a file that no load could read ("Could not locate class 'Pix2Pix'")."""
    gan = _gan()
    path = tmp_path / "gan.keras"
    with pytest.raises(ValueError, match=r"gan\.colorizer\.save"):
        gan.save(path)
    assert not path.exists()
    # Keras's own function opens the file before it asks for the config.
    with pytest.raises(ValueError, match=r"gan\.colorizer\.save"):
        keras.saving.save_model(gan, tmp_path / "other.keras")
    gan.colorizer.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    gray, _ = _batch()
    np.testing.assert_allclose(loaded.predict(gray, verbose=0),
                               gan.colorizer.predict(gray, verbose=0), atol=1e-6)


def test_a_gan_holds_a_colorizer_and_a_discriminator_and_is_no_colorizer():
    """keras-io's shape: composition, not a Colorizer subclass with another compile."""
    gan = _gan()
    assert not isinstance(gan, Colorizer) and isinstance(gan.colorizer, Colorizer)
    assert gan.generator is gan.colorizer.network
    assert gan.colorizer.name == "pix2pix"  # the name the shipped colorizer carries
    # Its parts are tracked: one weights file holds both networks and both optimizers.
    assert {id(w) for w in gan.colorizer.weights} <= {id(w) for w in gan.weights}
    assert {id(w) for w in gan.discriminator.weights} <= {id(w) for w in gan.weights}
    gray, _ = _batch()
    assert gan.predict(gray, verbose=0).shape == (4, 32, 32, 3)  # the colorizer's RGB
    with pytest.raises(ValueError, match="Colorizer"):
        Pix2Pix(gan.generator, gan.discriminator)
    with pytest.raises(ValueError, match="reconstruction"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), loss="mse")
