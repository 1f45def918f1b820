"""Colour hints: the hint branch, hints drawn from the truth, and hints a person gives."""

import json

import numpy as np
import pytest
import tensorflow as tf

from colorkeras import hint_sampling, hints
from colorkeras.errors import InputError

TINY = dict(depth=4, base_filters=4, head="classification")  # size multiple 16, as the branch's


def tiny_hint_network(**changes):
    from colorkeras.models import build_model

    return build_model("unet", color_space="lab", **{**TINY, "hints": True, **changes})


def random_hints(shape, seed=0):
    target = tf.random.stateless_uniform([*shape, 2], [seed, 1], -0.4, 0.4)
    return hint_sampling.sample_hints(target, [seed, 2], count=6)


# --- the branch --------------------------------------------------------------


def test_hint_network_without_hints_is_exactly_the_automatic_one(tmp_path):
    """Weights copied from a hint-less network; a trained (non-zero) branch; no hints."""
    import keras

    from colorkeras.colorizer import Colorizer
    from colorkeras.models import build_model
    from colorkeras.models.hint_branch import is_hint_layer
    from colorkeras.training import initialize_from

    keras.utils.set_random_seed(3)
    automatic = Colorizer(build_model("unet", color_space="lab", **TINY))
    automatic.save(tmp_path / "auto.keras")
    hinted = Colorizer(tiny_hint_network())
    initialize_from(hinted, str(tmp_path / "auto.keras"))
    for layer in hinted.network.layers:  # as if trained: the answer is no longer zero
        if is_hint_layer(layer) and layer.weights:
            layer.set_weights([np.random.normal(0, 0.3, w.shape) for w in layer.get_weights()])
    gray = tf.random.uniform([2, 40, 56, 1], seed=1)
    plain = automatic.rgb(gray).numpy()
    np.testing.assert_array_equal(hinted.rgb(gray).numpy(), plain)
    np.testing.assert_array_equal(hinted.rgb(gray, hints=tf.zeros([2, 40, 56, 3])).numpy(), plain)
    with_hints = hinted.rgb(gray, hints=random_hints([2, 40, 56])).numpy()
    assert np.abs(with_hints - plain).max() > 1e-3  # the gate opens with a hint


def test_hint_network_round_trips_and_stays_fully_convolutional(tmp_path):
    import keras

    import colorkeras  # noqa: F401

    network = tiny_hint_network()
    assert [tuple(i.shape) for i in network.inputs] == [(None, None, None, 1),
                                                       (None, None, None, 3)]
    path = tmp_path / "hints.keras"
    network.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.has_hints and loaded.get_config() == network.get_config()
    inputs = [tf.random.uniform([1, 64, 96, 1]), random_hints([1, 64, 96])]
    np.testing.assert_allclose(loaded(inputs).numpy(), network(inputs).numpy(), atol=1e-6)


def test_hints_need_a_classification_head():
    with pytest.raises(InputError, match="classification head"):
        tiny_hint_network(head="regression")


def test_a_model_without_a_hint_input_refuses_hints():
    from colorkeras.colorizer import Colorizer
    from colorkeras.models import build_model

    colorizer = Colorizer(build_model("unet", color_space="lab", **TINY))
    with pytest.raises(InputError, match="takes no colour hints"):
        colorizer.rgb(tf.zeros([1, 32, 32, 1]), hints=tf.zeros([1, 32, 32, 3]))


def test_freeze_base_trains_only_the_branch():
    from colorkeras.models.hint_branch import freeze_all_but_hints, is_hint_layer

    network = tiny_hint_network()
    branch = freeze_all_but_hints(network)
    assert branch and all(is_hint_layer(layer) for layer in branch)
    trainable = {v.path.split("/")[0] for v in network.trainable_variables}
    assert trainable and all(name.startswith("hint_") for name in trainable)


# --- hints drawn from the truth -------------------------------------------------


def test_sampled_hints_reveal_patch_means_and_follow_the_geometric_law():
    target = tf.random.stateless_uniform([256, 48, 48, 2], [0, 0], -0.5, 0.5)
    drawn = hint_sampling.sample_hints(target, [4, 5]).numpy()
    mask = drawn[..., 2]
    none = np.mean(mask.reshape(256, -1).max(1) == 0)
    assert 0.05 < none < 0.22, none  # P(no hint) = 1/8
    # A photo's hinted pixels hold means of the truth: never outside its range,
    # and a single-pixel hint far from others holds that very pixel's value.
    ab = drawn[..., :2][mask > 0]
    assert np.all(np.abs(ab) <= 0.5 + 1e-6)
    assert np.all(drawn[..., :2][mask == 0] == 0)
    one = hint_sampling.paint_hints(
        target[:1], tf.one_hot([[7]], 48), tf.one_hot([[9]], 48), tf.ones([1, 1])).numpy()
    np.testing.assert_allclose(one[0, 7, 9, :2], target[0, 7, 9].numpy(), atol=1e-6)
    assert one[..., 2].sum() == 1


def test_a_fixed_count_gives_that_many_patches():
    target = tf.zeros([8, 64, 64, 2])
    for count in (0, 1, 5):
        mask = hint_sampling.sample_hints(target, [1, count], count=count).numpy()[..., 2]
        per_photo = mask.reshape(8, -1).sum(1)
        assert np.all(per_photo <= count * hint_sampling.MAX_PATCH ** 2)
        assert np.all(per_photo >= min(count, 1))


def test_add_hints_is_repeatable():
    data = tf.data.Dataset.from_tensors(
        (tf.zeros([2, 32, 32, 1]), tf.random.uniform([2, 32, 32, 2], seed=1))).repeat(2)
    first = [h.numpy() for (_, h), _ in hint_sampling.add_hints(data, seed=3)]
    again = [h.numpy() for (_, h), _ in hint_sampling.add_hints(data, seed=3)]
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], first[1])  # each batch draws its own


# --- hints a person gives ---------------------------------------------------------


@pytest.mark.parametrize("colour, rgb", [("#ff0000", (1, 0, 0)), ("00ff80", (0, 1, 128 / 255)),
                                         ((0, 0, 255), (0, 0, 1)), ((0.5, 0.5, 0.5), (.5, .5, .5))])
def test_colours(colour, rgb):
    np.testing.assert_allclose(hints.parse_colour(colour), rgb)


@pytest.mark.parametrize("colour", ["red", "#ff00", (1, 2), (300, 0, 0), (0.5, -1, 0), True])
def test_bad_colours_are_refused(colour):
    with pytest.raises(InputError, match="colour"):
        hints.parse_colour(colour)


def test_hint_points_check_the_photo():
    points = hints.hint_points([(3, 4, "#0000ff"), {"x": 0, "y": 9, "colour": [255, 0, 0],
                                                    "radius": 2}], height=10, width=20)
    np.testing.assert_allclose(points, [[3, 4, 0, 0, 0, 1], [0, 9, 2, 1, 0, 0]])
    with pytest.raises(InputError, match="outside the 20x10 photo"):
        hints.hint_points([(20, 0, "#ffffff")], height=10, width=20)
    with pytest.raises(InputError, match="`radius`"):
        hints.hint_points([(1, 1, "#ffffff", -1)], height=10, width=20)
    with pytest.raises(InputError, match="A hint is"):
        hints.hint_points([(1, "#ffffff")], height=10, width=20)


def test_rasterized_hints_hold_the_colour_at_render_size():
    from colorkeras import color

    points = hints.hint_points([(99, 50, "#d02020", 10)], height=100, width=200)
    painted = hints.rasterize_hints(points, [100, 200], [50, 100]).numpy()[0]
    lab = color.rgb_to_lab(tf.constant([[[[0xd0 / 255, 0x20 / 255, 0x20 / 255]]]])).numpy()
    np.testing.assert_allclose(painted[25, 49, :2], lab[0, 0, 0, 1:] / 110, atol=1e-5)
    assert painted[25, 49, 2] == 1 and painted[0, 0, 2] == 0
    assert 60 < painted[..., 2].sum() < 100  # a disk of radius 5 render pixels: ~79
    tiny = hints.rasterize_hints(hints.hint_points([(0, 0, "#ff0000")], 1000, 1000),
                                 [1000, 1000], [10, 10]).numpy()[0]
    assert tiny[..., 2].sum() >= 1  # a point always hints at least one render pixel


def test_hints_files(tmp_path):
    good = tmp_path / "hints.json"
    points = hints.hint_points([(5, 6, "#102030", 3)], 10, 10)
    good.write_text(hints.hints_to_json(points))
    assert hints.read_hints_file(good) == [{"x": 5.0, "y": 6.0, "colour": "#102030",
                                            "radius": 3.0}]
    for text, message in [("{", "is not JSON"), ('{"x": 1}', "JSON list"),
                          ("[1]", "must be an object"), ('[{"x": 1, "y": 2}]', "A hint is")]:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            hints.read_hints_file(bad)
    with pytest.raises(InputError, match="cannot read"):
        hints.read_hints_file(tmp_path / "missing.json")
    json.loads(hints.hints_to_json(np.zeros([0, 6])))


# --- the API, the command and the SavedModel ----------------------------------------


@pytest.fixture(scope="module")
def hint_model_file(tmp_path_factory):
    """A tiny hint colorizer whose branch answers (random weights), saved once."""
    import keras

    from colorkeras.colorizer import Colorizer
    from colorkeras.models.hint_branch import is_hint_layer

    keras.utils.set_random_seed(5)
    network = tiny_hint_network()
    for layer in network.layers:
        if is_hint_layer(layer) and layer.weights:
            layer.set_weights([np.random.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    path = tmp_path_factory.mktemp("hint-model") / "hints.keras"
    Colorizer(network).save(path)
    return path


PHOTO = (np.arange(48 * 80).reshape(48, 80) % 251).astype(np.uint8)
HINTS = [(60, 20, "#2040e0", 4)]


def test_colorize_takes_hints(hint_model_file, tiny_network):
    import colorkeras

    plain = colorkeras.colorize(PHOTO, model=str(hint_model_file), render_size=48)
    hinted = colorkeras.colorize(PHOTO, model=str(hint_model_file), render_size=48, hints=HINTS)
    assert hinted.shape == plain.shape == (48, 80, 3)
    assert np.abs(hinted.astype(int) - plain).max() > 2
    with pytest.raises(InputError, match="takes no colour hints"):
        colorkeras.colorize(PHOTO, model=str(tiny_network), hints=HINTS)
    with pytest.raises(InputError, match="one photo"):
        colorkeras.colorize([PHOTO, PHOTO], model=str(hint_model_file), hints=HINTS)
    with pytest.raises(InputError, match="outside the 80x48 photo"):
        colorkeras.colorize(PHOTO, model=str(hint_model_file), hints=[(80, 0, "#ffffff")])


def test_the_command_reads_a_hints_file(hint_model_file, tiny_network, run_command, tmp_path):
    from PIL import Image

    from colorkeras import colorize_command, images

    photo = tmp_path / "photo.png"
    Image.fromarray(PHOTO).save(photo)
    good, broken, outside = (tmp_path / name for name in ("h.json", "broken.json", "out.json"))
    good.write_text(hints.hints_to_json(hints.hint_points(HINTS, 48, 80)))
    broken.write_text('[{"x": 1}]')
    outside.write_text('[{"x": 500, "y": 1, "colour": "#ff0000"}]')
    base = [photo, "--model", hint_model_file, "--render-size", 48]
    code, out, _ = run_command(colorize_command.main, *base, "--hints", good,
                               "--out", tmp_path / "a")
    assert code == 0, out
    expected = __import__("colorkeras").colorize(PHOTO, model=str(hint_model_file),
                                                 render_size=48, hints=HINTS)
    np.testing.assert_array_equal(images.read_image(tmp_path / "a" / "photo.png")[..., :3],
                                  expected)
    for bad, message in [(broken, "A hint is"), (outside, "outside the 80x48 photo")]:
        code, _, err = run_command(colorize_command.main, *base, "--hints", bad,
                                   "--out", tmp_path / "b")
        assert code == 2 and message in err and "Traceback" not in err
    code, _, err = run_command(colorize_command.main, photo, "--model", tiny_network,
                               "--hints", good, "--out", tmp_path / "c")
    assert code == 2 and "takes no colour hints" in err
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_the_saved_model_has_a_hint_signature(hint_model_file, tmp_path):
    import colorkeras
    from colorkeras import export

    target = export.export(str(hint_model_file), tmp_path / "served", version=1, render_size=48)
    served = tf.saved_model.load(str(target))
    assert set(served.signatures) == {"serving_default", "colorize_encoded",
                                      "colorize_with_hints"}
    points = hints.hint_points(HINTS, 48, 80)
    images_ = tf.constant(np.stack([PHOTO, PHOTO])[..., None])
    got = served.signatures["colorize_with_hints"](images=images_,
                                                   hint_points=tf.constant(points))
    expected = colorkeras.colorize(PHOTO, model=str(hint_model_file), render_size=48,
                                   hints=HINTS)
    assert got["colorized"].shape == (2, 48, 80, 3)
    np.testing.assert_array_equal(got["colorized"][1].numpy(), expected)
    plain = served.signatures["serving_default"](images=images_)["colorized"]
    assert np.abs(plain.numpy().astype(int) - got["colorized"].numpy()).max() > 2


def test_an_onnx_export_of_a_hint_model_is_automatic_only_and_says_so(hint_model_file, tmp_path):
    import keras

    from colorkeras import portable, runtimes

    path = portable.export(str(hint_model_file), tmp_path / "onnx", "onnx", size=48)
    info = json.loads((tmp_path / "onnx" / "model.json").read_text())
    assert info["hints"].startswith("automatic only")
    colorizer = keras.saving.load_model(hint_model_file, safe_mode=True)
    gray = np.random.default_rng(0).random((1, 48, 80, 1), dtype=np.float32)
    got = runtimes.load(path).predict(gray)
    np.testing.assert_allclose(got, colorizer.rgb(gray).numpy(), atol=1e-3)


def test_attention_pulls_a_hint_less_far_away():
    """Equal features everywhere: without reach a hint is taken as much far as near."""
    from colorkeras.models.hint_branch import HintAttention

    features = tf.ones([1, 8, 16, 4])
    pooled = np.zeros([1, 8, 16, 4], np.float32)
    pooled[0, 4, 2] = [0.5, -0.2, 1.0, 1.0]  # one hinted cell near the left edge
    near, far = (0, 4, 3), (0, 4, 15)
    local = HintAttention(reach=0.2)([features, features, tf.constant(pooled)]).numpy()
    everywhere = HintAttention()([features, features, tf.constant(pooled)]).numpy()
    assert everywhere[near][2] == pytest.approx(everywhere[far][2])
    assert local[far][2] < 0.01 < 0.3 < local[near][2]
    np.testing.assert_allclose(local[near][:2] / local[near][2], [0.5, -0.2], rtol=1e-5)
