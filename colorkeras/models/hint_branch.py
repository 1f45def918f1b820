"""The colour-hint branch: sparse a*b* points a person gives, carried through the photo.

As in Zhang et al., "Real-Time User-Guided Image Colorization with Learned
Deep Priors" (SIGGRAPH 2017), hints enter as a second input beside the gray
photo: ``hints`` ``[N, H, W, 3]``, the hinted a*b* in the network's units
(a*b* / 110) and a mask that is 1 where a hint is. Unlike that paper's
network, which was trained with hints from the start, this branch is grown
on a trained automatic colorizer:

- it reads the colorizer's last decoder features (what the colours of
  this photo could be, and where its edges are) with the hints pooled to
  each of its scales, in a small U-Net of its own that reaches stride 32,
  so one point can recolour a whole object;
- it adds its answer to the bin logits, where a hint's colour is easy to
  say: a linear map of a*b* gives a Gaussian around that colour after the
  softmax;
- its answer is multiplied by "does this photo have a hint at all", so a
  photo without hints gets exactly the automatic colorizer's colours, and its
  last convolution starts at zero, so training starts from them too.

Every layer of the branch is named ``hint_*`` (`is_hint_layer`), so the
automatic colorizer's weights can be copied in by name and frozen.
"""

import keras
from keras import layers

from colorkeras.models.blocks import BilinearUpscale

HINT_CHANNELS = 3  # a*/110, b*/110, mask
PREFIX = "hint_"
WIDTHS = (32, 32, 48, 64, 64)  # per scale, from the features' stride down to stride 32 (the .keras stays under 25 MB)
HINTED_LOGITS = "hint_logits"


def size_multiple(stride):
    """What input sides must be multiples of for a branch on features at ``stride``."""
    return stride * 2 ** (len(WIDTHS) - 1)


def hint_input(gray_shape):
    """The ``hints`` input: a*b* (in the network's units) and a mask, at the gray photo's size."""
    return keras.Input(shape=(*gray_shape[:2], HINT_CHANNELS), name="hints")


def is_hint_layer(layer):
    """Whether ``layer`` belongs to the hint branch (not to the automatic colorizer)."""
    return layer.name.startswith(PREFIX)


@keras.saving.register_keras_serializable(package="colorkeras")
class PoolHints(layers.Layer):
    """Hints at ``1 / stride`` resolution: mean hinted a*b*, hinted share, and any-hint.

    The mean is over the hinted pixels of each cell only, so a 1-pixel hint
    keeps its colour however coarse the scale; the share says how much of
    the cell was hinted.
    """

    def __init__(self, stride, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, hints):
        hints = keras.ops.cast(hints, "float32")
        ab, mask = hints[..., :2], hints[..., 2:]
        if self.stride > 1:
            pool = lambda x: keras.ops.average_pool(x, self.stride, self.stride, "valid")
            ab, mask = pool(ab * mask), pool(mask)
            ab = ab / keras.ops.maximum(mask, 1e-6)
        present = keras.ops.cast(mask > 0, "float32")
        return keras.ops.concatenate([ab * present, mask, present], axis=-1)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        scale = lambda side: None if side is None else side // self.stride
        return (n, scale(h), scale(w), 4)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


@keras.saving.register_keras_serializable(package="colorkeras")
class HintGate(layers.Layer):
    """The branch's answer where the photo has at least one hint, zero elsewhere.

    Inputs ``[answer, hints]``. A photo with no hint gets exactly the
    automatic colorizer's output, whatever the branch has learned.
    """

    def call(self, inputs):
        answer, hints = inputs
        present = keras.ops.max(keras.ops.cast(hints[..., 2:], "float32"), axis=(1, 2, 3),
                                keepdims=True)
        return keras.ops.cast(answer, "float32") * keras.ops.cast(present > 0, "float32")

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _conv(x, filters, name, strides=1):
    return layers.Conv2D(filters, 3, strides=strides, padding="same", activation="relu",
                         name=name)(x)


def apply_hint_branch(features, hints, stride, logits):
    """``logits`` plus the gated hint branch's answer (same shape, float32).

    Args:
        features: the decoder's last features, at ``1 / stride`` of the input.
        hints: the ``hints`` input, at full resolution.
        stride: the features' stride (the network's output stride).
        logits: the automatic colorizer's bin logits, beside ``features``.
    """
    x = layers.Concatenate(name=f"{PREFIX}in")(
        [features, PoolHints(stride, name=f"{PREFIX}pool{stride}")(hints)])
    x = _conv(x, WIDTHS[0], f"{PREFIX}s{stride}_conv")
    skips = []
    scale = stride
    for width in WIDTHS[1:]:
        skips.append(x)
        scale *= 2
        x = _conv(x, width, f"{PREFIX}s{scale}_down", strides=2)
        x = layers.Concatenate(name=f"{PREFIX}s{scale}_concat")(
            [x, PoolHints(scale, name=f"{PREFIX}pool{scale}")(hints)])
        x = _conv(x, width, f"{PREFIX}s{scale}_conv")
    for width, skip in zip(reversed(WIDTHS[:-1]), reversed(skips)):
        scale //= 2
        x = BilinearUpscale(2, name=f"{PREFIX}s{scale}_up")(x)
        x = layers.Concatenate(name=f"{PREFIX}s{scale}_join")([x, skip])
        x = _conv(x, width, f"{PREFIX}s{scale}_merge")
    answer = layers.Conv2D(logits.shape[-1], 1, kernel_initializer="zeros", dtype="float32",
                           name=f"{PREFIX}answer")(x)
    answer = HintGate(name=f"{PREFIX}gate", dtype="float32")([answer, hints])
    return layers.Add(name=HINTED_LOGITS, dtype="float32")([logits, answer])


def freeze_all_but_hints(network):
    """Make every layer but the hint branch non-trainable; returns the branch's layers.

    Its batch norms then keep their statistics too, so the output without
    hints stays the automatic colorizer's while the branch learns.
    """
    branch = []
    for layer in network.layers:
        if is_hint_layer(layer):
            branch.append(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            layer.trainable = False
    return branch
