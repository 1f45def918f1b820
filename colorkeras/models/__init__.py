"""The registry of colorization architectures: the one place their names live.

Every architecture is a `ColorizationNetwork` subclass: a fully
convolutional Functional `keras.Model` that keeps its hyperparameters,
colour space and size multiple as attributes and in its config. `build_model`
builds one by name; `hparams_of`, `color_space_of` and `size_multiple` read
what a class declares or a network records, so they work on a loaded
``.keras`` file as on a fresh network.

``pix2pix`` names a model, not an architecture: its network is its
generator's, a U-Net unless the training config says otherwise, and the
trainer that sets a PatchGAN against it (`colorkeras.pix2pix.Pix2Pix`) is
chosen by the training config. So `build_model` returns networks only.
"""

from colorkeras import ab_classes  # noqa: F401  (registers AnnealedMean for loading)
from colorkeras.choices import MODELS
from colorkeras.errors import InputError
from colorkeras.models import efficientnet_lite  # noqa: F401  (registers the backbone)
from colorkeras.models.cae import CAE
from colorkeras.models.dcnn import DCNN
from colorkeras.models.densenet import DenseNet
from colorkeras.models.network import ColorizationNetwork
from colorkeras.models.patchgan import build_patchgan, patchgan_receptive_field
from colorkeras.models.resnet import ResNet
from colorkeras.models.unet import UNet

__all__ = [
    "CAE",
    "DCNN",
    "ColorizationNetwork",
    "DenseNet",
    "ResNet",
    "UNet",
    "build_cae",
    "build_dcnn",
    "build_densenet",
    "build_model",
    "build_patchgan",
    "build_resnet",
    "build_unet",
    "color_space_of",
    "get_architecture",
    "hparams_of",
    "list_models",
    "patchgan_receptive_field",
    "register_model",
    "size_multiple",
]

# The documented builders are the classes themselves: calling one builds a network.
build_cae, build_dcnn, build_unet, build_resnet, build_densenet = CAE, DCNN, UNet, ResNet, DenseNet

_ARCHITECTURES = {cls.registry_name(): cls for cls in (CAE, DCNN, UNet, ResNet, DenseNet)}
DEFAULT_GENERATOR = "unet"
# Models whose network is a registered architecture's (see the module docstring).
_NETWORK_OF = {"pix2pix": DEFAULT_GENERATOR}
_ORDER = list(MODELS)


def register_model(name, architecture):
    """Make ``architecture`` available as ``build_model(name, ...)``.

    Args:
        name: str, the architecture's name; a new name goes last in
            `list_models`.
        architecture: a `ColorizationNetwork` subclass.
    """
    if not isinstance(name, str) or not (
        isinstance(architecture, type) and issubclass(architecture, ColorizationNetwork)
    ):
        raise InputError(
            "`register_model` needs a name and a `ColorizationNetwork` subclass. "
            f"Received: name={name!r}, architecture={architecture!r}"
        )
    _ARCHITECTURES[name] = architecture
    if name not in _ORDER:
        _ORDER.append(name)


def list_models():
    """Names of the architectures `build_model` knows, in a fixed order."""
    return list(_ORDER)


def get_architecture(name):
    """The `ColorizationNetwork` subclass that builds ``name``'s network.

    It is called with ``input_shape``, ``color_space`` and the
    hyperparameters, and has ``default_hparams()``; for ``pix2pix``, it is
    its default generator's. An unknown name is an error that lists the
    choices.
    """
    if not isinstance(name, str) or name not in _ORDER:
        raise InputError(
            f"Unknown model. Available models: {list_models()}. "
            f"Received: name={name!r}"
        )
    return _ARCHITECTURES[_NETWORK_OF.get(name, name)]


def hparams_of(name):
    """Hyperparameter names and defaults of an architecture, as a dict.

    Declared by the architecture class (``HPARAMS`` and the head's), the
    same table its constructor checks overrides against.

    Examples:
    ```python
    hparams_of("unet")["depth"]  # 4
    ```
    """
    return get_architecture(name).default_hparams()


def build_model(name, input_shape=(None, None, 1), color_space="rgb", **hparams):
    """Build an untrained network by name.

    Args:
        name: one of `list_models()` (``pix2pix``: its generator, a U-Net;
            `colorkeras.pix2pix.build_pix2pix` makes the GAN that trains it).
        input_shape: (height, width, 1) of the gray input; ``None`` sizes
            take any image whose sides are multiples of `size_multiple`.
        color_space: "rgb", "lab" or "yuv", the target the network predicts.
        **hparams: overrides of the defaults in `hparams_of(name)`.

    Pretrained parts are filled once the network is built, never by its
    constructor (`ColorizationNetwork.load_pretrained_weights`): the U-Net's
    ImageNet encoder with ``encoder_weights="imagenet"``, its default.

    Examples:
    ```python
    model = build_model("unet", color_space="lab", depth=3, base_filters=16)
    encoder_unet = build_model("unet", backbone="efficientnet_lite0")  # ImageNet encoder
    ```
    """
    network = get_architecture(name)(input_shape=input_shape, color_space=color_space,
                                     **hparams)
    return network.load_pretrained_weights()


def _network(model):
    """The `ColorizationNetwork` of a network or of a task holding one."""
    network = getattr(model, "network", model)
    if not isinstance(network, ColorizationNetwork):
        raise InputError(
            "Expected a colorkeras network (a `ColorizationNetwork`, as `build_model` "
            f"makes) or a colorizer holding one. Received: a {type(model).__name__}"
        )
    return network


def size_multiple(model):
    """The factor input height and width must be multiples of.

    Recorded by the network when it is built, e.g. ``2**depth`` for a U-Net:
    each up-sampling must land exactly on the size of the skip it joins.

    Examples:
    ```python
    size_multiple(build_model("unet", depth=4))  # 16
    ```
    """
    return _network(model).size_multiple


def color_space_of(model):
    """The colour space a colorkeras network (or colorizer) predicts."""
    return _network(model).color_space
