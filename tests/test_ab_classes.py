"""The colour-classification option: bins, soft targets, rebalancing, decoding."""

import numpy as np
import pytest
import tensorflow as tf

from colorkeras import ab_classes, color
from colorkeras.models import build_model


def _random_ab(count, seed=0):
    rgb = np.random.default_rng(seed).uniform(0, 1, (count, 3)).astype(np.float32)
    return color.rgb_to_lab(rgb).numpy()[:, 1:]


def test_bins_cover_the_srgb_gamut_at_the_papers_count():
    centres = ab_classes.bin_centres()
    assert 280 <= len(centres) <= 330  # the paper has 313 at grid 10
    assert np.all(np.mod(centres, ab_classes.GRID) == 0)


def test_soft_encoding_puts_its_weight_on_bins_around_the_colour():
    ab = _random_ab(500)
    indices, weights = ab_classes.soft_encode(tf.constant(ab))
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, atol=1e-5)
    centres = ab_classes.bin_centres()[indices.numpy()]
    rebuilt = (weights.numpy()[..., None] * centres).sum(-2)
    # Bilinear weights rebuild the colour wherever all four neighbours are bins.
    assert np.median(np.abs(rebuilt - ab)) < 1e-3
    assert np.all(np.abs(centres - ab[:, None]) <= ab_classes.GRID + 1e-3)


def test_annealed_mean_decodes_a_confident_bin_to_its_centre():
    centres = ab_classes.bin_centres()
    logits = np.full([1, 1, 1, len(centres)], -10.0, np.float32)
    logits[..., 42] = 10.0
    chroma = ab_classes.AnnealedMean()(logits).numpy()[0, 0, 0]
    np.testing.assert_allclose(chroma * color.LAB_AB_SCALE, centres[42], atol=1e-3)
    # A flat distribution decodes to the mean of the bins, at any temperature.
    flat = ab_classes.AnnealedMean(temperature=0.1)(np.zeros_like(logits)).numpy()[0, 0, 0]
    np.testing.assert_allclose(flat * color.LAB_AB_SCALE, centres.mean(0), atol=1e-3)


def test_loss_prefers_logits_peaked_on_the_true_colour():
    ab = _random_ab(64, seed=1).reshape(1, 8, 8, 2)
    indices, weights = ab_classes.soft_encode(tf.constant(ab))
    num_bins = len(ab_classes.bin_centres())
    peaked = tf.reduce_sum(tf.one_hot(indices, num_bins) * weights[..., None], -2) * 20.0
    loss = ab_classes.ABClassificationLoss()
    target = ab / color.LAB_AB_SCALE
    assert float(loss(target, peaked)) < float(loss(target, tf.zeros_like(peaked)))
    with pytest.raises(ValueError, match="one weight per bin"):
        ab_classes.ABClassificationLoss(class_weights=[1.0, 2.0])


def test_rebalancing_favours_rare_colours():
    gray_ish = np.zeros([4, 8, 8, 2], np.float32)
    vivid = np.full([1, 8, 8, 2], 0.5, np.float32)
    prior = ab_classes.estimate_prior([gray_ish, vivid])
    weights = ab_classes.rebalancing_weights(prior)
    common = ab_classes.soft_encode(tf.zeros([2]))[0].numpy()[0]
    rare = ab_classes.soft_encode(tf.constant([55.0, 55.0]))[0].numpy()[0]
    assert weights[rare] > weights[common]
    assert np.all(weights > 0)


def test_classification_head_replaces_only_the_regression_head():
    regression = build_model("unet", color_space="lab", depth=1, base_filters=4)
    classifier = build_model("unet", color_space="lab", depth=1, base_filters=4,
                             head="classification", temperature=0.5)
    assert classifier.layers[-1].name == "lab_output"
    assert classifier.get_layer("ab_logits").filters == len(ab_classes.bin_centres())
    assert [layer.name for layer in classifier.layers[:-2]] == [
        layer.name for layer in regression.layers[:-1]]
    logits, chroma = classifier.logits_view()(np.zeros([1, 8, 12, 1], np.float32))
    assert logits.shape[-1] == len(ab_classes.bin_centres()) and chroma.shape[-1] == 2
    assert regression.logits_view() is None
    with pytest.raises(ValueError, match="color_space='lab'"):
        build_model("unet", color_space="yuv", depth=1, head="classification")
    with pytest.raises(ValueError, match="temperature"):
        build_model("unet", color_space="lab", depth=1, temperature=0.5)
