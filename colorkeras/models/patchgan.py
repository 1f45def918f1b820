"""PatchGAN discriminator: one real/fake score per overlapping image patch.

Pix2Pix's ``NLayerDiscriminator`` (Isola et al., 2017): a plain stack of 4x4
convolutions with no dense layer, so each score judges only the patch in its
receptive field. A pixel loss already gets the low frequencies right; the
patch critic only has to push for local texture and colour vividness, and it
runs on any image size.
"""

import keras
from keras import layers

from colorkeras.color import check_color_space, output_channels
from colorkeras.errors import InputError
from colorkeras.models import blocks

KERNEL_SIZE = 4
LEAKY_SLOPE = 0.2
MAX_WIDTH_MULTIPLIER = 8  # widths stop doubling at 8 * base_filters
NORMS = ("batch", "instance", "none")


def patchgan_receptive_field(num_layers):
    """Side, in input pixels, of the patch each score judges.

    Going back from one score: the two stride-1 4x4 convs see 7 pixels, and
    each stride-2 4x4 conv below maps ``r`` to ``2r + 2``, which gives
    ``9 * 2**num_layers - 2``: 16, 34, 70, 142 for 1 to 4 layers. The
    default ``num_layers=3`` is pix2pix's 70x70 PatchGAN.
    """
    num_layers = blocks.check_positive_int("num_layers", num_layers)
    return 9 * 2**num_layers - 2


def patchgan_output_size(size, num_layers):
    """Scores along a side of ``size`` pixels: ``size // 2**num_layers - 2``.

    Each stride-2 conv (padding 1) maps ``h`` to ``h // 2`` and each of the
    two stride-1 convs removes one, so 256 gives 30 and 128 gives 14 for the
    default 3 layers, as in pix2pix.
    """
    return size // 2**num_layers - 2


def apply_patch_conv(x, filters, strides, norm, name):
    """Pad 1 -> 4x4 conv -> norm -> LeakyReLU(0.2), pix2pix's padding."""
    x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    x = layers.Conv2D(
        filters, KERNEL_SIZE, strides=strides, use_bias=norm == "none",
        name=f"{name}_conv",
    )(x)
    if norm == "batch":
        x = blocks.FusedBatchNormalization(name=f"{name}_bn")(x)
    elif norm == "instance":
        x = layers.GroupNormalization(groups=-1, name=f"{name}_in")(x)
    return layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_act")(x)


HPARAMS = dict(num_layers=3, base_filters=64, conditional=True, norm="batch")
"""The discriminator's hyperparameters and defaults (a grid's ``d_`` keys)."""


def build_patchgan(input_shape=(None, None, 1), color_space="rgb", **hparams):
    """Build the PatchGAN discriminator.

    Layers: ``num_layers`` stride-2 4x4 convs (the first without
    normalization) of ``base_filters * min(2**i, 8)`` channels, one stride-1
    4x4 conv, and a 1-channel stride-1 4x4 conv giving raw (linear, float32)
    scores, as a least-squares or logits loss wants. The output is
    ``[N, H // 2**num_layers - 2, W // 2**num_layers - 2, 1]``
    (`patchgan_output_size`), each score seeing a
    ``patchgan_receptive_field(num_layers)`` square patch: 70x70 by default.

    Args:
        input_shape: (height, width, 1), the shape of the gray condition.
        color_space: "rgb", "lab" or "yuv": the judged image has
            ``output_channels(color_space)`` channels, the network target.
        num_layers: int, number of stride-2 convs.
        base_filters: int, width of the first conv.
        conditional: bool. True: inputs ``[gray, image]``, concatenated on
            channels, so it judges whether the colours fit the photo. False:
            the single input ``image``.
        norm: "batch" (pix2pix's default; with batch size 1 it acts as
            instance norm), "instance" (GroupNormalization with one group per
            channel) or "none".

    Returns:
        A Functional `keras.Model` named "patchgan".

    Examples:
    ```python
    disc = build_patchgan(color_space="lab")
    gray, ab = np.zeros((1, 256, 256, 1)), np.zeros((1, 256, 256, 2))
    disc.predict([gray, ab]).shape  # (1, 30, 30, 1)
    ```
    """
    check_color_space(color_space)
    unknown = sorted(set(hparams) - set(HPARAMS))
    if unknown:
        raise InputError(f"Unknown PatchGAN hyperparameter(s) {unknown}. "
                         f"Accepted: {sorted(HPARAMS)}. Received: {hparams}")
    hparams = {**HPARAMS, **hparams}
    conditional, norm = hparams["conditional"], hparams["norm"]
    num_layers = blocks.check_positive_int("num_layers", hparams["num_layers"])
    base_filters = blocks.check_positive_int("base_filters", hparams["base_filters"])
    blocks.check_bool("conditional", conditional)
    blocks.check_choice("norm", norm, NORMS)
    input_shape = blocks.check_input_shape(input_shape)
    for size in input_shape[:2]:
        if size is not None and patchgan_output_size(size, num_layers) < 1:
            raise InputError(
                f"A {num_layers}-layer PatchGAN needs sides of at least "
                f"{3 * 2**num_layers} pixels. Received: "
                f"input_shape={input_shape!r}"
            )

    image_shape = input_shape[:2] + (output_channels(color_space),)
    image = layers.Input(shape=image_shape, name="image")
    if conditional:
        gray = blocks.gray_input(input_shape)
        inputs = [gray, image]
        x = layers.Concatenate(name="condition_concat")(inputs)
    else:
        inputs = image
        x = image

    def width(i):
        return base_filters * min(2**i, MAX_WIDTH_MULTIPLIER)

    for i in range(num_layers):
        x = apply_patch_conv(
            x, width(i), 2, norm if i else "none", name=f"layer{i + 1}"
        )
    x = apply_patch_conv(x, width(num_layers), 1, norm, f"layer{num_layers + 1}")
    x = layers.ZeroPadding2D(1, name="scores_pad")(x)
    scores = layers.Conv2D(
        1, KERNEL_SIZE, dtype="float32", name="patch_scores"
    )(x)
    return keras.Model(inputs, scores, name="patchgan")
