"""The registry of colorization architectures: the one place their names live.

Every builder has the signature
``build_<name>(input_shape=(None, None, 1), color_space="rgb", **hparams)``
and returns an untrained, fully convolutional Functional `keras.Model` whose
last layer is the ``<color_space>_output`` head. The tuner and the command
lines validate their overrides with `hparams_of`, build with `build_model`,
and read a saved network back with `color_space_of` and `size_multiple`.
"""

import importlib
import inspect
import math

import keras
from keras import layers

from colorkeras import ab_classes  # noqa: F401  (registers AnnealedMean for loading)
from colorkeras.color import COLOR_SPACES
from colorkeras.errors import InputError
from colorkeras.models.cae import build_cae
from colorkeras.models import efficientnet_lite  # noqa: F401  (registers the backbone)
from colorkeras.models.dcnn import build_dcnn
from colorkeras.models.densenet import build_densenet
from colorkeras.models.patchgan import build_patchgan, patchgan_receptive_field
from colorkeras.models.resnet import build_resnet
from colorkeras.models.unet import build_unet

__all__ = [
    "build_cae",
    "build_dcnn",
    "build_densenet",
    "build_model",
    "build_patchgan",
    "build_resnet",
    "build_unet",
    "color_space_of",
    "hparams_of",
    "list_models",
    "patchgan_receptive_field",
    "register_model",
    "size_multiple",
]

_ORDER = ["cae", "dcnn", "unet", "resnet", "densenet", "pix2pix"]
_BUILDERS = {
    "cae": build_cae,
    "dcnn": build_dcnn,
    "unet": build_unet,
    "resnet": build_resnet,
    "densenet": build_densenet,
}
# Builders whose module imports this package: imported on first use instead,
# to avoid an import cycle.
_LAZY_BUILDERS = {"pix2pix": ("colorkeras.pix2pix", "build_pix2pix")}
_FIXED_ARGS = ("input_shape", "color_space")


def register_model(name, builder):
    """Make ``builder`` available as ``build_model(name, ...)``.

    Args:
        name: str, the architecture's name; a new name goes last in
            `list_models`.
        builder: callable taking ``input_shape``, ``color_space`` and the
            hyperparameters as keywords, returning a `keras.Model`.
    """
    if not isinstance(name, str) or not callable(builder):
        raise InputError(
            "`register_model` needs a name and a callable builder. "
            f"Received: name={name!r}, builder={builder!r}"
        )
    _BUILDERS[name] = builder
    if name not in _ORDER:
        _ORDER.append(name)


def list_models():
    """Names of the architectures `build_model` knows, in a fixed order."""
    return list(_ORDER)


def get_builder(name):
    """The builder registered as ``name``; a ValueError lists the choices."""
    if not isinstance(name, str) or name not in _ORDER:
        raise InputError(
            f"Unknown model. Available models: {list_models()}. "
            f"Received: name={name!r}"
        )
    if name not in _BUILDERS:
        module, attribute = _LAZY_BUILDERS[name]
        register_model(
            name, getattr(importlib.import_module(module), attribute)
        )
    return _BUILDERS[name]


def _parameters(builder):
    return inspect.signature(builder).parameters.values()


def hparams_of(name):
    """Hyperparameter names and defaults of an architecture, as a dict.

    Read from the builder's signature, so it can't drift from the code.

    Examples:
    ```python
    hparams_of("unet")["depth"]  # 4
    ```
    """
    return {
        p.name: p.default
        for p in _parameters(get_builder(name))
        if p.name not in _FIXED_ARGS
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def build_model(name, input_shape=(None, None, 1), color_space="rgb", **hparams):
    """Build an untrained network by name.

    Args:
        name: one of `list_models()`.
        input_shape: (height, width, 1) of the gray input; ``None`` sizes
            take any image whose sides are multiples of `size_multiple`.
        color_space: "rgb", "lab" or "yuv", the target the network predicts.
        **hparams: overrides of the defaults in `hparams_of(name)`.

    Examples:
    ```python
    model = build_model("unet", color_space="lab", depth=3, base_filters=16)
    ```
    """
    builder = get_builder(name)
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in _parameters(builder))
    unknown = sorted(set(hparams) - set(hparams_of(name)))
    if unknown and not accepts_any:
        raise InputError(
            f"Unknown hyperparameter(s) {unknown} for model {name!r}. "
            f"Accepted: {sorted(hparams_of(name))}. Received: {hparams}"
        )
    return builder(input_shape=input_shape, color_space=color_space, **hparams)


_TRANSPOSED = (
    layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose
)


def _layer_strides(layer):
    """How much one layer shrinks height and width: (sh, sw)."""
    if isinstance(layer, keras.Model):
        factor = size_multiple(layer)
        return factor, factor
    strides = getattr(layer, "strides", None)
    if isinstance(layer, _TRANSPOSED) or not strides:
        return 1, 1
    strides = (strides,) if isinstance(strides, int) else tuple(strides)
    return strides[0], strides[min(1, len(strides) - 1)]


def size_multiple(model):
    """The factor input height and width must be multiples of.

    Walks the layer graph from the inputs, multiplying the strides of the
    down-sampling layers (strided convs, pooling) along every path; the
    answer is the largest such product, 1 when nothing down-samples. An
    encoder-decoder needs it so that each up-sampling lands exactly on the
    size of the skip it joins. Up-sampling is not divided out, so for a
    network that goes down, up and down again this is an upper bound (any
    multiple of it still works).

    Args:
        model: a Functional or Sequential `keras.Model`.

    Examples:
    ```python
    size_multiple(build_model("unet", depth=4))  # 16
    ```
    """
    if isinstance(model, keras.Sequential):
        factors = [_layer_strides(layer) for layer in model.layers]
        return math.lcm(
            math.prod(f[0] for f in factors), math.prod(f[1] for f in factors)
        )
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        raise InputError(
            "`size_multiple` reads the layer graph of a Functional or "
            f"Sequential model. Received: a {type(model).__name__}"
        )
    factors = {id(x): (1, 1) for x in model.inputs}
    largest = (1, 1)
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input or node.operation is None:
                continue
            before = [factors.get(id(x), (1, 1)) for x in node.input_tensors]
            sh, sw = _layer_strides(node.operation)
            after = (
                max([f[0] for f in before], default=1) * sh,
                max([f[1] for f in before], default=1) * sw,
            )
            for x in node.outputs:
                factors[id(x)] = after
            largest = (max(largest[0], after[0]), max(largest[1], after[1]))
    return math.lcm(*largest)


def color_space_of(model):
    """The colour space a colorkeras network predicts, read from its head.

    The builders name the last layer ``<color_space>_output``, and names are
    saved with the model, so this works on a loaded ``.keras`` file too.
    """
    model_layers = getattr(model, "layers", None) or []
    last = model_layers[-1].name if model_layers else None
    suffix = "_output"
    space = last[: -len(suffix)] if last and last.endswith(suffix) else None
    if space not in COLOR_SPACES:
        raise InputError(
            "Not a colorkeras network: its last layer should be named "
            f"'<color space>_output' with a colour space in "
            f"{list(COLOR_SPACES)}. Received: last layer named {last!r}"
        )
    return space
