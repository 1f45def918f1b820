import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

from colorkeras import color, metrics


def random_rgb(shape=(2, 16, 16, 3), seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def lab_image(lightness, a, b, shape=(2, 16, 16)):
    """An RGB image built in Lab; fails if a colour is out of gamut (clipped)."""
    lab = np.zeros(shape + (3,), "float32")
    lab[..., 0], lab[..., 1], lab[..., 2] = lightness, a, b
    rgb = color.lab_to_rgb(lab)
    np.testing.assert_allclose(color.rgb_to_lab(rgb), lab, atol=0.05)
    return rgb.numpy()


def test_identical_images_score_perfectly():
    rgb = random_rgb()
    assert np.allclose(metrics.mae(rgb, rgb), 0.0)
    assert np.allclose(metrics.mse(rgb, rgb), 0.0)
    assert np.allclose(metrics.huber(rgb, rgb), 0.0)
    np.testing.assert_allclose(metrics.psnr(rgb, rgb), metrics.PSNR_CAP_DB)
    np.testing.assert_allclose(metrics.ssim(rgb, rgb), 1.0, atol=1e-5)
    np.testing.assert_allclose(metrics.ciede2000(rgb, rgb), 0.0, atol=1e-3)
    np.testing.assert_allclose(metrics.ab_mae(rgb, rgb), 0.0, atol=1e-4)
    np.testing.assert_allclose(metrics.colorfulness_ratio(rgb, rgb), 1.0, atol=1e-5)
    np.testing.assert_allclose(metrics.grayishness(rgb, rgb), 1.0, atol=1e-5)
    np.testing.assert_allclose(metrics.color_bleeding(rgb, rgb), 1.0, atol=1e-4)


def test_pixel_metrics_on_a_known_offset():
    truth = np.full((1, 12, 12, 3), 0.25, dtype="float32")
    pred = truth + 0.5
    np.testing.assert_allclose(metrics.mae(truth, pred), [0.5], atol=1e-6)
    np.testing.assert_allclose(metrics.mse(truth, pred), [0.25], atol=1e-6)
    np.testing.assert_allclose(metrics.huber(truth, pred), [0.125], atol=1e-6)
    np.testing.assert_allclose(metrics.psnr(truth, pred), [10 * np.log10(4.0)], atol=1e-4)
    expected_bce = -(0.25 * np.log(0.75) + 0.75 * np.log(0.25))
    np.testing.assert_allclose(metrics.bce(truth, pred), [expected_bce], atol=1e-5)
    # Huber turns linear past delta = 1.
    far = np.zeros((1, 4, 4, 3), "float32")
    np.testing.assert_allclose(metrics.huber(far, far + 3.0), [2.5], atol=1e-6)


def test_bce_is_finite_for_saturated_predictions():
    truth = random_rgb()
    values = metrics.bce(truth, np.round(1.0 - truth)).numpy()
    assert np.isfinite(values).all() and (values > 1.0).all()


def test_ssim_handles_images_smaller_than_its_window():
    rgb = random_rgb((2, 8, 8, 3))
    np.testing.assert_allclose(metrics.ssim(rgb, rgb), 1.0, atol=1e-5)
    assert (metrics.ssim(rgb, random_rgb((2, 8, 8, 3), seed=1)).numpy() < 0.5).all()


def test_every_metric_returns_one_value_per_image():
    truth, pred = random_rgb((3, 16, 16, 3)), random_rgb((3, 16, 16, 3), seed=1)
    summary = metrics.summarize(truth, pred)
    assert tuple(summary) == metrics.METRIC_NAMES
    for name, value in summary.items():
        assert value.shape == (3,), name
        assert value.dtype == tf.float32, name
        assert np.isfinite(value.numpy()).all(), name
    assert metrics.color_cast(truth, pred).shape == (3, 2)
    # A single image counts as a batch of one, and matches its batched value.
    single = metrics.ciede2000(truth[0], pred[0])
    np.testing.assert_allclose(single, summary["ciede2000"][:1], rtol=1e-5)


def test_summarize_agrees_with_the_functions():
    truth, pred = random_rgb(), random_rgb(seed=1)
    summary = metrics.summarize(truth, pred)
    cast = metrics.color_cast(truth, pred)
    expected = {
        "ciede2000": metrics.ciede2000(truth, pred),
        "ab_mae": metrics.ab_mae(truth, pred),
        "colorfulness": metrics.colorfulness(pred),
        "colorfulness_ratio": metrics.colorfulness_ratio(truth, pred),
        "delta_colorfulness": metrics.delta_colorfulness(truth, pred),
        "grayishness": metrics.grayishness(truth, pred),
        "cast_a": cast[:, 0],
        "cast_b": cast[:, 1],
        "cast_magnitude": metrics.color_cast_magnitude(truth, pred),
        "color_bleeding": metrics.color_bleeding(truth, pred),
        "psnr": metrics.psnr(truth, pred),
        "ssim": metrics.ssim(truth, pred),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(summary[name], value, rtol=1e-5, atol=1e-5, err_msg=name)


def test_ciede2000_matches_skimage():
    rng = np.random.default_rng(3)
    lab1 = rng.uniform([0, -100, -110], [100, 100, 100], size=(2000, 3))
    lab2 = lab1 + rng.normal(0, 15, lab1.shape)
    # Hue wrap-around and zero-chroma corners of the formula.
    lab1[:4, 1:] = [[-20, 1e-3], [0, 0], [5, -0.5], [0, 0]]
    lab2[:4, 1:] = [[-20, -1e-3], [10, 10], [5, 0.5], [0, 0]]
    ours = metrics.ciede2000_lab(lab1.astype("float32"), lab2.astype("float32")).numpy()
    np.testing.assert_allclose(ours, skcolor.deltaE_ciede2000(lab1, lab2), atol=1e-3)


def test_ciede2000_reference_pairs():
    # Sharma, Wu & Dalal (2005), table 1: pairs 1, 7, 17 and 26.
    lab1 = [[50, 2.6772, -79.7751], [50, 0, 0], [50, 2.5, 0], [60.2574, -34.0099, 36.2677]]
    lab2 = [[50, 0, -82.7485], [50, -1, 2], [73, 25, -18], [60.4626, -34.1751, 39.4387]]
    expected = [2.0425, 2.3669, 27.1492, 1.2644]
    ours = metrics.ciede2000_lab(np.float32(lab1), np.float32(lab2))
    np.testing.assert_allclose(ours, expected, atol=1e-3)


def test_ciede2000_of_rgb_images_matches_skimage():
    truth, pred = random_rgb(), random_rgb(seed=1)
    per_pixel = skcolor.deltaE_ciede2000(skcolor.rgb2lab(truth), skcolor.rgb2lab(pred))
    expected = per_pixel.mean(axis=(1, 2))
    np.testing.assert_allclose(metrics.ciede2000(truth, pred), expected, atol=0.01)


def test_ciede2000_gradient_is_finite_for_gray_pixels():
    gray = tf.Variable(np.full((1, 4, 4, 3), 0.5, "float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(metrics.ciede2000(np.full((1, 4, 4, 3), 0.4, "float32"), gray))
    assert np.isfinite(tape.gradient(loss, gray).numpy()).all()


def test_gray_output_is_colourless():
    truth = random_rgb()
    gray = np.repeat(color.luminance(truth).numpy(), 3, axis=-1)
    np.testing.assert_allclose(metrics.colorfulness(gray), 0.0, atol=1e-3)
    np.testing.assert_allclose(metrics.colorfulness_ratio(truth, gray), 0.0, atol=1e-4)
    np.testing.assert_allclose(metrics.grayishness(truth, gray), 0.0, atol=1e-2)
    np.testing.assert_allclose(
        metrics.delta_colorfulness(truth, gray), metrics.colorfulness(truth), rtol=1e-4
    )
    # Both colourless: as colourful as the truth.
    np.testing.assert_allclose(metrics.colorfulness_ratio(gray, gray), 1.0)


def test_colorfulness_of_a_two_colour_image_matches_numpy():
    image = np.zeros((1, 8, 8, 3), "float32")
    image[:, :, :3] = [0.9, 0.2, 0.1]
    image[:, :, 3:] = [0.1, 0.4, 0.8]
    r, g, b = np.moveaxis(image[0].reshape(-1, 3) * 255.0, -1, 0)
    rg, yb = r - g, 0.5 * (r + g) - b
    expected = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    np.testing.assert_allclose(metrics.colorfulness(image), [expected], rtol=1e-5)
    np.testing.assert_allclose(metrics.colorfulness(image[0]), [expected], rtol=1e-5)


def test_a_uniform_a_shift_shows_as_a_cast():
    lightness = np.linspace(45, 70, 16)[None, :, None]
    truth = lab_image(lightness, 5.0, 10.0)
    pred = lab_image(lightness, 17.0, 10.0)
    cast = metrics.summarize(truth, pred)
    np.testing.assert_allclose(cast["cast_a"], 12.0, atol=0.5)
    np.testing.assert_allclose(cast["cast_b"], 0.0, atol=0.5)
    np.testing.assert_allclose(cast["cast_magnitude"], 12.0, atol=0.5)
    np.testing.assert_allclose(metrics.ab_mae(truth, pred), 6.0, atol=0.25)


def edge_scene():
    """Dark left half, bright right half, both a muted orange; edge at column 16."""
    lightness = np.where(np.arange(32) < 16, 35.0, 75.0)[None, None, :]
    return lab_image(lightness, 10.0, 20.0, shape=(1, 32, 32))


def with_wrong_colour(truth, columns):
    lightness = np.where(np.arange(32) < 16, 35.0, 75.0)[None, None, :]
    a = np.where(np.isin(np.arange(32), columns), -20.0, 10.0)[None, None, :]
    return lab_image(lightness, a, 20.0, shape=(1, 32, 32))


def test_edge_mask_marks_a_band_around_the_edge():
    mask = metrics.edge_mask(edge_scene(), radius=2).numpy()[0, 0, :, 0]
    assert mask[13:19].all() and not mask[:12].any() and not mask[20:].any()


def test_colour_bleeding_at_edges_scores_above_one():
    truth = edge_scene()
    near = metrics.color_bleeding(truth, with_wrong_colour(truth, [14, 15, 16, 17])).numpy()
    far = metrics.color_bleeding(truth, with_wrong_colour(truth, [2, 3, 28, 29])).numpy()
    assert near[0] > 2.0
    assert far[0] < 0.5
    with pytest.raises(ValueError, match="Received: radius=-1"):
        metrics.color_bleeding(truth, truth, radius=-1)


def test_colour_bleeding_without_edges_is_one():
    flat = lab_image(50.0, 10.0, 20.0, shape=(1, 16, 16))
    pred = lab_image(50.0, -10.0, 20.0, shape=(1, 16, 16))
    np.testing.assert_allclose(metrics.color_bleeding(flat, pred), [1.0])


@pytest.mark.parametrize(
    "metric_class, fn",
    [
        (metrics.PSNR, metrics.psnr),
        (metrics.SSIM, metrics.ssim),
        (metrics.DeltaE2000, metrics.ciede2000),
        (metrics.ABMAE, metrics.ab_mae),
        (metrics.Grayishness, metrics.grayishness),
        (metrics.ColorCastMagnitude, metrics.color_cast_magnitude),
        (metrics.ColorBleeding, metrics.color_bleeding),
    ],
)
def test_keras_metrics_average_the_functions(metric_class, fn):
    batches = [(random_rgb(seed=s), random_rgb(seed=s + 10)) for s in range(2)]
    metric = metric_class(name="val_custom")  # not the default: the round trip must keep it
    for truth, pred in batches:
        metric.update_state(truth, pred)
    expected = np.mean(np.concatenate([fn(t, p).numpy() for t, p in batches]))
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    # The config round trip gives the same metric: same settings, same figure.
    restored = metric_class.from_config(metric.get_config())
    assert restored.get_config() == metric.get_config()
    assert restored.name == "val_custom" and type(restored) is metric_class
    for truth, pred in batches:
        restored.update_state(truth, pred)
    np.testing.assert_allclose(float(restored.result()), float(metric.result()), rtol=1e-6)


def test_keras_metric_in_compile():
    import keras

    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(inputs))
    model.compile(loss="mae", metrics=[metrics.PSNR(), metrics.DeltaE2000()])
    truth = random_rgb((4, 16, 16, 3))
    logits = np.log(truth / (1 - truth + 1e-6) + 1e-6)
    results = model.evaluate(logits, truth, batch_size=2, verbose=0, return_dict=True)
    assert results["psnr"] > 40.0
    assert results["delta_e2000"] < 0.5


def test_colorfulness_ratio_metric_is_a_ratio_of_means():
    """One near-gray truth must not swamp the figure (it sent a mean of ratios to 349)."""
    vivid = random_rgb(seed=1)
    near_gray = np.full_like(vivid, 0.5)
    near_gray[..., 0] += 0.002  # colourfulness ~0.5 on the 0..255 scale
    output = random_rgb(seed=2) * 0.5 + 0.25
    metric = metrics.ColorfulnessRatio()
    metric.update_state(np.concatenate([vivid, near_gray]), np.concatenate([output, output]))
    c = lambda x: metrics.colorfulness(x).numpy()  # noqa: E731
    expected = (c(output).sum() * 2) / (c(vivid).sum() + c(near_gray).sum())
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    assert 0 < float(metric.result()) < 2


def test_summarize_leaves_the_ratio_of_a_gray_truth_undefined():
    one = (1, 16, 16, 3)
    gray = np.repeat(random_rgb(one, seed=3)[..., :1], 3, axis=-1)
    values = metrics.summarize(np.concatenate([gray, random_rgb(one, seed=4)]),
                               random_rgb(seed=5))
    ratio = values["colorfulness_ratio"].numpy()
    assert np.isnan(ratio[0]) and np.isfinite(ratio[1])


def test_blotch_share_counts_vivid_wrong_pixels_only():
    truth = np.full((1, 8, 8, 3), 0.5, np.float32)
    pred = truth.copy()
    pred[0, :2, :, :] = [0.1, 0.2, 0.9]  # saturated blue where the truth is gray: 16 of 64
    dull = truth.copy()
    dull[0, :2, :, :] = [0.45, 0.5, 0.5]  # a small error, not a blotch
    np.testing.assert_allclose(metrics.blotch_share(truth, pred).numpy(), [0.25])
    np.testing.assert_allclose(metrics.blotch_share(truth, dull).numpy(), [0.0])
    # Muting a vivid truth is an error, but not a blotch.
    np.testing.assert_allclose(metrics.blotch_share(pred, truth).numpy(), [0.0])
