"""The base of every architecture: a Functional model that knows what it is.

As a keras-hub backbone does, each architecture builds its graph in
``__init__``, keeps its constructor arguments as attributes and returns them
from ``get_config``, so a saved ``.keras`` file records the hyperparameters it
was built with and ``from_config`` rebuilds the very same graph. The colour
space, the head and the factor input sides must be multiples of are
attributes too: nothing reads them back from layer names or Keras's private
graph fields.

An architecture subclass sets ``HPARAMS`` (name -> default) and implements
`ColorizationNetwork.features`; this class adds the head.

A constructor never reads a weight file, as a keras-hub backbone's does not:
`load_pretrained_weights` fills the pretrained parts afterwards
(`colorkeras.models.build_model` calls it), so ``from_config``, and with it
loading a ``.keras`` file, builds the graph and nothing more.
"""

import contextlib
import math

import keras

from colorkeras.color import check_color_space
from colorkeras.errors import InputError
from colorkeras.models import blocks, hint_branch

HEADS = ("regression", "classification")
HEAD_HPARAMS = {"head": "regression", "temperature": None, "hints": False}
"""Every architecture's head choice: the regression head of its colour space,
or a*b* bin logits decoded by annealed mean (`colorkeras.ab_classes`; needs
``color_space="lab"``) at ``temperature`` (None: the paper's 0.38). With
``hints``, a classification head also takes colour hints, a second input
(`colorkeras.models.hint_branch`)."""
LOGITS_LAYER = "ab_logits"
KERAS_ARGS = ("name", "trainable", "dtype")


@contextlib.contextmanager
def global_dtype_policy(policy):
    """Build layers under ``policy`` (a name or `keras.DTypePolicy`), then restore the global."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class ColorizationNetwork(keras.Model):
    """A colorization network: gray ``[N, H, W, 1]`` -> its colour space's target.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of ``size_multiple``.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        **hparams: the architecture's hyperparameters (``HPARAMS`` and
            `HEAD_HPARAMS`); an unknown name is an error.

    Attributes:
        color_space: the colour space of the output.
        hparams: every hyperparameter, defaults included.
        size_multiple: input height and width must be multiples of it.
    """

    HPARAMS = {}
    SIZE_MULTIPLE = 1

    def __init_subclass__(cls, **kwargs):
        # Every architecture loads back from a `.keras` file, safe_mode included.
        super().__init_subclass__(**kwargs)
        keras.saving.register_keras_serializable(package="colorkeras")(cls)

    def __init__(self, input_shape=(None, None, 1), color_space="rgb", **kwargs):
        keras_args = {k: kwargs.pop(k) for k in KERAS_ARGS if k in kwargs}
        keras_args.setdefault("name", self.registry_name())
        # The layers compute in this policy (the global one unless given); the head stays float32.
        policy = keras_args.pop("dtype", None) or keras.config.dtype_policy()
        hparams = self.check_hparams(kwargs)
        check_color_space(color_space)
        arch = {k: v for k, v in hparams.items() if k not in HEAD_HPARAMS}
        multiple = self.size_multiple_for(**arch)
        if hparams["hints"]:  # the hint branch halves the features' size 4 more times
            multiple = math.lcm(multiple, hint_branch.size_multiple(arch.get("output_stride", 1)))
        shape = blocks.check_input_shape(input_shape, multiple=multiple)
        with global_dtype_policy(policy):
            # === Layers ===
            inputs = blocks.gray_input(shape)
            features, upscale = self.features(inputs, **arch)
            hints = hint_branch.hint_input(shape) if hparams["hints"] else None
            outputs = apply_head(features, color_space, upscale, hparams["head"],
                                 hparams["temperature"], hints)
            super().__init__(inputs=inputs if hints is None else [inputs, hints],
                             outputs=outputs, **keras_args)
        # === Config ===
        self.input_shape_arg = shape
        self.color_space = color_space
        self.hparams = hparams
        self.size_multiple = multiple

    @classmethod
    def registry_name(cls):
        """The architecture's name in `colorkeras.models.list_models`."""
        return cls.__name__.lower()

    @classmethod
    def default_hparams(cls):
        """Every hyperparameter and its default, the head's included."""
        return {**cls.HPARAMS, **HEAD_HPARAMS}

    @classmethod
    def check_hparams(cls, hparams):
        """``hparams`` over the defaults; an unknown name fails with the accepted ones."""
        defaults = cls.default_hparams()
        unknown = sorted(set(hparams) - set(defaults))
        if unknown:
            raise InputError(
                f"Unknown hyperparameter(s) {unknown} for model {cls.registry_name()!r}. "
                f"Accepted: {sorted(defaults)}. Received: {hparams}"
            )
        merged = {**defaults, **hparams}
        blocks.check_choice("head", merged["head"], HEADS)
        return merged

    @classmethod
    def size_multiple_for(cls, **hparams):
        """The factor input sides must be multiples of, for these hyperparameters.

        So that every up-sampling lands on the size of the skip it joins;
        known before the graph is built, so a bad input shape fails first.
        ``SIZE_MULTIPLE`` where it does not depend on them.
        """
        return cls.SIZE_MULTIPLE

    @classmethod
    def features(cls, inputs, **hparams):
        """Check ``hparams`` and build the body on ``inputs``: ``(features, upscale)``.

        ``upscale`` > 1 when the features are at that fraction of the input
        resolution and the head's output is resized up to full size.
        """
        raise NotImplementedError

    def load_pretrained_weights(self):
        """Fill the parts its hyperparameters start from pretrained weights; returns self.

        None here: an architecture with such a part (the U-Net's ImageNet
        encoder) overrides it. Called after construction, never by it.
        """
        return self

    def logits_view(self):
        """gray -> ``(bin logits, chroma)``: what a classification loss needs.

        ``None`` for a regression head. The view shares this network's layers.
        """
        if self.hparams["head"] != "classification":
            return None
        logits = hint_branch.HINTED_LOGITS if self.has_hints else LOGITS_LAYER
        return keras.Model(self.inputs, [self.get_layer(logits).output, self.outputs[0]])

    @property
    def has_hints(self):
        """Whether the network takes colour hints beside the gray photo (a second input)."""
        return bool(self.hparams.get("hints"))

    def rebuilt(self, **changes):
        """A copy with some settings changed and these weights, e.g. ``temperature=0.45``.

        Only settings that keep every weight's shape make sense here (the
        head's temperature, the input shape, the dtype policy).
        """
        copy = type(self).from_config({**self.get_config(), **changes})
        copy.set_weights(self.get_weights())
        return copy

    def get_config(self):
        # Not chained to Functional's, whose layer graph the constructor rebuilds itself.
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name,
                "input_shape": list(self.input_shape_arg), "color_space": self.color_space,
                **self.hparams}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config.get("input_shape", (None, None, 1)))
        return cls(**config)


def apply_head(features, color_space, upscale, head, temperature, hints=None):
    """The output head: regression to the colour space, or bin logits + annealed mean.

    The last layer computes in float32, so a mixed-precision network still
    returns float32; with ``upscale`` > 1 a bilinear resize brings the
    chroma to full size. ``hints``: the hint input, whose branch adds to the
    bin logits (classification head only).
    """
    if hints is not None and head != "classification":
        raise InputError("Colour hints need a classification head (head='classification', "
                         f"color_space='lab'). Received: head={head!r}, hints=True")
    if head == "regression":
        if temperature is not None:
            raise InputError("`temperature` decodes a classification head. "
                             f"Received: temperature={temperature!r}, head='regression'")
        return blocks.apply_output_head(features, color_space, upscale=upscale)
    from colorkeras import ab_classes

    if color_space != "lab":
        raise InputError("A classification head predicts a*b* bins: use color_space='lab'. "
                         f"Received: color_space={color_space!r}")
    temperature = ab_classes.TEMPERATURE if temperature is None else temperature
    logits = keras.layers.Conv2D(len(ab_classes.bin_centres()), 1, dtype="float32",
                                 name=LOGITS_LAYER)(features)
    if hints is not None:
        logits = hint_branch.apply_hint_branch(features, hints, upscale, logits)
    chroma = ab_classes.AnnealedMean(temperature=temperature,
                                     name="lab_output" if upscale == 1 else "lab_chroma")(logits)
    return blocks.upscale_output(chroma, upscale, "lab_output")
