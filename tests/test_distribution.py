"""Losses and gradients under tf.distribute match one device at the same global batch.

MirroredStrategy needs its logical devices set before TensorFlow starts, so
the comparisons run in one fresh process over 2 logical CPU devices: Pix2Pix,
a plain U-Net, and the ImageNet-encoder U-Net as training now sets it up by
default (encoder non-trainable, logits at output stride 4, a*b* classes, no
RGB metrics in the step).
"""

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from colorkeras.ab_classes import ABClassificationLoss
    from colorkeras.pix2pix import build_pix2pix
    from colorkeras.colorizer import Colorizer
    from colorkeras.models import build_model, efficientnet_lite

    rng = np.random.default_rng(0)
    # Each replica gets [a, b]: its batch norm statistics are the global batch's.
    half_gray = rng.random((2, 32, 32, 1), dtype=np.float32)
    half_target = rng.uniform(-0.5, 0.5, (2, 32, 32, 2)).astype(np.float32)
    gray, target = np.concatenate([half_gray] * 2), np.concatenate([half_target] * 2)

    def make(kind):
        keras.utils.set_random_seed(0)
        if kind == "encoder":
            network = build_model("unet", color_space="lab", backbone="efficientnet_lite0",
                                  base_filters=4, encoder_weights="none",
                                  head="classification")
            for encoder in efficientnet_lite.encoders_of(network):
                encoder.trainable = False
            model = Colorizer(network, rgb_metrics_in_training=False)
            # Its class loss's gradients are large: a smaller step keeps float noise small.
            model.compile(keras.optimizers.SGD(1e-3), loss=ABClassificationLoss())
        elif kind == "pix2pix":
            model = build_pix2pix(color_space="lab",
                                  generator_hparams={"depth": 1, "base_filters": 4},
                                  discriminator_hparams={"num_layers": 1, "base_filters": 4})
            model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), lambda_=1.0)
        else:
            model = Colorizer(build_model("unet", color_space="lab", depth=1, base_filters=4))
            model.compile(keras.optimizers.SGD(0.1), loss="mae")
        return model

    def one_step(kind, strategy):
        with strategy.scope():
            model = make(kind)
        data = tf.data.Dataset.from_tensors((gray, target)).repeat()
        logs = model.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False).history
        return ({k: float(v[0]) for k, v in logs.items()},
                [w.numpy().tolist() for w in model.trainable_weights])

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print(json.dumps({kind: {"single": one_step(kind, tf.distribute.get_strategy()),
                             "mirrored": one_step(kind, mirrored)}
                      for kind in sys.argv[1:]}))
""")
KINDS = ["pix2pix", "regression", "encoder"]


@pytest.fixture(scope="module")
def replicated_runs():
    """Every kind's one step on one device and on two replicas, from one process."""
    result = subprocess.run([sys.executable, "-c", SCRIPT, *KINDS], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_two_replicas_log_and_step_like_one_device(kind, replicated_runs):
    import numpy as np

    runs = replicated_runs[kind]
    (single_logs, single_weights), (mirrored_logs, mirrored_weights) = (
        runs["single"], runs["mirrored"])
    for name in single_logs:
        if name.endswith("loss") or name in ("g_loss", "d_loss"):
            assert mirrored_logs[name] == pytest.approx(single_logs[name], rel=1e-4), name
    for a, b in zip(single_weights, mirrored_weights):
        np.testing.assert_allclose(np.array(b), np.array(a), atol=1e-5)
