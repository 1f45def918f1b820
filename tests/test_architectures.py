"""Every registered architecture, and the Colorizer task, through one harness.

After keras-hub's ``TestCase``: `run_serialization_test` (a JSON round trip of
the config and of the serialized object, ``dir()`` equal after it),
`run_precision_test` (three dtype policies, every sublayer's dtypes checked),
`run_task_test` (fit and predict on a `tf.data` pipeline). Besides: each
architecture (and Pix2Pix's generator, a classification head and the
ImageNet-encoder U-Net) saves and loads as one colorizer file in safe mode and
carries weights built for one size to another and to any size.
"""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from colorkeras import ab_classes
from colorkeras.color import output_channels
from colorkeras.colorizer import Colorizer, colorizer_in_training
from colorkeras.models import (build_model, color_space_of, efficientnet_lite, hparams_of,
                               list_models, size_multiple)
from colorkeras.models.network import LOGITS_LAYER, global_dtype_policy
from colorkeras.pix2pix import build_pix2pix

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
# Sizes where size is not the point: multiples of every case's size multiple (32 at most).
SIZE, OTHER_SIZE = 64, 96
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
TINY_D = dict(num_layers=1, base_filters=2)


def test_every_registered_architecture_is_covered():
    assert set(list_models()) <= {case.split("-")[0] for case in CASES}


def registry_name(case):
    return case.split("-")[0]


def build_task(case, input_shape=(None, None, 1)):
    """The case's task: a `Colorizer`, or for pix2pix a tiny `Pix2Pix` holding one."""
    space, hparams = TINY[case]
    if case == "pix2pix":
        return build_pix2pix(input_shape, space, generator_hparams=hparams,
                             discriminator_hparams=TINY_D)
    return Colorizer(build_model(registry_name(case), input_shape, space, **hparams))


def build_network(case, input_shape=(None, None, 1)):
    """The case's network; for pix2pix, its generator (what `build_model` gives)."""
    space, hparams = TINY[case]
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
def test_weights_built_for_one_size_run_at_another_and_any_size(case, tmp_path):
    """As weights trained on 128-pixel crops run on 256-pixel photos (and any size)."""
    path = str(tmp_path / "net.weights.h5")
    small = build_network(case, (SIZE, SIZE, 1))
    small.save_weights(path)
    anysize = build_network(case)
    anysize.load_weights(path)
    for a, b in zip(small.get_weights(), anysize.get_weights()):
        np.testing.assert_array_equal(a, b)
    gray = gray_batch(SIZE)
    np.testing.assert_allclose(anysize(gray, training=False), small(gray, training=False),
                               atol=1e-5)
    y = anysize(gray_batch(OTHER_SIZE), training=False)  # a size it was not built for
    assert y.shape == (2, OTHER_SIZE, OTHER_SIZE, output_channels(TINY[case][0]))
    assert np.std(y) > 0  # not a constant: the head is connected




# --- the harness --------------------------------------------------------------------------


def _config_json(instance):
    return json.dumps(instance.get_config(), sort_keys=True, indent=4)


def run_serialization_test(instance):
    """keras-hub's: the config and the serialized object survive JSON, ``dir()`` unchanged."""
    config = _config_json(instance)
    names = set(dir(instance)) - {"__annotations__"}
    revived = type(instance).from_config(json.loads(config))
    assert _config_json(revived) == config
    assert set(dir(revived)) - {"__annotations__"} == names
    serialized = json.dumps(keras.saving.serialize_keras_object(instance), sort_keys=True)
    revived = keras.saving.deserialize_keras_object(json.loads(serialized))
    assert type(revived) is type(instance)
    assert _config_json(revived) == config
    assert set(dir(revived)) - {"__annotations__"} == names
    return revived


def float32_layers(network):
    """The layers that compute in float32 whatever the policy: the output head."""
    space = color_space_of(network)
    return {f"{space}_output", f"{space}_head", LOGITS_LAYER}


def run_precision_test(case):
    """keras-hub's, per policy: every sublayer's variable and compute dtype, the output's."""
    gray = gray_batch(SIZE, n=1)
    for name in POLICIES:
        policy = keras.DTypePolicy(name)
        with global_dtype_policy(name):
            task = colorizer_in_training(build_task(case))
        network = task.network
        head = float32_layers(network)
        checked = 0
        for layer in network._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.InputLayer):
                continue
            compute = "float32" if layer.name in head else policy.compute_dtype
            assert (layer.name, layer.compute_dtype) == (layer.name, compute), name
            assert (layer.name, layer.variable_dtype) == (layer.name, "float32"), name
            checked += 1
        assert checked > len(head)  # the body was seen, not only the head
        # The task's colour maths stay float32 too, and so does what it returns.
        for layer in (task.pad, task.decode, task.crop):
            assert layer.compute_dtype == "float32", (name, layer.name)
        assert network(gray, training=False).dtype == "float32"
        rgb = task.rgb(gray)
        assert rgb.dtype == "float32" and np.isfinite(rgb.numpy()).all(), name


def run_task_test(case):
    """keras-hub's: fit on a `tf.data` pipeline lowers the loss; predict on one gives RGB."""
    keras.utils.set_random_seed(0)
    task = build_task(case)
    if case == "unet-encoder":  # frozen, as training sets it up; fine-tuned elsewhere
        for encoder in efficientnet_lite.encoders_of(task.network):
            encoder.trainable = False
    loss = ab_classes.ABClassificationLoss() if "classification" in case else "mae"
    if case == "pix2pix":
        task.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-3),
                     reconstruction=loss, lambda_=100.0)
        name = "rec_loss"
    else:
        task.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
        name = "loss"
    gray, target = gray_batch(32, n=4), target_batch(case, 32, n=4)
    pairs = tf.data.Dataset.from_tensor_slices((gray, target)).batch(4).repeat()
    # Each epoch logs the loss of the weights of its one step, before the update.
    history = task.fit(pairs, epochs=3, steps_per_epoch=1, verbose=0).history[name]
    assert np.isfinite(history).all() and history[-1] < history[0], history
    photos = tf.data.Dataset.from_tensor_slices(gray_batch(40, n=4)).batch(2)
    rgb = task.predict(photos, verbose=0)
    assert rgb.shape == (4, 40, 40, 3) and 0 <= rgb.min() and rgb.max() <= 1


@pytest.mark.parametrize("case", CASES)
def test_serialization(case):
    network = build_network(case)
    space, hparams = TINY[case]
    config = network.get_config()
    assert config["color_space"] == color_space_of(network) == space
    expected = {**hparams_of(registry_name(case)), **hparams}
    assert {k: config[k] for k in expected} == expected
    rebuilt = run_serialization_test(network)
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in network.weights]
    assert size_multiple(rebuilt) == size_multiple(network)
    task = run_serialization_test(Colorizer(network))  # the task, its network inside
    assert task.network.get_config() == network.get_config()


@pytest.mark.parametrize("case", CASES)
def test_precision(case):
    run_precision_test(case)


@pytest.mark.parametrize("case", CASES)
def test_task(case):
    run_task_test(case)
