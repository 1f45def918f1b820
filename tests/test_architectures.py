"""One test over every registered architecture, as keras-hub's ``run_backbone_test``.

Each architecture (and Pix2Pix's generator, and a classification head) must:
rebuild from its config, save and load as one colorizer file in safe mode,
carry weights trained at 128 to 256 and any size, compute in mixed precision
with a float32 output, and lower its loss in one training step.
"""

import re

import keras
import numpy as np
import pytest

from colorkeras import ab_classes
from colorkeras.color import output_channels
from colorkeras.colorizer import Colorizer
from colorkeras.models import build_model, color_space_of, hparams_of, list_models, size_multiple

# Tiny hyperparameters, one colour space each, so the suite stays fast and
# still covers the three regression heads and the classification head.
TINY = {
    "cae": ("rgb", dict(base_filters=4)),
    "dcnn": ("lab", dict(depth=3, filters=4)),
    "unet": ("yuv", dict(depth=2, base_filters=4)),
    "resnet": ("lab", dict(base_filters=8, stages=2, blocks_per_stage=1)),
    "densenet": ("rgb", dict(blocks=2, layers_per_block=2, growth_rate=4)),
    "pix2pix": ("lab", dict(depth=2, base_filters=4)),
    "unet-classification": ("lab", dict(depth=2, base_filters=4, head="classification",
                                        temperature=0.5)),
    "unet-encoder": ("lab", dict(backbone="efficientnet_lite0", base_filters=4,
                                 encoder_weights="none", output_stride=2)),
}
CASES = sorted(TINY)


def test_every_registered_architecture_is_covered():
    assert set(list_models()) <= {case.split("-")[0] for case in CASES}


def registry_name(case):
    return case.split("-")[0]


def build_network(case, input_shape=(None, None, 1)):
    """The case's network; for pix2pix, the generator of a tiny Pix2Pix."""
    space, hparams = TINY[case]
    if case == "pix2pix":
        gan = build_model("pix2pix", input_shape, space, **hparams,
                          discriminator_hparams=dict(num_layers=1, base_filters=2))
        return gan.network
    return build_model(registry_name(case), input_shape, space, **hparams)


def gray_batch(size, n=2, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def target_batch(case, size, n=2, seed=1):
    space = TINY[case][0]
    low = 0.0 if space == "rgb" else -0.3
    rng = np.random.default_rng(seed)
    return rng.uniform(low, 0.3 if space != "rgb" else 1.0,
                       (n, size, size, output_channels(space))).astype(np.float32)


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case):
    network = build_network(case)
    config = network.get_config()
    space, hparams = TINY[case]
    assert config["color_space"] == color_space_of(network) == space
    expected = {**hparams_of(registry_name(case)), **hparams}
    assert {k: config[k] for k in expected} == expected
    rebuilt = type(network).from_config(config)
    assert rebuilt.get_config() == config
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in network.weights]
    assert size_multiple(rebuilt) == size_multiple(network)


@pytest.mark.parametrize("case", CASES)
def test_colorizer_saves_and_loads_in_safe_mode(case, tmp_path):
    colorizer = Colorizer(build_network(case))
    path = tmp_path / "colorizer.keras"
    colorizer.save(path)
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, Colorizer)
    assert loaded.network.get_config() == colorizer.network.get_config()
    gray = gray_batch(37, n=1)[:, :, :29]  # sides that are no multiple of anything
    rgb = loaded.predict(gray, verbose=0)
    assert rgb.shape == (1, 37, 29, 3) and 0 <= rgb.min() and rgb.max() <= 1
    np.testing.assert_allclose(rgb, colorizer.predict(gray, verbose=0), atol=1e-6)
    # Every layer is named after its place, never auto-numbered, so weight
    # files line up between graphs built in any order.
    for layer in loaded.network.layers:
        assert not re.search(r"_\d+$", layer.name), layer.name


@pytest.mark.parametrize("case", CASES)
def test_weights_trained_at_128_run_at_256_and_any_size(case, tmp_path):
    path = str(tmp_path / "net.weights.h5")
    small = build_network(case, (128, 128, 1))
    small.save_weights(path)
    large = build_network(case, (256, 256, 1))
    large.load_weights(path)
    for a, b in zip(small.get_weights(), large.get_weights()):
        np.testing.assert_array_equal(a, b)
    gray = gray_batch(256)
    y = large.predict(gray, verbose=0)
    assert y.shape == (2, 256, 256, output_channels(TINY[case][0]))
    assert y.std() > 0  # not a constant: the head is connected
    anysize = build_network(case)
    anysize.load_weights(path)
    np.testing.assert_allclose(anysize.predict(gray, verbose=0), y, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_mixed_precision_computes_in_bfloat16_and_returns_float32(case):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        network = build_network(case)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    compute = {layer.compute_dtype for layer in network.layers
               if isinstance(layer, keras.layers.Conv2D)}
    assert "bfloat16" in compute
    assert network(gray_batch(32), training=False).dtype == "float32"


@pytest.mark.parametrize("case", CASES)
def test_one_training_step_lowers_the_loss(case):
    keras.utils.set_random_seed(0)
    space = TINY[case][0]
    loss = ab_classes.ABClassificationLoss() if "classification" in case else "mae"
    gray, target = gray_batch(32, n=4), target_batch(case, 32, n=4)
    if case == "pix2pix":
        gan = build_model("pix2pix", color_space=space, **TINY[case][1],
                          discriminator_hparams=dict(num_layers=1, base_filters=2))
        gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-3),
                    reconstruction=loss, lambda_=100.0)
        name = "rec_loss"
        model = gan
    else:
        model = Colorizer(build_network(case))
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
        name = "loss"
    # Each call reports the loss of the weights it started from.
    before = model.train_on_batch(gray, target, return_dict=True)[name]
    after = model.train_on_batch(gray, target, return_dict=True)[name]
    assert after < before
