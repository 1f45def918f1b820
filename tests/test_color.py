import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

from colorkeras import color

CORNERS = np.array(
    [[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype="float32"
)  # black, blue, green, cyan, red, magenta, yellow, white


def random_rgb(shape=(2, 16, 16, 3), seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def soft_rgb(shape=(2, 16, 16, 3), saturation=0.1, seed=0):
    """Colours well inside the gamut: mid-gray plus a little chroma."""
    rgb = random_rgb(shape, seed)
    gray = 0.25 + 0.5 * rgb.mean(axis=-1, keepdims=True)
    return gray + saturation * (rgb - rgb.mean(axis=-1, keepdims=True))


@pytest.mark.parametrize("rgb", [random_rgb(), CORNERS], ids=["random", "corners"])
def test_rgb_to_lab_matches_skimage(rgb):
    ours = color.rgb_to_lab(rgb).numpy()
    np.testing.assert_allclose(ours, skcolor.rgb2lab(rgb, "D65", "2"), atol=0.5)
    assert ours[..., 0].min() >= 0.0 and ours[..., 0].max() <= 100.0 + 1e-3


@pytest.mark.parametrize("rgb", [random_rgb(), CORNERS], ids=["random", "corners"])
def test_lab_to_rgb_matches_skimage(rgb):
    lab = skcolor.rgb2lab(rgb, "D65", "2")
    # Push some colours out of gamut, where both must clip the same way.
    lab = np.concatenate([lab, lab * [1.0, 1.5, 1.5]]).astype("float32")
    ours = color.lab_to_rgb(lab).numpy()
    np.testing.assert_allclose(ours, skcolor.lab2rgb(lab, "D65", "2"), atol=2e-3)
    assert ours.min() >= 0.0 and ours.max() <= 1.0


def test_lab_round_trip():
    rgb = random_rgb()
    np.testing.assert_allclose(color.lab_to_rgb(color.rgb_to_lab(rgb)), rgb, atol=1e-3)


def test_yuv_matches_tf_and_round_trips():
    rgb = random_rgb()
    yuv = color.rgb_to_yuv(rgb)
    np.testing.assert_allclose(yuv, tf.image.rgb_to_yuv(rgb), atol=1e-6)
    np.testing.assert_allclose(color.yuv_to_rgb(yuv), rgb, atol=1e-3)
    assert float(tf.reduce_max(color.yuv_to_rgb(yuv * 3.0))) <= 1.0


def test_unbatched_images_work():
    rgb = random_rgb()
    for fn in (color.rgb_to_lab, color.rgb_to_yuv, color.luminance):
        np.testing.assert_allclose(fn(rgb[0]), fn(rgb)[0], atol=1e-6)


def test_luminance_is_bt601_and_passes_gray_through():
    rgb = random_rgb()
    expected = rgb @ np.array([0.299, 0.587, 0.114], dtype="float32")
    gray = color.luminance(rgb)
    assert gray.shape == (2, 16, 16, 1)
    np.testing.assert_allclose(gray[..., 0], expected, atol=1e-6)
    np.testing.assert_array_equal(color.luminance(gray), gray)


@pytest.mark.parametrize("space, atol", [("rgb", 1e-3), ("yuv", 1e-3), ("lab", 0.02)])
def test_encode_decode_round_trip(space, atol):
    rgb = soft_rgb()
    target = color.encode_target(rgb, space)
    assert target.shape[-1] == color.output_channels(space)
    decoded = color.decode_output(color.luminance(rgb), target, space)
    assert decoded.shape == rgb.shape
    np.testing.assert_allclose(decoded, rgb, atol=atol)


def test_lab_decode_keeps_the_gray_luma_and_the_hue():
    # L* of (Y, Y, Y) is not L* of the colour (luma is not luminance), so the
    # decoder puts the Lab colour back onto the gray's luma: brightness is
    # exact, and the chroma keeps its hue.
    rgb = soft_rgb(saturation=0.4)
    gray = color.luminance(rgb)
    decoded = color.decode_output(gray, color.encode_target(rgb, "lab"), "lab")
    np.testing.assert_allclose(color.luminance(decoded), gray, atol=2e-3)
    ab_true = color.rgb_to_lab(rgb)[..., 1:].numpy().reshape(-1, 2)
    ab_back = color.rgb_to_lab(decoded)[..., 1:].numpy().reshape(-1, 2)
    strong = np.linalg.norm(ab_true, axis=1) > 5
    cosine = np.sum(ab_true * ab_back, axis=1) / (
        np.linalg.norm(ab_true, axis=1) * np.linalg.norm(ab_back, axis=1) + 1e-6)
    assert strong.sum() > 10 and cosine[strong].min() > 0.95


def test_gray_to_lightness_matches_skimage():
    gray = np.linspace(0.0, 1.0, 11, dtype="float32")[:, None]
    expected = skcolor.rgb2lab(np.repeat(gray, 3, axis=-1))[:, :1]
    np.testing.assert_allclose(color.gray_to_lightness(gray), expected, atol=0.05)


def test_encoded_chroma_of_cube_corners_is_within_bounds():
    lab = color.encode_target(CORNERS, "lab").numpy()
    assert np.abs(lab).max() <= 1.0
    assert np.abs(lab).max() > 0.8  # the scale is not needlessly loose
    yuv = color.encode_target(CORNERS, "yuv").numpy()
    # Documented: blue and yellow reach |U| / 0.436 = 1.00002.
    assert np.abs(yuv).max() <= 1.0 + 5e-5
    assert np.abs(yuv).max() > 0.99


def test_unknown_color_space_is_rejected():
    with pytest.raises(ValueError, match="Received: color_space='hsv'"):
        color.encode_target(CORNERS, "hsv")
    with pytest.raises(ValueError, match="Received"):
        color.decode_output(CORNERS[:, :1], CORNERS, "hsv")


def test_recombine_keeps_gray_luma_and_rgb_chroma():
    rgb = soft_rgb(saturation=0.2)
    gray = soft_rgb(seed=1)[..., :1]
    out = color.recombine_luminance(gray, rgb)
    np.testing.assert_allclose(color.luminance(out), gray, atol=1e-5)
    np.testing.assert_allclose(
        color.rgb_to_yuv(out)[..., 1:], color.rgb_to_yuv(rgb)[..., 1:], atol=1e-5
    )


def test_recombine_resizes_low_resolution_colour():
    gray = soft_rgb((1, 32, 32, 3))[..., :1]
    small = np.full((1, 8, 8, 3), [0.6, 0.5, 0.4], dtype="float32")
    out = color.recombine_luminance(gray, small)
    assert out.shape == (1, 32, 32, 3)
    np.testing.assert_allclose(color.luminance(out), gray, atol=1e-5)
    assert color.recombine_luminance(gray[0], small[0]).shape == (32, 32, 3)


def test_rgb_to_lab_gradients_are_finite_at_the_ends():
    rgb = tf.Variable(np.concatenate([CORNERS, [[0.04045, 1e-6, 0.5]]]).astype("float32"))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(color.rgb_to_lab(rgb))
    gradient = tape.gradient(total, rgb).numpy()
    assert np.isfinite(gradient).all()
    assert np.abs(gradient).max() > 0


def test_decode_is_differentiable():
    gray = tf.constant(soft_rgb()[..., :1])
    output = tf.Variable(np.zeros((2, 16, 16, 2), dtype="float32"))
    for space in ("lab", "yuv"):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(color.decode_output(gray, output, space))
        gradient = tape.gradient(total, output).numpy()
        assert np.isfinite(gradient).all() and np.abs(gradient).max() > 0
