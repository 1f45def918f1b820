"""The colour-hint branch: sparse a*b* points a person gives, carried through the photo.

As in Zhang et al., "Real-Time User-Guided Image Colorization with Learned
Deep Priors" (SIGGRAPH 2017), hints enter as a second input beside the gray
photo: ``hints`` ``[N, H, W, 3]``, the hinted a*b* in the network's units
(a*b* / 110) and a mask that is 1 where a hint is. Unlike that paper's
network, which was trained with hints from the start, this branch is grown
on a trained automatic colorizer:

- it reads the colorizer's last decoder features (what the colours of
  this photo could be, and where its edges are) with the hints pooled to
  each of its scales, in a small U-Net of its own that reaches stride 32;
- at twice the features' stride, `HintAttention` carries each hint to the
  cells whose features match the hinted cell's, however far, so one point
  can recolour a whole object and stop where it ends;
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
REACH = 0.2
"""How far a hint pulls in `HintAttention`: its weight falls as a Gaussian of the
distance, with this standard deviation in shorter sides of the photo. Set after
training, on the `select` photos (docs/hints.md): without it one hint coloured
look-alike spots all over the photo."""


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


@keras.saving.register_keras_serializable(package="colorkeras")
class HintAttention(layers.Layer):
    """Each cell's colour from the hinted cells whose features look like its own.

    Inputs ``[query, key, pooled hints]`` at one scale: every cell attends
    to the hinted cells (up to ``max_hints`` of them) and to a "none of
    them" slot, by the dot product of its query with their keys, and gets
    their a*b* averaged by those weights, and the weight the hints took.
    A convolution only carries a hint as far as its receptive field and
    cannot tell whether a far region is the same object; this carries it
    wherever the colorizer's features match, in one step, so a little
    training suffices. The cost grows with cells times hints, not cells
    squared.
    """

    def __init__(self, max_hints=128, reach=None, **kwargs):
        """``reach``: None, or the standard deviation (in shorter sides of the
        map) of a Gaussian falloff of a hint's pull with distance."""
        super().__init__(**kwargs)
        self.max_hints = int(max_hints)
        self.reach = None if reach is None else float(reach)

    def call(self, inputs):
        import tensorflow as tf

        query, key, pooled = (tf.cast(x, tf.float32) for x in inputs)
        shape = tf.shape(query)
        n, h, w, depth = shape[0], shape[1], shape[2], query.shape[-1]
        query = tf.reshape(query, [n, h * w, depth])
        key = tf.reshape(key, [n, h * w, depth])
        present = tf.reshape(pooled[..., 3], [n, h * w])
        ab = tf.reshape(pooled[..., :2], [n, h * w, 2])
        _, hinted = tf.math.top_k(present, k=tf.minimum(self.max_hints, h * w))
        hint_keys = tf.gather(key, hinted, batch_dims=1)
        hint_ab = tf.gather(ab, hinted, batch_dims=1)
        valid = tf.gather(present, hinted, batch_dims=1)[:, None, :]
        scores = tf.einsum("npd,nkd->npk", query, hint_keys) / float(depth) ** 0.5
        if self.reach is not None:  # a hint's pull fades with distance (in shorter sides)
            cells = tf.stack(tf.meshgrid(tf.range(h), tf.range(w), indexing="ij"), -1)
            cells = tf.cast(tf.reshape(cells, [1, h * w, 2]), tf.float32)
            cells = cells / tf.cast(tf.minimum(h, w), tf.float32)
            at = tf.gather(tf.repeat(cells, n, axis=0), hinted, batch_dims=1)
            distance2 = tf.reduce_sum(tf.square(cells[:, :, None] - at[:, None]), -1)
            scores -= distance2 / (2.0 * self.reach ** 2)
        scores = tf.where(valid > 0, scores, -1e9)
        scores = tf.concat([scores, tf.zeros_like(scores[..., :1])], -1)  # the "none" slot
        weights = tf.nn.softmax(scores, axis=-1)
        colour = tf.einsum("npk,nkc->npc", weights[..., :-1], hint_ab)
        taken = 1.0 - weights[..., -1:]
        return tf.reshape(tf.concat([colour, taken], -1), [n, h, w, 3])

    def compute_output_shape(self, input_shapes):
        return (*input_shapes[0][:3], 3)

    def get_config(self):
        return {**super().get_config(), "max_hints": self.max_hints, "reach": self.reach}


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
        pooled = PoolHints(scale, name=f"{PREFIX}pool{scale}")(hints)
        joined = [x, pooled]
        if scale == 2 * stride:
            joined.append(apply_hint_attention(features, pooled))
        x = layers.Concatenate(name=f"{PREFIX}s{scale}_concat")(joined)
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


def apply_hint_attention(features, pooled, depth=32):
    """`HintAttention` at twice the features' stride, over ``pooled`` hints of that scale."""
    pooled_features = layers.AveragePooling2D(2, name=f"{PREFIX}attention_pool")(features)
    query = layers.Conv2D(depth, 1, name=f"{PREFIX}query")(pooled_features)
    key = layers.Conv2D(depth, 1, name=f"{PREFIX}key")(pooled_features)
    return HintAttention(name=f"{PREFIX}attention", dtype="float32", reach=REACH)(
        [query, key, pooled])


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
