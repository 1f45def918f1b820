"""The one colorization recipe, `Colorizer.colorize`: shipped outputs unchanged, one copy.

``data/shipped_outputs.npz`` holds what the six shipped models made of one
36x52 crop of a sample photo at render size 64, through the recipe as it was
before `ColorizeRecipe` (commit 6de8579's `inference.colorize_batch`): the
float32 RGB before rounding (``<name>_keep``), and the uint8 images with and
without the photo's luminance. The float array was computed as that
function did, `color.recombine_luminance(gray, colorizer.rgb(small))`,
clipped, without the final rounding. Every later change to the recipe, the
files or the way they load must give the same outputs.
"""

import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

import colorkeras
from colorkeras import color
from colorkeras.colorizer import ColorizeRecipe
from colorkeras.errors import InputError

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = HERE.parent / "colorkeras"
SHIPPED = ["cae", "dcnn", "unet", "resnet", "densenet", "pix2pix"]
RENDER_SIZE = 64


@pytest.fixture(scope="module")
def reference():
    with np.load(HERE / "data" / "shipped_outputs.npz") as stored:
        return dict(stored)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_gives_the_outputs_it_gave_before(reference, name):
    photo = reference["photo"][None]
    colorizer = colorkeras.load(name)
    kept = colorizer.colorize(photo, render_size=RENDER_SIZE)[0].numpy()
    own = colorizer.colorize(photo, render_size=RENDER_SIZE, keep_luminance=False)[0].numpy()
    np.testing.assert_array_equal(kept, reference[f"{name}_keep_uint8"])
    np.testing.assert_array_equal(own, reference[f"{name}_own_uint8"])
    # Before rounding: the compiled render, and the chroma put onto the photo's luma.
    gray, _, yuv = colorizer.make_colorize_function(RENDER_SIZE).render(photo)
    rgb = tf.clip_by_value(color.with_chroma(gray, yuv[..., 1:]), 0.0, 1.0)[0].numpy()
    np.testing.assert_allclose(rgb, reference[f"{name}_keep"], rtol=0, atol=1e-5)


class Flat(ColorizeRecipe):
    """A colorizer that paints every pixel one colour: the recipe without a network."""

    name = "flat"

    def rgb(self, gray):
        return tf.broadcast_to(tf.constant([0.8, 0.3, 0.2]), tf.concat(
            [tf.shape(gray)[:3], [3]], axis=0))


def test_a_chroma_filter_sees_the_render_size_colour_and_changes_the_output():
    photos = np.random.default_rng(0).integers(0, 256, (2, 40, 60, 3), dtype=np.uint8)
    seen = []

    def drop_colour(luma, chroma):
        seen.append((tuple(luma.shape), tuple(chroma.shape)))
        return tf.zeros_like(chroma)

    colorizer = Flat()
    coloured = colorizer.colorize(photos, render_size=20).numpy()
    gray = colorizer.colorize(photos, render_size=20, chroma_filter=drop_colour).numpy()
    assert seen == [((2, 20, 30, 1), (2, 20, 30, 2))]
    assert np.ptp(coloured.astype(int), axis=-1).mean() > 20  # the flat colour is on
    assert np.ptp(gray.astype(int), axis=-1).max() <= 1  # no chroma left: R = G = B
    luma = color.luminance(photos / 255.0).numpy()
    assert np.abs(gray[..., :1] / 255.0 - luma).max() <= 0.51 / 255


def test_the_recipe_refuses_what_it_cannot_colorize():
    with pytest.raises(InputError, match="images.*uint8"):
        Flat().colorize(np.zeros((1, 8, 8, 3), np.float32))

    class Shrinking(Flat):
        def rgb(self, gray):
            return super().rgb(gray[:, ::2, ::2])

    with pytest.raises(InputError, match="must return RGB of its input's size"):
        Shrinking().colorize(np.zeros((1, 8, 8, 3), np.uint8))


def test_the_recipe_is_traced_once_per_setting_and_kept_on_the_instance():
    colorizer = Flat()
    for shape in [(1, 9, 9, 1), (2, 30, 17, 3), (1, 5, 40, 4)]:
        colorizer.colorize(np.zeros(shape, np.uint8), render_size=16)
    function = colorizer.make_colorize_function(16)
    assert function == colorizer.make_colorize_function(16, keep_luminance=True)
    assert function.render.experimental_get_tracing_count() == 1
    assert function.finish.experimental_get_tracing_count() == 1
    # The network half is shared by both ways of finishing, not by other objects.
    other = colorizer.make_colorize_function(16, keep_luminance=False)
    assert other.render is function.render and other.finish is not function.finish
    assert Flat().make_colorize_function(16).render is not function.render


def test_no_module_but_the_recipe_recombines_luminance_or_rounds_to_8_bits():
    """The recipe is written once: in `ColorizeRecipe`, with image files read and
    written by `images` and training photos resized by `data`."""
    allowed = {
        "colorizer.py",  # the recipe
        "color.py",  # the colour-space primitives, and Lab decoding
        "images.py",  # image files in and out
        "data/__init__.py",  # training photos decoded and resized
    }
    pattern = re.compile(r"recombine_luminance\(|with_chroma\(|round\(.*(255|uint8)"
                         r"|(255|uint8).*round\(|\* *255\.?0?\)\.astype")
    offenders = [f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
                 for path in sorted(PACKAGE.rglob("*.py"))
                 if str(path.relative_to(PACKAGE)) not in allowed
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
