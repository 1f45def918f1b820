"""The architectures' registry, heads, validation and geometry helpers.

What every architecture must do (config, saving, weight transfer, mixed
precision, training) is checked once for all in test_architectures.py."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from colorkeras import models
from colorkeras.color import output_channels
from colorkeras.models import (
    build_model,
    build_patchgan,
    color_space_of,
    hparams_of,
    list_models,
    patchgan_receptive_field,
    size_multiple,
)
from colorkeras.models.dcnn import receptive_field
from colorkeras.models.patchgan import patchgan_output_size

def gray_batch(size, n=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, size, size, 1), dtype=np.float32)


def assert_in_range(y, color_space):
    low = 0.0 if color_space == "rgb" else -1.0
    assert y.dtype == np.float32
    assert y.min() >= low and y.max() <= 1.0
    assert y.std() > 0  # not a constant: the head is connected


def test_list_models_is_the_contract():
    assert list_models() == [
        "cae", "dcnn", "unet", "resnet", "densenet", "pix2pix"
    ]


@pytest.mark.parametrize("space", ["rgb", "lab", "yuv"])
def test_heads_match_the_colour_space(space):
    model = build_model("dcnn", color_space=space, depth=2, filters=4)
    assert model.layers[-1].name == f"{space}_output"
    assert color_space_of(model) == space
    y = model.predict(gray_batch(16) * 50 - 25, verbose=0)  # saturate
    assert y.shape == (2, 16, 16, output_channels(space))
    assert_in_range(y, space)


def test_unknown_model_lists_the_names():
    with pytest.raises(ValueError, match=r"Available models: \[.*'densenet'"):
        build_model("vgg")


@pytest.mark.parametrize(
    "name, overrides, mentioned",
    [
        ("unet", dict(depth=0), "depth=0"),
        ("dcnn", dict(activation="nope"), "activation='nope'"),
        ("cae", dict(foo=1), "foo"),
        ("densenet", dict(dropout=1.0), "dropout=1.0"),
        ("densenet", dict(compression=0), "compression=0"),
        ("resnet", dict(base_filters=6), "base_filters=6"),
        ("resnet", dict(downsample="yes"), "downsample='yes'"),
        ("unet", dict(kernel_size=2), "kernel_size=2"),
        ("unet", dict(upsampling="cubic"), "upsampling='cubic'"),
        ("dcnn", dict(depth=2.5), "depth=2.5"),
        ("cae", dict(color_space="hsv"), "color_space='hsv'"),
        ("unet", dict(input_shape=(40, 40, 1), depth=4), "multiples of 16"),
    ],
)
def test_invalid_hparams_raise_a_helpful_error(name, overrides, mentioned):
    with pytest.raises(ValueError, match=re.escape(mentioned)):
        build_model(name, **overrides)


def test_unknown_hparam_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"Accepted: \[.*'base_filters'"):
        build_model("unet", width=8)


def test_hparams_of_reads_what_the_architecture_declares():
    assert hparams_of("unet")["depth"] == 4
    assert hparams_of("unet")["base_filters"] == 16
    assert "growth_rate" in hparams_of("densenet")
    for name in list_models():
        assert {"input_shape", "color_space"}.isdisjoint(hparams_of(name))
        assert hparams_of(name)["head"] == "regression"
    # What a network records is what it was built with, defaults included.
    network = build_model("unet", color_space="lab", depth=2)
    assert network.hparams == {**hparams_of("unet"), "depth": 2}
    with pytest.raises(ValueError, match="Available models"):
        hparams_of("nope")


@pytest.mark.parametrize(
    "name, hparams, expected",
    [
        ("unet", dict(depth=1, base_filters=2), 2),
        ("unet", dict(depth=3, base_filters=2), 8),
        ("dcnn", dict(depth=2, filters=2), 1),
        ("cae", dict(base_filters=2), 4),
        # The strided 3x3 and its strided shortcut are parallel: counted once.
        ("resnet", dict(base_filters=4, stages=3, blocks_per_stage=1), 4),
        ("resnet", dict(base_filters=4, stages=3, downsample=False), 1),
        ("densenet", dict(blocks=3, layers_per_block=1, growth_rate=2), 8),
    ],
)
def test_size_multiple(name, hparams, expected):
    assert size_multiple(build_model(name, **hparams)) == expected


def test_color_space_of_rejects_other_networks():
    with pytest.raises(ValueError, match="Expected a colorkeras network"):
        color_space_of(build_patchgan(num_layers=1, base_filters=2))
    with pytest.raises(ValueError, match="Expected a colorkeras network"):
        size_multiple(keras.Sequential([keras.Input((None, None, 1))]))


def test_register_model_and_pix2pix_builds_its_generator(monkeypatch):
    monkeypatch.setattr(models, "_ORDER", list(models._ORDER))
    monkeypatch.setattr(models, "_ARCHITECTURES", dict(models._ARCHITECTURES))

    class Tiny(models.DCNN):
        """A registered subclass saves and loads like the built-in ones."""

    models.register_model("tiny", Tiny)
    assert list_models()[-2:] == ["pix2pix", "tiny"]
    assert isinstance(build_model("tiny", depth=1, filters=2), Tiny)
    with pytest.raises(ValueError, match="ColorizationNetwork"):
        models.register_model("bad", models.build_patchgan)
    # pix2pix is a model whose network is its generator's: build_model gives networks only.
    network = build_model("pix2pix", depth=1, base_filters=2)
    assert isinstance(network, models.UNet) and network.name == "unet"
    assert hparams_of("pix2pix") == hparams_of("unet")


def extent_of_dependence(model, inputs, row, col):
    """Side of the bounding box of input pixels that move output [row, col]."""
    inputs = [tf.constant(x) for x in inputs]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        feed = inputs if len(inputs) > 1 else inputs[0]
        score = model(feed, training=False)[0, row, col, 0]
    grads = tape.gradient(score, inputs)
    moving = np.any([np.abs(g.numpy()[0]).sum(-1) > 0 for g in grads], axis=0)
    rows, cols = np.nonzero(moving)
    assert rows.max() - rows.min() == cols.max() - cols.min()
    return rows.max() - rows.min() + 1


def test_dcnn_receptive_field_matches_the_network():
    # leaky_relu: no dead units that would hide an edge of the window.
    model = build_model(
        "dcnn", depth=6, filters=2, activation="leaky_relu", dilation_growth=2
    )
    expected = receptive_field(6, dilation_growth=2)
    assert expected == 1 + 2 * (1 + 2 + 4 + 8 + 1 + 1)
    assert extent_of_dependence(model, [gray_batch(64, n=1)], 32, 32) == expected
    assert receptive_field(12, dilation_growth=1) == 25


@pytest.mark.parametrize("size", [128, 256])
@pytest.mark.parametrize("space", ["rgb", "lab"])
def test_patchgan_scores_a_grid_of_patches(size, space):
    disc = build_patchgan(color_space=space, num_layers=3, base_filters=2)
    gray = gray_batch(size)
    image = np.zeros((2, size, size, output_channels(space)), np.float32)
    scores = disc.predict([gray, image], verbose=0)
    side = patchgan_output_size(size, 3)
    assert side == size // 8 - 2  # 14 for 128, 30 for 256, as in pix2pix
    assert scores.shape == (2, side, side, 1)
    assert scores.dtype == np.float32
    assert [x.name for x in disc.inputs] == ["gray", "image"]


def test_unconditional_patchgan_takes_only_the_image():
    disc = build_patchgan(
        color_space="yuv", conditional=False, num_layers=2, base_filters=2,
        norm="instance",
    )
    assert len(disc.inputs) == 1
    assert disc.inputs[0].shape[-1] == 2
    scores = disc.predict(np.ones((1, 64, 64, 2), np.float32), verbose=0)
    assert scores.shape == (1, patchgan_output_size(64, 2), 14, 1)


def test_patchgan_receptive_field():
    assert patchgan_receptive_field(3) == 70  # pix2pix's 70x70 PatchGAN
    assert [patchgan_receptive_field(n) for n in (1, 2, 4)] == [16, 34, 142]
    disc = build_patchgan(num_layers=2, base_filters=2)
    inputs = [gray_batch(96, n=1), np.random.rand(1, 96, 96, 3)]
    inputs = [x.astype(np.float32) for x in inputs]
    assert extent_of_dependence(disc, inputs, 10, 10) == 34
    with pytest.raises(ValueError, match="num_layers=0"):
        patchgan_receptive_field(0)
    with pytest.raises(ValueError, match="at least 24 pixels"):
        build_patchgan(input_shape=(16, 16, 1), num_layers=3)


def test_fused_batch_norm_matches_the_keras_layer_and_swaps_weights():
    from colorkeras.models.batch_norm import FusedBatchNormalization

    x = tf.random.stateless_normal([4, 8, 8, 6], seed=[1, 2]) * 3 + 1
    reference, fused = keras.layers.BatchNormalization(), FusedBatchNormalization()
    reference.build(x.shape)
    fused.build(x.shape)
    np.testing.assert_allclose(fused(x, training=True), reference(x, training=True), atol=1e-4)
    # Both track the moving statistics (unbiased against biased variance).
    np.testing.assert_allclose(fused.moving_mean, reference.moving_mean, atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance, reference.moving_variance, rtol=0.02)
    fused.set_weights(reference.get_weights())
    np.testing.assert_allclose(fused(x), reference(x), atol=1e-4)


def test_fused_batch_norm_runs_under_bfloat16_and_saves(tmp_path):
    from colorkeras.models.batch_norm import FusedBatchNormalization

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        network = build_model("unet", color_space="lab", depth=1, base_filters=4)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert any(isinstance(layer, FusedBatchNormalization) for layer in network.layers)
    gray = np.random.default_rng(0).uniform(0, 1, [2, 8, 8, 1]).astype("float32")
    assert network(gray, training=True).dtype == "float32"
    network.save(tmp_path / "net.keras")
    loaded = keras.models.load_model(tmp_path / "net.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(gray, verbose=0), network.predict(gray, verbose=0),
                               atol=1e-6)


def test_keras_kernels_switches_the_traced_batch_norm_op():
    from colorkeras.models import batch_norm

    network = build_model("unet", color_space="lab", depth=1, base_filters=4)
    spec = tf.TensorSpec([2, 8, 8, 1], tf.float32)

    def op_types():
        graph = tf.function(lambda x: network(x, training=True)).get_concrete_function(spec).graph
        return {op.type for op in graph.get_operations()}

    assert "FusedBatchNormV3" in op_types()
    with batch_norm.keras_kernels():
        assert "FusedBatchNormV3" not in op_types()
    assert "FusedBatchNormV3" in op_types()


def test_recalibrated_batch_norm_makes_inference_match_training_mode():
    from colorkeras.models.batch_norm import batch_norm_layers, recalibrate_batch_norm

    network = build_model("unet", color_space="lab", depth=2, base_filters=4)
    rng = np.random.default_rng(0)
    gray = rng.uniform(0, 1, [8, 16, 16, 1]).astype("float32")
    norms = batch_norm_layers(network)
    assert norms
    for layer in norms:  # stale statistics, as after fast-moving weights
        layer.moving_mean.assign(layer.moving_mean + 3.0)
        layer.moving_variance.assign(layer.moving_variance * 50.0)
    weights = [w.numpy() for w in network.trainable_weights]
    training_mode = network(gray, training=True).numpy()
    stale_gap = np.abs(network(gray).numpy() - training_mode).mean()
    assert stale_gap > 0.05

    batches = tf.data.Dataset.from_tensors((gray, gray)).repeat()
    assert recalibrate_batch_norm(network, batches, batches=3) == 3
    # One repeated batch: the averaged moments are that batch's (the fused
    # kernel keeps the unbiased variance, a hair off what training divides by).
    assert np.abs(network(gray).numpy() - training_mode).mean() < stale_gap / 20
    for before, after in zip(weights, network.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())
    assert all(layer.momentum == 0.99 for layer in norms)


def test_recalibration_averages_the_moments_of_its_batches():
    from colorkeras.models.batch_norm import recalibrate_batch_norm

    inputs = keras.Input([4, 4, 2])
    norm = keras.layers.BatchNormalization()
    network = keras.Model(inputs, norm(inputs))
    rng = np.random.default_rng(1)
    batches = [rng.normal(i, 1 + i, [3, 4, 4, 2]).astype("float32") for i in range(3)]
    used = recalibrate_batch_norm(network, tf.data.Dataset.from_tensor_slices(
        np.stack(batches)), batches=10)
    assert used == 3  # the dataset ran out first
    np.testing.assert_allclose(norm.moving_mean.numpy(),
                               np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(),
                               np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0),
                               rtol=1e-4)


def test_colorizer_compile_metrics_are_reported_by_train_on_batch():
    """``metrics=["mse"]`` was accepted, then train_on_batch failed: "the metric has not yet
    been built"."""
    from colorkeras.colorizer import Colorizer

    colorizer = Colorizer(models.build_model("cae", color_space="lab", base_filters=4))
    colorizer.compile(optimizer="adam", loss="mae",
                      metrics=["mse", keras.metrics.MeanAbsoluteError()])
    rng = np.random.default_rng(0)
    gray = rng.random((2, 16, 16, 1), dtype=np.float32)
    target = rng.random((2, 16, 16, 2), dtype=np.float32) - 0.5
    logs = colorizer.train_on_batch(gray, target, return_dict=True)
    expected = float(np.mean((colorizer(gray, training=False)["chroma"].numpy() - target) ** 2))
    assert 0 < logs["chroma_mse"] and "mean_absolute_error" in logs and "psnr" in logs
    np.testing.assert_allclose(colorizer.evaluate(gray, target, return_dict=True, verbose=0)
                               ["chroma_mse"], expected, rtol=1e-4)
